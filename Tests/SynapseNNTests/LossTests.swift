import Foundation
import XCTest
import Synapse

final class LossTests: XCTestCase {
    private let logits = Tensor([[2, 1, 0.1], [0.5, 2.5, 0.3], [1, 1, 1]])
    private let targets = IndexTensor([0, 1, 2])

    /// log-softmax of one row in Double.
    private func logSoftmax(_ row: [Float]) -> [Double] {
        let m = Double(row.max()!)
        let total = row.reduce(0.0) { $0 + exp(Double($1) - m) }
        return row.map { Double($0) - m - log(total) }
    }

    private var rows: [[Float]] { (0..<3).map { Array(logits.scalars[($0 * 3)..<($0 * 3 + 3)]) } }

    func testRegressionLosses() {
        let p = Tensor([1, 2, 3]), t = Tensor([1.5, 2, 1])
        XCTAssertEqual(mseLoss(p, t).item, (0.25 + 0 + 4) / 3, accuracy: 1e-6)
        XCTAssertEqual(mseLoss(p, t, reduction: .sum).item, 4.25, accuracy: 1e-6)
        XCTAssertEqual(l1Loss(p, t).item, 2.5 / 3, accuracy: 1e-6)
        XCTAssertEqual(l1Loss(p, t, reduction: .none).scalars, [0.5, 0, 2])
    }

    func testCrossEntropyMatchesClosedForm() {
        let expected = zip(rows, targets.scalars).map { -logSoftmax($0)[$1] }
        XCTAssertEqual(Double(crossEntropy(logits, targets).item), expected.reduce(0, +) / 3, accuracy: 1e-6)
        let none = crossEntropy(logits, targets, reduction: .none).scalars
        for i in 0..<3 { XCTAssertEqual(Double(none[i]), expected[i], accuracy: 1e-6) }
        XCTAssertEqual(Double(nllLoss(logits.logSoftmax(axis: 1), targets).item), expected.reduce(0, +) / 3, accuracy: 1e-6)
        // Huge logits stay finite.
        XCTAssertEqual(crossEntropy(Tensor([[1000, 0], [0, 1000]]), IndexTensor([0, 0])).item, 500, accuracy: 1e-3)
    }

    func testCrossEntropyWeightsIgnoreIndexAndSmoothing() {
        let weight = Tensor([0.2, 1, 3])
        let w = weight.scalars.map(Double.init)
        let logP = rows.map(logSoftmax)
        // Weighted mean: Σ w_y · nll / Σ w_y.
        let weighted = (0..<3).map { w[targets.scalars[$0]] * -logP[$0][targets.scalars[$0]] }
        XCTAssertEqual(Double(crossEntropy(logits, targets, weight: weight).item),
                       weighted.reduce(0, +) / (0.2 + 1 + 3), accuracy: 1e-5)
        // Ignoring sample 1 removes it from the sum and from the denominator.
        let ignored = IndexTensor([0, -100, 2])
        XCTAssertEqual(Double(crossEntropy(logits, ignored, ignoreIndex: -100).item),
                       (-logP[0][0] - logP[2][2]) / 2, accuracy: 1e-5)
        // Label smoothing ε: (1 − ε) · nll + ε / C · Σ_c −w_c log p_c, over Σ w_y.
        let epsilon = 0.1
        var total = 0.0
        for i in 0..<3 {
            let y = targets.scalars[i]
            let smooth = (0..<3).reduce(0.0) { $0 - w[$1] * logP[i][$1] }
            total += (1 - epsilon) * w[y] * -logP[i][y] + epsilon / 3 * smooth
        }
        XCTAssertEqual(Double(crossEntropy(logits, targets, weight: weight, labelSmoothing: 0.1).item),
                       total / (0.2 + 1 + 3), accuracy: 1e-5)
    }

    func testCrossEntropyGradientIsSoftmaxMinusOneHot() {
        let x = logits.requiringGrad()
        crossEntropy(x, targets).backward()
        let softmax = logits.softmax(axis: 1).scalars
        for i in 0..<3 {
            for c in 0..<3 {
                let expected = (softmax[i * 3 + c] - (c == targets.scalars[i] ? 1 : 0)) / 3
                XCTAssertEqual(x.grad!.scalars[i * 3 + c], expected, accuracy: 1e-6)
            }
        }
    }

    func testBinaryCrossEntropy() {
        let p = Tensor([0.9, 0.2, 0.5]), t = Tensor([1, 0, 1])
        let expected = -(log(0.9) + log(0.8) + log(0.5)) / 3
        XCTAssertEqual(Double(binaryCrossEntropy(p, t).item), expected, accuracy: 1e-6)
        XCTAssertEqual(binaryCrossEntropy(Tensor([0, 1]), Tensor([1, 0])).item, 100, accuracy: 1e-4)
        let logitValues: [Float] = [2, -1, 0, 30, -30]
        let x = Tensor(logitValues).requiringGrad(), targets = Tensor([1, 0, 1, 0, 1])
        let loss = binaryCrossEntropyWithLogits(x, targets, reduction: .sum)
        let closedForm = zip(logitValues, targets.scalars).reduce(0.0) { total, pair in
            let (z, y) = (Double(pair.0), Double(pair.1))
            return total + max(z, 0) - z * y + log(1 + exp(-abs(z)))
        }
        XCTAssertEqual(Double(loss.item), closedForm, accuracy: 1e-4)
        loss.backward()
        for (i, z) in logitValues.enumerated() {
            XCTAssertEqual(x.grad!.scalars[i], 1 / (1 + exp(-z)) - targets.scalars[i], accuracy: 1e-6)
        }
    }
}
