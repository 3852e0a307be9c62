// Transformer encoder and decoder layers and their stacks, with PyTorch's names and defaults.

import SynapseCore

/// The feed-forward activation of a Transformer layer.
public enum TransformerActivation: String, Sendable, CaseIterable {
    case relu, gelu

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: x.relu()
        case .gelu: x.gelu()
        }
    }
}

/// The feed-forward block both layer kinds share: linear2(dropout(activation(linear1(x)))).
private func feedForward(_ x: Tensor, _ linear1: Linear, _ linear2: Linear, _ activation: TransformerActivation,
                         _ dropout: Dropout) -> Tensor {
    linear2(dropout(activation(linear1(x))))
}

/// A Transformer encoder layer, as PyTorch's `nn.TransformerEncoderLayer`: self-attention
/// (`self_attn`) and a feed-forward block (`linear1`, `linear2`), each with a residual
/// connection, dropout and a layer norm (`norm1`, `norm2`), applied after the residual sum, or
/// before the block with `normFirst` (pre-LN, which trains deep stacks more stably).
public final class TransformerEncoderLayer: Module, UnaryLayer {
    public let selfAttention: MultiheadAttention
    public let linear1: Linear, linear2: Linear
    public let norm1: LayerNorm, norm2: LayerNorm
    let dropout: Dropout, dropout1: Dropout, dropout2: Dropout
    public let activation: TransformerActivation
    public let normFirst: Bool

    public init(modelDimension: Int, heads: Int, feedForwardDimension: Int = 2048, dropout: Float = 0.1,
                activation: TransformerActivation = .relu, layerNormEpsilon: Float = 1e-5, batchFirst: Bool = false,
                normFirst: Bool = false, bias: Bool = true) {
        selfAttention = MultiheadAttention(embedDimension: modelDimension, heads: heads, bias: bias, dropout: dropout,
                                           batchFirst: batchFirst)
        linear1 = Linear(modelDimension, feedForwardDimension, bias: bias)
        linear2 = Linear(feedForwardDimension, modelDimension, bias: bias)
        norm1 = LayerNorm(modelDimension, epsilon: layerNormEpsilon, bias: bias)
        norm2 = LayerNorm(modelDimension, epsilon: layerNormEpsilon, bias: bias)
        self.dropout = Dropout(p: dropout)
        dropout1 = Dropout(p: dropout)
        dropout2 = Dropout(p: dropout)
        self.activation = activation
        self.normFirst = normFirst
    }

    public override var namedChildren: [(String, Module)] {
        [("self_attn", selfAttention), ("linear1", linear1), ("linear2", linear2), ("norm1", norm1), ("norm2", norm2),
         ("dropout", dropout), ("dropout1", dropout1), ("dropout2", dropout2)]
    }

    /// Encodes `source` ([T, B, E], or [B, T, E] with `batchFirst`). Masks are as in
    /// `MultiheadAttention`: nonzero marks what may not be attended to.
    public func callAsFunction(_ source: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil,
                               causal: Bool = false) -> Tensor {
        func attend(_ x: Tensor) -> Tensor {
            dropout1(selfAttention(x, keyPaddingMask: keyPaddingMask, attentionMask: mask, causal: causal))
        }
        var x = source
        if normFirst {
            x = x + attend(norm1(x))
            x = x + dropout2(feedForward(norm2(x), linear1, linear2, activation, dropout))
        } else {
            x = norm1(x + attend(x))
            x = norm2(x + dropout2(feedForward(x, linear1, linear2, activation, dropout)))
        }
        return traced(x)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { self(input, mask: nil) }
}

/// A Transformer decoder layer, as PyTorch's `nn.TransformerDecoderLayer`: self-attention
/// (`self_attn`), cross-attention over the encoder's output (`multihead_attn`) and a
/// feed-forward block, each with a residual connection, dropout and a layer norm
/// (`norm1`–`norm3`), post-LN or, with `normFirst`, pre-LN.
public final class TransformerDecoderLayer: Module {
    public let selfAttention: MultiheadAttention, crossAttention: MultiheadAttention
    public let linear1: Linear, linear2: Linear
    public let norm1: LayerNorm, norm2: LayerNorm, norm3: LayerNorm
    let dropout: Dropout, dropout1: Dropout, dropout2: Dropout, dropout3: Dropout
    public let activation: TransformerActivation
    public let normFirst: Bool

    public init(modelDimension: Int, heads: Int, feedForwardDimension: Int = 2048, dropout: Float = 0.1,
                activation: TransformerActivation = .relu, layerNormEpsilon: Float = 1e-5, batchFirst: Bool = false,
                normFirst: Bool = false, bias: Bool = true) {
        selfAttention = MultiheadAttention(embedDimension: modelDimension, heads: heads, bias: bias, dropout: dropout,
                                           batchFirst: batchFirst)
        crossAttention = MultiheadAttention(embedDimension: modelDimension, heads: heads, bias: bias, dropout: dropout,
                                            batchFirst: batchFirst)
        linear1 = Linear(modelDimension, feedForwardDimension, bias: bias)
        linear2 = Linear(feedForwardDimension, modelDimension, bias: bias)
        norm1 = LayerNorm(modelDimension, epsilon: layerNormEpsilon, bias: bias)
        norm2 = LayerNorm(modelDimension, epsilon: layerNormEpsilon, bias: bias)
        norm3 = LayerNorm(modelDimension, epsilon: layerNormEpsilon, bias: bias)
        self.dropout = Dropout(p: dropout)
        dropout1 = Dropout(p: dropout)
        dropout2 = Dropout(p: dropout)
        dropout3 = Dropout(p: dropout)
        self.activation = activation
        self.normFirst = normFirst
    }

    public override var namedChildren: [(String, Module)] {
        [("self_attn", selfAttention), ("multihead_attn", crossAttention), ("linear1", linear1), ("linear2", linear2),
         ("norm1", norm1), ("norm2", norm2), ("norm3", norm3), ("dropout", dropout), ("dropout1", dropout1),
         ("dropout2", dropout2), ("dropout3", dropout3)]
    }

    /// Decodes `target` attending to `memory` (the encoder's output), both [T, B, E] or, with
    /// `batchFirst`, [B, T, E]. `targetMask` and `memoryMask` are attention masks and the
    /// padding masks mark padded positions, all as in `MultiheadAttention`.
    public func callAsFunction(_ target: Tensor, memory: Tensor, targetMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               targetKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                               targetCausal: Bool = false) -> Tensor {
        func attendSelf(_ x: Tensor) -> Tensor {
            dropout1(selfAttention(x, keyPaddingMask: targetKeyPaddingMask, attentionMask: targetMask, causal: targetCausal))
        }
        func attendMemory(_ x: Tensor) -> Tensor {
            dropout2(crossAttention(x, memory, memory, keyPaddingMask: memoryKeyPaddingMask, attentionMask: memoryMask))
        }
        var x = target
        if normFirst {
            x = x + attendSelf(norm1(x))
            x = x + attendMemory(norm2(x))
            x = x + dropout3(feedForward(norm3(x), linear1, linear2, activation, dropout))
        } else {
            x = norm1(x + attendSelf(x))
            x = norm2(x + attendMemory(x))
            x = norm3(x + dropout3(feedForward(x, linear1, linear2, activation, dropout)))
        }
        return traced(x)
    }
}

/// PyTorch's names for a stack: `layers.{i}` and, if present, `norm`.
private func stackChildren(_ layers: [Module], _ norm: LayerNorm?) -> [(String, Module)] {
    layers.enumerated().map { ("layers.\($0.offset)", $0.element) } + (norm.map { [("norm", $0)] } ?? [])
}

/// A stack of encoder layers (`layers.{i}.…`) with an optional final layer norm (`norm`), as
/// PyTorch's `nn.TransformerEncoder`. Pass a final norm with pre-LN layers.
public final class TransformerEncoder: Module, UnaryLayer {
    public let layers: [TransformerEncoderLayer]
    public let norm: LayerNorm?

    public init(layers: [TransformerEncoderLayer], norm: LayerNorm? = nil) {
        require(!layers.isEmpty, "TransformerEncoder: needs at least one layer")
        self.layers = layers
        self.norm = norm
    }

    /// `count` layers, each made by `layer` (so each starts from its own random weights).
    public convenience init(count: Int, norm: LayerNorm? = nil, layer: () -> TransformerEncoderLayer) {
        self.init(layers: (0..<count).map { _ in layer() }, norm: norm)
    }

    public override var namedChildren: [(String, Module)] { stackChildren(layers, norm) }

    public func callAsFunction(_ source: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil,
                               causal: Bool = false) -> Tensor {
        var x = source
        for layer in layers { x = layer(x, mask: mask, keyPaddingMask: keyPaddingMask, causal: causal) }
        return norm.map { $0(x) } ?? x
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { self(input, mask: nil) }
}

/// A stack of decoder layers (`layers.{i}.…`) with an optional final layer norm (`norm`), as
/// PyTorch's `nn.TransformerDecoder`.
public final class TransformerDecoder: Module {
    public let layers: [TransformerDecoderLayer]
    public let norm: LayerNorm?

    public init(layers: [TransformerDecoderLayer], norm: LayerNorm? = nil) {
        require(!layers.isEmpty, "TransformerDecoder: needs at least one layer")
        self.layers = layers
        self.norm = norm
    }

    /// `count` layers, each made by `layer`.
    public convenience init(count: Int, norm: LayerNorm? = nil, layer: () -> TransformerDecoderLayer) {
        self.init(layers: (0..<count).map { _ in layer() }, norm: norm)
    }

    public override var namedChildren: [(String, Module)] { stackChildren(layers, norm) }

    public func callAsFunction(_ target: Tensor, memory: Tensor, targetMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               targetKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                               targetCausal: Bool = false) -> Tensor {
        var x = target
        for layer in layers {
            x = layer(x, memory: memory, targetMask: targetMask, memoryMask: memoryMask,
                      targetKeyPaddingMask: targetKeyPaddingMask, memoryKeyPaddingMask: memoryKeyPaddingMask,
                      targetCausal: targetCausal)
        }
        return norm.map { $0(x) } ?? x
    }
}
