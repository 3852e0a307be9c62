// GPT-2's pre-tokenization, hand-compiled from its regular expression.

/// Splits text into GPT-2's pre-tokens, the pieces BPE merges within and never across.
///
/// The pieces are those of GPT-2's pattern (also Hugging Face's `ByteLevel(use_regex: true)`):
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// so a word keeps the one space before it ("Hello", " world"), a run of digits or of
/// punctuation is one piece, and in a run of whitespace before a word all but the last
/// character form a piece. It is a hand-written scanner over UTF-8 rather than a regex
/// engine: ASCII is classified with a few comparisons and other scalars by their Unicode
/// general category (`\p{L}`, `\p{N}`) and White_Space property (`\s`).
enum GPT2PreTokenizer {
    enum ScalarClass { case letter, number, space, other }

    /// Appends to `ends` the end offset of each piece of `bytes` (valid UTF-8); the pieces
    /// cover the input, so each starts where the previous ends.
    static func split(_ bytes: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var start = 0
        while start < count {
            let end = pieceEnd(base, start, count)
            ends.append(end)
            start = end
        }
    }

    /// Calls `body` with the bytes of each piece of `text`.
    static func forEachPiece(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var text = text
        var ends: [Int] = []
        text.withUTF8 { bytes in
            split(bytes, into: &ends)
            var start = 0
            for end in ends {
                body(UnsafeBufferPointer(rebasing: bytes[start..<end]))
                start = end
            }
        }
    }

    @inline(__always)
    private static func pieceEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ count: Int) -> Int {
        let first = p[start]
        if first == UInt8(ascii: "'") && start + 1 < count {
            switch p[start + 1] {
            case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return start + 2
            case UInt8(ascii: "r"), UInt8(ascii: "v"):
                if start + 2 < count && p[start + 2] == UInt8(ascii: "e") { return start + 3 }
            case UInt8(ascii: "l"):
                if start + 2 < count && p[start + 2] == UInt8(ascii: "l") { return start + 3 }
            default: break
            }
        }
        var (kind, length) = classify(p, start)
        var position = start
        if first == UInt8(ascii: " ") && start + 1 < count {
            let (next, nextLength) = classify(p, start + 1)
            if next != .space {
                kind = next
                position = start + 1
                length = nextLength
            }
        }
        if kind != .space {
            // One class, run to its end.
            position += length
            while position < count {
                let (next, nextLength) = classify(p, position)
                if next != kind { break }
                position += nextLength
            }
            return position
        }
        // Whitespace: all of it at the end of the text, else all but its last scalar when a
        // piece follows, and a single whitespace scalar alone.
        var lastStart = position, scalars = 0
        while position < count {
            let (next, nextLength) = classify(p, position)
            if next != .space { break }
            lastStart = position
            position += nextLength
            scalars += 1
        }
        return position == count || scalars == 1 ? position : lastStart
    }

    @inline(__always)
    static func classify(_ p: UnsafePointer<UInt8>, _ offset: Int) -> (ScalarClass, Int) {
        let byte = p[offset]
        if byte < 0x80 {
            let folded = byte | 0x20
            if folded >= UInt8(ascii: "a") && folded <= UInt8(ascii: "z") { return (.letter, 1) }
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { return (.number, 1) }
            if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) { return (.space, 1) }
            return (.other, 1)
        }
        return classifyMultibyte(p, offset)
    }

    private static func classifyMultibyte(_ p: UnsafePointer<UInt8>, _ offset: Int) -> (ScalarClass, Int) {
        let byte = p[offset]
        let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
        var value = UInt32(byte) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for index in 1..<length { value = value << 6 | (UInt32(p[offset + index]) & 0x3F) }
        guard let scalar = Unicode.Scalar(value) else { return (.other, length) }
        return (classify(scalar), length)
    }

    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .space }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }
}
