// `synapse train`: train a classifier on a dataset, with progress, validation and checkpoints.

import ArgumentParser
import Foundation
import Synapse
import SynapseDistributed
import SynapseExamples
import SynapseKernels

extension DatasetName: ExpressibleByArgument {}
extension ModelName: ExpressibleByArgument {}

enum OptimizerName: String, ExpressibleByArgument, CaseIterable {
    case sgd, adam, adamw, rmsprop, adagrad
}

/// `--augment flip,shift`: the augmentations to apply, comma-separated.
struct AugmentationList: ExpressibleByArgument {
    let kinds: [ImageAugmentation]

    init?(argument: String) {
        let kinds = argument.split(separator: ",").map { ImageAugmentation(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
        guard !kinds.isEmpty, kinds.allSatisfy({ $0 != nil }) else { return nil }
        self.kinds = kinds.compactMap { $0 }
    }
}

enum ScheduleName: String, ExpressibleByArgument, CaseIterable {
    /// A constant learning rate.
    case constant
    /// Cosine annealing from --lr to 0 over the run's epochs.
    case cosine
    /// ×0.1 after each third of the epochs.
    case step
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a dataset and report test accuracy.",
        discussion: "Example: synapse train --model mlp --dataset fashion-mnist --epochs 10 --save mlp.safetensors")

    @Option(help: "Model architecture: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelName = .mlp
    @Option(help: "Dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")) (digits is embedded).")
    var dataset: DatasetName = .digits
    @Option(help: "Directory holding the dataset's IDX files (default for fashion-mnist: /usr/share/datasets/fashion-mnist).")
    var dataDir: String?
    @Option(help: "Training epochs.")
    var epochs = 20
    @Option(help: "Mini-batch size.")
    var batchSize = 64
    @Option(help: "Optimizer: \(OptimizerName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var optimizer: OptimizerName = .sgd
    @Option(help: "Learning rate.")
    var lr: Float = 0.01
    @Option(help: "Momentum (SGD, RMSProp).")
    var momentum: Float = 0.9
    @Option(help: "Weight decay (L2; decoupled for AdamW).")
    var weightDecay: Float = 0
    @Option(help: "Learning-rate schedule, stepped per epoch: \(ScheduleName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var lrSchedule: ScheduleName = .constant
    @Option(help: "Average the weights over training with this decay per step (e.g. 0.999) and keep the average; validation, test and the saved model use it.")
    var emaDecay: Float?
    @Option(help: "Augment training images, a comma-separated list of \(ImageAugmentation.allCases.map(\.rawValue).joined(separator: ", ")) (e.g. flip,shift).")
    var augment: AugmentationList?
    @Option(help: "Seed for initialization, shuffling and the validation split.")
    var seed: UInt64 = 0
    @Option(help: "Fraction of the training set held out for validation (0 disables validation and early stopping).")
    var validationSplit: Double = 0
    @Option(help: "Stop after this many epochs without validation improvement, restoring the best weights (needs --validation-split).")
    var patience: Int?
    @Option(help: "Write the per-epoch history here (.json or .csv).")
    var history: String?
    @Option(help: "Save the trained model (safetensors) here, after every epoch and at the end, with what --resume needs.")
    var save: String?
    @Option(help: "Continue the run saved at this path by --save, as if it had never stopped; the other flags must be the saved run's.")
    var resume: String?
    @OptionGroup var reporting: ReportOptions
    @OptionGroup var distribution: DistributedOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard (1...1_000_000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 1000000") }
        guard momentum >= 0 && momentum < 1 else { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 && weightDecay.isFinite else {
            throw ValidationError("--weight-decay must be a non-negative number, got \(weightDecay)")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard validationSplit >= 0 && validationSplit < 1 else { throw ValidationError("--validation-split must be in [0, 1)") }
        guard emaDecay.map({ $0 >= 0 && $0 < 1 }) ?? true else { throw ValidationError("--ema-decay must be in [0, 1)") }
        guard patience == nil || validationSplit > 0 else { throw ValidationError("--patience needs --validation-split") }
        guard resume == nil || (patience == nil && emaDecay == nil) else {
            throw ValidationError("--resume cannot yet continue early stopping (--patience) or weight averaging (--ema-decay)")
        }
    }

    mutating func run() throws {
        try checkWritable(history, flag: "--history")
        try checkWritable(save, flag: "--save")
        common.applyThreadCount()
        let group = try distribution.start(common, command: self)
        if let group, group.rank != 0 { (history, save, reporting.report) = (nil, nil, nil) }
        try train(group: group)
    }

    private func train(group: MPIProcessGroup?) throws {
        let data = try reportingErrors { try dataset.load(directory: dataDir) }
        GlobalRandom.seed(seed)
        var train = data.train, validation: TensorDataset?
        if validationSplit > 0 {
            let held = max(1, Int((Double(data.train.count) * validationSplit).rounded()))
            guard held < data.train.count else {
                throw CLIError("--validation-split \(validationSplit) of \(data.train.count) training examples leaves "
                               + "\(data.train.count - held) to train on and \(held) to validate; each needs at least one")
            }
            (train, validation) = data.train.split(validationFraction: validationSplit, seed: seed)
        }
        let inputShape = Array(train.inputs.shape.dropFirst()), classes = data.train.classCount
        let network = try reportingErrors { try model.build(inputShape: inputShape, classes: classes) }
        let optimizer = makeOptimizer(network.parameters)
        // Standardize with statistics of the training split only: per channel for images,
        // per feature otherwise.
        let (mean, deviation) = train.inputs.rank >= 4 ? train.channelStatistics() : train.featureStatistics()
        let normalize = Normalize(mean: mean, standardDeviation: deviation)
        var trainTransform: any Transform = normalize
        if let augment {
            guard inputShape.count == 3 else {
                throw CLIError("--augment needs an image dataset (mnist, fashion-mnist); \(dataset.rawValue) examples are \(inputShape)")
            }
            trainTransform = Compose([ImageAugmentation.transform(augment.kinds, height: inputShape[1], width: inputShape[2]), normalize])
        }
        let trainLoader = DataLoader(train, batchSize: batchSize, shuffle: true, seed: seed, transform: trainTransform)
        let validationLoader = validation.map { DataLoader($0, batchSize: 250, transform: normalize) }
        let testLoader = DataLoader(data.test, batchSize: 250, transform: normalize)
        if let group {
            group.prepare(network, seed: seed, options: distribution, quiet: common.json)
            validationLoader?.shard = DataShard(rank: group.rank, count: group.size, padded: false)
        }
        trainLoader.shard = try distribution.trainingShard(group, batchSize: batchSize)
        if !common.json {
            print("training \(model.rawValue) (\(network.parameterCount) parameters) on \(dataset.rawValue): "
                  + "\(train.count) train\(validation.map { ", \($0.count) validation" } ?? ""), \(data.test.count) test; "
                  + "\(self.optimizer.rawValue) lr \(lr) (\(lrSchedule.rawValue)), batch \(batchSize)\(group.map { " per process × \($0.size) processes" } ?? "")"
                  + "\(augment.map { ", augmented (\($0.kinds.map(\.rawValue).joined(separator: ",")))" } ?? ""), \(Kernels.threadCount) threads")
        }
        var callbacks: [TrainingCallback] = [ProgressBar(quiet: common.json)]
        let datasetFields = [ReportField("Dataset", dataset.rawValue), ReportField("Train", "\(train.count) examples"),
                             ReportField("Validation", "\(validation?.count ?? 0) examples"),
                             ReportField("Test", "\(data.test.count) examples"),
                             ReportField("Input", ModelSummary.formatted(shape: inputShape)), ReportField("Classes", String(classes))]
        let summary = reporting.report == nil ? nil : ModelSummary(network, input: Tensor.zeros([batchSize] + inputShape))
        let report = try reporting.makeReport(title: "\(model.rawValue) on \(dataset.rawValue)", command: self,
                                              datasets: datasetFields, summary: summary)
        if let report { callbacks.append(report) }
        let stopping = patience.map { EarlyStopping(patience: $0) }
        if let stopping { callbacks.append(stopping) }
        if let history { callbacks.append(HistoryWriter(path: history)) }
        let trainer = Trainer(model: network, optimizer: optimizer, callbacks: callbacks)
        trainer.processGroup = group
        if let emaDecay { trainer.averaging = ExponentialMovingAverage(parameters: network.parameters, decay: emaDecay) }
        switch lrSchedule {
        case .constant: break
        case .cosine: trainer.schedule = CosineSchedule(optimizer: optimizer, period: epochs)
        case .step: trainer.schedule = StepSchedule(optimizer: optimizer, stepSize: max(1, epochs / 3))
        }
        if let save {
            trainer.callbacks.append(ResumableSave { trainer in
                try TrainedClassifier.save(network, modelName: model, dataset: dataset, inputShape: inputShape, classes: classes,
                                           normalize: normalize, optimizer: optimizer,
                                           metadata: runConfiguration.merging(trainer.position.metadata) { $1 }, to: save)
            })
        }
        if let resume {
            let position = try reportingErrors { try resumeRun(from: resume, network: network, optimizer: optimizer) }
            trainer.resume(from: position)
            trainLoader.epoch = position.epochs
            if !common.json { print("resuming \(resume) after epoch \(position.epochs) of \(epochs)") }
        }
        let log = try reportingErrors {
            try trainer.fit(trainLoader, validation: validationLoader, epochs: epochs - trainer.completedEpochs, classCount: classes)
        }
        // Rank 0 alone reports the test set, whole, so that its misclassified examples can be shown.
        guard group?.rank ?? 0 == 0 else { return try reportingErrors { try group?.finish() } }
        let metrics = evaluate(network, on: testLoader, classCount: classes)
        // The last epoch's save already holds the final weights, unless early stopping or
        // weight averaging replaced them when training ended.
        if let save, patience != nil || emaDecay != nil {
            try reportingErrors {
                try TrainedClassifier.save(network, modelName: model, dataset: dataset, inputShape: inputShape, classes: classes,
                                           normalize: normalize, optimizer: optimizer,
                                           metadata: runConfiguration.merging(trainer.position.metadata) { $1 }, to: save)
            }
        }
        if let report {
            report.document.results = [ReportField("Test accuracy", String(format: "%.4f", metrics.accuracy)),
                                       ReportField("Test loss", String(format: "%.4f", metrics.loss)),
                                       ReportField("Epochs", String(trainer.completedEpochs))]
            report.document.setSection(.classification(ClassificationSection(
                title: "Test set", metrics: metrics, dataset: data.test, classNames: data.train.classNames)))
            if let validationMetrics = trainer.lastValidationMetrics {
                report.document.setSection(.classification(ClassificationSection(
                    title: "Validation, last epoch", classNames: data.train.classNames, confusion: validationMetrics.confusion)))
            }
            try reportingErrors { try report.finish() }
        }
        let secondsPerEpoch = log.map(\.seconds).reduce(0, +) / Double(log.count)
        if common.json {
            printJSON([
                "model": model.rawValue, "dataset": dataset.rawValue, "epochs": trainer.completedEpochs,
                "seconds_per_epoch": secondsPerEpoch, "train_loss": Double(log.last!.trainLoss),
                "test_loss": Double(metrics.loss), "test_accuracy": Double(metrics.accuracy),
                "parameters": network.parameterCount, "threads": Kernels.threadCount,
            ].merging(communicationFields(log)) { $1 })
        } else {
            if let stopping, stopping.stoppedEarly { print("stopped early; restored the weights of epoch \(stopping.bestEpoch)") }
            if let validationMetrics = trainer.lastValidationMetrics {
                print("validation, last epoch:\n" + validationMetrics.report(classNames: data.train.classNames))
            }
            print(String(format: "test loss %.4f  test accuracy %.4f  (%.2f s per epoch)", metrics.loss, metrics.accuracy, secondsPerEpoch))
            if let save { print("saved \(save)") }
            if let path = reporting.report { print("report \(path)") }
        }
        try reportingErrors { try group?.finish() }
    }

    /// The flags that shape a run, saved with it under `train.` keys: a resumed run must have
    /// the same ones to continue it exactly. The epoch count matters only to a schedule.
    private var runConfiguration: [String: String] {
        var flags: [String: String] = [:]
        flags["model"] = model.rawValue
        flags["dataset"] = dataset.rawValue
        flags["batch-size"] = String(batchSize)
        flags["optimizer"] = optimizer.rawValue
        flags["lr"] = String(lr)
        flags["momentum"] = String(momentum)
        flags["weight-decay"] = String(weightDecay)
        flags["lr-schedule"] = lrSchedule.rawValue
        flags["seed"] = String(seed)
        flags["validation-split"] = String(validationSplit)
        flags["patience"] = patience.map { String($0) } ?? "none"
        flags["ema-decay"] = emaDecay.map { String($0) } ?? "none"
        flags["augment"] = augment.map { $0.kinds.map(\.rawValue).joined(separator: ",") } ?? "none"
        if lrSchedule != .constant { flags["epochs"] = String(epochs) }
        return Dictionary(uniqueKeysWithValues: flags.map { ("train." + $0.key, $0.value) })
    }

    /// Checks the checkpoint at `path` as any classifier checkpoint, then that it was saved by
    /// a run with these flags, and loads its weights and optimizer state.
    private func resumeRun(from path: String, network: any UnaryLayer, optimizer: Optimizer) throws -> TrainingPosition {
        _ = try TrainedClassifier(checkpoint: path)
        let file = try CheckpointFile(path: path)
        let position = try resumablePosition(file, path: path, configuration: runConfiguration, epochs: epochs)
        try file.load(modules: [("", network as Module)], optimizers: [("optimizer", optimizer)])
        return position
    }

    private func makeOptimizer(_ parameters: [Parameter]) -> Optimizer {
        switch optimizer {
        case .sgd: return SGD(parameters: parameters, lr: lr, momentum: momentum, weightDecay: weightDecay)
        case .adam: return Adam(parameters: parameters, lr: lr, weightDecay: weightDecay)
        case .adamw: return AdamW(parameters: parameters, lr: lr, weightDecay: weightDecay)
        case .rmsprop: return RMSProp(parameters: parameters, lr: lr, momentum: momentum, weightDecay: weightDecay)
        case .adagrad: return Adagrad(parameters: parameters, lr: lr, weightDecay: weightDecay)
        }
    }
}

/// Saves the run after every epoch, so that an interrupted run can be resumed.
private final class ResumableSave: TrainingCallback {
    var scope: CallbackScope { .primaryProcess }
    let save: (Trainer) throws -> Void
    init(_ save: @escaping (Trainer) throws -> Void) { self.save = save }

    func epochDidEnd(_ trainer: Trainer, log: EpochLog) throws -> Bool {
        try save(trainer)
        return false
    }
}
