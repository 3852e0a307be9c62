// The training loop and its callbacks.

import Foundation
import SynapseCore
import SynapseData
import SynapseNN
import SynapseOptim

/// What one epoch produced.
public struct EpochLog: Sendable, Codable {
    public let epoch: Int
    public let trainLoss: Float
    public let trainAccuracy: Float
    public let validationLoss: Float?
    public let validationAccuracy: Float?
    /// The rate of the epoch's last optimizer step.
    public let learningRate: Float
    public let seconds: Double
}

/// Hooks into `Trainer.fit`. Every method has a default that does nothing.
public protocol TrainingCallback: AnyObject {
    func trainingWillStart(_ trainer: Trainer, epochs: Int, batchesPerEpoch: Int)
    func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, accuracy: Float, samples: Int)
    /// Return true to stop training after this epoch.
    func epochDidEnd(_ trainer: Trainer, log: EpochLog) -> Bool
    func trainingDidEnd(_ trainer: Trainer, history: [EpochLog])
}

extension TrainingCallback {
    public func trainingWillStart(_ trainer: Trainer, epochs: Int, batchesPerEpoch: Int) {}
    public func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, accuracy: Float, samples: Int) {}
    public func epochDidEnd(_ trainer: Trainer, log: EpochLog) -> Bool { false }
    public func trainingDidEnd(_ trainer: Trainer, history: [EpochLog]) {}
}

/// How often a `Trainer` steps its learning-rate schedule.
public enum ScheduleInterval: Sendable {
    /// After every epoch, as PyTorch's examples step an `LRScheduler`.
    case epoch
    /// After every optimizer step, for a smooth decay within short runs.
    case batch
}

/// Trains a classifier with mini-batch gradient descent:
/// for each batch, zero the gradients, run the model, compute the loss, back-propagate, step.
public final class Trainer {
    public let model: Module
    public let optimizer: Optimizer
    public let loss: (Tensor, IndexTensor) -> Tensor
    public var callbacks: [TrainingCallback]
    /// Stepped once per epoch or once per batch, as `scheduleInterval` says, if set.
    public var schedule: LearningRateSchedule?
    /// When `schedule` steps; a per-batch schedule's period counts batches.
    public var scheduleInterval: ScheduleInterval = .epoch
    /// Clips the global gradient norm before each step, if set.
    public var gradientClipNorm: Float?
    /// An average of the weights, updated after every step, if set. Validation and the
    /// callbacks' `epochDidEnd` see the averaged weights, and `fit` ends by writing them into
    /// the model; training itself always continues from the last iterate.
    public var averaging: ExponentialMovingAverage?
    /// The full validation metrics (per-class precision, recall, F1, confusion matrix) of the
    /// most recent epoch, when training with a validation loader.
    public private(set) var lastValidationMetrics: ClassificationMetrics?

    public init(model: Module, optimizer: Optimizer, loss: @escaping (Tensor, IndexTensor) -> Tensor = { crossEntropy($0, $1) },
                callbacks: [TrainingCallback] = []) {
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.callbacks = callbacks
    }

    /// Trains for up to `epochs` epochs (a callback may stop earlier) and returns the history.
    @discardableResult
    public func fit(_ train: DataLoader, validation: DataLoader? = nil, epochs: Int, classCount: Int) -> [EpochLog] {
        require(epochs > 0, "fit: epochs must be positive, got \(epochs)")
        callbacks.forEach { $0.trainingWillStart(self, epochs: epochs, batchesPerEpoch: train.batchCount) }
        var history: [EpochLog] = []
        for epoch in 1...epochs {
            model.train()
            let start = DispatchTime.now().uptimeNanoseconds
            var lossSum = 0.0, correct = 0, seen = 0
            var learningRate = optimizer.learningRate
            for (index, batch) in train.enumerated() {
                optimizer.zeroGrad()
                let output = model(batch.inputs)
                let batchLoss = loss(output, batch.labels)
                batchLoss.backward()
                if let gradientClipNorm { clipGradientNorm(optimizer.parameters, maxNorm: gradientClipNorm) }
                learningRate = optimizer.learningRate
                optimizer.step()
                averaging?.update()
                if scheduleInterval == .batch { schedule?.step() }
                let hits = zip(output.argmax(axis: 1).scalars, batch.labels.scalars).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
                let lossValue = batchLoss.item
                lossSum += Double(lossValue) * Double(batch.labels.count)
                correct += hits
                seen += batch.labels.count
                callbacks.forEach {
                    $0.batchDidEnd(self, epoch: epoch, batch: index + 1, loss: lossValue,
                                   accuracy: Float(hits) / Float(batch.labels.count), samples: batch.labels.count)
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if scheduleInterval == .epoch { schedule?.step() }
            let stop = withAveragedWeights { () -> Bool in
                let metrics = validation.map { evaluate(model, on: $0, classCount: classCount, loss: loss) }
                lastValidationMetrics = metrics
                let log = EpochLog(epoch: epoch, trainLoss: Float(lossSum / Double(max(seen, 1))),
                                   trainAccuracy: Float(correct) / Float(max(seen, 1)),
                                   validationLoss: metrics?.loss, validationAccuracy: metrics?.accuracy,
                                   learningRate: learningRate, seconds: seconds)
                history.append(log)
                var stop = false
                for callback in callbacks where callback.epochDidEnd(self, log: log) { stop = true }
                return stop
            }
            if stop { break }
        }
        averaging?.copyToParameters()
        callbacks.forEach { $0.trainingDidEnd(self, history: history) }
        return history
    }

    private func withAveragedWeights<T>(_ body: () -> T) -> T {
        guard let averaging else { return body() }
        return averaging.withAveragedWeights(body)
    }
}
