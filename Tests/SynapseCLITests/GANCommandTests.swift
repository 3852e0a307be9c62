import Foundation
import XCTest
import Synapse
import SynapseExamples

/// `synapse gan` misuse, as a user meets it: clear one-line errors, never a trap.
final class GANCommandTests: XCTestCase {
    func testBadInputGetsClearErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gan-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let gan = directory.appendingPathComponent("gan.safetensors").path
        GlobalRandom.seed(0)
        try TrainedGAN(gan: GAN(classes: 10), classNames: Datasets.fashionMNISTClassNames).save(to: gan)
        let out = directory.appendingPathComponent("grid.png").path

        let count = try runSynapse(["gan", "sample", "--checkpoint", gan, "--count", "0", "--out", out])
        XCTAssertEqual(count.status, 64, count.output)
        XCTAssertTrue(count.output.contains("Error: --count must be positive, got 0"), count.output)

        let unknown = try runSynapse(["gan", "sample", "--checkpoint", gan, "--class", "Hat", "--out", out])
        XCTAssertEqual(unknown.status, 1, unknown.output)
        XCTAssertTrue(unknown.output.contains("Error: --class Hat names no class of this GAN: T-shirt/top, Trouser"), unknown.output)

        let sneakers = try runSynapse(["gan", "sample", "--checkpoint", gan, "--class", "Sneaker", "--count", "4", "--out", out])
        XCTAssertEqual(sneakers.status, 0, sneakers.output)
        XCTAssertEqual(try Image(contentsOf: out).width > 0, true)
        // Samples as an IDX file (what both scorers read), the same pixels the grid shows.
        let samplesFile = directory.appendingPathComponent("sneakers-idx3-ubyte").path
        let asIDX = try runSynapse(["gan", "sample", "--checkpoint", gan, "--class", "Sneaker", "--count", "4", "--out", samplesFile])
        XCTAssertEqual(asIDX.status, 0, asIDX.output)
        let written = try IDXArray(contentsOf: samplesFile)
        XCTAssertEqual(written.shape, [4, 28, 28])
        let trained = try TrainedGAN(checkpoint: gan)
        XCTAssertEqual(written.values, ImageFeatureScorer.pixelBytes(trained.gan.sample(count: 4, labels: [7, 7, 7, 7], seed: 0)))

        // A GAN checkpoint where a classifier belongs, and the other way round.
        let idx = directory.appendingPathComponent("samples-idx3-ubyte").path
        try Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: 9, count: 2 * 784))
            .write(to: URL(fileURLWithPath: idx))
        let asClassifier = try runSynapse(["gan", "score", "--samples", idx, "--classifier", gan])
        XCTAssertEqual(asClassifier.status, 1, asClassifier.output)
        XCTAssertTrue(asClassifier.output.contains("Error: \(gan)"), asClassifier.output)
        let classifier = directory.appendingPathComponent("classifier.safetensors").path
        let model = try ModelName.linear.build(inputShape: [1, 28, 28], classes: 10)
        try TrainedClassifier.save(model as Module, modelName: .linear, dataset: .fashionMNIST, inputShape: [1, 28, 28],
                                   classes: 10, normalize: nil, to: classifier)
        let asGAN = try runSynapse(["gan", "sample", "--checkpoint", classifier, "--out", out])
        XCTAssertEqual(asGAN.status, 1, asGAN.output)
        XCTAssertTrue(asGAN.output.contains("not a GAN checkpoint written by `synapse gan train`"), asGAN.output)

        // A PNG of the wrong size given to the scorer.
        let folder = directory.appendingPathComponent("pngs").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Image(width: 20, height: 20).write(to: folder + "/a.png")
        let wrong = try runSynapse(["gan", "score", "--samples", folder, "--classifier", classifier])
        XCTAssertEqual(wrong.status, 1, wrong.output)
        XCTAssertTrue(wrong.output.contains("is 20×20; the scorer takes 28×28 images"), wrong.output)
    }

    /// `--features` sets both networks' width; the checkpoint records it, so `gan sample`
    /// rebuilds a narrow GAN and `--resume` refuses another width in one line.
    func testTheWidthTravelsWithTheCheckpoint() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gan-width-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let saved = directory.appendingPathComponent("narrow.safetensors").path
        let trained = try runSynapse(["gan", "train", "--epochs", "1", "--train-images", "16", "--batch-size", "8", "--features", "8",
                                      "--no-score", "--save", saved, "--json"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let loaded = try TrainedGAN(checkpoint: saved)
        XCTAssertEqual(loaded.gan.generator.features, 8)
        XCTAssertEqual(loaded.gan.generator.net.layers.compactMap { $0 as? ConvTranspose2d }.map(\.weight.shape), [[16, 8, 4, 4], [8, 1, 4, 4]])
        XCTAssertEqual(loaded.gan.discriminator.parameterCount, 1 * 8 * 16 + 8 + 8 * 16 * 16 + 2 * 16 + 16 * 49 + 1)

        let out = directory.appendingPathComponent("grid.png").path
        let sampled = try runSynapse(["gan", "sample", "--checkpoint", saved, "--count", "4", "--out", out])
        XCTAssertEqual(sampled.status, 0, sampled.output)

        let wider = try runSynapse(["gan", "train", "--epochs", "2", "--train-images", "16", "--batch-size", "8", "--features", "16",
                                    "--no-score", "--resume", saved])
        XCTAssertEqual(wider.status, 1, wider.output)
        XCTAssertTrue(wider.output.contains("Error: --resume \(saved): the saved run had --features 8 (this run: 16); "
                                            + "give the same flags to continue it"), wider.output)
        let zero = try runSynapse(["gan", "train", "--features", "0"])
        XCTAssertEqual(zero.status, 64, zero.output)
        XCTAssertTrue(zero.output.contains("Error: --features must be from 1 to 1024, got 0"), zero.output)
    }

    /// `gan score` takes images or a saved GAN, not both and not neither, and --seed only with a GAN. (That a saved GAN
    /// scores as training scored it is checked by hand in a release build: 10,000 samples
    /// through the `cnn` take minutes in a debug build.)
    func testScoreTakesSamplesOrACheckpoint() throws {
        let both = try runSynapse(["gan", "score", "--checkpoint", "gan.safetensors", "--samples", "samples-idx3-ubyte"])
        XCTAssertEqual(both.status, 64, both.output)
        XCTAssertTrue(both.output.contains("Error: give either --samples (images) or --checkpoint (a saved GAN), not both"), both.output)
        let seedless = try runSynapse(["gan", "score", "--samples", "samples-idx3-ubyte", "--seed", "3"])
        XCTAssertEqual(seedless.status, 64, seedless.output)
        XCTAssertTrue(seedless.output.contains("Error: --seed picks a saved GAN's samples; it needs --checkpoint"), seedless.output)
        let neither = try runSynapse(["gan", "score"])
        XCTAssertEqual(neither.status, 64, neither.output)
        XCTAssertTrue(neither.output.contains("Error: give the images to score with --samples, or a saved GAN with --checkpoint"),
                      neither.output)
    }
}
