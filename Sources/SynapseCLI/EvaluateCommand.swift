// `synapse evaluate`: measure a saved model on a dataset's test split.

import ArgumentParser
import Foundation
import Synapse
import SynapseExamples
import SynapseKernels

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a saved model on a dataset's test split: accuracy, per-class metrics, confusion matrix.")

    @Option(help: "A model saved by `synapse train --save`.")
    var checkpoint: String
    @Option(help: "Dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: DatasetName = .digits
    @Option(help: "Directory holding the dataset's IDX files.")
    var dataDir: String?
    @Flag(help: "Print one JSON object with the results as the last line of output.")
    var json = false

    func run() throws {
        let (tensors, metadata): ([String: Tensor], [String: String])
        do {
            (tensors, metadata) = try SafeTensors.read(checkpoint)
        } catch {
            throw CLIError("\(error)")
        }
        guard let modelName = metadata["model"].flatMap(ModelName.init(rawValue:)),
              let inputShape = metadata["input_shape"].map({ $0.split(separator: ",").compactMap { Int($0) } }),
              let classes = metadata["classes"].flatMap(Int.init) else {
            throw CLIError("\(checkpoint): not a checkpoint written by `synapse train` (model metadata missing)")
        }
        let data: (train: TensorDataset, test: TensorDataset)
        do {
            data = try dataset.load(directory: dataDir)
        } catch {
            throw CLIError("\(error)")
        }
        let testShape = Array(data.test.inputs.shape.dropFirst())
        guard testShape == inputShape else {
            throw CLIError("\(checkpoint) was trained on inputs of shape \(inputShape); \(dataset.rawValue) has \(testShape)")
        }
        let model: Module
        do {
            model = try modelName.build(inputShape: inputShape, classes: classes)
        } catch {
            throw CLIError("\(error)")
        }
        do {
            try Checkpoint.load(into: model, from: checkpoint)
        } catch {
            throw CLIError("\(error)")
        }
        // Apply the input standardization the model was trained with.
        let transform = tensors["input.mean"].flatMap { mean in
            tensors["input.std"].map { standardize(mean: mean, standardDeviation: $0) }
        }
        let metrics = evaluate(model, on: DataLoader(data.test, batchSize: 1000, transform: transform), classCount: classes)
        if json {
            printJSON(["model": modelName.rawValue, "dataset": dataset.rawValue, "test_loss": Double(metrics.loss),
                       "test_accuracy": Double(metrics.accuracy), "parameters": model.parameterCount,
                       "threads": Kernels.threadCount, "examples": metrics.count])
        } else {
            print(metrics.report(classNames: data.test.classNames))
            print(String(format: "\ntest loss %.4f  test accuracy %.4f  (%d examples)", metrics.loss, metrics.accuracy, metrics.count))
        }
    }
}
