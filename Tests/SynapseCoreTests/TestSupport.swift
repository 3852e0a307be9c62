import XCTest
@testable import SynapseCore

func assertClose(_ tensor: Tensor, _ expected: [Float], shape: [Int]? = nil, tolerance: Float = 1e-5,
                 file: StaticString = #filePath, line: UInt = #line) {
    if let shape { XCTAssertEqual(tensor.shape, shape, "shape", file: file, line: line) }
    XCTAssertEqual(tensor.count, expected.count, "element count", file: file, line: line)
    for (i, (a, b)) in zip(tensor.scalars, expected).enumerated() {
        let ok = (a.isNaN && b.isNaN) || a == b || Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b))
        XCTAssertTrue(ok, "element \(i): \(a) ≠ \(b)", file: file, line: line)
    }
}

func assertGradients(_ function: @escaping ([Tensor]) -> Tensor, at inputs: [Tensor],
                     epsilon: Float = 1e-2, file: StaticString = #filePath, line: UInt = #line) {
    let result = gradientCheck(function, at: inputs, epsilon: epsilon)
    XCTAssertTrue(result.passed, result.description, file: file, line: line)
}

/// Values in ±[0.2, 1.2]: well away from the kinks of relu, abs and friends.
func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
    let magnitude = Tensor.uniform(shape, low: 0.2, high: 1.2, seed: seed)
    let sign = Tensor.uniform(shape, seed: seed &+ 1) .> 0.5
    return magnitude * (2 * sign - 1)
}

/// Distinct values spaced at least 0.1 apart in a seeded order, so max/min have no ties.
func distinctValues(_ shape: [Int], seed: UInt64) -> Tensor {
    let count = shape.reduce(1, *)
    var generator = RandomGenerator(seed: seed)
    let order = Array(0..<count).shuffled(using: &generator)
    return Tensor(order.map { Float($0) * 0.1 - Float(count) * 0.05 }, shape: shape)
}

/// Expects `validation` to throw a ShapeError with exactly `message`.
func assertShapeError<T>(_ message: String, file: StaticString = #filePath, line: UInt = #line,
                         _ validation: () throws(ShapeError) -> T) {
    do {
        _ = try validation()
        XCTFail("expected error: \(message)", file: file, line: line)
    } catch {
        XCTAssertEqual(error.description, message, file: file, line: line)
    }
}
