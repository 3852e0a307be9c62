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

    /// Builds the model for examples of `inputShape` (without the batch axis) and `classes` outputs.
    public func build(inputShape: [Int], classes: Int) throws -> any UnaryLayer {
        switch self {
        case .linear:
            return Sequential {
                Flatten()
                Linear(inputShape.reduce(1, *), classes)
            }
        case .mlp:
            let features = inputShape.reduce(1, *)
            return Sequential {
                Flatten()
                Linear(features, 256)
                ReLU()
                Linear(256, 128)
                ReLU()
                Linear(128, classes)
            }
        case .seedCNN, .cnn:
            guard inputShape.count == 3, inputShape[1] % 4 == 0, inputShape[2] % 4 == 0 else {
                throw ModelError("\(rawValue) needs images of shape [channels, height, width] with sides divisible by 4 "
                                 + "(mnist, fashion-mnist); this dataset's examples are \(inputShape)")
            }
            let (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
            if self == .seedCNN {
                return Sequential {
                    Conv2d(channels, 32, kernelSize: 3, padding: 1)
                    ReLU()
                    MaxPool2d(2)
                    Flatten()
                    Linear(32 * (height / 2) * (width / 2), 128)
                    ReLU()
                    Linear(128, classes)
                }
            }
            return Sequential {
                Conv2d(channels, 32, kernelSize: 3, padding: .same)
                BatchNorm2d(32)
                ReLU()
                MaxPool2d(2)
                Conv2d(32, 64, kernelSize: 3, padding: .same)
                BatchNorm2d(64)
                ReLU()
                MaxPool2d(2)
                Flatten()
                Dropout(p: 0.25)
                Linear(64 * (height / 4) * (width / 4), 128)
                ReLU()
                Linear(128, classes)
            }
        }
    }
}

/// A model that cannot be built for the data it was asked to train on.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
