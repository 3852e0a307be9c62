// The tokenizer a language model reads and writes text with: characters or byte-level BPE.

import Synapse

/// Characters (as nanoGPT's `shakespeare_char`) or byte-level BPE pieces (as GPT-2), saved
/// with the model so that `synapse generate` rebuilds both from the checkpoint.
public enum LanguageModelTokenizer {
    case characters(CharacterTokenizer)
    case bytePairs(BPETokenizer)

    /// The checkpoint's "tokenizer" metadata: char or bpe.
    public var kindName: String {
        switch self {
        case .characters: "char"
        case .bytePairs: "bpe"
        }
    }

    public var count: Int {
        switch self {
        case .characters(let tokenizer): tokenizer.count
        case .bytePairs(let tokenizer): tokenizer.count
        }
    }

    /// The character tokenizer, if that is what this is.
    public var characters: CharacterTokenizer? {
        if case .characters(let tokenizer) = self { return tokenizer }
        return nil
    }

    /// The ids of `text`; a character tokenizer names a character outside its vocabulary.
    public func encode(_ text: String) throws -> [Int] {
        switch self {
        case .characters(let tokenizer): try tokenizer.encode(text)
        case .bytePairs(let tokenizer): tokenizer.encode(text)
        }
    }

    public func decode(_ ids: [Int]) -> String {
        switch self {
        case .characters(let tokenizer): tokenizer.decode(ids)
        case .bytePairs(let tokenizer): tokenizer.decode(ids)
        }
    }

    /// The UTF-8 bytes of one token. A BPE token may hold part of a character, so streamed
    /// output goes through `UTF8Stream` rather than decoding token by token.
    public func bytes(of id: Int) -> [UInt8] {
        switch self {
        case .characters(let tokenizer): Array(tokenizer.decode([id]).utf8)
        case .bytePairs(let tokenizer): tokenizer.tokenBytes[id]
        }
    }

    /// The vocabulary as checkpoint metadata text.
    public var serialized: String {
        switch self {
        case .characters(let tokenizer): tokenizer.serialized
        case .bytePairs(let tokenizer): tokenizer.huggingFaceJSON
        }
    }

    /// Rebuilds a tokenizer from its metadata; `source` names the file in errors.
    public init(kindName: String, serialized: String, source: String) throws {
        switch kindName {
        case "char": self = .characters(try CharacterTokenizer(serialized: serialized))
        case "bpe": self = .bytePairs(try BPETokenizer(huggingFaceJSON: serialized, source: source))
        default: throw ModelError("\(source): unknown tokenizer \"\(kindName)\" (expected char or bpe)")
        }
    }
}

/// Bytes in, text out, never splitting a character: `append` returns the text that the bytes so
/// far complete, and holds back the start of a character whose last bytes have not come yet.
public struct UTF8Stream {
    private var pending: [UInt8] = []

    public init() {}

    public mutating func append(_ bytes: [UInt8]) -> String {
        pending += bytes
        // A UTF-8 character is at most 4 bytes: hold back an unfinished one at the end.
        var end = pending.count
        for back in 1...min(3, pending.count) {
            let byte = pending[pending.count - back]
            guard byte & 0xC0 == 0x80 || byte & 0xC0 == 0xC0 else { break }
            if byte & 0xC0 == 0xC0 {
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                if length > back { end = pending.count - back }
                break
            }
        }
        let text = String(decoding: pending[..<end], as: UTF8.self)
        pending.removeFirst(end)
        return text
    }

    /// Whatever is still held back, decoded (an unfinished character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }
}
