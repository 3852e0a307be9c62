import Foundation
import XCTest

/// The `synapse` binary run as a user would: misuse exits 64 and a failed run exits 1, each
/// with one line that says what is wrong, never a trap.
final class MisuseTests: XCTestCase {
    private func assertFails(_ arguments: [String], environment: [String: String] = [:], status: Int32, _ message: String,
                             line: UInt = #line) throws {
        let result = try runSynapse(arguments, environment: environment)
        XCTAssertEqual(result.status, status, result.output, line: line)
        let first = result.output.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertEqual(first, "Error: " + message, line: line)
    }

    func testBadFlagsExit64WithTheRealProblem() throws {
        try assertFails(["train", "--lr", "-1"], status: 64, "--lr must be a positive number")
        try assertFails(["train", "--lr=-1"], status: 64, "--lr must be a positive number")
        try assertFails(["train", "--momentum", "nan"], status: 64, "--momentum must be in [0, 1), got nan")
        try assertFails(["train", "--weight-decay", "nan"], status: 64, "--weight-decay must be a non-negative number, got nan")
        try assertFails(["train", "--batch-size", "9223372036854775807"], status: 64, "--batch-size must be from 1 to 1000000")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        try assertFails(["train", "--threads", "100000"], status: 64, "--threads must be from 1 to \(4 * cores) (4 × the \(cores) cores)")
        try assertFails(["train"], environment: ["SYNAPSE_NUM_THREADS": "0"], status: 64,
                        "SYNAPSE_NUM_THREADS must be an integer from 1 to \(4 * cores) (4 × the \(cores) cores), got \"0\"")
    }

    func testOutputsThatCannotBeWrittenFailBeforeTraining() throws {
        try assertFails(["train", "--history", "/nonexistent/h.json"], status: 1,
                        "--history /nonexistent/h.json: the folder /nonexistent does not exist")
        try assertFails(["lm", "train", "--text", "/nonexistent.txt", "--save", "/nonexistent/lm.safetensors"], status: 1,
                        "--save /nonexistent/lm.safetensors: the folder /nonexistent does not exist")
    }

    func testRunsThatCannotSucceedExit1AndSaveNothing() throws {
        let save = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-nan-\(UUID().uuidString).safetensors").path
        try assertFails(["train", "--epochs", "1", "--validation-split", "0.9999"], status: 1,
                        "--validation-split 0.9999 of 1438 training examples leaves 0 to train on and 1438 to validate; each needs at least one")
        let result = try runSynapse(["train", "--epochs", "1", "--lr", "1e38", "--save", save])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("Error: training stopped: the loss of step 2 (epoch 1, batch 2) is NaN"), result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: save), "a NaN model is never written")
    }
}
