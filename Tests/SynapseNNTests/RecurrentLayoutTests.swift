import XCTest
import Synapse
import SynapseKernels

/// One step of `cell` written with plain tensor ops, in PyTorch's gate order.
private func referenceStep(_ cell: RecurrentCell, x: Tensor, h: Tensor, c: Tensor?, weights: [Tensor]) -> (Tensor, Tensor?) {
    let hidden = h.shape[1]
    let inputSide = x.matmul(weights[0].transposed()) + weights[2]
    let hiddenSide = h.matmul(weights[1].transposed()) + weights[3]
    func gate(_ t: Tensor, _ k: Int) -> Tensor { t.slice(axis: 1, start: k * hidden, end: (k + 1) * hidden) }
    switch cell {
    case .lstm:
        let pre = inputSide + hiddenSide
        let i = gate(pre, 0).sigmoid(), f = gate(pre, 1).sigmoid(), g = gate(pre, 2).tanh(), o = gate(pre, 3).sigmoid()
        let newCell = f * c! + i * g
        return (o * newCell.tanh(), newCell)
    case .gru:
        let r = (gate(inputSide, 0) + gate(hiddenSide, 0)).sigmoid(), z = (gate(inputSide, 1) + gate(hiddenSide, 1)).sigmoid()
        let n = (gate(inputSide, 2) + r * gate(hiddenSide, 2)).tanh()
        return ((1 - z) * n + z * h, nil)
    case .rnnTanh: return ((inputSide + hiddenSide).tanh(), nil)
    case .rnnRelu: return ((inputSide + hiddenSide).relu(), nil)
    }
}

final class RecurrentLayoutTests: XCTestCase {
    override func tearDown() {
        Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    func testKernelColumnOrderRoundTripsAndGroupsWholeUnits() {
        let layout = RecurrentGateLayout(gates: 4, hiddenSize: 40)
        XCTAssertEqual(layout.groupCount, 2)
        XCTAssertEqual(layout.units(ofGroups: 1..<2), 32..<40)
        XCTAssertEqual(layout.columns(ofGroups: 1..<2), 128..<160)
        // Group 1 holds units 32..<40 of each gate side by side: i then f then g then o.
        let expected: [Int] = [32, 72, 112, 152].flatMap { Array($0..<($0 + 8)) }
        XCTAssertEqual((128..<160).map(layout.pytorchRow(ofColumn:)), expected)
        XCTAssertEqual(Set((0..<160).map(layout.pytorchRow(ofColumn:))).count, 160)
        XCTAssertTrue(RecurrentGateLayout(gates: 3, hiddenSize: 32).isIdentity)
    }

    /// Layers wider than one group, with a ragged last group and enough work to thread each
    /// step, against the same recurrence written with plain ops; outputs and every gradient.
    func testWideLayersMatchPlainOpsAndAreIdenticalAtAnyThreadCount() {
        let (steps, batch, features, hidden) = (3, 32, 5, 136)
        for cell in RecurrentCell.allCases {
            let rows = cell.gateCount * hidden
            let x = Tensor.uniform([steps, batch, features], low: -1, high: 1, seed: 1)
            let h0 = Tensor.uniform([batch, hidden], low: -0.5, high: 0.5, seed: 2)
            let c0 = Tensor.uniform([batch, hidden], low: -0.5, high: 0.5, seed: 3)
            let weights = [Tensor.uniform([rows, features], low: -0.3, high: 0.3, seed: 4),
                           Tensor.uniform([rows, hidden], low: -0.1, high: 0.1, seed: 5),
                           Tensor.uniform([rows], low: -0.3, high: 0.3, seed: 6), Tensor.uniform([rows], low: -0.3, high: 0.3, seed: 7)]
            let projection = Tensor.uniform([steps, batch, hidden], low: -1, high: 1, seed: 8)
            func run(fused: Bool) -> [[Float]] {
                let leaves = ([x, h0] + (cell.hasCellState ? [c0] : []) + weights).map { $0.requiringGrad() }
                let w = Array(leaves.suffix(4)), c = cell.hasCellState ? leaves[2] : nil
                var loss: Tensor
                if fused {
                    let r = Tensor.recurrentLayer(cell, input: leaves[0], hidden: leaves[1], cellState: c,
                                                  weightIH: w[0], weightHH: w[1], biasIH: w[2], biasHH: w[3])
                    loss = (r.output * projection).sum() + r.hidden.sum() * 0.5 + (r.cellState.map { $0.sum() * 0.25 } ?? Tensor(0))
                } else {
                    var h = leaves[1], state = c
                    loss = Tensor(0)
                    for t in 0..<steps {
                        (h, state) = referenceStep(cell, x: leaves[0][t], h: h, c: state, weights: w)
                        loss = loss + (h * projection[t]).sum()
                    }
                    loss = loss + h.sum() * 0.5 + (state.map { $0.sum() * 0.25 } ?? Tensor(0))
                }
                loss.backward()
                return [[loss.item]] + leaves.map { $0.grad!.scalars }
            }
            let reference = run(fused: false)
            var results: [[[Float]]] = []
            for threads in [1, 3] {
                Kernels.threadCount = threads
                results.append(run(fused: true))
            }
            XCTAssertEqual(results[0], results[1], "\(cell): results differ between 1 and 3 threads")
            for (index, (mine, theirs)) in zip(results[0], reference).enumerated() {
                let scale = max(1, theirs.map(abs).max() ?? 0)
                let worst = zip(mine, theirs).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 2e-5 * scale, "\(cell): value \(index) differs from plain ops by \(worst)")
            }
        }
    }
}
