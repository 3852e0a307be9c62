// A sentence classifier with its tokenizer and classes: prediction, evaluation, checkpoints.

import Foundation
import Synapse

/// A `SequenceClassifier` with the word tokenizer and class names it was trained with, as
/// `synapse text train --save` writes it: the weights under PyTorch-style names, the model
/// kind, the vocabulary and the classes in the metadata, so the file alone rebuilds it.
public struct TrainedTextClassifier {
    /// The metadata value of "task" that marks sentence-classifier checkpoints.
    public static let task = "text-classifier"

    public let kind: TextClassifierKind
    public let model: any SequenceClassifier
    public let tokenizer: SentenceTokenizer
    public let classes: [String]
    /// Tokens kept per sentence.
    public let maximumLength: Int
    public let metadata: [String: String]

    /// A new, untrained classifier.
    public init(kind: TextClassifierKind, tokenizer: SentenceTokenizer, classes: [String], maximumLength: Int = 100) {
        self.init(kind: kind, model: kind.make(vocabularySize: tokenizer.count, classes: classes.count), tokenizer: tokenizer,
                  classes: classes, maximumLength: maximumLength, metadata: [:])
    }

    init(kind: TextClassifierKind, model: any SequenceClassifier, tokenizer: SentenceTokenizer, classes: [String], maximumLength: Int,
         metadata: [String: String]) {
        require(maximumLength > 0, "TrainedTextClassifier: maximumLength must be positive, got \(maximumLength)")
        self.kind = kind
        self.model = model
        self.tokenizer = tokenizer
        self.classes = classes
        self.maximumLength = maximumLength
        self.metadata = metadata
    }

    /// The token ids of `text` as the model reads them: at most `maximumLength`, and a
    /// sentence with no words at all is one padding token.
    public func encode(_ text: String) -> [Int] {
        let ids = Array(tokenizer.encode(text).prefix(maximumLength))
        return ids.isEmpty ? [WordTokenizer.paddingID] : ids
    }

    /// `texts` with their class ids as a dataset.
    public func dataset(_ texts: [String], labels: [Int]) -> SequenceDataset {
        SequenceDataset(sequences: texts.map(encode), targets: .perSequence(labels))
    }

    /// The training task: cross-entropy of the logits, accuracy, and per-class metrics after
    /// each validation pass.
    public func trainingTask() -> ClassificationTask<SequenceBatch> {
        let model = model
        return ClassificationTask<SequenceBatch>(classCount: classes.count) { batch in (try model.logits(for: batch), batch.targets) }
    }

    /// Each text's most probable class and its class probabilities (in the order of
    /// `classes`), in evaluation mode.
    public func classify(_ texts: [String]) throws -> [(label: Int, probabilities: [Float])] {
        let data = dataset(texts, labels: Array(repeating: 0, count: texts.count))
        var result: [(label: Int, probabilities: [Float])] = []
        for start in stride(from: 0, to: texts.count, by: 256) {
            let batch = data.batch(Array(start..<min(start + 256, texts.count)))
            let probabilities = try model.inference { try model.logits(for: batch).softmax(axis: 1) }
            let values = probabilities.scalars, labels = probabilities.argmax(axis: 1).scalars
            for row in 0..<batch.count {
                result.append((labels[row], Array(values[(row * classes.count)..<((row + 1) * classes.count)])))
            }
        }
        return result
    }

    /// Accuracy, per-class precision, recall and F1 and the confusion matrix on `texts` with
    /// class ids `labels`.
    public func evaluate(_ texts: [String], labels: [Int]) throws -> ClassificationMetrics {
        let predicted = try classify(texts).map(\.label)
        var confusion = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
        for (truth, guess) in zip(labels, predicted) { confusion[truth][guess] += 1 }
        return ClassificationMetrics(confusion: confusion, loss: 0, predictions: predicted)
    }

    /// Writes the weights, the model kind, tokenizer, classes and `metadata` to `path`.
    public func save(to path: String, metadata extra: [String: String] = [:]) throws {
        var metadata = extra
        metadata["task"] = Self.task
        metadata["model"] = kind.rawValue
        metadata["tokenizer"] = tokenizer.kind.rawValue
        metadata["vocabulary"] = tokenizer.serialized
        metadata["classes"] = String(decoding: try JSONSerialization.data(withJSONObject: classes), as: UTF8.self)
        metadata["maximum_length"] = String(maximumLength)
        metadata["embedding_width"] = String(model.wordEmbedding.dimension)
        try Checkpoint.save(model, metadata: metadata, to: path)
    }

    /// Loads the classifier at `path`; errors name the file and what is wrong with it.
    public init(checkpoint path: String) throws {
        let file = try CheckpointFile(path: path)
        guard file.metadata["task"] == Self.task else {
            throw ModelError("\(path): not a sentence-classifier checkpoint written by `synapse text train --save` "
                             + "(its task is \(file.metadata["task"] ?? "not recorded"))")
        }
        let kindName = try file.requireMetadata("model")
        guard let kind = TextClassifierKind(rawValue: kindName) else { throw ModelError("\(path): unknown model kind \"\(kindName)\"") }
        let tokenizerName = file.metadata["tokenizer"] ?? SentenceTokenizerKind.word.rawValue
        guard let tokenizerKind = SentenceTokenizerKind(rawValue: tokenizerName) else {
            throw ModelError("\(path): unknown tokenizer kind \"\(tokenizerName)\"")
        }
        let tokenizer: SentenceTokenizer
        do {
            tokenizer = try SentenceTokenizer(kind: tokenizerKind, serialized: try file.requireMetadata("vocabulary"),
                                              source: "\(path) (metadata vocabulary)")
        } catch let error as TextError {
            throw ModelError("\(path): \(error)")
        }
        guard let classes = try? JSONSerialization.jsonObject(with: Data(try file.requireMetadata("classes").utf8)) as? [String],
              classes.count >= 2 else {
            throw ModelError("\(path): metadata classes is not a JSON list of at least two class names")
        }
        let lengthText = try file.requireMetadata("maximum_length")
        guard let maximumLength = Int(lengthText), maximumLength > 0 else {
            throw ModelError("\(path): metadata maximum_length \"\(lengthText)\" is not a positive integer")
        }
        // Checkpoints from before pretrained vectors have the kind's default width.
        let widthText = file.metadata["embedding_width"] ?? String(kind.defaultEmbeddingWidth)
        guard let width = Int(widthText), width > 0, kind.problem(withEmbeddingWidth: width) == nil else {
            throw ModelError("\(path): metadata embedding_width \"\(widthText)\" is not a word-vector width a \(kindName) classifier can have")
        }
        let model = kind.make(vocabularySize: tokenizer.count, classes: classes.count, embedding: width)
        let expected = Set(model.namedParameters.map(\.0) + model.namedBuffers.map(\.0))
        if let name = Set(file.tensors.keys).subtracting(expected).sorted().first {
            throw ModelError("\(path): unexpected tensor \(name) for a \(kindName) classifier (renamed or corrupted?)")
        }
        for name in expected { try file.requireFloatingPoint(name) }
        try file.load(modules: [("", model)])
        model.eval()
        self.init(kind: kind, model: model, tokenizer: tokenizer, classes: classes, maximumLength: maximumLength, metadata: file.metadata)
    }
}
