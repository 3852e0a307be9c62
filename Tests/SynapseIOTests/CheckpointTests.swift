import Foundation
import XCTest
import Synapse

final class CheckpointTests: TemporaryDirectoryTestCase {
    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testReadsAFileWrittenByPythonSafetensors() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny.safetensors").path
        let (tensors, metadata) = try SafeTensors.read(fixture)
        XCTAssertEqual(metadata["made_by"], "make_fixture.py")
        XCTAssertEqual(tensors["weight"]?.shape, [2, 3])
        XCTAssertEqual(tensors["weight"]?.scalars, [0.5, -1.25, 2.0, 3.0, 0.125, -0.75])
        XCTAssertEqual(tensors["bias"]!.scalars[1], -0.2, accuracy: 1e-7)
        XCTAssertEqual(tensors["extra.float64"]?.scalars, [1.5, -2.5])
        XCTAssertEqual(tensors["extra.int64"]?.scalars, [7, -3])
        // The same state loads into Synapse's Linear under PyTorch's names.
        let linear = Linear(3, 2)
        let model = Sequential([linear])
        try SafeTensors.write([("0.weight", tensors["weight"]!), ("0.bias", tensors["bias"]!)], to: path("renamed.safetensors"))
        try Checkpoint.load(into: model, from: path("renamed.safetensors"))
        XCTAssertEqual(linear(Tensor([[1, 0, 0]])).scalars[0], 0.6, accuracy: 1e-6)
    }

    func testRoundTripGivesBitwiseEqualOutputs() throws {
        GlobalRandom.seed(1)
        let model = Sequential { Linear(4, 8); ReLU(); BatchNorm1d(8); Linear(8, 3) }
        _ = model(Tensor.randn([5, 4], seed: 2))  // moves the running statistics
        model.eval()
        let x = Tensor.randn([6, 4], seed: 3)
        try Checkpoint.save(model, metadata: ["model": "test"], to: path("model.safetensors"))
        GlobalRandom.seed(99)
        let copy = Sequential { Linear(4, 8); ReLU(); BatchNorm1d(8); Linear(8, 3) }
        copy.eval()
        let metadata = try Checkpoint.load(into: copy, from: path("model.safetensors"))
        XCTAssertEqual(metadata["model"], "test")
        XCTAssertEqual(copy(x).scalars, model(x).scalars)
    }

    func testResumeContinuesExactlyWhereTrainingStopped() throws {
        func makeModel() -> Sequential {
            GlobalRandom.seed(4)
            return Sequential { Linear(3, 5); Tanh(); Linear(5, 2) }
        }
        let x = Tensor.randn([8, 3], seed: 5), y = IndexTensor([0, 1, 1, 0, 1, 0, 0, 1])
        func train(_ model: any UnaryLayer, _ optimizer: Optimizer, steps: Int) {
            for _ in 0..<steps {
                optimizer.zeroGrad()
                crossEntropy(model(x), y).backward()
                optimizer.step()
            }
        }
        let straight = makeModel()
        let straightOptimizer = Adam(parameters: straight.parameters, lr: 0.01)
        train(straight, straightOptimizer, steps: 6)

        let first = makeModel()
        let firstOptimizer = Adam(parameters: first.parameters, lr: 0.01)
        train(first, firstOptimizer, steps: 3)
        try Checkpoint.save(first, optimizer: firstOptimizer, to: path("resume.safetensors"))
        let resumed = Sequential { Linear(3, 5); Tanh(); Linear(5, 2) }
        let resumedOptimizer = Adam(parameters: resumed.parameters, lr: 0.5)
        try Checkpoint.load(into: resumed, optimizer: resumedOptimizer, from: path("resume.safetensors"))
        XCTAssertEqual(resumedOptimizer.stepCount, 3)
        XCTAssertEqual(resumedOptimizer.learningRate, 0.01)
        train(resumed, resumedOptimizer, steps: 3)
        for (a, b) in zip(straight.parameters, resumed.parameters) { XCTAssertEqual(a.value.scalars, b.value.scalars) }
    }

    func testCorruptFilesAreReportedNotTrusted() throws {
        let good = path("good.safetensors")
        try SafeTensors.write([("w", Tensor([1, 2, 3]))], to: good)
        let bytes = [UInt8](FileManager.default.contents(atPath: good)!)
        let truncated = path("truncated.safetensors")
        XCTAssertTrue(FileManager.default.createFile(atPath: truncated, contents: Data(bytes.dropLast(4))))
        XCTAssertThrowsError(try SafeTensors.read(truncated)) { XCTAssertTrue("\($0)".contains("(truncated?)"), "\($0)") }
        let garbage = path("garbage.safetensors")
        XCTAssertTrue(FileManager.default.createFile(atPath: garbage, contents: Data([255, 255, 255, 255, 0, 0, 0, 0, 1, 2])))
        XCTAssertThrowsError(try SafeTensors.read(garbage)) { XCTAssertTrue("\($0)".contains("runs past the end"), "\($0)") }
        let badJSON = path("badjson.safetensors")
        XCTAssertTrue(FileManager.default.createFile(atPath: badJSON, contents: Data([4, 0, 0, 0, 0, 0, 0, 0] + Array("{{{{".utf8))))
        XCTAssertThrowsError(try SafeTensors.read(badJSON)) { XCTAssertTrue("\($0)".contains("not a valid JSON object")) }
        XCTAssertThrowsError(try SafeTensors.read(path("absent"))) { XCTAssertTrue("\($0)".hasSuffix("no such file")) }
        XCTAssertThrowsError(try Checkpoint.load(into: Linear(2, 2), from: good)) { XCTAssertTrue("\($0)".contains("no tensor named weight")) }
    }

    func testSaveReplacesAtomically() throws {
        let target = path("atomic.safetensors")
        try SafeTensors.write([("w", Tensor([1]))], to: target)
        try SafeTensors.write([("w", Tensor([2]))], to: target)
        XCTAssertEqual(try SafeTensors.read(target).tensors["w"]?.scalars, [2])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
        // A failed write (the directory is gone) leaves an error, not a half-written file.
        XCTAssertThrowsError(try SafeTensors.write([("w", Tensor([3]))], to: path("missing-dir/x.safetensors")))
    }
}
