// Fused element-wise steps of recurrent cells: one pass per time step for all gate
// nonlinearities and the state update, forward and backward.
//
// Every kernel works on `units` hidden units of a batch of `batch` rows: the whole layer, or
// one thread's group of units (see RecurrentGateLayout). Gate rows are `gateStride` floats
// apart and state rows `stateStride`. Row b is active when `active` is nil or active[b] != 0;
// an inactive row (a sequence already past its length) keeps its state, and its gate
// gradients are zero, so padded steps never change anything.
//
// Layouts, per row: LSTM gates [i | f | g | o], GRU gates [r | z | n], each block `units` wide.

extension Kernels {
    /// LSTM forward step. `gates` holds W_ih·x + W_hh·h + b per row on entry and the activated
    /// gates i, f, g, o on return; c = f ⊙ c_prev + i ⊙ g, h = o ⊙ tanh(c).
    public static func lstmForwardStep(gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                                       cell: UnsafeMutablePointer<Float>, previousHidden: UnsafePointer<Float>,
                                       hidden: UnsafeMutablePointer<Float>, batch: Int, units h: Int, gateStride: Int, stateStride: Int,
                                       active: UnsafePointer<UInt8>?) {
        for row in 0..<batch {
            let g = gates + row * gateStride, cPrev = previousCell + row * stateStride, c = cell + row * stateStride
            guard isActive(active, row) else {
                c.update(from: cPrev, count: h)
                (hidden + row * stateStride).update(from: previousHidden + row * stateStride, count: h)
                continue
            }
            let out = hidden + row * stateStride
            forEachLane(h) { j, lanes in
                let i = VectorMath.sigmoid(load(g + j, lanes)), f = VectorMath.sigmoid(load(g + h + j, lanes))
                let candidate = VectorMath.tanh(load(g + 2 * h + j, lanes)), o = VectorMath.sigmoid(load(g + 3 * h + j, lanes))
                let newCell = f * load(cPrev + j, lanes) + i * candidate
                store(i, g + j, lanes)
                store(f, g + h + j, lanes)
                store(candidate, g + 2 * h + j, lanes)
                store(o, g + 3 * h + j, lanes)
                store(newCell, c + j, lanes)
                store(o * VectorMath.tanh(newCell), out + j, lanes)
            }
        }
    }

    /// LSTM backward step. On entry `hiddenGradient` is dL/dh_t from the later steps and
    /// `outputGradient` dL/dy_t; `cellGradient` is dL/dc_t and becomes dL/dc_{t-1}. Writes the
    /// pre-activation gate gradients and the part of dL/dh_{t-1} that bypasses W_hh (dL/dh_t
    /// itself for inactive rows, else 0); the caller adds gateGradients · W_hh.
    public static func lstmBackwardStep(gates: UnsafePointer<Float>, cell: UnsafePointer<Float>,
                                        previousCell: UnsafePointer<Float>, hiddenGradient: UnsafePointer<Float>,
                                        outputGradient: UnsafePointer<Float>, cellGradient: UnsafeMutablePointer<Float>,
                                        gateGradients: UnsafeMutablePointer<Float>, previousHiddenGradient: UnsafeMutablePointer<Float>,
                                        batch: Int, units h: Int, gateStride: Int, stateStride: Int, active: UnsafePointer<UInt8>?) {
        for row in 0..<batch {
            let dG = gateGradients + row * gateStride, dhPrev = previousHiddenGradient + row * stateStride
            guard isActive(active, row) else {
                dG.update(repeating: 0, count: 4 * h)
                dhPrev.update(from: hiddenGradient + row * stateStride, count: h)
                continue
            }
            dhPrev.update(repeating: 0, count: h)
            let g = gates + row * gateStride, c = cell + row * stateStride, cPrev = previousCell + row * stateStride
            let dh = hiddenGradient + row * stateStride, dy = outputGradient + row * stateStride, dc = cellGradient + row * stateStride
            forEachLane(h) { j, lanes in
                let i = load(g + j, lanes), f = load(g + h + j, lanes)
                let candidate = load(g + 2 * h + j, lanes), o = load(g + 3 * h + j, lanes)
                let total = load(dh + j, lanes) + load(dy + j, lanes)
                let tanhCell = VectorMath.tanh(load(c + j, lanes))
                let dCell = load(dc + j, lanes) + total * o * (1 - tanhCell * tanhCell)
                store(dCell * candidate * i * (1 - i), dG + j, lanes)
                store(dCell * load(cPrev + j, lanes) * f * (1 - f), dG + h + j, lanes)
                store(dCell * i * (1 - candidate * candidate), dG + 2 * h + j, lanes)
                store(total * tanhCell * o * (1 - o), dG + 3 * h + j, lanes)
                store(dCell * f, dc + j, lanes)
            }
        }
    }

    /// GRU forward step. On entry `inputGates` holds W_ih·x + b_ih and `hiddenGates` W_hh·h + b_hh;
    /// on return `inputGates` holds r, z, n (hiddenGates is kept for the backward pass):
    /// n = tanh(x_n + r ⊙ h_n), h = (1 − z) ⊙ n + z ⊙ h_prev.
    public static func gruForwardStep(inputGates: UnsafeMutablePointer<Float>, hiddenGates: UnsafePointer<Float>,
                                      previousHidden: UnsafePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                                      batch: Int, units h: Int, gateStride: Int, stateStride: Int, active: UnsafePointer<UInt8>?) {
        for row in 0..<batch {
            let hPrev = previousHidden + row * stateStride, out = hidden + row * stateStride
            guard isActive(active, row) else {
                out.update(from: hPrev, count: h)
                continue
            }
            let x = inputGates + row * gateStride, hg = hiddenGates + row * gateStride
            forEachLane(h) { j, lanes in
                let r = VectorMath.sigmoid(load(x + j, lanes) + load(hg + j, lanes))
                let z = VectorMath.sigmoid(load(x + h + j, lanes) + load(hg + h + j, lanes))
                let n = VectorMath.tanh(load(x + 2 * h + j, lanes) + r * load(hg + 2 * h + j, lanes))
                store(r, x + j, lanes)
                store(z, x + h + j, lanes)
                store(n, x + 2 * h + j, lanes)
                store(n + z * (load(hPrev + j, lanes) - n), out + j, lanes)
            }
        }
    }

    /// GRU backward step: the gradients of the input-side pre-activations [r | z | n], of the
    /// hidden-side ones [r | z | h_n], and the part of dL/dh_{t-1} that bypasses W_hh.
    public static func gruBackwardStep(gates: UnsafePointer<Float>, hiddenGates: UnsafePointer<Float>,
                                       previousHidden: UnsafePointer<Float>, hiddenGradient: UnsafePointer<Float>,
                                       outputGradient: UnsafePointer<Float>, inputGateGradients: UnsafeMutablePointer<Float>,
                                       hiddenGateGradients: UnsafeMutablePointer<Float>,
                                       previousHiddenGradient: UnsafeMutablePointer<Float>,
                                       batch: Int, units h: Int, gateStride: Int, stateStride: Int, active: UnsafePointer<UInt8>?) {
        for row in 0..<batch {
            let dx = inputGateGradients + row * gateStride, dhg = hiddenGateGradients + row * gateStride
            let dhPrev = previousHiddenGradient + row * stateStride
            guard isActive(active, row) else {
                dx.update(repeating: 0, count: 3 * h)
                dhg.update(repeating: 0, count: 3 * h)
                dhPrev.update(from: hiddenGradient + row * stateStride, count: h)
                continue
            }
            let g = gates + row * gateStride, hg = hiddenGates + row * gateStride, hPrev = previousHidden + row * stateStride
            let dh = hiddenGradient + row * stateStride, dy = outputGradient + row * stateStride
            forEachLane(h) { j, lanes in
                let r = load(g + j, lanes), z = load(g + h + j, lanes), n = load(g + 2 * h + j, lanes)
                let total = load(dh + j, lanes) + load(dy + j, lanes)
                let dPreN = total * (1 - z) * (1 - n * n)
                let dPreR = dPreN * load(hg + 2 * h + j, lanes) * r * (1 - r)
                let dPreZ = total * (load(hPrev + j, lanes) - n) * z * (1 - z)
                store(dPreR, dx + j, lanes)
                store(dPreZ, dx + h + j, lanes)
                store(dPreN, dx + 2 * h + j, lanes)
                store(dPreR, dhg + j, lanes)
                store(dPreZ, dhg + h + j, lanes)
                store(dPreN * r, dhg + 2 * h + j, lanes)
                store(total * z, dhPrev + j, lanes)
            }
        }
    }

    /// Elman RNN forward step: h = tanh(pre) or relu(pre), where `preactivation` holds
    /// W_ih·x + W_hh·h + b per row.
    public static func rnnForwardStep(preactivation: UnsafePointer<Float>, previousHidden: UnsafePointer<Float>,
                                      hidden: UnsafeMutablePointer<Float>, relu: Bool, batch: Int, units h: Int, gateStride: Int, stateStride: Int,
                                      active: UnsafePointer<UInt8>?) {
        for row in 0..<batch {
            let out = hidden + row * stateStride
            guard isActive(active, row) else {
                out.update(from: previousHidden + row * stateStride, count: h)
                continue
            }
            let pre = preactivation + row * gateStride
            forEachLane(h) { j, lanes in
                let x = load(pre + j, lanes)
                store(relu ? x.replacing(with: 0, where: x .< 0) : VectorMath.tanh(x), out + j, lanes)
            }
        }
    }

    /// Elman RNN backward step: the pre-activation gradient from h_t, and the part of
    /// dL/dh_{t-1} that bypasses W_hh.
    public static func rnnBackwardStep(hidden: UnsafePointer<Float>, hiddenGradient: UnsafePointer<Float>,
                                       outputGradient: UnsafePointer<Float>, preactivationGradient: UnsafeMutablePointer<Float>,
                                       previousHiddenGradient: UnsafeMutablePointer<Float>, relu: Bool,
                                       batch: Int, units h: Int, gateStride: Int, stateStride: Int, active: UnsafePointer<UInt8>?) {
        for row in 0..<batch {
            let dPre = preactivationGradient + row * gateStride, dhPrev = previousHiddenGradient + row * stateStride
            guard isActive(active, row) else {
                dPre.update(repeating: 0, count: h)
                dhPrev.update(from: hiddenGradient + row * stateStride, count: h)
                continue
            }
            dhPrev.update(repeating: 0, count: h)
            let y = hidden + row * stateStride, dh = hiddenGradient + row * stateStride, dy = outputGradient + row * stateStride
            forEachLane(h) { j, lanes in
                let total = load(dh + j, lanes) + load(dy + j, lanes), value = load(y + j, lanes)
                let slope = relu ? FloatVector(repeating: 1).replacing(with: 0, where: value .<= 0) : 1 - value * value
                store(total * slope, dPre + j, lanes)
            }
        }
    }
}

@inline(__always)
private func isActive(_ active: UnsafePointer<UInt8>?, _ row: Int) -> Bool {
    active.map { $0[row] != 0 } ?? true
}

/// Calls `body(offset, lanes)` for each vector of a row of `count` floats; the last may be partial.
@inline(__always)
private func forEachLane(_ count: Int, _ body: (Int, Int) -> Void) {
    let width = FloatVector.scalarCount
    var j = 0
    while j + width <= count {
        body(j, width)
        j += width
    }
    if j < count { body(j, count - j) }
}

@inline(__always)
private func load(_ p: UnsafePointer<Float>, _ lanes: Int) -> FloatVector {
    lanes == FloatVector.scalarCount ? loadVector(p) : loadPartial(p, count: lanes)
}

@inline(__always)
private func load(_ p: UnsafeMutablePointer<Float>, _ lanes: Int) -> FloatVector {
    load(UnsafePointer(p), lanes)
}

@inline(__always)
private func store(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
    if lanes == FloatVector.scalarCount { storeVector(v, p) } else { storePartial(v, p, count: lanes) }
}
