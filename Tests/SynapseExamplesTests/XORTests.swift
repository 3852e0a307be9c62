import XCTest
import Synapse
@testable import SynapseExamples

final class XORTests: XCTestCase {
    func testEquationsAndAutodiffGiveTheSameGradients() {
        let parameters = XORExample.initialParameters(seed: 3)
        let manual = XORExample.manualGradients(parameters)
        let automatic = XORExample.autodiffGradients(parameters)
        XCTAssertEqual(manual.loss, automatic.loss, accuracy: 1e-6)
        XCTAssertLessThanOrEqual(manual.gradients.maxDifference(from: automatic.gradients), 1e-5)
        XCTAssertGreaterThan(manual.gradients.w1.abs().max().item, 1e-4, "the gradients are not trivially zero")
    }

    func testTrainingSolvesXOR() {
        var lines: [String] = []
        let report = XORExample.train(epochs: 5000, learningRate: 0.5, seed: 0, logEvery: 1000) { lines.append($0) }
        XCTAssertLessThanOrEqual(report.maxGradientDifference, 1e-5)
        XCTAssertTrue(report.solved(tolerance: 0.1), "outputs \(report.manualOutputs) / \(report.autodiffOutputs)")
        XCTAssertLessThan(report.autodiffLoss, 1e-3)
        XCTAssertEqual(lines.count, 6)
    }
}
