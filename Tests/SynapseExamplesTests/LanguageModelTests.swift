import Foundation
import XCTest
import Synapse
@testable import SynapseExamples

final class LanguageModelTests: XCTestCase {
    /// tinyshakespeare from the shared data folder beside the repository.
    static func shakespeare() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.deletingLastPathComponent().appendingPathComponent("shared/data/tinyshakespeare/input.txt").path
        return try UTF8Text.read(path)
    }

    /// The entropy in nats of the tokens' frequencies: what a model that ignores context scores.
    static func unigramEntropy(_ tokens: ArraySlice<Int>, vocabularySize: Int) -> Double {
        var counts = [Int](repeating: 0, count: vocabularySize)
        for token in tokens { counts[token] += 1 }
        return counts.filter { $0 > 0 }.map { count -> Double in
            let p = Double(count) / Double(tokens.count)
            return -p * log(p)
        }.reduce(0, +)
    }

    func testShortRunEndsBelowTheUnigramEntropy() throws {
        let text = String(try Self.shakespeare().unicodeScalars.prefix(200_000))
        let tokenizer = CharacterTokenizer(fitting: text)
        let tokens = try tokenizer.encode(text)
        let split = tokens.count * 9 / 10
        let unigramEntropy = Self.unigramEntropy(tokens[..<split], vocabularySize: tokenizer.count)
        GlobalRandom.seed(0)
        // Small enough for a debug build; in release the same run takes a third of a second.
        let model = CharacterLanguageModel(vocabularySize: tokenizer.count, kind: .lstm, embedding: 16, hidden: 48, layers: 1)
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters, lr: 1e-2))
        trainer.gradientClipNorm = 1
        let train = DataLoader(TokenWindows(tokens: Array(tokens[..<split]), context: 16), batchSize: 16, shuffle: true, seed: 0)
        let validation = DataLoader(TokenWindows(tokens: Array(tokens[split...]), context: 16), batchSize: 16, shuffle: true, seed: 1,
                                    batchLimit: 20)
        let before = try trainer.validate(model.trainingTask(), on: validation).loss
        try trainer.fit(model.trainingTask(), on: train, epochs: 1, maxSteps: 100)
        let after = try trainer.validate(model.trainingTask(), on: validation).loss
        XCTAssertEqual(Double(before), log(Double(tokenizer.count)), accuracy: 0.5, "an untrained model is near uniform")
        XCTAssertLessThan(Double(after), unigramEntropy - 0.3,
                          "validation loss \(after) nats/char is not clearly below the unigram entropy \(unigramEntropy)")
    }

    func testGenerationCarriesTheStateLikeOneLongSequence() throws {
        GlobalRandom.seed(3)
        for kind in RecurrentModelName.allCases {
            let model = CharacterLanguageModel(vocabularySize: 11, kind: kind, embedding: 8, hidden: 12, layers: 2)
            var sampler = try TokenSampler(temperature: 1, seed: 5)
            let prompt = [1, 4, 2]
            let generated = model.generate(prompt: prompt, count: 6, sampler: &sampler)
            // Re-running the whole text at once gives the distributions the sampler drew from.
            let sequence = prompt + generated
            let (logits, _) = withoutGradients { model.logits(IndexTensor(sequence, shape: [sequence.count, 1]), state: nil) }
            var replay = try TokenSampler(temperature: 1, seed: 5)
            for step in 0..<generated.count {
                XCTAssertEqual(replay.sample(logits[prompt.count - 1 + step].scalars), generated[step], "\(kind) step \(step)")
            }
            var again = try TokenSampler(temperature: 1, seed: 5)
            XCTAssertEqual(model.generate(prompt: prompt, count: 6, sampler: &again), generated, "same seed, same text")
        }
    }

    func testCheckpointRoundTripAndWrongKinds() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenizer = CharacterTokenizer(fitting: "hello, world\n")
        GlobalRandom.seed(1)
        let model = CharacterLanguageModel(vocabularySize: tokenizer.count, kind: .gru, embedding: 6, hidden: 10, layers: 2)
        let path = directory.appendingPathComponent("lm.safetensors").path
        try TrainedLanguageModel(model: model, tokenizer: tokenizer).save(to: path, metadata: ["steps": "3"])
        let loaded = try TrainedLanguageModel(checkpoint: path)
        XCTAssertEqual(loaded.tokenizer.characters, tokenizer)
        XCTAssertEqual(loaded.metadata["steps"], "3")
        XCTAssertEqual(loaded.model.namedParameters.map(\.0).first { $0.hasPrefix("gru.") }, "gru.weight_ih_l0")
        let tokens = IndexTensor([1, 2, 3, 4], shape: [2, 2])
        let expected = withoutGradients { model.logits(tokens, state: nil).logits }
        XCTAssertEqual(withoutGradients { (loaded.model as! CharacterLanguageModel).logits(tokens, state: nil).logits }.scalars, expected.scalars)
        XCTAssertThrowsError(try TrainedClassifier(checkpoint: path)) { error in
            XCTAssertTrue("\(error)".contains("is a language-model checkpoint"), "\(error)")
        }
        let classifierPath = directory.appendingPathComponent("mlp.safetensors").path
        let classifier = try ModelName.mlp.build(inputShape: [64], classes: 10)
        try TrainedClassifier.save(classifier, modelName: .mlp, dataset: .digits, inputShape: [64], classes: 10, normalize: nil,
                                   to: classifierPath)
        XCTAssertThrowsError(try TrainedLanguageModel(checkpoint: classifierPath)) { error in
            XCTAssertTrue("\(error)".contains("is a classifier checkpoint"), "\(error)")
        }

        // The shapes the loader checks are those of the built model.
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.0, $0.1.value.shape) }),
                       Dictionary(uniqueKeysWithValues: CharacterLanguageModel.tensorShapes(
                           vocabularySize: tokenizer.count, kind: .gru, embedding: 6, hidden: 10, layers: 2).map { ($0.name, $0.shape) }))
        // Metadata that lies is caught before a model is built from it.
        let (tensors, metadata) = try SafeTensors.read(path)
        for (key, value, expected) in [("hidden", "100000000", "metadata hidden \"100000000\" must be an integer from 1 to 65536"),
                                       ("hidden", "4000", "tensor gru.weight_ih_l0 has shape [30, 6], but the metadata's gru model"),
                                       ("layers", "0", "metadata layers \"0\" must be an integer from 1 to 64"),
                                       ("layers", "1", "unexpected tensor gru.bias_hh_l1")] {
            let lying = directory.appendingPathComponent("lying.safetensors").path
            try SafeTensors.write(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                  metadata: metadata.merging([key: value]) { $1 }, to: lying)
            XCTAssertThrowsError(try TrainedLanguageModel(checkpoint: lying)) { error in
                XCTAssertTrue("\(error)".hasPrefix(lying + ": ") && "\(error)".contains(expected), "\(error)")
            }
        }
    }
}

final class ForecastTests: XCTestCase {
    func testAirlineForecastBeatsSeasonalNaive() throws {
        let table = try Datasets.airlinePassengers()
        let series = try table.numbers(inColumn: try table.columnIndex(named: "Passengers"))
        // The CLI's defaults (300 epochs, 32 hidden units) take minutes in a debug build; this
        // lighter setting gives RMSE 23–26 over seeds 0–2 in release.
        var configuration = ForecastConfiguration()
        (configuration.epochs, configuration.lr, configuration.hidden) = (40, 2e-2, 16)
        let (_, forecast) = try Forecasting.run(series, configuration: configuration)
        XCTAssertEqual(forecast.seasonalNaiveRMSE, 49.99, accuracy: 0.005, "the baseline of ../shared/data/airline-passengers")
        XCTAssertEqual(forecast.actual.count, 24)
        XCTAssertLessThan(forecast.rmse, 0.8 * forecast.seasonalNaiveRMSE, "one-step RMSE \(forecast.rmse)")
        XCTAssertLessThan(forecast.recursiveRMSE, forecast.seasonalNaiveRMSE, "recursive RMSE \(forecast.recursiveRMSE)")
    }

    func testSeriesProblemsAreErrors() {
        var configuration = ForecastConfiguration()
        XCTAssertThrowsError(try Forecasting.run(Array(repeating: 1, count: 30), configuration: configuration)) {
            XCTAssertTrue("\($0)".contains("leaves 6 for training"), "\($0)")
        }
        XCTAssertThrowsError(try Forecasting.run((0..<60).map { Float($0) }, configuration: configuration)) {
            XCTAssertTrue("\($0)".contains("value 1 is 0.0"), "\($0)")
        }
        configuration.scaling = .minmax
        XCTAssertThrowsError(try Forecasting.run(Array(repeating: 5, count: 60), configuration: configuration)) {
            XCTAssertTrue("\($0)".contains("all 5.0"), "\($0)")
        }
    }
}
