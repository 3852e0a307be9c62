import Foundation
import XCTest
import Synapse
import SynapseExamples

/// Short Fashion-MNIST runs, bounded for debug builds, through to predicting the committed image
/// files. They run when the Debian dataset is installed, as in CI.
final class CNNTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../SynapseVisionTests/Fixtures").standardized.path

    /// Loaded once for all tests here: decoding 70,000 images is slow in a debug build.
    private static let data = Result { try DatasetName.fashionMNIST.load(directory: "/usr/share/datasets/fashion-mnist") }

    private func fashionMNIST() throws -> (train: TensorDataset, test: TensorDataset) {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"),
                          "dataset-fashion-mnist is not installed")
        return try Self.data.get()
    }

    private func subset(_ dataset: TensorDataset, _ count: Int) -> TensorDataset {
        TensorDataset(inputs: dataset.inputs[0..<count], labels: IndexTensor(Array(dataset.labels.scalars[0..<count])),
                      classNames: dataset.classNames)
    }

    /// Conv → BN → ReLU → pool → linear for 40 augmented steps: the loss must fall. (The seed
    /// CNN itself is ~15× the work per step, too slow for an unoptimized test build.)
    func testShortCNNRunWithAugmentationLearns() throws {
        let (train, _) = try fashionMNIST()
        let examples = subset(train, 2560)
        GlobalRandom.seed(0)
        let model = Sequential {
            Conv2d(1, 8, kernelSize: 3, padding: .same)
            BatchNorm2d(8)
            ReLU()
            MaxPool2d(2)
            Flatten()
            Linear(8 * 14 * 14, 10)
        }
        let (mean, deviation) = examples.channelStatistics()
        let normalize = Normalize(mean: mean, standardDeviation: deviation)
        let augmented = Compose([ImageAugmentation.transform([.flip, .shift], height: 28, width: 28), normalize])
        let probe = DataLoader(examples, batchSize: 500, transform: normalize).first { _ in true }!
        model.eval()
        let before = withoutGradients { crossEntropy(model(probe.inputs), probe.labels).item }
        try Trainer(model: model, optimizer: SGD(parameters: model.parameters, lr: 0.01, momentum: 0.9),
                callbacks: [ProgressBar(quiet: true)])
            .fit(DataLoader(examples, batchSize: 64, shuffle: true, seed: 0, transform: augmented), epochs: 1, classCount: 10)
        model.eval()
        let after = withoutGradients { crossEntropy(model(probe.inputs), probe.labels).item }
        XCTAssertLessThan(after, before * 0.5, "loss \(before) → \(after)")
    }

    /// Softmax regression trained briefly and saved as `synapse train` does classifies the committed PNG
    /// and PGM files, the photo-like one after inverting it.
    func testPredictingImageFilesWithASavedModel() throws {
        let (train, test) = try fashionMNIST()
        let examples = subset(train, 6400)
        GlobalRandom.seed(0)
        let model = try ModelName.linear.build(inputShape: [1, 28, 28], classes: 10)
        let (mean, deviation) = examples.channelStatistics()
        let normalize = Normalize(mean: mean, standardDeviation: deviation)
        try Trainer(model: model, optimizer: SGD(parameters: model.parameters, lr: 0.01, momentum: 0.9),
                callbacks: [ProgressBar(quiet: true)])
            .fit(DataLoader(examples, batchSize: 64, shuffle: true, seed: 0, transform: normalize), epochs: 1, classCount: 10)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-predict-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TrainedClassifier.save(model, modelName: .linear, dataset: .fashionMNIST, inputShape: [1, 28, 28], classes: 10,
                                   normalize: normalize, to: path)
        let classifier = try TrainedClassifier(checkpoint: path)
        XCTAssertEqual(classifier.classNames, Datasets.fashionMNISTClassNames)
        var inputs: [Tensor] = []
        var inversions: [Bool] = []
        for name in ["ankle-boot.png", "trouser.png", "pullover.pgm"] {
            let (input, inverted) = try classifier.input(from: try Image(contentsOf: "\(fixtures)/\(name)"))
            XCTAssertEqual(input.shape, [1, 28, 28])
            inputs.append(input)
            inversions.append(inverted)
        }
        XCTAssertEqual(inversions, [false, true, false], "only the photo-like trouser has a light background")
        // The PNG of test image 0 gives exactly the model's output on the dataset's own tensor.
        let fromFile = classifier.probabilities(inputs[0].reshaped([1, 1, 28, 28])).scalars
        let fromDataset = classifier.probabilities(test.inputs[0..<1]).scalars
        for (a, b) in zip(fromFile, fromDataset) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let rankings = classifier.top(3, for: Tensor.stack(inputs))
        XCTAssertEqual(rankings.map { $0[0].className }, ["Ankle boot", "Trouser", "Pullover"])
        for ranking in rankings {
            XCTAssertEqual(ranking.count, 3)
            XCTAssertTrue(ranking[0].probability >= ranking[1].probability && ranking[1].probability >= ranking[2].probability)
        }
    }

    /// A checkpoint with unusable input statistics is an error naming the file, not a trap.
    func testCheckpointWithMismatchedStatisticsIsAnError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-bad-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try ModelName.linear.build(inputShape: [1, 28, 28], classes: 10)
        try Checkpoint.save(model, extra: [("input.mean", Tensor([0.1, 0.2])), ("input.std", Tensor([0.3]))],
                            metadata: ["model": "linear", "dataset": "fashion-mnist", "input_shape": "1,28,28", "classes": "10"],
                            to: path)
        XCTAssertThrowsError(try TrainedClassifier(checkpoint: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + ": input.mean [2] and input.std [1]"), "\(error)")
        }
    }
}
