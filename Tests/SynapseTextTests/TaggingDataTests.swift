import XCTest
import SynapseCore
import SynapseData
import SynapseText

/// Raw-text word splitting and the spellings batches carry for character features.
final class TaggingDataTests: XCTestCase {
    func testTreebankWordsSplitsPunctuationAndCliticsAsUDEnglish() {
        XCTAssertEqual(TreebankWords.split("I don't like it."), ["I", "do", "n't", "like", "it", "."])
        XCTAssertEqual(TreebankWords.split("We can't, won't (really!) go"), ["We", "ca", "n't", ",", "wo", "n't", "(", "really", "!", ")", "go"])
        XCTAssertEqual(TreebankWords.split("Mr. Smith’s U.S. trip, e.g. J. Doe's."), ["Mr.", "Smith", "’s", "U.S.", "trip", ",", "e.g.", "J.", "Doe", "'s", "."])
        XCTAssertEqual(TreebankWords.split("they're \"fine\" - 3.5 km"), ["they", "'re", "\"", "fine", "\"", "-", "3.5", "km"])
        XCTAssertEqual(TreebankWords.split("  \n "), [])
    }

    func testCharacterBatchKeepsOneRowPerDistinctSpellingWithTwoPaddingColumns() {
        let batch = CharacterBatch(spellings: [[[5, 6], [7]], [[5, 6, 8, 9, 9], [5, 6], []]], steps: 3, maximumLength: 4)
        XCTAssertEqual(batch.lengths, [2, 1, 4, 1])
        XCTAssertEqual(batch.characters.shape, [4, 6])
        XCTAssertEqual(Array(batch.characters.scalars[12..<18]), [5, 6, 8, 9, 0, 0], "truncated to 4 characters, then padded")
        XCTAssertEqual(Array(batch.characters.scalars[18..<24]), [0, 0, 0, 0, 0, 0], "an empty spelling is one padding character")
        XCTAssertEqual(batch.words.scalars, [0, 1, 0, 2, 0, 3], "repeated spellings share a row; padding points at row 0")
    }

    func testSequenceDatasetBatchesCarrySpellingsAlignedWithTokens() {
        let data = SequenceDataset(sequences: [[2, 3], [4]], targets: .perToken([[0, 1], [1]]), spellings: [[[1], [2, 3]], [[2, 3]]])
        let batch = data.batch([1, 0])
        XCTAssertEqual(batch.tokens.scalars, [4, 0, 2, 3])
        XCTAssertEqual(batch.characters?.words.scalars, [0, 0, 1, 0])
        XCTAssertEqual(batch.characters?.lengths, [2, 1])
        XCTAssertNil(SequenceDataset(sequences: [[2]], targets: .perSequence([0])).batch([0]).characters)
    }
}
