// A GAN saved by `synapse gan train`, loaded back for `synapse gan sample`, and the sample
// grids a person watches while it trains.

import Foundation
import Synapse

/// A `GAN` as `synapse gan train --save` writes it: both networks under `generator.` and
/// `discriminator.`, both optimizers' state (so a run resumes exactly), and the latent size,
/// the networks' width (`features`), the class names of a conditional model and the training
/// position in the metadata.
public struct TrainedGAN {
    /// The metadata value of "task" that marks GAN checkpoints.
    public static let task = "gan"
    public let gan: GAN
    /// The class names of a conditional GAN (nil: unconditional).
    public let classNames: [String]?
    public let metadata: [String: String]

    public init(gan: GAN, classNames: [String]?, metadata: [String: String] = [:]) {
        self.gan = gan
        self.classNames = classNames
        self.metadata = metadata
    }

    public func save(to path: String, metadata extra: [String: String] = [:]) throws {
        var metadata = extra
        metadata["task"] = Self.task
        metadata["latent"] = String(gan.generator.latent)
        metadata["features"] = String(gan.generator.features)
        if let classNames { metadata["class_names"] = classNames.joined(separator: "\n") }
        try Checkpoint.save(modules: [("", gan)], optimizers: [("optimizer_d", gan.discriminatorOptimizer),
                                                                ("optimizer_g", gan.generatorOptimizer)],
                            metadata: metadata, to: path)
    }

    /// Loads the checkpoint at `path` with both optimizers' state; errors name the file.
    public init(checkpoint path: String) throws {
        let file = try CheckpointFile(path: path)
        guard file.metadata["task"] == Self.task else {
            throw ModelError("\(path): not a GAN checkpoint written by `synapse gan train` (task is "
                             + "\(file.metadata["task"].map { "\"\($0)\"" } ?? "missing"))")
        }
        let latentText = try file.requireMetadata("latent")
        guard let latent = Int(latentText), (1...4096).contains(latent) else {
            throw ModelError("\(path): metadata latent \"\(latentText)\" must be an integer from 1 to 4096")
        }
        // Checkpoints from before the width was recorded have the anchor's 64.
        let featuresText = file.metadata["features"] ?? "64"
        guard let features = Int(featuresText), (1...4096).contains(features) else {
            throw ModelError("\(path): metadata features \"\(featuresText)\" must be an integer from 1 to 4096")
        }
        let names = file.metadata["class_names"].map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        let gan = GAN(latent: latent, classes: names?.count, features: features)
        try file.load(modules: [("", gan)], optimizers: [("optimizer_d", gan.discriminatorOptimizer),
                                                         ("optimizer_g", gan.generatorOptimizer)])
        self.init(gan: gan, classNames: names, metadata: file.metadata)
    }

    /// The generator's images [N, 1, 28, 28] in [−1, 1] as an 8-bit grid image: 8 columns, or
    /// for a conditional model one column per class with the class names below the last row;
    /// each pixel drawn `scale` × `scale`.
    public static func grid(_ images: Tensor, classNames: [String]? = nil, scale: Int = 2) -> Image {
        let shown = (images + 1) / 2
        let columns = classNames?.count ?? 8
        let tiles = (0..<images.shape[0]).map { index -> GridTile in
            let caption = classNames.flatMap { names in
                index >= images.shape[0] - columns ? [(text: String(names[index % columns].prefix(7)), color: Color.white)] : nil
            }
            return GridTile(image: Image(shown[index]), captions: caption ?? [])
        }
        return Image.grid(tiles, columns: columns, scale: scale)
    }

    /// 64 images from `seed`'s noise (for a conditional model 8 of each class, class by column).
    public func sampleGrid(seed: UInt64, scale: Int = 2) -> Image {
        guard let classNames else { return Self.grid(gan.sample(count: 64, seed: seed), scale: scale) }
        let labels = (0..<(8 * classNames.count)).map { $0 % classNames.count }
        return Self.grid(gan.sample(count: labels.count, labels: labels, seed: seed), classNames: classNames, scale: scale)
    }
}

/// Rewrites the sample grid from the same noise after every epoch (atomically, so a viewer
/// never sees half a file), and keeps one per epoch in `folder` if set.
public final class SampleGridWriter: TrainingCallback {
    public var scope: CallbackScope { .primaryProcess }
    public let path: String?, folder: String?
    private let model: TrainedGAN
    private let seed: UInt64

    public init(model: TrainedGAN, path: String?, folder: String?, seed: UInt64) {
        self.model = model
        self.path = path
        self.folder = folder
        self.seed = seed
    }

    public func epochDidEnd(_ trainer: Trainer, log: EpochLog) throws -> Bool {
        guard path != nil || folder != nil else { return false }
        // Sampling draws its own noise, so the training's random stream is left as it was.
        let grid = model.sampleGrid(seed: seed)
        if let path { try grid.write(to: path) }
        if let folder { try grid.write(to: (folder as NSString).appendingPathComponent(String(format: "epoch-%03d.png", log.epoch))) }
        return false
    }
}
