// The callback that keeps a training report up to date.

import Foundation
import SynapseCore
import SynapseIO
import SynapseKernels
import SynapseNN
import SynapseTrain

/// Writes a self-contained HTML report of a training run to `path`, rewritten atomically
/// after every epoch (so a reader sees the previous page or the new one, never part of one)
/// and when training ends or fails. The task adds its own sections (a confusion matrix,
/// generated samples) through `document` or `epochDidEnd`, and calls `write()` after
/// changing them outside training.
///
/// ```swift
/// let report = TrainingReport(path: "run.html", document: ReportDocument(title: "mlp on digits", ...))
/// trainer.callbacks.append(report)
/// ```
public final class TrainingReport: TrainingCallback {
    public var scope: CallbackScope { .primaryProcess }
    public let path: String
    public var document: ReportDocument
    /// Called at the end of each epoch, before the page is written: the place to add
    /// samples of that epoch (generated text, a GAN's image grid) to `document`.
    public var epochDidEnd: ((Trainer, EpochLog, inout ReportDocument) throws -> Void)?
    /// With `stepDidEnd`, also update and rewrite the page every this many optimizer steps:
    /// for runs measured in steps (a language model's single long epoch).
    public var stepInterval: Int?
    /// Called every `stepInterval` steps, before the page is written (samples at checkpoints).
    public var stepDidEnd: ((Trainer, inout ReportDocument) throws -> Void)?
    /// A batch to trace the model on when training starts, for models built out of the
    /// caller's sight (inside a library routine); used when `document` has no summary yet
    /// and the model is a `UnaryLayer`.
    public var summaryInput: Tensor?
    private var start = DispatchTime.now().uptimeNanoseconds
    private var epochSamples = 0
    /// A failed mid-epoch write, thrown at the end of the epoch (batch hooks cannot throw).
    private var pendingError: Error?

    public init(path: String, document: ReportDocument) {
        self.path = path
        self.document = document
    }

    /// The environment fields every report shows: the Synapse version, kernel threads, the
    /// CPU features this build targets, the CPU and the operating system.
    public static func environment() -> [ReportField] {
        var fields = [ReportField("Synapse", synapseVersion), ReportField("Kernel threads", String(Kernels.threadCount)),
                      ReportField("Build targets", Kernels.buildTargetDescription)]
        if let cpu = cpuModel() { fields.append(ReportField("CPU", "\(cpu) (\(ProcessInfo.processInfo.activeProcessorCount) cores)")) }
        fields.append(ReportField("System", ProcessInfo.processInfo.operatingSystemVersionString))
        fields.append(ReportField("Host", ProcessInfo.processInfo.hostName))
        return fields
    }

    private static func cpuModel() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The command line of this process, quoted where a shell would need it.
    public static func commandLine(_ arguments: [String] = CommandLine.arguments) -> String {
        arguments.enumerated().map { index, argument in
            let shown = index == 0 ? (argument as NSString).lastPathComponent : argument
            let plain = !shown.isEmpty && shown.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "-_./=:,+@%".unicodeScalars.contains($0)
            }
            return plain ? shown : "'" + shown.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }

    public func trainingWillStart(_ trainer: Trainer, epochs: Int, batchesPerEpoch: Int) {
        start = DispatchTime.now().uptimeNanoseconds
        document.batchesPerEpoch = batchesPerEpoch
        document.status = "running"
        if document.summary == nil, let input = summaryInput, let model = trainer.model as? any UnaryLayer {
            document.summary = ModelSummary(model, input: input)
        }
    }

    public func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) {
        if batch == 1 { epochSamples = 0 }
        epochSamples += samples
        document.steps.add(step: trainer.stepCount, loss: loss, learningRate: trainer.optimizer.learningRate)
        for (name, value) in metrics where name.hasSuffix("_loss") {
            document.stepMetrics[name, default: StepCurve()].add(step: trainer.stepCount, loss: value,
                                                                 learningRate: trainer.optimizer.learningRate)
        }
        if let stepInterval, let stepDidEnd, pendingError == nil, trainer.stepCount % stepInterval == 0 {
            do {
                try stepDidEnd(trainer, &document)
                try write()
            } catch {
                pendingError = error
            }
        }
    }

    public func epochDidEnd(_ trainer: Trainer, log: EpochLog) throws -> Bool {
        if let pendingError { throw pendingError }
        document.epochs.append(log)
        document.throughput.append(Double(epochSamples) / max(log.seconds, 1e-9))
        try epochDidEnd?(trainer, log, &document)
        document.status = "running"
        try write()
        return false
    }

    public func trainingDidEnd(_ trainer: Trainer, history: [EpochLog]) {
        document.status = "finished"
        try? write()
    }

    public func trainingDidFail(_ trainer: Trainer, error: Error) {
        document.status = "stopped: \(error)"
        try? write()
    }

    /// Marks the run finished (after the task's final evaluation) and writes the page.
    public func finish() throws {
        document.status = "finished"
        try write()
    }

    /// Writes the page now, atomically.
    public func write() throws {
        document.wallSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        start = DispatchTime.now().uptimeNanoseconds
        try AtomicFile.write(Data(document.html().utf8), to: path)
    }
}
