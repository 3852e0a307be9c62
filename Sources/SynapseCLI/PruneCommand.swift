// `synapse prune`: prune a trained classifier, fine-tune it, and measure what that bought.

import ArgumentParser
import Foundation
import Synapse
import SynapseExamples
import SynapseKernels

extension PruningScope: ExpressibleByArgument {}
extension ChannelNorm: ExpressibleByArgument {}

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune a model saved by `synapse train`, fine-tune it, and save it sparse (or smaller, with --structured).",
        discussion: """
            Unstructured pruning zeroes the smallest weights (by magnitude, over all layers together unless \
            --scope per-layer) and keeps them zero through fine-tuning; the checkpoint stores only the nonzeros, and \
            inference runs pruned fully connected layers as sparse products where that is faster. --structured instead \
            removes the --sparsity share of the channels of every hidden convolution and linear layer (smallest norm \
            first), which gives a smaller dense model.
            Prints accuracy before and after, checkpoint sizes, and the time to classify the test set with the \
            original and the pruned model, measured in alternating rounds.
            Example: synapse prune --checkpoint seed-cnn.safetensors --sparsity 0.9 --fine-tune-epochs 2 --save pruned.safetensors
            """)

    @Option(help: "A model saved by `synapse train --save`.")
    var checkpoint: String
    @Option(help: "The share of weights (or, with --structured, of channels) to remove, in [0, 1).")
    var sparsity: Double
    @Flag(help: "Remove whole channels and units instead of single weights.")
    var structured = false
    @Option(help: "Unstructured threshold: global (one over all layers) or per-layer.")
    var scope: PruningScope = .global
    @Option(help: "Structured ranking of channels: l1 or l2 norm of their weights.")
    var norm: ChannelNorm = .l1
    @Flag(help: "Raise the sparsity gradually during fine-tuning on a cubic schedule (Zhu & Gupta) instead of at once.")
    var gradual = false
    @Option(help: "Epochs of fine-tuning after pruning (SGD with momentum), 0 for none.")
    var fineTuneEpochs = 2
    @Option(help: "Fine-tuning learning rate.")
    var lr: Float = 0.01
    @Option(help: "Fine-tuning momentum.")
    var momentum: Float = 0.9
    @Option(help: "Fine-tuning mini-batch size.")
    var batchSize = 64
    @Option(help: "Seed for fine-tuning's shuffling.")
    var seed: UInt64 = 0
    @Option(help: "Dataset (default: the one the model was trained on).")
    var dataset: DatasetName?
    @Option(help: "Directory holding the dataset's IDX files.")
    var dataDir: String?
    @Option(help: "Where to save the pruned model.")
    var save: String
    @Flag(help: "Save the pruned model densely, as a plain checkpoint PyTorch's load_state_dict reads (zeros included).")
    var dense = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard sparsity >= 0, sparsity < 1 else { throw ValidationError("--sparsity must lie in [0, 1), got \(sparsity)") }
        guard fineTuneEpochs >= 0 else { throw ValidationError("--fine-tune-epochs must be 0 or more") }
        guard !gradual || fineTuneEpochs > 0 else { throw ValidationError("--gradual needs --fine-tune-epochs of at least 1") }
        guard !(gradual && structured) else { throw ValidationError("--gradual applies to unstructured pruning only") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard momentum >= 0 && momentum < 1 else { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        guard (1...1_000_000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 1000000") }
    }

    func run() throws {
        try checkWritable(save, flag: "--save")
        common.applyThreadCount()
        let classifier = try reportingErrors { try TrainedClassifier(checkpoint: checkpoint) }
        let datasetName = dataset ?? classifier.dataset ?? .digits
        let data = try reportingErrors { try datasetName.load(directory: dataDir) }
        guard Array(data.test.inputs.shape.dropFirst()) == classifier.inputShape else {
            throw CLIError("\(checkpoint) was trained on inputs of shape \(classifier.inputShape); "
                           + "\(datasetName.rawValue) has \(Array(data.test.inputs.shape.dropFirst()))")
        }
        var configuration = PruningConfiguration(sparsity: sparsity)
        configuration.structured = structured
        configuration.scope = scope
        configuration.norm = norm
        configuration.gradual = gradual
        configuration.fineTuneEpochs = fineTuneEpochs
        configuration.learningRate = lr
        configuration.momentum = momentum
        configuration.batchSize = batchSize
        configuration.seed = seed
        if !common.json {
            print("pruning \(classifier.modelName.rawValue) (\(classifier.model.parameterCount) parameters) to "
                  + "\(structured ? "\(sparsity) of its channels removed" : "sparsity \(sparsity) (\(scope.rawValue))")"
                  + "\(gradual ? ", gradually" : ""); \(fineTuneEpochs) fine-tuning epochs; \(Kernels.threadCount) threads")
        }
        let outcome = try reportingErrors {
            try ClassifierPruning.run(classifier, checkpoint: checkpoint, train: data.train, test: data.test,
                                      configuration: configuration, quiet: common.json)
        }
        let classes = classifier.classNames.count
        let bytesBefore = try reportingErrors { try savedBytes(classifier.model as Module, classifier: classifier, widths: classifier.widths,
                                                               classes: classes, dataset: datasetName, sparse: false) }
        try reportingErrors {
            try TrainedClassifier.save(outcome.model as Module, modelName: classifier.modelName, widths: outcome.widths,
                                       dataset: datasetName, inputShape: classifier.inputShape, classes: classes,
                                       normalize: classifier.normalize, sparse: !dense, to: save)
        }
        let bytesAfter = (try? FileManager.default.attributesOfItem(atPath: save)[.size] as? Int) ?? 0
        if common.json {
            printJSON(["sparsity": outcome.sparsity, "accuracy_before": Double(outcome.accuracyBefore),
                       "accuracy_after": Double(outcome.accuracyAfter), "bytes_before": bytesBefore, "bytes_after": bytesAfter,
                       "inference_seconds_dense": outcome.inferenceSecondsDense,
                       "inference_seconds_sparse": outcome.inferenceSecondsSparse,
                       "inference_seconds_pruned_dense_kernels": outcome.inferenceSecondsPrunedDense,
                       "parameters_after": outcome.model.parameterCount, "widths": outcome.widths, "threads": Kernels.threadCount])
            return
        }
        if structured {
            print("hidden widths \(classifier.widths.map(String.init).joined(separator: ", ")) → "
                  + "\(outcome.widths.map(String.init).joined(separator: ", ")); parameters \(classifier.model.parameterCount) → "
                  + "\(outcome.model.parameterCount)"
                  + String(format: " (%.1f%% of the prunable weights removed)", 100 * outcome.sparsity))
        } else {
            print(outcome.report)
        }
        print(String(format: "test accuracy %.4f before, %.4f after (%+.2f points)", outcome.accuracyBefore, outcome.accuracyAfter,
                     100 * (outcome.accuracyAfter - outcome.accuracyBefore)))
        print(String(format: "checkpoint %d bytes dense, %d bytes %@ (%.1f× smaller)", bytesBefore, bytesAfter,
                     dense ? "pruned, saved dense" : "pruned", Double(bytesBefore) / Double(max(bytesAfter, 1))))
        print(String(format: "inference over %d test images: %.3f s original, %.3f s pruned (%.2f×; %.3f s on dense kernels)",
                     data.test.count, outcome.inferenceSecondsDense, outcome.inferenceSecondsSparse,
                     outcome.inferenceSecondsSparse / outcome.inferenceSecondsDense, outcome.inferenceSecondsPrunedDense))
        print("saved \(save)")
    }

    /// The size of `model`'s checkpoint without optimizer state, written to a temporary file.
    private func savedBytes(_ model: Module, classifier: TrainedClassifier, widths: [Int], classes: Int, dataset: DatasetName,
                            sparse: Bool) throws -> Int {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-prune-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TrainedClassifier.save(model, modelName: classifier.modelName, widths: widths, dataset: dataset,
                                   inputShape: classifier.inputShape, classes: classes, normalize: classifier.normalize,
                                   sparse: sparse, to: path)
        return (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
