import Foundation
import SynapseText
import XCTest

/// Reading pretrained word vectors in GloVe's and word2vec's text layouts.
final class WordVectorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vectors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func file(_ contents: String) -> String {
        let path = directory.appendingPathComponent("v\(UUID().uuidString).txt").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)))
        return path
    }

    func testGloVeLinesGiveEachWordItsNumbers() throws {
        let path = file("the 0.418 0.24968 -0.41242\n, 0.013441 0.23682 -0.16899\r\nnaïve 1e-3 -2.5E+1 7\n\n")
        let vectors = try WordVectors(contentsOf: path)
        XCTAssertEqual(vectors.words, ["the", ",", "naïve"])
        XCTAssertEqual(vectors.dimension, 3)
        XCTAssertEqual(vectors.vector(for: "the").map(Array.init), [0.418, 0.24968, -0.41242])
        XCTAssertEqual(vectors.vector(for: ",").map(Array.init), [0.013441, 0.23682, -0.16899])
        XCTAssertEqual(vectors.vector(for: "naïve").map(Array.init), [0.001, -25, 7])
        XCTAssertNil(vectors.vector(for: "absent"))
    }

    func testWord2VecHeaderIsSkippedAndWordsMayHoldSpaces() throws {
        let vectors = try WordVectors(contentsOf: file("2 2\n. . . 1 2\nok 3 4\n"))
        XCTAssertEqual(vectors.words, [". . .", "ok"])
        XCTAssertEqual(vectors.values, [1, 2, 3, 4])
    }

    func testFirstWordsAndIncludedWordsAreKeptAndRepeatsKeepTheirFirstVector() throws {
        let path = file("a 1 1\nb 2 2\nc 3 3\nd 4 4\nb 9 9\ne 5 5\n")
        let vectors = try WordVectors(contentsOf: path, firstWords: 2, including: ["d", "b", "zzz"])
        XCTAssertEqual(vectors.words, ["a", "b", "d"])
        XCTAssertEqual(vectors.values, [1, 1, 2, 2, 4, 4])
        XCTAssertEqual(try WordVectors(contentsOf: path).vector(for: "b").map(Array.init), [2, 2])
        XCTAssertEqual(try WordVectors(contentsOf: path, firstWords: 0).count, 0)
    }

    func testStandardDeviationIsOfAllTheNumbers() throws {
        let vectors = try WordVectors(words: ["x", "y"], dimension: 2, values: [1, 3, 1, 3])
        XCTAssertEqual(vectors.standardDeviation, 1, accuracy: 1e-6)
    }

    func testBadFilesAreOneLineErrorsNamingTheLine() {
        let ragged = file("a 1 2 3\nb 1 2\n")
        let word = file("a 1 2\nb 1 two\n")
        let infinite = file("a 1 2\nb 1 inf\n")
        let single = file("lonely\n")
        let empty = file("\n  \n")
        let missing = directory.appendingPathComponent("none.txt").path
        for (path, message) in [
            (ragged, "\(ragged):2: 2 numbers where its vectors have 3"),
            (word, "\(word):2: \"two\" is not a finite number"),
            (infinite, "\(infinite):2: \"inf\" is not a finite number"),
            (single, "\(single):1: a word vector line is a word followed by its numbers, got one field"),
            (empty, "\(empty): no word vectors in the file"),
            (missing, "\(missing): no such file"),
        ] {
            XCTAssertThrowsError(try WordVectors(contentsOf: path)) { error in
                XCTAssertEqual("\(error)", message)
            }
        }
    }

    func testAddingWordsAppendsOnlyNewOnes() throws {
        let tokenizer = WordTokenizer(fitting: ["good film", "bad film"])
        let extended = tokenizer.adding(["film", "great", "good", "awful", "great"])
        XCTAssertEqual(Array(extended.vocabulary.prefix(tokenizer.count)), tokenizer.vocabulary)
        XCTAssertEqual(Array(extended.vocabulary.dropFirst(tokenizer.count)), ["great", "awful"])
        XCTAssertEqual(extended.encode("great film"), [tokenizer.count, tokenizer.id(of: "film")!])
    }
}
