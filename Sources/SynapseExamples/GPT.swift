// A GPT (decoder-only Transformer) language model in nanoGPT's form, with cached generation.

import Foundation
import Synapse

/// The sizes of a `GPT`.
public struct GPTConfiguration: Equatable, Sendable {
    public var vocabularySize: Int
    /// The longest window the model attends over (the learned position table's length).
    public var context: Int
    public var layers: Int, heads: Int, embedding: Int
    public var dropout: Float
    /// Biases in every Linear and LayerNorm (nanoGPT's `bias`; its character config has none).
    public var bias: Bool

    public init(vocabularySize: Int, context: Int = 64, layers: Int = 4, heads: Int = 4, embedding: Int = 128,
                dropout: Float = 0, bias: Bool = false) {
        self.vocabularySize = vocabularySize
        self.context = context
        self.layers = layers
        self.heads = heads
        self.embedding = embedding
        self.dropout = dropout
        self.bias = bias
    }

    /// Why these sizes cannot make a model, or nil.
    public var problem: String? {
        if vocabularySize <= 0 || context <= 0 || layers <= 0 || heads <= 0 || embedding <= 0 {
            return "vocabulary, context, layers, heads and embedding must all be positive"
        }
        if embedding % heads != 0 { return "the embedding width \(embedding) is not divisible by \(heads) heads" }
        if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1), got \(dropout)" }
        return nil
    }
}

/// Causal self-attention: one projection `c_attn` to queries, keys and values side by side,
/// the fused attention kernel reading heads in place, and the output projection `c_proj`.
final class CausalSelfAttention: Module {
    let c_attn: Linear, c_proj: Linear
    let heads: Int, width: Int, dropout: Float
    let residualDropout: Dropout

    init(_ configuration: GPTConfiguration) {
        width = configuration.embedding
        heads = configuration.heads
        dropout = configuration.dropout
        c_attn = Linear(width, 3 * width, bias: configuration.bias)
        c_proj = Linear(width, width, bias: configuration.bias)
        residualDropout = Dropout(p: configuration.dropout)
    }

    override var namedChildren: [(String, Module)] { [("c_attn", c_attn), ("c_proj", c_proj)] }

    /// With a cache, appends this step's keys and values and attends over everything cached.
    func callAsFunction(_ x: Tensor, cache: KeyValueCache?) throws -> Tensor {
        let packed = c_attn(x)
        let attended: Tensor
        if let cache {
            try cache.append(packed, keyColumn: width, valueColumn: 2 * width)
            attended = cache.attend(packed, queryColumn: 0)
        } else {
            attended = multiHeadAttention(query: packed, queryColumn: 0, key: packed, keyColumn: width, value: packed,
                                          valueColumn: 2 * width, heads: heads, width: width, causalOffset: 0,
                                          dropout: isTraining ? dropout : 0)
        }
        return traced(residualDropout(c_proj(attended)))
    }
}

/// One pre-LN block: x + attn(ln_1(x)), then x + mlp(ln_2(x)) with a 4× GELU MLP.
final class GPTBlock: Module {
    let ln_1: LayerNorm, ln_2: LayerNorm
    let attn: CausalSelfAttention
    let c_fc: Linear, c_proj: Linear
    let mlpDropout: Dropout

    init(_ configuration: GPTConfiguration) {
        let width = configuration.embedding
        ln_1 = LayerNorm(width, bias: configuration.bias)
        attn = CausalSelfAttention(configuration)
        ln_2 = LayerNorm(width, bias: configuration.bias)
        c_fc = Linear(width, 4 * width, bias: configuration.bias)
        c_proj = Linear(4 * width, width, bias: configuration.bias)
        mlpDropout = Dropout(p: configuration.dropout)
    }

    override var namedChildren: [(String, Module)] {
        [("ln_1", ln_1), ("attn", attn), ("ln_2", ln_2), ("mlp.c_fc", c_fc), ("mlp.c_proj", c_proj)]
    }

    func callAsFunction(_ x: Tensor, cache: KeyValueCache?) throws -> Tensor {
        let attended = x + (try attn(ln_1(x), cache: cache))
        return traced(attended + mlpDropout(c_proj(c_fc(ln_2(attended)).gelu())))
    }
}

/// A GPT as nanoGPT builds it: token and learned position embeddings (`wte`, `wpe`), pre-LN
/// blocks (`h.{i}.ln_1`, `attn.c_attn`, `attn.c_proj`, `ln_2`, `mlp.c_fc`, `mlp.c_proj`), a final
/// LayerNorm (`ln_f`) and a head tied to the token embedding. Weights start N(0, 0.02), the
/// residual projections N(0, 0.02/√(2 · layers)).
///
/// ```swift
/// let gpt = GPT(GPTConfiguration(vocabularySize: 65))
/// let logits = try gpt.logits(tokens)   // tokens [N, T] → logits [N·T, 65]
/// ```
public final class GPT: Module, LanguageModel {
    public let configuration: GPTConfiguration
    let wte: Embedding
    let wpe: LearnedPositionalEmbedding
    let h: [GPTBlock]
    let ln_f: LayerNorm
    let embeddingDropout: Dropout

    public init(_ configuration: GPTConfiguration) {
        if let problem = configuration.problem { fatalError("GPT: \(problem)") }
        self.configuration = configuration
        let width = configuration.embedding
        wte = Embedding(configuration.vocabularySize, width)
        wpe = LearnedPositionalEmbedding(maximumLength: configuration.context, dimension: width)
        h = (0..<configuration.layers).map { _ in GPTBlock(configuration) }
        ln_f = LayerNorm(width, bias: configuration.bias)
        embeddingDropout = Dropout(p: configuration.dropout)
        super.init()
        let residualDeviation = 0.02 / Float(2 * configuration.layers).squareRoot()
        for (name, parameter) in namedParameters {
            if name.hasSuffix(".bias") {
                parameter.assign(Tensor.zeros(parameter.shape))
            } else if parameter.shape.count == 2 {
                parameter.assign(Tensor.randn(parameter.shape) * (name.hasSuffix("c_proj.weight") ? residualDeviation : 0.02))
            }
        }
    }

    public override var namedChildren: [(String, Module)] {
        [("wte", wte), ("wpe", wpe)] + h.enumerated().map { ("h.\($0.offset)", $0.element as Module) } + [("ln_f", ln_f)]
    }

    public var vocabularySize: Int { configuration.vocabularySize }
    public var kindName: String { "gpt" }
    public var contextLength: Int? { configuration.context }

    public var architecture: [String: String] {
        ["layers": String(configuration.layers), "heads": String(configuration.heads),
         "embedding": String(configuration.embedding), "context": String(configuration.context),
         "bias": String(configuration.bias)]
    }

    /// The names and shapes of a GPT's parameters, computed without building it, so a
    /// checkpoint can be checked before anything is allocated from its metadata.
    public static func tensorShapes(_ c: GPTConfiguration) -> [(name: String, shape: [Int])] {
        let d = c.embedding
        var shapes: [(name: String, shape: [Int])] = [("wte.weight", [c.vocabularySize, d]), ("wpe.weight", [c.context, d])]
        func norm(_ name: String) -> [(name: String, shape: [Int])] {
            [("\(name).weight", [d])] + (c.bias ? [("\(name).bias", [d])] : [])
        }
        func linear(_ name: String, _ input: Int, _ output: Int) -> [(name: String, shape: [Int])] {
            [("\(name).weight", [output, input])] + (c.bias ? [("\(name).bias", [output])] : [])
        }
        for layer in 0..<c.layers {
            let prefix = "h.\(layer)"
            shapes += norm("\(prefix).ln_1") + linear("\(prefix).attn.c_attn", d, 3 * d) + linear("\(prefix).attn.c_proj", d, d)
                + norm("\(prefix).ln_2") + linear("\(prefix).mlp.c_fc", d, 4 * d) + linear("\(prefix).mlp.c_proj", 4 * d, d)
        }
        return shapes + norm("ln_f")
    }

    /// Logits [N·T, V] for batch-major windows [N, T] of at most `context` tokens starting at
    /// position `offset`; with caches (one per layer), only the new tokens run and each layer's
    /// keys and values are appended to its cache.
    public func logits(_ tokens: IndexTensor, offset: Int = 0, caches: [KeyValueCache]? = nil) throws -> Tensor {
        guard tokens.rank == 2 else { throw ModelError("GPT: tokens must be [N, T], got \(tokens.shape)") }
        let length = tokens.shape[1]
        guard offset + length <= configuration.context else {
            throw ModelError("GPT: positions \(offset)..<\(offset + length) go past the context of \(configuration.context) "
                             + "tokens the position table covers")
        }
        var x = embeddingDropout(wpe(wte(tokens), offset: offset))
        for (index, block) in h.enumerated() { x = try block(x, cache: caches?[index]) }
        let normalized = ln_f(x)
        return normalized.reshaped([-1, configuration.embedding]).linear(weight: wte.weight, bias: nil)
    }

    public func trainingTask() -> TokenPredictionTask<SequenceBatch> {
        TokenPredictionTask { [unowned self] batch in
            (try logits(batch.tokens), batch.targets.reshaped([batch.targets.count]))
        }
    }

    /// One cache per layer, sized for the whole context.
    public func makeCaches(batch: Int = 1) -> [KeyValueCache] {
        h.map { _ in
            KeyValueCache(batch: batch, width: configuration.embedding, heads: configuration.heads,
                          capacity: configuration.context, chunkLength: 64)
        }
    }

    /// Generates `count` tokens after `prompt` (its last `context` tokens), streaming each to
    /// `emit`. With `cached`, every token runs once through the layers against per-layer
    /// key-value caches; when the context fills, the window slides: the caches are rebuilt from
    /// the last three quarters of the context and generation goes on. Without `cached`, every
    /// token re-runs the whole cropped context, as nanoGPT's sample.py does.
    @discardableResult
    public func generate(prompt: [Int], count: Int, sampler: inout TokenSampler, cached: Bool,
                         emit: (Int) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> [Int] {
        guard !prompt.isEmpty else { throw ModelError("GPT.generate: the prompt must hold at least one token") }
        let context = configuration.context
        return try inference {
            var window = Array(prompt.suffix(context))
            var generated: [Int] = []
            generated.reserveCapacity(count)
            let caches = cached ? makeCaches() : []
            func run(_ tokens: [Int], offset: Int) throws -> [Float] {
                let logits = try self.logits(IndexTensor(tokens, shape: [1, tokens.count]), offset: offset,
                                             caches: cached ? caches : nil)
                return Array(logits.scalars.suffix(configuration.vocabularySize))
            }
            var last = try run(window, offset: 0)
            for index in 0..<count {
                let token = sampler.sample(last)
                generated.append(token)
                emit(token)
                guard index + 1 < count, !shouldStop() else { break }
                window.append(token)
                if !cached {
                    if window.count > context { window.removeFirst(window.count - context) }
                    last = try run(window, offset: 0)
                } else if window.count > context {
                    window = Array(window.suffix(max(1, context * 3 / 4)))
                    caches.forEach { $0.reset() }
                    last = try run(window, offset: 0)
                } else {
                    last = try run([token], offset: window.count - 1)
                }
            }
            return generated
        }
    }

    public func generate(prompt: [Int], count: Int, sampler: inout TokenSampler, emit: (Int) -> Void,
                         shouldStop: () -> Bool) throws -> [Int] {
        try generate(prompt: prompt, count: count, sampler: &sampler, cached: true, emit: emit, shouldStop: shouldStop)
    }
}
