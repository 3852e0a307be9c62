import XCTest
@testable import SynapseText

final class BPETokenizerTests: XCTestCase {
    private func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!.path
    }

    private func fixtureText() throws -> (text: String, ids: [Int]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("hf_bpe_ids.json")))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (object["text"] as! String, (object["ids"] as! [NSNumber]).map(\.intValue))
    }

    func testHuggingFaceTokenizerGivesIdenticalIds() throws {
        let tokenizer = try BPETokenizer(huggingFace: fixture("hf_bpe.json"))
        XCTAssertEqual(tokenizer.count, 600)
        XCTAssertEqual(tokenizer.specialTokens.map(\.text), ["<|endoftext|>"])
        XCTAssertTrue(tokenizer.missingBytes.isEmpty)
        let (text, ids) = try fixtureText()
        XCTAssertEqual(tokenizer.encode(text), ids)
        XCTAssertEqual(tokenizer.decode(ids), text)
        XCTAssertEqual(tokenizer.decode(ids, skippingSpecialTokens: true), text.replacingOccurrences(of: "<|endoftext|>", with: ""))
    }

    func testTrainingReproducesHuggingFaceMerges() throws {
        let reference = try BPETokenizer(huggingFace: fixture("hf_bpe.json"))
        let training = try String(contentsOfFile: fixture("bpe_training.txt"), encoding: .utf8)
        var reported = 0
        let trained = try BPETokenizer.train(on: [training], vocabularySize: 600, specialTokens: ["<|endoftext|>"]) { done, wanted in
            reported = done
            XCTAssertEqual(wanted, 343)
        }
        XCTAssertEqual(reported, 343)
        XCTAssertEqual(trained.tokenBytes, reference.tokenBytes)
        XCTAssertEqual(trained.merges, reference.merges)
        XCTAssertEqual(trained.encode(try fixtureText().text), try fixtureText().ids)
    }

    func testWrittenFilesReadBackIdentically() throws {
        let reference = try BPETokenizer(huggingFace: fixture("hf_bpe.json"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appendingPathComponent("tokenizer.json").path
        try reference.write(huggingFace: json)
        let vocabulary = directory.appendingPathComponent("vocab.json").path, merges = directory.appendingPathComponent("merges.txt").path
        try reference.write(vocabularyJSON: vocabulary, merges: merges)
        let (text, ids) = try fixtureText()
        for copy in [try BPETokenizer(huggingFace: json), try BPETokenizer(vocabularyJSON: vocabulary, merges: merges)] {
            XCTAssertEqual(copy.tokenBytes, reference.tokenBytes)
            XCTAssertEqual(copy.merges, reference.merges)
            XCTAssertEqual(copy.encode(text), ids)
        }
    }

    func testEveryCorpusRoundTrips() throws {
        let tokenizer = try BPETokenizer(huggingFace: fixture("hf_bpe.json"))
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data").standardized
        let files = FileManager.default.enumerator(atPath: data.path)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".txt") || $0.hasSuffix(".conllu") || $0.hasSuffix(".md") || $0.hasSuffix(".csv") }
        XCTAssertGreaterThan(files.count, 8)
        var nonASCII = 0
        for file in files {
            let bytes = try Data(contentsOf: data.appendingPathComponent(file))
            // Non-UTF-8 files (Latin-1 corpora) round-trip as the text Swift decodes them to.
            let text = String(decoding: bytes, as: UTF8.self)
            nonASCII += text.unicodeScalars.filter { $0.value > 127 }.count
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text, file)
        }
        XCTAssertGreaterThan(nonASCII, 500)
    }

    func testLongPiecesMergeAsShortOnesDo() throws {
        let tokenizer = try BPETokenizer(huggingFace: fixture("hf_bpe.json"))
        let word = String(repeating: "thethoutheeandsoforthwherefore", count: 20)
        var symbols: [Int32] = word.utf8.map { tokenizer.byteIDs[Int($0)] }
        symbols = BPEHeapMerge.merge(symbols, table: tokenizer.mergeTable)
        // Each copy alone is short enough for the scanning merge; together they take the heap.
        let pieceIDs = tokenizer.encode(word)
        XCTAssertEqual(symbols.map(Int.init), pieceIDs)
        XCTAssertEqual(tokenizer.decode(pieceIDs), word)
        let long = String(repeating: "a", count: 100_000)
        XCTAssertEqual(tokenizer.decode(tokenizer.encode(long)), long)
    }

    func testPreTokensFollowGPT2Pattern() throws {
        func pieces(_ text: String) -> [String] {
            var text = text, ends: [Int] = [], result: [String] = []
            text.withUTF8 { bytes in
                GPT2PreTokenizer.split(bytes, into: &ends)
                var start = 0
                for end in ends {
                    result.append(String(decoding: bytes[start..<end], as: UTF8.self))
                    start = end
                }
            }
            return result
        }
        XCTAssertEqual(pieces("Hello world's  end!!  "), ["Hello", " world", "'s", " ", " end", "!!", "  "])
        XCTAssertEqual(pieces("a\n\n b 12x"), ["a", "\n\n", " b", " 12", "x"])
        XCTAssertEqual(pieces("they'RE don't"), ["they", "'", "RE", " don", "'t"])
        XCTAssertEqual(pieces("e\u{301}t"), ["e", "\u{301}", "t"])
    }

    func testBadFilesAreNamedErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func check(_ contents: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            let path = directory.appendingPathComponent("t.json").path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)))
            XCTAssertThrowsError(try BPETokenizer(huggingFace: path), file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
            }
        }
        let byteLevel = "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}"
        check("{\"model\": ", "not valid JSON")
        check("{\"model\": {\"type\": \"WordPiece\"}}", "only BPE is supported")
        check("{\(byteLevel), \"normalizer\": {\"type\": \"NFC\"}, \"model\": {\"vocab\": {}, \"merges\": []}}", "normalizer \"NFC\"")
        check("{\"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"model\": {\"vocab\": {}, \"merges\": []}}", "\"Whitespace\" is not supported")
        check("{\(byteLevel), \"model\": {\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"c\"]]}}", "names \"c\", which is not in the vocabulary")
        check("{\(byteLevel), \"model\": {\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"b\"]]}}", "makes \"ab\", which is not in the vocabulary")
        check("{\(byteLevel), \"model\": {\"vocab\": {\"a\": 0, \"b\": 2}, \"merges\": []}}", "1 has no token")
        check("{\(byteLevel), \"model\": {\"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}", "id 0 is given to both")
        check("{\(byteLevel), \"model\": {\"vocab\": {\"a b\": 0}, \"merges\": []}}", "not spelled in GPT-2's byte-level alphabet")
        XCTAssertThrowsError(try BPETokenizer(huggingFace: directory.appendingPathComponent("missing.json").path)) { error in
            XCTAssertTrue("\(error)".contains("cannot read"), "\(error)")
        }
        XCTAssertThrowsError(try BPETokenizer.train(on: ["abc"], vocabularySize: 100)) { error in
            XCTAssertTrue("\(error)".contains("at least 256"), "\(error)")
        }
    }

    func testMissingBytesAreDroppedAsHuggingFaceDoes() throws {
        let tokenizer = try BPETokenizer(tokenBytes: [Array("a".utf8), Array("b".utf8), Array("ab".utf8)], merges: [(0, 1)])
        XCTAssertEqual(tokenizer.missingBytes.count, 254)
        XCTAssertEqual(tokenizer.encode("abzab"), [2, 2])
    }
}
