// `synapse lm train`: train a character language model on a text file.

import ArgumentParser
import Foundation
import Synapse
import SynapseDistributed
import SynapseExamples
import SynapseKernels

struct LanguageModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Character language models.",
        subcommands: [LanguageModelTrainCommand.self])
}

/// How `synapse lm train` splits text into tokens.
enum LanguageModelTokenizerKind: String, CaseIterable, ExpressibleByArgument {
    case char, bpe
}

/// The language models `synapse lm train` builds.
enum LanguageModelKind: String, CaseIterable, ExpressibleByArgument {
    case lstm, gru, gpt
}

struct LanguageModelTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a character language model on a UTF-8 text file and report validation loss in nats per character.",
        discussion: """
            The first 90 % of the characters train, the last 10 % validate. Each step draws --batch-size windows of \
            --context characters at random offsets; validation is the mean loss over 50 random validation batches.
            Defaults depend on --model. lstm/gru: 2 layers, hidden 256, embedding 128, context 128, batch 32, 1500 steps, \
            Adam lr 2e-3. gpt (nanoGPT's shakespeare_char CPU configuration): 4 layers, 4 heads, embedding 128, \
            context 64, batch 12, 2000 steps, AdamW lr 1e-3 with betas (0.9, 0.99) and weight decay 0.1 on matrices \
            and embeddings, warmup over a twentieth of the steps, cosine decay to 1e-4.
            Examples: synapse lm train --text input.txt --model lstm --steps 1500 --save lm.safetensors
                      synapse lm train --text input.txt --model gpt --layers 4 --heads 4 --embedding 128 --context 64 \
            --batch-size 12 --steps 2000 --lr 1e-3 --warmup 100 --min-lr 1e-4 --weight-decay 0.1 --dropout 0
            """)

    @Option(help: "The training text (UTF-8).")
    var text: String
    @Option(help: "The model: \(LanguageModelKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: LanguageModelKind = .lstm
    @Option(help: "Tokens: char (each Unicode scalar) or bpe (byte-level BPE learned on the training split).")
    var tokenizer: LanguageModelTokenizerKind = .char
    @Option(help: "BPE vocabulary size, 256 bytes included (--tokenizer bpe).")
    var vocabularySize = 512
    @Option(help: "Recurrent layers or Transformer blocks (default 2, gpt 4).")
    var layers: Int?
    @Option(help: "Hidden units per recurrent layer (lstm, gru; default 256).")
    var hidden: Int?
    @Option(help: "Attention heads per block (gpt; default 4).")
    var heads: Int?
    @Option(help: "Embedding width (default 128).")
    var embedding: Int?
    @Option(help: "Characters per training window, and the GPT's context (default 128, gpt 64).")
    var context: Int?
    @Option(help: "Windows per step (default 32, gpt 12).")
    var batchSize: Int?
    @Option(help: "Optimizer steps (default 1500, gpt 2000).")
    var steps: Int?
    @Option(help: "Peak learning rate (default 2e-3, gpt 1e-3).")
    var lr: Float?
    @Option(help: "Steps of linear learning-rate warmup (default 0, gpt a twentieth of --steps: 100 of 2000).")
    var warmup: Int?
    @Option(help: "Decay the learning rate along a cosine to this by the last step (default: none; gpt 1e-4).")
    var minLr: Float?
    @Option(help: "AdamW weight decay on matrices and embeddings (default 0: Adam; gpt 0.1).")
    var weightDecay: Float?
    @Option(help: "Clip the global gradient norm to this before each step (0 disables).")
    var clip: Float = 1.0
    @Option(help: "Dropout (between recurrent layers; in a GPT on embeddings, attention and residuals).")
    var dropout: Float = 0
    @Option(help: "Seed for initialization and window sampling.")
    var seed: UInt64 = 0
    @Option(help: "Save the model and its vocabulary (safetensors) here, for `synapse generate`.")
    var save: String?
    @OptionGroup var reporting: ReportOptions
    @OptionGroup var distribution: DistributedOptions
    @OptionGroup var common: CommonOptions

    static let validationBatches = 50
    /// Generated samples in the report: this many, spread over the run, of this many tokens.
    static let reportSamples = (count: 8, tokens: 200)

    private var isGPT: Bool { model == .gpt }
    private var resolvedLayers: Int { layers ?? (isGPT ? 4 : 2) }
    private var resolvedContext: Int { context ?? (isGPT ? 64 : 128) }
    private var resolvedBatchSize: Int { batchSize ?? (isGPT ? 12 : 32) }
    private var resolvedSteps: Int { steps ?? (isGPT ? 2000 : 1500) }
    private var resolvedLearningRate: Float { lr ?? (isGPT ? 1e-3 : 2e-3) }
    private var resolvedWarmup: Int { warmup ?? (isGPT ? resolvedSteps / 20 : 0) }
    private var resolvedMinimumLearningRate: Float? { minLr ?? (isGPT ? 1e-4 : nil) }
    private var resolvedWeightDecay: Float { weightDecay ?? (isGPT ? 0.1 : 0) }

    func validate() throws {
        for (name, value) in [("--layers", layers), ("--hidden", hidden), ("--heads", heads), ("--embedding", embedding),
                              ("--context", context), ("--batch-size", batchSize), ("--steps", steps)] {
            if let value, value <= 0 { throw ValidationError("\(name) must be positive, got \(value)") }
        }
        if isGPT, hidden != nil { throw ValidationError("--hidden is for recurrent models; a GPT's width is --embedding") }
        if !isGPT, heads != nil { throw ValidationError("--heads is for --model gpt") }
        if isGPT, (embedding ?? 128) % (heads ?? 4) != 0 {
            throw ValidationError("--embedding \(embedding ?? 128) is not divisible by --heads \(heads ?? 4)")
        }
        guard resolvedLearningRate > 0, resolvedLearningRate.isFinite else { throw ValidationError("--lr must be a positive number") }
        if let minLr, !(minLr >= 0 && minLr <= resolvedLearningRate) {
            throw ValidationError("--min-lr must be from 0 to --lr (\(resolvedLearningRate)), got \(minLr)")
        }
        if resolvedWarmup < 0 || resolvedWarmup >= resolvedSteps {
            throw ValidationError("--warmup must be from 0 to fewer than --steps (\(resolvedSteps)), got \(resolvedWarmup)")
        }
        if let weightDecay, !(weightDecay >= 0 && weightDecay.isFinite) { throw ValidationError("--weight-decay must be ≥ 0") }
        guard clip >= 0, clip.isFinite else { throw ValidationError("--clip must be a number ≥ 0") }
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1)") }
        guard (256...65_536).contains(vocabularySize) else {
            throw ValidationError("--vocabulary-size must be from 256 (the bytes) to 65536, got \(vocabularySize)")
        }
    }

    mutating func run() throws {
        try checkWritable(save, flag: "--save")
        common.applyThreadCount()
        let group = try distribution.start(common, command: self)
        if let group, group.rank != 0 { (save, reporting.report) = (nil, nil) }
        try train(group: group)
    }

    private func train(group: MPIProcessGroup?) throws {
        let (context, batchSize, steps) = (resolvedContext, resolvedBatchSize, resolvedSteps)
        let corpus = try reportingErrors { try UTF8Text.read(text) }
        guard !corpus.isEmpty else { throw CLIError("\(text) is empty") }
        // The split is by characters whatever the tokens, so every tokenizer validates on the same text.
        let scalars = Array(corpus.unicodeScalars)
        let split = Int(0.9 * Double(scalars.count))
        var trainText = "", validationText = ""
        trainText.unicodeScalars.append(contentsOf: scalars[..<split])
        validationText.unicodeScalars.append(contentsOf: scalars[split...])
        let vocabulary: LanguageModelTokenizer
        switch tokenizer {
        case .char: vocabulary = .characters(CharacterTokenizer(fitting: corpus))
        case .bpe:
            if !common.json { print("learning a byte-level BPE vocabulary of \(vocabularySize) on the training split") }
            vocabulary = .bytePairs(try reportingErrors {
                try BPETokenizer.train(on: trainText.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) + "\n" },
                                       vocabularySize: vocabularySize)
            })
        }
        let (trainTokens, validationTokens) = try reportingErrors { (try vocabulary.encode(trainText), try vocabulary.encode(validationText)) }
        guard validationTokens.count > context else {
            throw CLIError("\(text): its last 10 % holds \(validationTokens.count) tokens; --context \(context) needs at least "
                           + "\(context + 1) so that it holds one window and its target")
        }
        guard trainTokens.count > context else {
            throw CLIError("\(text): its first 90 % holds \(trainTokens.count) tokens, too few for --context \(context)")
        }
        // Loss per token times tokens per character: nats per character whatever the tokenizer.
        let charactersPerToken = Double(scalars.count - split) / Double(validationTokens.count)
        GlobalRandom.seed(seed)
        let network: any LanguageModel
        if isGPT {
            network = GPT(GPTConfiguration(vocabularySize: vocabulary.count, context: context, layers: resolvedLayers,
                                           heads: heads ?? 4, embedding: embedding ?? 128, dropout: dropout))
        } else {
            network = CharacterLanguageModel(vocabularySize: vocabulary.count, kind: model == .gru ? .gru : .lstm,
                                             embedding: embedding ?? 128, hidden: hidden ?? 256, layers: resolvedLayers,
                                             dropout: dropout)
        }
        let optimizer: Adam
        let decay = resolvedWeightDecay
        if decay > 0 {
            let adamW = AdamW(parameters: network.parameters, lr: resolvedLearningRate, betas: isGPT ? (0.9, 0.99) : (0.9, 0.999),
                              weightDecay: decay)
            // As nanoGPT: matrices and embeddings decay, vectors (norm weights, biases) do not.
            adamW.setWeightDecay([(network.parameters.filter { $0.shape.count < 2 }, 0)])
            optimizer = adamW
        } else {
            optimizer = Adam(parameters: network.parameters, lr: resolvedLearningRate)
        }
        let trainLoader = DataLoader(TokenWindows(tokens: trainTokens, context: context), batchSize: batchSize, shuffle: true,
                                     seed: seed)
        let validationLoader = DataLoader(TokenWindows(tokens: validationTokens, context: context), batchSize: batchSize,
                                          shuffle: true, seed: seed &+ 1, batchLimit: Self.validationBatches)
        if let group {
            group.prepare(network, seed: seed, options: distribution, quiet: common.json)
            validationLoader.shard = DataShard(rank: group.rank, count: group.size, padded: false)
        }
        trainLoader.shard = try distribution.trainingShard(group, batchSize: batchSize)
        let recent = RecentLoss(window: 50)
        let trainer = Trainer(model: network, optimizer: optimizer, callbacks: [ProgressBar(quiet: common.json), recent])
        trainer.processGroup = group
        if clip > 0 { trainer.gradientClipNorm = clip }
        var scheduleDescription = ""
        if resolvedWarmup > 0 || resolvedMinimumLearningRate != nil {
            trainer.schedule = WarmupCosineSchedule(optimizer: optimizer, warmupSteps: resolvedWarmup, totalSteps: steps,
                                                    minimumLearningRate: resolvedMinimumLearningRate ?? resolvedLearningRate)
            trainer.scheduleInterval = .batch
            scheduleDescription = ", \(resolvedWarmup) warmup steps, cosine to \(resolvedMinimumLearningRate ?? resolvedLearningRate)"
        }
        if let report = try reportCallback(network: network, vocabulary: vocabulary, trainTokens: trainTokens.count,
                                           validationTokens: validationTokens.count, characters: scalars.count,
                                           prompt: validationText) {
            trainer.callbacks.append(report)
        }
        if !common.json {
            print("training \(model.rawValue) language model (\(network.parameterCount) parameters) on \(text): "
                  + "\(scalars.count) characters, \(vocabulary.count) \(tokenizer == .char ? "distinct" : "BPE tokens"); "
                  + "\(trainTokens.count) train, \(validationTokens.count) validation tokens; "
                  + "\(steps) steps of \(batchSize) × \(context), \(decay > 0 ? "AdamW" : "Adam") lr \(resolvedLearningRate)"
                  + "\(decay > 0 ? ", weight decay \(decay)" : "")\(scheduleDescription), \(Kernels.threadCount) threads")
        }
        let epochs = (steps + trainLoader.batchCount - 1) / trainLoader.batchCount
        let history = try reportingErrors {
            try trainer.fit(network.trainingTask(), on: trainLoader, validation: nil, epochs: epochs, maxSteps: steps)
        }
        let trainingSeconds = history.map(\.seconds).reduce(0, +)
        let validation = try reportingErrors { try trainer.validate(network.trainingTask(), on: validationLoader) }
        let tokensPerSecond = Double(trainer.stepCount * batchSize * (group?.size ?? 1) * context) / trainingSeconds
        let validationPerCharacter = Double(validation.loss) / charactersPerToken
        if let save {
            try reportingErrors {
                try TrainedLanguageModel(model: network, tokenizer: vocabulary)
                    .save(to: save, metadata: ["context": String(context), "steps": String(trainer.stepCount),
                                               "val_loss": String(validation.loss), "text": text])
            }
        }
        if let report = trainer.callbacks.lazy.compactMap({ $0 as? TrainingReport }).first {
            report.document.results = [
                ReportField("Validation loss", String(format: "%.4f nats per character (%.3f bits)", validationPerCharacter,
                                                      validationPerCharacter / log(2))),
                ReportField("Train loss, last 50 steps", String(format: "%.4f", recent.mean)),
                ReportField("Tokens per second", String(format: "%.0f", tokensPerSecond)),
                ReportField("Steps", String(trainer.stepCount))]
            try reportingErrors { try report.finish() }
        }
        if common.json {
            printJSON([
                "model": model.rawValue, "steps": trainer.stepCount, "train_loss": Double(recent.mean),
                "val_loss": Double(validation.loss), "val_loss_per_character": validationPerCharacter,
                "tokenizer": tokenizer.rawValue, "vocabulary": vocabulary.count, "tokens_per_second": tokensPerSecond,
                "parameters": network.parameterCount, "seconds": trainingSeconds, "threads": Kernels.threadCount,
                "peak_rss_mb": peakResidentMegabytes(),
            ].merging(communicationFields(history)) { $1 })
        } else {
            let perToken = tokenizer == .char ? "" : String(format: " (%.4f nats per BPE token)", validation.loss)
            print(String(format: "validation loss %.4f nats/char (%.3f bits/char)", validationPerCharacter, validationPerCharacter / log(2))
                  + perToken
                  + String(format: " over %d batches; train loss %.4f (last 50 steps); %.0f tokens/s over %.1f s; peak RSS %.0f MB",
                           Self.validationBatches, recent.mean, tokensPerSecond, trainingSeconds, peakResidentMegabytes()))
            if let save { print("saved \(save)") }
        }
        try reportingErrors { try group?.finish() }
    }
}

extension LanguageModelTrainCommand {
    /// The `--report` callback: the model traced on one batch of windows, and a sample of
    /// generated text (prompted by the start of the validation text, drawn with a fixed seed
    /// at temperature 0.8) at `reportSamples.count` points of the run.
    private func reportCallback(network: any LanguageModel, vocabulary: LanguageModelTokenizer, trainTokens: Int,
                                validationTokens: Int, characters: Int, prompt text: String) throws -> TrainingReport? {
        guard reporting.report != nil else { return nil }
        let shape = [resolvedBatchSize, resolvedContext]
        let zeros = IndexTensor(Array(repeating: 0, count: shape[0] * shape[1]), shape: shape)
        let batch = SequenceBatch(tokens: zeros, targets: zeros, lengths: Array(repeating: shape[1], count: shape[0]))
        let task = network.trainingTask()
        let summary = try reportingErrors { try ModelSummary(network, inputShape: shape) { try task.forward(batch).logits } }
        let datasets = [ReportField("Text", self.text), ReportField("Characters", String(characters)),
                        ReportField("Vocabulary", "\(vocabulary.count) \(tokenizer == .char ? "characters" : "BPE tokens")"),
                        ReportField("Train tokens", String(trainTokens)), ReportField("Validation tokens", String(validationTokens))]
        guard let report = try reporting.makeReport(title: "\(model.rawValue) language model on \((self.text as NSString).lastPathComponent)",
                                                    command: self, datasets: datasets, summary: summary) else { return nil }
        let promptText = String(text.prefix(16))
        let prompt = (try? vocabulary.encode(promptText)) ?? []
        report.stepInterval = max(1, resolvedSteps / Self.reportSamples.count)
        report.stepDidEnd = { trainer, document in
            guard !prompt.isEmpty else { return }
            var sampler = try TokenSampler(temperature: 0.8, seed: 1)
            let context = network.contextLength.map { Array(prompt.suffix($0)) } ?? prompt
            let tokens = try network.inference {
                try network.generate(prompt: context, count: Self.reportSamples.tokens, sampler: &sampler, emit: { _ in },
                                     shouldStop: { false })
            }
            document.append(GalleryEntry(label: "step \(trainer.stepCount)", text: promptText + vocabulary.decode(tokens)),
                            toGallery: "Generated text")
        }
        return report
    }
}

/// The process's peak resident set so far, in MB (ru_maxrss), as the anchor scripts report it.
func peakResidentMegabytes() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / 1_048_576
    #endif
}
