// `synapse generate`: sample text from a saved language model, streamed as it is made.

import ArgumentParser
import Foundation
import Synapse
import SynapseExamples
import SynapseKernels

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a language model saved by `synapse lm train`, streaming it to standard output.",
        discussion: "Example: synapse generate --checkpoint lm.safetensors --prompt \"ROMEO:\" --tokens 500 --temperature 0.8 --top-k 40")

    @Option(help: "A model saved by `synapse lm train --save`.")
    var checkpoint: String
    @Option(help: "Text the generated tokens continue (for a character model every character must be in its vocabulary; default: a newline).")
    var prompt = "\n"
    @Option(help: "Tokens to generate (characters, or BPE pieces for a --tokenizer bpe model).")
    var tokens = 500
    @Option(help: "Sampling temperature; lower is more conservative, 0 always takes the most likely character.")
    var temperature: Float = 0.8
    @Option(help: "Sample only among the k most likely characters.")
    var topK: Int?
    @Option(help: "Sample only among the most likely characters whose probabilities add up to p (nucleus sampling).")
    var topP: Float?
    @Option(help: "Seed for sampling: the same seed gives the same text.")
    var seed: UInt64 = 0
    @Option(help: "Stop as soon as the generated text contains this (it is printed; nothing after it is).")
    var stop: String?
    @Flag(help: "GPT: re-run the whole context for every token instead of using the key-value cache (for comparison).")
    var noCache = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard tokens > 0 else { throw ValidationError("--tokens must be positive") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty") }
        if let stop, stop.isEmpty { throw ValidationError("--stop must not be empty") }
    }

    func run() throws {
        common.applyThreadCount()
        let trained = try reportingErrors { try TrainedLanguageModel(checkpoint: checkpoint) }
        let promptTokens: [Int]
        do {
            promptTokens = try trained.tokenizer.encode(prompt)
        } catch {
            throw CLIError("--prompt: \(error)")
        }
        var sampler = try reportingErrors { try TokenSampler(temperature: temperature, topK: topK, topP: topP, seed: seed) }
        let output = FileHandle.standardOutput
        if !common.json { output.write(Data(prompt.utf8)) }
        var context = promptTokens
        if let limit = trained.model.contextLength, promptTokens.count > limit {
            context = Array(promptTokens.suffix(limit))
            FileHandle.standardError.write(Data(("synapse: the prompt has \(promptTokens.count) tokens, more than the model's "
                + "context of \(limit); generating from its last \(limit)\n").utf8))
        }
        let start = DispatchTime.now().uptimeNanoseconds
        // Text is decoded as a whole so far, so --stop also finds a match that spans tokens.
        var text = ""
        var stopped = false
        var stream = UTF8Stream()
        let emit = { (token: Int) in
            guard !stopped else { return }
            var piece = stream.append(trained.tokenizer.bytes(of: token))
            if let stop {
                let joined = text + piece
                if let range = joined.range(of: stop) {
                    piece = String(joined[joined.index(joined.startIndex, offsetBy: text.count)..<range.upperBound])
                    stopped = true
                }
            }
            text += piece
            if !common.json { output.write(Data(piece.utf8)) }
        }
        var generated: [Int]
        if let gpt = trained.model as? GPT {
            generated = try reportingErrors {
                try gpt.generate(prompt: context, count: tokens, sampler: &sampler, cached: !noCache, emit: emit,
                                 shouldStop: { stopped })
            }
        } else {
            if noCache { throw CLIError("--no-cache is for GPT checkpoints; \(checkpoint) holds a \(trained.model.kindName) model") }
            generated = try reportingErrors { try trained.model.generate(prompt: context, count: tokens, sampler: &sampler, emit: emit,
                                                                           shouldStop: { stopped }) }
        }
        if !stopped {
            let rest = stream.finish()
            text += rest
            if !common.json { output.write(Data(rest.utf8)) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if common.json {
            printJSON(["prompt": prompt, "text": text, "tokens": generated.count,
                       "seconds": seconds, "tokens_per_second": Double(generated.count) / seconds])
        } else {
            print()
        }
    }
}
