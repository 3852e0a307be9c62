// Numeric CSV files.

import Foundation

/// A table of numbers read from a CSV file: one row per line, comma-separated, an optional
/// header line, no quoting.
public struct NumericCSV: Sendable {
    public let header: [String]?
    public let rows: [[Float]]

    /// Parses `path` (`.gz` allowed). Every row must have the same number of columns; a cell
    /// that is not a number is reported with its line and column.
    public init(contentsOf path: String, hasHeader: Bool = false) throws {
        let bytes = try readPossiblyCompressedFile(path)
        try self.init(text: String(decoding: bytes, as: UTF8.self), hasHeader: hasHeader, source: path)
    }

    public init(text: String, hasHeader: Bool = false, source: String = "CSV") throws {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        header = hasHeader && !lines.isEmpty ? lines.removeFirst().split(separator: ",").map(String.init) : nil
        var rows: [[Float]] = []
        rows.reserveCapacity(lines.count)
        for (lineIndex, line) in lines.enumerated() {
            let lineNumber = lineIndex + 1 + (hasHeader ? 1 : 0)
            var row: [Float] = []
            for (column, cell) in line.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                guard let value = Float(cell.trimmingCharacters(in: .whitespaces)) else {
                    throw DataError("\(source): line \(lineNumber), column \(column + 1): \"\(cell)\" is not a number")
                }
                row.append(value)
            }
            if let first = rows.first, first.count != row.count {
                throw DataError("\(source): line \(lineNumber) has \(row.count) columns, expected \(first.count)")
            }
            rows.append(row)
        }
        self.rows = rows
    }
}
