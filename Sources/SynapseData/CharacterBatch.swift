// The spellings of a batch's words, for models with character-level features.

import SynapseCore

/// The characters of every distinct word in a `SequenceBatch`, so a character-level encoder (a
/// CNN or BiLSTM over each word's spelling) runs once per distinct word rather than once per
/// token, and its outputs are looked up per token with `words`.
///
/// Each spelling is padded with `paddingIndex` to a common width that leaves at least two
/// padding positions after the longest one. A convolution of width up to 3 (padded by 1) then
/// sees the same padded context for a word in every batch, so its features do not depend on
/// which other words share the batch.
public struct CharacterBatch: Sendable {
    /// Character ids [W, L] of the batch's W distinct spellings, padded.
    public let characters: IndexTensor
    /// Each spelling's length in characters, 1 ≤ length ≤ L − 2.
    public let lengths: [Int]
    /// For each token position [N, T], the row of its spelling in `characters`; padding positions
    /// point at row 0.
    public let words: IndexTensor

    public init(characters: IndexTensor, lengths: [Int], words: IndexTensor) {
        require(characters.rank == 2 && characters.shape[0] == lengths.count && words.rank == 2,
                "CharacterBatch: characters must be [W, L] with W lengths and words [N, T], got \(characters.shape), "
                + "\(lengths.count) lengths and \(words.shape)")
        self.characters = characters
        self.lengths = lengths
        self.words = words
    }

    /// The batch of `spellings` (the character ids of each token of each sequence), padded to
    /// `steps` tokens per sequence. A spelling longer than `maximumLength` keeps its first
    /// `maximumLength` characters; an empty one becomes a single `paddingIndex`.
    public init(spellings: [[[Int]]], steps: Int, maximumLength: Int, paddingIndex: Int = 0) {
        require(maximumLength > 0, "CharacterBatch: maximumLength must be positive, got \(maximumLength)")
        var rows: [[Int]: Int] = [:]
        var distinct: [[Int]] = []
        var words = [Int](repeating: 0, count: spellings.count * steps)
        for (sequence, tokens) in spellings.enumerated() {
            require(tokens.count <= steps, "CharacterBatch: sequence \(sequence) has \(tokens.count) tokens, more than \(steps) steps")
            for (step, spelling) in tokens.enumerated() {
                var key = Array(spelling.prefix(maximumLength))
                if key.isEmpty { key = [paddingIndex] }
                let row: Int
                if let known = rows[key] {
                    row = known
                } else {
                    row = distinct.count
                    rows[key] = row
                    distinct.append(key)
                }
                words[sequence * steps + step] = row
            }
        }
        if distinct.isEmpty { distinct = [[paddingIndex]] }
        let width = (distinct.map(\.count).max() ?? 1) + 2
        var characters = [Int](repeating: paddingIndex, count: distinct.count * width)
        for (row, spelling) in distinct.enumerated() {
            for (column, character) in spelling.enumerated() { characters[row * width + column] = character }
        }
        self.init(characters: IndexTensor(characters, shape: [distinct.count, width]), lengths: distinct.map(\.count),
                  words: IndexTensor(words, shape: [spellings.count, steps]))
    }
}
