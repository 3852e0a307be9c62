import Foundation
import XCTest

/// `synapse lm train --model gpt` and `synapse generate` on its checkpoint, as a user runs them.
final class LanguageModelCommandTests: XCTestCase {
    private func json(_ output: String) throws -> [String: Any] {
        let line = try XCTUnwrap(output.split(separator: "\n").last { $0.hasPrefix("{") })
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    func testGPTMisuseIsReportedBeforeTraining() throws {
        for (arguments, message) in [
            (["--model", "gpt", "--embedding", "30", "--heads", "4"], "--embedding 30 is not divisible by --heads 4"),
            (["--model", "lstm", "--heads", "2"], "--heads is for --model gpt"),
            (["--model", "gpt", "--hidden", "10"], "--hidden is for recurrent models; a GPT's width is --embedding"),
            (["--model", "gpt", "--steps", "10", "--warmup", "10"], "--warmup must be from 0 to fewer than --steps (10), got 10"),
        ] {
            let result = try runSynapse(["lm", "train", "--text", "/nonexistent.txt"] + arguments)
            XCTAssertEqual(result.status, 64, result.output)
            XCTAssertEqual(result.output.split(separator: "\n").first.map(String.init), "Error: " + message)
        }
    }

    func testTrainThenGenerateWithCacheStopAndTrimmedPrompt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("text.txt").path
        try String(repeating: "the cat sat on the mat.\n", count: 100).write(toFile: text, atomically: true, encoding: .utf8)
        let checkpoint = directory.appendingPathComponent("gpt.safetensors").path
        let trained = try runSynapse(["lm", "train", "--text", text, "--model", "gpt", "--layers", "1", "--heads", "2",
                                      "--embedding", "16", "--context", "16", "--batch-size", "4", "--steps", "20",
                                      "--save", checkpoint, "--json"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let report = try json(trained.output)
        XCTAssertEqual(report["model"] as? String, "gpt")
        XCTAssertEqual(report["steps"] as? Int, 20)
        XCTAssertNotNil(report["peak_rss_mb"] as? Double)

        func generate(_ extra: [String]) throws -> (text: String, output: String) {
            let result = try runSynapse(["generate", "--checkpoint", checkpoint, "--temperature", "0", "--json"] + extra)
            XCTAssertEqual(result.status, 0, result.output)
            return (try json(result.output)["text"] as? String ?? "", result.output)
        }
        let cached = try generate(["--tokens", "12"])
        XCTAssertEqual(cached.text.count, 12)
        XCTAssertEqual(try generate(["--tokens", "12", "--no-cache"]).text, cached.text,
                       "within the context the cache changes nothing at temperature 0")
        let first = String(cached.text.prefix(1))
        XCTAssertEqual(try generate(["--tokens", "12", "--stop", first]).text, first)
        let long = try generate(["--tokens", "3", "--prompt", String(repeating: "the cat sat. ", count: 3)])
        XCTAssertTrue(long.output.contains("the prompt has 39 tokens, more than the model's context of 16; generating from its last 16"),
                      long.output)
        XCTAssertEqual(long.text.count, 3)
    }

    func testBytePairTokensReportLossPerCharacter() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-bpe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("text.txt").path
        try String(repeating: "the café sat on the mat.\n", count: 100).write(toFile: text, atomically: true, encoding: .utf8)
        let checkpoint = directory.appendingPathComponent("gpt.safetensors").path
        let trained = try runSynapse(["lm", "train", "--text", text, "--model", "gpt", "--tokenizer", "bpe", "--vocabulary-size",
                                      "280", "--layers", "1", "--heads", "2", "--embedding", "16", "--context", "8",
                                      "--batch-size", "4", "--steps", "10", "--save", checkpoint, "--json"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let report = try json(trained.output)
        XCTAssertEqual(report["tokenizer"] as? String, "bpe")
        // Merges stop early once no pair repeats in so small a text.
        let vocabulary = try XCTUnwrap(report["vocabulary"] as? Int)
        XCTAssertTrue((257...280).contains(vocabulary), "\(vocabulary)")
        let perToken = try XCTUnwrap(report["val_loss"] as? Double)
        let perCharacter = try XCTUnwrap(report["val_loss_per_character"] as? Double)
        XCTAssertLessThan(perCharacter, perToken, "a BPE token spans more than one character")
        let generated = try runSynapse(["generate", "--checkpoint", checkpoint, "--tokens", "20", "--prompt", "the ", "--json"])
        XCTAssertEqual(generated.status, 0, generated.output)
        XCTAssertEqual(try json(generated.output)["tokens"] as? Int, 20)
    }
}
