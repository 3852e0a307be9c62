import XCTest
import Synapse

private let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data").standardized.path

final class WordTokenizerTests: XCTestCase {
    func testSplitsUnicodeWordsAndPunctuation() {
        XCTAssertEqual(WordTokenizer.words(in: "Wasn't it GREAT?! Naïve café, e\u{301}t\u{e9} 2014…"),
                       ["wasn", "'", "t", "it", "great", "?", "!", "naïve", "café", ",", "e\u{301}t\u{e9}", "2014", "…"])
        XCTAssertEqual(WordTokenizer.words(in: "Keep Case", lowercasing: false), ["Keep", "Case"])
        // The anchor's split of an ASCII sentence: [a-z0-9]+|[^\sa-z0-9] after lowercasing.
        XCTAssertEqual(WordTokenizer.words(in: "A good-ish film (7/10)."), ["a", "good", "-", "ish", "film", "(", "7", "/", "10", ")", "."])
    }

    func testVocabularyCountsFrequencyAndSize() throws {
        let tokenizer = WordTokenizer(fitting: ["b a b c", "b a d"], minimumFrequency: 2)
        XCTAssertEqual(tokenizer.vocabulary, ["<pad>", "<unk>", "b", "a"])
        XCTAssertEqual(tokenizer.encode("A B zebra"), [3, 2, WordTokenizer.unknownID])
        XCTAssertEqual(tokenizer.encode("zebra quagga"), [1, 1], "text made only of unknown words still encodes")
        XCTAssertEqual(WordTokenizer(fitting: ["b a b c", "b a d"], maximumSize: 3).vocabulary, ["<pad>", "<unk>", "b"])
        XCTAssertEqual(try WordTokenizer(serialized: tokenizer.serialized), tokenizer)
        XCTAssertThrowsError(try WordTokenizer(serialized: "{\"vocabulary\": 3}"))
        XCTAssertThrowsError(try WordTokenizer(vocabulary: ["a", "b"]))
    }
}

final class TextFileTests: XCTestCase {
    func testWindows1252IsDecodedWithOneWarning() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cp1252-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // "café – “quoted” €5\tpos" in Windows-1252, plus an undefined byte (0x81).
        let bytes: [UInt8] = Array("caf".utf8) + [0xE9, 0x20, 0x96, 0x20, 0x93] + Array("quoted".utf8) + [0x94, 0x20, 0x80, 0x35, 0x81]
            + Array("\tpos\nfine\tneg\n".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        var warnings: [String] = []
        let text = try TextFile.read(path) { warnings.append($0) }
        XCTAssertEqual(warnings, ["\(path) is not valid UTF-8; reading it as Windows-1252"])
        XCTAssertEqual(text, "café – “quoted” €5\u{81}\tpos\nfine\tneg\n")
        let sentences = try LabelledSentences.read(path) { _ in }
        XCTAssertEqual(sentences.texts, ["café – “quoted” €5\u{81}", "fine"])
        XCTAssertEqual(sentences.classes, ["neg", "pos"])
        XCTAssertEqual(sentences.labels, [1, 0])
    }

    func testLinesSplitAtLineFeedsOnly() {
        XCTAssertEqual(TextFile.lines("a\r\nb\u{85}c\u{2028}d\n"), ["a", "b\u{85}c\u{2028}d", ""])
    }
}

final class LabelledSentencesTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("labelled-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(at: directory) }

    private func write(_ name: String, _ text: String) -> String {
        let path = directory.appendingPathComponent(name).path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
        return path
    }

    func testTheUCIFilesPoolTo3000() throws {
        var texts: [String] = []
        for site in ["amazon_cells", "imdb", "yelp"] {
            let sentences = try LabelledSentences.read("\(shared)/sentiment-labelled-sentences/\(site)_labelled.txt") { XCTFail($0) }
            XCTAssertEqual(sentences.count, 1000, site)
            XCTAssertEqual(sentences.classes, ["0", "1"])
            XCTAssertEqual(sentences.labels.filter { $0 == 1 }.count, 500, site)
            texts += sentences.texts
        }
        XCTAssertTrue(texts.contains { $0.unicodeScalars.contains("\u{85}") }, "imdb keeps U+0085 inside a sentence")
    }

    func testFolderLayoutNamesClassesByFile() throws {
        _ = write("rt.neg", "dull and long\n\nbad\n")
        _ = write("rt.pos", "a delight\n")
        _ = write("README.md", "not data\n")
        let sentences = try LabelledSentences.read(directory.path)
        XCTAssertEqual(sentences.classes, ["rt.neg", "rt.pos"])
        XCTAssertEqual(sentences.texts, ["dull and long", "bad", "a delight"])
        XCTAssertEqual(sentences.labels, [0, 0, 1])
    }

    func testBadCorporaAreNamedErrors() throws {
        func check(_ path: String, classes: [String]? = nil, _ expected: String, line: UInt = #line) {
            XCTAssertThrowsError(try LabelledSentences.read(path, classes: classes), line: line) { error in
                XCTAssertEqual("\(error)", expected, line: line)
            }
        }
        let empty = write("empty.tsv", "\n  \n")
        check(empty, "\(empty): no labelled sentences (the corpus is empty)")
        let single = write("single.tsv", "good\t1\nfine\t1\n")
        check(single, "\(single): every sentence has the label \"1\"; a classifier needs at least two classes")
        let noTab = write("notab.tsv", "good\t1\nno tab here\n")
        check(noTab, "\(noTab):2: no tab; each line is text<TAB>label")
        let unknown = write("unknown.tsv", "good\t1\nbad\tmaybe\n")
        check(unknown, classes: ["0", "1"], "\(unknown):2: label \"maybe\" is not a class of the model (0, 1)")
        check(directory.path + "/missing", "\(directory.path)/missing: no such file or folder")
    }
}

final class CoNLLUTests: XCTestCase {
    func testCommentsRangesAndEmptyNodes() throws {
        let text = """
            # sent_id = 1
            # text = Don't go.
            1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
            1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
            2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
            2.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t0:root\t_
            3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
            4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

            1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_

            """
        let sentences = try CoNLLU.parse(text, source: "x.conllu")
        XCTAssertEqual(sentences.count, 2)
        XCTAssertEqual(sentences[0].text, "Don't go.")
        XCTAssertEqual(sentences[0].words.map(\.form), ["Do", "n't", "go", "."])
        XCTAssertEqual(sentences[0].words.map(\.upos), ["AUX", "PART", "VERB", "PUNCT"])
        XCTAssertEqual(sentences[0].words[1], CoNLLU.Word(form: "n't", lemma: "not", upos: "PART", xpos: "RB"))
        XCTAssertEqual(sentences[1].words.map(\.form), ["Hi"])
    }

    func testMalformedLinesNameFileAndLine() {
        func check(_ text: String, _ expected: String, line: UInt = #line) {
            XCTAssertThrowsError(try CoNLLU.parse(text, source: "bad.conllu"), line: line) { error in
                XCTAssertEqual("\(error)", expected, line: line)
            }
        }
        check("# c\nx\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_\n", "bad.conllu:2: ID \"x\" is not an integer")
        check("1\tDo\tdo\tAUX\n", "bad.conllu:1: a word line has 10 tab-separated columns, this one has 4")
        check("1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_\n3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_\n",
              "bad.conllu:2: ID 3 should be 2 (word IDs count up from 1 in each sentence)")
        check("1-x\tDon't\t_\t_\t_\t_\t_\t_\t_\t_\n", "bad.conllu:1: ID \"1-x\" is not a multiword range like 1-2")
    }

    func testEnglishEWTMatchesTheAnchorsReading() throws {
        let train = try CoNLLU.read("\(shared)/ud-english-ewt/en_ewt-ud-train.conllu")
        let dev = try CoNLLU.read("\(shared)/ud-english-ewt/en_ewt-ud-dev.conllu")
        // The anchor script's read_conllu gives 12,544 / 204,577 and 2,001 / 25,147.
        XCTAssertEqual(train.count, 12_544)
        XCTAssertEqual(train.reduce(0) { $0 + $1.words.count }, 204_577)
        XCTAssertEqual(dev.count, 2_001)
        XCTAssertEqual(dev.reduce(0) { $0 + $1.words.count }, 25_147)
        XCTAssertEqual(Set(train.flatMap { $0.words.map(\.upos) }).count, 17)
    }
}

final class LengthBucketingTests: XCTestCase {
    func testBucketedBatchesHoldSimilarLengthsAndCoverEveryExample() {
        var generator = RandomGenerator(seed: 3)
        let sequences = (0..<1000).map { _ in [Int](repeating: 2, count: 1 + Int(generator.next() % 60)) }
        let dataset = SequenceDataset(sequences: sequences, targets: .perSequence([Int](repeating: 0, count: 1000)))
        let lengths = sequences.map(\.count)
        func padding(_ loader: DataLoader<SequenceDataset>) -> Int {
            loader.reduce(0) { $0 + $1.count * $1.steps - $1.tokenCount }
        }
        let plain = DataLoader(dataset, batchSize: 32, shuffle: true, seed: 1)
        let bucketed = DataLoader(dataset, batchSize: 32, shuffle: true, seed: 1, bucketLengths: lengths, batchesPerBucket: 8)
        for epoch in 0..<2 {
            let order = bucketed.order(forEpoch: epoch)
            XCTAssertEqual(order.sorted(), Array(0..<1000), "every example once per epoch")
        }
        XCTAssertNotEqual(bucketed.order(forEpoch: 0), bucketed.order(forEpoch: 1))
        XCTAssertEqual(bucketed.order(forEpoch: 0), bucketed.order(forEpoch: 0), "seeded")
        XCTAssertLessThan(padding(bucketed) * 5, padding(plain), "bucketing should cut padding at least fivefold")
    }
}
