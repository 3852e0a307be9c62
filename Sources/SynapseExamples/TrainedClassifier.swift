// A classifier saved by `synapse train`, loaded back for evaluation and prediction.

import Foundation
import Synapse

/// A model saved by `synapse train --save`, rebuilt from the checkpoint's metadata with its
/// weights and the input standardization it was trained with.
public struct TrainedClassifier {
    public let model: any UnaryLayer
    public let modelName: ModelName
    /// The shape of one input, without the batch axis, e.g. [1, 28, 28].
    public let inputShape: [Int]
    /// The dataset it was trained on, when the checkpoint names one Synapse knows.
    public let dataset: DatasetName?
    public let classNames: [String]
    /// The standardization applied to inputs in [0, 1] before the model.
    public let normalize: Normalize?

    /// Saves `model` with what `init(checkpoint:)` needs to rebuild it: the architecture, the
    /// dataset, the input shape, the class count and the input standardization.
    public static func save(_ model: Module, modelName: ModelName, dataset: DatasetName, inputShape: [Int], classes: Int,
                            normalize: Normalize?, to path: String) throws {
        let statistics = normalize.map { [("input.mean", $0.mean), ("input.std", $0.standardDeviation)] } ?? []
        try Checkpoint.save(model, extra: statistics,
                            metadata: ["model": modelName.rawValue, "dataset": dataset.rawValue,
                                       "input_shape": inputShape.map(String.init).joined(separator: ","), "classes": String(classes)],
                            to: path)
    }

    /// Loads the checkpoint at `path`; errors name the file and what is wrong with it.
    public init(checkpoint path: String) throws {
        let (tensors, metadata) = try SafeTensors.read(path)
        if metadata["task"] == TrainedLanguageModel.task {
            throw ModelError("\(path) is a language-model checkpoint (from `synapse lm train`), not a classifier; "
                             + "use it with `synapse generate`")
        }
        guard let modelName = metadata["model"].flatMap(ModelName.init(rawValue:)),
              let inputShape = metadata["input_shape"].map({ $0.split(separator: ",").compactMap { Int($0) } }),
              let classes = metadata["classes"].flatMap(Int.init), !inputShape.isEmpty else {
            throw ModelError("\(path): not a checkpoint written by `synapse train` (model metadata missing)")
        }
        let dataset = metadata["dataset"].flatMap(DatasetName.init(rawValue:))
        let model = try modelName.build(inputShape: inputShape, classes: classes)
        try Checkpoint.load(into: model, from: path)
        model.eval()
        self.model = model
        self.modelName = modelName
        self.inputShape = inputShape
        self.dataset = dataset
        let names = dataset?.classNames ?? []
        classNames = names.count == classes ? names : (0..<classes).map(String.init)
        if let mean = tensors["input.mean"], let deviation = tensors["input.std"] {
            guard mean.shape == deviation.shape, mean.count > 0, mean.count <= inputShape.reduce(1, *),
                  deviation.scalars.allSatisfy({ $0 > 0 }) else {
                throw ModelError("\(path): input.mean \(mean.shape) and input.std \(deviation.shape) are not usable statistics "
                                 + "for inputs of shape \(inputShape)")
            }
            normalize = Normalize(mean: mean, standardDeviation: deviation)
        } else {
            normalize = nil
        }
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
