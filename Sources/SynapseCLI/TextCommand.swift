// `synapse text`: sentence classification (sentiment and other labels).

import ArgumentParser
import Foundation
import Synapse
import SynapseDistributed
import SynapseExamples

extension TextClassifierKind: ExpressibleByArgument {}
extension SentenceTokenizerKind: ExpressibleByArgument {}

struct TextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Classify sentences: train Kim's CNN, a BiLSTM or a bag of words on labelled text, evaluate it, predict.",
        subcommands: [TextTrainCommand.self, TextEvaluateCommand.self, TextPredictCommand.self])
}

/// Labelled sentences, pooled from one or more files, with class ids into `classes`.
private struct Corpus {
    var texts: [String] = []
    var labels: [Int] = []
    var classes: [String] = []
}

/// The corpora at `paths`, pooled; their classes are the sorted union of the files' classes.
private func readCorpora(_ paths: [String]) throws -> Corpus {
    let corpora = try paths.map { path in try reportingErrors { try LabelledSentences.read(path) } }
    let classes = Array(Set(corpora.flatMap(\.classes))).sorted()
    var pooled = Corpus(classes: classes)
    for corpus in corpora {
        pooled.texts += corpus.texts
        pooled.labels += corpus.labels.map { classes.firstIndex(of: corpus.classes[$0])! }
    }
    return pooled
}

struct TextTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a sentence classifier; report accuracy on a stratified held-out split, or k-fold cross-validation.",
        discussion: """
            --data is a file of text<TAB>label lines, or a folder with one file per class (one example per line). \
            Files that are not UTF-8 are read as Windows-1252, with a warning. The word vocabulary is built from \
            the training sentences only (in each fold with --folds).
            Example: synapse text train --data ../shared/data/sentiment-labelled-sentences/yelp_labelled.txt --epochs 10
            """)

    @Option(help: "Labelled sentences: a text<TAB>label file or a folder of one file per class; repeat to pool several.")
    var data: [String] = []
    @Option(help: "Model: cnn (Kim 2014), bilstm, or bag (fastText-style words and bigrams).")
    var model: TextClassifierKind = .cnn
    @Option(help: "Tokenizer: word (lowercased words and punctuation) or bpe (byte-level BPE learned on the training sentences).")
    var tokenizer: SentenceTokenizerKind = .word
    @Option(help: "BPE vocabulary size (256 bytes included), with --tokenizer bpe.")
    var vocabularySize = 4000
    @Option(help: "Training epochs.")
    var epochs = 10
    @Option(help: "Sentences per batch.")
    var batchSize = 50
    @Option(help: "Learning rate (Adam); by default 1e-3 for cnn and bilstm, 3e-3 for bag.")
    var lr: Float?
    @Option(help: "Fraction of each class held out for testing (stratified, seeded; default 0.2).")
    var testSplit: Double?
    @Option(help: "Stratified k-fold cross-validation instead of one split: report the mean and standard deviation.")
    var folds: Int?
    @Option(help: "A file of 0-based sentence indices (one per line, into the pooled --data in order) to test on instead of a random split.")
    var testIndices: String?
    @Option(help: "Pretrained word vectors (GloVe, word2vec or fastText text format) to start the word embeddings from; their width sets the embedding's. With --tokenizer word.")
    var embeddings: String?
    @Option(help: "With --embeddings: also give the file's first N words (its most frequent) ids of their own, so test words never seen in training keep their vectors.")
    var pretrainedWords = 50_000
    @Flag(help: "With --embeddings: keep the pretrained vectors fixed (Kim's CNN-static) instead of training them.")
    var freezeEmbeddings = false
    @Option(help: "Tokens kept per sentence.")
    var maximumLength = 100
    @Flag(inversion: .prefixedNo, help: "Batch sentences of similar length together: faster, but on the UCI sentences about 2 points less accurate than plain shuffling.")
    var bucket = false
    @Option(help: "Seed for the split, initialization, shuffling and dropout.")
    var seed: UInt64 = 0
    @Option(help: "Save the trained classifier with its vocabulary and classes (safetensors) here (not with --folds).")
    var save: String?
    @OptionGroup var reporting: ReportOptions
    @OptionGroup var distribution: DistributedOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give --data (a TSV file or a folder of one file per class)") }
        for (name, value) in [("--epochs", epochs), ("--batch-size", batchSize), ("--maximum-length", maximumLength)]
            where !(1...1_000_000).contains(value) {
            throw ValidationError("\(name) must be from 1 to 1000000, got \(value)")
        }
        guard (256...1_000_000).contains(vocabularySize) else {
            throw ValidationError("--vocabulary-size must be from 256 to 1000000, got \(vocabularySize)")
        }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number") }
        if embeddings != nil {
            guard tokenizer == .word else { throw ValidationError("--embeddings holds vectors of words; it needs --tokenizer word") }
            guard (0...10_000_000).contains(pretrainedWords) else {
                throw ValidationError("--pretrained-words must be from 0 to 10000000, got \(pretrainedWords)")
            }
        } else if freezeEmbeddings {
            throw ValidationError("--freeze-embeddings keeps pretrained vectors fixed; give them with --embeddings")
        }
        if let testSplit {
            guard testSplit > 0, testSplit < 1 else { throw ValidationError("--test-split must be between 0 and 1, got \(testSplit)") }
            guard folds == nil else { throw ValidationError("--test-split and --folds are two ways to choose test sentences; give one") }
            guard testIndices == nil else {
                throw ValidationError("--test-split and --test-indices are two ways to choose test sentences; give one")
            }
        }
        if let folds {
            guard (2...100).contains(folds) else { throw ValidationError("--folds must be from 2 to 100, got \(folds)") }
            guard save == nil else { throw ValidationError("--save keeps one model; it cannot be combined with --folds") }
            guard testIndices == nil else { throw ValidationError("--test-indices and --folds are two ways to choose test sentences; give one") }
            guard reporting.report == nil else { throw ValidationError("--report describes one training run; it cannot be combined with --folds") }
        }
    }

    /// The result of training on `train` and testing on `test`.
    private struct Run {
        let classifier: TrainedTextClassifier
        let accuracy: Float
        /// With --embeddings: how many vocabulary words have pretrained vectors.
        let covered: Int?
        let secondsPerEpoch: Double
        let history: [EpochLog]
    }

    private func run(_ corpus: Corpus, train: [Int], test: [Int], vectors: WordVectors?, quiet: Bool, reported: Bool = false,
                     group: MPIProcessGroup?) throws -> Run {
        let (texts, labels, classes) = (corpus.texts, corpus.labels, corpus.classes)
        let fitted = try reportingErrors {
            try SentenceTokenizer.fitting(train.map { texts[$0] }, kind: self.tokenizer, bpeVocabularySize: vocabularySize)
        }
        GlobalRandom.seed(seed)
        let classifier: TrainedTextClassifier
        var covered: Int?
        if let vectors, case .word(let words) = fitted {
            (classifier, covered) = try reportingErrors {
                try TrainedTextClassifier.pretrained(kind: model, tokenizer: words, classes: classes, vectors: vectors,
                                                     pretrainedWords: pretrainedWords, freeze: freezeEmbeddings, maximumLength: maximumLength)
            }
        } else {
            classifier = TrainedTextClassifier(kind: model, tokenizer: fitted, classes: classes, maximumLength: maximumLength)
        }
        let tokenizer = classifier.tokenizer
        let trainSet = classifier.dataset(train.map { texts[$0] }, labels: train.map { labels[$0] })
        let trainer = Trainer(model: classifier.model, optimizer: Adam(parameters: classifier.model.trainableParameters, lr: lr ?? model.defaultLearningRate),
                              callbacks: [ProgressBar(quiet: quiet)])
        trainer.processGroup = group
        let loader = DataLoader(trainSet, batchSize: batchSize, shuffle: true, seed: seed, bucketLengths: bucket ? trainSet.sequences.map(\.count) : nil)
        if let group {
            group.prepare(classifier.model, seed: seed, options: distribution, quiet: quiet)
        }
        loader.shard = try distribution.trainingShard(group, batchSize: batchSize)
        var report: TrainingReport?
        if reported {
            let task = classifier.trainingTask()
            let sample = trainSet.batch(Array(0..<min(batchSize, trainSet.count)))
            let summary = try reportingErrors {
                try ModelSummary(classifier.model, inputShape: sample.tokens.shape) { try task.forward(sample).logits }
            }
            let datasets = [ReportField("Data", data.joined(separator: ", ")), ReportField("Train", "\(train.count) sentences"),
                            ReportField("Test", "\(test.count) sentences"), ReportField("Classes", classes.joined(separator: ", ")),
                            ReportField("Vocabulary", "\(tokenizer.count) tokens (\(self.tokenizer.rawValue))")]
                + (embeddings.map { [ReportField("Pretrained vectors", "\($0): \(covered ?? 0) of the vocabulary's words"
                                                     + (freezeEmbeddings ? ", frozen" : ", trained"))] } ?? [])
            report = try reporting.makeReport(title: "\(model.rawValue) text classifier", command: self, datasets: datasets, summary: summary)
            if let report { trainer.callbacks.append(report) }
        }
        let history = try reportingErrors { try trainer.fit(classifier.trainingTask(), on: loader, epochs: epochs) }
        let testTexts = test.map { texts[$0] }, testLabels = test.map { labels[$0] }
        let metrics = try reportingErrors { try classifier.evaluate(testTexts, labels: testLabels) }
        if let report {
            report.document.results = [ReportField("Test accuracy", String(format: "%.4f", metrics.accuracy)),
                                       ReportField("Test sentences", String(test.count))]
            report.document.setSection(.classification(ClassificationSection(title: "Test set", metrics: metrics, texts: testTexts,
                                                                             labels: testLabels, classNames: classes)))
            try reportingErrors { try report.finish() }
        }
        return Run(classifier: classifier, accuracy: metrics.accuracy, covered: covered,
                   secondsPerEpoch: history.map(\.seconds).reduce(0, +) / Double(history.count), history: history)
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
        let corpus = try readCorpora(data)
        // Read once for every fold: the file's first --pretrained-words words and any word of
        // the corpus; each run's vocabulary takes the first ones and its training words.
        let vectors = try embeddings.map { path in
            let words = Set(corpus.texts.flatMap { WordTokenizer.words(in: $0) })
            let vectors = try reportingErrors { try WordVectors(contentsOf: path, firstWords: pretrainedWords, including: words) }
            if let problem = model.problem(withEmbeddingWidth: vectors.dimension) { throw CLIError("\(path): \(problem)") }
            return vectors
        }
        // Stratified: each class's examples, shuffled with the seed.
        var generator = RandomGenerator(seed: seed)
        let members = corpus.classes.indices.map { label in
            corpus.texts.indices.filter { corpus.labels[$0] == label }.shuffled(using: &generator)
        }
        if let folds {
            try crossValidate(corpus, members: members, folds: folds, vectors: vectors, group: group)
        } else {
            try holdOut(corpus, members: members, vectors: vectors, group: group)
        }
    }

    /// Trains on all but one fold and tests on it, for each fold in turn. Each class's shuffled
    /// examples are dealt to the folds in turn.
    private func crossValidate(_ corpus: Corpus, members: [[Int]], folds: Int, vectors: WordVectors?, group: MPIProcessGroup?) throws {
        let smallest = members.map(\.count).min() ?? 0
        guard smallest >= folds else {
            throw CLIError("--folds \(folds): the smallest class has \(smallest) sentences, fewer than the folds")
        }
        var foldOf = [Int](repeating: 0, count: corpus.texts.count)
        for group in members { for (position, index) in group.enumerated() { foldOf[index] = position % folds } }
        var accuracies: [Double] = [], seconds: [Double] = [], parameters = 0
        for fold in 0..<folds {
            let indices = corpus.texts.indices
            let result = try run(corpus, train: indices.filter { foldOf[$0] != fold }, test: indices.filter { foldOf[$0] == fold },
                                 vectors: vectors, quiet: true, group: group)
            accuracies.append(Double(result.accuracy))
            seconds.append(result.secondsPerEpoch)
            parameters = result.classifier.model.parameterCount
            if !common.json {
                print(String(format: "fold %d/%d: accuracy %.4f, %.2f s per epoch", fold + 1, folds, result.accuracy, result.secondsPerEpoch))
            }
        }
        let mean = accuracies.reduce(0, +) / Double(folds)
        let std = (accuracies.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(folds)).squareRoot()
        let secondsPerEpoch = seconds.reduce(0, +) / Double(folds)
        if common.json {
            printJSON(["cv_accuracy": mean, "cv_std": std, "fold_accuracies": accuracies, "seconds_per_epoch": secondsPerEpoch,
                       "parameters": parameters, "folds": folds, "sentences": corpus.texts.count, "classes": corpus.classes,
                       "model": model.rawValue, "tokenizer": tokenizer.rawValue])
        } else {
            print(String(format: "%d-fold cross-validation (%@): accuracy %.4f ± %.4f, %.2f s per epoch",
                         folds, model.rawValue, mean, std, secondsPerEpoch))
        }
    }

    /// Trains on one split and tests on the rest: `--test-indices`, or each class's first
    /// `--test-split` share.
    private func holdOut(_ corpus: Corpus, members: [[Int]], vectors: WordVectors?, group: MPIProcessGroup?) throws {
        let heldOutShare = testSplit ?? 0.2
        var train: [Int] = [], test: [Int] = []
        if let testIndices {
            let held = try readIndices(testIndices, count: corpus.texts.count)
            test = held.sorted()
            train = corpus.texts.indices.filter { !held.contains($0) }
        } else {
            for group in members {
                let held = Int((Double(group.count) * heldOutShare).rounded())
                test += group.prefix(held)
                train += group.dropFirst(held)
            }
        }
        guard !train.isEmpty, !test.isEmpty else {
            let choice = testIndices.map { "--test-indices \($0)" } ?? "--test-split \(heldOutShare)"
            throw CLIError("\(choice) leaves \(train.count) training and \(test.count) test sentences; both need at least one")
        }
        let result = try run(corpus, train: train, test: test, vectors: vectors, quiet: common.json, reported: true, group: group)
        if let save {
            try reportingErrors {
                try result.classifier.save(to: save, metadata: ["epochs": String(epochs), "test_accuracy": String(result.accuracy)])
            }
        }
        let parameters = result.classifier.model.parameterCount, vocabulary = result.classifier.tokenizer.count
        if common.json {
            var fields: [String: Any] = ["test_accuracy": result.accuracy, "seconds_per_epoch": result.secondsPerEpoch, "parameters": parameters,
                                         "train": train.count, "test": test.count, "vocabulary": vocabulary, "classes": corpus.classes,
                                         "model": model.rawValue, "tokenizer": tokenizer.rawValue]
            if let covered = result.covered { fields["pretrained_covered"] = covered }
            printJSON(fields.merging(communicationFields(result.history)) { $1 })
        } else {
            let pretrained = result.covered.map { " (\($0) with pretrained vectors)" } ?? ""
            print("\(corpus.texts.count) sentences, \(corpus.classes.count) classes (\(corpus.classes.joined(separator: ", "))): "
                  + "\(train.count) train, \(test.count) test; vocabulary \(vocabulary)\(pretrained); \(model.rawValue), \(parameters) parameters")
            print(String(format: "test accuracy %.4f, %.2f s per epoch", result.accuracy, result.secondsPerEpoch))
            if let save { print("saved \(save)") }
        }
    }
}

/// The distinct indices in 0..<count listed one per line in `path`.
private func readIndices(_ path: String, count: Int) throws -> Set<Int> {
    let text = try reportingErrors { try TextFile.read(path) }
    var indices = Set<Int>()
    for (number, line) in TextFile.lines(text).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
        guard let index = Int(line.trimmingCharacters(in: .whitespaces)), (0..<count).contains(index) else {
            throw CLIError("\(path):\(number + 1): \"\(line)\" is not a sentence index from 0 to \(count - 1)")
        }
        guard indices.insert(index).inserted else { throw CLIError("\(path):\(number + 1): index \(index) is listed twice") }
    }
    return indices
}

struct TextEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a saved sentence classifier: accuracy, per-class precision, recall and F1, and the confusion matrix.")

    @Option(help: "A classifier saved by `synapse text train --save`.")
    var checkpoint: String
    @Option(help: "Labelled sentences (a text<TAB>label file or a folder of one file per class); repeat to pool several.")
    var data: [String] = []
    @OptionGroup var reporting: ReportOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give --data (a TSV file or a folder of one file per class)") }
    }

    func run() throws {
        common.applyThreadCount()
        let classifier = try reportingErrors { try TrainedTextClassifier(checkpoint: checkpoint) }
        let corpora = try data.map { path in (path, try reportingErrors { try LabelledSentences.read(path) }) }
        var texts: [String] = [], labels: [Int] = []
        for (path, corpus) in corpora {
            for name in corpus.classes where !classifier.classes.contains(name) {
                throw CLIError("\(path): the label \"\(name)\" is not one of the classifier's classes (\(classifier.classes.joined(separator: ", ")))")
            }
            texts += corpus.texts
            labels += corpus.labels.map { classifier.classes.firstIndex(of: corpus.classes[$0])! }
        }
        let metrics = try reportingErrors { try classifier.evaluate(texts, labels: labels) }
        if common.json {
            printJSON(["accuracy": metrics.accuracy, "sentences": texts.count, "classes": classifier.classes,
                       "precision": metrics.precision, "recall": metrics.recall, "f1": metrics.f1, "confusion": metrics.confusion])
        } else {
            print(String(format: "%d sentences: accuracy %.4f", texts.count, metrics.accuracy))
            print(metrics.report(classNames: classifier.classes))
        }
    }
}

struct TextPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Print the class probabilities a saved sentence classifier gives each sentence.")

    @Option(help: "A classifier saved by `synapse text train --save`.")
    var checkpoint: String
    @Argument(help: "Sentences to classify.")
    var texts: [String] = []
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard !texts.isEmpty else { throw ValidationError("give at least one sentence to classify") }
    }

    func run() throws {
        common.applyThreadCount()
        let classifier = try reportingErrors { try TrainedTextClassifier(checkpoint: checkpoint) }
        let results = try reportingErrors { try classifier.classify(texts) }
        if common.json {
            printJSON(["classes": classifier.classes, "predictions": zip(texts, results).map { text, result in
                ["text": text, "class": classifier.classes[result.label], "probabilities": result.probabilities] as [String: Any]
            }])
        } else {
            for (text, result) in zip(texts, results) {
                let shares = zip(classifier.classes, result.probabilities).map { String(format: "%@ %.3f", $0, $1) }.joined(separator: "  ")
                print("\(classifier.classes[result.label])\t\(shares)\t\(text)")
            }
        }
    }
}
