import Foundation
import XCTest
import Synapse

final class TrainingTests: XCTestCase {
    func testMetricsFromAConfusionMatrix() {
        // 3 classes: rows are true classes.
        let metrics = ClassificationMetrics(confusion: [[5, 1, 0], [2, 3, 0], [0, 0, 4]], loss: 0.5)
        XCTAssertEqual(metrics.count, 15)
        XCTAssertEqual(metrics.accuracy, 12 / 15, accuracy: 1e-6)
        XCTAssertEqual(metrics.precision[0], 5 / 7, accuracy: 1e-6)
        XCTAssertEqual(metrics.recall[1], 3 / 5, accuracy: 1e-6)
        XCTAssertEqual(metrics.f1[2], 1, accuracy: 1e-6)
        XCTAssertTrue(metrics.report(classNames: ["a", "b", "c"]).contains("confusion matrix"))
    }

    func testDigitsTrainingWithEarlyStoppingHistoryAndCheckpoints() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        GlobalRandom.seed(0)
        let (full, test) = try Datasets.digits()
        let (train, validation) = full.split(validationFraction: 0.2, seed: 0)
        let model = Sequential { Linear(64, 32); ReLU(); Linear(32, 10) }
        let optimizer = SGD(parameters: model.parameters, lr: 0.05, momentum: 0.9)
        let stopping = EarlyStopping(patience: 2)
        let historyPath = directory.appendingPathComponent("history.csv").path
        let bestPath = directory.appendingPathComponent("best.safetensors").path
        let trainer = Trainer(model: model, optimizer: optimizer,
                              callbacks: [ProgressBar(quiet: true), stopping, HistoryWriter(path: historyPath),
                                          ModelCheckpoint(bestPath: bestPath)])
        let history = try trainer.fit(DataLoader(train, batchSize: 32, shuffle: true, seed: 1),
                                  validation: DataLoader(validation, batchSize: 256), epochs: 12, classCount: 10)
        XCTAssertGreaterThan(history.first!.trainLoss, history.last!.trainLoss)
        let csv = try String(contentsOfFile: historyPath, encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, history.count + 1)
        // Early stopping restored the best epoch's weights, which the best checkpoint also holds.
        let restored = evaluate(model, on: DataLoader(validation, batchSize: 256), classCount: 10)
        XCTAssertEqual(restored.loss, stopping.bestLoss, accuracy: 1e-5)
        let reloaded = Sequential { Linear(64, 32); ReLU(); Linear(32, 10) }
        try Checkpoint.load(into: reloaded, from: bestPath)
        XCTAssertEqual(evaluate(reloaded, on: DataLoader(validation, batchSize: 256), classCount: 10).loss, restored.loss, accuracy: 1e-6)
        XCTAssertGreaterThan(evaluate(model, on: DataLoader(test, batchSize: 256), classCount: 10).accuracy, 0.9)
    }

    func testScheduleStepsPerEpochOrPerBatch() throws {
        let inputs = Tensor.randn([40, 3], seed: 3)
        let data = TensorDataset(inputs: inputs, labels: IndexTensor((0..<40).map { $0 % 2 }))
        for (interval, expectedSteps) in [(ScheduleInterval.epoch, 3), (.batch, 3 * 4)] {
            let model = Linear(3, 2)
            let optimizer = SGD(parameters: model.parameters, lr: 0.1)
            let trainer = Trainer(model: model, optimizer: optimizer)
            let schedule = StepSchedule(optimizer: optimizer, stepSize: 1, gamma: 0.5)
            trainer.schedule = schedule
            trainer.scheduleInterval = interval
            let history = try trainer.fit(DataLoader(data, batchSize: 10), epochs: 3, classCount: 2)
            XCTAssertEqual(schedule.stepCount, expectedSteps)
            XCTAssertEqual(optimizer.learningRate, 0.1 * Float(pow(0.5, Double(expectedSteps))), accuracy: 1e-9)
            // Each epoch logs the rate its last batch used.
            let lastBatchRate: Float = interval == .epoch ? 0.1 * 0.25 : 0.1 * Float(pow(0.5, 11))
            XCTAssertEqual(history.last!.learningRate, lastBatchRate, accuracy: 1e-9)
        }
    }

    func testTrainingWithWeightAveragingValidatesAndEndsWithTheAverage() throws {
        GlobalRandom.seed(0)
        let (full, _) = try Datasets.digits()
        let (train, validation) = full.split(validationFraction: 0.2, seed: 0)
        let model = Sequential { Linear(64, 32); ReLU(); Linear(32, 10) }
        let optimizer = SGD(parameters: model.parameters, lr: 0.05, momentum: 0.9)
        let trainer = Trainer(model: model, optimizer: optimizer)
        let averaging = ExponentialMovingAverage(parameters: model.parameters, decay: 0.99)
        trainer.averaging = averaging
        let history = try trainer.fit(DataLoader(train, batchSize: 32, shuffle: true, seed: 1),
                                  validation: DataLoader(validation, batchSize: 256), epochs: 3, classCount: 10)
        XCTAssertEqual(averaging.updateCount, 3 * DataLoader(train, batchSize: 32).batchCount)
        // The model ends with the averaged weights, which are what the last validation measured.
        for (parameter, average) in zip(model.parameters, averaging.averagedValues) {
            XCTAssertEqual(parameter.value.scalars, average.scalars)
        }
        let final = evaluate(model, on: DataLoader(validation, batchSize: 256), classCount: 10)
        XCTAssertEqual(final.loss, history.last!.validationLoss!, accuracy: 1e-6)
        XCTAssertGreaterThan(final.accuracy, 0.9)
    }

    /// A bounded Fashion-MNIST run (100 steps; debug builds are slow) when the Debian dataset is
    /// installed, as in CI: the loss must fall and test accuracy clear a floor.
    func testShortFashionMNISTRunLearns() throws {
        let directory = "/usr/share/datasets/fashion-mnist"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "\(directory)/train-images-idx3-ubyte.gz"),
                          "dataset-fashion-mnist is not installed")
        let (train, test) = try Datasets.fashionMNIST(directory: directory)
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(test.count, 10_000)
        GlobalRandom.seed(0)
        let model = Sequential { Flatten(); Linear(784, 32); ReLU(); Linear(32, 10) }
        let optimizer = SGD(parameters: model.parameters, lr: 0.05, momentum: 0.9)
        let subset = TensorDataset(inputs: train.inputs[0..<6400], labels: IndexTensor(Array(train.labels.scalars[0..<6400])),
                                   classNames: train.classNames)
        let probe = DataLoader(subset, batchSize: 640).first { _ in true }!
        let before = withoutGradients { crossEntropy(model(probe.inputs), probe.labels).item }
        try Trainer(model: model, optimizer: optimizer, callbacks: [ProgressBar(quiet: true)])
            .fit(DataLoader(subset, batchSize: 64, shuffle: true, seed: 0), epochs: 1, classCount: 10)
        let after = withoutGradients { crossEntropy(model(probe.inputs), probe.labels).item }
        XCTAssertLessThan(after, before / 2, "loss \(before) → \(after)")
        let testSubset = TensorDataset(inputs: test.inputs[0..<2000], labels: IndexTensor(Array(test.labels.scalars[0..<2000])))
        XCTAssertGreaterThan(evaluate(model, on: DataLoader(testSubset, batchSize: 500), classCount: 10).accuracy, 0.7)
    }
}
