import Foundation
import XCTest
@testable import SynapseKernels

/// The ordered sum that gradient averaging rests on: a left fold in list order, the same bits
/// at any thread count and with the destination aliasing one of the vectors.
final class OrderedSumTests: XCTestCase {
    override func tearDown() {
        Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    func testOrderedSumIsTheLeftFoldAtAnyThreadCountAndInPlace() {
        let count = 300_007, vectorCount = 5
        var generator = SystemRandomNumberGenerator()
        // Values of very different sizes, so that another order of addition would round differently.
        let vectors = (0..<vectorCount).map { v in (0..<count).map { _ in Float.random(in: -1...1, using: &generator) * pow(10, Float(v % 3 * 3)) } }
        var expected = vectors[0]
        for vector in vectors.dropFirst() { for index in 0..<count { expected[index] += vector[index] } }
        for index in 0..<count { expected[index] /= 3 }
        for threads in [1, 2, 3] {
            Kernels.threadCount = threads
            var copies = vectors
            var result = [Float](repeating: .nan, count: count)
            let pointers = (0..<vectorCount).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
            defer { pointers.forEach { $0.deallocate() } }
            for (pointer, vector) in zip(pointers, copies) { pointer.initialize(from: vector, count: count) }
            result.withUnsafeMutableBufferPointer {
                Kernels.orderedSum(of: pointers.map { UnsafePointer<Float>($0) }, into: $0.baseAddress!, count: count, dividingBy: 3)
            }
            XCTAssertEqual(result, expected, "\(threads) threads")
            // In place, over the third vector.
            Kernels.orderedSum(of: pointers.map { UnsafePointer<Float>($0) }, into: pointers[2], count: count, dividingBy: 3)
            copies[2] = Array(UnsafeBufferPointer(start: pointers[2], count: count))
            XCTAssertEqual(copies[2], expected, "in place, \(threads) threads")
        }
    }
}
