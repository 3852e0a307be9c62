// CoNLL-U, the Universal Dependencies treebank format.

import Foundation

/// A CoNLL-U file's sentences (https://universaldependencies.org/format.html): comment lines
/// start with "#", a blank line ends a sentence, and each word line has ten tab-separated
/// columns. Multiword token ranges ("1-2") and empty nodes ("8.1") are checked and skipped,
/// so `words` are the syntactic words that carry the tags.
public enum CoNLLU {
    /// One syntactic word's columns.
    public struct Word: Sendable, Equatable {
        public let form: String
        public let lemma: String
        /// Universal part-of-speech tag (column 4), e.g. "NOUN".
        public let upos: String
        /// Language-specific tag (column 5), "_" when absent.
        public let xpos: String

        public init(form: String, lemma: String, upos: String, xpos: String) {
            self.form = form
            self.lemma = lemma
            self.upos = upos
            self.xpos = xpos
        }
    }

    public struct Sentence: Sendable, Equatable {
        public var words: [Word]
        /// The `# text = …` comment, if any.
        public var text: String?
    }

    /// The sentences of `path`; a malformed line is an error naming the file and line.
    public static func read(_ path: String) throws -> [Sentence] {
        try parse(try TextFile.read(path), source: path)
    }

    /// The sentences of `text`; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws -> [Sentence] {
        var sentences: [Sentence] = []
        var current = Sentence(words: [], text: nil)
        var expected = 1
        func finish() {
            if !current.words.isEmpty { sentences.append(current) }
            current = Sentence(words: [], text: nil)
            expected = 1
        }
        for (number, line) in TextFile.lines(text).enumerated() {
            let place = "\(source):\(number + 1)"
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                finish()
                continue
            }
            if line.hasPrefix("#") {
                if line.hasPrefix("# text = ") { current.text = String(line.dropFirst(9)) }
                continue
            }
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count == 10 else {
                throw TextError("\(place): a word line has 10 tab-separated columns, this one has \(columns.count)")
            }
            let id = columns[0]
            if let dash = id.firstIndex(of: "-") {
                guard let first = Int(id[..<dash]), let last = Int(id[id.index(after: dash)...]), first >= 1, last > first else {
                    throw TextError("\(place): ID \"\(id)\" is not a multiword range like 1-2")
                }
                continue
            }
            if let dot = id.firstIndex(of: ".") {
                guard Int(id[..<dot]) != nil, Int(id[id.index(after: dot)...]) != nil else {
                    throw TextError("\(place): ID \"\(id)\" is not an empty node like 8.1")
                }
                continue
            }
            guard let value = Int(id) else { throw TextError("\(place): ID \"\(id)\" is not an integer") }
            guard value == expected else {
                throw TextError("\(place): ID \(value) should be \(expected) (word IDs count up from 1 in each sentence)")
            }
            guard !columns[1].isEmpty, !columns[3].isEmpty else { throw TextError("\(place): FORM and UPOS must not be empty") }
            current.words.append(Word(form: String(columns[1]), lemma: String(columns[2]), upos: String(columns[3]), xpos: String(columns[4])))
            expected += 1
        }
        finish()
        return sentences
    }
}
