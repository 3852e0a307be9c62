// Sentence classifiers over token ids: Kim's CNN.

import Foundation
import Synapse

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
}

/// A model from padded token ids [N, T] to class logits [N, C].
public protocol SequenceClassifier: Module {
    /// The padded length a batch must have at least.
    var minimumLength: Int { get }
    func callAsFunction(_ tokens: IndexTensor) -> Tensor
}

extension SequenceClassifier {
    /// Token ids padded with `paddingIndex` to at least `minimumLength`, so a short sentence
    /// still fits the widest filter.
    public func padded(_ batch: SequenceBatch, paddingIndex: Int = 0) -> IndexTensor {
        guard batch.steps < minimumLength else { return batch.tokens }
        let (n, t) = (batch.count, batch.steps)
        var values = [Int](repeating: paddingIndex, count: n * minimumLength)
        let tokens = batch.tokens.scalars
        for row in 0..<n {
            for step in 0..<t { values[row * minimumLength + step] = tokens[row * t + step] }
        }
        return IndexTensor(values, shape: [n, minimumLength])
    }
}
