// `synapse lm train`: train a character language model on a text file.

import ArgumentParser
import Foundation
import Synapse
import SynapseExamples
import SynapseKernels

extension RecurrentModelName: ExpressibleByArgument {}

struct LanguageModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Character language models.",
        subcommands: [LanguageModelTrainCommand.self])
}

struct LanguageModelTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a character language model on a UTF-8 text file and report validation loss in nats per character.",
        discussion: """
            The first 90 % of the characters train, the last 10 % validate. Each step draws --batch-size windows of \
            --context characters at random offsets; validation is the mean loss over 50 random validation batches.
            Example: synapse lm train --text input.txt --model lstm --steps 1500 --save lm.safetensors
            """)

    @Option(help: "The training text (UTF-8).")
    var text: String
    @Option(help: "Recurrent network: \(RecurrentModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: RecurrentModelName = .lstm
    @Option(help: "Recurrent layers.")
    var layers = 2
    @Option(help: "Hidden units per layer.")
    var hidden = 256
    @Option(help: "Embedding width.")
    var embedding = 128
    @Option(help: "Characters per training window (backpropagation through time spans one window).")
    var context = 128
    @Option(help: "Windows per step.")
    var batchSize = 32
    @Option(help: "Optimizer steps (Adam).")
    var steps = 1500
    @Option(help: "Learning rate.")
    var lr: Float = 2e-3
    @Option(help: "Clip the global gradient norm to this before each step (0 disables).")
    var clip: Float = 1.0
    @Option(help: "Dropout between recurrent layers.")
    var dropout: Float = 0
    @Option(help: "Seed for initialization and window sampling.")
    var seed: UInt64 = 0
    @Option(help: "Save the model and its vocabulary (safetensors) here, for `synapse generate`.")
    var save: String?
    @OptionGroup var common: CommonOptions

    static let validationBatches = 50

    func validate() throws {
        for (name, value) in [("--layers", layers), ("--hidden", hidden), ("--embedding", embedding), ("--context", context),
                              ("--batch-size", batchSize), ("--steps", steps)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard clip >= 0, clip.isFinite else { throw ValidationError("--clip must be a number ≥ 0") }
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1)") }
    }

    func run() throws {
        try checkWritable(save, flag: "--save")
        common.applyThreadCount()
        let corpus = try reportingErrors { try UTF8Text.read(text) }
        guard !corpus.isEmpty else { throw CLIError("\(text) is empty") }
        let tokenizer = CharacterTokenizer(fitting: corpus)
        let tokens = try reportingErrors { try tokenizer.encode(corpus) }
        let split = Int(0.9 * Double(tokens.count))
        let (trainTokens, validationTokens) = (Array(tokens[..<split]), Array(tokens[split...]))
        guard validationTokens.count > context else {
            throw CLIError("\(text) has \(tokens.count) characters; with --context \(context) it needs at least "
                           + "\(Int((Double(context + 1) / 0.1).rounded(.up))) so that its last 10 % holds one window and its target")
        }
        GlobalRandom.seed(seed)
        let network = CharacterLanguageModel(vocabularySize: tokenizer.count, kind: model, embedding: embedding, hidden: hidden,
                                             layers: layers, dropout: dropout)
        let optimizer = Adam(parameters: network.parameters, lr: lr)
        let trainLoader = DataLoader(TokenWindows(tokens: trainTokens, context: context), batchSize: batchSize, shuffle: true,
                                     seed: seed)
        let validationLoader = DataLoader(TokenWindows(tokens: validationTokens, context: context), batchSize: batchSize,
                                          shuffle: true, seed: seed &+ 1, batchLimit: Self.validationBatches)
        if !common.json {
            print("training \(model.rawValue) language model (\(network.parameterCount) parameters) on \(text): "
                  + "\(tokens.count) characters, \(tokenizer.count) distinct; \(trainTokens.count) train, \(validationTokens.count) validation; "
                  + "\(steps) steps of \(batchSize) × \(context), Adam lr \(lr), \(Kernels.threadCount) threads")
        }
        let recent = RecentLoss(window: 50)
        let trainer = Trainer(model: network, optimizer: optimizer, callbacks: [ProgressBar(quiet: common.json), recent])
        if clip > 0 { trainer.gradientClipNorm = clip }
        let epochs = (steps + trainLoader.batchCount - 1) / trainLoader.batchCount
        let history = try reportingErrors {
            try trainer.fit(network.trainingTask(), on: trainLoader, validation: nil, epochs: epochs, maxSteps: steps)
        }
        let trainingSeconds = history.map(\.seconds).reduce(0, +)
        let validation = try reportingErrors { try trainer.validate(network.trainingTask(), on: validationLoader) }
        let tokensPerSecond = Double(trainer.stepCount * batchSize * context) / trainingSeconds
        if let save {
            try reportingErrors {
                try TrainedLanguageModel(model: network, tokenizer: tokenizer)
                    .save(to: save, metadata: ["context": String(context), "steps": String(trainer.stepCount),
                                               "val_loss": String(validation.loss), "text": text])
            }
        }
        if common.json {
            printJSON([
                "model": model.rawValue, "steps": trainer.stepCount, "train_loss": Double(recent.mean),
                "val_loss": Double(validation.loss), "tokens_per_second": tokensPerSecond,
                "parameters": network.parameterCount, "seconds": trainingSeconds, "threads": Kernels.threadCount,
            ])
        } else {
            print(String(format: "validation loss %.4f nats/char (%.3f bits/char) over %d batches; train loss %.4f (last 50 steps); "
                         + "%.0f tokens/s over %.1f s",
                         validation.loss, validation.loss / log(2), Self.validationBatches, recent.mean, tokensPerSecond,
                         trainingSeconds))
            if let save { print("saved \(save)") }
        }
    }
}
