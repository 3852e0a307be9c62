// A DCGAN for 28 × 28 grayscale images (Fashion-MNIST), as the anchors script's `gan` task
// builds it, with a class-conditional variant, and the task that trains it: the
// discriminator's update, then the generator's, each with its own optimizer.

import Foundation
import Synapse

/// DCGAN's initialization (Radford et al.): convolution, transposed-convolution and linear
/// weights N(0, 0.02) and their biases 0; batch-norm weights N(1, 0.02) and biases 0.
/// Embeddings keep their N(0, 1).
public func dcganInitialize(_ module: Module) {
    for child in module.namedChildren.map(\.1) { dcganInitialize(child) }
    func reset(_ weight: Parameter, _ bias: Parameter?, mean: Float) {
        weight.assign(Initializer.normal(mean: mean, standardDeviation: 0.02).make(weight.value.shape))
        bias?.assign(Tensor.zeros(bias!.value.shape))
    }
    switch module {
    case let layer as Conv2d: reset(layer.$weight, layer.bias, mean: 0)
    case let layer as ConvTranspose2d: reset(layer.$weight, layer.bias, mean: 0)
    case let layer as Linear: reset(layer.$weight, layer.bias, mean: 0)
    case let layer as BatchNorm: reset(layer.$weight, layer.$bias, mean: 1)
    default:
        break
    }
}

/// z [N, latent] → `fc` (no bias) → [N, 128, 7, 7] → BN, ReLU → ConvTranspose2d(128, 64, 4, 2, 1,
/// no bias) → BN, ReLU → ConvTranspose2d(64, 1, 4, 2, 1) → tanh: images [N, 1, 28, 28] in
/// [−1, 1]. Names follow the anchor's PyTorch module (`fc`, `net.0` … `net.5`). A conditional
/// generator concatenates a learned `embedding` of the label to z. `features` (DCGAN's ngf,
/// 64 as in the anchor) sets the widths: 2·features channels at 7 × 7, features at 14 × 14.
public final class DCGANGenerator: Module {
    public let latent: Int
    public let embedding: Embedding?
    public let fc: Linear
    public let net: Sequential

    /// Channels at 14 × 14 (twice as many at 7 × 7).
    public let features: Int

    public init(latent: Int = 64, classes: Int? = nil, labelDimension: Int = 16, features: Int = 64) {
        require(latent > 0, "DCGANGenerator: the latent size must be positive, got \(latent)")
        require(features > 0, "DCGANGenerator: features must be positive, got \(features)")
        self.latent = latent
        self.features = features
        embedding = classes.map { Embedding($0, labelDimension) }
        fc = Linear(latent + (classes == nil ? 0 : labelDimension), 2 * features * 7 * 7, bias: false)
        net = Sequential {
            BatchNorm2d(2 * features); ReLU()
            ConvTranspose2d(2 * features, features, kernelSize: 4, stride: 2, padding: 1, bias: false); BatchNorm2d(features); ReLU()
            ConvTranspose2d(features, 1, kernelSize: 4, stride: 2, padding: 1); Tanh()
        }
        super.init()
        dcganInitialize(self)
    }

    public var classCount: Int? { embedding?.count }

    /// Images [N, 1, 28, 28] for noise [N, latent] (and, if conditional, one label per row).
    public func callAsFunction(_ z: Tensor, labels: IndexTensor? = nil) -> Tensor {
        require(z.rank == 2 && z.shape[1] == latent, "DCGANGenerator: noise must be [N, \(latent)], got \(z.shape)")
        var input = z
        if let embedding {
            guard let labels else { fatalError("DCGANGenerator: a conditional generator needs labels") }
            input = Tensor.concatenate([z, embedding(labels)], axis: 1)
        }
        return net(fc(input).reshaped([-1, 2 * features, 7, 7]))
    }
}

/// Images [N, 1, 28, 28] → Conv2d(1, 64, 4, 2, 1), LeakyReLU 0.2 → Conv2d(64, 128, 4, 2, 1, no
/// bias), BN, LeakyReLU 0.2 → flatten → Linear(6272, 1): one logit per image (real > 0). Names
/// follow the anchor (`net.0` … `net.6`). A conditional discriminator adds a learned
/// `embedding` of the label as a second 28 × 28 input channel. `features` (DCGAN's ndf, 64 as
/// in the anchor) sets the widths: features channels at 14 × 14, twice as many at 7 × 7.
public final class DCGANDiscriminator: Module {
    public let embedding: Embedding?
    public let net: Sequential

    public init(classes: Int? = nil, features: Int = 64) {
        require(features > 0, "DCGANDiscriminator: features must be positive, got \(features)")
        embedding = classes.map { Embedding($0, 28 * 28) }
        net = Sequential {
            Conv2d(classes == nil ? 1 : 2, features, kernelSize: 4, stride: 2, padding: 1); LeakyReLU(negativeSlope: 0.2)
            Conv2d(features, 2 * features, kernelSize: 4, stride: 2, padding: 1, bias: false); BatchNorm2d(2 * features)
            LeakyReLU(negativeSlope: 0.2)
            Flatten(); Linear(2 * features * 7 * 7, 1)
        }
        super.init()
        dcganInitialize(self)
    }

    /// Logits [N, 1].
    public func callAsFunction(_ images: Tensor, labels: IndexTensor? = nil) -> Tensor {
        require(images.rank == 4 && Array(images.shape.dropFirst()) == [1, 28, 28],
                "DCGANDiscriminator: images must be [N, 1, 28, 28], got \(images.shape)")
        guard let embedding else { return net(images) }
        guard let labels else { fatalError("DCGANDiscriminator: a conditional discriminator needs labels") }
        return net(Tensor.concatenate([images, embedding(labels).reshaped([-1, 1, 28, 28])], axis: 1))
    }
}

/// A generator and a discriminator trained together, with their optimizers (Adam 2e-4,
/// betas (0.5, 0.999) for both, as DCGAN): one `Module` whose children `generator` and
/// `discriminator` give the checkpoint names.
public final class GAN: Module {
    public let generator: DCGANGenerator
    public let discriminator: DCGANDiscriminator
    public let generatorOptimizer: Adam
    public let discriminatorOptimizer: Adam

    /// `features` is both networks' width (DCGAN's ngf and ndf; 64, the anchor's).
    public init(latent: Int = 64, classes: Int? = nil, lr: Float = 2e-4, features: Int = 64) {
        generator = DCGANGenerator(latent: latent, classes: classes, features: features)
        discriminator = DCGANDiscriminator(classes: classes, features: features)
        generatorOptimizer = Adam(parameters: generator.parameters, lr: lr, betas: (0.5, 0.999))
        discriminatorOptimizer = Adam(parameters: discriminator.parameters, lr: lr, betas: (0.5, 0.999))
        super.init()
    }

    public override var namedChildren: [(String, Module)] { [("generator", generator), ("discriminator", discriminator)] }

    /// The adversarial task: per batch of real images scaled to [−1, 1], the discriminator
    /// steps on BCE(D(x), 1) + BCE(D(G(z).detached()), 0), then the generator steps on
    /// BCE(D(G(z)), 1) with the same G(z) through the just-updated discriminator, whose
    /// parameters the generator's optimizer does not touch. Metrics: "d_loss", "g_loss", and
    /// "d_accuracy", the share of real and fake images the discriminator classifies right.
    public func trainingTask() -> GANTask { GANTask(gan: self) }

    /// `count` images [count, 1, 28, 28] in [−1, 1] from noise drawn with `seed`, in evaluation
    /// mode (batch-norm running statistics), in batches of 1,000 as the anchor samples.
    public func sample(count: Int, labels: [Int]? = nil, seed: UInt64) -> Tensor {
        require(count > 0, "GAN.sample: count must be positive, got \(count)")
        if let labels { require(labels.count == count, "GAN.sample: \(labels.count) labels for \(count) images") }
        var generatorState = RandomGenerator(seed: seed)
        return generator.inference {
            let parts = stride(from: 0, to: count, by: 1000).map { start -> Tensor in
                let n = min(1000, count - start)
                let z = Tensor.randn([n, generator.latent], generator: &generatorState)
                return generator(z, labels: labels.map { IndexTensor(Array($0[start..<start + n]), shape: [n]) })
            }
            return parts.count == 1 ? parts[0] : Tensor.concatenate(parts, axis: 0)
        }
    }
}

/// The two-stage task `GAN.trainingTask()` returns. Batches are `LabeledBatch`es of images in
/// [0, 1]; labels are used only by a conditional GAN.
public final class GANTask: TrainingTask {
    public let gan: GAN
    /// The generator's images of the current batch, kept from the discriminator's stage for
    /// the generator's.
    private var fake: Tensor?

    init(gan: GAN) { self.gan = gan }

    private func labels(_ batch: LabeledBatch) -> IndexTensor? {
        gan.generator.embedding == nil ? nil : batch.labels
    }

    private static func bce(_ logits: Tensor, _ target: Float) -> Tensor {
        binaryCrossEntropyWithLogits(logits, Tensor.full(logits.shape, value: target))
    }

    private static func correct(_ logits: Tensor, real: Bool) -> Int {
        logits.scalars.filter { real ? $0 > 0 : $0 <= 0 }.count
    }

    /// The discriminator's loss on real images and fresh fakes (the validation figure).
    public func loss(for batch: LabeledBatch) throws -> TaskOutput {
        let real = batch.inputs * 2 - 1, n = real.shape[0], labels = labels(batch)
        let z = Tensor.randn([n, gan.generator.latent])
        let fake = gan.generator(z, labels: labels)
        self.fake = fake
        let realLogits = gan.discriminator(real, labels: labels)
        let fakeLogits = gan.discriminator(fake.detached(), labels: labels)
        let loss = Self.bce(realLogits, 1) + Self.bce(fakeLogits, 0)
        let accuracy = Float(Self.correct(realLogits, real: true) + Self.correct(fakeLogits, real: false)) / Float(2 * n)
        return TaskOutput(loss: loss, count: n, metrics: ["d_accuracy": accuracy])
    }

    public func stages(optimizer: Optimizer) -> [TrainingStage<LabeledBatch>] {
        [TrainingStage("d", optimizer: gan.discriminatorOptimizer, loss: loss(for:)),
         TrainingStage("g", optimizer: gan.generatorOptimizer) { [unowned self] batch in
             guard let fake else { fatalError("GANTask: the generator's stage ran before the discriminator's") }
             self.fake = nil
             let logits = gan.discriminator(fake, labels: labels(batch))
             return TaskOutput(loss: Self.bce(logits, 1), count: batch.labels.count)
         }]
    }
}
