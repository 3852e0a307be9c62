// CSV files with a header row, quoted fields and named columns.

import Foundation

/// A CSV file read as text cells: a header row naming the columns, then one row per line.
/// Fields may be quoted ("a, b" and "" for a quote inside); CRLF and LF both end lines.
/// `numbers(inColumn:)` turns a column into values, naming the line of any cell that is
/// missing or not a number.
public struct CSVTable: Sendable {
    public let source: String
    public let header: [String]
    public let rows: [[String]]
    /// The 1-based line of each row in the file, for error messages.
    public let lineNumbers: [Int]

    /// Reads `path` (plain or gzip, bounded as `readPossiblyCompressedFile` reads); throws
    /// naming the file if it cannot be read, is empty or is not UTF-8.
    public init(contentsOf path: String) throws {
        guard let text = String(validating: try readPossiblyCompressedFile(path), as: UTF8.self) else {
            throw DataError("\(path): not a UTF-8 text file")
        }
        try self.init(text: text, source: path)
    }

    public init(text: String, source: String = "CSV") throws {
        self.source = source
        var records: [(line: Int, fields: [String])] = []
        var line = 1
        for (offset, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            line = offset + 1
            let content = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if content.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            records.append((line, try Self.fields(of: content, line: line, source: source)))
        }
        guard let first = records.first else { throw DataError("\(source): the file holds no header row") }
        header = first.fields
        var rows: [[String]] = [], lines: [Int] = []
        for record in records.dropFirst() {
            guard record.fields.count == header.count else {
                throw DataError("\(source): line \(record.line) has \(record.fields.count) fields, the header has \(header.count)")
            }
            rows.append(record.fields)
            lines.append(record.line)
        }
        self.rows = rows
        lineNumbers = lines
    }

    /// The index of the column named `name`, or an error listing the columns there are.
    public func columnIndex(named name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw DataError("\(source): no column named \"\(name)\"; the columns are \(header.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return index
    }

    /// The cells of column `index` as numbers; a missing or non-numeric cell is an error
    /// naming its line and column.
    public func numbers(inColumn index: Int) throws -> [Float] {
        try rows.enumerated().map { row, fields in
            let cell = fields[index].trimmingCharacters(in: .whitespaces)
            let place = "\(source): line \(lineNumbers[row]), column \"\(header[index])\""
            guard !cell.isEmpty else { throw DataError("\(place): the value is missing") }
            guard let value = Float(cell), value.isFinite else { throw DataError("\(place): \"\(cell)\" is not a number") }
            return value
        }
    }

    /// The cells of column `index`, unquoted.
    public func strings(inColumn index: Int) -> [String] { rows.map { $0[index] } }

    private static func fields(of line: Substring, line number: Int, source: String) throws -> [String] {
        var fields: [String] = [], field = "", quoted = false, wasQuoted = false
        var characters = line.makeIterator()
        while let character = characters.next() {
            if quoted {
                if character == "\"" {
                    // A doubled quote inside quotes is a literal quote; a single one closes the field.
                    var lookahead = characters
                    if lookahead.next() == "\"" {
                        field.append("\"")
                        characters = lookahead
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "," {
                fields.append(field)
                (field, wasQuoted) = ("", false)
            } else if character == "\"" && field.trimmingCharacters(in: .whitespaces).isEmpty && !wasQuoted {
                (field, quoted, wasQuoted) = ("", true, true)
            } else {
                field.append(character)
            }
        }
        guard !quoted else { throw DataError("\(source): line \(number) has an unclosed quote") }
        fields.append(field)
        return fields
    }
}
