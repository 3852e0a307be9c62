// One direction of one recurrent layer over a whole sequence, as a single autodiff op:
// the input projection of every step is one GEMM, each step is one GEMM with W_hh and one
// fused gate kernel, and backpropagation through time runs as kernels with each weight
// gradient one GEMM over all steps.

import SynapseKernels

/// The recurrent cells, with PyTorch's gate layouts.
public enum RecurrentCell: String, Sendable, CaseIterable {
    /// h' = tanh(W_ih x + b_ih + W_hh h + b_hh).
    case rnnTanh
    /// h' = relu(W_ih x + b_ih + W_hh h + b_hh).
    case rnnRelu
    /// Gates i, f, g, o; c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').
    case lstm
    /// Gates r, z, n; n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
    case gru

    /// Weight rows per hidden unit: 1, 4 or 3.
    public var gateCount: Int {
        switch self {
        case .rnnTanh, .rnnRelu: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    /// Whether the cell carries a cell state besides its hidden state.
    public var hasCellState: Bool { self == .lstm }
}

extension Tensor {
    /// Runs `cell` forward over a time-major sequence `input` [T, N, in] from the states
    /// `hidden` [N, H] (and, for an LSTM, `cellState` [N, H]). Returns the hidden state of
    /// every step [T, N, H] and the final states.
    ///
    /// With `lengths` (one per sequence, 1 ≤ length ≤ T), sequence n stops at its length:
    /// later steps leave its state unchanged, its outputs there are 0, and its final states
    /// are those after its last real step, as PyTorch's packed sequences give. Padding costs
    /// no more than full sequences.
    public static func recurrentLayer(_ cell: RecurrentCell, input: Tensor, hidden: Tensor, cellState: Tensor? = nil,
                                      weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?,
                                      lengths: [Int]? = nil) -> (output: Tensor, hidden: Tensor, cellState: Tensor?) {
        let op = "recurrentLayer(\(cell.rawValue))"
        require(input.rank == 3, "\(op): input must be [T, N, features], got \(Shape.describe(input.shape))")
        let (steps, batch, features) = (input.shape[0], input.shape[1], input.shape[2])
        let gates = cell.gateCount, width = hidden.rank == 2 ? hidden.shape[1] : 0, gateWidth = gates * width
        require(hidden.shape == [batch, width] && width > 0,
                "\(op): hidden state must be [\(batch), H], got \(Shape.describe(hidden.shape))")
        require(weightIH.shape == [gateWidth, features],
                "\(op): weight_ih must be [\(gateWidth), \(features)], got \(Shape.describe(weightIH.shape))")
        require(weightHH.shape == [gateWidth, width],
                "\(op): weight_hh must be [\(gateWidth), \(width)], got \(Shape.describe(weightHH.shape))")
        for bias in [biasIH, biasHH].compactMap({ $0 }) {
            require(bias.shape == [gateWidth], "\(op): biases must be [\(gateWidth)], got \(Shape.describe(bias.shape))")
        }
        require((biasIH == nil) == (biasHH == nil), "\(op): give both biases or neither")
        if cell.hasCellState {
            require(cellState?.shape == [batch, width],
                    "\(op): cell state must be [\(batch), \(width)], got \(cellState.map { Shape.describe($0.shape) } ?? "none")")
        }
        let active = lengths.flatMap { activeFlags(lengths: $0, steps: steps, op: op) }
        let layer = RecurrentRun(cell: cell, steps: steps, batch: batch, features: features, width: width, active: active)
        let state = layer.forward(input: input, hidden: hidden, cellState: cellState, weightIH: weightIH, weightHH: weightHH,
                                  biasIH: biasIH, biasHH: biasHH)
        var inputs = [input, hidden]
        if cell.hasCellState { inputs.append(cellState!) }
        inputs += [weightIH, weightHH]
        if let biasIH, let biasHH { inputs += [biasIH, biasHH] }
        let hasBias = biasIH != nil
        let packed = record(op, state.packed, inputs: inputs) { g, needs in
            var needsIterator = needs.makeIterator()
            let needInput = needsIterator.next()!, needHidden = needsIterator.next()!
            let needCell = cell.hasCellState ? needsIterator.next()! : false
            let needWeightIH = needsIterator.next()!, needWeightHH = needsIterator.next()!
            let needBiases = hasBias ? (needsIterator.next()! || needsIterator.next()!) : false
            let gradients = layer.backward(g, state: state, input: input, wants: (needInput, needWeightIH, needWeightHH, needBiases))
            var result: [Tensor?] = [needInput ? gradients.input : nil, needHidden ? gradients.hidden : nil]
            if cell.hasCellState { result.append(needCell ? gradients.cell : nil) }
            result += [gradients.weightIH, gradients.weightHH]
            if hasBias { result += [gradients.biasIH, gradients.biasHH] }
            return result
        }
        var shapes = [[steps, batch, width], [batch, width]]
        if cell.hasCellState { shapes.append([batch, width]) }
        let outputs = unpack(packed, shapes: shapes)
        return (outputs[0], outputs[1], cell.hasCellState ? outputs[2] : nil)
    }

    /// Step-major activity flags (1 while a sequence is within its length), or nil when every
    /// sequence fills all steps.
    private static func activeFlags(lengths: [Int], steps: Int, op: String) -> [UInt8]? {
        for (n, length) in lengths.enumerated() {
            require(length >= 1 && length <= steps,
                    "\(op): length \(length) of sequence \(n) is not in 1...\(steps) (the padded sequence length)")
        }
        guard lengths.contains(where: { $0 < steps }) else { return nil }
        var flags = [UInt8](repeating: 0, count: steps * lengths.count)
        for (n, length) in lengths.enumerated() {
            for t in 0..<length { flags[t * lengths.count + n] = 1 }
        }
        return flags
    }
}

/// The buffers one forward pass keeps for its backward pass. Gate columns and weight rows
/// are in the kernels' order (`RecurrentGateLayout`).
private struct RecurrentState {
    /// Outputs [T, N, H], then the final hidden state [N, H] and, for an LSTM, the final cell state.
    let packed: Tensor
    /// Activated gates per step [T·N, G·H] (for an Elman RNN, unused).
    let gates: Tensor
    /// Hidden states [T + 1, N, H]: the initial state, then the state after each step.
    let hiddens: Tensor
    /// LSTM cell states [T + 1, N, H].
    let cells: Tensor?
    /// GRU hidden-side pre-activations W_hh·h + b_hh per step [T·N, 3H].
    let hiddenGates: Tensor?
    /// W_ih and W_hh with their rows in kernel order.
    let weightIH: Tensor, weightHH: Tensor
}

/// The shapes and kernels of one layer direction.
///
/// Each time step is one fork and join: a task owns a range of hidden-unit groups, computes
/// their gate columns of the step's GEMM and then runs the gate kernel on those units, so the
/// gate kernel is threaded with the GEMM instead of running alone between two of them.
private struct RecurrentRun {
    let cell: RecurrentCell
    let steps: Int, batch: Int, features: Int, width: Int
    let active: [UInt8]?

    var gateWidth: Int { cell.gateCount * width }
    var stepSize: Int { batch * width }
    var layout: RecurrentGateLayout { RecurrentGateLayout(gates: cell.gateCount, hiddenSize: width) }

    /// Tasks per time step: one, below the size (about a million flops) where waking another
    /// thread costs more than it saves.
    var stepTasks: Int {
        batch * gateWidth * width >= 1 << 19 ? min(Kernels.threadCount, layout.groupCount) : 1
    }

    func forward(input: Tensor, hidden: Tensor, cellState: Tensor?, weightIH: Tensor, weightHH: Tensor,
                 biasIH: Tensor?, biasHH: Tensor?) -> RecurrentState {
        let rows = steps * batch, gateWidth = gateWidth, stepSize = stepSize, layout = layout
        let kernelIH = kernelOrder(weightIH, rowLength: features), kernelHH = kernelOrder(weightHH, rowLength: width)
        let gates = Tensor(uninitializedShape: [rows, gateWidth])
        Kernels.gemm(transposeA: false, transposeB: true, m: rows, n: gateWidth, k: features, a: input.pointer, lda: features,
                     b: kernelIH.pointer, ldb: features, c: gates.pointer, ldc: gateWidth, accumulate: false)
        let hiddens = Tensor(uninitializedShape: [steps + 1, batch, width])
        hiddens.pointer.update(from: hidden.pointer, count: stepSize)
        let cells = cell.hasCellState ? Tensor(uninitializedShape: [steps + 1, batch, width]) : nil
        if let cells, let cellState { cells.pointer.update(from: cellState.pointer, count: stepSize) }
        var hiddenGates: Tensor?
        let hiddenBias = biasHH.map { kernelOrder($0, rowLength: 1) }
        if let biasIH, let biasHH {
            addRows(kernelOrder(cell == .gru ? biasIH : biasIH + biasHH, rowLength: 1), to: gates, rows: rows)
        }
        if cell == .gru { hiddenGates = Tensor(uninitializedShape: [rows, gateWidth]) }
        // W_hhᵀ is packed once for all steps rather than by every step's GEMM.
        let recurrentWeight = Kernels.packGemmOperand(transposeB: true, k: width, n: gateWidth, b: kernelHH.pointer, ldb: width)
        let tasks = stepTasks
        withExtendedLifetime((kernelHH, hiddenBias)) {
            active.withOptionalPointer { flags in
                for s in 0..<steps {
                    let stepGates = gates.pointer + s * batch * gateWidth
                    let previous = hiddens.pointer + s * stepSize, next = previous + stepSize
                    let cellPrevious = cells.map { $0.pointer + s * stepSize }
                    let stepHidden = hiddenGates.map { $0.pointer + s * batch * gateWidth }
                    let stepFlags = flags.map { $0 + s * batch }
                    Kernels.parallelFor(tasks) { task in
                        let groups = layout.groups(ofTask: task, tasks: tasks), columns = layout.columns(ofGroups: groups)
                        if let stepHidden {
                            Kernels.gemm(transposeA: false, m: batch, a: previous, lda: width, packedB: recurrentWeight,
                                         columns: columns, c: stepHidden, ldc: gateWidth, accumulate: false)
                            if let hiddenBias {
                                for row in 0..<batch {
                                    Kernels.addInPlace(hiddenBias.pointer + columns.lowerBound,
                                                       into: stepHidden + row * gateWidth + columns.lowerBound, count: columns.count)
                                }
                            }
                        } else {
                            Kernels.gemm(transposeA: false, m: batch, a: previous, lda: width, packedB: recurrentWeight,
                                         columns: columns, c: stepGates, ldc: gateWidth, accumulate: true)
                        }
                        for group in groups {
                            let units = layout.units(ofGroups: group..<(group + 1)), first = units.lowerBound
                            let column = layout.columns(ofGroups: group..<(group + 1)).lowerBound
                            switch cell {
                            case .lstm:
                                Kernels.lstmForwardStep(gates: stepGates + column, previousCell: cellPrevious! + first,
                                                        cell: cellPrevious! + stepSize + first, previousHidden: previous + first,
                                                        hidden: next + first, batch: batch, units: units.count,
                                                        gateStride: gateWidth, stateStride: width, active: stepFlags)
                            case .gru:
                                Kernels.gruForwardStep(inputGates: stepGates + column, hiddenGates: stepHidden! + column,
                                                       previousHidden: previous + first, hidden: next + first, batch: batch,
                                                       units: units.count, gateStride: gateWidth, stateStride: width,
                                                       active: stepFlags)
                            case .rnnTanh, .rnnRelu:
                                Kernels.rnnForwardStep(preactivation: stepGates + column, previousHidden: previous + first,
                                                       hidden: next + first, relu: cell == .rnnRelu, batch: batch,
                                                       units: units.count, gateStride: gateWidth, stateStride: width,
                                                       active: stepFlags)
                            }
                        }
                    }
                }
            }
        }
        let outputCount = steps * stepSize
        let packed = Tensor(uninitializedShape: [outputCount + stepSize * (cell.hasCellState ? 2 : 1)])
        let outputs = packed.pointer
        outputs.update(from: hiddens.pointer + stepSize, count: outputCount)
        if let active {
            for (index, flag) in active.enumerated() where flag == 0 { (outputs + index * width).update(repeating: 0, count: width) }
        }
        (outputs + outputCount).update(from: hiddens.pointer + steps * stepSize, count: stepSize)
        if let cells { (outputs + outputCount + stepSize).update(from: cells.pointer + steps * stepSize, count: stepSize) }
        return RecurrentState(packed: packed, gates: gates, hiddens: hiddens, cells: cells, hiddenGates: hiddenGates,
                              weightIH: kernelIH, weightHH: kernelHH)
    }

    func backward(_ gradient: Tensor, state: RecurrentState, input: Tensor,
                  wants: (input: Bool, weightIH: Bool, weightHH: Bool, biases: Bool))
        -> (input: Tensor?, hidden: Tensor, cell: Tensor?, weightIH: Tensor?, weightHH: Tensor?, biasIH: Tensor?, biasHH: Tensor?) {
        let rows = steps * batch, gateWidth = gateWidth, stepSize = stepSize, outputCount = steps * stepSize, layout = layout
        var hiddenGradient = Tensor(uninitializedShape: [batch, width])
        hiddenGradient.pointer.update(from: gradient.pointer + outputCount, count: stepSize)
        var previousGradient = Tensor(uninitializedShape: [batch, width])
        let cellGradient: Tensor? = cell.hasCellState ? Tensor(uninitializedShape: [batch, width]) : nil
        if let cellGradient { cellGradient.pointer.update(from: gradient.pointer + outputCount + stepSize, count: stepSize) }
        let inputGates = Tensor(uninitializedShape: [rows, gateWidth])
        let hiddenSide = cell == .gru ? Tensor(uninitializedShape: [rows, gateWidth]) : inputGates
        let recurrentWeight = Kernels.packGemmOperand(transposeB: false, k: gateWidth, n: width, b: state.weightHH.pointer, ldb: width)
        let tasks = stepTasks
        withExtendedLifetime((state, gradient)) {
            active.withOptionalPointer { flags in
                for s in stride(from: steps - 1, through: 0, by: -1) {
                    let stepFlags = flags.map { $0 + s * batch }
                    let dy = gradient.pointer + s * stepSize
                    let dInput = inputGates.pointer + s * batch * gateWidth, dHidden = hiddenSide.pointer + s * batch * gateWidth
                    let dh = hiddenGradient.pointer, dhPrevious = previousGradient.pointer
                    // A task first completes dL/dh_s for its units with the later step's gate
                    // gradients through W_hh, then runs this step's kernel on them.
                    Kernels.parallelFor(tasks) { task in
                        let groups = layout.groups(ofTask: task, tasks: tasks)
                        if s < steps - 1 {
                            Kernels.gemm(transposeA: false, m: batch, a: dHidden + batch * gateWidth, lda: gateWidth,
                                         packedB: recurrentWeight, columns: layout.units(ofGroups: groups), c: dh, ldc: width,
                                         accumulate: true)
                        }
                        for group in groups {
                            let units = layout.units(ofGroups: group..<(group + 1)), first = units.lowerBound
                            let column = layout.columns(ofGroups: group..<(group + 1)).lowerBound
                            switch cell {
                            case .lstm:
                                let cellNow = state.cells!.pointer + (s + 1) * stepSize + first
                                Kernels.lstmBackwardStep(gates: state.gates.pointer + s * batch * gateWidth + column, cell: cellNow,
                                                         previousCell: cellNow - stepSize, hiddenGradient: dh + first,
                                                         outputGradient: dy + first, cellGradient: cellGradient!.pointer + first,
                                                         gateGradients: dInput + column, previousHiddenGradient: dhPrevious + first,
                                                         batch: batch, units: units.count, gateStride: gateWidth, stateStride: width,
                                                         active: stepFlags)
                            case .gru:
                                Kernels.gruBackwardStep(gates: state.gates.pointer + s * batch * gateWidth + column,
                                                        hiddenGates: state.hiddenGates!.pointer + s * batch * gateWidth + column,
                                                        previousHidden: state.hiddens.pointer + s * stepSize + first,
                                                        hiddenGradient: dh + first, outputGradient: dy + first,
                                                        inputGateGradients: dInput + column, hiddenGateGradients: dHidden + column,
                                                        previousHiddenGradient: dhPrevious + first, batch: batch,
                                                        units: units.count, gateStride: gateWidth, stateStride: width,
                                                        active: stepFlags)
                            case .rnnTanh, .rnnRelu:
                                Kernels.rnnBackwardStep(hidden: state.hiddens.pointer + (s + 1) * stepSize + first,
                                                        hiddenGradient: dh + first, outputGradient: dy + first,
                                                        preactivationGradient: dInput + column,
                                                        previousHiddenGradient: dhPrevious + first, relu: cell == .rnnRelu,
                                                        batch: batch, units: units.count, gateStride: gateWidth,
                                                        stateStride: width, active: stepFlags)
                            }
                        }
                    }
                    swap(&hiddenGradient, &previousGradient)
                }
                Kernels.gemm(transposeA: false, m: batch, a: hiddenSide.pointer, lda: gateWidth, packedB: recurrentWeight,
                             c: hiddenGradient.pointer, ldc: width, accumulate: true)
            }
        }
        var inputGradient: Tensor?, weightIHGradient: Tensor?, weightHHGradient: Tensor?
        withExtendedLifetime((input, state)) {
            if wants.input {
                let result = Tensor(uninitializedShape: [steps, batch, features])
                Kernels.gemm(transposeA: false, transposeB: false, m: rows, n: features, k: gateWidth, a: inputGates.pointer,
                             lda: gateWidth, b: state.weightIH.pointer, ldb: features, c: result.pointer, ldc: features,
                             accumulate: false)
                inputGradient = result
            }
            if wants.weightIH {
                let result = Tensor(uninitializedShape: [gateWidth, features])
                Kernels.gemm(transposeA: true, transposeB: false, m: gateWidth, n: features, k: rows, a: inputGates.pointer,
                             lda: gateWidth, b: input.pointer, ldb: features, c: result.pointer, ldc: features, accumulate: false)
                weightIHGradient = pytorchOrder(result, rowLength: features)
            }
            if wants.weightHH {
                let result = Tensor(uninitializedShape: [gateWidth, width])
                Kernels.gemm(transposeA: true, transposeB: false, m: gateWidth, n: width, k: rows, a: hiddenSide.pointer,
                             lda: gateWidth, b: state.hiddens.pointer, ldb: width, c: result.pointer, ldc: width, accumulate: false)
                weightHHGradient = pytorchOrder(result, rowLength: width)
            }
        }
        let biasIH = wants.biases ? pytorchOrder(inputGates.sum(axes: [0]), rowLength: 1) : nil
        let biasHH = wants.biases ? (cell == .gru ? pytorchOrder(hiddenSide.sum(axes: [0]), rowLength: 1) : biasIH) : nil
        return (inputGradient, hiddenGradient, cellGradient, weightIHGradient, weightHHGradient, biasIH, biasHH)
    }

    /// The G·H rows of `tensor` (`rowLength` floats each) in kernel order: the tensor itself
    /// when that is PyTorch's order.
    private func kernelOrder(_ tensor: Tensor, rowLength: Int) -> Tensor {
        guard !layout.isIdentity else { return tensor }
        let result = Tensor(uninitializedShape: tensor.shape)
        withExtendedLifetime(tensor) { layout.toKernelOrder(tensor.pointer, rowLength: rowLength, into: result.pointer) }
        return result
    }

    /// The G·H rows of `tensor`, in kernel order, back in PyTorch's order.
    private func pytorchOrder(_ tensor: Tensor, rowLength: Int) -> Tensor {
        guard !layout.isIdentity else { return tensor }
        let result = Tensor(uninitializedShape: tensor.shape)
        withExtendedLifetime(tensor) { layout.toPyTorchOrder(tensor.pointer, rowLength: rowLength, into: result.pointer) }
        return result
    }

    private func addRows(_ bias: Tensor, to matrix: Tensor, rows: Int) {
        let columns = bias.count
        Kernels.binary(.add, matrix.pointer, bias.pointer, matrix.pointer,
                       layout: BroadcastLayout(shape: [rows, columns], stridesA: [columns, 1], stridesB: [0, 1]))
    }
}

extension Optional where Wrapped == [UInt8] {
    /// Calls `body` with a pointer to the elements, or nil.
    fileprivate func withOptionalPointer<R>(_ body: (UnsafePointer<UInt8>?) -> R) -> R {
        guard let self else { return body(nil) }
        return self.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
