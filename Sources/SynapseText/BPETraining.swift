// Learning byte-level BPE merges from text.

import Foundation

extension BPETokenizer {
    /// Learns merges from `texts` until the vocabulary has `vocabularySize` tokens (special
    /// tokens, the 256 bytes and one token per merge), or no pair occurs `minimumFrequency`
    /// times.
    ///
    /// The algorithm is Hugging Face's `BpeTrainer` with `ByteLevel.alphabet()` as the initial
    /// alphabet, and gives the same merges: ids are the special tokens, then the bytes in
    /// `ByteLevel.bytesInScalarOrder`, then the merges in order; each step merges the most
    /// frequent adjacent pair within pre-tokens, ties going to the pair of lower ids. Pair
    /// counts are kept up to date incrementally, so each merge touches only the words that
    /// contain its pair.
    ///
    /// - Parameter progress: called after each merge with the number done and the number
    ///   wanted, for a progress bar.
    public static func train(on texts: [String], vocabularySize: Int, minimumFrequency: Int = 0,
                             specialTokens: [String] = [], progress: ((Int, Int) -> Void)? = nil) throws -> BPETokenizer {
        let base = specialTokens.count + 256
        guard vocabularySize >= base else {
            throw TextError("the vocabulary size must be at least \(base) (256 bytes and \(specialTokens.count) special tokens), got \(vocabularySize)")
        }
        guard Set(specialTokens).count == specialTokens.count, !specialTokens.contains("") else {
            throw TextError("special tokens must be distinct and non-empty: \(specialTokens)")
        }
        var tokenBytes = specialTokens.map { Array($0.utf8) }
        tokenBytes += ByteLevel.bytesInScalarOrder.map { [$0] }
        let specials = specialTokens.enumerated().map { (text: $1, id: $0) }
        // Word counts over GPT-2's pre-tokens. As in Hugging Face's trainer, special tokens in
        // the training text are not split out: their pieces count as ordinary words.
        var words = ByteStringTable(capacity: 1 << 14)
        var wordCounts: [Int] = []
        for text in texts {
            GPT2PreTokenizer.forEachPiece(of: text) { piece in
                let (index, inserted) = words.insert(piece)
                if inserted { wordCounts.append(0) }
                wordCounts[index] += 1
            }
        }
        var byteIDs = [Int32](repeating: 0, count: 256)
        for (rank, byte) in ByteLevel.bytesInScalarOrder.enumerated() { byteIDs[Int(byte)] = Int32(specials.count + rank) }
        var state = MergeState(words: words, counts: wordCounts, byteIDs: byteIDs)
        var merges: [(left: Int, right: Int)] = []
        // Every learned token's bytes, with its id. Special tokens are left out, so a merge that
        // happens to spell one still gets a token of its own.
        var known = ByteStringTable(capacity: vocabularySize)
        var knownIDs: [Int] = []
        for id in specials.count..<tokenBytes.count {
            _ = known.insert(tokenBytes[id])
            knownIDs.append(id)
        }
        let wanted = vocabularySize - base
        while tokenBytes.count < vocabularySize, let (left, right) = state.best(minimumFrequency: max(1, minimumFrequency)) {
            let joined = tokenBytes[Int(left)] + tokenBytes[Int(right)]
            let (index, inserted) = known.insert(joined)
            // A string reachable by two different merges keeps its first id, as in Hugging Face.
            if inserted {
                knownIDs.append(tokenBytes.count)
                tokenBytes.append(joined)
            }
            let result = knownIDs[index]
            state.apply(left, right, result: Int32(result))
            merges.append((Int(left), Int(right)))
            progress?(merges.count, wanted)
        }
        return try BPETokenizer(tokenBytes: tokenBytes, merges: merges, specialTokens: specials)
    }
}

/// The trainer's words and pair statistics: each distinct pre-token as a run of symbols with
/// its count, each pair's total count over all words, the words it occurs in, and a max-heap
/// of (count, pair) entries that are corrected lazily when popped.
private struct MergeState {
    var symbols: [Int32] = []
    var starts: [Int] = []
    var lengths: [Int] = []
    let counts: [Int]
    var pairSlots = PairTable(capacity: 1 << 16)
    var pairKeys: [UInt64] = []
    var pairCounts: [Int] = []
    var pairWords: [[Int32]] = []
    var heap = PairHeap()
    var touched: [Int] = []
    var touchedMark: [Bool] = []

    init(words: ByteStringTable, counts: [Int], byteIDs: [Int32]) {
        self.counts = counts
        for index in 0..<words.count {
            starts.append(symbols.count)
            let key = words.key(index)
            for byte in key { symbols.append(byteIDs[Int(byte)]) }
            lengths.append(key.count)
            let start = starts[index]
            for k in start..<start + key.count - 1 { add(symbols[k], symbols[k + 1], change: counts[index], word: index) }
        }
        for slot in pairKeys.indices where pairCounts[slot] > 0 { heap.push(count: pairCounts[slot], key: pairKeys[slot]) }
        touched.removeAll()
        for slot in touchedMark.indices { touchedMark[slot] = false }
    }

    /// Adds `change` occurrences-weighted-by-count to a pair; a positive change records `word`.
    private mutating func add(_ left: Int32, _ right: Int32, change: Int, word: Int) {
        let slot: Int
        if let existing = pairSlots.value(left, right) {
            slot = Int(existing)
        } else {
            slot = pairKeys.count
            pairSlots.insert(left, right, value: UInt64(slot))
            pairKeys.append(PairTable.key(left, right))
            pairCounts.append(0)
            pairWords.append([])
            touchedMark.append(false)
        }
        pairCounts[slot] += change
        if change > 0 {
            if pairWords[slot].last != Int32(word) { pairWords[slot].append(Int32(word)) }
            if !touchedMark[slot] {
                touchedMark[slot] = true
                touched.append(slot)
            }
        }
    }

    /// The most frequent pair with at least `minimumFrequency` occurrences.
    mutating func best(minimumFrequency: Int) -> (Int32, Int32)? {
        while let top = heap.pop() {
            let slot = Int(pairSlots.value(Int32(truncatingIfNeeded: top.key >> 32), Int32(truncatingIfNeeded: top.key & 0xFFFF_FFFF))!)
            let current = pairCounts[slot]
            if current != top.count {
                if current > 0 { heap.push(count: current, key: top.key) }
                continue
            }
            guard current >= minimumFrequency else { return nil }
            return (Int32(truncatingIfNeeded: top.key >> 32), Int32(truncatingIfNeeded: top.key & 0xFFFF_FFFF))
        }
        return nil
    }

    /// Replaces every `left right` in the words that hold it by `result`, updating the counts.
    mutating func apply(_ left: Int32, _ right: Int32, result: Int32) {
        let slot = Int(pairSlots.value(left, right)!)
        let words = pairWords[slot]
        pairWords[slot] = []
        for word32 in words {
            let word = Int(word32)
            let start = starts[word], length = lengths[word], weight = counts[word]
            var read = start, write = start
            let end = start + length
            while read < end {
                if read + 1 < end && symbols[read] == left && symbols[read + 1] == right {
                    if write > start {
                        add(symbols[write - 1], left, change: -weight, word: word)
                        add(symbols[write - 1], result, change: weight, word: word)
                    }
                    if read + 2 < end {
                        add(right, symbols[read + 2], change: -weight, word: word)
                        add(result, symbols[read + 2], change: weight, word: word)
                    }
                    symbols[write] = result
                    read += 2
                } else {
                    symbols[write] = symbols[read]
                    read += 1
                }
                write += 1
            }
            lengths[word] = write - start
        }
        pairCounts[slot] = 0
        for touchedSlot in touched {
            touchedMark[touchedSlot] = false
            if pairCounts[touchedSlot] > 0 { heap.push(count: pairCounts[touchedSlot], key: pairKeys[touchedSlot]) }
        }
        touched.removeAll(keepingCapacity: true)
    }
}

/// A binary max-heap of (count, pair) with ties going to the lower pair, Hugging Face's order.
private struct PairHeap {
    private var counts: [Int] = []
    private var keys: [UInt64] = []

    private func above(_ a: Int, _ b: Int) -> Bool {
        counts[a] > counts[b] || (counts[a] == counts[b] && keys[a] < keys[b])
    }

    private mutating func swap(_ a: Int, _ b: Int) {
        counts.swapAt(a, b)
        keys.swapAt(a, b)
    }

    mutating func push(count: Int, key: UInt64) {
        counts.append(count)
        keys.append(key)
        var child = counts.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard above(child, parent) else { break }
            swap(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (count: Int, key: UInt64)? {
        guard !counts.isEmpty else { return nil }
        let top = (counts[0], keys[0])
        swap(0, counts.count - 1)
        counts.removeLast()
        keys.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < counts.count && above(left, best) { best = left }
            if right < counts.count && above(right, best) { best = right }
            if best == parent { break }
            swap(parent, best)
            parent = best
        }
        return top
    }
}
