// Hugging Face tokenizer.json and GPT-2 vocab.json + merges.txt for byte-level BPE.

import Foundation

extension BPETokenizer {
    /// The largest tokenizer file read, so a wrong path cannot exhaust memory (GPT-2's
    /// tokenizer.json is 1.4 MB, Llama 3's 9 MB).
    public static let maximumFileBytes = 256 << 20

    /// Reads a Hugging Face `tokenizer.json` whose model is a byte-level BPE (GPT-2, RoBERTa,
    /// Llama 3, or one saved by `write(huggingFace:)`).
    ///
    /// Every part that would change the ids and that Synapse does not implement (a
    /// normalizer, another pre-tokenizer, BPE dropout, subword prefixes) is an error naming
    /// it, rather than being ignored.
    public init(huggingFace path: String) throws {
        try self.init(huggingFaceRoot: try Self.readJSON(path), source: path)
    }

    /// As `init(huggingFace:)`, from the text of a `tokenizer.json` (`huggingFaceJSON`, kept in
    /// a checkpoint's metadata, say); `source` names it in errors.
    public init(huggingFaceJSON text: String, source: String) throws {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            throw TextError("\(source): not valid JSON (\((error as NSError).userInfo["NSDebugDescription"] ?? error.localizedDescription))")
        }
        try self.init(huggingFaceRoot: root, source: source)
    }

    private init(huggingFaceRoot root: Any, source path: String) throws {
        guard let object = root as? [String: Any] else { throw TextError("\(path): not a JSON object") }
        guard let model = object["model"] as? [String: Any] else { throw TextError("\(path): no \"model\" object") }
        let type = model["type"] as? String ?? "BPE"
        guard type == "BPE" else { throw TextError("\(path): the model is \(type); only BPE is supported") }
        if let normalizer = object["normalizer"], !(normalizer is NSNull) {
            throw TextError("\(path): normalizer \(Self.typeName(normalizer)) is not supported (byte-level BPE tokenizers have none)")
        }
        for key in ["dropout", "continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = model[key], !(value is NSNull), !((value as? String)?.isEmpty ?? false) {
                throw TextError("\(path): model.\(key) = \(value) is not supported")
            }
        }
        let (addsPrefixSpace, splitsPreTokens) = try Self.byteLevelOptions(object["pre_tokenizer"], path: path)
        guard let vocabulary = model["vocab"] as? [String: Any] else { throw TextError("\(path): model.vocab is not an object") }
        var byID = try Self.tokensByID(vocabulary, source: path)
        var specials: [(text: String, id: Int)] = []
        for (index, entry) in (object["added_tokens"] as? [[String: Any]] ?? []).enumerated() {
            guard let id = (entry["id"] as? NSNumber)?.intValue, id >= 0, let content = entry["content"] as? String, !content.isEmpty else {
                throw TextError("\(path): added_tokens[\(index)] needs an integer id and a non-empty content")
            }
            if let existing = byID[id], existing != content {
                throw TextError("\(path): added token \(JSONText.quoted(content)) has id \(id), which the vocabulary gives to \(JSONText.quoted(existing))")
            }
            byID[id] = content
            specials.append((content, id))
        }
        let merges = try Self.mergePairs(model["merges"], path: path)
        try self.init(vocabulary: byID, merges: merges, specialTokens: specials, source: path,
                      addsPrefixSpace: addsPrefixSpace, splitsPreTokens: splitsPreTokens,
                      ignoresMerges: (model["ignore_merges"] as? Bool) ?? false)
    }

    /// Reads GPT-2's `vocab.json` and `merges.txt`. `specialTokens` name vocabulary entries
    /// matched as whole tokens in text; by default `<|endoftext|>` when the vocabulary has it.
    public init(vocabularyJSON vocabularyPath: String, merges mergesPath: String, specialTokens: [String]? = nil) throws {
        guard let vocabulary = try Self.readJSON(vocabularyPath) as? [String: Any] else {
            throw TextError("\(vocabularyPath): not a JSON object of token → id")
        }
        let byID = try Self.tokensByID(vocabulary, source: vocabularyPath)
        let text = try UTF8Text.decode(Array(try Self.readBytes(mergesPath)), source: mergesPath)
        var merges: [(String, String, line: Int)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.isEmpty || (number == 0 && line.hasPrefix("#version")) { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TextError("\(mergesPath):\(number + 1): a merge is two tokens separated by one space, got \(JSONText.quoted(String(line)))")
            }
            merges.append((String(parts[0]), String(parts[1]), number + 1))
        }
        let tokens = Set(byID.values)
        let names = specialTokens ?? (tokens.contains("<|endoftext|>") ? ["<|endoftext|>"] : [])
        var specials: [(text: String, id: Int)] = []
        for name in names {
            guard let id = byID.first(where: { $0.value == name })?.key else {
                throw TextError("\(vocabularyPath): special token \(JSONText.quoted(name)) is not in the vocabulary")
            }
            specials.append((name, id))
        }
        try self.init(vocabulary: byID, merges: merges, specialTokens: specials, source: mergesPath,
                      addsPrefixSpace: false, splitsPreTokens: true, ignoresMerges: false)
    }

    private init(vocabulary byID: [Int: String], merges: [(String, String, line: Int)], specialTokens: [(text: String, id: Int)],
                 source: String, addsPrefixSpace: Bool, splitsPreTokens: Bool, ignoresMerges: Bool) throws {
        let count = (byID.keys.max() ?? -1) + 1
        guard count > 0 else { throw TextError("\(source): the vocabulary is empty") }
        guard byID.count == count else {
            let missing = (0..<count).first { byID[$0] == nil }!
            throw TextError("\(source): ids must run from 0 to \(count - 1) without gaps, but \(missing) has no token")
        }
        let specialIDs = Set(specialTokens.map(\.id))
        var tokenBytes: [[UInt8]] = []
        var idOf: [String: Int] = [:]
        tokenBytes.reserveCapacity(count)
        for id in 0..<count {
            let token = byID[id]!
            if specialIDs.contains(id) {
                tokenBytes.append(Array(token.utf8))
                continue
            }
            guard let bytes = ByteLevel.bytes(spelledBy: token) else {
                throw TextError("\(source): token \(JSONText.quoted(token)) (id \(id)) is not spelled in GPT-2's byte-level alphabet")
            }
            tokenBytes.append(bytes)
            idOf[token] = id
        }
        var pairs: [(left: Int, right: Int)] = []
        pairs.reserveCapacity(merges.count)
        for (left, right, line) in merges {
            for part in [left, right] where idOf[part] == nil {
                throw TextError("\(source): merge \(line) (\(JSONText.quoted(left)) \(JSONText.quoted(right))) names \(JSONText.quoted(part)), which is not in the vocabulary")
            }
            pairs.append((idOf[left]!, idOf[right]!))
        }
        do {
            try self.init(tokenBytes: tokenBytes, merges: pairs, specialTokens: specialTokens,
                          addsPrefixSpace: addsPrefixSpace, splitsPreTokens: splitsPreTokens, ignoresMerges: ignoresMerges)
        } catch let error as TextError {
            throw TextError("\(source): \(error.description)")
        }
    }

    /// Writes a Hugging Face `tokenizer.json` that the `tokenizers` package loads
    /// (`Tokenizer.from_file`) and that gives the same ids.
    public func write(huggingFace path: String) throws {
        try Data(huggingFaceJSON.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The text of the `tokenizer.json` that `write(huggingFace:)` writes.
    public var huggingFaceJSON: String {
        var json = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        json += specialTokens.sorted { $0.id < $1.id }.map {
            "\n    {\"id\": \($0.id), \"content\": \(JSONText.quoted($0.text)), \"single_word\": false, \"lstrip\": false, "
                + "\"rstrip\": false, \"normalized\": false, \"special\": true}"
        }.joined(separator: ",")
        json += specialTokens.isEmpty ? "],\n" : "\n  ],\n"
        let byteLevel = "{\"type\": \"ByteLevel\", \"add_prefix_space\": \(addsPrefixSpace), \"trim_offsets\": true, \"use_regex\": \(splitsPreTokens)}"
        json += "  \"normalizer\": null,\n  \"pre_tokenizer\": \(byteLevel),\n  \"post_processor\": null,\n"
        json += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n"
        json += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
        json += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n"
        json += "    \"byte_fallback\": false,\n    \"ignore_merges\": \(ignoresMerges),\n    \"vocab\": {"
        json += (0..<count).map { "\n      \(JSONText.quoted(spelling($0))): \($0)" }.joined(separator: ",")
        json += "\n    },\n    \"merges\": ["
        json += merges.map { "\n      [\(JSONText.quoted(spelling($0.left))), \(JSONText.quoted(spelling($0.right)))]" }.joined(separator: ",")
        json += "\n    ]\n  }\n}\n"
        return json
    }

    /// Writes GPT-2's `vocab.json` and `merges.txt`.
    public func write(vocabularyJSON vocabularyPath: String, merges mergesPath: String) throws {
        let vocabulary = "{" + (0..<count).map { "\(JSONText.quoted(spelling($0))): \($0)" }.joined(separator: ", ") + "}\n"
        try Data(vocabulary.utf8).write(to: URL(fileURLWithPath: vocabularyPath), options: .atomic)
        let lines = ["#version: 0.2"] + merges.map { spelling($0.left) + " " + spelling($0.right) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: mergesPath), options: .atomic)
    }

    /// Token `id` as Hugging Face spells it: a special token as its text, any other in the
    /// byte-level alphabet.
    public func spelling(_ id: Int) -> String {
        isSpecial(id) ? String(decoding: tokenBytes[id], as: UTF8.self) : ByteLevel.spelling(tokenBytes[id])
    }

    private static func readBytes(_ path: String) throws -> Data {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > maximumFileBytes {
            throw TextError("\(path): \(size) bytes is more than the \(maximumFileBytes) a tokenizer file may have")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TextError("\(path): cannot read the file (missing or unreadable)")
        }
        return data
    }

    private static func readJSON(_ path: String) throws -> Any {
        let data = try readBytes(path)
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            throw TextError("\(path): not valid JSON (\((error as NSError).userInfo["NSDebugDescription"] ?? error.localizedDescription))")
        }
    }

    /// A vocabulary object (token → id) inverted, each id checked to be a distinct
    /// non-negative integer.
    private static func tokensByID(_ vocabulary: [String: Any], source: String) throws -> [Int: String] {
        var byID: [Int: String] = [:]
        for (token, value) in vocabulary {
            guard let id = (value as? NSNumber)?.intValue, id >= 0 else {
                throw TextError("\(source): vocabulary entry \(JSONText.quoted(token)) has id \(value), not a non-negative integer")
            }
            if let other = byID.updateValue(token, forKey: id) {
                throw TextError("\(source): id \(id) is given to both \(JSONText.quoted(other)) and \(JSONText.quoted(token))")
            }
        }
        return byID
    }

    private static func typeName(_ value: Any) -> String {
        ((value as? [String: Any])?["type"] as? String).map { "\"\($0)\"" } ?? "\(value)"
    }

    /// (add_prefix_space, use_regex) of a ByteLevel pre-tokenizer, alone or as the only
    /// member of a Sequence.
    private static func byteLevelOptions(_ value: Any?, path: String) throws -> (Bool, Bool) {
        guard var object = value as? [String: Any] else {
            throw TextError("\(path): no pre_tokenizer; byte-level BPE needs a ByteLevel pre-tokenizer")
        }
        if object["type"] as? String == "Sequence", let members = object["pretokenizers"] as? [[String: Any]], members.count == 1 {
            object = members[0]
        }
        guard object["type"] as? String == "ByteLevel" else {
            throw TextError("\(path): pre_tokenizer \(typeName(object)) is not supported; only ByteLevel (GPT-2's) is")
        }
        return ((object["add_prefix_space"] as? Bool) ?? true, (object["use_regex"] as? Bool) ?? true)
    }

    /// Merges as ["a", "b"] pairs (tokenizers ≥ 0.20) or "a b" strings (older files).
    private static func mergePairs(_ value: Any?, path: String) throws -> [(String, String, line: Int)] {
        guard let list = value as? [Any] else { throw TextError("\(path): model.merges is not a list") }
        return try list.enumerated().map { index, entry in
            if let pair = entry as? [String], pair.count == 2 { return (pair[0], pair[1], index) }
            if let text = entry as? String {
                let parts = text.split(separator: " ", omittingEmptySubsequences: false)
                if parts.count == 2 { return (String(parts[0]), String(parts[1]), index) }
            }
            throw TextError("\(path): model.merges[\(index)] is not two tokens")
        }
    }
}
