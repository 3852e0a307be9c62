import Foundation
import XCTest
import Synapse

/// The Fréchet distance against closed forms for Gaussians with known means and covariances.
final class FrechetDistanceTests: XCTestCase {
    private func diagonal(_ values: [Double]) -> [Double] {
        var matrix = [Double](repeating: 0, count: values.count * values.count)
        for (i, value) in values.enumerated() { matrix[i * values.count + i] = value }
        return matrix
    }

    /// R A Rᵀ for a rotation R of the plane (axes 0 and 1) by `angle`, then of axes 1 and 2.
    private func rotated(_ a: [Double], _ angle: Double) -> [Double] {
        let d = 3
        var r = diagonal([1, 1, 1])
        let (c, s) = (cos(angle), sin(angle))
        let first: [Double] = [c, -s, 0, s, c, 0, 0, 0, 1], second: [Double] = [1, 0, 0, 0, c, -s, 0, s, c]
        func product(_ x: [Double], _ y: [Double]) -> [Double] {
            (0..<d * d).map { index in (0..<d).reduce(0) { $0 + x[index / d * d + $1] * y[$1 * d + index % d] } }
        }
        r = product(first, second)
        let transpose = (0..<d * d).map { r[$0 % d * d + $0 / d] }
        return product(product(r, a), transpose)
    }

    func testDiagonalAndCommonlyRotatedCovariances() {
        let a = GaussianStatistics(mean: [0, 1, 2], covariance: diagonal([1, 4, 9]))
        let b = GaussianStatistics(mean: [1, 1, 0], covariance: diagonal([4, 1, 1]))
        // ‖Δμ‖² = 5; per axis σ₁² + σ₂² − 2σ₁σ₂ = 1, 1, 4.
        XCTAssertEqual(a.frechetDistance(to: b), 11, accuracy: 1e-9)
        XCTAssertEqual(a.frechetDistance(to: a), 0, accuracy: 1e-9)
        // Rotating both covariances alike leaves the trace term unchanged.
        let ra = GaussianStatistics(mean: [0, 0, 0], covariance: rotated(diagonal([1, 4, 9]), 0.7))
        let rb = GaussianStatistics(mean: [0, 0, 0], covariance: rotated(diagonal([4, 1, 1]), 0.7))
        XCTAssertEqual(ra.frechetDistance(to: rb), 6, accuracy: 1e-9)
    }

    func testCovariancesThatDoNotCommute() {
        // Σ₁ = diag(1, 4), Σ₂ = [[2, 1], [1, 2]]: Σ₁Σ₂ = [[2, 1], [4, 8]] has eigenvalues 5 ± √13.
        let a = GaussianStatistics(mean: [0, 0], covariance: [1, 0, 0, 4])
        let b = GaussianStatistics(mean: [0, 0], covariance: [2, 1, 1, 2])
        let expected = 9 - 2 * ((5 + 13.0.squareRoot()).squareRoot() + (5 - 13.0.squareRoot()).squareRoot())
        XCTAssertEqual(a.frechetDistance(to: b), expected, accuracy: 1e-9)
        XCTAssertEqual(b.frechetDistance(to: a), expected, accuracy: 1e-9, "the distance is symmetric")
        // A singular covariance (all mass on one line) is fine.
        let line = GaussianStatistics(mean: [0, 0], covariance: [1, 1, 1, 1])
        XCTAssertEqual(line.frechetDistance(to: line), 0, accuracy: 1e-7)
    }

    func testStatisticsOfFeaturesAreTheSampleMeanAndUnbiasedCovariance() {
        let statistics = GaussianStatistics(features: Tensor([[1, 2], [3, 6], [5, 7]]))
        XCTAssertEqual(statistics.mean, [3, 5])
        XCTAssertEqual(statistics.covariance, [4, 5, 5, 7])
        // Samples of N(μ, Σ) give a distance near 0 to the exact statistics.
        let n = 20_000
        let z = Tensor.randn([n, 2], seed: 3).scalars
        var samples = [Float]()
        for i in 0..<n {  // x = μ + L z with L the Cholesky factor of [[2, 1], [1, 2]].
            let (z0, z1) = (Double(z[2 * i]), Double(z[2 * i + 1]))
            samples += [Float(1 + 2.0.squareRoot() * z0), Float(-1 + (0.5.squareRoot()) * z0 + 1.5.squareRoot() * z1)]
        }
        let fitted = GaussianStatistics(features: Tensor(samples, shape: [n, 2]))
        XCTAssertLessThan(fitted.frechetDistance(to: GaussianStatistics(mean: [1, -1], covariance: [2, 1, 1, 2])), 0.01)
    }
}
