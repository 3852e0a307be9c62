import XCTest
import Synapse
@testable import SynapseExamples

final class TransformerClassifierTests: XCTestCase {
    private func batch(_ rows: [[Int]]) -> SequenceBatch {
        let steps = rows.map(\.count).max()!
        let tokens = rows.flatMap { $0 + Array(repeating: 0, count: steps - $0.count) }
        return SequenceBatch(tokens: IndexTensor(tokens, shape: [rows.count, steps]),
                             targets: IndexTensor(Array(repeating: 0, count: rows.count), shape: [rows.count]),
                             lengths: rows.map(\.count))
    }

    func testPaddingChangesNothing() throws {
        GlobalRandom.seed(1)
        let model = TransformerClassifier(vocabularySize: 20, classes: 3, embedding: 16, heads: 2, layers: 2, feedForward: 32)
        model.eval()
        let alone = try withoutGradients { try model.logits(for: batch([[4, 5, 6]])) }
        let padded = try withoutGradients { try model.logits(for: batch([[4, 5, 6], [7, 8, 9, 10, 11, 12]])) }
        for (a, b) in zip(alone.scalars, padded.scalars.prefix(3)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertTrue(model.namedParameters.map(\.0).contains("encoder.layers.1.self_attn.in_proj_weight"))
        XCTAssertThrowsError(try TransformerClassifier(vocabularySize: 20, classes: 2, embedding: 8, heads: 2, layers: 1,
                                                       maximumLength: 4).logits(for: batch([[1, 2, 3, 4, 5]])))
    }

    func testLearnsWhichWordMarksTheClass() throws {
        // Class 1 when word 3 occurs anywhere in the sentence: attention must find it.
        var generator = RandomGenerator(seed: 2)
        var rows: [[Int]] = [], labels: [Int] = []
        for _ in 0..<256 {
            let length = Int.random(in: 3...8, using: &generator)
            var row = (0..<length).map { _ in Int.random(in: 4..<16, using: &generator) }
            let label = Int.random(in: 0...1, using: &generator)
            if label == 1 { row[Int.random(in: 0..<length, using: &generator)] = 3 }
            rows.append(row)
            labels.append(label)
        }
        GlobalRandom.seed(3)
        let model = TransformerClassifier(vocabularySize: 16, classes: 2, embedding: 16, heads: 2, layers: 1,
                                          feedForward: 32, dropout: 0)
        let optimizer = Adam(parameters: model.parameters, lr: 3e-3)
        for _ in 0..<12 {
            for start in stride(from: 0, to: 256, by: 32) {
                let batchRows = Array(rows[start..<(start + 32)])
                var b = batch(batchRows)
                b = SequenceBatch(tokens: b.tokens, targets: IndexTensor(Array(labels[start..<(start + 32)]), shape: [32]),
                                  lengths: b.lengths)
                optimizer.zeroGrad()
                crossEntropy(try model.logits(for: b), b.targets).backward()
                optimizer.step()
            }
        }
        let all = batch(rows)
        let predictions = try withoutGradients { try model.logits(for: all) }.argmax(axis: 1).scalars
        let accuracy = Float(zip(predictions, labels).filter { Int($0) == $1 }.count) / Float(labels.count)
        XCTAssertGreaterThan(accuracy, 0.95, "accuracy \(accuracy)")
    }
}
