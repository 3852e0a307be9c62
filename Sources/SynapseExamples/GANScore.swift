// How good a generator's 28 × 28 images are: a "classifier FID" (the Fréchet distance between
// the penultimate-layer features of a Fashion-MNIST CNN for generated and for test images),
// with its floor and ceiling, and the share of samples the classifier puts in each class.

import Foundation
import Synapse

/// A Fashion-MNIST classifier (Synapse's `cnn`) used as a feature extractor: its 128-d
/// penultimate ReLU output plays the part Inception's pool features play in the usual FID.
public struct ImageFeatureScorer {
    public let classifier: TrainedClassifier
    private let network: Sequential

    public init(classifier: TrainedClassifier) throws {
        guard let network = classifier.model as? Sequential, network.layers.count >= 2,
              classifier.inputShape == [1, 28, 28] else {
            throw ModelError("the FID classifier must be a built-in classifier of 28×28 gray images, not \(classifier.modelName.rawValue) on \(classifier.inputShape)")
        }
        self.classifier = classifier
        self.network = network
    }

    /// Epochs the default classifier trains. Class shares only detect mode collapse if the
    /// classifier reads real images as balanced: after 2 epochs (the anchor's feature CNN) it
    /// puts 6.2 % of the test images in Shirt, after 8 (92.7 % accurate) 9.7–10.4 % in every class.
    public static let defaultClassifierEpochs = 8

    /// Where `synapse gan score` keeps the classifier it trains when none is given (named by
    /// its epochs, so a classifier cached by an older version is not taken for this one).
    public static var defaultCachePath: String {
        FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/synapse/fashion-mnist-cnn-fid-\(defaultClassifierEpochs)-epochs.safetensors").path
    }

    /// The classifier at `path`, or, if there is none, Synapse's `cnn` trained on `train` for
    /// `defaultClassifierEpochs` (Adam 1e-3, batches of 128, seed 0) and saved there.
    /// `trained` reports whether it had to train.
    public static func cached(at path: String, train: TensorDataset, progress: Bool) throws -> (scorer: ImageFeatureScorer, trained: Bool) {
        if FileManager.default.fileExists(atPath: path) {
            return (try ImageFeatureScorer(classifier: TrainedClassifier(checkpoint: path)), false)
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        GlobalRandom.seed(0)
        let (mean, std) = train.channelStatistics()
        let normalize = Normalize(mean: mean, standardDeviation: std)
        let model = try ModelName.cnn.build(inputShape: [1, 28, 28], classes: train.classCount)
        let optimizer = Adam(parameters: model.parameters, lr: 1e-3)
        let trainer = Trainer(model: model, optimizer: optimizer, callbacks: [ProgressBar(quiet: !progress)])
        try trainer.fit(DataLoader(train, batchSize: 128, shuffle: true, seed: 0, transform: normalize), epochs: defaultClassifierEpochs,
                        classCount: train.classCount)
        try TrainedClassifier.save(model, modelName: .cnn, dataset: .fashionMNIST, inputShape: [1, 28, 28],
                                   classes: train.classCount, normalize: normalize, metadata: ["purpose": "classifier FID"], to: path)
        return (try ImageFeatureScorer(classifier: TrainedClassifier(checkpoint: path)), true)
    }

    /// Penultimate features [N, 128] and predicted classes of images [N, 1, 28, 28] in [0, 1].
    public func features(_ images: Tensor) -> (features: Tensor, classes: [Int]) {
        network.inference {
            var parts: [Tensor] = [], classes: [Int] = []
            for start in stride(from: 0, to: images.shape[0], by: 1000) {
                var x = images[start..<min(images.shape[0], start + 1000)]
                if let normalize = classifier.normalize { x = (x - normalize.mean) / normalize.standardDeviation }
                for layer in network.layers.dropLast() { x = layer(x) }
                parts.append(x)
                classes += network.layers.last!(x).argmax(axis: 1).scalars
            }
            return (parts.count == 1 ? parts[0] : Tensor.concatenate(parts, axis: 0), classes)
        }
    }

    /// Generator output in [−1, 1] as the bytes the anchor writes its samples with:
    /// round((x + 1) / 2 · 255), clamped to 0...255 (a NaN pixel becomes 0).
    public static func pixelBytes(_ generated: Tensor) -> [UInt8] {
        generated.scalars.map { value in
            let level = ((value + 1) / 2 * 255).rounded()
            return level >= 255 ? 255 : level > 0 ? UInt8(level) : 0
        }
    }

    /// Generator output in [−1, 1] as the bytes an IDX file would hold, read back to [0, 1]:
    /// `pixelBytes` / 255, as the anchor scores its samples.
    public static func quantized(_ generated: Tensor) -> Tensor {
        Tensor(pixelBytes(generated).map { Float($0) / 255 }, shape: generated.shape)
    }

    /// Images [N, 1, 28, 28] in [0, 1] from an IDX image file (magic 2051, 28 × 28) or from
    /// the PNG files of a folder (28 × 28, gray or converted to gray).
    public static func readImages(_ path: String) throws -> Tensor {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ModelError("\(path): no such file") }
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.lowercased().hasSuffix(".png") }.sorted()
            guard !names.isEmpty else { throw ModelError("\(path): no .png files in this folder") }
            let images = try names.map { name -> Tensor in
                let image = try Image(contentsOf: (path as NSString).appendingPathComponent(name), channels: 1)
                guard image.width == 28, image.height == 28 else {
                    throw ModelError("\(path)/\(name) is \(image.width)×\(image.height); the scorer takes 28×28 images")
                }
                return image.tensor().unsqueezed(axis: 0)
            }
            return Tensor.concatenate(images, axis: 0)
        }
        let array = try IDXArray(contentsOf: path)
        guard array.shape.count == 3, array.shape[1] == 28, array.shape[2] == 28, array.shape[0] > 1 else {
            throw ModelError("\(path): an IDX file of \(array.shape) values; the scorer needs images [N ≥ 2, 28, 28]")
        }
        return array.tensor(scale: 1 / 255).reshaped([array.shape[0], 1, 28, 28])
    }
}

/// The classifier FID of a set of images against the test set, beside its floor (training
/// images) and ceiling (an untrained generator), and the class shares of the samples.
public struct GANScore {
    public let fid: Double, floor: Double, ceiling: Double
    /// The share of samples the classifier assigns to each class, by class name.
    public let classShares: [String: Double]
    /// The share of the real test images the classifier assigns to each class: what
    /// `classShares` would be for a perfect generator, so a class's shortfall can be told from
    /// the classifier's own bias.
    public let testClassShares: [String: Double]
    /// For conditional samples: the share the classifier recognises as their requested class.
    public let requestedClassAccuracy: Double?
    public let sampleCount: Int

    /// Scores `samples` [N, 1, 28, 28] in [0, 1] (N up to `count` are used), images from any
    /// source, against the first `count` test images; the floor uses the first `count` training
    /// images and the ceiling `count` samples of a freshly initialized generator of the
    /// anchor's architecture (latent 64, unconditional, 64 wide).
    public init(samples: Tensor, scorer: ImageFeatureScorer, train: TensorDataset, test: TensorDataset, count: Int = 10_000) {
        self.init(samples: samples, requestedClasses: nil, untrained: Self.untrained(like: nil),
                  scorer: scorer, train: train, test: test, count: count)
    }

    /// Scores a trained GAN's `count` samples from noise drawn with `seed` (a conditional GAN's
    /// ask for each class in turn, and `requestedClassAccuracy` says how many the classifier
    /// recognises as theirs). The ceiling is an untrained GAN of the same architecture (latent
    /// size, classes, width), sampled from noise of seed 0 with the same classes.
    public init(of gan: GAN, seed: UInt64, scorer: ImageFeatureScorer, train: TensorDataset, test: TensorDataset,
                count: Int = 10_000) {
        let requested = gan.generator.classCount.map { classes in (0..<count).map { $0 % classes } }
        let samples = ImageFeatureScorer.quantized(gan.sample(count: count, labels: requested, seed: seed))
        self.init(samples: samples, requestedClasses: requested, untrained: Self.untrained(like: gan),
                  scorer: scorer, train: train, test: test, count: count)
    }

    /// A GAN of `gan`'s architecture (the anchor's without one) initialized from seed 0,
    /// leaving the caller's random stream as it was.
    private static func untrained(like gan: GAN?) -> GAN {
        let saved = GlobalRandom.state
        defer { GlobalRandom.state = saved }
        GlobalRandom.seed(0)
        guard let generator = gan?.generator else { return GAN() }
        return GAN(latent: generator.latent, classes: generator.classCount, features: generator.features)
    }

    private init(samples: Tensor, requestedClasses: [Int]?, untrained: GAN, scorer: ImageFeatureScorer,
                 train: TensorDataset, test: TensorDataset, count: Int) {
        let n = min(count, samples.shape[0]), reference = min(count, test.count)
        let testPass = scorer.features(test.inputs[0..<reference])
        let test = GaussianStatistics(features: testPass.features)
        let (features, classes) = scorer.features(samples[0..<n])
        fid = GaussianStatistics(features: features).frechetDistance(to: test)
        floor = GaussianStatistics(features: scorer.features(train.inputs[0..<min(count, train.count)]).features)
            .frechetDistance(to: test)
        let ceilingImages = ImageFeatureScorer.quantized(untrained.sample(count: n, labels: requestedClasses.map { Array($0.prefix(n)) },
                                                                          seed: 0))
        ceiling = GaussianStatistics(features: scorer.features(ceilingImages).features).frechetDistance(to: test)
        let names = scorer.classifier.classNames
        func shares(_ classes: [Int]) -> [String: Double] {
            var counts = [Int](repeating: 0, count: names.count)
            for index in classes { counts[index] += 1 }
            return Dictionary(zip(names, counts.map { Double($0) / Double(max(classes.count, 1)) }), uniquingKeysWith: +)
        }
        classShares = shares(classes)
        testClassShares = shares(testPass.classes)
        requestedClassAccuracy = requestedClasses.map { requested in
            Double(zip(requested.prefix(n), classes).filter { $0 == $1 }.count) / Double(n)
        }
        sampleCount = n
    }

    /// The figures as JSON-ready values.
    public var report: [String: Any] {
        var report: [String: Any] = ["fid": fid, "fid_floor": floor, "fid_ceiling": ceiling, "class_shares": classShares,
                                     "samples": sampleCount, "smallest_class_share": classShares.values.min() ?? 0,
                                     "test_class_shares": testClassShares]
        if let requestedClassAccuracy { report["requested_class_accuracy"] = requestedClassAccuracy }
        return report
    }
}
