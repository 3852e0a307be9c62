import Foundation
import XCTest
import Synapse

/// A regression task: the trainer's loop with a loss that is not classification.
private struct LineFit: TrainingTask {
    let model: Linear
    func loss(for batch: RegressionBatch) -> TaskOutput {
        let error = mseLoss(model(batch.inputs), batch.targets)
        return TaskOutput(loss: error, count: batch.count, metrics: ["rmse": error.item.squareRoot()])
    }
}

private final class GradientProbe: TrainingCallback {
    var norms: [Float] = []
    func gradientsDidCompute(_ trainer: Trainer) {
        norms.append(trainer.optimizer.parameters.compactMap(\.grad).reduce(0) { $0 + $1.square().sum().item }.squareRoot())
    }
}

/// Two stages, as a GAN's: the first fits `critic`; the second fits `maker` through `critic`
/// (the critic's weights are used but not its stage's to update).
private final class TwoStages: TrainingTask {
    let maker = Linear(2, 2), critic = Linear(2, 1)
    lazy var makerOptimizer = SGD(parameters: maker.parameters, lr: 0.1)
    lazy var criticOptimizer = SGD(parameters: critic.parameters, lr: 0.1)
    /// The critic's gradients as its optimizer stepped on them, and the critic's gradients
    /// after the second stage.
    var criticGradientsAtItsStep: [[Float]] = [], criticGradientsAfterMakerStage: [[Float]] = []

    func loss(for batch: RegressionBatch) -> TaskOutput {
        TaskOutput(loss: mseLoss(critic(batch.inputs), batch.targets), count: batch.count)
    }

    func stages(optimizer: Optimizer) -> [TrainingStage<RegressionBatch>] {
        [TrainingStage("critic", optimizer: criticOptimizer) { [unowned self] batch in loss(for: batch) },
         TrainingStage("maker", optimizer: makerOptimizer) { [unowned self] batch in
             criticGradientsAtItsStep = critic.parameters.map { $0.grad?.scalars ?? [] }
             return TaskOutput(loss: mseLoss(critic(maker(batch.inputs)), batch.targets), count: batch.count)
         }]
    }
}

private final class CriticGradients: TrainingCallback {
    let task: TwoStages
    init(_ task: TwoStages) { self.task = task }
    func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) {
        task.criticGradientsAfterMakerStage = task.critic.parameters.map { $0.grad?.scalars ?? [] }
    }
}

final class TaskTests: XCTestCase {
    /// Each stage back-propagates only to its own optimizer's parameters: the second stage runs
    /// through the critic but leaves the critic's gradients as the critic's own stage left them.
    func testAStageComputesGradientsOnlyForItsOwnParameters() throws {
        GlobalRandom.seed(7)
        let task = TwoStages()
        let x = Tensor.uniform([8, 2], low: -1, high: 1, seed: 8)
        let trainer = Trainer(model: task.critic, optimizer: task.criticOptimizer, callbacks: [CriticGradients(task)])
        try trainer.fit(task, on: DataLoader(RegressionDataset(inputs: x, targets: x.sum(axes: [1], keepDims: true)),
                                             batchSize: 8), epochs: 1)
        XCTAssertEqual(task.criticOptimizer.stepCount, 1)
        XCTAssertEqual(task.makerOptimizer.stepCount, 1)
        XCTAssertFalse(task.criticGradientsAtItsStep.joined().isEmpty)
        XCTAssertEqual(task.criticGradientsAfterMakerStage, task.criticGradientsAtItsStep)
        XCTAssertTrue(task.maker.parameters.allSatisfy { $0.grad != nil })
    }

    func testTrainerFitsARegressionTaskWithClippingHooksAndStepLimit() throws {
        GlobalRandom.seed(3)
        let x = Tensor.uniform([64, 2], low: -1, high: 1, seed: 1)
        let y = x.matmul(Tensor([[2], [-3]])) + 0.5
        let model = Linear(2, 1)
        let probe = GradientProbe()
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters, lr: 0.05), callbacks: [probe])
        trainer.gradientClipNorm = 1
        let loader = DataLoader(RegressionDataset(inputs: x, targets: y), batchSize: 16, shuffle: true, seed: 2)
        let history = try trainer.fit(LineFit(model: model), on: loader, validation: DataLoader(RegressionDataset(inputs: x, targets: y), batchSize: 64),
                                  epochs: 100, maxSteps: 300)
        XCTAssertEqual(trainer.stepCount, 300)
        XCTAssertEqual(history.count, 75)
        XCTAssertEqual(probe.norms.count, 300)
        XCTAssertTrue(probe.norms.allSatisfy { $0 <= 1.0001 }, "the hook sees clipped gradients")
        XCTAssertLessThan(history.last!.validationLoss!, 1e-3)
        XCTAssertLessThan(history.last!.validationMetrics["rmse"]!, 0.05)
        XCTAssertEqual(model.weight.scalars[0], 2, accuracy: 0.05)
        XCTAssertEqual(model.bias!.value.scalars[0], 0.5, accuracy: 0.05)
    }

    /// A batch run as chunks takes the step of the whole batch (the mean of equal chunks'
    /// mean gradients), counts one step per batch, and reports the batch's mean loss.
    func testChunkedStepsTakeTheWholeBatchStep() throws {
        final class Losses: TrainingCallback {
            var values: [Float] = [], samples: [Int] = []
            func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) {
                values.append(loss)
                self.samples.append(samples)
            }
        }
        let x = Tensor.uniform([48, 3], low: -1, high: 1, seed: 4)
        let y = x.matmul(Tensor([[1], [-2], [0.5]])) - 0.25
        var weights: [[Float]] = [], losses: [Losses] = []
        for chunks in [1, 4] {
            GlobalRandom.seed(5)
            let model = Linear(3, 1)
            let recorder = Losses()
            let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters, lr: 0.1), callbacks: [recorder])
            let loader = DataLoader(RegressionDataset(inputs: x, targets: y), batchSize: 16, shuffle: true, seed: 6)
            if chunks > 1 { loader.shard = DataShard(rank: 0, count: 1, padded: true, chunks: chunks) }
            try trainer.fit(LineFit(model: model), on: loader, epochs: 2)
            XCTAssertEqual(trainer.stepCount, 6)
            weights.append(model.parameters.flatMap(\.value.scalars))
            losses.append(recorder)
        }
        for (a, b) in zip(weights[0], weights[1]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        for (a, b) in zip(losses[0].values, losses[1].values) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(losses[1].samples, [Int](repeating: 16, count: 6))
    }

    func testNonFiniteLossStopsTrainingBeforeItTouchesTheModel() throws {
        final class Ends: TrainingCallback {
            var ended = false, failure: Error?
            func trainingDidEnd(_ trainer: Trainer, history: [EpochLog]) { ended = true }
            func trainingDidFail(_ trainer: Trainer, error: Error) { failure = error }
        }
        GlobalRandom.seed(3)
        let x = Tensor.uniform([64, 2], low: -1, high: 1, seed: 1)
        let y = x.matmul(Tensor([[2], [-3]]))
        let model = Linear(2, 1)
        let ends = Ends()
        // Plain SGD at this rate overshoots without bound: the loss overflows within a few steps.
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters, lr: 1e15), callbacks: [ends])
        var weightsBefore: [Float] = []
        final class Recorder: TrainingCallback {
            let record: () -> Void
            init(_ record: @escaping () -> Void) { self.record = record }
            func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) { record() }
        }
        trainer.callbacks.append(Recorder { weightsBefore = model.weight.scalars })
        let loader = DataLoader(RegressionDataset(inputs: x, targets: y), batchSize: 16)
        XCTAssertThrowsError(try trainer.fit(LineFit(model: model), on: loader, epochs: 10)) { error in
            guard case let .nonFiniteLoss(step, epoch, batch, value) = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertEqual(step, trainer.stepCount + 1, "the failing step is the one after the last taken")
            XCTAssertEqual((epoch - 1) * 4 + batch, step)
            XCTAssertFalse(value.isFinite)
            XCTAssertTrue("\(error)".hasPrefix("training stopped: the loss of step \(step) (epoch \(epoch), batch \(batch)) is "))
        }
        XCTAssertGreaterThan(trainer.stepCount, 0)
        XCTAssertEqual(model.weight.scalars, weightsBefore, "the failing batch did not step the model")
        XCTAssertFalse(ends.ended)
        XCTAssertNotNil(ends.failure)
    }

    func testWeightsThatOverflowAreNeverSeenBySaves() throws {
        final class Poison: TrainingCallback {
            let model: Linear
            var savedEpochs: [Int] = []
            init(_ model: Linear) { self.model = model }
            func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) {
                // The last step of epoch 2 leaves an infinite weight behind a finite loss.
                if epoch == 2 && batch == 2 { model.$weight.updateInPlace { $0[1] = .infinity } }
            }
            func epochDidEnd(_ trainer: Trainer, log: EpochLog) throws -> Bool {
                savedEpochs.append(log.epoch)
                return false
            }
        }
        let model = Linear(2, 1)
        let poison = Poison(model)
        let x = Tensor.uniform([8, 2], low: -1, high: 1, seed: 1)
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters, lr: 0.1), callbacks: [poison])
        let data = RegressionDataset(inputs: x, targets: x.sum(axes: [1], keepDims: true))
        XCTAssertThrowsError(try trainer.fit(LineFit(model: model), on: DataLoader(data, batchSize: 4), epochs: 5)) {
            XCTAssertEqual($0 as? TrainingError, .nonFiniteParameters(epoch: 2, name: "weight"))
            XCTAssertTrue("\($0)".contains("parameter weight is NaN or infinite after epoch 2"), "\($0)")
        }
        XCTAssertEqual(poison.savedEpochs, [1], "no callback saw the epoch that overflowed")
        XCTAssertTrue(Tensor([1, 2]).isFinite)
        XCTAssertFalse(Tensor([1, .nan]).isFinite)
        XCTAssertFalse(Tensor([-.infinity]).isFinite)
    }

    func testAHistoryThatCannotBeWrittenStopsTraining() throws {
        let model = Linear(2, 1)
        let x = Tensor.uniform([8, 2], low: -1, high: 1, seed: 1)
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters, lr: 0.1),
                              callbacks: [HistoryWriter(path: "/nonexistent-folder/history.json")])
        XCTAssertThrowsError(try trainer.fit(LineFit(model: model), on: DataLoader(RegressionDataset(inputs: x, targets: x.sum(axes: [1], keepDims: true)),
                                                                                  batchSize: 4), epochs: 3)) {
            XCTAssertTrue("\($0)".hasPrefix("/nonexistent-folder/history.json: cannot write"), "\($0)")
        }
        XCTAssertEqual(trainer.stepCount, 2, "training stopped after the first epoch's write failed")
    }

    func testResumingFromASavedPositionContinuesBitForBit() throws {
        let x = Tensor.uniform([40, 2], low: -1, high: 1, seed: 1)
        let data = RegressionDataset(inputs: x, targets: x.matmul(Tensor([[1.5], [-2]])))
        /// A fresh run: the same initial weights, a dropout layer drawing from the global
        /// generator, a shuffled loader, momentum and a cosine schedule.
        func run() -> (Sequential, Trainer, DataLoader<RegressionDataset>) {
            GlobalRandom.seed(5)
            let model = Sequential { Linear(2, 16); Dropout(p: 0.3); ReLU(); Linear(16, 1) }
            let optimizer = SGD(parameters: model.parameters, lr: 0.05, momentum: 0.9)
            let trainer = Trainer(model: model, optimizer: optimizer)
            trainer.schedule = CosineSchedule(optimizer: optimizer, period: 3)
            return (model, trainer, DataLoader(data, batchSize: 8, shuffle: true, seed: 3))
        }
        let (whole, wholeTrainer, wholeLoader) = run()
        try wholeTrainer.fit(RegressionTask(forward: whole.callAsFunction), on: wholeLoader, epochs: 3)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (first, firstTrainer, firstLoader) = run()
        try firstTrainer.fit(RegressionTask(forward: first.callAsFunction), on: firstLoader, epochs: 2)
        try Checkpoint.save(first, optimizer: firstTrainer.optimizer, metadata: firstTrainer.position.metadata, to: path)
        // Drawing more numbers after the save must not matter: the position holds the generator.
        _ = Tensor.uniform([100])

        let (resumed, trainer, loader) = run()
        let metadata = try Checkpoint.load(into: resumed, optimizer: trainer.optimizer, from: path)
        let position = try TrainingPosition(metadata: metadata, source: path)
        XCTAssertEqual(position, TrainingPosition(epochs: 2, steps: 10, scheduleSteps: 2, random: position.random))
        trainer.resume(from: position)
        loader.epoch = position.epochs
        let history = try trainer.fit(RegressionTask(forward: resumed.callAsFunction), on: loader, epochs: 1)
        XCTAssertEqual(history.map(\.epoch), [3])
        XCTAssertEqual(trainer.stepCount, wholeTrainer.stepCount)
        XCTAssertEqual(trainer.optimizer.learningRate, wholeTrainer.optimizer.learningRate)
        for ((name, a), (_, b)) in zip(whole.namedParameters, resumed.namedParameters) {
            XCTAssertEqual(a.value.scalars.map(\.bitPattern), b.value.scalars.map(\.bitPattern), name)
        }
        XCTAssertThrowsError(try TrainingPosition(metadata: ["resume.epochs": "2"], source: "f")) {
            XCTAssertEqual("\($0)", "f: has no resume.steps (not saved by a run that can be resumed)")
        }
    }

    func testCheckpointHoldsNamedModulesOptimizersAndConfiguration() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-multi-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        GlobalRandom.seed(1)
        let generator = Linear(3, 4), discriminator = Linear(4, 1)
        let generatorOptimizer = Adam(parameters: generator.parameters, lr: 0.01)
        let discriminatorOptimizer = SGD(parameters: discriminator.parameters, lr: 0.1, momentum: 0.9)
        for _ in 0..<2 {
            generatorOptimizer.zeroGrad()
            discriminatorOptimizer.zeroGrad()
            discriminator(generator(Tensor.ones([2, 3]))).sum().backward()
            generatorOptimizer.step()
            discriminatorOptimizer.step()
        }
        try Checkpoint.save(modules: [("generator", generator), ("discriminator", discriminator)],
                            optimizers: [("generator_optimizer", generatorOptimizer), ("discriminator_optimizer", discriminatorOptimizer)],
                            metadata: ["config": "{\"hidden\":4}"], to: path)
        let file = try CheckpointFile(path: path)
        XCTAssertEqual(try file.requireMetadata("config"), "{\"hidden\":4}")
        XCTAssertNotNil(file.tensors["generator.weight"])
        XCTAssertNotNil(file.tensors["discriminator.bias"])
        XCTAssertThrowsError(try file.requireMetadata("vocabulary"))

        GlobalRandom.seed(9)
        let generator2 = Linear(3, 4), discriminator2 = Linear(4, 1)
        let generatorOptimizer2 = Adam(parameters: generator2.parameters, lr: 0.5)
        let discriminatorOptimizer2 = SGD(parameters: discriminator2.parameters, lr: 0.5, momentum: 0.9)
        try file.load(modules: [("generator", generator2), ("discriminator", discriminator2)],
                      optimizers: [("generator_optimizer", generatorOptimizer2), ("discriminator_optimizer", discriminatorOptimizer2)])
        XCTAssertEqual(generator2.weight.scalars, generator.weight.scalars)
        XCTAssertEqual(discriminator2.bias!.value.scalars, discriminator.bias!.value.scalars)
        XCTAssertEqual(generatorOptimizer2.stepCount, 2)
        XCTAssertEqual(generatorOptimizer2.learningRate, 0.01)
        XCTAssertEqual(discriminatorOptimizer2.state[0]["momentum_buffer"]?.scalars, discriminatorOptimizer.state[0]["momentum_buffer"]?.scalars)
        // A module that does not fit changes nothing.
        let wrong = Linear(3, 5), untouched = Linear(4, 1)
        let before = untouched.weight.scalars
        XCTAssertThrowsError(try file.load(modules: [("discriminator", untouched), ("generator", wrong)]))
        XCTAssertEqual(untouched.weight.scalars, before)
        XCTAssertThrowsError(try Checkpoint.save(modules: [("a", generator), ("a", generator2)], to: path))
    }
}
