import Foundation
import XCTest

/// `synapse text train` refuses bad corpora and flags in one line, before any training.
final class TextCommandTests: XCTestCase {
    func testBadCorporaAndFlagsAreOneLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("text-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String, _ contents: String) -> String {
            let path = directory.appendingPathComponent(name).path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)))
            return path
        }
        let single = file("single.tsv", "good\t1\nfine\t1\n")
        let noTab = file("notab.tsv", "good\t1\nno tab\n")
        let two = file("two.tsv", "good\t1\nbad\t0\nfine\t1\npoor\t0\n")
        let ragged = file("ragged.txt", "good 1 2 3\nbad 1 2\n")
        let sixWide = file("six.txt", "good 1 2 3 4 5 6\n")
        for (arguments, status, message) in [
            (["--data", single], Int32(1), "Error: \(single): every sentence has the label \"1\"; a classifier needs at least two classes"),
            (["--data", noTab], 1, "Error: \(noTab):2: no tab; each line is text<TAB>label"),
            (["--data", directory.appendingPathComponent("none").path], 1, "Error: \(directory.path)/none: no such file or folder"),
            (["--data", single, "--test-split", "1.5"], 64, "Error: --test-split must be between 0 and 1, got 1.5"),
            (["--data", single, "--test-split", "0.3", "--folds", "4"], 64,
             "Error: --test-split and --folds are two ways to choose test sentences; give one"),
            (["--data", single, "--test-split", "0.3", "--test-indices", single], 64,
             "Error: --test-split and --test-indices are two ways to choose test sentences; give one"),
            (["--data", two, "--embeddings", sixWide, "--tokenizer", "bpe"], 64,
             "Error: --embeddings holds vectors of words; it needs --tokenizer word"),
            (["--data", two, "--freeze-embeddings"], 64, "Error: --freeze-embeddings keeps pretrained vectors fixed; give them with --embeddings"),
            (["--data", two, "--embeddings", ragged], 1, "Error: \(ragged):2: 2 numbers where its vectors have 3"),
            (["--data", two, "--embeddings", sixWide, "--model", "transformer"], 1,
             "Error: \(sixWide): the transformer splits its word vectors among 4 attention heads; vectors 6 wide do not divide evenly"),
        ] {
            let result = try runSynapse(["text", "train"] + arguments)
            XCTAssertEqual(result.status, status, result.output)
            XCTAssertEqual(result.output.split(separator: "\n").first.map(String.init), message)
        }
    }

    func testTrainSaveEvaluatePredictAndFolds() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("text-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = (0..<20).flatMap { i in ["great good lovely \(i)\tpos", "awful bad poor \(i)\tneg"] }
        let data = directory.appendingPathComponent("data.tsv").path
        XCTAssertTrue(FileManager.default.createFile(atPath: data, contents: Data(lines.joined(separator: "\n").utf8)))
        let saved = directory.appendingPathComponent("text.safetensors").path
        func lastLine(_ output: String) -> [String: Any]? {
            output.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        let trained = try runSynapse(["text", "train", "--data", data, "--model", "bag", "--epochs", "20", "--lr", "0.05",
                                      "--save", saved, "--json"])
        XCTAssertEqual(trained.status, 0, trained.output)
        XCTAssertEqual(lastLine(trained.output)?["test_accuracy"] as? Double, 1, trained.output)

        let evaluated = try runSynapse(["text", "evaluate", "--checkpoint", saved, "--data", data, "--json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        XCTAssertEqual(lastLine(evaluated.output)?["accuracy"] as? Double, 1, evaluated.output)
        XCTAssertEqual(lastLine(evaluated.output)?["confusion"] as? [[Int]], [[20, 0], [0, 20]], evaluated.output)

        let predicted = try runSynapse(["text", "predict", "--checkpoint", saved, "lovely great", "poor awful", "xyzzy plugh"])
        XCTAssertEqual(predicted.status, 0, predicted.output)
        let rows = predicted.output.split(separator: "\n").filter { !$0.hasPrefix("synapse: this build") }
        XCTAssertEqual(rows.count, 3, predicted.output)
        XCTAssertTrue(rows[0].hasPrefix("pos\t") && rows[1].hasPrefix("neg\t"), predicted.output)

        let other = directory.appendingPathComponent("other.tsv").path
        XCTAssertTrue(FileManager.default.createFile(atPath: other, contents: Data("fine\tmaybe\nok\tpos\n".utf8)))
        let refused = try runSynapse(["text", "evaluate", "--checkpoint", saved, "--data", other])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.output.contains("Error: \(other): the label \"maybe\" is not one of the classifier's classes (neg, pos)"),
                      refused.output)

        let folded = try runSynapse(["text", "train", "--data", data, "--model", "bag", "--epochs", "5", "--lr", "0.05",
                                     "--folds", "4", "--json"])
        XCTAssertEqual(folded.status, 0, folded.output)
        let summary = try XCTUnwrap(lastLine(folded.output), folded.output)
        XCTAssertEqual((summary["fold_accuracies"] as? [Double])?.count, 4)
        XCTAssertNotNil(summary["cv_accuracy"] as? Double)
        XCTAssertNotNil(summary["cv_std"] as? Double)
    }

    /// `--embeddings`: the vocabulary gains the file's first words, the model takes the
    /// vectors' width, and the saved checkpoint alone rebuilds it.
    func testPretrainedVectorsTrainSaveAndPredict() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("text-vectors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = (0..<20).flatMap { i in ["great good \(i)\tpos", "awful bad \(i)\tneg"] }
        let data = directory.appendingPathComponent("data.tsv").path
        XCTAssertTrue(FileManager.default.createFile(atPath: data, contents: Data(lines.joined(separator: "\n").utf8)))
        // "superb" and "dreadful" never occur in the data; their vectors point as "great" and "awful" do.
        let vectors = ["great 1 0 0 0", "superb 0.9 0.1 0 0", "awful -1 0 0 0", "dreadful -0.9 0 0.1 0", "good 0.8 0 0 0.2", "bad -0.8 0 0 0.2"]
        let vectorFile = directory.appendingPathComponent("vectors.txt").path
        XCTAssertTrue(FileManager.default.createFile(atPath: vectorFile, contents: Data(vectors.joined(separator: "\n").utf8)))
        let saved = directory.appendingPathComponent("text.safetensors").path
        let trained = try runSynapse(["text", "train", "--data", data, "--model", "bag", "--epochs", "20", "--lr", "0.05",
                                      "--embeddings", vectorFile, "--pretrained-words", "4", "--save", saved, "--json"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let summary = try XCTUnwrap(trained.output.split(separator: "\n").last.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }, trained.output)
        XCTAssertEqual(summary["test_accuracy"] as? Double, 1, trained.output)
        // good, great, awful and bad from training (the numbers have no vectors), plus superb
        // and dreadful from the file's first four words.
        XCTAssertEqual(summary["pretrained_covered"] as? Int, 6, trained.output)
        let vocabulary = try XCTUnwrap(summary["vocabulary"] as? Int, trained.output)
        XCTAssertEqual(summary["parameters"] as? Int, vocabulary * 4 + 16_384 * 4 + 4 * 2 + 2, "4-wide vectors: " + trained.output)

        let predicted = try runSynapse(["text", "predict", "--checkpoint", saved, "superb", "dreadful"])
        XCTAssertEqual(predicted.status, 0, predicted.output)
        let rows = predicted.output.split(separator: "\n").filter { !$0.hasPrefix("synapse: this build") }
        XCTAssertEqual(rows.count, 2, predicted.output)
        XCTAssertTrue(rows[0].hasPrefix("pos\t") && rows[1].hasPrefix("neg\t"), predicted.output)
    }
}
