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
        ] {
            let result = try runSynapse(["text", "train"] + arguments)
            XCTAssertEqual(result.status, status, result.output)
            XCTAssertEqual(result.output.split(separator: "\n").first.map(String.init), message)
        }
    }
}
