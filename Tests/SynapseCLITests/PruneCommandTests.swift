import Foundation
import XCTest
import Synapse
import SynapseExamples

/// `synapse prune` on the embedded digits: a bounded prune-and-fine-tune run that keeps its
/// accuracy, its JSON, a sparse checkpoint that `evaluate` reads, and clear errors.
final class PruneCommandTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("prune-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func json(_ output: String) throws -> [String: Any] {
        let line = try XCTUnwrap(output.split(separator: "\n").last { $0.hasPrefix("{") })
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    func testPruningAndFineTuningKeepsTheAccuracy() throws {
        let model = directory.appendingPathComponent("mlp.safetensors").path
        let trained = try runSynapse(["train", "--model", "mlp", "--epochs", "8", "--save", model, "--json"])
        XCTAssertEqual(trained.status, 0, trained.output)

        let pruned = directory.appendingPathComponent("pruned.safetensors").path
        let unstructured = try runSynapse(["prune", "--checkpoint", model, "--sparsity", "0.8", "--fine-tune-epochs", "4",
                                           "--save", pruned, "--json"])
        XCTAssertEqual(unstructured.status, 0, unstructured.output)
        let figures = try json(unstructured.output)
        let before = try XCTUnwrap(figures["accuracy_before"] as? Double), after = try XCTUnwrap(figures["accuracy_after"] as? Double)
        XCTAssertGreaterThan(before, 0.9, unstructured.output)
        XCTAssertGreaterThan(after, before - 0.02, unstructured.output)
        XCTAssertEqual(try XCTUnwrap(figures["sparsity"] as? Double), 0.8, accuracy: 1e-4)
        // Each kept weight costs 6 bytes (value and U16 column) instead of 4 for every weight.
        let bytesBefore = try XCTUnwrap(figures["bytes_before"] as? Int), bytesAfter = try XCTUnwrap(figures["bytes_after"] as? Int)
        XCTAssertGreaterThan(Double(bytesBefore) / Double(bytesAfter), 3, unstructured.output)
        for key in ["inference_seconds_dense", "inference_seconds_sparse"] { XCTAssertNotNil(figures[key] as? Double, key) }

        // The sparse checkpoint is a classifier checkpoint like any other, with the same accuracy.
        let evaluated = try runSynapse(["evaluate", "--checkpoint", pruned, "--json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        XCTAssertEqual(try XCTUnwrap(json(evaluated.output)["test_accuracy"] as? Double), after, accuracy: 1e-6)
        let reloaded = try TrainedClassifier(checkpoint: pruned)
        XCTAssertEqual(Pruning.report(reloaded.model as Module).sparsity, 0.8, accuracy: 1e-4)

        // Structured: half the hidden units go, and the smaller model's widths are saved with it.
        let smaller = directory.appendingPathComponent("smaller.safetensors").path
        let structured = try runSynapse(["prune", "--checkpoint", model, "--sparsity", "0.5", "--structured",
                                         "--fine-tune-epochs", "2", "--save", smaller, "--json"])
        XCTAssertEqual(structured.status, 0, structured.output)
        let shrunk = try json(structured.output)
        XCTAssertEqual(shrunk["widths"] as? [Int], [128, 64])
        XCTAssertGreaterThan(try XCTUnwrap(shrunk["accuracy_after"] as? Double), before - 0.03, structured.output)
        let rebuilt = try TrainedClassifier(checkpoint: smaller)
        XCTAssertEqual(rebuilt.widths, [128, 64])
        XCTAssertEqual(rebuilt.model.parameterCount, 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10)
    }

    func testBadInputGetsClearErrors() throws {
        let out = directory.appendingPathComponent("out.safetensors").path
        for (arguments, status, message) in [
            (["--sparsity", "1"], Int32(64), "Error: --sparsity must lie in [0, 1), got 1.0"),
            (["--sparsity", "-0.5"], 64, "Error: --sparsity must lie in [0, 1), got -0.5"),
            (["--sparsity", "0.5", "--gradual", "--fine-tune-epochs", "0"], 64, "Error: --gradual needs --fine-tune-epochs of at least 1"),
        ] {
            let result = try runSynapse(["prune", "--checkpoint", out, "--save", out] + arguments)
            XCTAssertEqual(result.status, status, result.output)
            XCTAssertTrue(result.output.contains(message), result.output)
        }
        // A linear model on digits has one layer, which structured pruning cannot shrink.
        let linear = directory.appendingPathComponent("linear.safetensors").path
        GlobalRandom.seed(0)
        try TrainedClassifier.save(try ModelName.linear.build(inputShape: [64], classes: 10) as Module, modelName: .linear,
                                   dataset: .digits, inputShape: [64], classes: 10, normalize: nil, to: linear)
        let structured = try runSynapse(["prune", "--checkpoint", linear, "--sparsity", "0.5", "--structured", "--save", out])
        XCTAssertEqual(structured.status, 1, structured.output)
        XCTAssertTrue(structured.output.contains("Error: no layer of this model can be pruned structurally"), structured.output)
        // A checkpoint of another kind where a classifier belongs.
        let gan = directory.appendingPathComponent("gan.safetensors").path
        try TrainedGAN(gan: GAN(), classNames: []).save(to: gan)
        let wrongKind = try runSynapse(["prune", "--checkpoint", gan, "--sparsity", "0.5", "--save", out])
        XCTAssertEqual(wrongKind.status, 1, wrongKind.output)
        XCTAssertTrue(wrongKind.output.contains("Error: \(gan): "), wrongKind.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let missing = try runSynapse(["prune", "--checkpoint", directory.appendingPathComponent("none").path, "--sparsity", "0.5",
                                      "--save", out])
        XCTAssertEqual(missing.status, 1, missing.output)
        XCTAssertTrue(missing.output.contains("no such file"), missing.output)
    }
}
