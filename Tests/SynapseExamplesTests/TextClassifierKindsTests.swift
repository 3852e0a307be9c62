import Foundation
import XCTest
import Synapse
import SynapseExamples

/// The BiLSTM and bag-of-words sentence classifiers, and saved classifiers of every kind.
final class TextClassifierKindsTests: XCTestCase {
    private func assertGradientsMatchFiniteDifferences(_ model: any SequenceClassifier, skipping padded: [String],
                                                       file: StaticString = #filePath, line: UInt = #line) throws {
        let data = SequenceDataset(sequences: [[2, 3, 4], [5, 1], [3]], targets: .perSequence([0, 1, 1]))
        let batch = data.batch([0, 1, 2])
        model.eval()
        func loss() throws -> Tensor { crossEntropy(try model.logits(for: batch), batch.targets) }
        model.zeroGrad()
        try loss().backward()
        let epsilon: Float = 1e-2
        for (name, parameter) in model.namedParameters {
            let analytic = try XCTUnwrap(parameter.value.grad, name).scalars
            // Padding rows (row 0 of an embedding) take no gradient, as PyTorch's padding_idx.
            let first = padded.contains(name) ? parameter.value.shape[1] : 0
            // Spot-check large tables: every element of small tensors, a stride through big ones.
            for element in stride(from: first, to: parameter.value.count, by: max(1, parameter.value.count / 64)) {
                func shifted(_ delta: Float) throws -> Float {
                    parameter.updateInPlace { $0[element] += delta }
                    defer { parameter.updateInPlace { $0[element] -= delta } }
                    return try withoutGradients { try loss().item }
                }
                let numeric = (try shifted(epsilon) - shifted(-epsilon)) / (2 * epsilon)
                XCTAssertEqual(analytic[element], numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(name)[\(element)]", file: file, line: line)
            }
        }
    }

    func testBiLSTMAndBagGradientsMatchFiniteDifferences() throws {
        GlobalRandom.seed(2)
        try assertGradientsMatchFiniteDifferences(BiLSTMClassifier(vocabularySize: 6, classes: 2, embedding: 3, hidden: 2),
                                                  skipping: ["emb.weight"])
        try assertGradientsMatchFiniteDifferences(BagOfWordsClassifier(vocabularySize: 6, classes: 2, embedding: 3, bigramBuckets: 7),
                                                  skipping: ["emb.weight", "bigrams.weight"])
    }

    func testBiLSTMIgnoresPaddingAndBagBucketsAreStable() throws {
        GlobalRandom.seed(4)
        let model = BiLSTMClassifier(vocabularySize: 8, classes: 3, embedding: 4, hidden: 3)
        model.eval()
        let short = SequenceDataset(sequences: [[2, 3]], targets: .perSequence([0])).batch([0])
        let padded = SequenceDataset(sequences: [[2, 3], [4, 5, 6, 7]], targets: .perSequence([0, 1])).batch([0, 1])
        let alone = try model.logits(for: short).scalars, beside = try model.logits(for: padded).scalars
        for (a, b) in zip(alone, beside.prefix(3)) { XCTAssertEqual(a, b, accuracy: 1e-6, "padding must not change a sentence's logits") }
        let bag = BagOfWordsClassifier(vocabularySize: 8, classes: 2, bigramBuckets: 1000)
        XCTAssertEqual(bag.bucket(2, 3), bag.bucket(2, 3))
        XCTAssertNotEqual(bag.bucket(2, 3), bag.bucket(3, 2))
        XCTAssertTrue((1..<1000).contains(bag.bucket(123_456, 7)))
    }

    func testSavedClassifiersOfEveryKindPredictTheSameAfterLoading() throws {
        let corpus = ["good fine great", "bad awful poor"]
        let texts = ["good great", "awful, poor!", "qqq zzz", "", "naïve ☃"]
        for (kind, tokenizerKind) in TextClassifierKind.allCases.map({ ($0, SentenceTokenizerKind.word) }) + [(.cnn, .bpe)] {
            let tokenizer = try SentenceTokenizer.fitting(corpus, kind: tokenizerKind, bpeVocabularySize: 270)
            GlobalRandom.seed(0)
            let classifier = TrainedTextClassifier(kind: kind, tokenizer: tokenizer, classes: ["negative", "positive"])
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("text-\(UUID().uuidString).safetensors").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try classifier.save(to: path)
            let loaded = try TrainedTextClassifier(checkpoint: path)
            XCTAssertEqual(loaded.kind, kind)
            XCTAssertEqual(loaded.tokenizer.kind, tokenizerKind)
            XCTAssertEqual(loaded.tokenizer.encode("good, naïve"), tokenizer.encode("good, naïve"))
            XCTAssertFalse(tokenizer.encode("good, naïve").contains(0), "id 0 is padding")
            XCTAssertEqual(loaded.classes, ["negative", "positive"])
            let before = try classifier.classify(texts).map(\.probabilities), after = try loaded.classify(texts).map(\.probabilities)
            XCTAssertEqual(before, after, "\(kind)")
            for row in after { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5, "\(kind): text of unknown words or none still predicts") }
        }
    }
}
