// The training loop.

import Foundation
import SynapseCore
import SynapseData
import SynapseNN
import SynapseOptim

/// What one epoch produced.
public struct EpochLog: Sendable, Codable {
    public let epoch: Int
    /// Optimizer steps taken so far, over all epochs.
    public let steps: Int
    public let trainLoss: Float
    /// The task's metrics over the epoch's batches ("accuracy" for classifiers).
    public let trainMetrics: [String: Float]
    public let validationLoss: Float?
    public let validationMetrics: [String: Float]
    /// The rate of the epoch's last optimizer step.
    public let learningRate: Float
    public let seconds: Double
    /// With a process group: the seconds of the epoch's training steps that this process
    /// spent in collectives (gradient averaging, waiting for the slowest process), so
    /// `communicationSeconds / seconds` is the share of each step spent communicating.
    public let communicationSeconds: Double?

    public init(epoch: Int, steps: Int, trainLoss: Float, trainMetrics: [String: Float], validationLoss: Float?,
                validationMetrics: [String: Float], learningRate: Float, seconds: Double, communicationSeconds: Double? = nil) {
        self.epoch = epoch
        self.steps = steps
        self.trainLoss = trainLoss
        self.trainMetrics = trainMetrics
        self.validationLoss = validationLoss
        self.validationMetrics = validationMetrics
        self.learningRate = learningRate
        self.seconds = seconds
        self.communicationSeconds = communicationSeconds
    }

    /// The training accuracy, for tasks that report one.
    public var trainAccuracy: Float? { trainMetrics["accuracy"] }
    /// The validation accuracy, for tasks that report one.
    public var validationAccuracy: Float? { validationMetrics["accuracy"] }
}

/// Hooks into `Trainer.fit`. Every method has a default that does nothing.
public protocol TrainingCallback: AnyObject {
    /// Where the callback runs when the trainer has a `processGroup` (default: every process).
    var scope: CallbackScope { get }
    func trainingWillStart(_ trainer: Trainer, epochs: Int, batchesPerEpoch: Int)
    /// Between `backward()` and the optimizer step, after gradient clipping: the place to
    /// inspect or change gradients (an all-reduce across processes, say).
    func gradientsDidCompute(_ trainer: Trainer)
    func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int)
    /// Return true to stop training after this epoch. An error thrown here (a history or
    /// checkpoint that cannot be written) stops training with that error.
    func epochDidEnd(_ trainer: Trainer, log: EpochLog) throws -> Bool
    func trainingDidEnd(_ trainer: Trainer, history: [EpochLog])
    /// Training stopped with `error` (a non-finite loss, a batch the task rejected): no
    /// `trainingDidEnd` follows, and the model should not be saved as a result.
    func trainingDidFail(_ trainer: Trainer, error: Error)
}

extension TrainingCallback {
    public var scope: CallbackScope { .everyProcess }
    public func trainingWillStart(_ trainer: Trainer, epochs: Int, batchesPerEpoch: Int) {}
    public func gradientsDidCompute(_ trainer: Trainer) {}
    public func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) {}
    public func epochDidEnd(_ trainer: Trainer, log: EpochLog) -> Bool { false }
    public func trainingDidEnd(_ trainer: Trainer, history: [EpochLog]) {}
    public func trainingDidFail(_ trainer: Trainer, error: Error) {}
}

/// How often a `Trainer` steps its learning-rate schedule.
public enum ScheduleInterval: Sendable {
    /// After every epoch, as PyTorch's examples step an `LRScheduler`.
    case epoch
    /// After every optimizer step, for a smooth decay within short runs.
    case batch
}

/// Trains a model with mini-batch gradient descent on any `TrainingTask`: for each batch,
/// zero the gradients, compute the task's loss, back-propagate, average the gradients over
/// the process group (if any), clip, run the callbacks' gradient hooks, step the optimizer, update the weight average and the schedule.
public final class Trainer {
    /// The model being trained: switched between training and evaluation mode, averaged,
    /// restored by early stopping and saved by checkpoints.
    public let model: Module
    public let optimizer: Optimizer
    /// The classification loss `fit(_:validation:epochs:classCount:)` uses.
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
    /// The processes this trainer shares each batch with, for data-parallel training; nil
    /// trains in this process alone.
    public var processGroup: (any ProcessGroup)?
    /// Optimizer steps taken by `fit` so far.
    public private(set) var stepCount = 0
    /// Epochs completed by `fit` so far; a later `fit` numbers its epochs on from here.
    public private(set) var completedEpochs = 0
    /// The full validation metrics (per-class precision, recall, F1, confusion matrix) of the
    /// most recent epoch, when training a classifier with a validation loader.
    public private(set) var lastValidationMetrics: ClassificationMetrics?

    /// Sets the epoch and step counts, for `resume(from:)`.
    func restoreCounts(epochs: Int, steps: Int) {
        completedEpochs = epochs
        stepCount = steps
    }

    public init(model: Module, optimizer: Optimizer, loss: @escaping (Tensor, IndexTensor) -> Tensor = { crossEntropy($0, $1) },
                callbacks: [TrainingCallback] = []) {
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.callbacks = callbacks
    }

    /// Trains a classifier (the model must be a `UnaryLayer` producing logits [N, C]) for up
    /// to `epochs` epochs and returns the history.
    @discardableResult
    public func fit<Source: Dataset>(_ train: DataLoader<Source>, validation: DataLoader<Source>? = nil, epochs: Int,
                                     classCount: Int) throws -> [EpochLog] where Source.Batch == LabeledBatch {
        guard let classifier = model as? any UnaryLayer else {
            fatalError("fit(classCount:): \(type(of: model)) is not a UnaryLayer; pass a TrainingTask to fit(_:on:validation:epochs:)")
        }
        let task = ClassificationTask(model: classifier, classCount: classCount, loss: loss)
        defer { lastValidationMetrics = task.lastValidationMetrics }
        return try fit(task, on: train, validation: validation, epochs: epochs)
    }

    /// Trains on `task` for up to `epochs` epochs, or until `maxSteps` optimizer steps in all
    /// (a callback may stop earlier), and returns the history. With `validation`, each epoch
    /// ends with a pass over it in evaluation mode.
    ///
    /// A batch whose loss is NaN or infinite stops training with `TrainingError.nonFiniteLoss`
    /// before that batch changes the model, so the parameters are those of the last finite
    /// step (with several stages, those of the batch that came before the failing one have
    /// stepped); an error thrown by the task stops it too. Callbacks see `trainingDidEnd` only
    /// when training ends normally.
    @discardableResult
    public func fit<Task: TrainingTask, Source: Dataset>(_ task: Task, on train: DataLoader<Source>,
                                                         validation: DataLoader<Source>? = nil, epochs: Int,
                                                         maxSteps: Int? = nil) throws -> [EpochLog] where Source.Batch == Task.Batch {
        require(epochs > 0, "fit: epochs must be positive, got \(epochs)")
        require(maxSteps.map { $0 > 0 } ?? true, "fit: maxSteps must be positive, got \(maxSteps ?? 0)")
        let stepLimit = maxSteps.map { stepCount + $0 } ?? Int.max
        let batchesPerEpoch = Swift.min(train.batchCount, maxSteps ?? Int.max)
        activeCallbacks.forEach { $0.trainingWillStart(self, epochs: completedEpochs + epochs, batchesPerEpoch: batchesPerEpoch) }
        let history: [EpochLog]
        do {
            try processGroup?.synchronize(model)
            history = try trainEpochs(task, on: train, validation: validation, epochs: epochs, stepLimit: stepLimit)
        } catch {
            activeCallbacks.forEach { $0.trainingDidFail(self, error: error) }
            throw error
        }
        averaging?.copyToParameters()
        activeCallbacks.forEach { $0.trainingDidEnd(self, history: history) }
        return history
    }

    private func trainEpochs<Task: TrainingTask, Source: Dataset>(_ task: Task, on train: DataLoader<Source>,
                                                                  validation: DataLoader<Source>?, epochs: Int,
                                                                  stepLimit: Int) throws -> [EpochLog] where Source.Batch == Task.Batch {
        var history: [EpochLog] = []
        let stages = task.stages(optimizer: optimizer)
        require(!stages.isEmpty, "fit: the task has no training stages")
        for epoch in (completedEpochs + 1)...(completedEpochs + epochs) {
            guard stepCount < stepLimit else { break }
            model.train()
            let start = DispatchTime.now().uptimeNanoseconds
            let communicationAtStart = processGroup?.communicationSeconds
            var totals = Totals()
            var learningRate = optimizer.learningRate
            // With chunks, each step's batch arrives as `chunks` consecutive smaller batches.
            let chunks = train.shard?.chunks ?? 1, chunkCount = train.shard?.chunkCount ?? 1
            var batches = train.makeIterator()
            var index = -1
            while let first = batches.next() {
                index += 1
                var step = [first]
                while step.count < chunks, let next = batches.next() { step.append(next) }
                learningRate = optimizer.learningRate
                let (output, lossValue) = try runStages(stages, on: step, chunkCount: chunkCount, epoch: epoch, batch: index + 1)
                stepCount += 1
                averaging?.update()
                if scheduleInterval == .batch { schedule?.step() }
                totals.add(loss: lossValue, output: output)
                activeCallbacks.forEach {
                    $0.batchDidEnd(self, epoch: epoch, batch: index + 1, loss: lossValue, metrics: output.metrics, samples: output.count)
                }
                if stepCount >= stepLimit { break }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let communication = communicationAtStart.map { processGroup!.communicationSeconds - $0 }
            if let processGroup { try totals.sum(over: processGroup) }
            if scheduleInterval == .epoch { schedule?.step() }
            // A step can overflow the weights while every loss it saw was finite; callbacks
            // that save the model must never see such weights.
            if let (name, _) = model.namedParameters.first(where: { !$0.1.value.isFinite }) {
                throw TrainingError.nonFiniteParameters(epoch: epoch, name: name)
            }
            completedEpochs = epoch
            let stop = try withAveragedWeights { () throws -> Bool in
                let validated = try validation.map { try validate(task, on: $0) }
                let log = EpochLog(epoch: epoch, steps: stepCount, trainLoss: totals.loss, trainMetrics: totals.metrics,
                                   validationLoss: validated?.loss, validationMetrics: validated?.metrics ?? [:],
                                   learningRate: learningRate, seconds: seconds, communicationSeconds: communication)
                history.append(log)
                var stop = false
                for callback in activeCallbacks where try callback.epochDidEnd(self, log: log) { stop = true }
                return stop
            }
            if stop { break }
        }
        return history
    }

    /// One training batch, given as its chunks (usually one): every stage's update in order.
    /// The result carries the first stage's loss (and its value) and count, and with several
    /// stages each one's loss as "<name>_loss".
    ///
    /// With several chunks, each stage computes each chunk's gradient on its own and sums them
    /// in chunk order, ((g₀ + g₁) + g₂) + …, divided by `chunkCount`, the number of chunks of
    /// all the processes, whichever process computed each: so the same chunks give the same
    /// bits at any process count that divides their number.
    private func runStages<Batch>(_ stages: [TrainingStage<Batch>], on chunks: [Batch], chunkCount: Int, epoch: Int,
                                  batch index: Int) throws -> (output: TaskOutput, loss: Float) {
        var first: (output: TaskOutput, loss: Float)?
        var metrics: [String: Float] = [:]
        for stage in stages {
            stage.optimizer.zeroGrad()
            var outputs: [(output: TaskOutput, loss: Float)] = []
            var chunkGradients: [[Tensor?]] = []
            let overlapped = chunks.count == 1 ? processGroup?.overlappedAveraging(of: stage.optimizer.parameters) : nil
            for chunk in chunks {
                let output = try stage.loss(chunk)
                let value = output.loss.item
                guard value.isFinite else {
                    throw TrainingError.nonFiniteLoss(step: stepCount + 1, epoch: epoch, batch: index, value: value)
                }
                // Only this stage's parameters get gradients: a generator's stage computes none
                // of the discriminator's.
                let parameters = stage.optimizer.parameters.map(\.value)
                if let overlapped {
                    output.loss.backward(inputs: parameters, watching: parameters, whenReady: overlapped.gradientIsReady)
                } else {
                    output.loss.backward(inputs: parameters)
                }
                outputs.append((output, value))
                if chunks.count > 1 {
                    chunkGradients.append(stage.optimizer.parameters.map(\.grad))
                    stage.optimizer.zeroGrad()
                }
            }
            if chunks.count > 1 {
                if let processGroup {
                    try processGroup.averageGradients(stage.optimizer.parameters, chunks: chunkGradients)
                } else {
                    ChunkedGradients.average(stage.optimizer.parameters, chunks: chunkGradients, chunkCount: chunkCount)
                }
            } else if let overlapped {
                try overlapped.finish()
            } else {
                try processGroup?.averageGradients(stage.optimizer.parameters)
            }
            let (output, value) = outputs.count == 1 ? outputs[0] : ChunkedGradients.combine(outputs)
            if let gradientClipNorm { clipGradientNorm(stage.optimizer.parameters, maxNorm: gradientClipNorm) }
            activeCallbacks.forEach { $0.gradientsDidCompute(self) }
            stage.optimizer.step()
            metrics.merge(output.metrics) { $1 }
            if stages.count > 1 { metrics["\(stage.name)_loss"] = value }
            if first == nil { first = (output, value) }
        }
        return (TaskOutput(loss: first!.output.loss, count: first!.output.count, metrics: metrics), first!.loss)
    }

    /// The task's mean loss and metrics over `loader`, in evaluation mode without gradients.
    public func validate<Task: TrainingTask, Source: Dataset>(_ task: Task, on loader: DataLoader<Source>)
        throws -> (loss: Float, metrics: [String: Float]) where Source.Batch == Task.Batch {
        task.validationWillStart()
        var totals = Totals()
        try model.inference {
            for batch in loader {
                let output = try task.loss(for: batch)
                totals.add(loss: output.loss.item, output: output)
            }
        }
        task.validationDidEnd()
        if let processGroup { try totals.sum(over: processGroup) }
        return (totals.loss, totals.metrics)
    }

    /// The callbacks this process runs: with a process group, rank 0 runs all of them and the
    /// others only those that change training.
    private var activeCallbacks: [TrainingCallback] {
        guard let processGroup, processGroup.rank != 0 else { return callbacks }
        return callbacks.filter { $0.scope == .everyProcess }
    }

    private func withAveragedWeights<T>(_ body: () throws -> T) rethrows -> T {
        guard let averaging else { return try body() }
        return try averaging.withAveragedWeights(body)
    }
}

/// Why `Trainer.fit` stopped early.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// The loss of a batch was NaN or infinite (a learning rate too high, say). The model
    /// keeps the parameters it had before that batch.
    case nonFiniteLoss(step: Int, epoch: Int, batch: Int, value: Float)
    /// A parameter held NaN or infinite values at the end of an epoch; nothing was saved from it.
    case nonFiniteParameters(epoch: Int, name: String)
    /// A checkpoint's training position that cannot be resumed from (the message says why).
    case cannotResume(String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, epoch, batch, value):
            let shown = value.isNaN ? "NaN" : value > 0 ? "infinite" : "-infinite"
            return "training stopped: the loss of step \(step) (epoch \(epoch), batch \(batch)) is \(shown); "
                + "the model keeps its parameters from before that step (try a lower learning rate)"
        case let .nonFiniteParameters(epoch, name):
            return "training stopped: parameter \(name) is NaN or infinite after epoch \(epoch), so nothing from that epoch "
                + "was saved (try a lower learning rate)"
        case .cannotResume(let message):
            return message
        }
    }
}

/// Running sums of batch figures, weighted by each batch's count.
private struct Totals {
    private var lossSum = 0.0, weight = 0
    private var metricSums: [String: Double] = [:]

    mutating func add(loss: Float, output: TaskOutput) {
        lossSum += Double(loss) * Double(output.count)
        weight += output.count
        for (name, value) in output.metrics { metricSums[name, default: 0] += Double(value) * Double(output.count) }
    }

    /// Replaces the sums with their totals over the processes of `group`, which must all
    /// report the same metrics.
    mutating func sum(over group: any ProcessGroup) throws {
        let names = metricSums.keys.sorted()
        let totals = try group.sum([lossSum, Double(weight)] + names.map { metricSums[$0]! })
        lossSum = totals[0]
        weight = Int(totals[1])
        for (index, name) in names.enumerated() { metricSums[name] = totals[2 + index] }
    }

    var loss: Float { Float(lossSum / Double(Swift.max(weight, 1))) }
    var metrics: [String: Float] { metricSums.mapValues { Float($0 / Double(Swift.max(weight, 1))) } }
}
