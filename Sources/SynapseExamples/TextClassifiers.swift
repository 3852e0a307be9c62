// Sentence classifiers over token ids: Kim's CNN, a BiLSTM and a fastText-style bag of words.

import Foundation
import Synapse

/// A model from a padded batch of token ids to class logits [N, C].
public protocol SequenceClassifier: Module {
    /// Class logits [N, C] of a padded batch (tokens [N, T] with each sentence's length).
    func logits(for batch: SequenceBatch) throws -> Tensor
    /// The table of word vectors the model reads its token ids through.
    var wordEmbedding: Embedding { get }
}

extension KimCNN { public var wordEmbedding: Embedding { emb } }
extension BiLSTMClassifier { public var wordEmbedding: Embedding { emb } }
extension BagOfWordsClassifier { public var wordEmbedding: Embedding { emb } }
extension TransformerClassifier { public var wordEmbedding: Embedding { emb } }

/// The sentence classifiers `synapse text train --model` builds.
public enum TextClassifierKind: String, CaseIterable, Sendable {
    /// Kim (2014)'s CNN.
    case cnn
    /// A bidirectional LSTM over the words, its final states concatenated.
    case bilstm
    /// The mean embedding of the words and their bigrams (fastText).
    case bag
    /// A Transformer encoder with padding masks, mean-pooled.
    case transformer

    /// The Adam learning rate it trains well with on sentiment sentences.
    public var defaultLearningRate: Float {
        switch self {
        case .cnn, .bilstm: 1e-3
        case .bag: 3e-3
        case .transformer: 5e-4
        }
    }

    /// The width of its word vectors unless pretrained vectors set it.
    public var defaultEmbeddingWidth: Int { self == .bag ? 64 : 128 }

    /// Why the model cannot read word vectors `width` wide, or nil if it can.
    public func problem(withEmbeddingWidth width: Int) -> String? {
        guard width > 0 else { return "word vectors need a positive width, got \(width)" }
        if self == .transformer && width % TransformerClassifier.defaultHeads != 0 {
            return "the transformer splits its word vectors among \(TransformerClassifier.defaultHeads) attention heads; "
                + "vectors \(width) wide do not divide evenly"
        }
        return nil
    }

    /// A new model of this kind for `vocabularySize` word ids and `classes` classes, with word
    /// vectors `embedding` wide (`defaultEmbeddingWidth` when nil).
    public func make(vocabularySize: Int, classes: Int, embedding: Int? = nil) -> any SequenceClassifier {
        let width = embedding ?? defaultEmbeddingWidth
        if let problem = problem(withEmbeddingWidth: width) { preconditionFailure("TextClassifierKind.make: \(problem)") }
        switch self {
        case .cnn: return KimCNN(vocabularySize: vocabularySize, classes: classes, embedding: width)
        case .bilstm: return BiLSTMClassifier(vocabularySize: vocabularySize, classes: classes, embedding: width)
        case .bag: return BagOfWordsClassifier(vocabularySize: vocabularySize, classes: classes, embedding: width)
        case .transformer: return TransformerClassifier(vocabularySize: vocabularySize, classes: classes, embedding: width)
        }
    }
}

/// Kim (2014)'s CNN for sentence classification (CNN-rand): embeddings, one `Conv1d` per
/// filter width with ReLU and max over time, the pooled features concatenated, dropout, and a
/// linear layer to the classes. Defaults are the paper's: widths 3, 4 and 5 with 100 maps
/// each, dropout 0.5; the embedding has 128 dimensions, as the PyTorch anchor's.
///
/// Parameter names follow the anchor's `KimCNN` state_dict: `emb.weight`,
/// `convs.{i}.weight`/`bias`, `out.weight`/`bias`.
public final class KimCNN: Module, SequenceClassifier {
    public let emb: Embedding
    public let convs: [Conv1d]
    public let drop: Dropout
    public let out: Linear
    public let widths: [Int]

    public init(vocabularySize: Int, classes: Int, embedding: Int = 128, widths: [Int] = [3, 4, 5], maps: Int = 100,
                dropout: Float = 0.5, paddingIndex: Int = 0) {
        emb = Embedding(vocabularySize, embedding, paddingIndex: paddingIndex)
        convs = widths.map { Conv1d(embedding, maps, kernelSize: $0) }
        drop = Dropout(p: dropout)
        out = Linear(maps * widths.count, classes)
        self.widths = widths
    }

    /// The shortest padded length the widest filter can slide over.
    public var minimumLength: Int { widths.max() ?? 1 }

    /// Logits [N, classes] of token ids [N, T], T ≥ `minimumLength`.
    public func callAsFunction(_ tokens: IndexTensor) -> Tensor {
        let embedded = emb(tokens).transposed(1, 2)
        let pooled = convs.map { $0(embedded).relu().max(axis: 2) }
        return out(drop(Tensor.concatenate(pooled, axis: 1)))
    }

    /// Logits of the batch, padded with id 0 to `minimumLength` when shorter, so a short
    /// sentence still fits the widest filter.
    public func logits(for batch: SequenceBatch) -> Tensor {
        guard batch.steps < minimumLength else { return self(batch.tokens) }
        let (n, t) = (batch.count, batch.steps)
        var values = [Int](repeating: 0, count: n * minimumLength)
        let tokens = batch.tokens.scalars
        for row in 0..<n {
            for step in 0..<t { values[row * minimumLength + step] = tokens[row * t + step] }
        }
        return self(IndexTensor(values, shape: [n, minimumLength]))
    }
}

/// A bidirectional LSTM sentence classifier: embeddings, a BiLSTM over each sentence's real
/// tokens (`lengths:`, as `pack_padded_sequence`), the final forward and backward hidden
/// states concatenated, dropout, and a linear layer. Names: `emb`, `lstm`, `out`.
public final class BiLSTMClassifier: Module, SequenceClassifier {
    public let emb: Embedding
    public let lstm: LSTM
    public let drop: Dropout
    public let out: Linear

    public init(vocabularySize: Int, classes: Int, embedding: Int = 128, hidden: Int = 128, dropout: Float = 0.5) {
        emb = Embedding(vocabularySize, embedding, paddingIndex: 0)
        lstm = LSTM(embedding, hidden, batchFirst: true, bidirectional: true)
        drop = Dropout(p: dropout)
        out = Linear(2 * hidden, classes)
    }

    public func logits(for batch: SequenceBatch) throws -> Tensor {
        let (_, hidden, _) = try lstm(drop(emb(batch.tokens)), lengths: batch.lengths)
        // hidden is [2, N, H]: the forward state after each sentence's last token and the
        // backward state after its first.
        return out(drop(Tensor.concatenate([hidden[0], hidden[1]], axis: 1)))
    }
}

/// A fastText-style classifier (Joulin et al. 2017): the mean of the embeddings of a
/// sentence's words and of its word bigrams (hashed into `bigramBuckets` rows), then a linear
/// layer. Fast, and strong on short sentiment sentences. Names: `emb`, `bigrams`, `out`.
public final class BagOfWordsClassifier: Module, SequenceClassifier {
    public let emb: Embedding
    public let bigrams: Embedding
    public let drop: Dropout
    public let out: Linear
    public let bigramBuckets: Int

    public init(vocabularySize: Int, classes: Int, embedding: Int = 64, bigramBuckets: Int = 16_384, dropout: Float = 0.3) {
        require(bigramBuckets > 1, "BagOfWordsClassifier: bigramBuckets must be at least 2")
        emb = Embedding(vocabularySize, embedding, paddingIndex: 0)
        // Row 0 of the bigram table is padding: sentences of one word have no bigram.
        bigrams = Embedding(bigramBuckets, embedding, paddingIndex: 0)
        drop = Dropout(p: dropout)
        out = Linear(embedding, classes)
        self.bigramBuckets = bigramBuckets
        // fastText's initialization: small input vectors, so the first steps train the
        // output layer on near-zero features rather than fit random ones.
        for table in [emb, bigrams] {
            var values = Initializer.uniform(bound: 1 / Float(embedding)).make([table.count, embedding])
            values.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 0, count: embedding) }
            table.weight = values
        }
    }

    /// The bucket of the bigram (first, second), in 1..<bigramBuckets.
    public func bucket(_ first: Int, _ second: Int) -> Int {
        // A fixed multiplicative mix, so buckets do not depend on Swift's per-process hash seed.
        let mixed = (UInt64(truncatingIfNeeded: first) &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(truncatingIfNeeded: second) &* 0xC2B2_AE3D_27D4_EB4F
        return 1 + Int((mixed >> 17) % UInt64(bigramBuckets - 1))
    }

    public func logits(for batch: SequenceBatch) -> Tensor {
        // Every word and bigram of a sentence weighs 1 / (its words + its bigrams), padding 0,
        // so one weighted sum per table is the mean of both.
        let (n, t) = (batch.count, batch.steps)
        let pairSteps = max(t - 1, 1)
        let tokens = batch.tokens.scalars
        var pairs = [Int](repeating: 0, count: n * pairSteps)
        var weights = [Float](repeating: 0, count: n * t), pairWeights = [Float](repeating: 0, count: n * pairSteps)
        for (row, length) in batch.lengths.enumerated() {
            let share = 1 / Float(2 * length - 1)
            for step in 0..<length { weights[row * t + step] = share }
            for step in 0..<(length - 1) {
                pairs[row * pairSteps + step] = bucket(tokens[row * t + step], tokens[row * t + step + 1])
                pairWeights[row * pairSteps + step] = share
            }
        }
        let words = (emb(batch.tokens) * Tensor(weights, shape: [n, t, 1])).sum(axis: 1)
        let bigramSum = (bigrams(IndexTensor(pairs, shape: [n, pairSteps])) * Tensor(pairWeights, shape: [n, pairSteps, 1])).sum(axis: 1)
        return out(drop(words + bigramSum))
    }
}

/// How a `TransformerClassifier` turns its encoded tokens into one vector per sentence.
public enum SequencePooling: String, CaseIterable, Sendable {
    /// The mean over the sentence's real tokens (padding excluded).
    case mean
    /// The first token's vector, as BERT's [CLS].
    case first
}

/// A Transformer encoder over the words (Vaswani et al. 2017): embeddings scaled by √E plus
/// sinusoidal positions, pre-LN encoder layers whose attention ignores padding through a key
/// padding mask, a final layer norm, pooling, dropout and a linear layer to the classes.
/// Names: `emb`, `encoder.layers.{i}.…` (PyTorch's `TransformerEncoderLayer` names),
/// `encoder.norm`, `out`.
public final class TransformerClassifier: Module, SequenceClassifier {
    public let emb: Embedding
    public let positions: SinusoidalPositionalEncoding
    public let encoder: TransformerEncoder
    public let drop: Dropout
    public let out: Linear
    public let pooling: SequencePooling

    /// The attention heads it has unless told otherwise.
    public static let defaultHeads = 4

    public init(vocabularySize: Int, classes: Int, embedding: Int = 128, heads: Int = defaultHeads, layers: Int = 2,
                feedForward: Int = 256, dropout: Float = 0.1, pooling: SequencePooling = .mean,
                maximumLength: Int = 1024) {
        emb = Embedding(vocabularySize, embedding, paddingIndex: 0)
        positions = SinusoidalPositionalEncoding(dimension: embedding, maximumLength: maximumLength)
        encoder = TransformerEncoder(count: layers, norm: LayerNorm(embedding)) {
            TransformerEncoderLayer(modelDimension: embedding, heads: heads, feedForwardDimension: feedForward,
                                    dropout: dropout, activation: .gelu, batchFirst: true, normFirst: true)
        }
        drop = Dropout(p: dropout)
        out = Linear(embedding, classes)
        self.pooling = pooling
    }

    public func logits(for batch: SequenceBatch) throws -> Tensor {
        guard batch.steps <= positions.maximumLength else {
            throw ModelError("TransformerClassifier: a batch of \(batch.steps) tokens is longer than the "
                             + "\(positions.maximumLength) positions it encodes")
        }
        let width = emb.dimension
        let embedded = positions(emb(batch.tokens) * Float(width).squareRoot())
        let real = batch.mask
        let encoded = encoder(drop(embedded), keyPaddingMask: batch.isFull ? nil : 1 - real)
        let pooled: Tensor
        switch pooling {
        case .mean:
            let weights = (real / Tensor(batch.lengths.map(Float.init), shape: [batch.count, 1])).unsqueezed(axis: 2)
            pooled = (encoded * weights).sum(axes: [1])
        case .first:
            pooled = encoded.slice(axis: 1, start: 0, end: 1).reshaped([batch.count, width])
        }
        return out(drop(pooled))
    }
}
