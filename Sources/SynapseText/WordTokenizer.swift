// Word-level tokenization with a counted vocabulary.

import Foundation

/// Splits text into words and punctuation and maps them to ids in a vocabulary built from
/// training text, with `<pad>` as id 0 and `<unk>` (any word outside the vocabulary) as id 1.
///
/// A word is a run of letters, digits and combining marks ("naïve", "l'", "2014" are split as
/// "naïve", "l", "'", "2014"); every other visible character is a token of its own; whitespace
/// separates and is dropped. This is the Unicode form of the split the PyTorch anchor uses for
/// sentiment, `[a-z0-9]+|[^\sa-z0-9]` after lowercasing.
///
/// ```swift
/// let tokenizer = WordTokenizer(fitting: sentences, minimumFrequency: 1, maximumSize: 20_000)
/// tokenizer.encode("Not bad at all!")   // [ids…], unknown words as 1
/// ```
public struct WordTokenizer: Sendable, Equatable {
    public static let padding = "<pad>"
    public static let unknown = "<unk>"
    /// The id of `<pad>`, which sequences are padded with.
    public static let paddingID = 0
    /// The id of `<unk>`, which every word outside the vocabulary becomes.
    public static let unknownID = 1

    /// The tokens in id order, starting with `<pad>` and `<unk>`.
    public let vocabulary: [String]
    /// Whether text is lowercased before splitting.
    public let lowercases: Bool
    private let ids: [String: Int]

    /// A tokenizer over `vocabulary`, which must start with `<pad>`, `<unk>` and hold distinct words.
    public init(vocabulary: [String], lowercases: Bool = true) throws {
        guard vocabulary.count >= 2, vocabulary[0] == Self.padding, vocabulary[1] == Self.unknown else {
            throw TextError("a word vocabulary starts with \(Self.padding) and \(Self.unknown)")
        }
        var ids: [String: Int] = [:]
        for (id, word) in vocabulary.enumerated() {
            guard ids.updateValue(id, forKey: word) == nil else { throw TextError("\"\(word)\" appears twice in the word vocabulary") }
        }
        self.vocabulary = vocabulary
        self.lowercases = lowercases
        self.ids = ids
    }

    /// The vocabulary of `texts`: words occurring at least `minimumFrequency` times, most
    /// frequent first (ties in code-point order), at most `maximumSize` entries in all.
    public init(fitting texts: [String], minimumFrequency: Int = 1, maximumSize: Int? = nil, lowercases: Bool = true) {
        var counts: [String: Int] = [:]
        for text in texts {
            for word in Self.words(in: text, lowercasing: lowercases) { counts[word, default: 0] += 1 }
        }
        var words = counts.filter { $0.value >= minimumFrequency && $0.key != Self.padding && $0.key != Self.unknown }
            .sorted { $0.value > $1.value || ($0.value == $1.value && $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars)) }
            .map(\.key)
        if let maximumSize { words = Array(words.prefix(max(0, maximumSize - 2))) }
        try! self.init(vocabulary: [Self.padding, Self.unknown] + words, lowercases: lowercases)
    }

    /// This vocabulary followed by those of `words` it lacks, in their order (to give words
    /// that pretrained vectors know but training never saw ids of their own).
    public func adding(_ words: some Sequence<String>) -> WordTokenizer {
        var vocabulary = vocabulary, known = Set(vocabulary)
        for word in words where known.insert(word).inserted { vocabulary.append(word) }
        return try! WordTokenizer(vocabulary: vocabulary, lowercases: lowercases)
    }

    /// The number of tokens, `<pad>` and `<unk>` included.
    public var count: Int { vocabulary.count }

    /// The id of `word` (already split and lowercased), if it is in the vocabulary.
    public func id(of word: String) -> Int? { ids[word] }

    /// The ids of `text`'s words; unknown words are `unknownID`.
    public func encode(_ text: String) -> [Int] {
        Self.words(in: text, lowercasing: lowercases).map { ids[$0] ?? Self.unknownID }
    }

    /// The words of `ids`, separated by spaces.
    public func decode(_ tokens: [Int]) -> String {
        tokens.map { token in
            precondition(token >= 0 && token < count, "WordTokenizer.decode: id \(token) is not in 0..<\(count)")
            return vocabulary[token]
        }.joined(separator: " ")
    }

    /// `text` split into words and punctuation, as `encode` splits it.
    public static func words(in text: String, lowercasing: Bool = true) -> [String] {
        let source = lowercasing ? text.lowercased() : text
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in source.unicodeScalars {
            switch kind(of: scalar) {
            case .word:
                current.append(scalar)
            case .space:
                if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
            case .symbol:
                if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
                words.append(String(scalar))
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    private enum Kind { case word, space, symbol }

    private static func kind(of scalar: Unicode.Scalar) -> Kind {
        if scalar.isASCII {
            let value = scalar.value
            if (0x61...0x7A).contains(value) || (0x41...0x5A).contains(value) || (0x30...0x39).contains(value) { return .word }
            return value <= 0x20 || value == 0x7F ? .space : .symbol
        }
        let properties = scalar.properties
        if properties.isWhitespace || properties.generalCategory == .control || properties.generalCategory == .format { return .space }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark:
            return .word
        default:
            return .symbol
        }
    }

    /// The tokenizer as JSON, for checkpoint metadata.
    public var serialized: String {
        let data = try! JSONSerialization.data(withJSONObject: ["lowercase": lowercases, "vocabulary": vocabulary])
        return String(decoding: data, as: UTF8.self)
    }

    /// The tokenizer `serialized` describes.
    public init(serialized: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(serialized.utf8)) as? [String: Any],
              let vocabulary = object["vocabulary"] as? [String], let lowercases = object["lowercase"] as? Bool else {
            throw TextError("WordTokenizer: the stored tokenizer is not {\"lowercase\": bool, \"vocabulary\": [words]}")
        }
        try self.init(vocabulary: vocabulary, lowercases: lowercases)
    }

    public static func == (lhs: WordTokenizer, rhs: WordTokenizer) -> Bool {
        lhs.vocabulary == rhs.vocabulary && lhs.lowercases == rhs.lowercases
    }
}
