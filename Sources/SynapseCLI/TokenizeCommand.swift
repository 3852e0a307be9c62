// `synapse tokenize`: train, apply and inspect byte-level BPE tokenizers.

import ArgumentParser
import Foundation
import Synapse

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Train byte-level BPE tokenizers and encode or decode text with them (Hugging Face tokenizer.json compatible).",
        subcommands: [TokenizeTrainCommand.self, TokenizeEncodeCommand.self, TokenizeDecodeCommand.self])
}

/// Where a tokenizer comes from: a tokenizer.json, or GPT-2's vocab.json and merges.txt.
struct TokenizerSource: ParsableArguments {
    @Option(help: "A Hugging Face tokenizer.json with a byte-level BPE model (saved by `synapse tokenize train` or by the tokenizers package).")
    var tokenizer: String?
    @Option(help: "GPT-2's vocab.json (with --merges) instead of --tokenizer.")
    var vocab: String?
    @Option(help: "GPT-2's merges.txt (with --vocab).")
    var merges: String?

    func validate() throws {
        switch (tokenizer, vocab, merges) {
        case (.some, nil, nil), (nil, .some, .some): break
        case (.some, _, _): throw ValidationError("give either --tokenizer or --vocab with --merges, not both")
        default: throw ValidationError("give --tokenizer tokenizer.json, or --vocab vocab.json with --merges merges.txt")
        }
    }

    func load() throws -> BPETokenizer {
        try reportingErrors {
            if let tokenizer { return try BPETokenizer(huggingFace: tokenizer) }
            return try BPETokenizer(vocabularyJSON: vocab!, merges: merges!)
        }
    }
}

struct TokenizeTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Learn a byte-level BPE tokenizer from text files.",
        discussion: "Example: synapse tokenize train --text ../shared/data/tinyshakespeare/input.txt --vocab-size 1024 --save tok.json")

    @Option(help: "A UTF-8 text file to learn from; repeat for several.")
    var text: [String] = []
    @Option(help: "Tokens in the vocabulary: special tokens, the 256 bytes and one per merge.")
    var vocabSize = 1024
    @Option(help: "The fewest occurrences a pair needs to be merged.")
    var minFrequency = 2
    @Option(help: "A special token (e.g. \"<|endoftext|>\"), matched whole in text; repeat for several.")
    var special: [String] = []
    @Option(help: "Where to write the tokenizer, as a Hugging Face tokenizer.json.")
    var save: String
    @Option(help: "Also write GPT-2's vocab.json and merges.txt into this folder.")
    var gpt2Folder: String?
    @Flag(help: "Print JSON results instead of text.")
    var json = false

    func validate() throws {
        guard !text.isEmpty else { throw ValidationError("give at least one --text file") }
        guard (257...1 << 20).contains(vocabSize) else { throw ValidationError("--vocab-size must be from 257 to \(1 << 20), got \(vocabSize)") }
        guard minFrequency >= 1 else { throw ValidationError("--min-frequency must be at least 1") }
    }

    func run() throws {
        try checkWritable(save, flag: "--save")
        if let gpt2Folder { try checkWritable(gpt2Folder + "/vocab.json", flag: "--gpt2-folder") }
        let texts = try text.map { path in try reportingErrors { try UTF8Text.read(path) } }
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        guard bytes > 0 else { throw CLIError("--text: the files are empty") }
        let interactive = !json && isatty(STDERR_FILENO) != 0
        var lastShown = DispatchTime.now().uptimeNanoseconds
        let start = lastShown
        let tokenizer = try reportingErrors {
            try BPETokenizer.train(on: texts, vocabularySize: vocabSize, minimumFrequency: minFrequency, specialTokens: special) { done, wanted in
                let now = DispatchTime.now().uptimeNanoseconds
                guard interactive, now - lastShown > 100_000_000 || done == wanted else { return }
                lastShown = now
                FileHandle.standardError.write(Data("\rmerges \(done)/\(wanted) (\(100 * done / max(1, wanted))%)".utf8))
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        try reportingErrors {
            try tokenizer.write(huggingFace: save)
            if let gpt2Folder {
                try tokenizer.write(vocabularyJSON: gpt2Folder + "/vocab.json", merges: gpt2Folder + "/merges.txt")
            }
        }
        let ids = tokenizer.encode(texts[0])
        if json {
            printJSON(["vocab_size": tokenizer.count, "merges": tokenizer.merges.count, "bytes": bytes, "seconds": seconds,
                       "bytes_per_token": Double(texts[0].utf8.count) / Double(max(1, ids.count)), "saved": save])
        } else {
            var line = "Learned \(tokenizer.merges.count) merges from \(bytes) bytes in \(String(format: "%.2f", seconds)) s"
            if tokenizer.count < vocabSize { line += " (no pair occurs \(minFrequency) times after that, so the vocabulary is \(tokenizer.count), not \(vocabSize))" }
            print(line + "; \(text[0]) is \(ids.count) tokens (\(String(format: "%.2f", Double(texts[0].utf8.count) / Double(max(1, ids.count)))) bytes per token).")
            print("Saved \(save)" + (gpt2Folder.map { " and \($0)/vocab.json, \($0)/merges.txt" } ?? ""))
        }
    }
}

struct TokenizeEncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Print the token ids of text.",
        discussion: "Example: synapse tokenize encode --tokenizer tok.json \"To be, or not to be\"")

    @OptionGroup var source: TokenizerSource
    @Argument(help: "Text to encode; with none, --file is read.")
    var text: [String] = []
    @Option(help: "A UTF-8 file to encode instead of the text arguments.")
    var file: String?
    @Flag(help: "Print each token's text beside its id.")
    var tokens = false
    @Flag(help: "Print JSON results instead of text.")
    var json = false

    func validate() throws {
        guard text.isEmpty != (file == nil) else { throw ValidationError("give the text as arguments or --file, not both or neither") }
    }

    func run() throws {
        let tokenizer = try source.load()
        let input = try file.map { path in try reportingErrors { try UTF8Text.read(path) } } ?? text.joined(separator: " ")
        let ids = tokenizer.encode(input)
        if json {
            printJSON(["ids": ids, "tokens": ids.map { tokenizer.spelling($0) }, "count": ids.count])
        } else if tokens {
            for id in ids { print("\(id)\t\(JSONText.quoted(tokenizer.decode([id])))") }
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }
}

struct TokenizeDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Print the text of token ids.",
        discussion: "Example: synapse tokenize decode --tokenizer tok.json 464 318 257")

    @OptionGroup var source: TokenizerSource
    @Argument(help: "Token ids.")
    var ids: [Int] = []
    @Flag(help: "Leave special tokens out.")
    var skipSpecial = false

    func run() throws {
        let tokenizer = try source.load()
        if let bad = ids.first(where: { !(0..<tokenizer.count).contains($0) }) {
            throw CLIError("id \(bad) is not in the vocabulary (ids run from 0 to \(tokenizer.count - 1))")
        }
        print(tokenizer.decode(ids, skippingSpecialTokens: skipSpecial))
    }
}
