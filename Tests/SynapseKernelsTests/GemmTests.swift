import XCTest
@testable import SynapseKernels

/// GEMM against a float64 naive reference: odd sizes, every transpose, overwrite and accumulate.
final class GemmTests: XCTestCase {
    private func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(($0 * 7919 + seed * 104_729) % 2001) / 1000 - 1 }
    }

    func testAllTransposesAtOddSizes() {
        let sizes = [(1, 1, 1), (1, 17, 5), (13, 1, 7), (7, 9, 1), (33, 29, 131), (8, 16, 8), (65, 3, 300)]
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
