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
}
