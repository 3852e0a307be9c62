import Foundation
import XCTest
import Synapse

/// `synapse train --resume`: a run stopped after an epoch and resumed ends with the same
/// weights, optimizer state and test figures as the run that never stopped, bit for bit.
final class ResumeTests: XCTestCase {
    func testAResumedRunEqualsTheUninterruptedRunBitForBit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-resume-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Shuffled batches, Adam's moments and step count, and a validation split, on the
        // embedded digits (the dropout and schedule state is tested on the Trainer itself).
        let flags = ["train", "--model", "mlp", "--optimizer", "adam", "--lr", "0.003",
                     "--validation-split", "0.2", "--seed", "4", "--json"]
        let whole = try runSynapse(flags + ["--epochs", "3", "--save", folder + "/whole.safetensors"])
        XCTAssertEqual(whole.status, 0, whole.output)
        let first = try runSynapse(flags + ["--epochs", "2", "--save", folder + "/resumed.safetensors"])
        XCTAssertEqual(first.status, 0, first.output)
        let resumed = try runSynapse(flags + ["--epochs", "3", "--resume", folder + "/resumed.safetensors",
                                              "--save", folder + "/resumed.safetensors"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        func figures(_ output: String) -> String {
            String(output.split(separator: "\n").last!).replacingOccurrences(of: #""seconds_per_epoch":[0-9.e+-]+,"#, with: "",
                                                                               options: .regularExpression)
        }
        XCTAssertEqual(figures(resumed.output), figures(whole.output))
        let a = try SafeTensors.read(folder + "/whole.safetensors"), b = try SafeTensors.read(folder + "/resumed.safetensors")
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        XCTAssertTrue(a.tensors.keys.contains("optimizer.0.exp_avg") || a.tensors.keys.contains { $0.hasPrefix("optimizer.") })
        for (name, tensor) in a.tensors {
            XCTAssertEqual(tensor.scalars.map(\.bitPattern), b.tensors[name]!.scalars.map(\.bitPattern), name)
        }
        XCTAssertEqual(a.metadata, b.metadata)

        // A resume with other flags, or past the end, is refused.
        let other = try runSynapse(flags.map { $0 == "0.003" ? "0.004" : $0 } + ["--epochs", "4", "--resume", folder + "/whole.safetensors"])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.output.contains("the saved run had --lr 0.003 (this run: 0.004); give the same flags"), other.output)
        let done = try runSynapse(flags + ["--epochs", "3", "--resume", folder + "/whole.safetensors"])
        XCTAssertTrue(done.output.contains("has already completed 3 epochs"), done.output)
    }
}
