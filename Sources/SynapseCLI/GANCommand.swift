// `synapse gan`: train a DCGAN on Fashion-MNIST and draw samples from it.

import ArgumentParser
import Foundation
import Synapse
import SynapseDistributed
import SynapseExamples
import SynapseKernels

struct GANCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan",
        abstract: "Train a DCGAN (optionally class-conditional) on Fashion-MNIST and sample from it.",
        subcommands: [GANTrainCommand.self, GANSampleCommand.self, GANScoreCommand.self])
}

/// Saves the GAN (both networks, both optimizers, the training position) after every epoch,
/// so a run that stops on a non-finite loss keeps its last good epoch.
private final class GANCheckpointWriter: TrainingCallback {
    var scope: CallbackScope { .primaryProcess }
    let model: TrainedGAN, path: String, configuration: [String: String]
    init(model: TrainedGAN, path: String, configuration: [String: String]) {
        (self.model, self.path, self.configuration) = (model, path, configuration)
    }
    func epochDidEnd(_ trainer: Trainer, log: EpochLog) throws -> Bool {
        try model.save(to: path, metadata: configuration.merging(trainer.position.metadata) { $1 })
        return false
    }
}

/// The discriminator's and generator's losses over the most recent batches.
private final class RecentLosses: TrainingCallback {
    private(set) var discriminator: [Float] = [], generator: [Float] = []
    func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) {
        discriminator.append(metrics["d_loss"] ?? loss)
        generator.append(metrics["g_loss"] ?? 0)
        if discriminator.count > 50 { discriminator.removeFirst(); generator.removeFirst() }
    }
}

struct GANTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a DCGAN on Fashion-MNIST, rewriting a grid of samples from fixed noise after every epoch.",
        discussion: """
            The configuration of the anchors script's `gan` task: G maps z ~ N(0, I) through Linear, BatchNorm, ReLU \
            and two ConvTranspose2d(4, 2, 1) to 28×28 tanh images; D is two Conv2d(4, 2, 1) with LeakyReLU 0.2 and a \
            Linear logit; BCE with logits, Adam 2e-4 with betas (0.5, 0.999) for both. Per batch the discriminator \
            steps on real images and detached fakes, then the generator steps through the updated discriminator.
            Example: synapse gan train --epochs 5 --samples samples.png --save gan.safetensors
            """)

    @Option(help: "The dataset (fashion-mnist).")
    var dataset = "fashion-mnist"
    @Option(help: "Where the dataset's IDX files are.")
    var dataDir = "/usr/share/datasets/fashion-mnist"
    @Flag(help: "Condition both networks on the class label, so samples can be asked for by class.")
    var conditional = false
    @Option(help: "Training epochs.")
    var epochs = 5
    @Option(help: "Images per batch.")
    var batchSize = 128
    @Option(help: "The size of the generator's noise vector.")
    var latent = 64
    @Option(help: "Learning rate of both optimizers.")
    var lr: Float = 2e-4
    @Option(help: "Width of both networks (DCGAN's ngf and ndf): channels at 14 × 14, twice as many at 7 × 7; the anchor's 64.")
    var features = 64
    @Option(help: "Use only the first N training images.")
    var trainImages: Int?
    @Option(help: "Seed for initialization, shuffling and noise.")
    var seed: UInt64 = 0
    @Option(help: "Rewrite this PNG with a grid of samples from fixed noise after every epoch.")
    var samples: String?
    @Option(help: "Keep every epoch's grid in this folder, as epoch-NNN.png.")
    var samplesEveryEpoch: String?
    @Option(help: "Save the GAN here after every epoch (both networks and optimizers).")
    var save: String?
    @Option(help: "Continue the run saved at this checkpoint, to --epochs in all.")
    var resume: String?
    @Flag(help: "Skip the classifier FID after training.")
    var noScore = false
    @Option(help: "The Fashion-MNIST classifier behind the FID (default: trained once and cached).")
    var classifier: String?
    @OptionGroup var reporting: ReportOptions
    @OptionGroup var distribution: DistributedOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard dataset == "fashion-mnist" else { throw ValidationError("--dataset must be fashion-mnist, got \(dataset)") }
        for (name, value) in [("--epochs", epochs), ("--batch-size", batchSize), ("--latent", latent)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        if let trainImages, trainImages <= 0 { throw ValidationError("--train-images must be positive") }
        guard (1...1024).contains(features) else { throw ValidationError("--features must be from 1 to 1024, got \(features)") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    }

    /// The settings a resumed run must share with the saved one.
    private var runConfiguration: [String: String] {
        ["train.conditional": String(conditional), "train.batch-size": String(batchSize), "train.latent": String(latent),
         "train.lr": String(lr), "train.train-images": trainImages.map(String.init) ?? "all", "train.seed": String(seed),
         "train.features": String(features)]
    }

    mutating func run() throws {
        let group = try distribution.start(common, command: self)
        if let group, group.rank != 0 { (save, samples, samplesEveryEpoch, reporting.report) = (nil, nil, nil, nil) }
        try train(group: group)
        try reportingErrors { try group?.finish() }
    }

    private func train(group: MPIProcessGroup?) throws {
        try checkWritable(save, flag: "--save")
        try checkWritable(samples, flag: "--samples")
        if let samplesEveryEpoch {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: samplesEveryEpoch, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("--samples-every-epoch \(samplesEveryEpoch): no such folder")
            }
        }
        common.applyThreadCount()
        var data = try reportingErrors { try Datasets.fashionMNIST(directory: dataDir).train }
        if let trainImages, trainImages < data.count {
            data = TensorDataset(inputs: data.inputs[0..<trainImages],
                                 labels: IndexTensor(Array(data.labels.scalars.prefix(trainImages))), classNames: data.classNames)
        }
        GlobalRandom.seed(seed)
        let classNames = conditional ? data.classNames : nil
        let model = TrainedGAN(gan: GAN(latent: latent, classes: classNames?.count, lr: lr, features: features), classNames: classNames)
        let gan = model.gan
        let loader = DataLoader(data, batchSize: batchSize, shuffle: true, seed: seed)
        if let group {
            group.prepare(gan, seed: seed, options: distribution, quiet: common.json)
        }
        loader.shard = try distribution.trainingShard(group, batchSize: batchSize)
        let recent = RecentLosses()
        var callbacks: [TrainingCallback] = [ProgressBar(quiet: common.json), recent,
                                             SampleGridWriter(model: model, path: samples, folder: samplesEveryEpoch, seed: seed &+ 1)]
        if let save { callbacks.append(GANCheckpointWriter(model: model, path: save, configuration: runConfiguration)) }
        let trainer = Trainer(model: gan, optimizer: gan.discriminatorOptimizer, callbacks: callbacks)
        trainer.processGroup = group
        let report = try reportCallback(model: model, images: data.count)
        if let report { trainer.callbacks.append(report) }
        if let resume {
            let position = try reportingErrors { () throws -> TrainingPosition in
                _ = try TrainedGAN(checkpoint: resume)
                let file = try CheckpointFile(path: resume)
                // Runs saved before --features existed had the anchor's width.
                let position = try resumablePosition(file, path: resume, configuration: runConfiguration,
                                                     olderDefaults: ["train.features": "64"], epochs: epochs)
                try file.load(modules: [("", gan)], optimizers: [("optimizer_d", gan.discriminatorOptimizer),
                                                                 ("optimizer_g", gan.generatorOptimizer)])
                return position
            }
            trainer.resume(from: position)
            loader.epoch = position.epochs
        }
        if !common.json {
            print("training a \(conditional ? "class-conditional " : "")DCGAN (G \(gan.generator.parameterCount), D "
                  + "\(gan.discriminator.parameterCount) parameters) on \(data.count) Fashion-MNIST images; "
                  + "\(epochs) epochs of batches of \(batchSize), \(Kernels.threadCount) threads")
        }
        let history = try reportingErrors { try trainer.fit(gan.trainingTask(), on: loader, epochs: epochs - trainer.completedEpochs) }
        // Rank 0 alone scores the samples and reports.
        guard group?.rank ?? 0 == 0 else { return }
        let score = noScore ? nil : try reportingErrors { () throws -> GANScore in
            let (train, test) = try Datasets.fashionMNIST(directory: dataDir)
            let scorer = try scoringClassifier(classifier, train: train, quiet: common.json)
            return GANScore(of: gan, seed: scoringNoiseSeed(seed), scorer: scorer, train: train, test: test)
        }
        let secondsPerEpoch = history.map(\.seconds).reduce(0, +) / Double(history.count)
        let mean = { (values: [Float]) in Double(values.reduce(0, +)) / Double(max(values.count, 1)) }
        let last = history.last!
        if let report {
            var results = [ReportField("Losses, last 50 steps", String(format: "D %.4f, G %.4f", mean(recent.discriminator), mean(recent.generator))),
                           ReportField("Seconds per epoch", String(format: "%.1f", secondsPerEpoch))]
            if let score {
                results.append(ReportField("Classifier FID", String(format: "%.3f over %d samples (floor %.3f, ceiling %.3f)",
                                                                   score.fid, score.sampleCount, score.floor, score.ceiling)))
                results.append(ReportField("Class shares", formatted(score.classShares)))
                results.append(ReportField("Class shares of the real test images", formatted(score.testClassShares)))
            }
            report.document.results = results
            try reportingErrors { try report.finish() }
        }
        if common.json {
            let report: [String: Any] = ["epochs": trainer.completedEpochs, "steps": trainer.stepCount,
                                         "seconds_per_epoch": secondsPerEpoch,
                                         "d_loss": mean(recent.discriminator), "g_loss": mean(recent.generator),
                                         "d_accuracy": Double(last.trainMetrics["d_accuracy"] ?? 0),
                                         "parameters_generator": gan.generator.parameterCount,
                                         "parameters_discriminator": gan.discriminator.parameterCount,
                                         "threads": Kernels.threadCount]
            printJSON(report.merging(score?.report ?? [:]) { $1 }.merging(communicationFields(history)) { $1 })
        } else {
            print(String(format: "%d epochs, %.1f s per epoch; last 50 steps: D loss %.4f, G loss %.4f; last epoch's D accuracy %.3f",
                         trainer.completedEpochs, secondsPerEpoch, mean(recent.discriminator), mean(recent.generator),
                         last.trainMetrics["d_accuracy"] ?? 0))
            if let score { printScore(score) }
            if let samples { print("samples: \(samples)") }
            if let save { print("saved \(save)") }
        }
    }
}

extension GANTrainCommand {
    /// The `--report` callback: both networks traced on one batch (G's output fed to D), and
    /// each epoch's grid of samples from the same noise.
    private func reportCallback(model: TrainedGAN, images: Int) throws -> TrainingReport? {
        guard reporting.report != nil else { return nil }
        let gan = model.gan
        let labels = model.classNames.map { _ in IndexTensor(Array(repeating: 0, count: batchSize)) }
        let summary = ModelSummary(gan, inputShape: [batchSize, latent]) {
            gan.discriminator(gan.generator(Tensor.zeros([batchSize, latent]), labels: labels), labels: labels)
        }
        let datasets = [ReportField("Dataset", "Fashion-MNIST (\(dataDir))"), ReportField("Train", "\(images) images"),
                        ReportField("Classes", model.classNames.map { "conditional on \($0.count)" } ?? "unconditional")]
        let report = try reporting.makeReport(title: "\(conditional ? "Conditional " : "")DCGAN on Fashion-MNIST", command: self,
                                              datasets: datasets, summary: summary)
        report?.epochDidEnd = { _, log, document in
            let grid = try model.sampleGrid(seed: seed &+ 1, scale: 1).pngData()
            document.append(GalleryEntry(label: "epoch \(log.epoch)", png: grid), toGallery: "Samples from fixed noise")
        }
        return report
    }
}

/// The noise seed of the samples `gan train --seed seed` scores (and `gan score --checkpoint`
/// scores again): apart from those of the per-epoch grids.
private func scoringNoiseSeed(_ seed: UInt64) -> UInt64 { seed &+ 2 }

/// The FID classifier at `path`, or the cached one (trained on first use).
private func scoringClassifier(_ path: String?, train: TensorDataset, quiet: Bool) throws -> ImageFeatureScorer {
    if let path { return try ImageFeatureScorer(classifier: TrainedClassifier(checkpoint: path)) }
    let cache = ImageFeatureScorer.defaultCachePath
    if !quiet && !FileManager.default.fileExists(atPath: cache) {
        print("training the FID classifier (Synapse's cnn, \(ImageFeatureScorer.defaultClassifierEpochs) epochs) once; it is cached in \(cache)")
    }
    return try ImageFeatureScorer.cached(at: cache, train: train, progress: !quiet).scorer
}

/// Class shares as "name share" pairs in name order.
private func formatted(_ shares: [String: Double]) -> String {
    shares.sorted { $0.key < $1.key }.map { String(format: "%@ %.3f", $0.key, $0.value) }.joined(separator: ", ")
}

private func printScore(_ score: GANScore) {
    print(String(format: "classifier FID %.3f over %d samples (floor, training images: %.3f; ceiling, an untrained generator: %.3f)",
                 score.fid, score.sampleCount, score.floor, score.ceiling))
    print("class shares: " + formatted(score.classShares))
    print("the classifier's shares of the real test images: " + formatted(score.testClassShares))
    if let accuracy = score.requestedClassAccuracy { print(String(format: "samples recognised as their requested class: %.3f", accuracy)) }
}

struct GANScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "The classifier FID of any set of 28×28 images against the Fashion-MNIST test set.",
        discussion: """
            The Fréchet distance between the 128-d penultimate features of a Fashion-MNIST CNN for the images and \
            for the 10,000 test images, beside the floor (10,000 training images) and the ceiling (an untrained \
            generator), and the share of images the classifier puts in each class. Takes an IDX image file (as the \
            anchors script writes its samples) or a folder of PNG files, or a GAN saved by `synapse gan train`, \
            whose 10,000 samples are the ones training scored (from the noise of the --seed the checkpoint \
            records), so a saved GAN can be scored again with another classifier.
            Example: synapse gan score --samples /tmp/anchor_gan_samples-idx3-ubyte
            """)

    @Option(help: "An IDX image file (magic 2051, 28×28) or a folder of 28×28 PNG files.")
    var samples: String?
    @Option(help: "A GAN saved by `synapse gan train --save`, to score 10,000 of its samples instead.")
    var checkpoint: String?
    @Option(help: "With --checkpoint: the training --seed whose noise the samples come from (default: the one the checkpoint records).")
    var seed: UInt64?
    @Option(help: "The Fashion-MNIST classifier behind the FID (default: trained once and cached).")
    var classifier: String?
    @Option(help: "Where the dataset's IDX files are.")
    var dataDir = "/usr/share/datasets/fashion-mnist"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if samples == nil && checkpoint == nil {
            throw ValidationError("give the images to score with --samples, or a saved GAN with --checkpoint")
        }
        if samples != nil && checkpoint != nil {
            throw ValidationError("give either --samples (images) or --checkpoint (a saved GAN), not both")
        }
        if seed != nil && checkpoint == nil {
            throw ValidationError("--seed picks a saved GAN's samples; it needs --checkpoint")
        }
    }

    func run() throws {
        common.applyThreadCount()
        let trained = try checkpoint.map { path in try reportingErrors { try TrainedGAN(checkpoint: path) } }
        let images = try samples.map { path in try reportingErrors { try ImageFeatureScorer.readImages(path) } }
        let (train, test) = try reportingErrors { try Datasets.fashionMNIST(directory: dataDir) }
        let scorer = try reportingErrors { try scoringClassifier(classifier, train: train, quiet: common.json) }
        let score = trained.map { trained in
            // Checkpoints of `gan train` record its --seed with the rest of the run's configuration.
            let trainingSeed = seed ?? trained.metadata["train.seed"].flatMap { UInt64($0) } ?? 0
            return GANScore(of: trained.gan, seed: scoringNoiseSeed(trainingSeed), scorer: scorer, train: train, test: test)
        }
            ?? GANScore(samples: images!, scorer: scorer, train: train, test: test)
        if common.json { printJSON(score.report) } else { printScore(score) }
    }
}

struct GANSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw a grid of samples from a GAN saved by `synapse gan train`, or write them as an IDX file.",
        discussion: """
            Example: synapse gan sample --checkpoint gan.safetensors --class Sneaker --out sneakers.png
            An IDX file (--out samples-idx3-ubyte) can be scored by `synapse gan score --samples` or by the anchors \
            script's own scorer (torch_sequence_models.py gan --score-samples).
            """)

    @Option(help: "A GAN saved by `synapse gan train --save`.")
    var checkpoint: String
    @Option(help: "How many images.")
    var count = 64
    @Option(name: .customLong("class"), help: "Only this class (conditional GANs): its name or index.")
    var className: String?
    @Option(help: "Seed for the noise.")
    var seed: UInt64 = 0
    @Option(help: "Where to write the PNG grid; a name ending in idx3-ubyte or .idx gets every sample as an IDX image file instead (bytes, as the anchors script writes its samples).")
    var out: String

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
    }

    func run() throws {
        try checkWritable(out, flag: "--out")
        let trained = try reportingErrors { try TrainedGAN(checkpoint: checkpoint) }
        var labels: [Int]?
        if let className {
            guard let names = trained.classNames else {
                throw CLIError("\(checkpoint) is an unconditional GAN; --class needs one trained with --conditional")
            }
            guard let index = names.firstIndex(of: className) ?? Int(className).flatMap({ names.indices.contains($0) ? $0 : nil }) else {
                throw CLIError("--class \(className) names no class of this GAN: \(names.joined(separator: ", "))")
            }
            labels = Array(repeating: index, count: count)
        } else if let names = trained.classNames {
            labels = (0..<count).map { $0 % names.count }
        }
        let images = trained.gan.sample(count: count, labels: labels, seed: seed)
        if out.hasSuffix("idx3-ubyte") || out.lowercased().hasSuffix(".idx") {
            let file = IDXArray(shape: [count, 28, 28], values: ImageFeatureScorer.pixelBytes(images))
            try reportingErrors { try file.write(to: out) }
        } else {
            try reportingErrors { try TrainedGAN.grid(images, classNames: className == nil ? trained.classNames : nil).write(to: out) }
        }
        print("wrote \(count) samples to \(out)")
    }
}
