import Foundation
import XCTest
import Synapse
@testable import SynapseExamples

final class LemmatizerTests: XCTestCase {
    private let words = [CoNLLU.Word(form: "Dogs", lemma: "dog", upos: "NOUN", xpos: "NNS"),
                         CoNLLU.Word(form: "ran", lemma: "run", upos: "VERB", xpos: "VBD"),
                         CoNLLU.Word(form: "saw", lemma: "see", upos: "VERB", xpos: "VBD"),
                         CoNLLU.Word(form: "saw", lemma: "saw", upos: "VERB", xpos: "VBD"),
                         CoNLLU.Word(form: "saw", lemma: "saw", upos: "NOUN", xpos: "NN")]

    func testVocabularyBatchesAndBaselines() throws {
        let vocabulary = LemmaVocabulary(fitting: words)
        XCTAssertEqual(vocabulary.tags, ["NOUN", "VERB"])
        let source = vocabulary.source(form: "ran", upos: "VERB")
        XCTAssertEqual(source.count, 4)
        XCTAssertEqual(source[0], vocabulary.count - 1, "the tag symbol comes first")
        XCTAssertEqual(vocabulary.text(vocabulary.target("run") + [LemmaVocabulary.end]), "run")
        XCTAssertEqual(try LemmaVocabulary(serialized: vocabulary.serialized, source: "test"), vocabulary)
        XCTAssertEqual(vocabulary.source(form: "ré", upos: "X"), [LemmaVocabulary.unknown, vocabulary.target("r")[0], LemmaVocabulary.unknown])

        let batch = LemmaPairs([("ran", "VERB", "run"), ("Dogs", "NOUN", "dog")], vocabulary: vocabulary).batch([0, 1])
        XCTAssertEqual(batch.source.shape, [2, 5])
        XCTAssertEqual(batch.sourceLengths, [4, 5])
        XCTAssertEqual(batch.targetInput.shape, [2, 4])
        XCTAssertEqual(Array(batch.targetInput.scalars.prefix(4)), [LemmaVocabulary.start] + vocabulary.target("run"))
        XCTAssertEqual(Array(batch.targetOutput.scalars.prefix(4)), vocabulary.target("run") + [LemmaVocabulary.end])

        let baselines = LemmaBaselines(training: words)
        // "saw" VERB is "see" once and "saw" once: the tie goes to the lemma seen first.
        XCTAssertEqual(baselines.lookupOrLowercase(form: "saw", upos: "VERB"), "see")
        XCTAssertEqual(baselines.lookupOrLowercase(form: "saw", upos: "NOUN"), "saw")
        XCTAssertEqual(baselines.lookupOrLowercase(form: "Cats", upos: "NOUN"), "cats")
        XCTAssertFalse(baselines.knows(form: "Cats", upos: "NOUN"))
    }

    func testCheckpointRoundTripAndLongForms() throws {
        GlobalRandom.seed(1)
        let model = Lemmatizer(vocabulary: LemmaVocabulary(fitting: words), width: 16, heads: 2, layers: 1, feedForward: 32,
                               maximumLength: 16)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lemma-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TrainedLemmatizer(model: model).save(to: path)
        let loaded = try TrainedLemmatizer(checkpoint: path)
        let queries: [(form: String, upos: String)] = [("ran", "VERB"), ("Dogs", "NOUN"), ("http://example.com/x", "X")]
        let lemmas = try model.lemmatize(queries)
        XCTAssertEqual(try loaded.model.lemmatize(queries), lemmas)
        XCTAssertEqual(lemmas[2], "http://example.com/x", "a form too long for the table comes back unchanged")
        XCTAssertEqual(try model.lemmatize(queries, beamWidth: 3).count, 3)
    }

    func testWeightingRepeatsFrequentTriples() {
        let words = self.words + Array(repeating: CoNLLU.Word(form: "ran", lemma: "run", upos: "VERB", xpos: "VBD"), count: 4)
        XCTAssertEqual(LemmaWeighting.distinct.examples(words).map(\.form), ["Dogs", "ran", "saw", "saw", "saw"])
        // "ran" VERB run: 5 times, so 1 + ⌊log₂ 5⌋ = 3 copies; as tokens, 5.
        XCTAssertEqual(LemmaWeighting.logFrequency.examples(words).filter { $0.form == "ran" }.count, 3)
        XCTAssertEqual(LemmaWeighting.tokens.examples(words).count, words.count)
    }

    func testCheckpointTrainedOnASliceBeatsTheLookupBaseline() throws {
        // Fixtures/make_lemmatizer_fixture.sh trains it in release on the first 400 sentences;
        // this checks, in debug, that its decoding beats the lookup of those sentences on dev.
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/lemmatizer-ewt400.safetensors").path
        let treebank = TaggerTests.treebank
        let train = Array(try CoNLLU.read("\(treebank)/en_ewt-ud-train.conllu").prefix(400)).flatMap(\.words)
        let dev = Array(try CoNLLU.read("\(treebank)/en_ewt-ud-dev.conllu").prefix(60)).flatMap(\.words)
        let lemmatizer = try TrainedLemmatizer(checkpoint: fixture)
        let evaluation = try LemmaEvaluation(model: lemmatizer.model, dev: dev, baselines: LemmaBaselines(training: train))
        print("lemmatizer trained on 400 EWT sentences, on \(dev.count) dev words: \(evaluation.accuracy), "
              + "lookup \(evaluation.lookupAccuracy), lowercase \(evaluation.lowercaseAccuracy)")
        XCTAssertGreaterThan(evaluation.accuracy, evaluation.lookupAccuracy + 0.02)
        XCTAssertGreaterThan(evaluation.lookupAccuracy, evaluation.lowercaseAccuracy)
        XCTAssertEqual(try lemmatizer.model.lemmatize([("running", "VERB"), ("dogs", "NOUN")]), ["run", "dog"])
    }

    func testBoundedTrainingRunFallsBelowTheUnigramEntropy() throws {
        let treebank = TaggerTests.treebank
        let train = Array(try CoNLLU.read("\(treebank)/en_ewt-ud-train.conllu").prefix(150)).flatMap(\.words)
        GlobalRandom.seed(0)
        let vocabulary = LemmaVocabulary(fitting: train)
        let examples = LemmaWeighting.distinct.examples(train)
        // The entropy of the target symbols (lemma characters and the end symbol) on their own.
        var counts: [Int: Int] = [:]
        for example in examples { for symbol in vocabulary.target(example.lemma) + [LemmaVocabulary.end] { counts[symbol, default: 0] += 1 } }
        let total = Double(counts.values.reduce(0, +))
        let entropy = counts.values.reduce(0.0) { $0 - Double($1) / total * log(Double($1) / total) }
        let model = Lemmatizer(vocabulary: vocabulary, width: 32, heads: 2, layers: 1, feedForward: 64, dropout: 0,
                               maximumLength: 64)
        let trainer = Trainer(model: model, optimizer: AdamW(parameters: model.parameters, lr: 1e-2, weightDecay: 0.01))
        let loader = DataLoader(LemmaPairs(examples.filter { $0.form.unicodeScalars.count < 40 }, vocabulary: vocabulary),
                                batchSize: 16, shuffle: true, seed: 0)
        let history = try trainer.fit(model.trainingTask(), on: loader, epochs: 3)
        print("lemmatizer, bounded run on \(examples.count) triples: train loss by epoch \(history.map(\.trainLoss)), "
              + "unigram entropy \(entropy)")
        XCTAssertLessThan(Double(history.last!.trainLoss), entropy - 0.5)
    }
}
