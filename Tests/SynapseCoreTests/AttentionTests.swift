import XCTest
@testable import SynapseCore
import SynapseKernels

/// The fused attention op against the plain composition matmul → softmax → matmul.
final class AttentionTests: XCTestCase {
    override func tearDown() {
        Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    /// softmax(scale · q kᵀ + additive) v, op by op. Masked entries get −1e9 rather than −∞ so
    /// the reference's own gradients stay finite.
    private func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, allowed: Tensor?, scale: Float) -> Tensor {
        var scores = q.matmul(k.transposed(-2, -1)) * scale
        if let allowed { scores = scores + (1 - allowed) * -1e9 }
        return scores.softmax(axis: -1).matmul(v)
    }

    /// 1 where j ≤ i + offset.
    private func causalMask(_ tq: Int, _ tk: Int, offset: Int = 0) -> Tensor {
        Tensor((0..<tq).flatMap { i in (0..<tk).map { j in j <= i + offset ? Float(1) : 0 } }, shape: [tq, tk])
    }

    private func randomMask(_ shape: [Int], seed: UInt64) -> Tensor {
        var mask = Tensor.uniform(shape, seed: seed) .> 0.3
        // Keep key 0 visible everywhere so no row is fully masked (tested separately).
        mask.withUnsafeMutableBufferPointer { values in
            let tk = shape.last!
            for row in 0..<(values.count / tk) { values[row * tk] = 1 }
        }
        return mask
    }

    private func assertMatchesReference(shape: (b: Int, h: Int, tq: Int, tk: Int, d: Int, dv: Int), causal: Bool,
                                        mask: Tensor?, file: StaticString = #filePath, line: UInt = #line) {
        let q = Tensor.randn([shape.b, shape.h, shape.tq, shape.d], seed: 1).requiringGrad()
        let k = Tensor.randn([shape.b, shape.h, shape.tk, shape.d], seed: 2).requiringGrad()
        let v = Tensor.randn([shape.b, shape.h, shape.tk, shape.dv], seed: 3).requiringGrad()
        let weights = Tensor.randn([shape.b, shape.h, shape.tq, shape.dv], seed: 4)
        let fused = scaledDotProductAttention(q, k, v, mask: mask, causal: causal)
        (fused * weights).sum().backward()
        let fusedGradients = [q.grad!, k.grad!, v.grad!]
        q.zeroGrad(); k.zeroGrad(); v.zeroGrad()
        var allowed = mask.map { $0 .!= 0 }
        if causal {
            let triangle = causalMask(shape.tq, shape.tk)
            allowed = allowed.map { $0 * triangle } ?? triangle
        }
        let expected = reference(q, k, v, allowed: allowed, scale: 1 / Float(shape.d).squareRoot())
        (expected * weights).sum().backward()
        assertClose(fused, expected.scalars, shape: expected.shape, tolerance: 2e-5, file: file, line: line)
        for (name, (got, want)) in zip(["query", "key", "value"], zip(fusedGradients, [q.grad!, k.grad!, v.grad!])) {
            XCTAssertEqual(got.shape, want.shape, name, file: file, line: line)
            let error = zip(got.scalars, want.scalars).map { Swift.abs($0 - $1) }.max()!
            XCTAssertLessThan(error, 2e-4, "\(name) gradient", file: file, line: line)
        }
    }

    func testMatchesReferenceOverRaggedBlocks() {
        // 70 queries and 130 keys leave partial 64-blocks; D = 20 and Dv = 24 leave padded vectors.
        assertMatchesReference(shape: (2, 3, 70, 130, 20, 24), causal: false, mask: nil)
        assertMatchesReference(shape: (1, 2, 5, 3, 8, 8), causal: false, mask: nil)
    }

    func testCausalMatchesReference() {
        assertMatchesReference(shape: (2, 2, 130, 130, 32, 32), causal: true, mask: nil)
        // Top-left aligned with more keys than queries, as PyTorch's is_causal.
        assertMatchesReference(shape: (1, 2, 70, 150, 16, 16), causal: true, mask: nil)
    }

    func testBooleanMasksMatchReference() {
        assertMatchesReference(shape: (2, 3, 70, 90, 16, 16), causal: false, mask: randomMask([2, 1, 70, 90], seed: 5))
        assertMatchesReference(shape: (2, 3, 40, 90, 16, 16), causal: true, mask: randomMask([40, 90], seed: 6))
        assertMatchesReference(shape: (2, 3, 40, 70, 16, 16), causal: false, mask: randomMask([2, 3, 40, 70], seed: 7))
        // A key padding mask [B, 1, 1, Tk].
        let padding = Tensor((0..<2).flatMap { b in (0..<70).map { j in j < 70 - 20 * b ? Float(1) : 0 } },
                             shape: [2, 1, 1, 70])
        assertMatchesReference(shape: (2, 3, 40, 70, 16, 16), causal: false, mask: padding)
    }

    func testGradientsAgainstFiniteDifferences() {
        let inputs = [Tensor.randn([1, 2, 5, 4], seed: 1), Tensor.randn([1, 2, 7, 4], seed: 2),
                      Tensor.randn([1, 2, 7, 3], seed: 3)]
        let mask = randomMask([5, 7], seed: 4)
        let result = gradientCheck({ scaledDotProductAttention($0[0], $0[1], $0[2], mask: mask, causal: true) },
                                   at: inputs)
        XCTAssertTrue(result.passed, result.description)
    }

    func testFullyMaskedRowsGiveZerosAndNoNaN() {
        let q = Tensor.randn([1, 1, 3, 4], seed: 1).requiringGrad()
        let k = Tensor.randn([1, 1, 5, 4], seed: 2).requiringGrad()
        let v = Tensor.randn([1, 1, 5, 4], seed: 3).requiringGrad()
        var mask = Tensor.ones([3, 5])
        mask.withUnsafeMutableBufferPointer { for j in 0..<5 { $0[5 + j] = 0 } }
        let out = scaledDotProductAttention(q, k, v, mask: mask)
        XCTAssertEqual(Array(out.scalars[4..<8]), [0, 0, 0, 0])
        out.sum().backward()
        XCTAssertFalse(q.grad!.scalars.contains { $0.isNaN } || k.grad!.scalars.contains { $0.isNaN })
        XCTAssertEqual(Array(q.grad!.scalars[4..<8]), [0, 0, 0, 0])
    }

    func testBitwiseIdenticalAtAnyThreadCount() {
        let q = Tensor.randn([2, 2, 130, 16], seed: 1), k = Tensor.randn([2, 2, 130, 16], seed: 2)
        let v = Tensor.randn([2, 2, 130, 16], seed: 3), g = Tensor.randn([2, 2, 130, 16], seed: 4)
        func run() -> [[Float]] {
            let (ql, kl, vl) = (q.requiringGrad(), k.requiringGrad(), v.requiringGrad())
            let out = scaledDotProductAttention(ql, kl, vl, causal: true)
            out.backward(g)
            return [out.scalars, ql.grad!.scalars, kl.grad!.scalars, vl.grad!.scalars]
        }
        Kernels.threadCount = 1
        let serial = run()
        for threads in [2, 3, 4] {
            Kernels.threadCount = threads
            XCTAssertEqual(run(), serial, "\(threads) threads")
        }
    }

    func testPackedHeadsMatchSeparateHeads() {
        // Heads side by side in a [B, T, 3E] projection, against the same heads permuted out.
        let (b, t, heads, d) = (2, 9, 3, 8), width = heads * d
        let projection = Tensor.randn([b, t, 3 * width], seed: 1).requiringGrad()
        let weights = Tensor.randn([b, t, width], seed: 2)
        let packed = multiHeadAttention(query: projection, queryColumn: 0, key: projection, keyColumn: width,
                                        value: projection, valueColumn: 2 * width, heads: heads, width: width,
                                        causalOffset: 0)
        (packed * weights).sum().backward()
        let packedGradient = projection.grad!
        projection.zeroGrad()
        func headsOf(_ part: Int) -> Tensor {
            projection.slice(axis: 2, start: part * width, end: (part + 1) * width)
                .reshaped([b, t, heads, d]).permuted([0, 2, 1, 3])
        }
        let separate = scaledDotProductAttention(headsOf(0), headsOf(1), headsOf(2), causal: true)
            .permuted([0, 2, 1, 3]).reshaped([b, t, width])
        (separate * weights).sum().backward()
        assertClose(packed, separate.scalars, shape: [b, t, width])
        assertClose(packedGradient, projection.grad!.scalars)
    }

    func testSelfAttentionOnOneTensorSumsItsGradients() {
        let x = Tensor.randn([1, 1, 6, 4], seed: 1)
        let result = gradientCheck({ scaledDotProductAttention($0[0], $0[0], $0[0]) }, at: [x])
        XCTAssertTrue(result.passed, result.description)
    }

    func testDropoutIsSeededScaledAndDifferentiable() {
        let q = Tensor.randn([2, 2, 64, 16], seed: 1), k = Tensor.randn([2, 2, 64, 16], seed: 2)
        let v = Tensor.ones([2, 2, 64, 16])
        GlobalRandom.seed(3)
        let first = scaledDotProductAttention(q, k, v, dropout: 0.5)
        GlobalRandom.seed(3)
        XCTAssertEqual(scaledDotProductAttention(q, k, v, dropout: 0.5).scalars, first.scalars)
        // With v = 1 every output is Σ kept weights / (1 − p): about 1 on average, not always 1.
        let mean = first.mean().item
        XCTAssertEqual(mean, 1, accuracy: 0.05)
        XCTAssertTrue(first.scalars.contains { Swift.abs($0 - 1) > 0.1 })
        let small = [Tensor.randn([1, 1, 4, 3], seed: 4), Tensor.randn([1, 1, 6, 3], seed: 5),
                     Tensor.randn([1, 1, 6, 2], seed: 6)]
        let result = gradientCheck({ inputs in
            GlobalRandom.seed(9)
            return scaledDotProductAttention(inputs[0], inputs[1], inputs[2], dropout: 0.3)
        }, at: small)
        XCTAssertTrue(result.passed, result.description)
    }
}

/// The key-value cache against attention over the whole sequence at once.
final class KeyValueCacheTests: XCTestCase {
    func testTokenByTokenEqualsWholeSequence() throws {
        let (t, heads, width) = (10, 2, 8)
        let projection = Tensor.randn([1, t, 3 * width], seed: 1)
        let whole = multiHeadAttention(query: projection, key: projection, keyColumn: width, value: projection,
                                       valueColumn: 2 * width, heads: heads, width: width, causalOffset: 0)
        // A chunk of 4 rows makes the storage grow twice on the way.
        let cache = KeyValueCache(width: width, heads: heads, capacity: t, chunkLength: 4)
        // The first three tokens at once (a prompt), then one at a time.
        var rows: [Float] = []
        var start = 0
        for end in [3] + Array(4...t) {
            let step = projection.slice(axis: 1, start: start, end: end)
            try cache.append(step, keyColumn: width, valueColumn: 2 * width)
            rows += cache.attend(step).scalars
            start = end
        }
        XCTAssertEqual(cache.length, t)
        assertClose(Tensor(rows, shape: [1, t, width]), whole.scalars, tolerance: 1e-6)
    }

    func testAppendingPastTheCapacityIsAnError() throws {
        let cache = KeyValueCache(width: 4, heads: 1, capacity: 3)
        try cache.append(Tensor.randn([1, 2, 8], seed: 1), keyColumn: 0, valueColumn: 4)
        XCTAssertThrowsError(try cache.append(Tensor.randn([1, 2, 8], seed: 2), keyColumn: 0, valueColumn: 4)) { error in
            XCTAssertTrue("\(error)".contains("holds 3 tokens; 2 are cached and 2 more do not fit"), "\(error)")
        }
        cache.reset()
        XCTAssertNoThrow(try cache.append(Tensor.randn([1, 3, 8], seed: 3), keyColumn: 0, valueColumn: 4))
    }
}
