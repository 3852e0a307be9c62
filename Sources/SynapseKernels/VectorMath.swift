// Vectorized transcendental functions on SIMD8<Float>.
//
// Foundation's exp/log are scalar library calls; these are branch-free polynomial
// approximations (Cephes single-precision coefficients) written only with lane-wise
// arithmetic, comparisons and integer bit tricks, so they vectorize on any x86-64
// or ARM target without per-lane calls. Accuracy is within a few ulp over the
// normal Float range.

import CSynapse

public typealias FloatVector = SIMD8<Float>

@usableFromInline let roundingMagic: Float = 12_582_912  // 1.5 * 2^23: adding it rounds to an integer

@inlinable @inline(__always)
func bitPattern(_ x: FloatVector) -> SIMD8<UInt32> { unsafeBitCast(x, to: SIMD8<UInt32>.self) }

@inlinable @inline(__always)
func floats(bitPattern bits: SIMD8<UInt32>) -> FloatVector { unsafeBitCast(bits, to: FloatVector.self) }

public enum VectorMath {
    /// Lane-wise minimum and maximum by compare and blend. The standard library's
    /// `pointwiseMin`/`pointwiseMax` compile to a call per vector here; these stay inline. A
    /// NaN in `x` is kept (callers that care handle NaN themselves).
    @usableFromInline @inline(__always)
    static func lesser(_ x: FloatVector, _ y: FloatVector) -> FloatVector { x.replacing(with: y, where: y .< x) }

    @usableFromInline @inline(__always)
    static func greater(_ x: FloatVector, _ y: FloatVector) -> FloatVector { x.replacing(with: y, where: y .> x) }

    /// p · x + c, a polynomial's Horner step (one fused multiply-add where the target has FMA).
    @usableFromInline @inline(__always)
    static func horner(_ p: FloatVector, _ x: FloatVector, _ c: Float) -> FloatVector {
        multiplyAdd(FloatVector(repeating: c), p, x)
    }

    /// |x| for every lane, by clearing the sign bit.
    @inlinable @inline(__always)
    public static func abs(_ x: FloatVector) -> FloatVector {
        floats(bitPattern: bitPattern(x) & 0x7fff_ffff)
    }

    /// e^x for every lane. Underflows to 0 below about -87.3 (so exp(-inf) == 0), overflows to +inf above 88.7.
    @inlinable @inline(__always)
    public static func exp(_ x: FloatVector) -> FloatVector {
        let clamped = greater(lesser(x, FloatVector(repeating: 88.3762626647949)), FloatVector(repeating: -87.33654475))
        // n = round(x / ln 2), computed with the magic-number trick so no rounding instruction is needed.
        let shifted = clamped * FloatVector(repeating: 1.44269504088896341) + FloatVector(repeating: roundingMagic)
        let n = shifted - FloatVector(repeating: roundingMagic)
        var r = clamped - n * FloatVector(repeating: 0.693359375)
        r = r - n * FloatVector(repeating: -2.12194440e-4)
        var p = FloatVector(repeating: 1.9875691500e-4)
        p = horner(p, r, 1.3981999507e-3)
        p = horner(p, r, 8.3334519073e-3)
        p = horner(p, r, 4.1665795894e-2)
        p = horner(p, r, 1.6666665459e-1)
        p = horner(p, r, 5.0000001201e-1)
        p = p * (r * r) + r + FloatVector(repeating: 1)
        let integerN = SIMD8<Int32>(truncatingIfNeeded: bitPattern(shifted) &- roundingMagic.bitPattern)
        let scale = floats(bitPattern: SIMD8<UInt32>(truncatingIfNeeded: (integerN &+ 127) &<< 23))
        var result = p * scale
        result.replace(with: 0, where: x .< FloatVector(repeating: -87.33654475))
        result.replace(with: Float.infinity, where: x .> FloatVector(repeating: 88.7228391))
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// Natural logarithm for every lane: -inf at 0, NaN below 0, +inf at +inf. Denormal inputs are treated as 0.
    @inlinable @inline(__always)
    public static func log(_ x: FloatVector) -> FloatVector {
        let bits = bitPattern(x)
        // The biased exponent b (0...255) as a float: 2²³ + b has b in its mantissa bits. The
        // generic integer-to-float initializer would be a call per vector.
        var exponent = floats(bitPattern: 0x4B00_0000 | ((bits &>> 23) & 0xff)) - FloatVector(repeating: 8_388_608 + 126)
        var m = floats(bitPattern: (bits & 0x807f_ffff) | 0x3f00_0000)
        let small = m .< FloatVector(repeating: 0.707106781186547524)
        exponent.replace(with: exponent - 1, where: small)
        m = m.replacing(with: m + m, where: small) - 1
        let z = m * m
        var y = FloatVector(repeating: 7.0376836292e-2)
        y = horner(y, m, -1.1514610310e-1)
        y = horner(y, m, 1.1676998740e-1)
        y = horner(y, m, -1.2420140846e-1)
        y = horner(y, m, 1.4249322787e-1)
        y = horner(y, m, -1.6668057665e-1)
        y = horner(y, m, 2.0000714765e-1)
        y = horner(y, m, -2.4999993993e-1)
        y = horner(y, m, 3.3333331174e-1)
        y = y * m * z
        y = y + exponent * FloatVector(repeating: -2.12194440e-4)
        y = y - z * FloatVector(repeating: 0.5)
        var result = m + y + exponent * FloatVector(repeating: 0.693359375)
        result.replace(with: -Float.infinity, where: x .< FloatVector(repeating: Float.leastNormalMagnitude))
        result.replace(with: Float.nan, where: x .< 0)
        result.replace(with: Float.infinity, where: x .== FloatVector(repeating: Float.infinity))
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// Hyperbolic tangent: a polynomial near zero (keeps relative accuracy), 1 - 2/(e^{2|x|}+1) elsewhere.
    @inlinable @inline(__always)
    public static func tanh(_ x: FloatVector) -> FloatVector {
        let magnitude = lesser(Self.abs(x), FloatVector(repeating: 9.02))
        let e = exp(magnitude + magnitude)
        var large = 1 - 2 / (e + 1)
        large.replace(with: -large, where: x .< 0)
        let z = x * x
        var p = FloatVector(repeating: -5.70498872745e-3)
        p = horner(p, z, 2.06390887954e-2)
        p = horner(p, z, -5.37397155531e-2)
        p = horner(p, z, 1.33314422036e-1)
        p = horner(p, z, -3.33332819422e-1)
        let smallResult = x + x * z * p
        return smallResult.replacing(with: large, where: magnitude .>= FloatVector(repeating: 0.625))
    }

    /// Logistic sigmoid 1 / (1 + e^-x).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: FloatVector) -> FloatVector {
        1 / (1 + exp(-x))
    }

    /// Error function (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7).
    @inlinable @inline(__always)
    public static func erf(_ x: FloatVector) -> FloatVector {
        let a = Self.abs(x)
        let t = 1 / (1 + FloatVector(repeating: 0.3275911) * a)
        var p = FloatVector(repeating: 1.061405429)
        p = horner(p, t, -1.453152027)
        p = horner(p, t, 1.421413741)
        p = horner(p, t, -0.284496736)
        p = horner(p, t, 0.254829592)
        var result = 1 - p * t * exp(-a * a)
        result.replace(with: -result, where: x .< 0)
        return result
    }

    /// Exact (erf-based) GELU, as PyTorch's default: x · Φ(x).
    @inlinable @inline(__always)
    public static func gelu(_ x: FloatVector) -> FloatVector {
        FloatVector(repeating: 0.5) * x * (1 + erf(x * FloatVector(repeating: 0.70710678118654752)))
    }

    /// d gelu / dx = Φ(x) + x · φ(x).
    @inlinable @inline(__always)
    public static func geluDerivative(_ x: FloatVector) -> FloatVector {
        let cdf = FloatVector(repeating: 0.5) * (1 + erf(x * FloatVector(repeating: 0.70710678118654752)))
        let pdf = FloatVector(repeating: 0.3989422804014327) * exp(FloatVector(repeating: -0.5) * x * x)
        return cdf + x * pdf
    }
}
