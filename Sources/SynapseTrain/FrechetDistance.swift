// The Fréchet distance between two Gaussians fitted to feature vectors: FID, when the features
// come from a classifier's penultimate layer and the two sets are real and generated images.

import Foundation
import SynapseCore

/// The mean and covariance of a set of feature vectors, in double precision.
public struct GaussianStatistics: Sendable, Equatable {
    public let dimension: Int
    public let mean: [Double]
    /// Row-major dimension × dimension.
    public let covariance: [Double]

    public init(mean: [Double], covariance: [Double]) {
        precondition(covariance.count == mean.count * mean.count,
                     "GaussianStatistics: a covariance of \(covariance.count) entries does not fit a mean of \(mean.count)")
        dimension = mean.count
        self.mean = mean
        self.covariance = covariance
    }

    /// Fits `features` [N, D] (N ≥ 2): the sample mean and the unbiased (N − 1) covariance, as
    /// `numpy.cov(features, rowvar=False)` and the reference FID code compute them.
    public init(features: Tensor) {
        precondition(features.rank == 2 && features.shape[0] >= 2,
                     "GaussianStatistics: features must be [N, D] with N ≥ 2, got \(features.shape)")
        let n = features.shape[0], d = features.shape[1], values = features.scalars
        var mean = [Double](repeating: 0, count: d)
        for row in 0..<n { for j in 0..<d { mean[j] += Double(values[row * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var covariance = [Double](repeating: 0, count: d * d)
        var centred = [Double](repeating: 0, count: d)
        for row in 0..<n {
            for j in 0..<d { centred[j] = Double(values[row * d + j]) - mean[j] }
            for i in 0..<d where centred[i] != 0 {
                let ci = centred[i]
                for j in i..<d { covariance[i * d + j] += ci * centred[j] }
            }
        }
        for i in 0..<d {
            for j in i..<d {
                let value = covariance[i * d + j] / Double(n - 1)
                covariance[i * d + j] = value
                covariance[j * d + i] = value
            }
        }
        self.init(mean: mean, covariance: covariance)
    }

    /// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½). The trace of (Σ₁ Σ₂)^½ is the sum of the square
    /// roots of the eigenvalues of the symmetric Σ₁^½ Σ₂ Σ₁^½, which has the same spectrum, so
    /// no non-symmetric matrix square root is needed.
    public func frechetDistance(to other: GaussianStatistics) -> Double {
        precondition(dimension == other.dimension,
                     "frechetDistance: \(dimension)-dimensional statistics against \(other.dimension)-dimensional ones")
        let d = dimension
        var distance = zip(mean, other.mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        for i in 0..<d { distance += covariance[i * d + i] + other.covariance[i * d + i] }
        let root = SymmetricEigen(covariance, dimension: d).map { $0.squareRoot() }
        let product = multiply(multiply(root, other.covariance, d), root, d)
        let traceOfRoot = SymmetricEigen(product, dimension: d).values.reduce(0) { $0 + max($1, 0).squareRoot() }
        return distance - 2 * traceOfRoot
    }
}

private func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
    var c = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for k in 0..<d where a[i * d + k] != 0 {
            let aik = a[i * d + k]
            for j in 0..<d { c[i * d + j] += aik * b[k * d + j] }
        }
    }
    return c
}

/// The eigen-decomposition of a real symmetric matrix by cyclic Jacobi rotations, which stays
/// accurate for the nearly singular covariances that feature sets give.
struct SymmetricEigen {
    /// Eigenvalues, and the eigenvectors as the columns of a row-major matrix.
    let values: [Double], vectors: [Double], dimension: Int

    init(_ matrix: [Double], dimension d: Int) {
        var a = matrix, v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        let scale = max(a.reduce(0) { max($0, abs($1)) }, .leastNormalMagnitude)
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<d { for q in (p + 1)..<d { off = max(off, abs(a[p * d + q])) } }
            if off <= 1e-15 * scale { break }
            for p in 0..<d {
                for q in (p + 1)..<d where a[p * d + q] != 0 {
                    let apq = a[p * d + q]
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<d {
                        let akp = a[k * d + p], akq = a[k * d + q]
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {
                        let apk = a[p * d + k], aqk = a[q * d + k]
                        a[p * d + k] = c * apk - s * aqk
                        a[q * d + k] = s * apk + c * aqk
                    }
                    for k in 0..<d {
                        let vkp = v[k * d + p], vkq = v[k * d + q]
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        values = (0..<d).map { a[$0 * d + $0] }
        vectors = v
        dimension = d
    }

    /// V f(Λ) Vᵀ: `transform` applied to the eigenvalues (negative rounding noise clamped to 0).
    func map(_ transform: (Double) -> Double) -> [Double] {
        let d = dimension, f = values.map { transform(max($0, 0)) }
        var result = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0..<d {
                var total = 0.0
                for k in 0..<d { total += vectors[i * d + k] * f[k] * vectors[j * d + k] }
                result[i * d + j] = total
            }
        }
        return result
    }
}
