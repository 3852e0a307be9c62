// Sentences with class labels, from a TSV file or a folder of one file per class.

import Foundation

/// Labelled sentences for text classification, read from either layout:
/// - a file of `text<TAB>label` lines (the UCI sentiment files), split at the last tab;
/// - a folder with one file per class, one example per line, the class named by the file
///   (files named like "readme", ending in ".md", or hidden are skipped).
///
/// Files are UTF-8, or Windows-1252 with one warning per file (see `TextFile`). Lines are split
/// at line feeds only, text is trimmed, and blank lines are skipped.
public struct LabelledSentences: Sendable {
    public var texts: [String]
    /// Each text's class, an index into `classes`.
    public var labels: [Int]
    /// The class names, sorted, unless given to `read`.
    public let classes: [String]

    public init(texts: [String], labels: [Int], classes: [String]) {
        precondition(texts.count == labels.count && labels.allSatisfy { classes.indices.contains($0) })
        self.texts = texts
        self.labels = labels
        self.classes = classes
    }

    public var count: Int { texts.count }

    /// Reads `path` (a TSV file or a folder). With `classes` (a trained model's), every label
    /// must be one of them; without, they are the sorted distinct labels, and there must be two or more.
    public static func read(_ path: String, classes known: [String]? = nil,
                            warn: (String) -> Void = { FileHandle.standardError.write(Data("Warning: \($0)\n".utf8)) }) throws -> LabelledSentences {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw TextError("\(path): no such file or folder") }
        var texts: [String] = [], names: [String] = [], places: [String] = []
        if isDirectory.boolValue {
            let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted().filter { name in
                let lower = name.lowercased()
                var folder: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &folder)
                return !folder.boolValue && !lower.contains("readme") && !lower.hasSuffix(".md") && !name.hasPrefix(".")
            }
            for file in files {
                let filePath = path + "/" + file
                for (number, line) in TextFile.lines(try TextFile.read(filePath, warn: warn)).enumerated() {
                    let text = line.trimmingCharacters(in: .whitespaces)
                    guard !text.isEmpty else { continue }
                    texts.append(text)
                    names.append(file)
                    places.append("\(filePath):\(number + 1)")
                }
            }
        } else {
            for (number, line) in TextFile.lines(try TextFile.read(path, warn: warn)).enumerated() {
                guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                guard let tab = line.lastIndex(of: "\t") else {
                    throw TextError("\(path):\(number + 1): no tab; each line is text<TAB>label")
                }
                let text = line[..<tab].trimmingCharacters(in: .whitespaces)
                let label = line[line.index(after: tab)...].trimmingCharacters(in: .whitespaces)
                guard !label.isEmpty else { throw TextError("\(path):\(number + 1): the label after the tab is empty") }
                texts.append(text)
                names.append(label)
                places.append("\(path):\(number + 1)")
            }
        }
        guard !texts.isEmpty else { throw TextError("\(path): no labelled sentences (the corpus is empty)") }
        let classes = known ?? Array(Set(names)).sorted()
        if known == nil && classes.count < 2 {
            throw TextError("\(path): every sentence has the label \"\(classes[0])\"; a classifier needs at least two classes")
        }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var labels: [Int] = []
        labels.reserveCapacity(names.count)
        for (name, place) in zip(names, places) {
            guard let label = index[name] else {
                throw TextError("\(place): label \"\(name)\" is not a class of the model (\(classes.joined(separator: ", ")))")
            }
            labels.append(label)
        }
        return LabelledSentences(texts: texts, labels: labels, classes: classes)
    }
}
