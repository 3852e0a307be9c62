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

    /// Loads the train and test splits, from `directory` if given.
    public func load(directory: String?) throws -> (train: TensorDataset, test: TensorDataset) {
        switch self {
        case .digits: return try Datasets.digits()
        case .mnist: return try Datasets.mnist(directory: directory ?? defaultDirectory!)
        case .fashionMNIST: return try Datasets.fashionMNIST(directory: directory ?? defaultDirectory!)
        }
    }
}

/// A model architecture known to the CLI.
public enum ModelName: String, CaseIterable, Sendable {
    /// in-256-128-10 with ReLU, after flattening the input.
    case mlp

    /// Builds the model for inputs of `inputFeatures` values and `classes` outputs.
    public func build(inputFeatures: Int, classes: Int) -> Module {
        switch self {
        case .mlp:
            return Sequential {
                Flatten()
                Linear(inputFeatures, 256)
                ReLU()
                Linear(256, 128)
                ReLU()
                Linear(128, classes)
            }
        }
    }
}
