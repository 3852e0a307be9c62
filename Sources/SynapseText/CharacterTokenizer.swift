// Character-level tokenization.

import Foundation

/// Maps text to token ids one Unicode scalar at a time, as character language models do
/// (nanoGPT's `shakespeare_char`): the vocabulary is the sorted set of scalars of the
/// training text, so "\r\n" is two tokens and ids agree with Python's `sorted(set(text))`.
///
/// ```swift
/// let tokenizer = CharacterTokenizer(fitting: text)
/// let ids = try tokenizer.encode("ROMEO:")
/// tokenizer.decode(ids)   // "ROMEO:"
/// ```
public struct CharacterTokenizer: Sendable, Equatable {
    /// The characters, in id order.
    public let vocabulary: [Unicode.Scalar]
    private let ids: [Unicode.Scalar: Int]

    /// A tokenizer over `vocabulary`, whose scalars must be distinct.
    public init(vocabulary: [Unicode.Scalar]) throws {
        var ids: [Unicode.Scalar: Int] = [:]
        for (id, scalar) in vocabulary.enumerated() {
            guard ids.updateValue(id, forKey: scalar) == nil else {
                throw TextError("CharacterTokenizer: \(Self.describe(scalar)) appears twice in the vocabulary")
            }
        }
        self.vocabulary = vocabulary
        self.ids = ids
    }

    /// The tokenizer whose vocabulary is every distinct scalar of `text`, sorted by code point.
    public init(fitting text: String) {
        let scalars = Set(text.unicodeScalars).sorted { $0.value < $1.value }
        try! self.init(vocabulary: scalars)
    }

    /// The number of tokens.
    public var count: Int { vocabulary.count }

    /// The id of `scalar`, if it is in the vocabulary.
    public func id(of scalar: Unicode.Scalar) -> Int? { ids[scalar] }

    /// The ids of `text`'s scalars; throws naming the first scalar outside the vocabulary.
    public func encode(_ text: String) throws -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(text.unicodeScalars.count)
        for (position, scalar) in text.unicodeScalars.enumerated() {
            guard let id = ids[scalar] else {
                throw TextError("\(Self.describe(scalar)) at character \(position) is not in the vocabulary of \(count) characters")
            }
            result.append(id)
        }
        return result
    }

    /// The text of `tokens`; every id must be in 0..<count.
    public func decode(_ tokens: [Int]) -> String {
        var scalars = String.UnicodeScalarView()
        for token in tokens {
            precondition(token >= 0 && token < count, "CharacterTokenizer.decode: id \(token) is not in 0..<\(count)")
            scalars.append(vocabulary[token])
        }
        return String(scalars)
    }

    /// The vocabulary as a JSON array of code points, for checkpoint metadata.
    public var serialized: String {
        "[" + vocabulary.map { String($0.value) }.joined(separator: ",") + "]"
    }

    /// The tokenizer `serialized` describes.
    public init(serialized: String) throws {
        guard let data = serialized.data(using: .utf8),
              let values = try? JSONSerialization.jsonObject(with: data) as? [Int] else {
            throw TextError("CharacterTokenizer: the vocabulary is not a JSON array of code points")
        }
        let scalars = try values.map { value -> Unicode.Scalar in
            guard let scalar = UInt32(exactly: value).flatMap(Unicode.Scalar.init) else {
                throw TextError("CharacterTokenizer: \(value) is not a Unicode scalar")
            }
            return scalar
        }
        try self.init(vocabulary: scalars)
    }

    /// "'a' (U+0061)", or the code point alone for invisible characters.
    static func describe(_ scalar: Unicode.Scalar) -> String {
        let code = "U+" + String(format: "%04X", scalar.value)
        let visible = !scalar.properties.isWhitespace && scalar.properties.generalCategory != .control
        return visible ? "'\(Character(scalar))' (\(code))" : code
    }

    public static func == (lhs: CharacterTokenizer, rhs: CharacterTokenizer) -> Bool { lhs.vocabulary == rhs.vocabulary }
}
