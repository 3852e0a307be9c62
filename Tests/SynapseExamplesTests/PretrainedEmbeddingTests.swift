import Foundation
import XCTest
import Synapse
import SynapseExamples

/// Sentence classifiers whose word embeddings start from pretrained vectors.
final class PretrainedEmbeddingTests: XCTestCase {
    /// Vectors in which the first coordinate carries the sentiment (+1 for pos*, −1 for
    /// neg*, 0 for filler words) and the other seven are noise, as GloVe puts "good" and
    /// "great" near each other.
    private func sentimentVectors() throws -> WordVectors {
        var generator = RandomGenerator(seed: 7)
        let words = (0..<10).map { "filler\($0)" } + (0..<30).flatMap { ["pos\($0)", "neg\($0)"] }
        var values: [Float] = []
        for word in words {
            values.append(word.hasPrefix("pos") ? 1 : word.hasPrefix("neg") ? -1 : 0)
            values += Tensor.randn([7], generator: &generator).scalars.map { $0 * 0.3 }
        }
        return try WordVectors(words: words, dimension: 8, values: values)
    }

    /// Sentences of three fillers and one sentiment word among `range`, labelled 1 for pos.
    private func sentences(_ range: Range<Int>, seed: UInt64) -> (texts: [String], labels: [Int]) {
        var generator = RandomGenerator(seed: seed)
        var texts: [String] = [], labels: [Int] = []
        for index in range {
            for (prefix, label) in [("pos", 1), ("neg", 0)] {
                for _ in 0..<4 {
                    var words = (0..<3).map { _ in "filler\(Int.random(in: 0..<10, using: &generator))" } + ["\(prefix)\(index)"]
                    words.shuffle(using: &generator)
                    texts.append(words.joined(separator: " "))
                    labels.append(label)
                }
            }
        }
        return (texts, labels)
    }

    private func trainAndTest(_ classifier: TrainedTextClassifier, train: (texts: [String], labels: [Int]),
                              test: (texts: [String], labels: [Int])) throws -> Float {
        let trainer = Trainer(model: classifier.model, optimizer: Adam(parameters: classifier.model.trainableParameters, lr: 0.01))
        let loader = DataLoader(classifier.dataset(train.texts, labels: train.labels), batchSize: 20, shuffle: true, seed: 0)
        try trainer.fit(classifier.trainingTask(), on: loader, epochs: 5)
        return try classifier.evaluate(test.texts, labels: test.labels).accuracy
    }

    func testTheTableHoldsEachKnownWordsVectorAndPaddingIsZero() throws {
        let vectors = try sentimentVectors()
        let vocabulary = [WordTokenizer.padding, WordTokenizer.unknown, "pos3", "unseen", "filler2"]
        GlobalRandom.seed(0)
        let table = PretrainedEmbeddingTable(vocabulary: vocabulary, vectors: vectors)
        XCTAssertEqual(table.covered, 2)
        XCTAssertEqual(table.weights.shape, [5, 8])
        let rows = table.weights.scalars
        XCTAssertEqual(Array(rows[0..<8]), [Float](repeating: 0, count: 8))
        XCTAssertEqual(Array(rows[16..<24]), Array(vectors.vector(for: "pos3")!))
        XCTAssertEqual(Array(rows[32..<40]), Array(vectors.vector(for: "filler2")!))
        let bound = Float(3).squareRoot() * vectors.standardDeviation
        for value in rows[8..<16] + rows[24..<32] { XCTAssertLessThanOrEqual(abs(value), bound) }
        XCTAssertGreaterThan(Set(rows[24..<32]).count, 1, "a word without a vector gets random numbers, not a constant")
    }

    /// Words never seen in training are classified through their pretrained vectors; without
    /// them those sentences are a coin toss.
    func testPretrainedVectorsCarryToWordsTrainingNeverSaw() throws {
        let vectors = try sentimentVectors()
        let train = sentences(0..<15, seed: 1), test = sentences(15..<30, seed: 2)
        let tokenizer = WordTokenizer(fitting: train.texts)
        XCTAssertNil(tokenizer.id(of: "pos20"))
        for freeze in [false, true] {
            GlobalRandom.seed(0)
            let (classifier, covered) = try TrainedTextClassifier.pretrained(
                kind: .cnn, tokenizer: tokenizer, classes: ["neg", "pos"], vectors: vectors, pretrainedWords: vectors.count, freeze: freeze)
            XCTAssertEqual(covered, vectors.count)
            XCTAssertEqual(classifier.model.wordEmbedding.dimension, 8)
            let before = classifier.model.wordEmbedding.weight.scalars
            let accuracy = try trainAndTest(classifier, train: train, test: test)
            print("pretrained vectors, freeze \(freeze): accuracy on unseen words \(accuracy)")
            XCTAssertGreaterThanOrEqual(accuracy, 0.9, "freeze \(freeze)")
            let after = classifier.model.wordEmbedding.weight.scalars
            XCTAssertEqual(before == after, freeze, "a frozen table stays as it was; a trained one moves")
            XCTAssertEqual(classifier.model.trainableParameters.count, classifier.model.parameters.count - (freeze ? 1 : 0))
        }
        GlobalRandom.seed(0)
        let plain = TrainedTextClassifier(kind: .cnn, tokenizer: .word(tokenizer), classes: ["neg", "pos"])
        let accuracy = try trainAndTest(plain, train: train, test: test)
        print("no pretrained vectors: accuracy on unseen words \(accuracy)")
        XCTAssertLessThanOrEqual(accuracy, 0.7, "without the vectors every unseen sentiment word is <unk>")
    }

    func testWidthsAModelCannotSplitAreErrors() throws {
        let vectors = try sentimentVectors()
        let odd = try WordVectors(words: ["a"], dimension: 6, values: [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try TrainedTextClassifier.pretrained(kind: .transformer, tokenizer: WordTokenizer(fitting: ["a"]),
                                                                  classes: ["x", "y"], vectors: odd, pretrainedWords: 0)) { error in
            XCTAssertEqual("\(error)", "pretrained vectors: the transformer splits its word vectors among 4 attention heads; "
                           + "vectors 6 wide do not divide evenly")
        }
        XCTAssertNoThrow(try TrainedTextClassifier.pretrained(kind: .transformer, tokenizer: WordTokenizer(fitting: ["a"]),
                                                              classes: ["x", "y"], vectors: vectors, pretrainedWords: 0))
    }

    func testAPretrainedTableCanBeFrozenOrTrained() {
        let table = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])
        let frozen = Embedding(pretrained: table)
        XCTAssertEqual(frozen.weight.scalars, table.scalars)
        XCTAssertTrue(frozen.trainableParameters.isEmpty)
        let trained = Embedding(pretrained: table, freeze: false, paddingIndex: 0)
        XCTAssertEqual(trained.trainableParameters.count, 1)
        XCTAssertEqual(trained.weight.scalars, table.scalars, "the padding row is kept as given")
    }
}
