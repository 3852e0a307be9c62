// A lemmatizer saved by `synapse lemma train`, loaded back for `synapse lemma`.

import Foundation
import Synapse

/// A `Lemmatizer` as `synapse lemma train --save` writes it: the weights, the sizes and the
/// vocabulary in the metadata, so the file alone rebuilds it.
public struct TrainedLemmatizer {
    /// The metadata value of "task" that marks lemmatizer checkpoints.
    public static let task = "lemmatizer"
    public let model: Lemmatizer
    public let metadata: [String: String]

    public init(model: Lemmatizer, metadata: [String: String] = [:]) {
        self.model = model
        self.metadata = metadata
    }

    public func save(to path: String, metadata extra: [String: String] = [:]) throws {
        var metadata = extra
        metadata["task"] = Self.task
        metadata["vocabulary"] = model.vocabulary.serialized
        metadata["width"] = String(model.emb.dimension)
        metadata["heads"] = String(model.encoder.layers[0].selfAttention.heads)
        metadata["layers"] = String(model.encoder.layers.count)
        metadata["feed_forward"] = String(model.encoder.layers[0].linear1.outFeatures)
        metadata["maximum_length"] = String(model.maximumLength)
        try Checkpoint.save(model, metadata: metadata, to: path)
    }

    /// Loads the checkpoint at `path`; errors name the file and what is wrong with it.
    public init(checkpoint path: String) throws {
        let file = try CheckpointFile(path: path)
        guard file.metadata["task"] == Self.task else {
            throw ModelError("\(path): not a lemmatizer checkpoint written by `synapse lemma train` (task is "
                             + "\(file.metadata["task"].map { "\"\($0)\"" } ?? "missing"))")
        }
        func integer(_ key: String, limit: Int) throws -> Int {
            let text = try file.requireMetadata(key)
            guard let value = Int(text), (1...limit).contains(value) else {
                throw ModelError("\(path): metadata \(key) \"\(text)\" must be an integer from 1 to \(limit)")
            }
            return value
        }
        let vocabulary = try LemmaVocabulary(serialized: try file.requireMetadata("vocabulary"), source: path)
        let (width, heads) = (try integer("width", limit: 4096), try integer("heads", limit: 64))
        guard width % heads == 0 else { throw ModelError("\(path): width \(width) is not divisible by \(heads) heads") }
        let model = Lemmatizer(vocabulary: vocabulary, width: width, heads: heads, layers: try integer("layers", limit: 32),
                               feedForward: try integer("feed_forward", limit: 65_536),
                               maximumLength: try integer("maximum_length", limit: 4096))
        let expected = Set(model.namedParameters.map(\.0) + model.namedBuffers.map(\.0))
        if let name = Set(file.tensors.keys).symmetricDifference(expected).sorted().first {
            throw ModelError("\(path): tensor \(name) is \(expected.contains(name) ? "missing" : "unexpected") for this lemmatizer")
        }
        for name in expected {
            try file.requireFloatingPoint(name)
            let wanted = (model.namedParameters.first { $0.0 == name }?.1.shape) ?? model.namedBuffers.first { $0.0 == name }!.1.wrappedValue.shape
            guard file.tensors[name]!.shape == wanted else {
                throw ModelError("\(path): tensor \(name) has shape \(file.tensors[name]!.shape), the metadata's model needs \(wanted)")
            }
        }
        try file.load(modules: [("", model)])
        model.eval()
        self.init(model: model, metadata: file.metadata)
    }
}
