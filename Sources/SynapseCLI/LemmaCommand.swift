// `synapse lemma`: train a character-level Transformer lemmatizer on UD treebanks and use it.

import ArgumentParser
import Foundation
import Synapse
import SynapseExamples
import SynapseKernels

struct LemmaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lemma",
        abstract: "Lemmatize words (form and UPOS tag → lemma) with a character-level Transformer encoder–decoder.",
        subcommands: [LemmaPredictCommand.self, LemmaTrainCommand.self, LemmaEvaluateCommand.self],
        defaultSubcommand: LemmaPredictCommand.self)
}

struct LemmaPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Print the lemma of a word form with its UPOS tag.",
        discussion: "Example: synapse lemma --checkpoint lemma.safetensors running VERB   (prints: run)")

    @Option(help: "A lemmatizer saved by `synapse lemma train --save`.")
    var checkpoint: String
    @Argument(help: "The word form.")
    var form: String
    @Argument(help: "Its universal part-of-speech tag (NOUN, VERB, ADJ, …).")
    var upos: String
    @Option(help: "Beam width (1: greedy decoding).")
    var beam = 1

    func validate() throws {
        guard beam >= 1 else { throw ValidationError("--beam must be at least 1") }
        guard !form.isEmpty else { throw ValidationError("the form must not be empty") }
    }

    func run() throws {
        let trained = try reportingErrors { try TrainedLemmatizer(checkpoint: checkpoint) }
        if !trained.model.vocabulary.tags.contains(upos) {
            throw CLIError("\(upos) is not a UPOS tag this lemmatizer knows: \(trained.model.vocabulary.tags.joined(separator: " "))")
        }
        print(try reportingErrors { try trained.model.lemmatize([(form, upos)], beamWidth: beam)[0] })
    }
}

struct LemmaTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a lemmatizer on a CoNLL-U treebank and report dev accuracy beside the baselines.",
        discussion: """
            Trains on the (form, UPOS, lemma) triples of --train, each repeated as --weighting says; dev accuracy \
            counts every dev word. \
            The baselines run on the same words: the lowercased form, and a lookup of (form, UPOS) in the training \
            words with the lowercased form as fallback.
            Example: synapse lemma train --train en_ewt-ud-train.conllu --dev en_ewt-ud-dev.conllu --save lemma.safetensors
            """)

    @Option(help: "Training sentences (CoNLL-U).")
    var train: String
    @Option(help: "Development sentences (CoNLL-U).")
    var dev: String
    @Option(help: "Use only the first N training sentences.")
    var trainSentences: Int?
    @Option(help: "Training epochs.")
    var epochs = 15
    @Option(help: "How often each distinct training triple appears per epoch: distinct (once), log (1 + ⌊log₂ count⌋) or tokens (every word).")
    var weighting = LemmaWeighting.logFrequency
    @Option(help: "Words per batch.")
    var batchSize = 64
    @Option(help: "Peak learning rate (AdamW, warmup then cosine decay).")
    var lr: Float = 2e-3
    @Option(help: "Model width.")
    var width = 128
    @Option(help: "Attention heads.")
    var heads = 4
    @Option(help: "Encoder and decoder layers (each).")
    var layers = 2
    @Option(help: "Dropout.")
    var dropout: Float = 0.1
    @Option(help: "Beam width for the dev evaluation (1: greedy).")
    var beam = 1
    @Option(help: "Seed for initialization, shuffling and dropout.")
    var seed: UInt64 = 0
    @Option(help: "Save the lemmatizer here.")
    var save: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        for (name, value) in [("--epochs", epochs), ("--batch-size", batchSize), ("--width", width), ("--heads", heads),
                              ("--layers", layers), ("--beam", beam)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        if let trainSentences, trainSentences <= 0 { throw ValidationError("--train-sentences must be positive") }
        guard width % heads == 0 else { throw ValidationError("--width \(width) is not divisible by --heads \(heads)") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1)") }
    }

    func run() throws {
        try checkWritable(save, flag: "--save")
        common.applyThreadCount()
        var trainSet = try reportingErrors { try CoNLLU.read(train) }
        if let trainSentences { trainSet = Array(trainSet.prefix(trainSentences)) }
        let devSet = try reportingErrors { try CoNLLU.read(dev) }
        let trainWords = trainSet.flatMap(\.words), devWords = devSet.flatMap(\.words)
        guard !trainWords.isEmpty, !devWords.isEmpty else { throw CLIError("\(trainWords.isEmpty ? train : dev) holds no words") }
        let examples = weighting.examples(trainWords)
        let vocabulary = LemmaVocabulary(fitting: trainWords)
        GlobalRandom.seed(seed)
        let longest = examples.map { max($0.form.unicodeScalars.count, $0.lemma.unicodeScalars.count) }.max()! + 2
        let model = Lemmatizer(vocabulary: vocabulary, width: width, heads: heads, layers: layers, feedForward: 2 * width,
                               dropout: dropout, maximumLength: max(128, longest + 8))
        let optimizer = AdamW(parameters: model.parameters, lr: lr, weightDecay: 0.01)
        let loader = DataLoader(LemmaPairs(examples, vocabulary: vocabulary), batchSize: batchSize, shuffle: true, seed: seed)
        let trainer = Trainer(model: model, optimizer: optimizer, callbacks: [ProgressBar(quiet: common.json)])
        trainer.gradientClipNorm = 1
        let steps = epochs * loader.batchCount
        trainer.schedule = WarmupCosineSchedule(optimizer: optimizer, warmupSteps: min(200, steps / 10), totalSteps: steps,
                                                minimumLearningRate: lr / 20)
        trainer.scheduleInterval = .batch
        if !common.json {
            print("training lemmatizer (\(model.parameterCount) parameters) on \(examples.count) (form, UPOS, lemma) "
                  + "(\(weighting.rawValue) weighting) of \(trainWords.count) words; \(epochs) epochs of batches of \(batchSize), "
                  + "\(Kernels.threadCount) threads")
        }
        let history = try reportingErrors { try trainer.fit(model.trainingTask(), on: loader, epochs: epochs) }
        let seconds = history.map(\.seconds).reduce(0, +)

        let evaluation = try reportingErrors {
            try LemmaEvaluation(model: model, dev: devWords, baselines: LemmaBaselines(training: trainWords), beamWidth: beam)
        }
        if let save {
            try reportingErrors {
                try TrainedLemmatizer(model: model).save(to: save, metadata: ["train": train, "epochs": String(epochs),
                                                                              "dev_accuracy": String(evaluation.accuracy)])
            }
        }
        if common.json {
            printJSON(evaluation.report.merging(["train_examples": examples.count, "weighting": weighting.rawValue,
                                                 "parameters": model.parameterCount, "seconds": seconds, "beam": beam]) { $1 })
        } else {
            printLemmaEvaluation(evaluation, beam: beam)
            print(String(format: "trained in %.1f s", seconds))
            if let save { print("saved \(save)") }
        }
    }
}

extension LemmaWeighting: ExpressibleByArgument {}

struct LemmaEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a saved lemmatizer on a CoNLL-U file beside the baselines, and list its most frequent mistakes.",
        discussion: "Example: synapse lemma evaluate --checkpoint lemma.safetensors --train en_ewt-ud-train.conllu --dev en_ewt-ud-dev.conllu")

    @Option(help: "A lemmatizer saved by `synapse lemma train --save`.")
    var checkpoint: String
    @Option(help: "The training sentences (CoNLL-U), for the lookup baseline.")
    var train: String
    @Option(help: "The sentences to score (CoNLL-U).")
    var dev: String
    @Option(help: "Beam width (1: greedy decoding).")
    var beam = 1
    @Option(help: "How many of the most frequent mistakes to list.")
    var mistakes = 20
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard beam >= 1 else { throw ValidationError("--beam must be at least 1") }
        guard mistakes >= 0 else { throw ValidationError("--mistakes must not be negative") }
    }

    func run() throws {
        common.applyThreadCount()
        let trained = try reportingErrors { try TrainedLemmatizer(checkpoint: checkpoint) }
        let trainWords = try reportingErrors { try CoNLLU.read(train) }.flatMap(\.words)
        let devWords = try reportingErrors { try CoNLLU.read(dev) }.flatMap(\.words)
        guard !devWords.isEmpty else { throw CLIError("\(dev) holds no words") }
        let start = Date()
        let evaluation = try reportingErrors {
            try LemmaEvaluation(model: trained.model, dev: devWords, baselines: LemmaBaselines(training: trainWords), beamWidth: beam)
        }
        let seconds = Date().timeIntervalSince(start)
        if common.json {
            let listed = evaluation.mistakes.prefix(mistakes).map {
                ["form": $0.form, "upos": $0.upos, "expected": $0.expected, "predicted": $0.predicted, "count": $0.count] as [String: Any]
            }
            printJSON(evaluation.report.merging(["beam": beam, "seconds": seconds, "mistakes": listed]) { $1 })
        } else {
            printLemmaEvaluation(evaluation, beam: beam)
            for mistake in evaluation.mistakes.prefix(mistakes) {
                print("  \(mistake.count)×  \(mistake.form) \(mistake.upos): \(mistake.predicted), not \(mistake.expected)")
            }
            print(String(format: "evaluated in %.1f s", seconds))
        }
    }
}

private func printLemmaEvaluation(_ evaluation: LemmaEvaluation, beam: Int) {
    print(String(format: "dev accuracy %.4f over %d words (beam %d; %.4f on the %d whose form and tag training never saw); "
                 + "baselines: lowercase %.4f, train lookup %.4f; the lookup for seen pairs and the model for the rest %.4f",
                 evaluation.accuracy, evaluation.words, beam, evaluation.unseenAccuracy, evaluation.unseenWords,
                 evaluation.lowercaseAccuracy, evaluation.lookupAccuracy, evaluation.lookupThenModelAccuracy))
}
