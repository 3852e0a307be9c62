// Duplicate names in a JSON object. Foundation's parser keeps the last of two equal keys
// without a word, but a file format that forbids duplicates (safetensors, tokenizer.json)
// must reject them, so this scans the object's keys itself.

import Foundation

enum JSONKeys {
    /// The first key that appears twice among the top-level keys of `json`, an object that
    /// already parsed as valid JSON; nil if there is none.
    static func firstDuplicateTopLevelKey(in json: Data) -> String? {
        let bytes = [UInt8](json)
        var index = 0
        func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }
        /// The bytes of the string starting at `index` (a quote), quotes included; leaves
        /// `index` after it.
        func stringToken() -> ArraySlice<UInt8> {
            let start = index
            index += 1
            while index < bytes.count, bytes[index] != 0x22 {
                index += bytes[index] == 0x5C ? 2 : 1
            }
            index = min(index + 1, bytes.count)
            return bytes[start..<index]
        }
        /// Skips one value: a string, or anything up to the comma or brace that ends it at
        /// this depth.
        func skipValue() {
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case 0x22: _ = stringToken(); continue
                case 0x7B, 0x5B: depth += 1
                case 0x7D, 0x5D:
                    if depth == 0 { return }
                    depth -= 1
                case 0x2C where depth == 0: return
                default: break
                }
                index += 1
            }
        }
        skipSpace()
        guard index < bytes.count, bytes[index] == 0x7B else { return nil }
        index += 1
        var seen = Set<String>()
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x22 else { return nil }
            let token = stringToken()
            // Decoding the token as a JSON string makes "\u0061" and "a" the same key.
            guard let key = try? JSONSerialization.jsonObject(with: Data(token), options: .fragmentsAllowed) as? String else {
                return nil
            }
            if !seen.insert(key).inserted { return key }
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x3A else { return nil }
            index += 1
            skipSpace()
            skipValue()
            guard index < bytes.count, bytes[index] == 0x2C else { return nil }
            index += 1
        }
    }
}
