// `synapse tag`: part-of-speech tagging on Universal Dependencies treebanks.

import ArgumentParser
import Foundation
import Synapse
import SynapseDistributed
import SynapseExamples

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Part-of-speech tagging: train a BiLSTM tagger with character features on CoNLL-U, evaluate it, tag text.",
        discussion: """
            synapse tag train --train en_ewt-ud-train.conllu --dev en_ewt-ud-dev.conllu --save tagger.safetensors
            synapse tag evaluate --checkpoint tagger.safetensors --data en_ewt-ud-dev.conllu
            synapse tag --checkpoint tagger.safetensors "The quick brown fox jumps ."
            """,
        subcommands: [TagTextCommand.self, TagTrainCommand.self, TagEvaluateCommand.self],
        defaultSubcommand: TagTextCommand.self)
}

struct TagTextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Tag raw text: print each word as word/TAG (the default subcommand).",
        discussion: "Text is split into words as UD English treebanks split them (punctuation and clitics such as n't are words).")

    @Option(help: "A tagger saved by `synapse tag train --save`.")
    var checkpoint: String
    @Argument(help: "Sentences to tag.")
    var texts: [String] = []
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard !texts.isEmpty else { throw ValidationError("give at least one sentence to tag") }
    }

    func run() throws {
        common.applyThreadCount()
        let tagger = try reportingErrors { try TrainedTagger(checkpoint: checkpoint) }
        let sentences = texts.map(TreebankWords.split)
        let tags = try reportingErrors { try tagger.tag(sentences) }
        if common.json {
            printJSON(["sentences": zip(sentences, tags).map { ["words": $0, "tags": $1] }])
        } else {
            for (words, tags) in zip(sentences, tags) {
                print(zip(words, tags).map { "\($0)/\($1)" }.joined(separator: " "))
            }
        }
    }
}

struct TagTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a tagger on a CoNLL-U treebank and report UPOS accuracy on its dev set beside the most-frequent-tag baseline.",
        discussion: """
            Words are the CoNLL-U lines with an integer ID; the tag is UPOS (column 4). The word vocabulary is the \
            lowercased training forms seen at least --minimum-frequency times; each word's characters (with case) feed \
            a character CNN unless --character-filters is 0.
            Example: synapse tag train --train en_ewt-ud-train.conllu --dev en_ewt-ud-dev.conllu --save tagger.safetensors
            """)

    @Option(help: "Training sentences (CoNLL-U).")
    var train: String
    @Option(help: "Development sentences (CoNLL-U), evaluated after each epoch and at the end.")
    var dev: String
    @Option(help: "Held-out sentences (CoNLL-U) evaluated once at the end.")
    var test: String?
    @Option(help: "Use only the first N training sentences.")
    var trainSentences: Int?
    @Option(help: "Training epochs.")
    var epochs = 10
    @Option(help: "Sentences per batch.")
    var batchSize = 32
    @Option(help: "Learning rate (Adam).")
    var lr: Float = 3e-3
    @Option(help: "Word embedding width.")
    var embedding = 100
    @Option(help: "LSTM units per direction.")
    var hidden = 128
    @Option(help: "Character CNN filters (0: word embeddings only, the PyTorch anchor's tagger).")
    var characterFilters = 50
    @Option(help: "Character embedding width.")
    var characterEmbedding = 30
    @Option(help: "Dropout on the LSTM's input and output.")
    var dropout: Float = 0.33
    @Option(help: "Lowercased forms seen fewer times than this are <unk>.")
    var minimumFrequency = 2
    @Flag(inversion: .prefixedNo, help: "Batch sentences of similar length together (less padding).")
    var bucket = true
    @Option(help: "Seed for initialization, shuffling and dropout.")
    var seed: UInt64 = 0
    @Option(help: "Save the tagger and its vocabularies (safetensors) here.")
    var save: String?
    @OptionGroup var reporting: ReportOptions
    @OptionGroup var distribution: DistributedOptions
    @OptionGroup var common: CommonOptions

    /// Confusions the report lists, each with an example sentence.
    static let reportedConfusions = 15

    func validate() throws {
        for (name, value) in [("--epochs", epochs), ("--batch-size", batchSize), ("--embedding", embedding), ("--hidden", hidden),
                              ("--character-embedding", characterEmbedding), ("--minimum-frequency", minimumFrequency)]
            where !(1...100_000).contains(value) {
            throw ValidationError("\(name) must be from 1 to 100000, got \(value)")
        }
        guard (0...4096).contains(characterFilters) else { throw ValidationError("--character-filters must be from 0 to 4096") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard dropout >= 0, dropout < 1 else { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
        if let trainSentences, trainSentences < 1 { throw ValidationError("--train-sentences must be positive") }
    }

    /// How the tagger and the baseline do on one held-out file.
    private struct Scores {
        let accuracy: Double
        let baseline: Double
        let unknownRate: Double
    }

    mutating func run() throws {
        common.applyThreadCount()
        try checkWritable(save, flag: "--save")
        let group = try distribution.start(common, command: self)
        if let group, group.rank != 0 { (save, reporting.report) = (nil, nil) }
        try train(group: group)
        try reportingErrors { try group?.finish() }
    }

    private func train(group: MPIProcessGroup?) throws {
        var trainSet = try readTreebank(train)
        if let trainSentences { trainSet = Array(trainSet.prefix(trainSentences)) }
        let devSet = try readTreebank(dev)
        let testSet = try test.map(readTreebank)
        let vocabulary = try reportingErrors { try TaggerVocabulary(fitting: trainSet, minimumFrequency: minimumFrequency) }
        GlobalRandom.seed(seed)
        let configuration = TrainedTagger.Configuration(embedding: embedding, hidden: hidden, characterEmbedding: characterEmbedding,
                                                        characterFilters: characterFilters, dropout: dropout)
        let tagger = TrainedTagger(vocabulary: vocabulary, configuration: configuration)
        let trainData = vocabulary.dataset(trainSet), devData = vocabulary.dataset(devSet)
        let loader = DataLoader(trainData, batchSize: batchSize, shuffle: true, seed: seed,
                                bucketLengths: bucket ? trainData.sequences.map(\.count) : nil)
        let trainer = Trainer(model: tagger.model, optimizer: Adam(parameters: tagger.model.parameters, lr: lr),
                              callbacks: [ProgressBar(quiet: common.json)])
        trainer.processGroup = group
        let devLoader = DataLoader(devData, batchSize: 256)
        if let group {
            group.prepare(tagger.model, seed: seed, options: distribution, quiet: common.json)
            devLoader.shard = DataShard(rank: group.rank, count: group.size, padded: false)
        }
        loader.shard = try distribution.trainingShard(group, batchSize: batchSize)
        var report: TrainingReport?
        if reporting.report != nil {
            let task = tagger.trainingTask()
            let sample = trainData.batch(Array(0..<min(batchSize, trainData.count)))
            let summary = try reportingErrors { try ModelSummary(tagger.model, inputShape: sample.tokens.shape) { try task.forward(sample).logits } }
            let datasets = [ReportField("Train", "\(train): \(trainSet.count) sentences"), ReportField("Dev", "\(dev): \(devSet.count) sentences"),
                            ReportField("Test", testSet.map { "\(test!): \($0.count) sentences" } ?? "none"),
                            ReportField("Vocabulary", "\(vocabulary.words.count) words, \(vocabulary.characterCount) characters"),
                            ReportField("Tags", vocabulary.tags.joined(separator: " "))]
            report = try reporting.makeReport(title: "POS tagger on \((train as NSString).lastPathComponent)", command: self,
                                              datasets: datasets, summary: summary)
            if let report { trainer.callbacks.append(report) }
        }
        let history = try reportingErrors {
            try trainer.fit(tagger.trainingTask(), on: loader, validation: devLoader, epochs: epochs)
        }
        // Rank 0 alone scores the whole dev and test sets and writes the results.
        guard group?.rank ?? 0 == 0 else { return }
        let secondsPerEpoch = history.map(\.seconds).reduce(0, +) / Double(history.count)
        let baseline = MostFrequentTagBaseline(fitting: trainSet)
        func scores(_ sentences: [CoNLLU.Sentence]) throws -> Scores {
            let forms = sentences.flatMap { $0.words.map(\.form) }
            let unknown = forms.filter { vocabulary.wordID($0) == WordTokenizer.unknownID }.count
            return Scores(accuracy: try reportingErrors { try tagger.evaluate(sentences) }.accuracy,
                          baseline: baseline.accuracy(on: sentences), unknownRate: Double(unknown) / Double(forms.count))
        }
        let devScores = try scores(devSet), testScores = try testSet.map(scores)
        let trainWords = trainSet.reduce(0) { $0 + $1.words.count }
        if let report {
            var results = [ReportField("Dev accuracy", String(format: "%.4f (most-frequent-tag baseline %.4f)", devScores.accuracy, devScores.baseline))]
            if let testScores {
                results.append(ReportField("Test accuracy", String(format: "%.4f (baseline %.4f)", testScores.accuracy, testScores.baseline)))
            }
            report.document.results = results
            let evaluation = try reportingErrors { try tagger.evaluate(devSet) }
            report.document.setSection(.classification(ClassificationSection(title: "Dev set, per tag", classNames: evaluation.tags,
                                                                             confusion: evaluation.confusion)))
            let predicted = try reportingErrors { try tagger.tag(devSet.map { $0.words.map(\.form) }) }
            report.document.setSection(.table(title: "Most frequent confusions (dev)", header: ["gold", "predicted", "count", "example"],
                                              rows: evaluation.confusions(limit: Self.reportedConfusions).map { confusion in
                [confusion.gold, confusion.predicted, String(confusion.count),
                 TagTrainCommand.example(of: confusion.gold, taggedAs: confusion.predicted, in: devSet, predicted: predicted)]
            }))
            try reportingErrors { try report.finish() }
        }
        if let save {
            try reportingErrors {
                try tagger.save(to: save, metadata: ["epochs": String(epochs), "dev_accuracy": String(devScores.accuracy),
                                                     "train": (train as NSString).lastPathComponent])
            }
        }
        if common.json {
            var result: [String: Any] = [
                "dev_accuracy": devScores.accuracy, "most_frequent_tag_accuracy": devScores.baseline,
                "seconds_per_epoch": secondsPerEpoch, "tokens_per_second": Double(trainWords) / secondsPerEpoch,
                "parameters": tagger.model.parameterCount, "train_sentences": trainSet.count, "train_words": trainWords,
                "vocabulary": vocabulary.words.count, "characters": vocabulary.characterCount, "tags": vocabulary.tags,
                "dev_unknown_rate": devScores.unknownRate, "epochs": history.count,
            ]
            if let testScores {
                result["test_accuracy"] = testScores.accuracy
                result["test_most_frequent_tag_accuracy"] = testScores.baseline
                result["test_unknown_rate"] = testScores.unknownRate
            }
            printJSON(result.merging(communicationFields(history)) { $1 })
        } else {
            print("\(trainSet.count) training sentences (\(trainWords) words), vocabulary \(vocabulary.words.count) words and "
                  + "\(vocabulary.characterCount) characters, \(vocabulary.tags.count) tags; \(tagger.model.parameterCount) parameters")
            print(String(format: "dev accuracy %.4f (most-frequent-tag baseline %.4f, %.1f%% unknown words), %.2f s per epoch",
                         devScores.accuracy, devScores.baseline, 100 * devScores.unknownRate, secondsPerEpoch))
            if let testScores {
                print(String(format: "test accuracy %.4f (most-frequent-tag baseline %.4f, %.1f%% unknown words)",
                             testScores.accuracy, testScores.baseline, 100 * testScores.unknownRate))
            }
            if let save { print("saved \(save)") }
        }
    }
}

extension TagTrainCommand {
    /// The first sentence in which a word of tag `gold` was tagged `wrong`, the word marked
    /// ⟦thus⟧; empty when there is none.
    static func example(of gold: String, taggedAs wrong: String, in sentences: [CoNLLU.Sentence], predicted: [[String]]) -> String {
        for (sentence, tags) in zip(sentences, predicted) {
            guard let position = sentence.words.indices.first(where: { $0 < tags.count && sentence.words[$0].upos == gold && tags[$0] == wrong })
            else { continue }
            return sentence.words.enumerated().map { $0.offset == position ? "⟦\($0.element.form)⟧" : $0.element.form }
                .joined(separator: " ")
        }
        return ""
    }
}

/// The sentences of the CoNLL-U file at `path`; an error if it has none.
private func readTreebank(_ path: String) throws -> [CoNLLU.Sentence] {
    let sentences = try reportingErrors { try CoNLLU.read(path) }
    guard !sentences.isEmpty else { throw CLIError("\(path): no sentences (a CoNLL-U file has word lines with an integer ID)") }
    return sentences
}

struct TagEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a saved tagger on a CoNLL-U file: accuracy, per-tag precision and recall, the most frequent confusions.")

    @Option(help: "A tagger saved by `synapse tag train --save`.")
    var checkpoint: String
    @Option(help: "Gold-tagged sentences (CoNLL-U).")
    var data: String
    @Option(help: "How many of the most frequent confusions to list.")
    var confusions = 10
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.applyThreadCount()
        let tagger = try reportingErrors { try TrainedTagger(checkpoint: checkpoint) }
        let sentences = try readTreebank(data)
        let result = try reportingErrors { try tagger.evaluate(sentences) }
        let metrics = result.metrics
        let top = result.confusions(limit: max(confusions, 0))
        if common.json {
            var perTag: [String: Any] = [:]
            for (index, tag) in result.tags.enumerated() {
                perTag[tag] = ["precision": metrics.precision[index], "recall": metrics.recall[index], "f1": metrics.f1[index],
                               "support": result.confusion[index].reduce(0, +)]
            }
            printJSON(["accuracy": result.accuracy, "words": result.count, "per_tag": perTag, "unseen_tags": result.unseenTags,
                       "confusions": top.map { ["gold": $0.gold, "predicted": $0.predicted, "count": $0.count] }])
        } else {
            print(String(format: "%d sentences, %d words: accuracy %.4f", sentences.count, result.count, result.accuracy))
            if !result.unseenTags.isEmpty {
                print("tags the tagger never saw (each word an error): "
                      + result.unseenTags.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            print(metrics.report(classNames: result.tags, confusionMatrix: false))
            if !top.isEmpty {
                print("\nmost frequent confusions (gold → predicted)")
                for error in top { print("  \(error.gold) → \(error.predicted): \(error.count)") }
            }
        }
    }
}
