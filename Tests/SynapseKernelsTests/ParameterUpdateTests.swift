import Foundation
import XCTest
@testable import SynapseKernels

/// The optimizer-update kernels against float64 loops, on a parameter large enough to be split
/// across threads and long enough to end in a partial vector.
final class ParameterUpdateTests: XCTestCase {
    private let count = 200_005

    override func tearDown() {
        Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    private func values(seed: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { scale * (Float(($0 * 7919 + seed * 104_729) % 1999) / 1000 - 1) }
    }

    func testSGDStepsMatchTheFormulaAtEveryThreadCount() {
        let weights = values(seed: 1), gradient = values(seed: 2), buffer = values(seed: 3)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            Kernels.threadCount = threads
            for (nesterov, firstStep) in [(false, false), (true, false), (false, true)] {
                var w = weights, b = buffer
                w.withUnsafeMutableBufferPointer { w in
                    b.withUnsafeMutableBufferPointer { b in
                        Kernels.sgdStep(weights: w.baseAddress!, gradient: gradient, momentumBuffer: b.baseAddress!, count: count,
                                        learningRate: 0.1, weightDecay: 0.01, momentum: 0.9, dampening: 0.2,
                                        nesterov: nesterov, firstStep: firstStep)
                    }
                }
                for i in stride(from: 0, to: count, by: 997) + [count - 1] {
                    let d = Double(gradient[i]) + 0.01 * Double(weights[i])
                    let momentum = firstStep ? d : 0.9 * Double(buffer[i]) + 0.8 * d
                    let expected = Double(weights[i]) - 0.1 * (nesterov ? d + 0.9 * momentum : momentum)
                    XCTAssertEqual(Double(b[i]), momentum, accuracy: 1e-6)
                    XCTAssertEqual(Double(w[i]), expected, accuracy: 1e-6)
                }
                results.append(w)
            }
            var plain = weights
            Kernels.sgdStep(weights: &plain, gradient: gradient, momentumBuffer: nil, count: count, learningRate: 0.1,
                            weightDecay: 0.01, momentum: 0, dampening: 0, nesterov: false, firstStep: true)
            XCTAssertEqual(Double(plain[count - 1]), Double(weights[count - 1]) - 0.1 * (Double(gradient[count - 1]) + 0.01 * Double(weights[count - 1])),
                           accuracy: 1e-6)
            results.append(plain)
        }
        XCTAssertEqual(results[0..<4].map { $0 }, results[4..<8].map { $0 })
        XCTAssertEqual(results[0..<4].map { $0 }, results[8..<12].map { $0 })
    }

    func testAdamStepMatchesTheFormulaAtEveryThreadCount() {
        let weights = values(seed: 4), gradient = values(seed: 5), first = values(seed: 6, scale: 0.1)
        let second = values(seed: 7).map { $0 * $0 * 0.01 }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            Kernels.threadCount = threads
            var w = weights, m = first, v = second
            Kernels.adamStep(weights: &w, gradient: gradient, firstMoment: &m, secondMoment: &v, count: count,
                             learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                             correction1: 0.19, correction2: 0.002, l2: 0.05, shrink: 0.999)
            for i in stride(from: 0, to: count, by: 991) + [count - 1] {
                let d = Double(gradient[i]) + 0.05 * Double(weights[i])
                let mExpected = 0.9 * Double(first[i]) + 0.1 * d
                let vExpected = 0.999 * Double(second[i]) + 0.001 * d * d
                let expected = Double(weights[i]) * 0.999 - 0.01 * (mExpected / 0.19) / ((vExpected / 0.002).squareRoot() + 1e-8)
                XCTAssertEqual(Double(m[i]), mExpected, accuracy: 1e-6)
                XCTAssertEqual(Double(v[i]), vExpected, accuracy: 1e-6)
                XCTAssertEqual(Double(w[i]), expected, accuracy: 1e-5 * max(1, Swift.abs(expected)))
            }
            results.append(w)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }
}
