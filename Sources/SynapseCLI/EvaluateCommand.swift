// `synapse evaluate`: measure a saved model on a dataset's test split.

import ArgumentParser
import Foundation
import Synapse
import SynapseExamples
import SynapseKernels

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a saved model on a dataset's test split: accuracy, per-class metrics, confusion matrix.",
        discussion: "Example: synapse evaluate --checkpoint cnn.safetensors --dataset fashion-mnist --misclassified mistakes.png")

    @Option(help: "A model saved by `synapse train --save`.")
    var checkpoint: String
    @Option(help: "Dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")) (default: the one the model was trained on).")
    var dataset: DatasetName?
    @Option(help: "Directory holding the dataset's IDX files.")
    var dataDir: String?
    @Option(help: "Write a PNG grid of misclassified test images, captioned with true (green) and predicted (red) labels.")
    var misclassified: String?
    @Option(help: "At most this many images in the --misclassified grid.")
    var misclassifiedLimit = 64
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard misclassifiedLimit > 0 else { throw ValidationError("--misclassified-limit must be positive") }
    }

    func run() throws {
        try checkWritable(misclassified, flag: "--misclassified")
        common.applyThreadCount()
        let classifier = try reportingErrors { try TrainedClassifier(checkpoint: checkpoint) }
        let datasetName = dataset ?? classifier.dataset ?? .digits
        let data = try reportingErrors { try datasetName.load(directory: dataDir) }
        let testShape = Array(data.test.inputs.shape.dropFirst())
        guard testShape == classifier.inputShape else {
            throw CLIError("\(checkpoint) was trained on inputs of shape \(classifier.inputShape); \(datasetName.rawValue) has \(testShape)")
        }
        let classes = classifier.classNames.count
        let start = Date()
        let metrics = evaluate(classifier.model, on: DataLoader(data.test, batchSize: 250, transform: classifier.normalize),
                               classCount: classes)
        let seconds = Date().timeIntervalSince(start)
        if let misclassified {
            try writeMistakes(metrics.predictions, of: data.test, to: misclassified)
        }
        if common.json {
            printJSON(["model": classifier.modelName.rawValue, "dataset": datasetName.rawValue, "test_loss": Double(metrics.loss),
                       "test_accuracy": Double(metrics.accuracy), "parameters": classifier.model.parameterCount,
                       "threads": Kernels.threadCount, "examples": metrics.count, "seconds": seconds])
        } else {
            print(metrics.report(classNames: data.test.classNames))
            print(String(format: "\ntest loss %.4f  test accuracy %.4f  (%d examples in %.2f s)",
                         metrics.loss, metrics.accuracy, metrics.count, seconds))
            if let misclassified { print("wrote \(misclassified)") }
        }
    }

    /// Writes the first `misclassifiedLimit` mistakes as a captioned grid (image datasets only).
    private func writeMistakes(_ predictions: [Int], of test: TensorDataset, to path: String) throws {
        guard test.inputs.rank == 4 else {
            throw CLIError("--misclassified needs an image dataset; this one's examples are \(Array(test.inputs.shape.dropFirst()))")
        }
        let names = test.classNames.isEmpty ? nil : test.classNames
        let wrong = zip(test.labels.scalars, predictions).enumerated().filter { $0.element.0 != $0.element.1 }.prefix(misclassifiedLimit)
        guard !wrong.isEmpty else {
            if !common.json { print("no misclassified images; \(path) not written") }
            return
        }
        let tiles = wrong.map { index, pair in
            let (truth, prediction) = pair
            return GridTile(image: Image(test.inputs[index]),
                            captions: [(names?[truth] ?? String(truth), .green), (names?[prediction] ?? String(prediction), .red)])
        }
        try reportingErrors { try Image.grid(tiles, columns: 8, scale: 2).write(to: path) }
    }
}
