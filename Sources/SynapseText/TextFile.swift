// Reading text corpora: UTF-8, or Windows-1252 with a warning.

import Foundation

/// Text files as corpora come: UTF-8 where possible, else Windows-1252 (the superset of
/// Latin-1 that older corpora such as the UCI sentiment files and MR are written in).
public enum TextFile {
    /// The largest corpus file read.
    public static let maximumBytes = 1 << 31

    /// The text of `path`: as UTF-8 if it is valid UTF-8, else as Windows-1252, in which case
    /// `warn` is called once with a message naming the file. Nothing is dropped or replaced.
    public static func read(_ path: String, warn: (String) -> Void = { FileHandle.standardError.write(Data("Warning: \($0)\n".utf8)) }) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw TextError("\(path): no such file")
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > maximumBytes {
            throw TextError("\(path): \(size) bytes is more than the \(maximumBytes) a corpus file may have")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw TextError("\(path): cannot read the file") }
        if let text = String(validating: data, as: UTF8.self) { return text }
        warn("\(path) is not valid UTF-8; reading it as Windows-1252")
        return windows1252(data)
    }

    /// `bytes` decoded as Windows-1252; the five bytes it leaves undefined map to the C1
    /// controls of the same value, as the WHATWG encoding standard does, so every byte survives.
    public static func windows1252(_ bytes: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            if (0x80...0x9F).contains(byte) {
                scalars.append(Unicode.Scalar(high[Int(byte - 0x80)])!)
            } else {
                scalars.append(Unicode.Scalar(byte))
            }
        }
        return String(scalars)
    }

    private static let high: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    /// `text` split at line feeds only, with a trailing carriage return removed from each line.
    /// (Splitting Swift `Character`s would keep "\r\n" whole and break on U+0085 and U+2028,
    /// which some corpora have inside sentences.)
    public static func lines(_ text: String) -> [Substring] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let end = line.last == "\r" ? line.index(before: line.endIndex) : line.endIndex
            return Substring(line[line.startIndex..<end])
        }
    }
}
