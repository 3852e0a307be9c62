// A tagger with its vocabularies: tagging, evaluation, and the checkpoint `synapse tag` uses.

import Foundation
import Synapse

/// A `BiLSTMTagger` with the vocabularies it was trained with, as `synapse tag train --save`
/// writes it: the weights under PyTorch-style names, the architecture and the vocabularies in
/// the metadata, so the file alone rebuilds it.
public struct TrainedTagger {
    /// The metadata value of "task" that marks tagger checkpoints.
    public static let task = "tagger"

    public let model: BiLSTMTagger
    public let vocabulary: TaggerVocabulary
    /// The architecture, as stored in the checkpoint.
    public let configuration: Configuration
    public let metadata: [String: String]

    /// The sizes a tagger is built with.
    public struct Configuration: Sendable, Equatable {
        public var embedding = 100
        public var hidden = 128
        /// Character embedding width; the character CNN is off when `characterFilters` is 0.
        public var characterEmbedding = 30
        public var characterFilters = 50
        public var dropout: Float = 0.33

        public init(embedding: Int = 100, hidden: Int = 128, characterEmbedding: Int = 30, characterFilters: Int = 50,
                    dropout: Float = 0.33) {
            self.embedding = embedding
            self.hidden = hidden
            self.characterEmbedding = characterEmbedding
            self.characterFilters = characterFilters
            self.dropout = dropout
        }
    }

    /// A new, untrained tagger for `vocabulary`.
    public init(vocabulary: TaggerVocabulary, configuration: Configuration = Configuration()) {
        let model = BiLSTMTagger(vocabularySize: vocabulary.words.count,
                                 characters: configuration.characterFilters > 0 ? vocabulary.characterCount : nil,
                                 tags: vocabulary.tags.count, embedding: configuration.embedding, hidden: configuration.hidden,
                                 characterEmbedding: configuration.characterEmbedding,
                                 characterFilters: max(configuration.characterFilters, 1), dropout: configuration.dropout)
        self.init(model: model, vocabulary: vocabulary, configuration: configuration, metadata: [:])
    }

    init(model: BiLSTMTagger, vocabulary: TaggerVocabulary, configuration: Configuration, metadata: [String: String]) {
        self.model = model
        self.vocabulary = vocabulary
        self.configuration = configuration
        self.metadata = metadata
    }

    /// The training task: cross-entropy over every real token whose tag training knows.
    public func trainingTask() -> TokenPredictionTask<SequenceBatch> {
        let model = model, tags = vocabulary.tags.count
        return TokenPredictionTask { batch in
            let logits = try model(batch)
            return (logits.reshaped([-1, tags]), batch.targets.reshaped([batch.targets.count]))
        }
    }

    /// The tag ids of each sentence of forms, in evaluation mode, 256 sentences at a time.
    public func predict(_ sentences: [[String]]) throws -> [[Int]] {
        let nonEmpty = sentences.indices.filter { !sentences[$0].isEmpty }
        let dataset = vocabulary.dataset(forms: nonEmpty.map { sentences[$0] })
        var predictions = sentences.map { _ in [Int]() }
        for start in stride(from: 0, to: nonEmpty.count, by: 256) {
            let rows = Array(start..<min(start + 256, nonEmpty.count))
            let batch = dataset.batch(rows)
            let best = try model.inference { try model(batch) }.argmax(axis: 2).scalars
            for (row, index) in rows.enumerated() {
                let offset = row * batch.steps
                predictions[nonEmpty[index]] = Array(best[offset..<(offset + batch.lengths[row])])
            }
        }
        return predictions
    }

    /// The tags of each sentence of forms.
    public func tag(_ sentences: [[String]]) throws -> [[String]] {
        try predict(sentences).map { $0.map { vocabulary.tags[$0] } }
    }

    /// Token accuracy and the confusion matrix on gold-tagged sentences.
    public func evaluate(_ sentences: [CoNLLU.Sentence], tag: (CoNLLU.Word) -> String = { $0.upos }) throws -> TaggingEvaluation {
        let predicted = try predict(sentences.map { $0.words.map(\.form) })
        let count = vocabulary.tags.count
        var confusion = Array(repeating: Array(repeating: 0, count: count), count: count)
        var unseen: [String: Int] = [:]
        for (sentence, guesses) in zip(sentences, predicted) {
            for (word, guess) in zip(sentence.words, guesses) {
                let gold = tag(word)
                if let id = vocabulary.tagID(gold) { confusion[id][guess] += 1 } else { unseen[gold, default: 0] += 1 }
            }
        }
        return TaggingEvaluation(tags: vocabulary.tags, confusion: confusion, unseenTags: unseen)
    }

    /// Writes the weights, the architecture, the vocabularies and `metadata` to `path`.
    public func save(to path: String, metadata extra: [String: String] = [:]) throws {
        var metadata = extra
        metadata["task"] = Self.task
        metadata["embedding"] = String(configuration.embedding)
        metadata["hidden"] = String(configuration.hidden)
        metadata["character_embedding"] = String(configuration.characterEmbedding)
        metadata["character_filters"] = String(configuration.characterFilters)
        metadata["dropout"] = String(configuration.dropout)
        metadata["vocabulary"] = vocabulary.words.serialized
        metadata["characters"] = vocabulary.serializedCharacters
        metadata["tags"] = vocabulary.serializedTags
        try Checkpoint.save(model, metadata: metadata, to: path)
    }

    /// Loads the tagger at `path`; errors name the file and what is wrong with it.
    public init(checkpoint path: String) throws {
        let file = try CheckpointFile(path: path)
        guard file.metadata["task"] == Self.task else {
            throw ModelError("\(path): not a tagger checkpoint written by `synapse tag train` (its task is \(file.metadata["task"] ?? "not recorded"))")
        }
        func integer(_ key: String, from lower: Int) throws -> Int {
            let text = try file.requireMetadata(key)
            guard let value = Int(text), (lower...4096).contains(value) else {
                throw ModelError("\(path): metadata \(key) \"\(text)\" must be an integer from \(lower) to 4096")
            }
            return value
        }
        let vocabulary: TaggerVocabulary
        do {
            vocabulary = try TaggerVocabulary(serializedWords: try file.requireMetadata("vocabulary"),
                                              characters: try file.requireMetadata("characters"), tags: try file.requireMetadata("tags"))
        } catch let error as TextError {
            throw ModelError("\(path): \(error)")
        }
        let configuration = Configuration(embedding: try integer("embedding", from: 1), hidden: try integer("hidden", from: 1),
                                          characterEmbedding: try integer("character_embedding", from: 1),
                                          characterFilters: try integer("character_filters", from: 0), dropout: 0)
        let tagger = TrainedTagger(vocabulary: vocabulary, configuration: configuration)
        let expected = Set(tagger.model.namedParameters.map(\.0))
        if let name = Set(file.tensors.keys).subtracting(expected).sorted().first {
            throw ModelError("\(path): unexpected tensor \(name) for this tagger (renamed or corrupted?)")
        }
        for name in expected { try file.requireFloatingPoint(name) }
        try file.load(modules: [("", tagger.model)])
        tagger.model.eval()
        self.init(model: tagger.model, vocabulary: vocabulary, configuration: configuration, metadata: file.metadata)
    }
}

/// How a tagger did on gold-tagged sentences.
public struct TaggingEvaluation: Sendable {
    public let tags: [String]
    /// Counts of gold tag (row) against predicted tag (column).
    public let confusion: [[Int]]
    /// Gold tags the tagger does not know, with their counts; each such word is an error.
    public let unseenTags: [String: Int]

    /// Words tagged, unseen-tag words included.
    public var count: Int { confusion.joined().reduce(0, +) + unseenTags.values.reduce(0, +) }

    /// The share of words whose tag is right.
    public var accuracy: Double {
        let hits = tags.indices.reduce(0) { $0 + confusion[$1][$1] }
        return count == 0 ? 0 : Double(hits) / Double(count)
    }

    /// Per-tag precision, recall and F1, as a classifier's.
    public var metrics: ClassificationMetrics { ClassificationMetrics(confusion: confusion, loss: 0) }

    /// The `limit` most frequent errors: gold tag, predicted tag, count, most frequent first.
    public func confusions(limit: Int = 10) -> [(gold: String, predicted: String, count: Int)] {
        var errors: [(gold: String, predicted: String, count: Int)] = []
        for (row, counts) in confusion.enumerated() {
            for (column, count) in counts.enumerated() where row != column && count > 0 {
                errors.append((tags[row], tags[column], count))
            }
        }
        return Array(errors.sorted { $0.count > $1.count || ($0.count == $1.count && ($0.gold, $0.predicted) < ($1.gold, $1.predicted)) }
            .prefix(limit))
    }
}
