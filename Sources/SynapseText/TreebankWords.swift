// Splitting raw English text into words as Universal Dependencies treebanks do.

/// Splits raw English text into the syntactic words of UD English treebanks, so a tagger
/// trained on gold tokenization sees raw text cut the same way: whitespace separates;
/// punctuation at either end of a chunk is its own word ("(yes!)" → "(", "yes", "!", ")");
/// clitics are split off ("don't" → "do", "n't"; "can't" → "ca", "n't"; "it's" → "it", "'s";
/// also 're, 've, 'll, 'd, 'm, with straight or curly apostrophes). Case is kept. A final
/// period stays on abbreviations ("Mr.", "U.S.", "e.g.") and on single capitals ("J.").
///
/// ```swift
/// TreebankWords.split("I don't like it.")   // ["I", "do", "n't", "like", "it", "."]
/// ```
public enum TreebankWords {
    private static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp", "no", "jan", "feb", "mar",
        "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
        "approx", "dept", "est", "gen", "gov", "sen", "rep", "rev", "mt", "ft", "vol", "fig", "p.m", "a.m", "e.g", "i.e",
    ]
    private static let clitics = ["'s", "'re", "'ve", "'ll", "'d", "'m"]

    /// The words of `text`.
    public static func split(_ text: String) -> [String] {
        var words: [String] = []
        for chunk in text.split(whereSeparator: { $0.isWhitespace }) {
            words += splitChunk(String(chunk))
        }
        return words
    }

    private static func isEdgePunctuation(_ character: Character) -> Bool {
        character.isPunctuation || character.isSymbol
    }

    private static func splitChunk(_ chunk: String) -> [String] {
        var rest = Substring(chunk)
        var leading: [String] = [], trailing: [String] = []
        while let first = rest.first, isEdgePunctuation(first), rest.count > 1 {
            leading.append(String(first))
            rest = rest.dropFirst()
        }
        while let last = rest.last, isEdgePunctuation(last), rest.count > 1 {
            if last == "." && keepsPeriod(rest.dropLast()) { break }
            trailing.insert(String(last), at: 0)
            rest = rest.dropLast()
        }
        return leading + splitClitics(String(rest)) + trailing
    }

    /// Whether `stem` followed by "." is one word: a known abbreviation, a run of
    /// letter-period pairs ("U.S"), or a single capital letter (an initial).
    private static func keepsPeriod(_ stem: Substring) -> Bool {
        let lower = stem.lowercased()
        if abbreviations.contains(lower) { return true }
        if stem.count == 1, let letter = stem.first, letter.isUppercase { return true }
        return stem.contains(".") && stem.allSatisfy { $0.isLetter || $0 == "." }
    }

    private static func splitClitics(_ word: String) -> [String] {
        let normalized = word.replacingOccurrences(of: "\u{2019}", with: "'")
        let lower = normalized.lowercased()
        if lower.hasSuffix("n't"), word.count > 3 {
            let stemLength = word.count - 3
            return [String(word.prefix(stemLength)), String(word.suffix(3))]
        }
        for clitic in clitics where lower.hasSuffix(clitic) && word.count > clitic.count {
            let stemLength = word.count - clitic.count
            return [String(word.prefix(stemLength)), String(word.suffix(clitic.count))]
        }
        return [word]
    }
}
