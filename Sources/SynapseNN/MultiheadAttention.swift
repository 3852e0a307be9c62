// Multi-head attention with PyTorch's parameters, names and mask conventions.

import SynapseCore

/// Multi-head scaled dot-product attention, as PyTorch's `nn.MultiheadAttention` (with equal
/// query, key and value widths): `in_proj_weight` [3E, E] (Xavier-uniform), `in_proj_bias` [3E]
/// (zeros), and the output projection `out_proj` (its bias zero), so state_dicts load by name.
///
/// Self-attention (`attention(x, x, x)`) projects once into a [B, T, 3E] tensor that the fused
/// attention kernel reads in place; splitting into heads and merging them back costs no copies.
///
/// Inputs are [T, B, E], or [B, T, E] with `batchFirst`. Masks follow PyTorch's boolean
/// convention, with nonzero meaning *true*:
/// - `keyPaddingMask` [B, S]: true marks a key (a padding position) that no query may attend to;
/// - `attentionMask` [L, S] or [B · heads, L, S]: true marks a query–key pair that is not allowed.
public final class MultiheadAttention: Module {
    @Parameter public var inProjectionWeight: Tensor
    /// Nil when built with `bias: false`.
    public let inProjectionBias: Parameter?
    public let outProjection: Linear
    public let embedDimension: Int, heads: Int
    /// The probability of dropping each attention weight in training mode.
    public let dropout: Float
    public let batchFirst: Bool

    public init(embedDimension: Int, heads: Int, bias: Bool = true, dropout: Float = 0, batchFirst: Bool = false) {
        require(embedDimension > 0 && heads > 0, "MultiheadAttention: width and heads must be positive, got \(embedDimension) and \(heads)")
        require(embedDimension % heads == 0,
                "MultiheadAttention: embedDimension \(embedDimension) is not divisible by heads \(heads)")
        require(dropout >= 0 && dropout < 1, "MultiheadAttention: dropout must be in [0, 1), got \(dropout)")
        self.embedDimension = embedDimension
        self.heads = heads
        self.dropout = dropout
        self.batchFirst = batchFirst
        _inProjectionWeight = Parameter(Initializer.xavierUniform().make([3 * embedDimension, embedDimension]))
        inProjectionBias = bias ? Parameter(Tensor.zeros([3 * embedDimension])) : nil
        outProjection = Linear(embedDimension, embedDimension, bias: bias)
        if let outBias = outProjection.bias { outBias.assign(Tensor.zeros([embedDimension])) }
    }

    public convenience init(_ embedDimension: Int, _ heads: Int, bias: Bool = true, dropout: Float = 0,
                            batchFirst: Bool = false) {
        self.init(embedDimension: embedDimension, heads: heads, bias: bias, dropout: dropout, batchFirst: batchFirst)
    }

    public override var namedOwnParameters: [(String, Parameter)] {
        [("in_proj_weight", $inProjectionWeight)] + (inProjectionBias.map { [("in_proj_bias", $0)] } ?? [])
    }

    public override var namedChildren: [(String, Module)] { [("out_proj", outProjection)] }

    /// Attention of `query` over `key` and `value`; returns the attended values after the
    /// output projection, shaped like `query`. `causal` hides from query i every key after i.
    public func callAsFunction(_ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor? = nil,
                               attentionMask: Tensor? = nil, causal: Bool = false) -> Tensor {
        let e = embedDimension
        for (name, tensor) in [("query", query), ("key", key), ("value", value)] {
            require(tensor.rank == 3 && tensor.shape[2] == e,
                    "MultiheadAttention: expected \(name) \(batchFirst ? "[B, T, \(e)]" : "[T, B, \(e)]"), got \(tensor.shape)")
        }
        let keyIsValue = key.sharesStorage(with: value) && key.shape == value.shape
        let selfAttention = keyIsValue && query.sharesStorage(with: key) && query.shape == key.shape
        func batchMajor(_ x: Tensor) -> Tensor { batchFirst ? x : x.permuted([1, 0, 2]) }
        let q = batchMajor(query)
        let k = selfAttention ? q : batchMajor(key)
        let v = keyIsValue ? k : batchMajor(value)
        require(k.shape[0] == q.shape[0] && v.shape[0] == q.shape[0] && v.shape[1] == k.shape[1],
                "MultiheadAttention: query \(query.shape), key \(key.shape) and value \(value.shape) disagree on batch or length")
        let mask = allowedMask(batch: q.shape[0], queryLength: q.shape[1], keyLength: k.shape[1],
                               keyPaddingMask: keyPaddingMask, attentionMask: attentionMask)
        func project(_ x: Tensor, rows: Range<Int>) -> Tensor {
            let weight = rows.count == 3 * e ? inProjectionWeight : inProjectionWeight.slice(axis: 0, start: rows.lowerBound, end: rows.upperBound)
            let bias = inProjectionBias.map { rows.count == 3 * e ? $0.value : $0.value.slice(axis: 0, start: rows.lowerBound, end: rows.upperBound) }
            return x.linear(weight: weight, bias: bias)
        }
        let attended: Tensor
        let rate = isTraining ? dropout : 0
        if selfAttention {
            let packed = project(q, rows: 0..<(3 * e))
            attended = multiHeadAttention(query: packed, queryColumn: 0, key: packed, keyColumn: e, value: packed,
                                          valueColumn: 2 * e, heads: heads, width: e, mask: mask,
                                          causalOffset: causal ? 0 : nil, dropout: rate)
        } else if keyIsValue {
            let projectedKeys = project(k, rows: e..<(3 * e))
            attended = multiHeadAttention(query: project(q, rows: 0..<e), key: projectedKeys, keyColumn: 0,
                                          value: projectedKeys, valueColumn: e, heads: heads, width: e, mask: mask,
                                          causalOffset: causal ? 0 : nil, dropout: rate)
        } else {
            attended = multiHeadAttention(query: project(q, rows: 0..<e), key: project(k, rows: e..<(2 * e)),
                                          value: project(v, rows: (2 * e)..<(3 * e)), heads: heads, width: e,
                                          mask: mask, causalOffset: causal ? 0 : nil, dropout: rate)
        }
        let output = outProjection(attended)
        return traced(batchFirst ? output : output.permuted([1, 0, 2]))
    }

    /// Self-attention: `attention(x)` is `attention(x, x, x)`.
    public func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor? = nil, attentionMask: Tensor? = nil,
                               causal: Bool = false) -> Tensor {
        self(x, x, x, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, causal: causal)
    }

    /// PyTorch's "true means masked out" masks as one "may attend" mask for the kernel,
    /// broadcastable to [B, heads, L, S].
    private func allowedMask(batch: Int, queryLength: Int, keyLength: Int, keyPaddingMask: Tensor?,
                             attentionMask: Tensor?) -> Tensor? {
        var allowed: Tensor?
        if let keyPaddingMask {
            require(keyPaddingMask.shape == [batch, keyLength],
                    "MultiheadAttention: keyPaddingMask must be [B, S] = [\(batch), \(keyLength)], got \(keyPaddingMask.shape)")
            allowed = (keyPaddingMask.detached() .== 0).reshaped([batch, 1, 1, keyLength])
        }
        if let attentionMask {
            let shaped: Tensor
            if attentionMask.shape == [queryLength, keyLength] {
                shaped = attentionMask.detached()
            } else if attentionMask.shape == [batch * heads, queryLength, keyLength] {
                shaped = attentionMask.detached().reshaped([batch, heads, queryLength, keyLength])
            } else {
                fatalError("MultiheadAttention: attentionMask must be [L, S] = [\(queryLength), \(keyLength)] or "
                    + "[B · heads, L, S] = [\(batch * heads), \(queryLength), \(keyLength)], got \(attentionMask.shape)")
            }
            let permitted = shaped .== 0
            allowed = allowed.map { $0 * permitted } ?? permitted
        }
        return allowed
    }
}
