// A classifier saved by `synapse train`, loaded back for evaluation and prediction.

import Foundation
import Synapse

/// A model saved by `synapse train --save`, rebuilt from the checkpoint's metadata with its
/// weights and the input standardization it was trained with.
public struct TrainedClassifier {
    public let model: any UnaryLayer
    public let modelName: ModelName
    /// The hidden layers' widths: the architecture's own unless structured pruning shrank them.
    public let widths: [Int]
    /// The shape of one input, without the batch axis, e.g. [1, 28, 28].
    public let inputShape: [Int]
    /// The dataset it was trained on, when the checkpoint names one Synapse knows.
    public let dataset: DatasetName?
    public let classNames: [String]
    /// The standardization applied to inputs in [0, 1] before the model.
    public let normalize: Normalize?

    /// Saves `model` with what `init(checkpoint:)` needs to rebuild it: the architecture, its
    /// hidden widths when they are not the default ones, the dataset, the input shape, the
    /// class count and the input standardization; with `optimizer` its state too (under
    /// `optimizer.`), and `metadata` besides, for a run that can be resumed. With `sparse`,
    /// pruned weights are stored as their nonzeros (`Checkpoint.save(…sparse:)`).
    public static func save(_ model: Module, modelName: ModelName, widths: [Int]? = nil, dataset: DatasetName,
                            inputShape: [Int], classes: Int, normalize: Normalize?, optimizer: Optimizer? = nil,
                            metadata: [String: String] = [:], sparse: Bool = false, to path: String) throws {
        let statistics = normalize.map { [("input.mean", $0.mean), ("input.std", $0.standardDeviation)] } ?? []
        var info = metadata.merging(["model": modelName.rawValue, "dataset": dataset.rawValue,
                                     "input_shape": inputShape.map(String.init).joined(separator: ","), "classes": String(classes),
                                     "normalized": normalize == nil ? "false" : "true"]) { $1 }
        if let widths, widths != modelName.defaultWidths { info["widths"] = widths.map(String.init).joined(separator: ",") }
        try Checkpoint.save(modules: [("", model)], optimizers: optimizer.map { [("optimizer", $0)] } ?? [], extra: statistics,
                            metadata: info, sparse: sparse, to: path)
    }

    /// The most input dimensions, the longest side and the most input values and classes a
    /// checkpoint may declare: a file names sizes before its tensors are checked, and these
    /// bound what is computed from them.
    public static let limits = (dimensions: 3, side: 65_536, inputValues: 1 << 24, classes: 65_536)

    /// Loads the checkpoint at `path`; errors name the file and what is wrong with it. The
    /// metadata is parsed and range-checked, and every tensor's name and shape is compared
    /// with what the architecture needs, before the model is built.
    public init(checkpoint path: String) throws {
        let file = try CheckpointFile(path: path)
        let (tensors, metadata) = (file.tensors, file.metadata)
        if metadata["task"] == TrainedLanguageModel.task {
            throw ModelError("\(path) is a language-model checkpoint (from `synapse lm train`), not a classifier; "
                             + "use it with `synapse generate`")
        }
        guard let modelText = metadata["model"], let shapeText = metadata["input_shape"], let classText = metadata["classes"] else {
            throw ModelError("\(path): not a checkpoint written by `synapse train` (model metadata missing)")
        }
        guard let modelName = ModelName(rawValue: modelText) else {
            throw ModelError("\(path): unknown model \"\(modelText)\" (known: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let limits = Self.limits
        let inputShape = shapeText.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
        guard (1...limits.dimensions).contains(inputShape.count), inputShape.allSatisfy({ (1...limits.side).contains($0) }),
              inputShape.reduce(1, *) <= limits.inputValues else {
            throw ModelError("\(path): input_shape \"\(shapeText)\" must be 1 to \(limits.dimensions) positive integers of at most "
                             + "\(limits.side), with at most \(limits.inputValues) values in all")
        }
        guard let classes = Int(classText), (1...limits.classes).contains(classes) else {
            throw ModelError("\(path): classes \"\(classText)\" must be an integer from 1 to \(limits.classes)")
        }
        var widths = modelName.defaultWidths
        if let widthText = metadata["widths"] {
            let parsed = widthText.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            guard parsed.count == widths.count, parsed.allSatisfy({ $0.map { (1...65_536).contains($0) } ?? false }) else {
                throw ModelError("\(path): widths \"\(widthText)\" must be \(widths.count) integers from 1 to 65536 for a \(modelText) model")
            }
            widths = parsed.map { $0! }
        }
        let needed = try modelName.tensorShapes(inputShape: inputShape, classes: classes, widths: widths)
        // Optimizer state, saved for resuming, is not part of the model.
        let unexpected = Set(tensors.keys.filter { !$0.hasPrefix("optimizer.") })
            .subtracting(needed.map(\.name) + ["input.mean", "input.std"]).sorted()
        for (name, shape) in needed {
            guard let tensor = tensors[name] else {
                let others = unexpected.isEmpty ? "" : " (it has \(unexpected.joined(separator: ", ")) instead: renamed or corrupted?)"
                throw ModelError("\(path): no tensor named \(name), which a \(modelText) model needs\(others)")
            }
            guard tensor.shape == shape else {
                throw ModelError("\(path): tensor \(name) has shape \(tensor.shape), but a \(modelText) model for inputs \(inputShape) "
                                 + "and \(classes) classes needs \(shape)")
            }
            // A batch count may be stored as an integer, as PyTorch does; weights must not.
            if !name.hasSuffix("num_batches_tracked") { try file.requireFloatingPoint(name) }
        }
        if let name = unexpected.first {
            throw ModelError("\(path): unexpected tensor \(name) for a \(modelText) model (renamed or corrupted?)")
        }
        for name in ["input.mean", "input.std"] where tensors[name] != nil { try file.requireFloatingPoint(name) }
        normalize = try Self.statistics(in: tensors, metadata: metadata, inputShape: inputShape, path: path)
        let model = try modelName.build(inputShape: inputShape, classes: classes, widths: widths)
        try file.load(modules: [("", model)])
        model.eval()
        self.model = model
        self.modelName = modelName
        self.widths = widths
        self.inputShape = inputShape
        dataset = metadata["dataset"].flatMap(DatasetName.init(rawValue:))
        let names = dataset?.classNames ?? []
        classNames = names.count == classes ? names : (0..<classes).map(String.init)
    }

    /// The input standardization saved beside the weights: both statistics or neither (and
    /// both when the metadata says the model was trained on standardized inputs), each shaped
    /// [1, …] to broadcast over a batch of `inputShape` examples, with positive deviations.
    private static func statistics(in tensors: [String: Tensor], metadata: [String: String], inputShape: [Int],
                                   path: String) throws -> Normalize? {
        let (mean, deviation) = (tensors["input.mean"], tensors["input.std"])
        guard let mean, let deviation else {
            if metadata["normalized"] == "true" || mean != nil || deviation != nil {
                throw ModelError("\(path): the model was trained on standardized inputs, but input.mean or input.std is missing")
            }
            return nil
        }
        let batchShape = [1] + inputShape
        let broadcasts = mean.shape.count == batchShape.count
            && zip(mean.shape, batchShape).allSatisfy { $0 == 1 || $0 == $1 }
        guard mean.shape == deviation.shape, broadcasts, deviation.scalars.allSatisfy({ $0 > 0 && $0.isFinite }),
              mean.scalars.allSatisfy(\.isFinite) else {
            throw ModelError("\(path): input.mean \(mean.shape) and input.std \(deviation.shape) are not usable statistics "
                             + "for inputs of shape \(inputShape) (each must be [1, …] and broadcast over it, with finite values "
                             + "and positive deviations)")
        }
        return Normalize(mean: mean, standardDeviation: deviation)
    }

    /// Class probabilities [N, classes] for raw inputs [N, …] in [0, 1].
    public func probabilities(_ inputs: Tensor) -> Tensor {
        withoutGradients {
            let standardized = normalize.map { $0(inputs) } ?? inputs
            return model(standardized).softmax(axis: 1)
        }
    }

    /// How an image file's background is matched to the training images, which show light
    /// objects on black.
    public enum Background: String, CaseIterable, Sendable {
        /// Invert images whose border is mostly light (a photo of an object on a light surface).
        case auto
        /// Use the pixels as they are.
        case dark
        /// Always invert.
        case light
    }

    /// Whether the model takes images ([1 or 3, H, W] inputs), so it can classify image files.
    public var takesImages: Bool { inputShape.count == 3 && (inputShape[0] == 1 || inputShape[0] == 3) }

    /// An image file prepared as the model's input [C, H, W] in [0, 1]: converted to the
    /// model's channels, inverted if its background is light, scaled to fit H×W keeping its
    /// aspect ratio, and centred on black. Also says whether it was inverted.
    public func input(from image: Image, background: Background = .auto) throws -> (input: Tensor, inverted: Bool) {
        guard takesImages else {
            throw ModelError("this \(modelName.rawValue) model takes inputs of shape \(inputShape), not images")
        }
        let (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
        var image = image.converted(toChannels: channels)
        let invert = background == .light || (background == .auto && image.borderMean > 127)
        if invert { image = image.inverted() }
        let scale = min(Double(width) / Double(image.width), Double(height) / Double(image.height))
        let fitted = image.resized(width: max(1, Int((Double(image.width) * scale).rounded())),
                                   height: max(1, Int((Double(image.height) * scale).rounded())))
        var canvas = Image(width: width, height: height, channels: channels, value: 0)
        let (left, top) = ((width - fitted.width) / 2, (height - fitted.height) / 2)
        for y in 0..<fitted.height {
            let source = y * fitted.width * channels, target = ((top + y) * width + left) * channels
            canvas.pixels[target..<(target + fitted.width * channels)] = fitted.pixels[source..<(source + fitted.width * channels)]
        }
        return (canvas.tensor(), invert)
    }

    /// The `count` most probable classes for each of `inputs` [N, …], most probable first.
    public func top(_ count: Int, for inputs: Tensor) -> [[(className: String, probability: Float)]] {
        let probabilities = probabilities(inputs)
        let classes = probabilities.shape[1], values = probabilities.scalars
        return (0..<probabilities.shape[0]).map { row in
            let scores = values[(row * classes)..<((row + 1) * classes)]
            return scores.indices.sorted { scores[$0] > scores[$1] }.prefix(count).map { (classNames[$0 - row * classes], scores[$0]) }
        }
    }
}
