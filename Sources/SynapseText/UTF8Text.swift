// Reading text files strictly as UTF-8.

import Foundation

/// Text files decoded as strict UTF-8. Invalid bytes are an error that names their offset and
/// line, rather than being replaced silently: a model trained on U+FFFD replacement characters
/// learns the wrong text, and the user would never know.
public enum UTF8Text {
    /// The contents of `path` as a string; throws if the file cannot be read or is not UTF-8.
    public static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TextError("\(path): cannot read the file (missing or unreadable)")
        }
        return try decode(Array(data), source: path)
    }

    /// `bytes` decoded as UTF-8; `source` names them in the error.
    public static func decode(_ bytes: [UInt8], source: String) throws -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Invalid: walk the scalars again only to say where.
        var decoder = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0, line = 1
        while true {
            switch decoder.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                if scalar == "\n" { line += 1 }
                offset += encoded.count
            case .error(let length):
                let byte = bytes[offset]
                throw TextError("\(source): byte \(offset) (line \(line)) is 0x\(String(byte, radix: 16, uppercase: true)), "
                                + "which is not valid UTF-8 (\(length) bad byte\(length == 1 ? "" : "s")); "
                                + "convert the file to UTF-8 first, e.g. iconv -f latin1 -t utf-8")
            case .emptyInput:
                throw TextError("\(source): not valid UTF-8")
            }
        }
    }
}
