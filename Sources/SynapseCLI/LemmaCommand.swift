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
        subcommands: [LemmaPredictCommand.self, LemmaTrainCommand.self],
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
            Trains on the distinct (form, UPOS, lemma) triples of --train; dev accuracy counts every dev word. \
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
    var epochs = 20
    @Option(help: "Words per batch.")
    var batchSize = 64
    @Option(help: "Peak learning rate (AdamW, warmup then cosine decay).")
    var lr: Float = 1e-3
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
        var seen = Set<String>()
        let triples = trainWords.filter { seen.insert($0.form + "\t" + $0.upos + "\t" + $0.lemma).inserted }
            .map { (form: $0.form, upos: $0.upos, lemma: $0.lemma) }
        let vocabulary = LemmaVocabulary(fitting: trainWords)
        GlobalRandom.seed(seed)
        let longest = triples.map { max($0.form.unicodeScalars.count, $0.lemma.unicodeScalars.count) }.max()! + 2
        let model = Lemmatizer(vocabulary: vocabulary, width: width, heads: heads, layers: layers, feedForward: 2 * width,
                               dropout: dropout, maximumLength: max(128, longest + 8))
        let optimizer = AdamW(parameters: model.parameters, lr: lr, weightDecay: 0.01)
        let loader = DataLoader(LemmaPairs(triples, vocabulary: vocabulary), batchSize: batchSize, shuffle: true, seed: seed)
        let trainer = Trainer(model: model, optimizer: optimizer, callbacks: [ProgressBar(quiet: common.json)])
        trainer.gradientClipNorm = 1
        let steps = epochs * loader.batchCount
        trainer.schedule = WarmupCosineSchedule(optimizer: optimizer, warmupSteps: min(200, steps / 10), totalSteps: steps,
                                                minimumLearningRate: lr / 20)
        trainer.scheduleInterval = .batch
        if !common.json {
            print("training lemmatizer (\(model.parameterCount) parameters) on \(triples.count) distinct (form, UPOS, lemma) "
                  + "of \(trainWords.count) words; \(epochs) epochs of batches of \(batchSize), \(Kernels.threadCount) threads")
        }
        let history = try reportingErrors { try trainer.fit(model.trainingTask(), on: loader, epochs: epochs) }
        let seconds = history.map(\.seconds).reduce(0, +)

        let baselines = LemmaBaselines(training: trainWords)
        var pairs: [(form: String, upos: String)] = [], index: [String: Int] = [:]
        for word in devWords where index[word.form + "\t" + word.upos] == nil {
            index[word.form + "\t" + word.upos] = pairs.count
            pairs.append((word.form, word.upos))
        }
        let predicted = try reportingErrors { try model.lemmatize(pairs, beamWidth: beam) }
        var correct = 0, lowercase = 0, lookup = 0, combined = 0
        for word in devWords {
            let guess = predicted[index[word.form + "\t" + word.upos]!]
            if guess == word.lemma { correct += 1 }
            if LemmaBaselines.lowercase(word.form) == word.lemma { lowercase += 1 }
            if baselines.lookupOrLowercase(form: word.form, upos: word.upos) == word.lemma { lookup += 1 }
            let hybrid = baselines.knows(form: word.form, upos: word.upos)
                ? baselines.lookupOrLowercase(form: word.form, upos: word.upos) : guess
            if hybrid == word.lemma { combined += 1 }
        }
        let n = Double(devWords.count)
        if let save {
            try reportingErrors {
                try TrainedLemmatizer(model: model).save(to: save, metadata: ["train": train, "epochs": String(epochs),
                                                                              "dev_accuracy": String(Double(correct) / n)])
            }
        }
        if common.json {
            printJSON(["dev_accuracy": Double(correct) / n, "dev_accuracy_lookup_then_model": Double(combined) / n,
                       "baseline_lowercase": Double(lowercase) / n, "baseline_lookup": Double(lookup) / n,
                       "dev_words": devWords.count, "train_triples": triples.count, "parameters": model.parameterCount,
                       "seconds": seconds, "beam": beam])
        } else {
            print(String(format: "dev accuracy %.4f over %d words (beam %d); baselines: lowercase %.4f, train lookup %.4f; "
                         + "lookup for seen pairs and the model for the rest %.4f; %.1f s", Double(correct) / n,
                         devWords.count, beam, Double(lowercase) / n, Double(lookup) / n, Double(combined) / n, seconds))
            if let save { print("saved \(save)") }
        }
    }
}
