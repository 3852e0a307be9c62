// What a Trainer trains: any model and loss, through one protocol.

import SynapseCore
import SynapseData
import SynapseNN
import SynapseOptim

/// What a task computes for one batch.
public struct TaskOutput {
    /// The batch's loss, recording the autodiff graph when gradients are enabled.
    public let loss: Tensor
    /// How many examples (or tokens) the loss averages over; epoch figures weight each batch by it.
    public let count: Int
    /// Named figures of the batch ("accuracy"), averaged over an epoch with the same weights.
    public let metrics: [String: Float]

    public init(loss: Tensor, count: Int, metrics: [String: Float] = [:]) {
        self.loss = loss
        self.count = count
        self.metrics = metrics
    }
}

/// A learning problem a `Trainer` can run: it maps a batch to a loss and metrics. The trainer
/// owns everything around it (the optimizer step, schedules, clipping, averaging, callbacks,
/// the progress bar and history), so a classifier, a language model, a tagger and a
/// forecaster share one loop.
///
/// ```swift
/// struct Forecasting: TrainingTask {
///     let model: Forecaster
///     func loss(for batch: RegressionBatch) -> TaskOutput {
///         TaskOutput(loss: mseLoss(model(batch.inputs), batch.targets), count: batch.count)
///     }
/// }
/// ```
public protocol TrainingTask<Batch> {
    associatedtype Batch: Sendable
    /// The loss and metrics of one batch. The trainer calls it in training mode with
    /// gradients on, and during validation in evaluation mode without gradients. An error it
    /// throws (a batch the model cannot take) stops `fit` with that error.
    func loss(for batch: Batch) throws -> TaskOutput
    /// Called before each validation pass.
    func validationWillStart()
    /// Called after each validation pass, in which `loss(for:)` saw every validation batch.
    func validationDidEnd()
    /// The updates each training batch makes, in order: each zeroes its optimizer's gradients,
    /// computes its loss, back-propagates it and steps before the next computes its own, so a
    /// later stage sees the parameters an earlier one just changed. By default there is one,
    /// `loss(for:)` stepped by the trainer's `optimizer`; a GAN has two, the discriminator's
    /// then the generator's, each with its own optimizer.
    func stages(optimizer: Optimizer) -> [TrainingStage<Batch>]
}

extension TrainingTask {
    public func validationWillStart() {}
    public func validationDidEnd() {}
    public func stages(optimizer: Optimizer) -> [TrainingStage<Batch>] {
        [TrainingStage("", optimizer: optimizer, loss: loss(for:))]
    }
}

/// One optimizer update of a training batch, for tasks that train several parts with their
/// own optimizers. With more than one stage, the trainer reports each stage's loss as the
/// metric "<name>_loss" and the first stage's as the batch's loss.
public struct TrainingStage<Batch> {
    public let name: String
    public let optimizer: Optimizer
    /// The stage's loss for a batch, recording the graph; only `optimizer`'s parameters step
    /// on its gradients.
    public let loss: (Batch) throws -> TaskOutput

    public init(_ name: String, optimizer: Optimizer, loss: @escaping (Batch) throws -> TaskOutput) {
        self.name = name
        self.optimizer = optimizer
        self.loss = loss
    }
}

/// Classification, one class per example: `loss` (cross-entropy by default) of the logits
/// [N, C] that `forward` gives for a batch, against the batch's labels, with accuracy as its
/// metric. After each validation pass it holds the full metrics (per-class precision, recall,
/// F1 and the confusion matrix) in `lastValidationMetrics`.
///
/// Any batch works: images (`LabeledBatch`, through `init(model:classCount:)`), padded
/// sentences (`SequenceBatch`), or anything a `forward` closure maps to logits and labels. An
/// error `forward` throws stops training with that error.
public final class ClassificationTask<Batch: Sendable>: TrainingTask {
    public let classCount: Int
    public let lossFunction: (Tensor, IndexTensor) -> Tensor
    /// The logits [N, C] of a batch and its N labels.
    public let forward: (Batch) throws -> (logits: Tensor, labels: IndexTensor)
    /// The metrics of the most recent validation pass.
    public private(set) var lastValidationMetrics: ClassificationMetrics?
    private var validating: (confusion: [[Int]], loss: Double, seen: Int)?

    public init(classCount: Int, loss: @escaping (Tensor, IndexTensor) -> Tensor = { crossEntropy($0, $1) },
                forward: @escaping (Batch) throws -> (logits: Tensor, labels: IndexTensor)) {
        require(classCount > 0, "ClassificationTask: classCount must be positive, got \(classCount)")
        self.classCount = classCount
        lossFunction = loss
        self.forward = forward
    }

    public func loss(for batch: Batch) throws -> TaskOutput {
        let (output, labels) = try forward(batch)
        let loss = lossFunction(output, labels)
        let predicted = output.argmax(axis: 1).scalars
        var hits = 0
        for (truth, prediction) in zip(labels.scalars, predicted) {
            if truth == prediction { hits += 1 }
            if validating != nil, truth < classCount, prediction < classCount { validating!.confusion[truth][prediction] += 1 }
        }
        if validating != nil {
            validating!.loss += Double(loss.item) * Double(labels.count)
            validating!.seen += labels.count
        }
        return TaskOutput(loss: loss, count: labels.count, metrics: ["accuracy": Float(hits) / Float(max(labels.count, 1))])
    }

    public func validationWillStart() {
        validating = (Array(repeating: Array(repeating: 0, count: classCount), count: classCount), 0, 0)
    }

    public func validationDidEnd() {
        guard let validating else { return }
        lastValidationMetrics = ClassificationMetrics(confusion: validating.confusion,
                                                      loss: validating.seen == 0 ? 0 : Float(validating.loss / Double(validating.seen)))
        self.validating = nil
    }
}

extension ClassificationTask where Batch == LabeledBatch {
    /// Classification of labelled inputs by `model`, whose output is the logits [N, C].
    public convenience init(model: any UnaryLayer, classCount: Int,
                            loss: @escaping (Tensor, IndexTensor) -> Tensor = { crossEntropy($0, $1) }) {
        self.init(classCount: classCount, loss: loss) { batch in (model(batch.inputs), batch.labels) }
    }
}

/// Prediction of one class per token (the next character of a language model, the tag of a
/// tagger): cross-entropy over every token whose target is not `ignoreIndex`, with accuracy
/// as its metric. `forward` maps a batch to logits [M, C] and the M targets they predict, in
/// whatever token order suits the model (time-major for recurrent networks). An error it
/// throws (a batch the model cannot take) stops training with that error.
public final class TokenPredictionTask<Batch: Sendable>: TrainingTask {
    public let forward: (Batch) throws -> (logits: Tensor, targets: IndexTensor)
    public let ignoreIndex: Int

    public init(ignoreIndex: Int = -100, forward: @escaping (Batch) throws -> (logits: Tensor, targets: IndexTensor)) {
        self.forward = forward
        self.ignoreIndex = ignoreIndex
    }

    public func loss(for batch: Batch) throws -> TaskOutput {
        let (logits, targets) = try forward(batch)
        require(logits.rank == 2 && targets.shape == [logits.shape[0]],
                "TokenPredictionTask: forward must give logits [M, C] and M targets, got \(logits.shape) and \(targets.shape)")
        let loss = crossEntropy(logits, targets, ignoreIndex: ignoreIndex)
        let predicted = logits.detached().argmax(axis: 1).scalars
        var counted = 0, hits = 0
        for (truth, prediction) in zip(targets.scalars, predicted) where truth != ignoreIndex {
            counted += 1
            if truth == prediction { hits += 1 }
        }
        return TaskOutput(loss: loss, count: counted, metrics: ["accuracy": Float(hits) / Float(max(counted, 1))])
    }
}

/// Regression of real-valued targets: `loss` (mean squared error by default) between
/// `forward`'s predictions and the batch's targets, with the batch's RMSE as its metric.
public final class RegressionTask: TrainingTask {
    public let forward: (Tensor) -> Tensor
    public let lossFunction: (Tensor, Tensor) -> Tensor

    public init(loss: @escaping (Tensor, Tensor) -> Tensor = { mseLoss($0, $1) }, forward: @escaping (Tensor) -> Tensor) {
        self.forward = forward
        lossFunction = loss
    }

    public func loss(for batch: RegressionBatch) -> TaskOutput {
        let prediction = forward(batch.inputs)
        require(prediction.shape == batch.targets.shape,
                "RegressionTask: predictions \(prediction.shape) do not match targets \(batch.targets.shape)")
        let loss = lossFunction(prediction, batch.targets)
        let rmse = mseLoss(prediction.detached(), batch.targets).item.squareRoot()
        return TaskOutput(loss: loss, count: batch.count, metrics: ["rmse": rmse])
    }
}
