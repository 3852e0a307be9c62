import Foundation
import XCTest
import Synapse

/// Gradual magnitude pruning inside a real training run: the sparsity rises on schedule,
/// ends at the target, and the network still learns.
final class GradualPruningTests: XCTestCase {
    func testSparsityRisesDuringTrainingAndTheModelStillLearns() throws {
        GlobalRandom.seed(0)
        let (train, test) = try Datasets.digits()
        let (mean, deviation) = train.featureStatistics()
        let normalize = Normalize(mean: mean, standardDeviation: deviation)
        let model = Sequential { Linear(64, 64); ReLU(); Linear(64, 10) }
        let pruning = GradualPruning(model: model, finalSparsity: 0.8, frequency: 5)
        final class Recorder: TrainingCallback {
            var sparsities: [Double] = []
            let model: Module
            init(_ model: Module) { self.model = model }
            func epochDidEnd(_ trainer: Trainer, log: EpochLog) -> Bool {
                sparsities.append(Pruning.report(model).sparsity)
                return false
            }
        }
        let recorder = Recorder(model)
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters, lr: 0.05, momentum: 0.9),
                              callbacks: [pruning, recorder])
        try trainer.fit(DataLoader(train, batchSize: 64, shuffle: true, seed: 0, transform: normalize), epochs: 8, classCount: 10)
        // 23 batches an epoch: the schedule ends at step 138 of 184, in epoch 6.
        XCTAssertEqual(recorder.sparsities.count, 8)
        XCTAssertTrue(zip(recorder.sparsities, recorder.sparsities.dropFirst()).allSatisfy { $0 <= $1 }, "\(recorder.sparsities)")
        XCTAssertGreaterThan(recorder.sparsities[0], 0.2, "\(recorder.sparsities)")
        XCTAssertLessThan(recorder.sparsities[0], 0.8, "\(recorder.sparsities)")
        XCTAssertEqual(recorder.sparsities.last!, 0.8, accuracy: 1e-3)
        XCTAssertEqual(pruning.currentSparsity, 0.8, accuracy: 1e-9)
        let accuracy = evaluate(model, on: DataLoader(test, batchSize: 128, transform: normalize), classCount: 10).accuracy
        XCTAssertGreaterThan(accuracy, 0.9)
    }
}
