// What a tagger maps to and from ids: words, characters and tags, fitted on a treebank.

import Foundation
import Synapse

/// A tagger's three vocabularies, fitted on training sentences: lowercased word forms seen at
/// least `minimumFrequency` times (plus `<pad>` 0 and `<unk>` 1, as the PyTorch anchor's),
/// every character of the training forms with their case (plus padding 0 and unknown 1), and
/// the sorted set of training tags.
///
/// Words seen once become `<unk>` in training, so the model learns what an unknown word looks
/// like; the character features then tell unknown words apart.
public struct TaggerVocabulary: Sendable, Equatable {
    public let words: WordTokenizer
    /// The characters of spellings, in id order from id 2.
    public let characters: [Unicode.Scalar]
    /// The tags, in id order.
    public let tags: [String]
    private let characterIDs: [Unicode.Scalar: Int]
    private let tagIDs: [String: Int]

    /// The character id of padding.
    public static let characterPaddingID = 0
    /// The character id of every character outside `characters`.
    public static let unknownCharacterID = 1

    public init(words: WordTokenizer, characters: [Unicode.Scalar], tags: [String]) throws {
        guard !tags.isEmpty else { throw TextError("a tagger needs at least one tag") }
        guard Set(tags).count == tags.count else { throw TextError("the tagger's tags are not distinct") }
        guard Set(characters).count == characters.count else { throw TextError("the tagger's characters are not distinct") }
        self.words = words
        self.characters = characters
        self.tags = tags
        characterIDs = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($0.element, $0.offset + 2) })
        tagIDs = Dictionary(uniqueKeysWithValues: tags.enumerated().map { ($0.element, $0.offset) })
    }

    /// The vocabularies of `sentences`, tagged by `tag` (UPOS by default). Throws if there are
    /// no words.
    public init(fitting sentences: [CoNLLU.Sentence], minimumFrequency: Int = 2,
                tag: (CoNLLU.Word) -> String = { $0.upos }) throws {
        var counts: [String: Int] = [:], characters = Set<Unicode.Scalar>(), tags = Set<String>()
        for sentence in sentences {
            for word in sentence.words {
                counts[word.form.lowercased(), default: 0] += 1
                characters.formUnion(word.form.unicodeScalars)
                tags.insert(tag(word))
            }
        }
        guard !counts.isEmpty else { throw TextError("the training sentences hold no words") }
        let kept = counts.filter { $0.value >= minimumFrequency && $0.key != WordTokenizer.padding && $0.key != WordTokenizer.unknown }
            .sorted { $0.value > $1.value || ($0.value == $1.value && $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars)) }
            .map(\.key)
        try self.init(words: try WordTokenizer(vocabulary: [WordTokenizer.padding, WordTokenizer.unknown] + kept),
                      characters: characters.sorted { $0.value < $1.value }, tags: tags.sorted())
    }

    /// The number of character ids, padding and unknown included.
    public var characterCount: Int { characters.count + 2 }

    /// The word id of `form` (lowercased when the vocabulary is), `<unk>` if unseen.
    public func wordID(_ form: String) -> Int {
        words.id(of: words.lowercases ? form.lowercased() : form) ?? WordTokenizer.unknownID
    }

    /// The character ids of `form`.
    public func spelling(_ form: String) -> [Int] {
        form.unicodeScalars.map { characterIDs[$0] ?? Self.unknownCharacterID }
    }

    /// The id of `tag`, if training saw it.
    public func tagID(_ tag: String) -> Int? { tagIDs[tag] }

    /// Sentences of forms as a dataset with spellings; `tags` (one list per sentence) become
    /// per-token targets, a tag training never saw becomes `ignoreIndex`.
    public func dataset(forms: [[String]], tags: [[String]]? = nil, ignoreIndex: Int = -100) -> SequenceDataset {
        let targets = tags.map { $0.map { $0.map { tagID($0) ?? ignoreIndex } } } ?? forms.map { Array(repeating: ignoreIndex, count: $0.count) }
        return SequenceDataset(sequences: forms.map { $0.map(wordID) }, targets: .perToken(targets), ignoreIndex: ignoreIndex,
                               spellings: forms.map { $0.map(spelling) })
    }

    /// `sentences` as a dataset, tagged by `tag`.
    public func dataset(_ sentences: [CoNLLU.Sentence], tag: (CoNLLU.Word) -> String = { $0.upos }) -> SequenceDataset {
        dataset(forms: sentences.map { $0.words.map(\.form) }, tags: sentences.map { $0.words.map(tag) })
    }

    /// The characters and tags as JSON, for checkpoint metadata (the words are stored as the
    /// `WordTokenizer`'s own JSON).
    public var serializedCharacters: String {
        let data = try! JSONSerialization.data(withJSONObject: characters.map { String($0) })
        return String(decoding: data, as: UTF8.self)
    }

    public var serializedTags: String {
        let data = try! JSONSerialization.data(withJSONObject: tags)
        return String(decoding: data, as: UTF8.self)
    }

    /// The vocabularies as `words.serialized`, `serializedCharacters` and `serializedTags` wrote them.
    public init(serializedWords: String, characters: String, tags: String) throws {
        guard let characterList = try? JSONSerialization.jsonObject(with: Data(characters.utf8)) as? [String],
              characterList.allSatisfy({ $0.unicodeScalars.count == 1 }) else {
            throw TextError("the stored tagger characters are not a JSON list of single characters")
        }
        let scalars = characterList.map { $0.unicodeScalars.first! }
        guard let tagList = try? JSONSerialization.jsonObject(with: Data(tags.utf8)) as? [String] else {
            throw TextError("the stored tagger tags are not a JSON list of strings")
        }
        try self.init(words: try WordTokenizer(serialized: serializedWords), characters: scalars, tags: tagList)
    }

    public static func == (lhs: TaggerVocabulary, rhs: TaggerVocabulary) -> Bool {
        lhs.words == rhs.words && lhs.characters == rhs.characters && lhs.tags == rhs.tags
    }
}

/// The most-frequent-tag baseline: each training form (exact, case-sensitive) gets the tag it
/// most often has in training (ties: the alphabetically first), every other form `fallback`.
/// It is the anchor's `mft_acc`.
public struct MostFrequentTagBaseline: Sendable {
    public let fallback: String
    private let best: [String: String]

    public init(fitting sentences: [CoNLLU.Sentence], fallback: String = "NOUN", tag: (CoNLLU.Word) -> String = { $0.upos }) {
        var counts: [String: [String: Int]] = [:]
        for sentence in sentences {
            for word in sentence.words { counts[word.form, default: [:]][tag(word), default: 0] += 1 }
        }
        best = counts.mapValues { tags in tags.min { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }!.key }
        self.fallback = fallback
    }

    public func tag(_ form: String) -> String { best[form] ?? fallback }

    /// The share of `sentences`' words it tags correctly.
    public func accuracy(on sentences: [CoNLLU.Sentence], tag: (CoNLLU.Word) -> String = { $0.upos }) -> Double {
        var hits = 0, total = 0
        for sentence in sentences {
            for word in sentence.words {
                total += 1
                if self.tag(word.form) == tag(word) { hits += 1 }
            }
        }
        return total == 0 ? 0 : Double(hits) / Double(total)
    }
}
