import XCTest
import Synapse

final class CharacterTokenizerTests: XCTestCase {
    func testVocabularyIsTheSortedScalarsAndRoundTrips() throws {
        let text = "ba\r\nab é"
        let tokenizer = CharacterTokenizer(fitting: text)
        // "\r\n" is one Character in Swift but two scalars, as in Python's sorted(set(text)).
        XCTAssertEqual(tokenizer.vocabulary, ["\n", "\r", " ", "a", "b", "é"])
        let ids = try tokenizer.encode(text)
        XCTAssertEqual(ids, [4, 3, 1, 0, 3, 4, 2, 5])
        XCTAssertEqual(tokenizer.decode(ids), text)
        XCTAssertEqual(try CharacterTokenizer(serialized: tokenizer.serialized), tokenizer)
    }

    func testUnknownCharacterIsNamed() {
        let tokenizer = CharacterTokenizer(fitting: "abc")
        XCTAssertThrowsError(try tokenizer.encode("abz")) { error in
            XCTAssertTrue("\(error)".contains("'z' (U+007A) at character 2"), "\(error)")
        }
        XCTAssertThrowsError(try tokenizer.encode("a\tb")) { error in
            XCTAssertTrue("\(error)".contains("U+0009"), "\(error)")
        }
    }

    func testInvalidUTF8NamesItsByteAndLine() throws {
        XCTAssertEqual(try UTF8Text.decode(Array("héllo\n".utf8), source: "x"), "héllo\n")
        let bytes: [UInt8] = Array("ab\ncd".utf8) + [0xE9] + Array("f".utf8)
        XCTAssertThrowsError(try UTF8Text.decode(bytes, source: "latin1.txt")) { error in
            XCTAssertTrue("\(error)".hasPrefix("latin1.txt: byte 5 (line 2) is 0xE9"), "\(error)")
        }
    }
}

final class TokenSamplerTests: XCTestCase {
    let logits: [Float] = [0.5, 2.0, -1.0, 1.5, 0.0]

    func testTemperatureZeroAndTopOneAreGreedy() throws {
        var greedy = try TokenSampler(temperature: 0)
        var topOne = try TokenSampler(temperature: 1.5, topK: 1, seed: 7)
        var tinyNucleus = try TokenSampler(temperature: 1, topP: 0.01, seed: 7)
        for _ in 0..<20 {
            XCTAssertEqual(greedy.sample(logits), 1)
            XCTAssertEqual(topOne.sample(logits), 1)
            XCTAssertEqual(tinyNucleus.sample(logits), 1)
        }
    }

    func testFrequenciesFollowTheFilteredSoftmax() throws {
        // top-k 3 keeps ids 1, 3, 0 (probabilities 0.55, 0.33, 0.12); top-p 0.8 then keeps ids 1 and 3.
        let kept: [Int: Double] = [1: exp(2.0), 3: exp(1.5), 0: exp(0.5)]
        let total = kept.values.reduce(0, +)
        var counts = [Int](repeating: 0, count: logits.count)
        var sampler = try TokenSampler(temperature: 1, topK: 3, seed: 1)
        let draws = 20_000
        for _ in 0..<draws { counts[sampler.sample(logits)] += 1 }
        XCTAssertEqual(counts[2] + counts[4], 0, "tokens outside the top 3 were drawn")
        for (id, weight) in kept {
            XCTAssertEqual(Double(counts[id]) / Double(draws), weight / total, accuracy: 0.015, "token \(id)")
        }
        var nucleus = try TokenSampler(temperature: 1, topK: 3, topP: 0.8, seed: 1)
        var seen = Set<Int>()
        for _ in 0..<2_000 { seen.insert(nucleus.sample(logits)) }
        XCTAssertEqual(seen, [1, 3])
    }

    func testSameSeedSameTokens() throws {
        var a = try TokenSampler(temperature: 0.8, topK: 4, topP: 0.95, seed: 42)
        var b = try TokenSampler(temperature: 0.8, topK: 4, topP: 0.95, seed: 42)
        var c = try TokenSampler(temperature: 0.8, topK: 4, topP: 0.95, seed: 43)
        let first = (0..<50).map { _ in a.sample(logits) }
        XCTAssertEqual(first, (0..<50).map { _ in b.sample(logits) })
        XCTAssertNotEqual(first, (0..<50).map { _ in c.sample(logits) })
    }

    func testBadSettingsAreErrors() {
        XCTAssertThrowsError(try TokenSampler(temperature: -1))
        XCTAssertThrowsError(try TokenSampler(topK: 0))
        XCTAssertThrowsError(try TokenSampler(topP: 1.5))
        XCTAssertThrowsError(try TokenSampler(topP: 0))
    }
}
