import Foundation
import XCTest
import Synapse
import SynapseExamples

/// Classifier checkpoints whose metadata or tensors lie: each is rejected with a message
/// naming the file and the fault before a model is built from it.
final class HostileCheckpointTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testTensorShapesAreThoseOfTheBuiltModel() throws {
        for (model, shape) in [(ModelName.linear, [64]), (.mlp, [8, 8]), (.seedCNN, [1, 28, 28]), (.cnn, [3, 12, 16])] {
            let built = try model.build(inputShape: shape, classes: 7) as Module
            let actual = built.namedParameters.map { ($0.0, $0.1.value.shape) } + built.namedBuffers.map { ($0.0, $0.1.value.shape) }
            let expected = try model.tensorShapes(inputShape: shape, classes: 7)
            XCTAssertEqual(Dictionary(uniqueKeysWithValues: actual), Dictionary(uniqueKeysWithValues: expected.map { ($0.name, $0.shape) }),
                           "\(model)")
        }
    }

    /// A saved digits MLP, rewritten with `change` applied to its tensors and metadata.
    private func checkpoint(_ change: (inout [String: Tensor], inout [String: String]) -> Void) throws -> String {
        let good = directory.appendingPathComponent("good.safetensors").path
        if !FileManager.default.fileExists(atPath: good) {
            let model = try ModelName.mlp.build(inputShape: [64], classes: 10) as Module
            try TrainedClassifier.save(model, modelName: .mlp, dataset: .digits, inputShape: [64], classes: 10,
                                       normalize: Normalize(mean: Tensor.zeros([1, 64]), standardDeviation: Tensor.ones([1, 64])),
                                       to: good)
        }
        var (tensors, metadata) = try SafeTensors.read(good)
        change(&tensors, &metadata)
        let path = directory.appendingPathComponent("bad-\(UUID().uuidString).safetensors").path
        try SafeTensors.write(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: metadata, to: path)
        return path
    }

    private func assertRejected(_ expected: String, line: UInt = #line,
                                _ change: (inout [String: Tensor], inout [String: String]) -> Void) throws {
        let path = try checkpoint(change)
        XCTAssertThrowsError(try TrainedClassifier(checkpoint: path), line: line) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)", line: line)
            XCTAssertTrue("\(error)".contains(expected), "\(error)", line: line)
        }
    }

    func testMetadataOutOfRangeIsAnErrorBeforeAnythingIsBuilt() throws {
        XCTAssertNoThrow(try TrainedClassifier(checkpoint: try checkpoint { _, _ in }))
        try assertRejected("classes \"0\" must be an integer from 1 to 65536") { $1["classes"] = "0" }
        try assertRejected("classes \"999999999\" must be") { $1["classes"] = "999999999" }
        try assertRejected("input_shape \"0\" must be") { $1["input_shape"] = "0" }
        try assertRejected("input_shape \"1,-28,-28\" must be") { $1["input_shape"] = "1,-28,-28" }
        try assertRejected("input_shape \"64,\" must be") { $1["input_shape"] = "64," }
        try assertRejected("unknown model \"transformer\"") { $1["model"] = "transformer" }
        // A small file claiming a large input is caught by its first weight's shape, not by
        // allocating the model it describes.
        try assertRejected("tensor 1.weight has shape [256, 64], but a mlp model for inputs [1, 2800, 2800] and 10 classes needs [256, 7840000]") {
            $1["input_shape"] = "1,2800,2800"
        }
        try assertRejected("tensor 5.weight has shape [10, 128], but a mlp model for inputs [64] and 12 classes") { $1["classes"] = "12" }
        // Hidden widths, as structured pruning saves them: malformed, or not what the weights hold.
        try assertRejected("widths \"128\" must be 2 integers from 1 to 65536 for a mlp model") { $1["widths"] = "128" }
        try assertRejected("widths \"128,x\" must be 2 integers") { $1["widths"] = "128,x" }
        try assertRejected("widths \"0,64\" must be 2 integers") { $1["widths"] = "0,64" }
        try assertRejected("tensor 1.weight has shape [256, 64], but a mlp model for inputs [64] and 10 classes needs [128, 64]") {
            $1["widths"] = "128,64"
        }
    }

    func testWeightsStoredAsIntegersAreRejected() throws {
        let good = try checkpoint { _, _ in }
        let bytes = [UInt8](FileManager.default.contents(atPath: good)!)
        let headerLength = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as! [String: Any]
        var entry = header["1.bias"] as! [String: Any]
        entry["dtype"] = "I32"  // the same 4 bytes per value, read as integers
        header["1.bias"] = entry
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        let path = directory.appendingPathComponent("integers.safetensors").path
        let file = withUnsafeBytes(of: UInt64(json.count).littleEndian) { [UInt8]($0) } + [UInt8](json) + bytes[(8 + headerLength)...]
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(file)))
        XCTAssertEqual(try CheckpointFile(path: path).dtypes["1.bias"], "I32")
        XCTAssertThrowsError(try TrainedClassifier(checkpoint: path)) {
            XCTAssertEqual("\($0)", "\(path): tensor 1.bias has dtype I32, but model weights are floating point (F32, F16, BF16, F64)")
        }
    }

    func testStatisticsAndTensorNamesAreChecked() throws {
        try assertRejected("input.mean or input.std is missing") { tensors, _ in tensors["input.mean"] = nil }
        try assertRejected("input.mean or input.std is missing") { tensors, _ in
            tensors["input.mean"] = nil
            tensors["input.std"] = nil
        }
        try assertRejected("input.mean [7] and input.std [7] are not usable statistics") { tensors, _ in
            tensors["input.mean"] = Tensor.zeros([7])
            tensors["input.std"] = Tensor.ones([7])
        }
        try assertRejected("are not usable statistics") { tensors, _ in tensors["input.std"] = Tensor.zeros([1, 64]) }
        try assertRejected("no tensor named 1.weight, which a mlp model needs (it has 1.weigth instead") { tensors, _ in
            tensors["1.weigth"] = tensors.removeValue(forKey: "1.weight")
        }
        try assertRejected("unexpected tensor 9.weight for a mlp model") { tensors, _ in tensors["9.weight"] = Tensor([1]) }
        try assertRejected("no tensor named 1.weight") { tensors, _ in tensors["1.weight"] = nil }
    }
}
