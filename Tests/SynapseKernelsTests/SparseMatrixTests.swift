import Foundation
import XCTest
@testable import SynapseKernels

/// The sparse × dense kernel and the dense GEMM against a float64 reference, and the CSR
/// checks that reject malformed arrays.
final class SparseMatrixTests: XCTestCase {
    override func tearDown() {
        Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    /// A rows × columns matrix with about `density` of its entries nonzero, deterministically.
    private func sparseValues(rows: Int, columns: Int, density: Double, seed: Int) -> [Float] {
        (0..<(rows * columns)).map { index in
            let hash = (index &* 2_654_435_761 &+ seed &* 40_503) & 0xFFFF
            return Double(hash) / 65_536 < density ? Float((index * 7919 + seed) % 2001) / 1000 - 1 : 0
        }
    }

    func testSparseLinearAndGemmMatchAFloat64Reference() {
        // Batches below one block of 16, across several blocks with a ragged end, inputs across
        // several 512-feature chunks, and outputs fewer than the threads.
        for (batch, inputs, outputs, density) in [(1, 7, 3, 0.5), (17, 700, 37, 0.1), (40, 1100, 130, 0.3), (5, 64, 1, 0.9),
                                                  (33, 513, 2, 0.02)] {
            let weight = sparseValues(rows: outputs, columns: inputs, density: density, seed: batch)
            let input = (0..<(batch * inputs)).map { Float(($0 * 104_729) % 1999) / 999 - 1 }
            let bias = (0..<outputs).map { Float($0) / 10 - 1 }
            let matrix = weight.withUnsafeBufferPointer { SparseMatrix(dense: $0.baseAddress!, rows: outputs, columns: inputs) }
            XCTAssertEqual(matrix.nonzeroCount, weight.filter { $0 != 0 }.count)
            var reference = [Double](repeating: 0, count: batch * outputs)
            for b in 0..<batch {
                for o in 0..<outputs {
                    var sum = Double(bias[o])
                    for i in 0..<inputs { sum += Double(input[b * inputs + i]) * Double(weight[o * inputs + i]) }
                    reference[b * outputs + o] = sum
                }
            }
            var results: [[Float]] = []
            for threads in [1, 2, 3] {
                Kernels.threadCount = threads
                var sparse = [Float](repeating: .nan, count: batch * outputs)
                input.withUnsafeBufferPointer { x in
                    bias.withUnsafeBufferPointer { b in
                        Kernels.sparseLinear(input: x.baseAddress!, batch: batch, weight: matrix, bias: b.baseAddress!,
                                             output: &sparse)
                    }
                }
                var dense = [Float](repeating: .nan, count: batch * outputs)
                Kernels.gemm(transposeA: false, transposeB: true, m: batch, n: outputs, k: inputs, a: input, lda: inputs,
                             b: weight, ldb: inputs, c: &dense, ldc: outputs, accumulate: false)
                for index in 0..<(batch * outputs) {
                    let tolerance = 1e-4 * max(1, abs(reference[index]))
                    XCTAssertEqual(Double(sparse[index]), reference[index], accuracy: tolerance, "sparse \(batch)×\(inputs)→\(outputs) at \(index)")
                    XCTAssertEqual(Double(dense[index]) + Double(bias[index % outputs]), reference[index], accuracy: tolerance,
                                   "dense \(batch)×\(inputs)→\(outputs) at \(index)")
                }
                results.append(sparse)
            }
            XCTAssertEqual(results[0], results[1], "the sparse result must not depend on the thread count")
            XCTAssertEqual(results[0], results[2], "the sparse result must not depend on the thread count")
        }
    }

    func testSparseLinearWithoutBiasAndWithAnEmptyRow() {
        let weight: [Float] = [0, 0, 0, 2, 0, -1]
        let matrix = weight.withUnsafeBufferPointer { SparseMatrix(dense: $0.baseAddress!, rows: 2, columns: 3) }
        XCTAssertEqual(matrix.rowOffsets, [0, 0, 2])
        XCTAssertEqual(matrix.sparsity, 4.0 / 6, accuracy: 1e-12)
        var output = [Float](repeating: .nan, count: 2)
        Kernels.sparseLinear(input: [1, 2, 3], batch: 1, weight: matrix, bias: nil, output: &output)
        XCTAssertEqual(output, [0, -1])
        var dense = [Float](repeating: .nan, count: 6)
        matrix.densify(into: &dense)
        XCTAssertEqual(dense, weight)
    }

    func testMalformedArraysAreRejectedWithTheReason() {
        func problem(_ offsets: [Int], _ indices: [Int32], _ values: [Float], rows: Int = 2, columns: Int = 4) -> String? {
            if case .failure(let error) = SparseMatrix.make(rows: rows, columns: columns, rowOffsets: offsets, columnIndices: indices,
                                                            values: values) {
                return error.description
            }
            return nil
        }
        XCTAssertNil(problem([0, 1, 2], [3, 0], [1, 2]))
        XCTAssertEqual(problem([0, 1, 2], [4, 0], [1, 2]), "row 0 has column index 4, outside 0..<4")
        XCTAssertEqual(problem([0, 1, 2], [-1, 0], [1, 2]), "row 0 has column index -1, outside 0..<4")
        XCTAssertEqual(problem([0, 0, 2], [2, 1], [1, 2]), "row 1's column indices are not strictly increasing (2, then 1)")
        XCTAssertEqual(problem([0, 0, 2], [1, 1], [1, 2]), "row 1's column indices are not strictly increasing (1, then 1)")
        XCTAssertEqual(problem([0, 2, 1], [1, 2], [1, 2]), "row offsets must run from 0 to the 2 nonzeros")
        XCTAssertEqual(problem([0, 2, 1, 2], [1, 2], [1, 2], rows: 3), "row offsets fall at row 1")
        XCTAssertEqual(problem([0, 2], [1, 2], [1, 2]), "2 row offsets for 2 rows (expected 3)")
        XCTAssertEqual(problem([0, 1, 2], [1], [1, 2]), "1 column indices for 2 values")
    }
}
