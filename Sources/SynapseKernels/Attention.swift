// Fused scaled dot-product attention: softmax(scale · Q Kᵀ + bias) V in one pass over key
// blocks, forward and backward, without materialising the T × T matrix.
//
// The forward runs, for each block of 64 query rows, over blocks of 64 keys with an online
// softmax (a running maximum and sum per row), and keeps each row's log-sum-exp. The backward
// recomputes every tile's probabilities from the log-sum-exp, as FlashAttention-2 and PyTorch's
// CPU kernel do. Blocks of keys that a causal mask hides entirely are never visited.
//
// Operands are addressed through strides, so heads can be read straight out of a [B, T, 3E]
// projection and written into a [B, T, E] result with no permute copies. Each tile is padded
// to whole vectors in scratch, so the inner products never need partial loads.

import CSynapse
import Foundation

/// Where the rows of one attention operand live: element d of row t of head h in batch b is at
/// `base[b · batchStride + h · headStride + t · rowStride + d]`. A row's elements are contiguous.
public struct StridedHeads {
    public var base: UnsafeMutablePointer<Float>
    public var batchStride: Int, headStride: Int, rowStride: Int

    public init(base: UnsafeMutablePointer<Float>, batchStride: Int, headStride: Int, rowStride: Int) {
        self.base = base
        self.batchStride = batchStride
        self.headStride = headStride
        self.rowStride = rowStride
    }

    @inline(__always)
    func row(_ batch: Int, _ head: Int, _ t: Int) -> UnsafeMutablePointer<Float> {
        base + batch * batchStride + head * headStride + t * rowStride
    }
}

/// The sizes and options of one attention call.
public struct AttentionProblem {
    public var batch: Int, heads: Int, queryLength: Int, keyLength: Int
    /// The width of queries and keys, and of values (and so of the output).
    public var depth: Int, valueDepth: Int
    public var scale: Float
    /// With a causal mask, query i sees key j only where j ≤ i + causalOffset: 0 is PyTorch's
    /// top-left aligned `is_causal`; keyLength − queryLength aligns the last query with the last
    /// key, as generation with a key-value cache needs.
    public var causalOffset: Int?
    /// An additive bias (0 or −∞ for a boolean mask), dense queryLength × keyLength for each
    /// batch and head; a stride of 0 broadcasts it over that axis.
    public var bias: UnsafePointer<Float>?
    public var biasBatchStride: Int, biasHeadStride: Int
    /// The probability of zeroing each attention weight; kept weights are scaled by 1 / (1 − p).
    /// Which weights drop depends only on `seed` and the element's position.
    public var dropout: Float
    public var seed: UInt64

    public init(batch: Int, heads: Int, queryLength: Int, keyLength: Int, depth: Int, valueDepth: Int, scale: Float,
                causalOffset: Int? = nil, bias: UnsafePointer<Float>? = nil, biasBatchStride: Int = 0,
                biasHeadStride: Int = 0, dropout: Float = 0, seed: UInt64 = 0) {
        self.batch = batch
        self.heads = heads
        self.queryLength = queryLength
        self.keyLength = keyLength
        self.depth = depth
        self.valueDepth = valueDepth
        self.scale = scale
        self.causalOffset = causalOffset
        self.bias = bias
        self.biasBatchStride = biasBatchStride
        self.biasHeadStride = biasHeadStride
        self.dropout = dropout
        self.seed = seed
    }

    /// The columns of key block [j0, j0 + width) that query row i may see: a prefix, since a
    /// causal mask hides every key past i + offset.
    @inline(__always)
    func visibleColumns(row i: Int, blockStart j0: Int, width: Int) -> Int {
        guard let offset = causalOffset else { return width }
        return max(0, min(width, i + offset - j0 + 1))
    }

    /// One past the last key any of the query rows [i0, i1) may see.
    @inline(__always)
    func keyEnd(rowsUpTo i1: Int) -> Int {
        guard let offset = causalOffset else { return keyLength }
        return max(0, min(keyLength, i1 + offset))
    }

    @inline(__always)
    func biasRow(_ b: Int, _ h: Int, _ i: Int) -> UnsafePointer<Float>? {
        bias.map { $0 + b * biasBatchStride + h * biasHeadStride + i * keyLength }
    }
}

/// Rows of queries per block, and keys per block in the forward and the backward. The forward's
/// wider key blocks halve its per-block softmax bookkeeping; the backward keeps five tiles of
/// keys live at once, so its blocks stay narrower.
let attentionQueryBlock = 64, attentionForwardKeyBlock = 128, attentionBackwardKeyBlock = 64

@inline(__always)
func roundUpToTile(_ n: Int) -> Int { (n + tileColumns - 1) / tileColumns * tileColumns }

/// A 32-bit integer hash with good avalanche (Chris Wellons' lowbias32), lane-wise.
@inline(__always)
private func mix(_ x: SIMD8<UInt32>) -> SIMD8<UInt32> {
    var x = x
    x ^= x &>> 16
    x &*= 0x7feb_352d
    x ^= x &>> 15
    x &*= 0x846c_a68b
    x ^= x &>> 16
    return x
}

/// 1 / (1 − p) where attention dropout keeps weight (i, j) of head `head`, else 0, for the eight
/// keys starting at `column`. A pure function of the seed and the position, so the backward
/// regenerates exactly the forward's mask.
@inline(__always)
private func dropoutFactors(_ problem: AttentionProblem, head: Int, row: Int, column: Int) -> FloatVector {
    let seedLow = UInt32(truncatingIfNeeded: problem.seed), seedHigh = UInt32(truncatingIfNeeded: problem.seed >> 32)
    let rowKey = mix(SIMD8(repeating: UInt32(truncatingIfNeeded: row) &* 0x9e37_79b1
        ^ UInt32(truncatingIfNeeded: head) &* 0x85eb_ca77 ^ seedLow))
    let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7) &+ UInt32(truncatingIfNeeded: column)
    let bits = mix(mix(lanes ^ rowKey) ^ SIMD8(repeating: seedHigh))
    // The top 23 bits as a float uniform on [1, 2): Swift compares float vectors in one
    // instruction but builds integer-vector masks lane by lane.
    let uniform = unsafeBitCast((bits &>> 9) | SIMD8(repeating: 0x3f80_0000), to: FloatVector.self)
    let keep = FloatVector(repeating: 1 / (1 - problem.dropout))
    return keep.replacing(with: 0, where: uniform .< FloatVector(repeating: 1 + problem.dropout))
}

typealias ScoreVector = SIMD16<Float>

/// log₂ e: scores times this are base-2 logits.
private let log2e: Float = 1.442_695_04

@inline(__always)
private func load(_ p: UnsafePointer<Float>) -> ScoreVector { UnsafeRawPointer(p).loadUnaligned(as: ScoreVector.self) }

@inline(__always)
private func store(_ v: ScoreVector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: ScoreVector.self)
}

@inline(__always)
private func horizontalMax(_ v: ScoreVector) -> Float {
    let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
    let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .> a.lowHalf)
    let c = b.lowHalf.replacing(with: b.highHalf, where: b.highHalf .> b.lowHalf)
    return max(c[0], c[1])
}

@inline(__always)
private func horizontalSum(_ v: ScoreVector) -> Float {
    let a = v.lowHalf + v.highHalf, b = a.lowHalf + a.highHalf, c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// 2^x for x ≤ 0, as softmax needs (x up to 127 also works; beyond, the result is garbage):
/// 2^round(x) from the exponent bits times a degree-6 Taylor polynomial of 2^f on |f| ≤ ½
/// (relative error below 2·10⁻⁷). Below −126 the result is 0, so −∞ maps to 0.
@inline(__always)
private func exp2(_ x: ScoreVector) -> ScoreVector {
    let low = ScoreVector(repeating: -126)
    let clamped = x.replacing(with: low, where: x .< low)
    let magic = ScoreVector(repeating: roundingMagic)
    let shifted = clamped + magic
    let n = shifted - magic
    let f = clamped - n
    @inline(__always)
    func horner(_ p: ScoreVector, _ c: Float) -> ScoreVector {
        multiplyAdd(ScoreVector(repeating: c), p, f)
    }
    var p = ScoreVector(repeating: 1.540_353_0e-4)
    p = horner(p, 1.333_355_8e-3)
    p = horner(p, 9.618_129_1e-3)
    p = horner(p, 5.550_410_9e-2)
    p = horner(p, 2.402_265_1e-1)
    p = horner(p, 6.931_471_8e-1)
    p = horner(p, 1)
    let bits = unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- roundingMagic.bitPattern
    let scale = unsafeBitCast((bits &+ 127) &<< 23, to: ScoreVector.self)
    return (p * scale).replacing(with: 0, where: x .< low)
}

extension Kernels {
    /// The forward pass: `output` = softmax(scale · Q Kᵀ + bias) V for every batch and head, and
    /// `logSumExp` [batch · heads · queryLength] = log₂ Σ exp(scale · Q Kᵀ + bias) per query row
    /// (base 2, as the kernels compute), which the backward needs. A row that may see no key gets zeros and a log-sum-exp of −∞.
    public static func attentionForward(_ problem: AttentionProblem, query: StridedHeads, key: StridedHeads,
                                        value: StridedHeads, output: StridedHeads,
                                        logSumExp: UnsafeMutablePointer<Float>) {
        let p = problem
        guard p.batch > 0, p.heads > 0, p.queryLength > 0, p.valueDepth > 0 else { return }
        let queryBlocks = (p.queryLength + attentionQueryBlock - 1) / attentionQueryBlock
        let heads = p.batch * p.heads
        let work = heads * p.queryLength * p.keyLength * (p.depth + p.valueDepth)
        let parallel = work >= 1 << 18
        // Every query block reads all of its head's keys and values, so each head's Kᵀ and V
        // are padded and packed once up front rather than once per query block.
        let keyColumns = roundUpToTile(max(p.keyLength, 1))
        let dp = roundUpToTile(p.depth), dvp = roundUpToTile(p.valueDepth)
        let headSize = dp * keyColumns + keyColumns * dvp
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: heads * headSize)
        defer { packed.deallocate() }
        let pack = { (bh: Int) in
            let b = bh / p.heads, h = bh % p.heads, keysTransposed = packed + bh * headSize
            packTransposed(rows: p.keyLength, from: { key.row(b, h, $0) }, width: p.depth, into: keysTransposed,
                           paddedRows: keyColumns, paddedWidth: dp)
            let values = keysTransposed + dp * keyColumns
            packRows(rows: p.keyLength, from: { value.row(b, h, $0) }, width: p.valueDepth, into: values, paddedWidth: dvp)
            let padding = keyColumns - p.keyLength
            if padding > 0 { (values + p.keyLength * dvp).update(repeating: 0, count: padding * dvp) }
        }
        let runTask = { (task: Int) in
            let bh = task / queryBlocks, block = task % queryBlocks
            let keysTransposed = packed + bh * headSize
            attentionForwardBlock(p, batch: bh / p.heads, head: bh % p.heads, rows: block * attentionQueryBlock,
                                  query: query, keysTransposed: keysTransposed, keyColumns: keyColumns,
                                  values: keysTransposed + dp * keyColumns, output: output,
                                  logSumExp: logSumExp + bh * p.queryLength)
        }
        if parallel {
            parallelFor(heads, pack)
            parallelFor(heads * queryBlocks, runTask)
        } else {
            for bh in 0..<heads { pack(bh) }
            for task in 0..<(heads * queryBlocks) { runTask(task) }
        }
    }

    private static func attentionForwardBlock(_ p: AttentionProblem, batch b: Int, head h: Int, rows i0: Int,
                                              query: StridedHeads, keysTransposed: UnsafePointer<Float>, keyColumns: Int,
                                              values: UnsafePointer<Float>, output: StridedHeads,
                                              logSumExp: UnsafeMutablePointer<Float>) {
        let rows = min(attentionQueryBlock, p.queryLength - i0)
        let dp = roundUpToTile(p.depth), dvp = roundUpToTile(p.valueDepth), bk = attentionForwardKeyBlock
        let sizes = [rows * dp, rows * bk, rows * dvp, rows, rows]
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: sizes.reduce(0, +))
        defer { memory.deallocate() }
        let queries = memory, scores = queries + sizes[0], accumulator = scores + sizes[1]
        let maxima = accumulator + sizes[2], sums = maxima + sizes[3]
        packRows(rows: rows, from: { query.row(b, h, i0 + $0) }, width: p.depth, into: queries, paddedWidth: dp)
        // Scaled once here, the queries give base-2 logits straight out of the product.
        scaleRow(queries, count: rows * dp, by: p.scale * log2e)
        accumulator.update(repeating: 0, count: rows * dvp)
        maxima.update(repeating: -.infinity, count: rows)
        sums.update(repeating: 0, count: rows)
        let keyEnd = p.keyEnd(rowsUpTo: i0 + rows)
        var j0 = 0
        while j0 < keyEnd {
            let width = min(bk, keyEnd - j0), wp = roundUpToTile(width)
            tileProduct(m: rows, n: wp, k: dp, a: queries, lda: dp, b: keysTransposed + j0, ldb: keyColumns,
                        c: scores, ldc: bk, accumulate: false)
            for r in 0..<rows {
                let i = i0 + r
                let visible = p.visibleColumns(row: i, blockStart: j0, width: width)
                let s = scores + r * bk, bias = p.biasRow(b, h, i)
                let blockMax = visible == wp && bias == nil ? rowMaximum(s, count: wp)
                    : maskScores(s, paddedWidth: wp, visible: visible, factor: 1, bias: bias.map { $0 + j0 })
                let newMax = max(maxima[r], blockMax)
                guard newMax > -.infinity else {
                    s.update(repeating: 0, count: wp)
                    continue
                }
                let rescale = exp2f(maxima[r] - newMax)
                maxima[r] = newMax
                sums[r] = sums[r] * rescale + exponentiate(s, paddedWidth: wp, minus: newMax)
                if rescale != 1 { scaleRow(accumulator + r * dvp, count: dvp, by: rescale) }
                if p.dropout > 0 {
                    var c = 0
                    while c < wp {
                        storeVector(loadVector(s + c) * dropoutFactors(p, head: b * p.heads + h, row: i, column: j0 + c), s + c)
                        c += FloatVector.scalarCount
                    }
                }
            }
            tileProduct(m: rows, n: dvp, k: wp, a: scores, lda: bk, b: values + j0 * dvp, ldb: dvp,
                        c: accumulator, ldc: dvp, accumulate: true)
            j0 += bk
        }
        for r in 0..<rows {
            let destination = output.row(b, h, i0 + r)
            let sum = sums[r]
            if sum > 0 {
                let inverse = 1 / sum
                for c in 0..<p.valueDepth { destination[c] = accumulator[r * dvp + c] * inverse }
                logSumExp[i0 + r] = maxima[r] + log2f(sum)
            } else {
                destination.update(repeating: 0, count: p.valueDepth)
                logSumExp[i0 + r] = -.infinity
            }
        }
    }

    /// The backward pass: given the forward's `output`, `logSumExp` and the output's gradient,
    /// writes (overwrites) the gradients of the query, key and value. Threaded over batch × heads;
    /// each head's key and value gradients are summed over query blocks in a fixed order.
    public static func attentionBackward(_ problem: AttentionProblem, query: StridedHeads, key: StridedHeads,
                                         value: StridedHeads, output: StridedHeads, logSumExp: UnsafePointer<Float>,
                                         outputGradient: StridedHeads, queryGradient: StridedHeads,
                                         keyGradient: StridedHeads, valueGradient: StridedHeads) {
        let p = problem
        guard p.batch > 0, p.heads > 0 else { return }
        let tasks = p.batch * p.heads
        let work = tasks * p.queryLength * p.keyLength * (p.depth + p.valueDepth)
        let runTask = { (bh: Int) in
            attentionBackwardHead(p, batch: bh / p.heads, head: bh % p.heads, query: query, key: key, value: value,
                                  output: output, logSumExp: logSumExp + bh * p.queryLength,
                                  outputGradient: outputGradient, queryGradient: queryGradient,
                                  keyGradient: keyGradient, valueGradient: valueGradient)
        }
        if work >= 1 << 17 {
            parallelFor(tasks, runTask)
        } else {
            for task in 0..<tasks { runTask(task) }
        }
    }

    private static func attentionBackwardHead(_ p: AttentionProblem, batch b: Int, head h: Int, query: StridedHeads,
                                              key: StridedHeads, value: StridedHeads, output: StridedHeads,
                                              logSumExp: UnsafePointer<Float>, outputGradient: StridedHeads,
                                              queryGradient: StridedHeads, keyGradient: StridedHeads,
                                              valueGradient: StridedHeads) {
        let tq = p.queryLength, dp = roundUpToTile(p.depth), dvp = roundUpToTile(p.valueDepth)
        let bq = attentionQueryBlock, bk = attentionBackwardKeyBlock
        let sizes = [tq * dp, tq * dvp, tq, tq * dp, bk * dp, dp * bk, dvp * bk, bk * dp, bk * dvp,
                     bq * bk, bq * bk, bk * bq, bk * bq]
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: sizes.reduce(0, +))
        defer { memory.deallocate() }
        var cursor = memory
        func take(_ index: Int) -> UnsafeMutablePointer<Float> {
            defer { cursor += sizes[index] }
            return cursor
        }
        let queries = take(0), gradients = take(1), deltas = take(2), queryAccumulator = take(3)
        let keys = take(4), keysTransposed = take(5), valuesTransposed = take(6)
        let keyAccumulator = take(7), valueAccumulator = take(8)
        let probabilities = take(9), scores = take(10), probabilitiesTransposed = take(11), scoresTransposed = take(12)

        packRows(rows: tq, from: { query.row(b, h, $0) }, width: p.depth, into: queries, paddedWidth: dp)
        packRows(rows: tq, from: { outputGradient.row(b, h, $0) }, width: p.valueDepth, into: gradients, paddedWidth: dvp)
        for i in 0..<tq {
            let o = output.row(b, h, i), g = gradients + i * dvp
            var delta: Float = 0
            for c in 0..<p.valueDepth { delta += o[c] * g[c] }
            deltas[i] = delta
        }
        queryAccumulator.update(repeating: 0, count: tq * dp)
        var j0 = 0
        while j0 < p.keyLength {
            let width = min(bk, p.keyLength - j0), wp = roundUpToTile(width)
            packRows(rows: width, from: { key.row(b, h, j0 + $0) }, width: p.depth, into: keys, paddedWidth: dp)
            if wp > width { (keys + width * dp).update(repeating: 0, count: (wp - width) * dp) }
            packTransposed(rows: width, from: { key.row(b, h, j0 + $0) }, width: p.depth, into: keysTransposed,
                           paddedRows: wp, paddedWidth: dp)
            packTransposed(rows: width, from: { value.row(b, h, j0 + $0) }, width: p.valueDepth,
                           into: valuesTransposed, paddedRows: wp, paddedWidth: dvp)
            keyAccumulator.update(repeating: 0, count: wp * dp)
            valueAccumulator.update(repeating: 0, count: wp * dvp)
            // With a causal mask, query rows before j0 − offset see none of this block.
            let firstRow = p.causalOffset.map { max(0, j0 - $0) } ?? 0
            var i0 = firstRow / bq * bq
            while i0 < tq {
                let rows = min(bq, tq - i0)
                tileProduct(m: rows, n: wp, k: dp, a: queries + i0 * dp, lda: dp, b: keysTransposed, ldb: wp,
                            c: probabilities, ldc: bk, accumulate: false)
                tileProduct(m: rows, n: wp, k: dvp, a: gradients + i0 * dvp, lda: dvp, b: valuesTransposed, ldb: wp,
                            c: scores, ldc: bk, accumulate: false)
                for r in 0..<rows {
                    let i = i0 + r
                    let probability = probabilities + r * bk, score = scores + r * bk
                    let visible = p.visibleColumns(row: i, blockStart: j0, width: width)
                    let lse = logSumExp[i]
                    if lse == -.infinity {
                        probability.update(repeating: 0, count: wp)
                    } else {
                        recomputeProbabilities(probability, paddedWidth: wp, visible: visible, factor: p.scale * log2e,
                                               bias: p.biasRow(b, h, i).map { $0 + j0 }, logSumExp: lse)
                    }
                    // score ← P ∘ (dP′ − Δ), where dP′ is dP through the dropout mask; the
                    // probability row becomes the dropped-out weights that multiplied V.
                    let delta = FloatVector(repeating: deltas[i])
                    var c = 0
                    while c < wp {
                        var weights = loadVector(probability + c), upstream = loadVector(score + c)
                        let raw = weights
                        if p.dropout > 0 {
                            let factors = dropoutFactors(p, head: b * p.heads + h, row: i, column: j0 + c)
                            weights *= factors
                            upstream *= factors
                        }
                        storeVector(raw * (upstream - delta), score + c)
                        storeVector(weights, probability + c)
                        c += FloatVector.scalarCount
                    }
                }
                transposeTile(probabilities, rows: rows, columns: wp, stride: bk, into: probabilitiesTransposed)
                transposeTile(scores, rows: rows, columns: wp, stride: bk, into: scoresTransposed)
                tileProduct(m: wp, n: dvp, k: rows, a: probabilitiesTransposed, lda: rows, b: gradients + i0 * dvp,
                            ldb: dvp, c: valueAccumulator, ldc: dvp, accumulate: true)
                tileProduct(m: wp, n: dp, k: rows, a: scoresTransposed, lda: rows, b: queries + i0 * dp, ldb: dp,
                            c: keyAccumulator, ldc: dp, accumulate: true)
                tileProduct(m: rows, n: dp, k: wp, a: scores, lda: bk, b: keys, ldb: dp,
                            c: queryAccumulator + i0 * dp, ldc: dp, accumulate: true)
                i0 += bq
            }
            for r in 0..<width {
                let dk = keyGradient.row(b, h, j0 + r), dv = valueGradient.row(b, h, j0 + r)
                for c in 0..<p.depth { dk[c] = keyAccumulator[r * dp + c] * p.scale }
                for c in 0..<p.valueDepth { dv[c] = valueAccumulator[r * dvp + c] }
            }
            j0 += bk
        }
        for i in 0..<tq {
            let dq = queryGradient.row(b, h, i)
            for c in 0..<p.depth { dq[c] = queryAccumulator[i * dp + c] * p.scale }
        }
    }

    /// Turns a row of scores into base-2 logits, t = factor · s + log₂e · bias, with the columns
    /// past `visible` (masked or padding) at −∞, and returns the row's maximum. Working in base 2
    /// lets `exponentiate` use a short 2^x instead of a full e^x.
    @inline(__always)
    private static func maskScores(_ s: UnsafeMutablePointer<Float>, paddedWidth: Int, visible: Int, factor: Float,
                                   bias: UnsafePointer<Float>?) -> Float {
        let factor = ScoreVector(repeating: factor)
        var maximum = ScoreVector(repeating: -.infinity)
        var c = 0
        // Whole vectors of visible columns need no lane mask.
        while c + ScoreVector.scalarCount <= visible {
            var v = load(s + c) * factor
            if let bias { v += load(bias + c) * log2e }
            store(v, s + c)
            maximum = maximum.replacing(with: v, where: v .> maximum)
            c += ScoreVector.scalarCount
        }
        // Lane positions as floats: Swift lowers float comparisons to one vector compare but
        // builds integer-vector masks lane by lane.
        let lanes = ScoreVector(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        while c < paddedWidth {
            var v = load(s + c) * factor
            let available = visible - c
            if let bias, available > 0 {
                var partial = ScoreVector()
                for lane in 0..<min(available, ScoreVector.scalarCount) { partial[lane] = bias[c + lane] }
                v += partial * log2e
            }
            v.replace(with: -.infinity, where: lanes .>= ScoreVector(repeating: Float(available)))
            store(v, s + c)
            maximum = maximum.replacing(with: v, where: v .> maximum)
            c += ScoreVector.scalarCount
        }
        return horizontalMax(maximum)
    }

    /// The maximum of a row of logits that needs no mask.
    @inline(__always)
    private static func rowMaximum(_ s: UnsafePointer<Float>, count: Int) -> Float {
        var maximum = ScoreVector(repeating: -.infinity)
        var c = 0
        while c < count {
            let v = load(s + c)
            maximum = maximum.replacing(with: v, where: v .> maximum)
            c += ScoreVector.scalarCount
        }
        return horizontalMax(maximum)
    }

    /// The backward's probabilities in one pass over the raw scores: s ← 2^(t − lse) for the
    /// base-2 logits t of `maskScores`, 0 past `visible`.
    @inline(__always)
    private static func recomputeProbabilities(_ s: UnsafeMutablePointer<Float>, paddedWidth: Int, visible: Int,
                                               factor: Float, bias: UnsafePointer<Float>?, logSumExp: Float) {
        let factor = ScoreVector(repeating: factor), shift = ScoreVector(repeating: logSumExp)
        var c = 0
        while c + ScoreVector.scalarCount <= visible {
            var v = load(s + c) * factor
            if let bias { v += load(bias + c) * log2e }
            store(exp2(v - shift), s + c)
            c += ScoreVector.scalarCount
        }
        if c < paddedWidth {
            _ = maskScores(s + c, paddedWidth: paddedWidth - c, visible: visible - c, factor: factor[0],
                           bias: bias.map { $0 + c })
            _ = exponentiate(s + c, paddedWidth: paddedWidth - c, minus: logSumExp)
        }
    }

    /// s ← 2^(s − shift) in place (−∞ becomes 0); returns the row's sum.
    @inline(__always)
    private static func exponentiate(_ s: UnsafeMutablePointer<Float>, paddedWidth: Int, minus shift: Float) -> Float {
        var total = ScoreVector()
        var c = 0
        while c < paddedWidth {
            let e = exp2(load(s + c) - shift)
            store(e, s + c)
            total += e
            c += ScoreVector.scalarCount
        }
        return horizontalSum(total)
    }

    @inline(__always)
    private static func scaleRow(_ row: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var c = 0
        while c < count {
            storeVector(loadVector(row + c) * factor, row + c)
            c += FloatVector.scalarCount
        }
    }

    /// Copies `rows` rows of `width` floats into consecutive rows of `paddedWidth`, zeroing the padding.
    @inline(__always)
    private static func packRows(rows: Int, from source: (Int) -> UnsafeMutablePointer<Float>, width: Int,
                                 into destination: UnsafeMutablePointer<Float>, paddedWidth: Int) {
        for r in 0..<rows {
            let row = destination + r * paddedWidth
            row.update(from: source(r), count: width)
            if paddedWidth > width { (row + width).update(repeating: 0, count: paddedWidth - width) }
        }
    }

    /// Writes the transpose of `rows` source rows of `width` floats as `paddedWidth` rows of
    /// `paddedRows` floats, zeroing the padding in both directions.
    @inline(__always)
    private static func packTransposed(rows: Int, from source: (Int) -> UnsafeMutablePointer<Float>, width: Int,
                                       into destination: UnsafeMutablePointer<Float>, paddedRows: Int, paddedWidth: Int) {
        destination.update(repeating: 0, count: paddedWidth * paddedRows)
        for r in 0..<rows {
            let row = source(r)
            for c in 0..<width { destination[c * paddedRows + r] = row[c] }
        }
    }

    /// The transpose of a rows × columns tile with row stride `stride`, as columns × rows, dense.
    @inline(__always)
    private static func transposeTile(_ source: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int,
                                      into destination: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for c in 0..<columns { destination[c * rows + r] = source[r * stride + c] }
        }
    }
}
