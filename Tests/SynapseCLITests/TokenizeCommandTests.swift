import Foundation
import XCTest

/// `synapse tokenize` as a user runs it: train, save, encode, decode, and the errors.
final class TokenizeCommandTests: XCTestCase {
    func testTrainEncodeDecodeRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = directory.appendingPathComponent("corpus.txt").path
        let text = String(repeating: "the cat sat on the mat; the dog sat on the log. ", count: 50) + "naïve café"
        XCTAssertTrue(FileManager.default.createFile(atPath: corpus, contents: Data(text.utf8)))
        let saved = directory.appendingPathComponent("tok.json").path
        let trained = try runSynapse(["tokenize", "train", "--text", corpus, "--vocab-size", "270", "--save", saved, "--json"])
        XCTAssertEqual(trained.status, 0, trained.output)
        XCTAssertTrue(trained.output.contains("\"vocab_size\":270"), trained.output)
        let encoded = try runSynapse(["tokenize", "encode", "--tokenizer", saved, "the cat sat", "naïve"])
        XCTAssertEqual(encoded.status, 0, encoded.output)
        let ids = encoded.output.split(whereSeparator: \.isWhitespace).map(String.init)
        XCTAssertFalse(ids.isEmpty)
        XCTAssertLessThan(ids.count, "the cat sat naïve".utf8.count, "merges should shorten the text")
        let decoded = try runSynapse(["tokenize", "decode", "--tokenizer", saved] + ids)
        XCTAssertEqual(decoded.status, 0, decoded.output)
        XCTAssertEqual(decoded.output, "the cat sat naïve\n")
    }

    func testBadInputIsOneLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenize-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let broken = directory.appendingPathComponent("broken.json").path
        XCTAssertTrue(FileManager.default.createFile(atPath: broken, contents: Data("{\"model\": [".utf8)))
        let result = try runSynapse(["tokenize", "encode", "--tokenizer", broken, "hello"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.hasPrefix("Error: \(broken): not valid JSON"), result.output)
        let empty = directory.appendingPathComponent("empty.txt").path
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        let training = try runSynapse(["tokenize", "train", "--text", empty, "--save", directory.appendingPathComponent("t.json").path])
        XCTAssertEqual(training.status, 1)
        XCTAssertEqual(training.output.split(separator: "\n").first, "Error: --text: the files are empty")
        let flags = try runSynapse(["tokenize", "train", "--text", empty, "--vocab-size", "10", "--save", "t.json"])
        XCTAssertEqual(flags.status, 64)
    }
}
