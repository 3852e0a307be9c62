import Foundation
import XCTest
import Synapse
@testable import SynapseExamples

final class GPTTests: XCTestCase {
    private func smallGPT(vocabulary: Int = 11, context: Int = 16) -> GPT {
        GlobalRandom.seed(3)
        return GPT(GPTConfiguration(vocabularySize: vocabulary, context: context, layers: 2, heads: 2, embedding: 16))
    }

    func testNamesAndShapesFollowNanoGPT() {
        let gpt = smallGPT()
        let names = gpt.namedParameters.map(\.0)
        XCTAssertEqual(Array(names.prefix(4)), ["wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight"])
        XCTAssertTrue(names.contains("h.1.mlp.c_proj.weight"))
        XCTAssertEqual(names.last, "ln_f.weight")
        XCTAssertFalse(names.contains { $0.hasPrefix("lm_head") }, "the head is tied to wte")
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: gpt.namedParameters.map { ($0.0, $0.1.shape) }),
                       Dictionary(uniqueKeysWithValues: GPT.tensorShapes(gpt.configuration).map { ($0.name, $0.shape) }))
        // Residual projections start at 0.02/√(2·layers), the rest at 0.02.
        let deviation = { (name: String) -> Float in
            let values = gpt.namedParameters.first { $0.0 == name }!.1.value.scalars
            return (values.map { $0 * $0 }.reduce(0, +) / Float(values.count)).squareRoot()
        }
        XCTAssertEqual(deviation("h.0.mlp.c_fc.weight"), 0.02, accuracy: 0.002)
        XCTAssertEqual(deviation("h.0.mlp.c_proj.weight"), 0.01, accuracy: 0.001)
    }

    func testCachedGenerationEqualsUncachedAtTemperatureZero() throws {
        let gpt = smallGPT()
        for count in [12, 40] {
            var greedy = try TokenSampler(temperature: 0, seed: 0)
            let cached = try gpt.generate(prompt: [1, 2, 3], count: count, sampler: &greedy, cached: true)
            var again = try TokenSampler(temperature: 0, seed: 0)
            let uncached = try gpt.generate(prompt: [1, 2, 3], count: count, sampler: &again, cached: false)
            XCTAssertEqual(cached.count, count)
            if count + 3 <= 16 {
                XCTAssertEqual(cached, uncached, "within the context both see the same tokens")
            } else {
                // Past the context the cached window slides in steps, the uncached one every token.
                XCTAssertEqual(Array(cached.prefix(13)), Array(uncached.prefix(13)))
            }
        }
        var sampler = try TokenSampler(temperature: 0, seed: 0)
        var emitted = 0
        let stopped = try gpt.generate(prompt: Array(repeating: 1, count: 40), count: 10, sampler: &sampler, cached: true,
                                       emit: { _ in emitted += 1 }, shouldStop: { emitted == 4 })
        XCTAssertEqual(stopped.count, 4, "a prompt longer than the context is trimmed, and shouldStop ends early")
    }

    func testPositionsPastTheContextAreAnError() {
        let gpt = smallGPT(context: 8)
        XCTAssertThrowsError(try gpt.logits(IndexTensor(Array(repeating: 0, count: 9), shape: [1, 9]))) { error in
            XCTAssertTrue("\(error)".contains("go past the context of 8"), "\(error)")
        }
    }

    func testCheckpointRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenizer = CharacterTokenizer(fitting: "hello, world\n")
        let gpt = smallGPT(vocabulary: tokenizer.count)
        let path = directory.appendingPathComponent("gpt.safetensors").path
        try TrainedLanguageModel(model: gpt, tokenizer: tokenizer).save(to: path)
        let loaded = try TrainedLanguageModel(checkpoint: path)
        let tokens = IndexTensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let restored = try XCTUnwrap(loaded.model as? GPT)
        XCTAssertEqual(restored.configuration, gpt.configuration)
        XCTAssertEqual(try withoutGradients { try restored.logits(tokens) }.scalars,
                       try withoutGradients { try gpt.logits(tokens) }.scalars)
    }

    func testShortRunEndsBelowTheUnigramEntropy() throws {
        let text = String(try LanguageModelTests.shakespeare().unicodeScalars.prefix(200_000))
        let tokenizer = CharacterTokenizer(fitting: text)
        let tokens = try tokenizer.encode(text)
        let split = tokens.count * 9 / 10
        let unigramEntropy = LanguageModelTests.unigramEntropy(tokens[..<split], vocabularySize: tokenizer.count)
        GlobalRandom.seed(0)
        // Small enough for a debug build.
        let gpt = GPT(GPTConfiguration(vocabularySize: tokenizer.count, context: 16, layers: 1, heads: 2, embedding: 32))
        let optimizer = AdamW(parameters: gpt.parameters, lr: 2e-2, betas: (0.9, 0.99), weightDecay: 0.1)
        optimizer.setWeightDecay([(gpt.parameters.filter { $0.shape.count < 2 }, 0)])
        let trainer = Trainer(model: gpt, optimizer: optimizer)
        trainer.gradientClipNorm = 1
        trainer.schedule = WarmupCosineSchedule(optimizer: optimizer, warmupSteps: 10, totalSteps: 200, minimumLearningRate: 2e-3)
        trainer.scheduleInterval = .batch
        let train = DataLoader(TokenWindows(tokens: Array(tokens[..<split]), context: 16), batchSize: 8, shuffle: true, seed: 0)
        let validation = DataLoader(TokenWindows(tokens: Array(tokens[split...]), context: 16), batchSize: 16, shuffle: true,
                                    seed: 1, batchLimit: 10)
        try trainer.fit(gpt.trainingTask(), on: train, epochs: 1, maxSteps: 200)
        let after = try trainer.validate(gpt.trainingTask(), on: validation).loss
        XCTAssertLessThan(Double(after), unigramEntropy - 0.3,
                          "validation loss \(after) nats/char is not clearly below the unigram entropy \(unigramEntropy)")
    }
}

final class LanguageModelTokenizerTests: XCTestCase {
    func testStreamNeverSplitsACharacter() {
        let text = "héllo € 🎭 ok"
        var stream = UTF8Stream()
        var pieces: [String] = []
        for byte in text.utf8 { pieces.append(stream.append([byte])) }
        pieces.append(stream.finish())
        XCTAssertEqual(pieces.joined(), text)
        XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") })
        // "é" is two bytes: the first comes back empty, the second completes it.
        XCTAssertEqual(Array(pieces[1...2]), ["", "é"])
    }

    func testBytePairTokenizerRoundTripsThroughCheckpointMetadata() throws {
        let bpe = try BPETokenizer.train(on: ["the cat sat on the mat, café\n"], vocabularySize: 270)
        let tokenizer = LanguageModelTokenizer.bytePairs(bpe)
        let restored = try LanguageModelTokenizer(kindName: "bpe", serialized: tokenizer.serialized, source: "test")
        let ids = try tokenizer.encode("the café")
        XCTAssertEqual(try restored.encode("the café"), ids)
        XCTAssertEqual(restored.decode(ids), "the café")
        XCTAssertEqual(ids.flatMap { restored.bytes(of: $0) }, Array("the café".utf8))
        XCTAssertThrowsError(try LanguageModelTokenizer(kindName: "words", serialized: "", source: "f.safetensors"))
    }
}
