// `synapse summary`: a model's layers, output shapes and parameters, as Keras' model.summary().

import ArgumentParser
import Foundation
import Synapse
import SynapseExamples

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a model's layers with output shapes, parameter counts and memory.",
        discussion: """
            Examples:
              synapse summary --model cnn --input 64,1,28,28
              synapse summary --checkpoint mlp.safetensors
            """)

    @Option(help: "Model architecture: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelName?
    @Option(help: "The shape of one input batch, batch first, e.g. 64,1,28,28 (default for --checkpoint: one example).")
    var input: String?
    @Option(help: "Classes the classifier predicts (with --model).")
    var classes = 10
    @Option(help: "A checkpoint saved by `synapse train` or `synapse lm train` to summarize instead of --model.")
    var checkpoint: String?
    @Option(help: "How many levels of nested modules to list.")
    var depth = 3
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (model == nil) != (checkpoint == nil) else { throw ValidationError("give either --model or --checkpoint") }
        guard model == nil || input != nil else { throw ValidationError("--model needs --input, the shape of one batch (e.g. 64,1,28,28)") }
        guard depth >= 0 else { throw ValidationError("--depth must be non-negative") }
        guard (1...65_536).contains(classes) else { throw ValidationError("--classes must be from 1 to 65536") }
        if let input { _ = try SummaryCommand.shape(input) }
    }

    /// "64,1,28,28" or "64x1x28x28" as [64, 1, 28, 28]; every size positive and the batch
    /// at most 2^24 values.
    static func shape(_ text: String) throws -> [Int] {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == "x" }).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--input \(text): give positive sizes separated by commas, batch first (e.g. 64,1,28,28)")
        }
        let shape = parts.map { $0! }
        guard shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }) <= 1 << 24 else {
            throw ValidationError("--input \(text): more than 2^24 values in one batch")
        }
        return shape
    }

    func run() throws {
        common.applyThreadCount()
        let summary: ModelSummary = try reportingErrors {
            if let model {
                let shape = try SummaryCommand.shape(input!)
                guard shape.count >= 2 else { throw CLIError("--input \(input!): give the batch size first, then one example's shape") }
                let network = try model.build(inputShape: Array(shape.dropFirst()), classes: classes)
                return ModelSummary(network, input: Tensor.zeros(shape), maxDepth: depth)
            }
            return try SummaryCommand.summary(ofCheckpoint: checkpoint!, input: input.map(SummaryCommand.shape), depth: depth)
        }
        if common.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(summary)
        }
    }

    /// The summary of a classifier or language-model checkpoint, traced on `input` (for a
    /// language model, [batch, tokens]) or on one example.
    static func summary(ofCheckpoint path: String, input: [Int]?, depth: Int) throws -> ModelSummary {
        let file = try CheckpointFile(path: path)
        if file.metadata["task"] == TrainedLanguageModel.task {
            let trained = try TrainedLanguageModel(checkpoint: path)
            let shape = input ?? [1, min(trained.model.contextLength ?? 64, 64)]
            guard shape.count == 2 else { throw CLIError("--input: a language model takes [batch, tokens], got \(shape)") }
            if let context = trained.model.contextLength, shape[1] > context {
                throw CLIError("--input: \(shape[1]) tokens is longer than the model's context of \(context)")
            }
            let tokens = IndexTensor(Array(repeating: 0, count: shape[0] * shape[1]), shape: shape)
            let batch = SequenceBatch(tokens: tokens, targets: tokens, lengths: Array(repeating: shape[1], count: shape[0]))
            let task = trained.model.trainingTask()
            return try ModelSummary(trained.model, inputShape: shape, maxDepth: depth) { try task.forward(batch).logits }
        }
        let trained = try TrainedClassifier(checkpoint: path)
        let shape = input ?? [1] + trained.inputShape
        guard Array(shape.dropFirst()) == trained.inputShape else {
            throw CLIError("--input \(shape): the checkpoint's model takes examples of shape \(trained.inputShape)")
        }
        return ModelSummary(trained.model, input: Tensor.zeros(shape), maxDepth: depth)
    }
}
