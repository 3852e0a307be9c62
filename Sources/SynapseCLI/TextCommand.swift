// `synapse text`: sentence classification (sentiment and other labels).

import ArgumentParser
import Foundation
import Synapse
import SynapseExamples

struct TextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Classify sentences: train a Kim (2014) CNN on labelled text.",
        subcommands: [TextTrainCommand.self])
}

struct TextTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a sentence classifier and report its accuracy on a stratified held-out split.",
        discussion: """
            --data is a file of text<TAB>label lines, or a folder with one file per class (one example per line). \
            Files that are not UTF-8 are read as Windows-1252, with a warning.
            Example: synapse text train --data ../shared/data/sentiment-labelled-sentences/yelp_labelled.txt --epochs 10
            """)

    @Option(help: "Labelled sentences: a text<TAB>label file or a folder of one file per class; repeat to pool several.")
    var data: [String] = []
    @Option(help: "Training epochs.")
    var epochs = 10
    @Option(help: "Sentences per batch.")
    var batchSize = 50
    @Option(help: "Learning rate (Adam).")
    var lr: Float = 1e-3
    @Option(help: "Fraction of each class held out for testing (stratified, seeded).")
    var testSplit = 0.2
    @Option(help: "Tokens kept per sentence.")
    var maximumLength = 100
    @Option(help: "Seed for the split, initialization, shuffling and dropout.")
    var seed: UInt64 = 0
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give --data (a TSV file or a folder of one file per class)") }
        for (name, value) in [("--epochs", epochs), ("--batch-size", batchSize), ("--maximum-length", maximumLength)]
            where !(1...1_000_000).contains(value) {
            throw ValidationError("\(name) must be from 1 to 1000000, got \(value)")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard testSplit > 0, testSplit < 1 else { throw ValidationError("--test-split must be between 0 and 1, got \(testSplit)") }
    }

    func run() throws {
        common.applyThreadCount()
        let corpora = try data.map { path in try reportingErrors { try LabelledSentences.read(path) } }
        let classes = Array(Set(corpora.flatMap(\.classes))).sorted()
        var texts: [String] = [], labels: [Int] = []
        for corpus in corpora {
            texts += corpus.texts
            labels += corpus.labels.map { classes.firstIndex(of: corpus.classes[$0])! }
        }
        // Stratified: each class's examples shuffled, its first share held out.
        var generator = RandomGenerator(seed: seed)
        var train: [Int] = [], test: [Int] = []
        for label in classes.indices {
            let members = texts.indices.filter { labels[$0] == label }.shuffled(using: &generator)
            let held = Int((Double(members.count) * testSplit).rounded())
            test += members.prefix(held)
            train += members.dropFirst(held)
        }
        guard !train.isEmpty, !test.isEmpty else {
            throw CLIError("--test-split \(testSplit) leaves \(train.count) training and \(test.count) test sentences; both need at least one")
        }
        let tokenizer = WordTokenizer(fitting: train.map { texts[$0] })
        func dataset(_ indices: [Int]) -> SequenceDataset {
            SequenceDataset(sequences: indices.map { index in
                let ids = Array(tokenizer.encode(texts[index]).prefix(maximumLength))
                return ids.isEmpty ? [WordTokenizer.paddingID] : ids
            }, targets: .perSequence(indices.map { labels[$0] }))
        }
        let trainSet = dataset(train), testSet = dataset(test)
        GlobalRandom.seed(seed)
        let model = KimCNN(vocabularySize: tokenizer.count, classes: classes.count)
        let task = ClassificationTask<SequenceBatch>(classCount: classes.count) { batch in (model(model.padded(batch)), batch.targets) }
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters, lr: lr), callbacks: [ProgressBar(quiet: common.json)])
        let loader = DataLoader(trainSet, batchSize: batchSize, shuffle: true, seed: seed, bucketLengths: trainSet.sequences.map(\.count))
        let start = DispatchTime.now().uptimeNanoseconds
        try reportingErrors { try trainer.fit(task, on: loader, epochs: epochs) }
        let secondsPerEpoch = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(epochs)
        let result = try reportingErrors { try trainer.validate(task, on: DataLoader(testSet, batchSize: 500)) }
        let accuracy = result.metrics["accuracy"] ?? 0
        if common.json {
            printJSON(["test_accuracy": accuracy, "seconds_per_epoch": secondsPerEpoch, "parameters": model.parameterCount,
                       "train": train.count, "test": test.count, "vocabulary": tokenizer.count, "classes": classes])
        } else {
            print("\(texts.count) sentences, \(classes.count) classes (\(classes.joined(separator: ", "))): \(train.count) train, \(test.count) test; "
                  + "vocabulary \(tokenizer.count); \(model.parameterCount) parameters")
            print(String(format: "test accuracy %.4f, %.2f s per epoch", accuracy, secondsPerEpoch))
        }
    }
}
