import Foundation
import XCTest
import Synapse
import SynapseExamples

/// The BiLSTM tagger: gradients, batch-independent character features, a bounded EWT run
/// that beats the most-frequent-tag baseline, and a checkpoint round trip.
final class TaggerTests: XCTestCase {
    static let treebank = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/data/ud-english-ewt").standardized.path

    func testTaggerLossGradientsMatchFiniteDifferences() throws {
        GlobalRandom.seed(3)
        let model = BiLSTMTagger(vocabularySize: 6, characters: 5, tags: 3, embedding: 3, hidden: 2, characterEmbedding: 2,
                                 characterFilters: 2, dropout: 0)
        let data = SequenceDataset(sequences: [[2, 3, 4], [5, 1]], targets: .perToken([[0, 1, 2], [2, 0]]),
                                   spellings: [[[2, 3], [4], [2, 2, 3]], [[3], [4, 2]]])
        let batch = data.batch([0, 1])
        func loss() throws -> Tensor {
            crossEntropy(try model(batch).reshaped([-1, 3]), batch.targets.reshaped([batch.targets.count]), ignoreIndex: -100)
        }
        model.zeroGrad()
        try loss().backward()
        let epsilon: Float = 1e-2
        for (name, parameter) in model.namedParameters {
            let analytic = try XCTUnwrap(parameter.value.grad, name).scalars
            // Padding rows of embeddings (row 0) take no gradient, as PyTorch's padding_idx.
            let skipped = name.hasSuffix("emb.weight") ? parameter.value.shape[1] : 0
            for element in skipped..<parameter.value.count {
                func shifted(_ delta: Float) throws -> Float {
                    parameter.updateInPlace { $0[element] += delta }
                    defer { parameter.updateInPlace { $0[element] -= delta } }
                    return try withoutGradients { try loss().item }
                }
                let numeric = (try shifted(epsilon) - shifted(-epsilon)) / (2 * epsilon)
                XCTAssertEqual(analytic[element], numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(name)[\(element)]")
            }
        }
    }

    func testCharacterFeaturesOfAWordDoNotDependOnItsBatch() {
        GlobalRandom.seed(1)
        let encoder = CharacterCNN(characters: 8, embedding: 4, filters: 6)
        let alone = CharacterBatch(spellings: [[[3, 4]]], steps: 1, maximumLength: 16)
        let crowded = CharacterBatch(spellings: [[[5, 6, 7, 2, 2, 3, 4], [3, 4]]], steps: 2, maximumLength: 16)
        let a = encoder(alone.characters).scalars, b = encoder(crowded.characters).scalars
        XCTAssertEqual(a, Array(b[6..<12]), "the same spelling gets the same features beside a longer word")
    }

    func testBoundedEWTRunBeatsTheMostFrequentTagBaseline() throws {
        // Small enough for a debug build (about a minute): 300 sentences, a narrow model, a high
        // learning rate and small batches. Release builds reach the same figure in a second.
        let train = Array(try CoNLLU.read("\(Self.treebank)/en_ewt-ud-train.conllu").prefix(300))
        let dev = Array(try CoNLLU.read("\(Self.treebank)/en_ewt-ud-dev.conllu").prefix(300))
        let vocabulary = try TaggerVocabulary(fitting: train)
        GlobalRandom.seed(0)
        let configuration = TrainedTagger.Configuration(embedding: 32, hidden: 32, characterEmbedding: 16, characterFilters: 16,
                                                        dropout: 0.1)
        let tagger = TrainedTagger(vocabulary: vocabulary, configuration: configuration)
        let data = vocabulary.dataset(train)
        let trainer = Trainer(model: tagger.model, optimizer: Adam(parameters: tagger.model.parameters, lr: 2e-2))
        try trainer.fit(tagger.trainingTask(), on: DataLoader(data, batchSize: 8, shuffle: true, seed: 0,
                                                              bucketLengths: data.sequences.map(\.count)), epochs: 3)
        let accuracy = try tagger.evaluate(dev).accuracy
        let baseline = MostFrequentTagBaseline(fitting: train).accuracy(on: dev)
        print("tagger on 300 EWT sentences: dev[:300] accuracy \(accuracy), most-frequent-tag \(baseline)")
        XCTAssertGreaterThan(accuracy, baseline + 0.03, "accuracy \(accuracy), baseline \(baseline)")

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tagger-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try tagger.save(to: path)
        let loaded = try TrainedTagger(checkpoint: path)
        let forms = dev.prefix(20).map { $0.words.map(\.form) } + [["Zqxjv", "blorfs"], []]
        XCTAssertEqual(try loaded.predict(forms), try tagger.predict(forms))
        XCTAssertEqual(loaded.vocabulary, vocabulary)
        XCTAssertEqual(try loaded.tag([["Zqxjv", "blorfs"]])[0].count, 2, "words never seen, spelled with known letters, still get tags")
    }

    func testTaggerVocabularyAndMostFrequentTagBaselineFollowTheAnchor() throws {
        let text = """
            1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
            2\trun\trun\tNOUN\tNN\t_\t0\troot\t_\t_

            1\tthe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
            2\trun\trun\tVERB\tVB\t_\t0\troot\t_\t_
            3\tÉté\tété\tPROPN\tNNP\t_\t2\tobj\t_\t_

            """
        let sentences = try CoNLLU.parse(text, source: "mini")
        let vocabulary = try TaggerVocabulary(fitting: sentences)
        XCTAssertEqual(vocabulary.words.vocabulary, ["<pad>", "<unk>", "run", "the"], "lowercased forms seen twice")
        XCTAssertEqual(vocabulary.tags, ["DET", "NOUN", "PROPN", "VERB"])
        XCTAssertEqual(vocabulary.wordID("THE"), 3)
        XCTAssertEqual(vocabulary.wordID("Été"), WordTokenizer.unknownID)
        XCTAssertEqual(vocabulary.spelling("Tq"), [vocabulary.characters.firstIndex(of: "T")! + 2, TaggerVocabulary.unknownCharacterID])
        let restored = try TaggerVocabulary(serializedWords: vocabulary.words.serialized, characters: vocabulary.serializedCharacters,
                                            tags: vocabulary.serializedTags)
        XCTAssertEqual(restored, vocabulary)
        XCTAssertThrowsError(try TaggerVocabulary(serializedWords: vocabulary.words.serialized, characters: "[\"ab\"]",
                                                  tags: vocabulary.serializedTags))

        let baseline = MostFrequentTagBaseline(fitting: sentences)
        XCTAssertEqual(baseline.tag("run"), "NOUN", "a tie goes to the alphabetically first tag")
        XCTAssertEqual(baseline.tag("The"), "DET")
        XCTAssertEqual(baseline.tag("RUN"), "NOUN", "unseen (case-sensitive) forms get the fallback")
        XCTAssertEqual(baseline.accuracy(on: sentences), 4.0 / 5.0, accuracy: 1e-12)
    }
}
