// The models and datasets the CLI trains by name.

import Foundation
import Synapse

/// A dataset known to the CLI: `digits` (embedded), `mnist` or `fashion-mnist`.
public enum DatasetName: String, CaseIterable, Sendable {
    case digits
    case mnist
    case fashionMNIST = "fashion-mnist"

    /// The default directory for datasets that live outside the repository.
    public var defaultDirectory: String? {
        switch self {
        case .digits: return nil
        case .mnist: return "./mnist"
        case .fashionMNIST: return "/usr/share/datasets/fashion-mnist"
        }
    }

    /// The class names, in label order.
    public var classNames: [String] {
        switch self {
        case .digits, .mnist: return (0...9).map(String.init)
        case .fashionMNIST: return Datasets.fashionMNISTClassNames
        }
    }

    /// Loads the train and test splits, from `directory` if given.
    public func load(directory: String?) throws -> (train: TensorDataset, test: TensorDataset) {
        switch self {
        case .digits: return try Datasets.digits()
        case .mnist: return try Datasets.mnist(directory: directory ?? defaultDirectory!)
        case .fashionMNIST: return try Datasets.fashionMNIST(directory: directory ?? defaultDirectory!)
        }
    }
}

/// A random, label-preserving change to training images.
public enum ImageAugmentation: String, CaseIterable, Sendable {
    /// Mirror half of the images left–right (for mirror-symmetric classes such as clothes;
    /// a mirrored digit is not the same digit).
    case flip
    /// Shift by up to 2 pixels each way: a random crop of the image padded by 2.
    case shift
    /// Rotate by up to ±10°.
    case rotate

    /// The transforms for `augmentations`, in the order flip, shift, rotate, for images of
    /// `height`×`width`.
    public static func transform(_ augmentations: [ImageAugmentation], height: Int, width: Int) -> any Transform {
        Compose {
            if augmentations.contains(.flip) { RandomHorizontalFlip() }
            if augmentations.contains(.shift) { RandomCrop(height: height, width: width, padding: 2) }
            if augmentations.contains(.rotate) { RandomAffine(degrees: 10, translate: (0, 0)) }
        }
    }
}

/// A model architecture known to the CLI.
public enum ModelName: String, CaseIterable, Sendable {
    /// Softmax regression, the baseline: one linear layer on the flattened input.
    case linear
    /// in-256-128-10 with ReLU, after flattening the input.
    case mlp
    /// The seed's CNN for 28×28 images: Conv2d(1, 32, 3, padding 1) → ReLU → MaxPool2d(2) →
    /// Flatten → Linear(32·14·14, 128) → ReLU → Linear(128, classes).
    case seedCNN = "seed-cnn"
    /// Two conv-BN-ReLU-pool blocks (32 and 64 channels), dropout, then two linear layers.
    case cnn

    /// The output widths of the hidden layers (each convolution and linear layer but the last)
    /// as the architecture defines them; a structurally pruned model has smaller ones.
    public var defaultWidths: [Int] {
        switch self {
        case .linear: return []
        case .mlp: return [256, 128]
        case .seedCNN: return [32, 128]
        case .cnn: return [32, 64, 128]
        }
    }

    /// Builds the model for examples of `inputShape` (without the batch axis) and `classes`
    /// outputs, with hidden widths `widths` (default `defaultWidths`).
    public func build(inputShape: [Int], classes: Int, widths: [Int]? = nil) throws -> any UnaryLayer {
        Sequential(try layers(inputShape: inputShape, classes: classes, widths: widths).map(\.module))
    }

    /// The names and shapes of every tensor (parameters and buffers) the model for
    /// `inputShape`, `classes` and `widths` holds, as its state dict names them, computed
    /// without building it: a checkpoint is checked against them before anything is allocated.
    public func tensorShapes(inputShape: [Int], classes: Int, widths: [Int]? = nil) throws -> [(name: String, shape: [Int])] {
        try layers(inputShape: inputShape, classes: classes, widths: widths).enumerated().flatMap { index, layer in
            layer.tensorShapes.map { ("\(index).\($0.name)", $0.shape) }
        }
    }

    /// The layers, in order: one description that both `build` and `tensorShapes` read.
    private func layers(inputShape: [Int], classes: Int, widths: [Int]?) throws -> [ClassifierLayer] {
        guard classes > 0, !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ModelError("\(rawValue) needs a positive class count and input shape; got \(classes) classes for inputs \(inputShape)")
        }
        let hidden = widths ?? defaultWidths
        guard hidden.count == defaultWidths.count, hidden.allSatisfy({ (1...1 << 16).contains($0) }) else {
            throw ModelError("\(rawValue) has \(defaultWidths.count) hidden widths between 1 and 65536; got \(hidden)")
        }
        let features = inputShape.reduce(1, *)
        switch self {
        case .linear:
            return [.flatten, .linear(features, classes)]
        case .mlp:
            return [.flatten, .linear(features, hidden[0]), .relu, .linear(hidden[0], hidden[1]), .relu, .linear(hidden[1], classes)]
        case .seedCNN, .cnn:
            guard inputShape.count == 3, inputShape[1] % 4 == 0, inputShape[2] % 4 == 0 else {
                throw ModelError("\(rawValue) needs images of shape [channels, height, width] with sides divisible by 4 "
                                 + "(mnist, fashion-mnist); this dataset's examples are \(inputShape)")
            }
            let (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
            if self == .seedCNN {
                return [.convolution(channels, hidden[0], padding: 1), .relu, .maxPool, .flatten,
                        .linear(hidden[0] * (height / 2) * (width / 2), hidden[1]), .relu, .linear(hidden[1], classes)]
            }
            return [.convolution(channels, hidden[0], padding: .same), .batchNorm(hidden[0]), .relu, .maxPool,
                    .convolution(hidden[0], hidden[1], padding: .same), .batchNorm(hidden[1]), .relu, .maxPool, .flatten,
                    .dropout(0.25), .linear(hidden[1] * (height / 4) * (width / 4), hidden[2]), .relu, .linear(hidden[2], classes)]
        }
    }
}

/// One layer of a built-in classifier.
private enum ClassifierLayer {
    case flatten, relu, maxPool, dropout(Float)
    case linear(Int, Int)
    /// A 3×3 convolution from and to these channel counts.
    case convolution(Int, Int, padding: Padding)
    case batchNorm(Int)

    var module: any UnaryLayer {
        switch self {
        case .flatten: return Flatten()
        case .relu: return ReLU()
        case .maxPool: return MaxPool2d(2)
        case .dropout(let p): return Dropout(p: p)
        case let .linear(inputs, outputs): return Linear(inputs, outputs)
        case let .convolution(inputs, outputs, padding): return Conv2d(inputs, outputs, kernelSize: 3, padding: padding)
        case .batchNorm(let features): return BatchNorm2d(features)
        }
    }

    var tensorShapes: [(name: String, shape: [Int])] {
        switch self {
        case .flatten, .relu, .maxPool, .dropout: return []
        case let .linear(inputs, outputs): return [("weight", [outputs, inputs]), ("bias", [outputs])]
        case let .convolution(inputs, outputs, _): return [("weight", [outputs, inputs, 3, 3]), ("bias", [outputs])]
        case .batchNorm(let features):
            return [("weight", [features]), ("bias", [features]), ("running_mean", [features]), ("running_var", [features]),
                    ("num_batches_tracked", [])]
        }
    }
}

/// A model that cannot be built for the data it was asked to train on.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
