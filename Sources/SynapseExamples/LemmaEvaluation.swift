// What a lemmatizer is trained on and scored against: the training triples with their
// weighting, the baselines of the issue, and accuracy over every dev word.

import Foundation
import Synapse

/// How often each distinct (form, UPOS, lemma) triple of the training words appears in an
/// epoch. Dev accuracy counts words, so frequent irregular words ("was" → "be") matter more
/// than their one entry among the distinct triples suggests.
public enum LemmaWeighting: String, CaseIterable, Sendable {
    /// Each distinct triple once.
    case distinct
    /// A triple seen n times appears 1 + ⌊log₂ n⌋ times: frequent words weigh more, while the
    /// epoch stays about twice the distinct count.
    case logFrequency = "log"
    /// Every training word once (the epoch is the whole treebank).
    case tokens

    /// The training examples of `words`, in the order first seen.
    public func examples(_ words: [CoNLLU.Word]) -> [(form: String, upos: String, lemma: String)] {
        var counts: [String: Int] = [:], order: [(form: String, upos: String, lemma: String)] = []
        for word in words {
            let key = word.form + "\t" + word.upos + "\t" + word.lemma
            if counts[key] == nil { order.append((word.form, word.upos, word.lemma)) }
            counts[key, default: 0] += 1
        }
        return order.flatMap { triple -> [(form: String, upos: String, lemma: String)] in
            let n = counts[triple.form + "\t" + triple.upos + "\t" + triple.lemma]!
            let copies = switch self {
            case .distinct: 1
            case .logFrequency: 1 + (Int.bitWidth - 1 - n.leadingZeroBitCount)
            case .tokens: n
            }
            return Array(repeating: triple, count: copies)
        }
    }
}

/// The baselines a lemmatizer must beat on the same words.
public struct LemmaBaselines {
    /// The most frequent training lemma of each exact (form, UPOS) pair (ties: the lemma seen first).
    private let lookup: [String: String]

    public init(training words: [CoNLLU.Word]) {
        // Per pair, its lemmas in the order first seen, with their counts.
        var lemmas: [String: [(lemma: String, count: Int)]] = [:]
        for word in words {
            let key = word.form + "\t" + word.upos
            if let index = lemmas[key]?.firstIndex(where: { $0.lemma == word.lemma }) {
                lemmas[key]![index].count += 1
            } else {
                lemmas[key, default: []].append((word.lemma, 1))
            }
        }
        // Only a strictly larger count replaces the current choice, so ties go to the lemma seen first.
        lookup = lemmas.mapValues { seen in seen.reduce(seen[0]) { $1.count > $0.count ? $1 : $0 }.lemma }
    }

    /// The lowercased form.
    public static func lowercase(_ form: String) -> String { form.lowercased() }

    /// The training lookup of (form, UPOS), else the lowercased form.
    public func lookupOrLowercase(form: String, upos: String) -> String {
        lookup[form + "\t" + upos] ?? form.lowercased()
    }

    /// Whether (form, UPOS) was seen in training.
    public func knows(form: String, upos: String) -> Bool { lookup[form + "\t" + upos] != nil }
}

/// A lemmatizer's accuracy over every dev word beside the baselines on the same words, and
/// its most frequent mistakes.
public struct LemmaEvaluation: Sendable {
    public struct Mistake: Sendable, Equatable {
        public let form: String, upos: String, expected: String, predicted: String
        /// Dev words with this form, tag and expected lemma that got `predicted`.
        public let count: Int
    }

    public let words: Int
    /// The model alone.
    public let accuracy: Double
    /// The train lookup for (form, UPOS) pairs seen in training, the model for the others.
    public let lookupThenModelAccuracy: Double
    public let lowercaseAccuracy: Double
    public let lookupAccuracy: Double
    /// The model's accuracy on the dev words whose (form, UPOS) training never saw.
    public let unseenAccuracy: Double
    public let unseenWords: Int
    /// The model's mistakes, most frequent first.
    public let mistakes: [Mistake]

    /// Lemmatizes each distinct dev (form, UPOS) once, then counts every dev word.
    public init(model: Lemmatizer, dev: [CoNLLU.Word], baselines: LemmaBaselines, beamWidth: Int = 1) throws {
        precondition(!dev.isEmpty, "LemmaEvaluation: no dev words")
        var pairs: [(form: String, upos: String)] = [], index: [String: Int] = [:]
        for word in dev where index[word.form + "\t" + word.upos] == nil {
            index[word.form + "\t" + word.upos] = pairs.count
            pairs.append((word.form, word.upos))
        }
        let predicted = try model.lemmatize(pairs, beamWidth: beamWidth)
        var correct = 0, lowercase = 0, lookup = 0, combined = 0, unseen = 0, unseenCorrect = 0
        var wrong: [String: Int] = [:]
        for word in dev {
            let guess = predicted[index[word.form + "\t" + word.upos]!]
            let known = baselines.knows(form: word.form, upos: word.upos)
            let looked = baselines.lookupOrLowercase(form: word.form, upos: word.upos)
            if guess == word.lemma { correct += 1 } else {
                wrong[[word.form, word.upos, word.lemma, guess].joined(separator: "\t"), default: 0] += 1
            }
            if LemmaBaselines.lowercase(word.form) == word.lemma { lowercase += 1 }
            if looked == word.lemma { lookup += 1 }
            if (known ? looked : guess) == word.lemma { combined += 1 }
            if !known {
                unseen += 1
                if guess == word.lemma { unseenCorrect += 1 }
            }
        }
        let n = Double(dev.count)
        words = dev.count
        accuracy = Double(correct) / n
        lookupThenModelAccuracy = Double(combined) / n
        lowercaseAccuracy = Double(lowercase) / n
        lookupAccuracy = Double(lookup) / n
        unseenWords = unseen
        unseenAccuracy = unseen == 0 ? 1 : Double(unseenCorrect) / Double(unseen)
        mistakes = wrong.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { key, count in
            let field = key.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Mistake(form: field[0], upos: field[1], expected: field[2], predicted: field[3], count: count)
        }
    }

    /// The figures as JSON-ready values.
    public var report: [String: Any] {
        ["dev_accuracy": accuracy, "dev_accuracy_lookup_then_model": lookupThenModelAccuracy,
         "dev_accuracy_unseen": unseenAccuracy, "dev_unseen_words": unseenWords,
         "baseline_lowercase": lowercaseAccuracy, "baseline_lookup": lookupAccuracy, "dev_words": words]
    }
}
