// A language model saved by `synapse lm train`, loaded back for generation.

import Foundation
import Synapse

/// A language model (recurrent or GPT) with its tokenizer, as `synapse lm train --save` writes
/// it: the weights under PyTorch's names, the architecture and the vocabulary in the metadata.
public struct TrainedLanguageModel {
    /// The metadata value of "task" that marks language-model checkpoints.
    public static let task = "language-model"

    public let model: any LanguageModel
    public let tokenizer: LanguageModelTokenizer
    /// The metadata as saved (training steps, validation loss, context length).
    public let metadata: [String: String]

    public init(model: any LanguageModel, tokenizer: CharacterTokenizer, metadata: [String: String] = [:]) {
        self.init(model: model, tokenizer: .characters(tokenizer), metadata: metadata)
    }

    public init(model: any LanguageModel, tokenizer: LanguageModelTokenizer, metadata: [String: String] = [:]) {
        self.model = model
        self.tokenizer = tokenizer
        self.metadata = metadata
    }

    /// Writes the model, its architecture and its vocabulary, plus `metadata`, to `path`.
    public func save(to path: String, metadata extra: [String: String] = [:]) throws {
        var metadata = extra
        metadata["task"] = Self.task
        metadata["model"] = model.kindName
        metadata.merge(model.architecture) { $1 }
        metadata["tokenizer"] = tokenizer.kindName
        metadata["vocabulary"] = tokenizer.serialized
        try Checkpoint.save(model, metadata: metadata, to: path)
    }

    /// Loads the checkpoint at `path`; errors name the file and what is wrong with it, and
    /// say which command a classifier checkpoint belongs to.
    public init(checkpoint path: String) throws {
        let file = try CheckpointFile(path: path)
        guard file.metadata["task"] == Self.task else {
            if file.metadata["task"] == nil, file.metadata["classes"] != nil {
                throw ModelError("\(path) is a classifier checkpoint (from `synapse train`), not a language model; "
                                 + "use it with `synapse evaluate` or `synapse predict`")
            }
            throw ModelError("\(path): not a language-model checkpoint written by `synapse lm train` (task metadata missing)")
        }
        func integer(_ key: String, limit: Int) throws -> Int {
            let text = try file.requireMetadata(key)
            guard let value = Int(text), (1...limit).contains(value) else {
                throw ModelError("\(path): metadata \(key) \"\(text)\" must be an integer from 1 to \(limit)")
            }
            return value
        }
        let kindName = try file.requireMetadata("model")
        // Checkpoints from before BPE language models hold characters and no "tokenizer" key.
        let tokenizer = try LanguageModelTokenizer(kindName: file.metadata["tokenizer"] ?? "char",
                                                   serialized: try file.requireMetadata("vocabulary"), source: path)
        guard tokenizer.count > 0 else { throw ModelError("\(path): the vocabulary is empty") }
        // Every tensor is compared with the architecture the metadata describes before that
        // architecture is built, so a small file cannot make it allocate a large model.
        let needed: [(name: String, shape: [Int])]
        let describe: String
        let build: () -> any LanguageModel
        if kindName == "gpt" {
            let bias = try file.requireMetadata("bias")
            guard bias == "true" || bias == "false" else { throw ModelError("\(path): metadata bias \"\(bias)\" must be true or false") }
            let configuration = GPTConfiguration(vocabularySize: tokenizer.count, context: try integer("context", limit: 65_536),
                                                 layers: try integer("layers", limit: 256), heads: try integer("heads", limit: 1024),
                                                 embedding: try integer("embedding", limit: 65_536), bias: bias == "true")
            if let problem = configuration.problem { throw ModelError("\(path): \(problem)") }
            needed = GPT.tensorShapes(configuration)
            describe = "\(configuration.layers) layers, \(configuration.heads) heads, embedding \(configuration.embedding), "
                + "context \(configuration.context), \(tokenizer.count) tokens"
            build = { GPT(configuration) }
        } else {
            guard let kind = RecurrentModelName(rawValue: kindName) else {
                throw ModelError("\(path): unknown language-model kind \"\(kindName)\"")
            }
            let (embedding, hidden, layers) = (try integer("embedding", limit: 65_536), try integer("hidden", limit: 65_536),
                                               try integer("layers", limit: 64))
            needed = CharacterLanguageModel.tensorShapes(vocabularySize: tokenizer.count, kind: kind, embedding: embedding,
                                                         hidden: hidden, layers: layers)
            describe = "\(layers) layers, hidden \(hidden), embedding \(embedding), \(tokenizer.count) tokens"
            build = { CharacterLanguageModel(vocabularySize: tokenizer.count, kind: kind, embedding: embedding,
                                             hidden: hidden, layers: layers) }
        }
        for (name, shape) in needed {
            guard let tensor = file.tensors[name] else {
                throw ModelError("\(path): no tensor named \(name), which this \(kindName) language model needs")
            }
            try file.requireFloatingPoint(name)
            guard tensor.shape == shape else {
                throw ModelError("\(path): tensor \(name) has shape \(tensor.shape), but the metadata's \(kindName) model "
                                 + "(\(describe)) needs \(shape)")
            }
        }
        if let name = Set(file.tensors.keys).subtracting(needed.map(\.name)).sorted().first {
            throw ModelError("\(path): unexpected tensor \(name) for a \(kindName) language model (renamed or corrupted?)")
        }
        let model = build()
        try file.load(modules: [("", model)])
        model.eval()
        self.init(model: model, tokenizer: tokenizer, metadata: file.metadata)
    }
}
