// The tokenizers a sentence classifier can read its text with.

import Foundation
import Synapse

/// How `synapse text train --tokenizer` splits sentences.
public enum SentenceTokenizerKind: String, CaseIterable, Sendable {
    /// Lowercased words and punctuation (`WordTokenizer`), unknown words as `<unk>`.
    case word
    /// Byte-level BPE learned on the training sentences: no unknown words, and rare words
    /// share pieces with common ones.
    case bpe
}

/// A word or byte-level BPE tokenizer, with id 0 kept for padding: word ids are the
/// `WordTokenizer`'s (`<pad>` is 0); BPE ids are shifted up by one.
public enum SentenceTokenizer: Sendable {
    case word(WordTokenizer)
    case bpe(BPETokenizer)

    /// The tokenizer of `kind` fitted on `texts`; `bpeVocabularySize` is BPE's (bytes included).
    public static func fitting(_ texts: [String], kind: SentenceTokenizerKind, bpeVocabularySize: Int = 4000) throws -> SentenceTokenizer {
        switch kind {
        case .word: .word(WordTokenizer(fitting: texts))
        case .bpe: .bpe(try BPETokenizer.train(on: texts, vocabularySize: bpeVocabularySize))
        }
    }

    public var kind: SentenceTokenizerKind {
        switch self {
        case .word: .word
        case .bpe: .bpe
        }
    }

    /// The number of ids, padding included.
    public var count: Int {
        switch self {
        case .word(let tokenizer): tokenizer.count
        case .bpe(let tokenizer): tokenizer.count + 1
        }
    }

    /// The ids of `text`, none of them 0.
    public func encode(_ text: String) -> [Int] {
        switch self {
        case .word(let tokenizer): tokenizer.encode(text)
        case .bpe(let tokenizer): tokenizer.encode(text).map { $0 + 1 }
        }
    }

    /// The tokenizer as text for checkpoint metadata: the word vocabulary's JSON, or BPE's
    /// Hugging Face `tokenizer.json`.
    public var serialized: String {
        switch self {
        case .word(let tokenizer): tokenizer.serialized
        case .bpe(let tokenizer): tokenizer.huggingFaceJSON
        }
    }

    /// The tokenizer of `kind` that `serialized` describes; `source` names it in errors.
    public init(kind: SentenceTokenizerKind, serialized: String, source: String) throws {
        switch kind {
        case .word: self = .word(try WordTokenizer(serialized: serialized))
        case .bpe: self = .bpe(try BPETokenizer(huggingFaceJSON: serialized, source: source))
        }
    }
}
