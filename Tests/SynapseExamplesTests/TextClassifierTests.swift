import Foundation
import XCTest
import Synapse
import SynapseExamples

/// A bounded Kim-CNN sentiment run on the pooled UCI sentences (fixed seeds).
final class TextClassifierTests: XCTestCase {
    func testKimCNNBeatsTheMajorityClassOnUCISentences() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/data/sentiment-labelled-sentences").standardized.path
        var texts: [String] = [], labels: [Int] = []
        for site in ["amazon_cells", "imdb", "yelp"] {
            let sentences = try LabelledSentences.read("\(folder)/\(site)_labelled.txt")
            texts += sentences.texts
            labels += sentences.labels
        }
        var generator = RandomGenerator(seed: 0)
        let order = Array(texts.indices).shuffled(using: &generator)
        let train = Array(order[600...]), test = Array(order[..<600])
        let tokenizer = WordTokenizer(fitting: train.map { texts[$0] })
        func dataset(_ indices: [Int]) -> SequenceDataset {
            SequenceDataset(sequences: indices.map { index in
                let ids = Array(tokenizer.encode(texts[index]).prefix(40))
                return ids.isEmpty ? [WordTokenizer.paddingID] : ids
            }, targets: .perSequence(indices.map { labels[$0] }))
        }
        let trainSet = dataset(train), testSet = dataset(test)
        GlobalRandom.seed(0)
        let model = KimCNN(vocabularySize: tokenizer.count, classes: 2, embedding: 16, maps: 16)
        let task = ClassificationTask<SequenceBatch>(classCount: 2) { batch in (model.logits(for: batch), batch.targets) }
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters, lr: 1e-2))
        let loader = DataLoader(trainSet, batchSize: 50, shuffle: true, seed: 0, bucketLengths: trainSet.sequences.map(\.count))
        try trainer.fit(task, on: loader, epochs: 3)
        let result = try trainer.validate(task, on: DataLoader(testSet, batchSize: 200))
        let accuracy = result.metrics["accuracy"] ?? 0
        let majority = Float(max(test.filter { labels[$0] == 1 }.count, test.filter { labels[$0] == 0 }.count)) / Float(test.count)
        print("Kim CNN sentiment: accuracy \(accuracy), majority \(majority)")
        XCTAssertGreaterThan(accuracy, majority + 0.15, "accuracy \(accuracy), majority \(majority)")
    }
}
