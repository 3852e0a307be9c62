import Foundation
import XCTest
@testable import SynapseKernels

/// The vectorized transcendental functions against Foundation's (double precision) results.
final class VectorMathTests: XCTestCase {
    private func maxRelativeError(_ range: ClosedRange<Float>, steps: Int = 20_000,
                                  _ vector: (FloatVector) -> FloatVector, _ reference: (Double) -> Double,
                                  floor: Double = 1e-30) -> Double {
        var worst = 0.0
        var i = 0
        while i < steps {
            var lanes = FloatVector(repeating: 0)
            for lane in 0..<8 { lanes[lane] = range.lowerBound + (range.upperBound - range.lowerBound) * Float(i + lane) / Float(steps) }
            let result = vector(lanes)
            for lane in 0..<8 {
                let expected = reference(Double(lanes[lane]))
                let error = Swift.abs(Double(result[lane]) - expected) / Swift.max(Swift.abs(expected), floor)
                worst = Swift.max(worst, error)
            }
            i += 8
        }
        return worst
    }

    func testExpAndLogAreAccurate() {
        XCTAssertLessThan(maxRelativeError(-87...88, VectorMath.exp, Foundation.exp), 3e-7)
        XCTAssertLessThan(maxRelativeError(1e-30...1e30, VectorMath.log, Foundation.log, floor: 1e-3), 3e-7)
        XCTAssertLessThan(maxRelativeError(0.5...2, VectorMath.log, Foundation.log, floor: 1e-3), 3e-7)
    }

    func testSquashingFunctionsAreAccurate() {
        XCTAssertLessThan(maxRelativeError(-10...10, VectorMath.tanh, Foundation.tanh, floor: 1e-6), 5e-7)
        XCTAssertLessThan(maxRelativeError(-20...20, VectorMath.sigmoid, { 1 / (1 + Foundation.exp(-$0)) }), 5e-7)
        XCTAssertLessThan(maxRelativeError(-4...4, VectorMath.erf, Foundation.erf, floor: 1), 6e-7)
        XCTAssertLessThan(maxRelativeError(-6...6, VectorMath.gelu, { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }, floor: 1), 6e-7)
    }

    func testSpecialValues() {
        let x = FloatVector(-.infinity, .infinity, .nan, 0, -1, 100, -100, 0.5)
        let e = VectorMath.exp(x)
        XCTAssertEqual(e[0], 0)
        XCTAssertEqual(e[1], .infinity)
        XCTAssertTrue(e[2].isNaN)
        XCTAssertEqual(e[3], 1)
        XCTAssertEqual(e[5], .infinity)
        XCTAssertEqual(e[6], 0)
        let l = VectorMath.log(x)
        XCTAssertTrue(l[0].isNaN)
        XCTAssertEqual(l[1], .infinity)
        XCTAssertTrue(l[2].isNaN)
        XCTAssertEqual(l[3], -.infinity)
        XCTAssertTrue(l[4].isNaN)
        let t = VectorMath.tanh(x)
        XCTAssertEqual(t[0], -1)
        XCTAssertEqual(t[1], 1)
        XCTAssertEqual(t[3], 0)
    }
}
