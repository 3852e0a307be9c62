// acc + a · b on vectors of floats: the inner step of the product kernels and of the
// polynomials in the vector math.

import CSynapse

/// acc + a · b, fused when the build targets a CPU with FMA. Without a CPU target Swift lowers
/// `addingProduct` to one scalar `fmaf` call per lane, so the baseline build multiplies and
/// adds; the check folds at compile time. Debug builds call a C helper instead, since Swift's
/// unspecialized SIMD operators would go lane by lane (see CSynapse.h).
@inline(__always)
func multiplyAdd(_ acc: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    #if DEBUG
    return synapse_multiply_add8(acc, a, b)
    #else
    if synapse_target_has_fma() != 0 { return acc.addingProduct(a, b) }
    return acc + a * b
    #endif
}

/// acc + a · b on 16 floats, as the 8-float `multiplyAdd`.
@inline(__always)
func multiplyAdd(_ acc: SIMD16<Float>, _ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    #if DEBUG
    return synapse_multiply_add16(acc, a, b)
    #else
    if synapse_target_has_fma() != 0 { return acc.addingProduct(a, b) }
    return acc + a * b
    #endif
}
