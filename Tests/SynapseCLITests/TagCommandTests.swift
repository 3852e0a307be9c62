import Foundation
import XCTest

/// `synapse tag` as a user runs it: train and save, evaluate, tag raw text, and the errors.
final class TagCommandTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tag-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func file(_ name: String, _ contents: String) -> String {
        let path = directory.appendingPathComponent(name).path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)))
        return path
    }

    /// The output without the baseline-build notice a debug binary prints first.
    private static func withoutNotice(_ output: String) -> String {
        output.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("synapse: this build targets") }
            .joined(separator: "\n")
    }

    private static func conllu(_ sentences: [[(String, String)]]) -> String {
        sentences.map { words in
            words.enumerated().map { "\($0.offset + 1)\t\($0.element.0)\t_\t\($0.element.1)\t_\t_\t0\tdep\t_\t_" }.joined(separator: "\n")
        }.joined(separator: "\n\n") + "\n\n"
    }

    func testTrainEvaluateAndTagText() throws {
        let sentences: [[(String, String)]] = Array(repeating: [("The", "DET"), ("dog", "NOUN"), ("runs", "VERB"), (".", "PUNCT")], count: 6)
            + Array(repeating: [("A", "DET"), ("cat", "NOUN"), ("sleeps", "VERB"), ("!", "PUNCT")], count: 6)
        let train = file("train.conllu", Self.conllu(sentences))
        let saved = directory.appendingPathComponent("tagger.safetensors").path
        let trained = try runSynapse(["tag", "train", "--train", train, "--dev", train, "--epochs", "30", "--lr", "0.05",
                                      "--hidden", "8", "--embedding", "8", "--character-filters", "4", "--character-embedding", "4",
                                      "--dropout", "0", "--batch-size", "4", "--save", saved, "--json"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(trained.output.split(separator: "\n").last!.utf8)) as? [String: Any])
        XCTAssertEqual(summary["dev_accuracy"] as? Double, 1, trained.output)
        XCTAssertEqual(summary["most_frequent_tag_accuracy"] as? Double, 1)
        XCTAssertNotNil(summary["seconds_per_epoch"] as? Double)

        let evaluated = try runSynapse(["tag", "evaluate", "--checkpoint", saved, "--data", train])
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        XCTAssertTrue(Self.withoutNotice(evaluated.output).hasPrefix("12 sentences, 48 words: accuracy 1.0000"), evaluated.output)
        XCTAssertTrue(evaluated.output.contains("precision"), evaluated.output)

        let tagged = try runSynapse(["tag", "--checkpoint", saved, "The cat runs.", "A dog sleeps!"])
        XCTAssertEqual(tagged.status, 0, tagged.output)
        XCTAssertEqual(Self.withoutNotice(tagged.output), "The/DET cat/NOUN runs/VERB ./PUNCT\nA/DET dog/NOUN sleeps/VERB !/PUNCT\n")
        let unknown = try runSynapse(["tag", "--checkpoint", saved, "Zyx qwv"])
        XCTAssertEqual(unknown.status, 0, unknown.output)
        XCTAssertEqual(Self.withoutNotice(unknown.output).split(separator: " ").count, 2, "unknown words still get tags")
    }

    func testBadInputIsOneLine() throws {
        let good = file("good.conllu", Self.conllu([[("Hi", "INTJ")]]))
        let empty = file("empty.conllu", "# only a comment\n\n")
        let malformed = file("bad.conllu", "1\tHi\t_\tINTJ\n")
        let notTagger = file("model.safetensors", "")
        for (arguments, message) in [
            (["tag", "train", "--train", empty, "--dev", good], "Error: \(empty): no sentences (a CoNLL-U file has word lines with an integer ID)"),
            (["tag", "train", "--train", malformed, "--dev", good], "Error: \(malformed):1: a word line has 10 tab-separated columns, this one has 4"),
            (["tag", "train", "--train", good, "--dev", directory.appendingPathComponent("none.conllu").path],
             "Error: \(directory.path)/none.conllu: no such file"),
            (["tag", "evaluate", "--checkpoint", directory.appendingPathComponent("none.safetensors").path, "--data", good],
             "Error: \(directory.path)/none.safetensors: no such file"),
            (["tag", "--checkpoint", notTagger, "Hello"], "Error: \(notTagger):"),
        ] {
            let result = try runSynapse(arguments)
            XCTAssertEqual(result.status, 1, result.output)
            let output = Self.withoutNotice(result.output)
            XCTAssertTrue(output.hasPrefix(message), "\(arguments): \(output)")
            XCTAssertEqual(output.split(separator: "\n").count, 1, output)
        }
    }
}
