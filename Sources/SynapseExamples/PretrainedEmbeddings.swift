// Starting a classifier's word embeddings from pretrained vectors (Kim 2014's CNN-static and
// CNN-non-static).

import Foundation
import Synapse

/// Pretrained word vectors laid out for a word vocabulary.
public struct PretrainedEmbeddingTable {
    /// [vocabulary count, vectors' width]: a word's pretrained vector where the file has it;
    /// otherwise U(−a, a) with a = √3 σ, σ the pretrained numbers' standard deviation (Kim
    /// 2014), drawn from the global generator; zero for `<pad>`.
    public let weights: Tensor
    /// How many vocabulary words (not counting `<pad>` and `<unk>`) have a pretrained vector.
    public let covered: Int

    public init(vocabulary: [String], vectors: WordVectors) {
        let width = vectors.dimension
        let bound = Float(3).squareRoot() * vectors.standardDeviation
        var table = Initializer.uniform(bound: bound).make([vocabulary.count, width])
        var covered = 0
        table.withUnsafeMutableBufferPointer { values in
            for (row, word) in vocabulary.enumerated() {
                if row == WordTokenizer.paddingID {
                    values.baseAddress!.advanced(by: row * width).update(repeating: 0, count: width)
                } else if row != WordTokenizer.unknownID, let vector = vectors.vector(for: word) {
                    vector.withUnsafeBufferPointer { values.baseAddress!.advanced(by: row * width).update(from: $0.baseAddress!, count: width) }
                    covered += 1
                }
            }
        }
        weights = table
        self.covered = covered
    }
}

extension TrainedTextClassifier {
    /// A new, untrained word-level classifier whose vocabulary is `tokenizer`'s plus the first
    /// `pretrainedWords` words of `vectors` (their most frequent, in the usual file order), so
    /// that words never seen in training still arrive with a meaningful vector, and whose
    /// embedding table starts from `vectors` (`PretrainedEmbeddingTable`). With `freeze` the
    /// table stays as it starts (Kim's CNN-static); otherwise it is trained with the rest
    /// (CNN-non-static). Also returns how many vocabulary words have pretrained vectors.
    public static func pretrained(kind: TextClassifierKind, tokenizer: WordTokenizer, classes: [String], vectors: WordVectors,
                                  pretrainedWords: Int, freeze: Bool = false,
                                  maximumLength: Int = 100) throws -> (classifier: TrainedTextClassifier, covered: Int) {
        if let problem = kind.problem(withEmbeddingWidth: vectors.dimension) { throw ModelError("pretrained vectors: \(problem)") }
        let vocabulary = tokenizer.adding(vectors.words.prefix(max(0, pretrainedWords)))
        let table = PretrainedEmbeddingTable(vocabulary: vocabulary.vocabulary, vectors: vectors)
        let model = kind.make(vocabularySize: vocabulary.count, classes: classes.count, embedding: vectors.dimension)
        model.wordEmbedding.weight = table.weights
        if freeze { model.wordEmbedding.freeze() }
        let classifier = TrainedTextClassifier(kind: kind, model: model, tokenizer: .word(vocabulary), classes: classes,
                                               maximumLength: maximumLength, metadata: [:])
        return (classifier, table.covered)
    }
}
