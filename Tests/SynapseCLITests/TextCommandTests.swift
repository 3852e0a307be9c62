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
        for (arguments, status, message) in [
            (["--data", single], Int32(1), "Error: \(single): every sentence has the label \"1\"; a classifier needs at least two classes"),
            (["--data", noTab], 1, "Error: \(noTab):2: no tab; each line is text<TAB>label"),
            (["--data", directory.appendingPathComponent("none").path], 1, "Error: \(directory.path)/none: no such file or folder"),
            (["--data", single, "--test-split", "1.5"], 64, "Error: --test-split must be between 0 and 1, got 1.5"),
            (["--data", single, "--test-split", "0.3", "--folds", "4"], 64,
             "Error: --test-split and --folds are two ways to choose test sentences; give one"),
            (["--data", single, "--test-split", "0.3", "--test-indices", single], 64,
             "Error: --test-split and --test-indices are two ways to choose test sentences; give one"),
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
}
