// Pretrained word vectors (GloVe, word2vec and fastText text files).

import Foundation

/// Pretrained word vectors read from the text format GloVe, word2vec (`-binary 0`) and
/// fastText (`.vec`) write: one word per line followed by its numbers, separated by spaces,
/// most frequent words first; a first line of two integers (word count and width, as word2vec
/// and fastText write) gives the width, which is otherwise the first line's count of numbers.
///
/// ```swift
/// let vectors = try WordVectors(contentsOf: "glove.6B.50d.txt", firstWords: 20_000, including: trainingWords)
/// vectors.vector(for: "good")   // 50 numbers
/// ```
///
/// Files of millions of words need not fit in memory: only the first `firstWords` words and
/// those in `including` are kept.
public struct WordVectors: Sendable {
    /// The kept words, in file order.
    public let words: [String]
    /// The width of every vector.
    public let dimension: Int
    /// The vectors, one row of `dimension` numbers per word of `words`.
    public let values: [Float]
    private let rows: [String: Int]

    /// Vectors for `words` (row-major, `dimension` per word); a word listed twice keeps its
    /// first vector, as files such as GloVe 840B have a few.
    public init(words: [String], dimension: Int, values: [Float]) throws {
        guard dimension > 0, values.count == words.count * dimension else {
            throw TextError("WordVectors: \(values.count) values do not make \(words.count) vectors of width \(dimension)")
        }
        var rows: [String: Int] = [:], kept: [String] = [], keptValues: [Float] = []
        kept.reserveCapacity(words.count)
        keptValues.reserveCapacity(values.count)
        for (row, word) in words.enumerated() where rows[word] == nil {
            rows[word] = kept.count
            kept.append(word)
            keptValues += values[(row * dimension)..<((row + 1) * dimension)]
        }
        self.words = kept
        self.dimension = dimension
        self.values = keptValues
        self.rows = rows
    }

    /// The vectors in the text file at `path`: its first `firstWords` words (all when nil) and
    /// any later word in `including`. A line whose numbers are missing, are not numbers or are
    /// fewer than the width (the header's, else the first line's count of numbers) stops with
    /// an error naming the file and line.
    public init(contentsOf path: String, firstWords: Int? = nil, including: Set<String> = []) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw TextError("\(path): no such file")
        }
        // Mapped, not read: only the pages the scan touches are brought in, and a multi-GB file
        // never has to fit in memory at once.
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            throw TextError("\(path): cannot read the file")
        }
        var words: [String] = [], values: [Float] = [], dimension = 0
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var parser = VectorLineParser(path: path)
            var start = 0, lineNumber = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                lineNumber += 1
                var line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                if line.last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
                start = end + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                if lineNumber == 1, let width = VectorLineParser.headerWidth(line) {
                    dimension = width
                    continue
                }
                let fields = VectorLineParser.fields(of: line)
                if dimension == 0 {
                    guard fields.count >= 2 else {
                        throw TextError("\(path):\(lineNumber): a word vector line is a word followed by its numbers, got one field")
                    }
                    dimension = fields.count - 1
                }
                guard fields.count > dimension else {
                    throw TextError("\(path):\(lineNumber): \(fields.count - 1) numbers where its vectors have \(dimension)")
                }
                // Words may contain spaces (GloVe 840B has some): the last `dimension` fields are
                // the numbers, the rest is the word.
                let wordEnd = fields[fields.count - dimension - 1].upperBound
                guard let word = String(validating: UnsafeBufferPointer(rebasing: line[..<wordEnd]), as: UTF8.self) else {
                    throw TextError("\(path):\(lineNumber): the word is not valid UTF-8")
                }
                guard firstWords.map({ words.count < $0 }) ?? true || including.contains(word) else { continue }
                for field in fields[(fields.count - dimension)...] {
                    values.append(try parser.number(UnsafeBufferPointer(rebasing: line[field]), line: lineNumber))
                }
                words.append(word)
            }
        }
        guard dimension > 0 else { throw TextError("\(path): no word vectors in the file") }
        try self.init(words: words, dimension: dimension, values: values)
    }

    /// The number of words.
    public var count: Int { words.count }

    /// The vector of `word`, if the file has it.
    public func vector(for word: String) -> ArraySlice<Float>? {
        rows[word].map { values[($0 * dimension)..<(($0 + 1) * dimension)] }
    }

    /// The standard deviation of all the numbers, to draw vectors for other words at the same
    /// scale (Kim 2014 draws them uniformly with the pretrained variance).
    public var standardDeviation: Float {
        guard !values.isEmpty else { return 0 }
        let mean = values.reduce(0, +) / Float(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)).squareRoot()
    }
}

/// Splitting a vector line into fields and reading its numbers.
private struct VectorLineParser {
    let path: String
    private var scratch = [CChar](repeating: 0, count: 64)

    init(path: String) { self.path = path }

    /// The ranges of the space-separated fields of `line`.
    static func fields(of line: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var fields: [Range<Int>] = [], index = 0
        while index < line.count {
            while index < line.count && (line[index] == 0x20 || line[index] == 0x09) { index += 1 }
            let start = index
            while index < line.count && line[index] != 0x20 && line[index] != 0x09 { index += 1 }
            if index > start { fields.append(start..<index) }
        }
        return fields
    }

    /// The vector width word2vec's header line (two integers: words, width) gives, or nil if
    /// `line` is not one.
    static func headerWidth(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        let fields = fields(of: line)
        guard fields.count == 2, fields.allSatisfy({ range in range.allSatisfy { (0x30...0x39).contains(line[$0]) } }) else { return nil }
        return Int(String(decoding: UnsafeBufferPointer(rebasing: line[fields[1]]), as: UTF8.self)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The number `field` spells.
    mutating func number(_ field: UnsafeBufferPointer<UInt8>, line: Int) throws -> Float {
        if field.count >= scratch.count { scratch = [CChar](repeating: 0, count: field.count + 1) }
        let value: Float? = scratch.withUnsafeMutableBufferPointer { buffer in
            for (index, byte) in field.enumerated() { buffer[index] = CChar(bitPattern: byte) }
            buffer[field.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let parsed = strtof(buffer.baseAddress!, &end)
            return end == buffer.baseAddress! + field.count && parsed.isFinite ? parsed : nil
        }
        guard let value else {
            throw TextError("\(path):\(line): \"\(String(decoding: field, as: UTF8.self))\" is not a finite number")
        }
        return value
    }
}
