// The datasets Synapse knows by name.

import Foundation
import SynapseCore

public enum Datasets {
    /// Fashion-MNIST's class names, in label order.
    public static let fashionMNISTClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The 8×8 digits embedded in Synapse (1,797 images, pixels scaled to [0, 1], inputs [N, 64]).
    /// The split is a fixed shuffled 80/20 one (1,438 train, 359 test, always the same
    /// examples). `sequentialSplit` instead reproduces scikit-learn's gallery split (first 898
    /// train, last 899 test), whose halves come from different writers and which is harder.
    public static func digits(sequentialSplit: Bool = false) throws -> (train: TensorDataset, test: TensorDataset) {
        guard let url = Bundle.module.url(forResource: "digits.csv", withExtension: "gz") else {
            throw DataError("digits: the embedded digits.csv.gz resource is missing from this build")
        }
        let table = try NumericCSV(contentsOf: url.path)
        guard table.rows.count == 1797, table.rows.allSatisfy({ $0.count == 65 }) else {
            throw DataError("digits: expected 1797 rows of 65 columns in \(url.path)")
        }
        let pixels = table.rows.flatMap { $0.prefix(64).map { $0 / 16 } }
        let labels = table.rows.map { Int($0[64]) }
        let inputs = Tensor(pixels, shape: [1797, 64])
        let all = TensorDataset(inputs: inputs, labels: IndexTensor(labels), classNames: (0...9).map(String.init))
        if sequentialSplit {
            let (train, test) = (all.batch(Array(0..<898)), all.batch(Array(898..<1797)))
            return (TensorDataset(inputs: train.inputs, labels: train.labels, classNames: all.classNames),
                    TensorDataset(inputs: test.inputs, labels: test.labels, classNames: all.classNames))
        }
        let (train, test) = all.split(validationFraction: 0.2, seed: 20_260_101)
        return (train, test)
    }

    /// MNIST or Fashion-MNIST from the four standard IDX files (plain or `.gz`) in `directory`;
    /// inputs are [N, 1, 28, 28] scaled to [0, 1]. A missing file gives an error saying how to get it.
    public static func mnistStyle(directory: String, name: String, classNames: [String],
                                  howToGet: String) throws -> (train: TensorDataset, test: TensorDataset) {
        func path(_ stem: String) throws -> String {
            for candidate in ["\(directory)/\(stem).gz", "\(directory)/\(stem)"] where FileManager.default.fileExists(atPath: candidate) {
                return candidate
            }
            throw DataError("\(name): \(stem)(.gz) not found in \(directory). \(howToGet)")
        }
        func load(_ images: String, _ labels: String) throws -> TensorDataset {
            let imageArray = try IDXArray(contentsOf: try path(images)), labelArray = try IDXArray(contentsOf: try path(labels))
            guard imageArray.shape.count == 3, labelArray.shape == [imageArray.shape[0]] else {
                throw DataError("\(name): \(images) has shape \(imageArray.shape) but \(labels) has \(labelArray.shape)")
            }
            guard imageArray.shape.allSatisfy({ $0 > 0 }) else {
                throw DataError("\(name): \(images) holds no images (shape \(imageArray.shape))")
            }
            if let index = labelArray.values.firstIndex(where: { Int($0) >= classNames.count }) {
                throw DataError("\(name): label \(labelArray.values[index]) of example \(index) in \(labels) is not one of the "
                                + "\(classNames.count) classes")
            }
            let inputs = imageArray.tensor(scale: 1 / 255).reshaped([imageArray.shape[0], 1, imageArray.shape[1], imageArray.shape[2]])
            return TensorDataset(inputs: inputs, labels: labelArray.indices(), classNames: classNames)
        }
        let train = try load("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
        let test = try load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
        guard train.inputs.shape.dropFirst() == test.inputs.shape.dropFirst() else {
            throw DataError("\(name): training images are \(Array(train.inputs.shape.dropFirst())) but test images are "
                            + "\(Array(test.inputs.shape.dropFirst())); they must match")
        }
        return (train, test)
    }

    /// Fashion-MNIST, by default from where Debian's `dataset-fashion-mnist` package installs it.
    public static func fashionMNIST(directory: String = "/usr/share/datasets/fashion-mnist") throws
        -> (train: TensorDataset, test: TensorDataset) {
        try mnistStyle(directory: directory, name: "fashion-mnist", classNames: fashionMNISTClassNames,
                       howToGet: "Install it with `apt-get install dataset-fashion-mnist`, or pass --data-dir.")
    }

    /// MNIST from `directory`.
    public static func mnist(directory: String) throws -> (train: TensorDataset, test: TensorDataset) {
        try mnistStyle(directory: directory, name: "mnist", classNames: (0...9).map(String.init),
                       howToGet: "Download the four MNIST IDX files there, or pass --data-dir.")
    }
}

extension Datasets {
    /// The monthly international airline passengers, in thousands, January 1949 to December
    /// 1960 (Box & Jenkins Series G, 144 values), embedded in Synapse: the table with its
    /// "Month" and "Passengers" columns. Source and license: AIRLINE-LICENSE.md beside it.
    public static func airlinePassengers() throws -> CSVTable {
        guard let url = Bundle.module.url(forResource: "airline-passengers", withExtension: "csv") else {
            throw DataError("airline: the embedded airline-passengers.csv resource is missing from this build")
        }
        return try CSVTable(contentsOf: url.path)
    }
}
