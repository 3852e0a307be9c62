// Scaled dot-product attention as one op with a hand-written backward (the fused kernel in
// SynapseKernels/Attention.swift), over [..., T, D] heads or over heads laid side by side in
// the last axis of [B, T, C] projections.

import SynapseKernels

/// softmax(scale · Q Kᵀ + mask) V, as `torch.nn.functional.scaled_dot_product_attention`.
///
/// - Parameters:
///   - query: [..., Tq, D]; `key` is [..., Tk, D] and `value` [..., Tk, Dv], with the same
///     leading axes (typically [B, heads]).
///   - mask: a boolean mask broadcastable to [..., Tq, Tk]: nonzero means "may attend".
///   - causal: hides key j from query i where j > i (top-left aligned, as PyTorch's `is_causal`).
///   - scale: defaults to 1/√D.
///   - dropout: the probability of dropping each attention weight (pass 0 outside training).
/// - Returns: [..., Tq, Dv]. A query row that may see no key gets zeros.
public func scaledDotProductAttention(_ query: Tensor, _ key: Tensor, _ value: Tensor, mask: Tensor? = nil,
                                      causal: Bool = false, scale: Float? = nil, dropout: Float = 0) -> Tensor {
    let op = "scaledDotProductAttention"
    require(query.rank >= 2 && key.rank == query.rank && value.rank == query.rank,
            "\(op): query, key and value need the same rank of at least 2, got \(Shape.describe(query.shape)), \(Shape.describe(key.shape)) and \(Shape.describe(value.shape))")
    let leading = Array(query.shape.dropLast(2))
    let tq = query.shape[query.rank - 2], d = query.shape[query.rank - 1]
    let tk = key.shape[key.rank - 2], dv = value.shape[value.rank - 1]
    require(Array(key.shape.dropLast(2)) == leading && Array(value.shape.dropLast(2)) == leading
                && key.shape[key.rank - 1] == d && value.shape[value.rank - 2] == tk,
            "\(op): expected key [..., Tk, \(d)] and value [..., Tk, Dv] with leading axes \(Shape.describe(leading)) like query \(Shape.describe(query.shape)), got \(Shape.describe(key.shape)) and \(Shape.describe(value.shape))")
    // The last leading axis is the kernel's heads axis, the rest its batch, so a mask that
    // broadcasts over either is read with a zero stride instead of being copied.
    let heads = leading.last ?? 1, batch = leading.dropLast().reduce(1, *)
    let layout = { (t: Int, width: Int) in (batch: heads * t * width, head: t * width, row: width) }
    return attention(op, query: (query, layout(tq, d), 0), key: (key, layout(tk, d), 0), value: (value, layout(tk, dv), 0),
                     outputShape: leading + [tq, dv], outputLayout: layout(tq, dv),
                     sizes: (batch, heads, tq, tk, d, dv), leadingShape: leading,
                     mask: mask, causalOffset: causal ? 0 : nil, scale: scale ?? 1 / Float(d).squareRoot(),
                     dropout: dropout)
}

/// Multi-head attention over projections that hold the heads side by side: head h of the
/// queries is columns `queryColumn + h·D ..< queryColumn + (h+1)·D` of `query` [B, Tq, C],
/// and likewise for `key` and `value` [B, Tk, C′], with D = width / heads. So one [B, T, 3E]
/// input projection feeds all three with no copies, and the result [B, Tq, width] has the
/// heads merged back, ready for the output projection.
///
/// - Parameters:
///   - mask: boolean, broadcastable to [B, heads, Tq, Tk]; nonzero means "may attend".
///   - causalOffset: hides key j from query i where j > i + offset (0 is top-left aligned;
///     Tk − Tq aligns the last query with the last key, for cached generation).
public func multiHeadAttention(query: Tensor, queryColumn: Int = 0, key: Tensor, keyColumn: Int = 0,
                               value: Tensor, valueColumn: Int = 0, heads: Int, width: Int, mask: Tensor? = nil,
                               causalOffset: Int? = nil, scale: Float? = nil, dropout: Float = 0) -> Tensor {
    let op = "multiHeadAttention"
    require(heads > 0 && width > 0 && width % heads == 0,
            "\(op): width \(width) is not divisible into \(heads) heads")
    require(query.rank == 3 && key.rank == 3 && value.rank == 3,
            "\(op): expected query, key and value [B, T, C], got \(Shape.describe(query.shape)), \(Shape.describe(key.shape)) and \(Shape.describe(value.shape))")
    let b = query.shape[0], tq = query.shape[1], tk = key.shape[1], d = width / heads
    require(key.shape[0] == b && value.shape[0] == b && value.shape[1] == tk,
            "\(op): query \(Shape.describe(query.shape)), key \(Shape.describe(key.shape)) and value \(Shape.describe(value.shape)) disagree on batch or key length")
    for (name, tensor, column) in [("query", query, queryColumn), ("key", key, keyColumn), ("value", value, valueColumn)] {
        require(column >= 0 && column + width <= tensor.shape[2],
                "\(op): \(name) columns \(column)..<\(column + width) do not fit in \(Shape.describe(tensor.shape))")
    }
    let layout = { (t: Tensor) in (batch: t.shape[1] * t.shape[2], head: d, row: t.shape[2]) }
    return attention(op, query: (query, layout(query), queryColumn), key: (key, layout(key), keyColumn),
                     value: (value, layout(value), valueColumn), outputShape: [b, tq, width],
                     outputLayout: (tq * width, d, width), sizes: (b, heads, tq, tk, d, d), leadingShape: [b, heads],
                     mask: mask, causalOffset: causalOffset, scale: scale ?? 1 / Float(d).squareRoot(), dropout: dropout)
}

private typealias Layout = (batch: Int, head: Int, row: Int)
private typealias Sizes = (batch: Int, heads: Int, queryLength: Int, keyLength: Int, depth: Int, valueDepth: Int)

private func attention(_ op: String, query: (Tensor, Layout, Int), key: (Tensor, Layout, Int),
                       value: (Tensor, Layout, Int), outputShape: [Int], outputLayout: Layout, sizes: Sizes,
                       leadingShape: [Int], mask: Tensor?, causalOffset: Int?, scale: Float,
                       dropout: Float) -> Tensor {
    require(dropout >= 0 && dropout < 1, "\(op): dropout must be in [0, 1), got \(dropout)")
    let bias = mask.map { additiveMask($0, leadingShape: leadingShape, queryLength: sizes.queryLength,
                                       keyLength: sizes.keyLength, op: op) }
    let seed = dropout > 0 ? GlobalRandom.withGenerator { $0.next() } : 0
    let biasStrides = bias?.strides ?? (0, 0)
    let operands = [query, key, value]
    let output = Tensor(uninitializedShape: outputShape)
    let logSumExp = Tensor(uninitializedShape: [sizes.batch * sizes.heads * sizes.queryLength])
    func heads(_ tensor: Tensor, _ layout: Layout, _ column: Int) -> StridedHeads {
        StridedHeads(base: tensor.pointer + column, batchStride: layout.batch, headStride: layout.head, rowStride: layout.row)
    }
    func problem(_ bias: UnsafePointer<Float>?) -> AttentionProblem {
        AttentionProblem(batch: sizes.batch, heads: sizes.heads, queryLength: sizes.queryLength,
                         keyLength: sizes.keyLength, depth: sizes.depth, valueDepth: sizes.valueDepth, scale: scale,
                         causalOffset: causalOffset, bias: bias, biasBatchStride: biasStrides.0,
                         biasHeadStride: biasStrides.1, dropout: dropout, seed: seed)
    }
    withExtendedLifetime(bias) {
        Kernels.attentionForward(problem(bias.map { UnsafePointer($0.values.pointer) }),
                                 query: heads(query.0, query.1, query.2), key: heads(key.0, key.1, key.2),
                                 value: heads(value.0, value.1, value.2), output: heads(output, outputLayout, 0),
                                 logSumExp: logSumExp.pointer)
    }
    return record(op, output, inputs: operands.map(\.0)) { g, needs in
        // Operands that are one tensor with disjoint columns (a packed projection) share one
        // gradient buffer, returned once; anything else gets a buffer of its own.
        var gradients: [Tensor?] = [nil, nil, nil]
        var owners: [Int] = []
        for index in 0..<3 {
            let (tensor, layout, _) = operands[index]
            let shared = (0..<index).first { other in
                owners[other] == other && operands[other].0.storage === tensor.storage && operands[other].1 == layout
                    && (0..<index).allSatisfy { owners[$0] != other || !span(operands[$0], sizes, $0).overlaps(span(operands[index], sizes, index)) }
            }
            owners.append(shared ?? index)
            if shared == nil { gradients[index] = Tensor.zeros(tensor.shape) }
        }
        let targets = owners.map { gradients[$0]! }
        withExtendedLifetime((bias, targets)) {
            Kernels.attentionBackward(problem(bias.map { UnsafePointer($0.values.pointer) }),
                                      query: heads(query.0, query.1, query.2), key: heads(key.0, key.1, key.2),
                                      value: heads(value.0, value.1, value.2), output: heads(output, outputLayout, 0),
                                      logSumExp: logSumExp.pointer, outputGradient: heads(g, outputLayout, 0),
                                      queryGradient: heads(targets[0], query.1, query.2),
                                      keyGradient: heads(targets[1], key.1, key.2),
                                      valueGradient: heads(targets[2], value.1, value.2))
        }
        return zip(gradients, needs).map { $1 ? $0 : nil }
    }
}

/// The columns of a row that an operand's heads occupy.
private func span(_ operand: (Tensor, Layout, Int), _ sizes: Sizes, _ index: Int) -> Range<Int> {
    let width = index == 2 ? sizes.valueDepth : sizes.depth
    return operand.2..<(operand.2 + (sizes.heads - 1) * operand.1.head + width)
}

/// A boolean mask as an additive one (0 where nonzero, −∞ elsewhere), dense over its last two
/// axes, with a zero stride over batch or heads where it broadcasts over them.
private func additiveMask(_ mask: Tensor, leadingShape: [Int], queryLength: Int, keyLength: Int,
                          op: String) -> (values: Tensor, strides: (Int, Int)) {
    let full = leadingShape + [queryLength, keyLength]
    require(mask.rank <= full.count && (try? Shape.broadcast(mask.shape, full, op: op)) == full,
            "\(op): mask \(Shape.describe(mask.shape)) does not broadcast to \(Shape.describe(full)) ([..., Tq, Tk])")
    let aligned = Array(repeating: 1, count: full.count - mask.rank) + mask.shape
    let headAxis = leadingShape.count - 1
    let batchBroadcast = aligned.prefix(max(headAxis, 0)).allSatisfy { $0 == 1 }
    let headBroadcast = headAxis < 0 || aligned[headAxis] == 1
    var target = full
    for axis in 0..<max(headAxis, 0) where batchBroadcast { target[axis] = 1 }
    if headAxis >= 0 && headBroadcast { target[headAxis] = 1 }
    let expanded = mask.detached().reshaped(aligned).expandedContiguous(to: target)
    let values = Tensor(uninitializedShape: target)
    for i in 0..<values.count { values.pointer[i] = expanded.pointer[i] != 0 ? 0 : -.infinity }
    let plane = queryLength * keyLength
    return (values, (batchBroadcast ? 0 : (headBroadcast ? 1 : leadingShape.last!) * plane, headBroadcast ? 0 : plane))
}
