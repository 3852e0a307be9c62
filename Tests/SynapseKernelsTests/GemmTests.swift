import Foundation
import XCTest
@testable import SynapseKernels

/// GEMM against a float64 naive reference: odd sizes, every transpose, overwrite and accumulate.
final class GemmTests: XCTestCase {
    private func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(($0 * 7919 + seed * 104_729) % 2001) / 1000 - 1 }
    }

    override func tearDown() {
        Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    func testAllTransposesAtOddSizesAndThreadCounts() {
        let sizes = [(1, 1, 1), (1, 17, 5), (13, 1, 7), (7, 9, 1), (33, 29, 131), (8, 16, 8), (65, 3, 300), (9, 1030, 270),
                     (29, 10, 800), (20, 16, 50), (100, 15, 64), (37, 6, 40), (21, 7, 30), (18, 12, 20), (40, 13, 17),
                     (70, 10, 800), (64, 12, 40), (96, 2, 9), (200, 10, 300), (100, 40, 200)]
        for threads in [1, 2, 3] {
        Kernels.threadCount = threads
        for (m, n, k) in sizes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for accumulate in [false, true] {
                        check(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, accumulate: accumulate)
                    }
                }
            }
        }
        }
    }

    /// Shapes that cross the blocking: more rows than one packed slab of A, several column
    /// blocks of B and several depth blocks, split over threads by rows and by columns.
    func testShapesThatCrossBlockBoundaries() {
        for threads in [1, 2, 3] {
            Kernels.threadCount = threads
            for (m, n, k) in [(3080, 40, 5), (40, 1100, 390)] {
                check(m: m, n: n, k: k, transposeA: false, transposeB: false, accumulate: true)
                check(m: m, n: n, k: k, transposeA: true, transposeB: true, accumulate: false)
            }
        }
    }

    func testDotProductGemmMatchesReference() {
        for threads in [1, 2, 3] {
            Kernels.threadCount = threads
            for (m, n, k) in [(1, 1, 1), (5, 7, 33), (4, 4, 16), (9, 3, 2100), (64, 30, 700)] {
                let a = values(m * k, seed: 6), b = values(n * k, seed: 7)
                var c = values(m * n, seed: 8)
                let initial = c
                Kernels.gemmDotProducts(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &c, ldc: n, accumulate: true)
                for i in 0..<m {
                    for j in 0..<n {
                        var expected = Double(initial[i * n + j])
                        for p in 0..<k { expected += Double(a[i * k + p]) * Double(b[j * k + p]) }
                        XCTAssertEqual(Double(c[i * n + j]), expected, accuracy: 1e-4 * Double(k + 1), "\(m)×\(n)×\(k) at (\(i), \(j))")
                    }
                }
            }
        }
    }

    func testResultsAreBitwiseIdenticalAcrossThreadCounts() {
        // Threads split the first shape's columns and the second's rows; the third's B is read
        // in place, so its rows are split evenly.
        for (m, n, k, transposeB) in [(97, 300, 517, true), (300, 97, 517, true), (130, 64, 300, false)] {
            let a = values(m * k, seed: 4), b = values(k * n, seed: 5)
            var results: [[Float]] = []
            for threads in [1, 2, 3] {
                Kernels.threadCount = threads
                var c = [Float](repeating: 0, count: m * n)
                Kernels.gemm(transposeA: false, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: transposeB ? k : n,
                             c: &c, ldc: n, accumulate: false)
                results.append(c)
            }
            XCTAssertEqual(results[0], results[1], "\(m)×\(n)×\(k)")
            XCTAssertEqual(results[0], results[2], "\(m)×\(n)×\(k)")
        }
    }

    /// A B packed once gives bitwise the same products as packing it per call, at every
    /// thread count: narrow, ragged, several column blocks and several depth blocks.
    func testPrepackedOperandMatchesPackingPerCall() {
        for (m, n, k) in [(32, 1024, 256), (32, 256, 1024), (5, 12, 7), (13, 37, 3), (40, 1100, 390), (3, 33, 800)] {
            for transposeB in [false, true] {
                let a = values(m * k, seed: 9), b = values(k * n, seed: 10)
                let ldb = transposeB ? k : n
                let packed = b.withUnsafeBufferPointer {
                    Kernels.packGemmOperand(transposeB: transposeB, k: k, n: n, b: $0.baseAddress!, ldb: ldb)
                }
                for threads in [1, 2, 3] {
                    Kernels.threadCount = threads
                    for accumulate in [false, true] {
                        var expected = values(m * n, seed: 11), actual = expected
                        Kernels.gemm(transposeA: false, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: ldb,
                                     c: &expected, ldc: n, accumulate: accumulate)
                        Kernels.gemm(transposeA: false, m: m, a: a, lda: k, packedB: packed, c: &actual, ldc: n, accumulate: accumulate)
                        XCTAssertEqual(actual, expected, "\(m)×\(n)×\(k) transposeB \(transposeB) threads \(threads)")
                    }
                }
            }
        }
    }

    private func check(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool) {
        let a = values(m * k, seed: 1), b = values(k * n, seed: 2)
        var c = values(m * n, seed: 3)
        let initial = c
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        Kernels.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                     a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: n, accumulate: accumulate)
        for i in 0..<m {
            for j in 0..<n {
                var expected = accumulate ? Double(initial[i * n + j]) : 0
                for p in 0..<k {
                    let aip = transposeA ? a[p * m + i] : a[i * k + p]
                    let bpj = transposeB ? b[j * k + p] : b[p * n + j]
                    expected += Double(aip) * Double(bpj)
                }
                XCTAssertEqual(Double(c[i * n + j]), expected, accuracy: 1e-4 * Double(k + 1),
                               "m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB) at (\(i), \(j))")
            }
        }
    }
}
