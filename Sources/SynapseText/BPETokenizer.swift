// Byte-level byte-pair encoding: GPT-2's tokenizer.

import Foundation

/// A byte-level BPE tokenizer, as GPT-2, minbpe and Hugging Face's `ByteLevel` BPE: text is
/// UTF-8 bytes, split into GPT-2's pre-tokens, and within each pre-token adjacent tokens are
/// merged by the lowest-ranked learned merge until none applies. Every byte is a token of its
/// own, so any text encodes, and `decode(encode(text)) == text` for every string.
///
/// ```swift
/// let tokenizer = try BPETokenizer.train(on: [text], vocabularySize: 1024, specialTokens: ["<|endoftext|>"])
/// let ids = tokenizer.encode("To be, or not to be")
/// tokenizer.decode(ids)                  // "To be, or not to be"
/// try tokenizer.write(huggingFace: "tokenizer.json")
/// let gpt2 = try BPETokenizer(huggingFace: "tokenizer.json")
/// ```
///
/// Special tokens (such as `<|endoftext|>`) are matched in the text before pre-tokenization
/// and become their own id, as Hugging Face's added tokens do.
public struct BPETokenizer: Sendable {
    /// One learned merge: the ids of the two tokens it joins, and the id of the result.
    public struct Merge: Sendable, Equatable {
        public let left: Int
        public let right: Int
        public let result: Int
    }

    /// Each token's bytes, by id (a special token's are its text).
    public let tokenBytes: [[UInt8]]
    /// The merges, highest priority (rank 0) first.
    public let merges: [Merge]
    /// The special tokens and their ids, longest first.
    public let specialTokens: [(text: String, id: Int)]
    /// Whether a space is put before text that does not start with one (Hugging Face's
    /// `add_prefix_space`; RoBERTa-style tokenizers set it, GPT-2's does not).
    public let addsPrefixSpace: Bool
    /// Whether text is split into GPT-2's pre-tokens first (`use_regex`; almost always true).
    public let splitsPreTokens: Bool
    /// Whether a pre-token that is itself in the vocabulary becomes that token without merging
    /// (Hugging Face's `ignore_merges`, which Llama 3's tokenizer sets).
    public let ignoresMerges: Bool
    /// The bytes with no token of their own, dropped when they occur in text, as Hugging Face
    /// drops characters outside a vocabulary without an unknown token. Empty for tokenizers
    /// Synapse trains and for GPT-2's.
    public let missingBytes: [UInt8]

    /// The id of each byte's single-byte token, -1 for a missing byte.
    let byteIDs: [Int32]
    /// Pair of ids → rank << 32 | merged id.
    let mergeTable: PairTable
    /// Token bytes → id, for `ignoresMerges` and lookups by text.
    let vocabularyTable: ByteStringTable
    let vocabularyIDs: [Int32]
    private let specialIDs: Set<Int>

    /// A tokenizer over `tokenBytes` and `merges` (each merge's result must spell its two
    /// parts' bytes together).
    public init(tokenBytes: [[UInt8]], merges: [(left: Int, right: Int)], specialTokens: [(text: String, id: Int)] = [],
                addsPrefixSpace: Bool = false, splitsPreTokens: Bool = true, ignoresMerges: Bool = false) throws {
        let specialIDs = Set(specialTokens.map(\.id))
        var table = ByteStringTable(capacity: tokenBytes.count)
        var tableIDs: [Int32] = []
        for (id, bytes) in tokenBytes.enumerated() where !specialIDs.contains(id) {
            if table.insert(bytes).inserted { tableIDs.append(Int32(id)) }
        }
        var byteIDs = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            if let index = table.index(of: [UInt8(byte)]) { byteIDs[byte] = tableIDs[index] }
        }
        var mergeTable = PairTable(capacity: merges.count)
        var resolved: [Merge] = []
        resolved.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            for part in [merge.left, merge.right] where !(0..<tokenBytes.count).contains(part) {
                throw TextError("BPE merge \(rank) names token id \(part), but the vocabulary has \(tokenBytes.count) tokens")
            }
            let joined = tokenBytes[merge.left] + tokenBytes[merge.right]
            guard let index = table.index(of: joined) else {
                throw TextError("BPE merge \(rank) (\(Self.describe(tokenBytes[merge.left])) + \(Self.describe(tokenBytes[merge.right])))"
                                + " makes \(Self.describe(joined)), which is not in the vocabulary")
            }
            let result = tableIDs[index]
            // A repeated pair keeps its first (higher-priority) rank, as Hugging Face's map does.
            mergeTable.insert(Int32(merge.left), Int32(merge.right), value: UInt64(rank) << 32 | UInt64(UInt32(result)))
            resolved.append(Merge(left: merge.left, right: merge.right, result: Int(result)))
        }
        for special in specialTokens where special.text.isEmpty || !(0..<tokenBytes.count).contains(special.id) {
            throw TextError("special token \"\(special.text)\" with id \(special.id) is empty or outside the \(tokenBytes.count) tokens")
        }
        self.tokenBytes = tokenBytes
        self.merges = resolved
        self.specialTokens = specialTokens.sorted { $0.text.utf8.count > $1.text.utf8.count }
        self.addsPrefixSpace = addsPrefixSpace
        self.splitsPreTokens = splitsPreTokens
        self.ignoresMerges = ignoresMerges
        self.byteIDs = byteIDs
        self.missingBytes = (0..<256).filter { byteIDs[$0] < 0 }.map(UInt8.init)
        self.mergeTable = mergeTable
        self.vocabularyTable = table
        self.vocabularyIDs = tableIDs
        self.specialIDs = specialIDs
    }

    /// The number of tokens.
    public var count: Int { tokenBytes.count }

    /// The id of the token whose bytes are `text`'s UTF-8, or of the special token `text`.
    public func id(of text: String) -> Int? {
        if let special = specialTokens.first(where: { $0.text == text }) { return special.id }
        return vocabularyTable.index(of: Array(text.utf8)).map { Int(vocabularyIDs[$0]) }
    }

    /// Whether `id` is a special token.
    public func isSpecial(_ id: Int) -> Bool { specialIDs.contains(id) }

    /// The ids of `text`.
    public func encode(_ text: String) -> [Int] {
        var text = text
        var encoder = Encoder(self)
        text.withUTF8 { encoder.encode($0) }
        return encoder.ids
    }

    /// The text of `ids`: their bytes decoded as UTF-8, with any invalid sequence (ids that cut
    /// a character in two) replaced by U+FFFD, as Hugging Face's byte-level decoder does.
    public func decode(_ ids: [Int], skippingSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            precondition(id >= 0 && id < count, "BPETokenizer.decode: id \(id) is not in 0..<\(count)")
            if skippingSpecialTokens && specialIDs.contains(id) { continue }
            bytes.append(contentsOf: tokenBytes[id])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A token's bytes for messages: its text when printable, else hexadecimal.
    static func describe(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self), !text.unicodeScalars.contains(where: { $0.value < 0x21 }) {
            return "\"\(text)\""
        }
        return "<" + bytes.map { String(format: "%02X", $0) }.joined(separator: " ") + ">"
    }
}

/// One call's encoding state: the output, scratch buffers, and a cache of the pre-tokens seen
/// so far (text repeats its words, so most pre-tokens are a lookup and a copy).
private struct Encoder {
    let tokenizer: BPETokenizer
    var ids: [Int] = []
    private var ends: [Int] = []
    private var cache = ByteStringTable(capacity: 4096)
    private var cachedIDs: [Int32] = []
    private var cachedStarts: [Int] = [0]
    private var symbols: [Int32] = []
    private var pairs: [UInt64] = []
    private var firstBytes = [Bool](repeating: false, count: 256)

    /// Longer pre-tokens are merged with a heap; shorter ones by scanning, which is faster
    /// when there are few pairs.
    static let scanLimit = 128
    /// Pre-tokens longer than this are not cached, so a pathological input cannot fill memory
    /// with copies of itself.
    static let cachedLengthLimit = 256

    init(_ tokenizer: BPETokenizer) {
        self.tokenizer = tokenizer
        for special in tokenizer.specialTokens { firstBytes[Int(special.text.utf8.first!)] = true }
    }

    mutating func encode(_ text: UnsafeBufferPointer<UInt8>) {
        ids.reserveCapacity(text.count / 3)
        guard !tokenizer.specialTokens.isEmpty else { return encodeOrdinary(text) }
        var segmentStart = 0, position = 0
        while position < text.count {
            if firstBytes[Int(text[position])], let special = specialToken(in: text, at: position) {
                encodeOrdinary(UnsafeBufferPointer(rebasing: text[segmentStart..<position]))
                ids.append(special.id)
                position += special.length
                segmentStart = position
            } else {
                position += 1
            }
        }
        encodeOrdinary(UnsafeBufferPointer(rebasing: text[segmentStart..<text.count]))
    }

    private func specialToken(in text: UnsafeBufferPointer<UInt8>, at position: Int) -> (id: Int, length: Int)? {
        for special in tokenizer.specialTokens {
            let length = special.text.utf8.count
            guard position + length <= text.count else { continue }
            let matches = special.text.utf8.withContiguousStorageIfAvailable { token in
                memcmp(text.baseAddress! + position, token.baseAddress!, length) == 0
            } ?? special.text.utf8.elementsEqual(text[position..<position + length])
            if matches { return (special.id, length) }
        }
        return nil
    }

    private mutating func encodeOrdinary(_ text: UnsafeBufferPointer<UInt8>) {
        guard !text.isEmpty else { return }
        if tokenizer.addsPrefixSpace && text[0] != UInt8(ascii: " ") {
            var spaced = [UInt8(ascii: " ")] + Array(text)
            spaced.withUnsafeMutableBufferPointer { encodePieces(UnsafeBufferPointer($0)) }
        } else {
            encodePieces(text)
        }
    }

    private mutating func encodePieces(_ text: UnsafeBufferPointer<UInt8>) {
        ends.removeAll(keepingCapacity: true)
        if tokenizer.splitsPreTokens {
            GPT2PreTokenizer.split(text, into: &ends)
        } else {
            ends.append(text.count)
        }
        var start = 0
        for end in ends {
            encodePiece(UnsafeBufferPointer(rebasing: text[start..<end]))
            start = end
        }
    }

    private mutating func encodePiece(_ piece: UnsafeBufferPointer<UInt8>) {
        if piece.count == 1 {
            let id = tokenizer.byteIDs[Int(piece[0])]
            if id >= 0 { ids.append(Int(id)) }
            return
        }
        let cacheable = piece.count <= Self.cachedLengthLimit
        if cacheable {
            let (index, inserted) = cache.insert(piece)
            if !inserted {
                for k in cachedStarts[index]..<cachedStarts[index + 1] { ids.append(Int(cachedIDs[k])) }
                return
            }
        }
        let first = ids.count
        if tokenizer.ignoresMerges, let index = tokenizer.vocabularyTable.index(of: piece) {
            ids.append(Int(tokenizer.vocabularyIDs[index]))
        } else {
            merge(piece)
        }
        if cacheable {
            for k in first..<ids.count { cachedIDs.append(Int32(ids[k])) }
            cachedStarts.append(cachedIDs.count)
        }
    }

    /// Applies the merges to one pre-token, lowest rank first and leftmost among equal ranks.
    private mutating func merge(_ piece: UnsafeBufferPointer<UInt8>) {
        symbols.removeAll(keepingCapacity: true)
        for byte in piece {
            let id = tokenizer.byteIDs[Int(byte)]
            if id >= 0 { symbols.append(id) }
        }
        if symbols.count > Self.scanLimit {
            symbols = BPEHeapMerge.merge(symbols, table: tokenizer.mergeTable)
        } else {
            scanMerge()
        }
        for symbol in symbols { ids.append(Int(symbol)) }
    }

    /// Keeps each adjacent pair's rank << 32 | result; a merge rescans for the minimum and
    /// updates only the two pairs around it.
    private mutating func scanMerge() {
        var count = symbols.count
        guard count >= 2 else { return }
        let table = tokenizer.mergeTable
        pairs.removeAll(keepingCapacity: true)
        for k in 0..<count - 1 { pairs.append(table.value(symbols[k], symbols[k + 1]) ?? .max) }
        symbols.withUnsafeMutableBufferPointer { symbols in
            pairs.withUnsafeMutableBufferPointer { pairs in
                while count >= 2 {
                    var best = UInt64.max, position = -1
                    for k in 0..<count - 1 where pairs[k] < best {
                        best = pairs[k]
                        position = k
                    }
                    if position < 0 { break }
                    symbols[position] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
                    for k in position + 1..<count - 1 { symbols[k] = symbols[k + 1] }
                    for k in position..<max(position, count - 2) { pairs[k] = pairs[k + 1] }
                    count -= 1
                    if position > 0 { pairs[position - 1] = table.value(symbols[position - 1], symbols[position]) ?? .max }
                    if position < count - 1 { pairs[position] = table.value(symbols[position], symbols[position + 1]) ?? .max }
                }
            }
        }
        symbols.removeLast(symbols.count - count)
    }
}

/// Merging a long pre-token in O(n log n): the symbols form a linked list, and a min-heap of
/// rank << 32 | position gives the next merge; entries made stale by an earlier merge are
/// recognised by their pair no longer having that rank.
enum BPEHeapMerge {
    static func merge(_ input: [Int32], table: PairTable) -> [Int32] {
        var symbols = input
        let count = symbols.count
        var next = Array(1...count), previous = Array(-1..<count - 1)
        var alive = [Bool](repeating: true, count: count)
        var heap = MinHeap()
        func rank(_ position: Int) -> UInt64? {
            guard next[position] < count, let value = table.value(symbols[position], symbols[next[position]]) else { return nil }
            return value >> 32
        }
        for position in 0..<count - 1 {
            if let rank = rank(position) { heap.push(rank << 32 | UInt64(position)) }
        }
        while let top = heap.pop() {
            let position = Int(top & 0xFFFF_FFFF), wanted = top >> 32
            guard alive[position], rank(position) == wanted else { continue }
            let right = next[position]
            let value = table.value(symbols[position], symbols[right])!
            symbols[position] = Int32(truncatingIfNeeded: value & 0xFFFF_FFFF)
            alive[right] = false
            next[position] = next[right]
            if next[right] < count { previous[next[right]] = position }
            if previous[position] >= 0, let rank = rank(previous[position]) {
                heap.push(rank << 32 | UInt64(previous[position]))
            }
            if let rank = rank(position) { heap.push(rank << 32 | UInt64(position)) }
        }
        var result: [Int32] = []
        var position = 0
        while position < count {
            result.append(symbols[position])
            position = next[position]
        }
        return result
    }

    struct MinHeap {
        private var items: [UInt64] = []

        mutating func push(_ item: UInt64) {
            items.append(item)
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                if items[parent] <= items[child] { break }
                items.swapAt(parent, child)
                child = parent
            }
        }

        mutating func pop() -> UInt64? {
            guard let top = items.first else { return nil }
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var parent = 0
                while true {
                    let left = 2 * parent + 1, right = left + 1
                    var smallest = parent
                    if left < items.count && items[left] < items[smallest] { smallest = left }
                    if right < items.count && items[right] < items[smallest] { smallest = right }
                    if smallest == parent { break }
                    items.swapAt(parent, smallest)
                    parent = smallest
                }
            }
            return top
        }
    }
}
