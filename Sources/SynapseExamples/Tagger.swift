// Sequence labelling: a BiLSTM tagger over word embeddings and character-level features.

import Foundation
import Synapse

/// A word's spelling as a vector: character embeddings, one `Conv1d` over them (width 3,
/// padded by 1) and the maximum over positions, as Ma and Hovy (2016)'s character CNN. It
/// gives words never seen in training (8 % of English web text's dev tokens) features from
/// their suffixes, capitals and digits. With width 3 (the default) a word's features do not
/// depend on the other words of its batch (see `CharacterBatch`); wider filters would see
/// partly padded windows whose count depends on the batch's longest word.
public final class CharacterCNN: Module {
    public let emb: Embedding
    public let conv: Conv1d
    /// The number of features per word.
    public let features: Int

    public init(characters: Int, embedding: Int = 30, filters: Int = 50, width: Int = 3, paddingIndex: Int = 0) {
        require(width % 2 == 1, "CharacterCNN: the filter width must be odd, got \(width)")
        emb = Embedding(characters, embedding, paddingIndex: paddingIndex)
        conv = Conv1d(embedding, filters, kernelSize: width, padding: .same)
        features = filters
    }

    /// Features [W, filters] of padded spellings [W, L].
    public func callAsFunction(_ characters: IndexTensor) -> Tensor {
        conv(emb(characters).transposed(1, 2)).max(axis: 2)
    }
}

/// A part-of-speech (or any per-token) tagger: each token's word embedding, concatenated with
/// its `CharacterCNN` features when `characters` is given, runs through a one-layer
/// bidirectional LSTM, and a linear layer gives each token's tag logits. Dropout applies to
/// the LSTM's input and output.
///
/// With `characters: nil` and no dropout it is the PyTorch anchor's `BiLSTMTagger` (word
/// embedding 100, 128 units per direction), with the same parameter names: `emb.weight`,
/// `lstm.weight_ih_l0`, …, `out.weight`; the character encoder adds `chars.emb.weight`,
/// `chars.conv.weight` and `chars.conv.bias`.
public final class BiLSTMTagger: Module {
    public let emb: Embedding
    public let chars: CharacterCNN?
    public let lstm: LSTM
    public let drop: Dropout
    public let out: Linear

    /// - Parameters:
    ///   - vocabularySize: word ids, `<pad>` (0) and `<unk>` (1) included.
    ///   - characters: the character ids of the spellings (0 for padding), or nil for a
    ///     word-only tagger.
    public init(vocabularySize: Int, characters: Int?, tags: Int, embedding: Int = 100, hidden: Int = 128,
                characterEmbedding: Int = 30, characterFilters: Int = 50, dropout: Float = 0.33) {
        emb = Embedding(vocabularySize, embedding, paddingIndex: 0)
        chars = characters.map { CharacterCNN(characters: $0, embedding: characterEmbedding, filters: characterFilters) }
        lstm = LSTM(embedding + (chars?.features ?? 0), hidden, batchFirst: true, bidirectional: true)
        drop = Dropout(p: dropout)
        out = Linear(2 * hidden, tags)
    }

    /// Tag logits [N, T, tags] of a padded batch; positions past a sentence's length are
    /// padding. Throws if the model reads spellings and the batch has none, or if the lengths
    /// do not fit the batch.
    public func callAsFunction(_ batch: SequenceBatch) throws -> Tensor {
        var features = emb(batch.tokens)
        if let chars {
            guard let spellings = batch.characters else {
                throw ModelError("BiLSTMTagger: this tagger reads spellings, but the batch has none (build the dataset with spellings:)")
            }
            let perToken = chars(spellings.characters).indexSelect(axis: 0, indices: spellings.words)
            features = Tensor.concatenate([features, perToken], axis: 2)
        }
        let (hidden, _) = try lstm(drop(features), state: nil, lengths: batch.lengths)
        return out(drop(hidden))
    }
}
