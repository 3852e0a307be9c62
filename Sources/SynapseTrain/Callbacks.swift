// Standard training callbacks: progress bar, early stopping, history and checkpoints.

import Foundation
import SynapseCore
import SynapseIO
import SynapseNN

/// A one-line progress bar per epoch (epoch, batch, loss, the task's metrics, samples/s, ETA), redrawn
/// in place. It prints nothing when standard output is not a terminal, so logs and pipes
/// stay clean; the epoch summary lines are printed either way unless `quiet`.
public final class ProgressBar: TrainingCallback {
    public var scope: CallbackScope { .primaryProcess }
    private let interactive: Bool
    private let quiet: Bool
    private let summaryInterval: Int
    private var epochs = 0, batches = 0
    private var epochStart: UInt64 = 0, samples = 0
    private var runningLoss = 0.0, runningBatches = 0
    private var runningMetrics: [String: Double] = [:]

    /// `summaryInterval` prints the summary line of every n-th epoch (and the last) only, for
    /// runs of hundreds of short epochs.
    public init(quiet: Bool = false, summaryInterval: Int = 1) {
        require(summaryInterval > 0, "ProgressBar: summaryInterval must be positive, got \(summaryInterval)")
        interactive = isatty(STDOUT_FILENO) != 0 && !quiet
        self.quiet = quiet
        self.summaryInterval = summaryInterval
    }

    public func trainingWillStart(_ trainer: Trainer, epochs: Int, batchesPerEpoch: Int) {
        self.epochs = epochs
        batches = batchesPerEpoch
    }

    public func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) {
        if batch == 1 {
            epochStart = DispatchTime.now().uptimeNanoseconds
            self.samples = 0
            runningLoss = 0
            runningMetrics = [:]
            runningBatches = 0
        }
        self.samples += samples
        runningLoss += Double(loss)
        for (name, value) in metrics { runningMetrics[name, default: 0] += Double(value) }
        runningBatches += 1
        guard interactive, batch == batches || batch % 10 == 0 else { return }
        let elapsed = max(Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9, 1e-9)
        let rate = Double(self.samples) / elapsed
        let eta = elapsed / Double(batch) * Double(batches - batch)
        let figures = runningMetrics.sorted { $0.key < $1.key }
            .map { String(format: "  %@ %.4f", ProgressBar.abbreviation($0.key), $0.value / Double(runningBatches)) }.joined()
        func line(_ bar: String) -> String {
            String(format: "epoch %d/%d %@ %d/%d  loss %.4f%@  %.0f samples/s  ETA %.1fs",
                   epoch, epochs, bar, batch, batches, runningLoss / Double(runningBatches), figures, rate, eta)
        }
        let text = ProgressBar.fitted(line, done: batch, of: batches, columns: ProgressBar.terminalColumns() - 1)
        FileHandle.standardOutput.write(Data(("\r" + text + "\u{1B}[K").utf8))
    }

    /// The progress line `line(bar)` with a bar of `done`/`total`, at most `columns` wide. A
    /// line wider than the terminal wraps, and each redraw would then stack a new bar under
    /// the last: the bar (24 wide at most) shrinks to fit, and what still does not fit is cut.
    static func fitted(_ line: (String) -> String, done: Int, of total: Int, columns: Int) -> String {
        let width = max(0, min(24, columns - line("").count))
        let filled = width * done / max(total, 1)
        return String(line(String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)).prefix(max(0, columns)))
    }

    public func trainingDidFail(_ trainer: Trainer, error: Error) {
        if interactive { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// The width of the terminal on standard output, or 80 when it cannot be read.
    private static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    public func epochDidEnd(_ trainer: Trainer, log: EpochLog) -> Bool {
        if interactive { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
        guard !quiet, log.epoch % summaryInterval == 0 || log.epoch == epochs else { return false }
        func figures(_ metrics: [String: Float]) -> String {
            metrics.sorted { $0.key < $1.key }.map { String(format: "  %@ %.4f", ProgressBar.abbreviation($0.key), $0.value) }.joined()
        }
        var line = String(format: "epoch %d/%d  train loss %.4f", log.epoch, epochs, log.trainLoss) + figures(log.trainMetrics)
        if let loss = log.validationLoss {
            line += String(format: "  val loss %.4f", loss) + figures(log.validationMetrics)
        }
        line += String(format: "  %.2fs", log.seconds)
        if let communication = log.communicationSeconds, log.seconds > 0 {
            line += String(format: " (%.0f%% communicating)", 100 * communication / log.seconds)
        }
        print(line)
        return false
    }

    private static func abbreviation(_ metric: String) -> String {
        metric == "accuracy" ? "acc" : metric
    }
}

/// Stops when the validation loss has not improved by `minimumDelta` for `patience` epochs,
/// and restores the weights of the best epoch when training ends.
public final class EarlyStopping: TrainingCallback {
    public let patience: Int, minimumDelta: Float
    public private(set) var bestLoss = Float.infinity
    public private(set) var bestEpoch = 0
    public private(set) var stoppedEarly = false
    private var bestWeights: [Tensor] = []
    private var badEpochs = 0

    public init(patience: Int = 5, minimumDelta: Float = 0) {
        require(patience >= 0, "EarlyStopping: patience must be non-negative")
        self.patience = patience
        self.minimumDelta = minimumDelta
    }

    public func epochDidEnd(_ trainer: Trainer, log: EpochLog) -> Bool {
        guard let loss = log.validationLoss else { return false }
        if loss < bestLoss - minimumDelta {
            bestLoss = loss
            bestEpoch = log.epoch
            bestWeights = trainer.model.parameters.map(\.value)
            badEpochs = 0
            return false
        }
        badEpochs += 1
        stoppedEarly = badEpochs > patience
        return stoppedEarly
    }

    public func trainingDidEnd(_ trainer: Trainer, history: [EpochLog]) {
        guard !bestWeights.isEmpty else { return }
        for (parameter, weights) in zip(trainer.model.parameters, bestWeights) { parameter.assign(weights) }
    }
}

/// Writes the history after every epoch, atomically: JSON if `path` ends in `.json`,
/// otherwise CSV. Train and validation curves side by side show when a model starts to
/// overfit. A failed write stops training with its error.
public final class HistoryWriter: TrainingCallback {
    public var scope: CallbackScope { .primaryProcess }
    public let path: String
    private var history: [EpochLog] = []

    public init(path: String) { self.path = path }

    public func epochDidEnd(_ trainer: Trainer, log: EpochLog) throws -> Bool {
        history.append(log)
        let data: Data
        if path.hasSuffix(".json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            data = (try? encoder.encode(history)) ?? Data()
        } else {
            let names = Set(history.flatMap { $0.trainMetrics.keys }).union(history.flatMap { $0.validationMetrics.keys }).sorted()
            let distributed = history.contains { $0.communicationSeconds != nil }
            var csv = (["epoch", "steps", "train_loss"] + names.map { "train_\($0)" } + ["validation_loss"]
                       + names.map { "validation_\($0)" } + ["learning_rate", "seconds"]
                       + (distributed ? ["communication_seconds"] : [])).joined(separator: ",") + "\n"
            func cell(_ value: Float?) -> String { value.map { "\($0)" } ?? "" }
            for entry in history {
                let fields = ["\(entry.epoch)", "\(entry.steps)", cell(entry.trainLoss)] + names.map { cell(entry.trainMetrics[$0]) }
                    + [cell(entry.validationLoss)] + names.map { cell(entry.validationMetrics[$0]) }
                    + [cell(entry.learningRate), "\(entry.seconds)"]
                    + (distributed ? [entry.communicationSeconds.map { "\($0)" } ?? ""] : [])
                csv += fields.joined(separator: ",") + "\n"
            }
            data = Data(csv.utf8)
        }
        try AtomicFile.write(data, to: path)
        return false
    }
}

/// Saves the model (and optimizer) after every epoch to `lastPath`, and to `bestPath` whenever
/// the validation loss (or, without validation, the training loss) is the lowest so far. A
/// failed save stops training with its error.
public final class ModelCheckpoint: TrainingCallback {
    public var scope: CallbackScope { .primaryProcess }
    public let bestPath: String?, lastPath: String?
    public let metadata: [String: String]
    private var best = Float.infinity

    public init(bestPath: String? = nil, lastPath: String? = nil, metadata: [String: String] = [:]) {
        self.bestPath = bestPath
        self.lastPath = lastPath
        self.metadata = metadata
    }

    public func epochDidEnd(_ trainer: Trainer, log: EpochLog) throws -> Bool {
        var info = metadata
        info["epoch"] = String(log.epoch)
        if let lastPath { try Checkpoint.save(trainer.model, optimizer: trainer.optimizer, metadata: info, to: lastPath) }
        let monitored = log.validationLoss ?? log.trainLoss
        if let bestPath, monitored < best {
            best = monitored
            try Checkpoint.save(trainer.model, optimizer: trainer.optimizer, metadata: info, to: bestPath)
        }
        return false
    }
}

/// The mean training loss over the last `window` batches: the figure to report at the end of
/// a run measured in steps, where the epoch mean would still include the first, untrained
/// batches.
public final class RecentLoss: TrainingCallback {
    public let window: Int
    private var losses: [Float] = []

    public init(window: Int = 50) {
        require(window > 0, "RecentLoss: window must be positive, got \(window)")
        self.window = window
    }

    public func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) {
        losses.append(loss)
        if losses.count > window { losses.removeFirst(losses.count - window) }
    }

    /// The mean of the recorded losses (NaN before the first batch).
    public var mean: Float { losses.isEmpty ? .nan : losses.reduce(0, +) / Float(losses.count) }
}
