// Multi-layer, optionally bidirectional recurrent networks: RNN, LSTM and GRU.

import SynapseCore

/// The shared machinery of `RNN`, `LSTM` and `GRU`: PyTorch's `nn.RNNBase`.
///
/// Parameters are named, shaped and ordered as PyTorch's: for layer k, `weight_ih_l{k}`
/// [G·H, in], `weight_hh_l{k}` [G·H, H], `bias_ih_l{k}` and `bias_hh_l{k}` [G·H], with the
/// suffix `_reverse` for the backward direction; all start U(−1/√H, 1/√H). So a PyTorch
/// state_dict loads by name, and back.
open class RecurrentNetwork: Module {
    public let cell: RecurrentCell
    public let inputSize: Int
    public let hiddenSize: Int
    public let layers: Int
    public let hasBias: Bool
    /// Whether inputs and outputs are [N, T, …] rather than [T, N, …].
    public let batchFirst: Bool
    /// Dropout on the outputs of every layer but the last, in training mode.
    public let dropout: Float
    public let bidirectional: Bool
    private let weights: [(String, Parameter)]

    /// 2 for bidirectional networks, else 1.
    public var directions: Int { bidirectional ? 2 : 1 }

    public init(cell: RecurrentCell, inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true,
                batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false) {
        let name = String(describing: Self.self)
        require(inputSize > 0, "\(name): input size must be positive, got \(inputSize)")
        require(hiddenSize > 0, "\(name): hidden size must be positive, got \(hiddenSize)")
        require(layers > 0, "\(name): layers must be positive, got \(layers)")
        require(dropout >= 0 && dropout < 1, "\(name): dropout must be in [0, 1), got \(dropout)")
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        hasBias = bias
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.bidirectional = bidirectional
        let bound = 1 / Float(hiddenSize).squareRoot(), gateWidth = cell.gateCount * hiddenSize
        var weights: [(String, Parameter)] = []
        for layer in 0..<layers {
            let layerInput = layer == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1)
            for suffix in bidirectional ? ["", "_reverse"] : [""] {
                func make(_ shape: [Int]) -> Parameter { Parameter(Initializer.uniform(bound: bound).make(shape)) }
                weights.append(("weight_ih_l\(layer)\(suffix)", make([gateWidth, layerInput])))
                weights.append(("weight_hh_l\(layer)\(suffix)", make([gateWidth, hiddenSize])))
                if bias {
                    weights.append(("bias_ih_l\(layer)\(suffix)", make([gateWidth])))
                    weights.append(("bias_hh_l\(layer)\(suffix)", make([gateWidth])))
                }
            }
        }
        self.weights = weights
    }

    open override var namedOwnParameters: [(String, Parameter)] { weights }

    /// The parameter named `name` (`weight_hh_l0_reverse`, say).
    public func parameter(named name: String) -> Parameter? {
        weights.first { $0.0 == name }?.1
    }

    /// Runs the network with its state as one value, for code that treats RNNs, LSTMs and GRUs
    /// alike (a language model that carries its state from token to token, say): the outputs
    /// of the last layer and the final state. `state` defaults to zeros.
    public func callAsFunction(_ input: Tensor, state: RecurrentState?) -> (output: Tensor, state: RecurrentState) {
        let (output, hidden, cellState) = run(input, hidden: state?.hidden, cellState: state?.cell, lengths: nil)
        return (output, RecurrentState(hidden: hidden, cell: cellState))
    }

    /// As `callAsFunction(_:state:)`, for a padded batch whose sequence n is `lengths[n]` steps
    /// long. Throws `RecurrentError.invalidLengths` unless there is one length per sequence,
    /// each in 1...T.
    public func callAsFunction(_ input: Tensor, state: RecurrentState?, lengths: [Int]) throws -> (output: Tensor, state: RecurrentState) {
        try check(lengths: lengths, input: input)
        let (output, hidden, cellState) = run(input, hidden: state?.hidden, cellState: state?.cell, lengths: lengths)
        return (output, RecurrentState(hidden: hidden, cell: cellState))
    }

    /// Throws unless `lengths` holds one length in 1...T for each sequence of `input`.
    func check(lengths: [Int], input: Tensor) throws {
        guard input.rank == 3 else { return }
        let name = String(describing: type(of: self))
        let (steps, batch) = batchFirst ? (input.shape[1], input.shape[0]) : (input.shape[0], input.shape[1])
        guard lengths.count == batch else {
            throw RecurrentError.invalidLengths("\(name): \(lengths.count) lengths for a batch of \(batch) sequences")
        }
        if let (n, length) = lengths.enumerated().first(where: { $0.element < 1 || $0.element > steps }) {
            throw RecurrentError.invalidLengths(
                "\(name): length \(length) of sequence \(n) is not in 1...\(steps) (the padded sequence length)")
        }
    }

    /// Runs every layer and direction over `input`; states are [D·layers, N, H].
    func run(_ input: Tensor, hidden: Tensor?, cellState: Tensor?, lengths: [Int]?) -> (Tensor, Tensor, Tensor?) {
        let name = String(describing: type(of: self))
        require(input.rank == 3 && input.shape[2] == inputSize,
                "\(name): input must be \(batchFirst ? "[N, T, \(inputSize)]" : "[T, N, \(inputSize)]"), got \(input.shape)")
        var sequence = batchFirst ? input.transposed(0, 1) : input
        let batch = sequence.shape[1]
        let stateShape = [directions * layers, batch, hiddenSize]
        if let hidden { require(hidden.shape == stateShape, "\(name): h0 must be \(stateShape), got \(hidden.shape)") }
        if let cellState { require(cellState.shape == stateShape, "\(name): c0 must be \(stateShape), got \(cellState.shape)") }
        let zeros = Tensor.zeros([batch, hiddenSize])
        var finalHidden: [Tensor] = [], finalCell: [Tensor] = []
        for layer in 0..<layers {
            var outputs: [Tensor] = []
            for direction in 0..<directions {
                let index = layer * directions + direction, suffix = direction == 0 ? "" : "_reverse"
                let h0 = hidden.map { $0[index] } ?? zeros
                let c0 = cell.hasCellState ? (cellState.map { $0[index] } ?? zeros) : nil
                let source = direction == 0 ? sequence : sequence.reversingSequences(lengths: lengths)
                let result = Tensor.recurrentLayer(cell, input: source, hidden: h0, cellState: c0,
                                                   weightIH: parameter(named: "weight_ih_l\(layer)\(suffix)")!.value,
                                                   weightHH: parameter(named: "weight_hh_l\(layer)\(suffix)")!.value,
                                                   biasIH: parameter(named: "bias_ih_l\(layer)\(suffix)")?.value,
                                                   biasHH: parameter(named: "bias_hh_l\(layer)\(suffix)")?.value,
                                                   lengths: lengths)
                outputs.append(direction == 0 ? result.output : result.output.reversingSequences(lengths: lengths))
                finalHidden.append(result.hidden)
                if let c = result.cellState { finalCell.append(c) }
            }
            sequence = outputs.count == 1 ? outputs[0] : Tensor.concatenate(outputs, axis: 2)
            if dropout > 0 && isTraining && layer < layers - 1 {
                let keep = Tensor.uniform(sequence.shape) .>= dropout
                sequence = sequence * (keep / (1 - dropout))
            }
        }
        let output = batchFirst ? sequence.transposed(0, 1) : sequence
        return (traced(output), Tensor.stack(finalHidden), finalCell.isEmpty ? nil : Tensor.stack(finalCell))
    }
}

/// The state a recurrent network carries between steps: hidden states [D·layers, N, H] and,
/// for an LSTM, cell states of the same shape.
public struct RecurrentState: Sendable {
    public var hidden: Tensor
    public var cell: Tensor?

    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }

    /// The state without its autodiff history, to carry across batches (truncated BPTT) or
    /// generated tokens.
    public func detached() -> RecurrentState {
        RecurrentState(hidden: hidden.detached(), cell: cell?.detached())
    }
}

/// An Elman RNN, h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), as `torch.nn.RNN`.
///
/// ```swift
/// let rnn = RNN(10, 20, layers: 2)
/// let (output, hidden) = rnn(x)   // x [T, N, 10] → output [T, N, 20], hidden [2, N, 20]
/// ```
public final class RNN: RecurrentNetwork {
    public enum Nonlinearity: Sendable { case tanh, relu }

    public init(_ inputSize: Int, _ hiddenSize: Int, layers: Int = 1, nonlinearity: Nonlinearity = .tanh, bias: Bool = true,
                batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false) {
        super.init(cell: nonlinearity == .tanh ? .rnnTanh : .rnnRelu, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers,
                   bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
    }

    /// The outputs of the last layer at every step ([T, N, D·H], or [N, T, D·H] batch-first;
    /// zero past a sequence's length) and the final hidden states [D·layers, N, H]. `hidden`
    /// (h0) defaults to zeros.
    public func callAsFunction(_ input: Tensor, hidden: Tensor? = nil) -> (output: Tensor, hidden: Tensor) {
        let (output, h, _) = run(input, hidden: hidden, cellState: nil, lengths: nil)
        return (output, h)
    }

    /// As `callAsFunction(_:hidden:)` for a padded batch whose sequence n is `lengths[n]` steps
    /// long, as a packed sequence would run; throws `RecurrentError.invalidLengths` unless
    /// each length is in 1...T.
    public func callAsFunction(_ input: Tensor, hidden: Tensor? = nil, lengths: [Int]) throws -> (output: Tensor, hidden: Tensor) {
        try check(lengths: lengths, input: input)
        let (output, h, _) = run(input, hidden: hidden, cellState: nil, lengths: lengths)
        return (output, h)
    }
}

/// A long short-term memory network, as `torch.nn.LSTM` (gates i, f, g, o).
///
/// ```swift
/// let lstm = LSTM(128, 256, layers: 2, batchFirst: true)
/// let (output, hidden, cell) = lstm(x)   // x [N, T, 128]
/// ```
public final class LSTM: RecurrentNetwork {
    public init(_ inputSize: Int, _ hiddenSize: Int, layers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Float = 0, bidirectional: Bool = false) {
        super.init(cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
    }

    /// The outputs of the last layer at every step and the final hidden and cell states
    /// [D·layers, N, H]. `hidden` (h0) and `cell` (c0) default to zeros.
    public func callAsFunction(_ input: Tensor, hidden: Tensor? = nil, cell: Tensor? = nil) -> (output: Tensor, hidden: Tensor, cell: Tensor) {
        let (output, h, c) = run(input, hidden: hidden, cellState: cell, lengths: nil)
        return (output, h, c!)
    }

    /// As `callAsFunction(_:hidden:cell:)` for a padded batch whose sequence n is `lengths[n]`
    /// steps long, as a packed sequence would run; throws `RecurrentError.invalidLengths`
    /// unless each length is in 1...T.
    public func callAsFunction(_ input: Tensor, hidden: Tensor? = nil, cell: Tensor? = nil,
                               lengths: [Int]) throws -> (output: Tensor, hidden: Tensor, cell: Tensor) {
        try check(lengths: lengths, input: input)
        let (output, h, c) = run(input, hidden: hidden, cellState: cell, lengths: lengths)
        return (output, h, c!)
    }
}

/// A gated recurrent unit network, as `torch.nn.GRU` (gates r, z, n, with b_hn inside the
/// reset product).
public final class GRU: RecurrentNetwork {
    public init(_ inputSize: Int, _ hiddenSize: Int, layers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Float = 0, bidirectional: Bool = false) {
        super.init(cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
    }

    /// The outputs of the last layer at every step and the final hidden states [D·layers, N, H].
    public func callAsFunction(_ input: Tensor, hidden: Tensor? = nil) -> (output: Tensor, hidden: Tensor) {
        let (output, h, _) = run(input, hidden: hidden, cellState: nil, lengths: nil)
        return (output, h)
    }

    /// As `callAsFunction(_:hidden:)` for a padded batch whose sequence n is `lengths[n]` steps
    /// long; throws `RecurrentError.invalidLengths` unless each length is in 1...T.
    public func callAsFunction(_ input: Tensor, hidden: Tensor? = nil, lengths: [Int]) throws -> (output: Tensor, hidden: Tensor) {
        try check(lengths: lengths, input: input)
        let (output, h, _) = run(input, hidden: hidden, cellState: nil, lengths: lengths)
        return (output, h)
    }
}

/// A recurrent network's input that cannot be run.
public enum RecurrentError: Error, Equatable, CustomStringConvertible {
    /// Sequence lengths that do not match the batch: the message names the offending entry.
    case invalidLengths(String)

    public var description: String {
        switch self {
        case .invalidLengths(let message): return message
        }
    }
}
