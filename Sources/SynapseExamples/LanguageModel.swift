// What `synapse lm train`, `synapse generate` and their checkpoints need from a language model.

import Synapse

/// A next-token model over a fixed vocabulary: recurrent (`CharacterLanguageModel`) or a
/// Transformer (`GPT`). One training loop and one generation command serve every kind.
public protocol LanguageModel: Module {
    var vocabularySize: Int { get }
    /// The checkpoint's "model" metadata: lstm, gru or gpt.
    var kindName: String { get }
    /// The sizes that rebuild the model, saved as checkpoint metadata.
    var architecture: [String: String] { get }
    /// The most tokens it conditions on (a GPT's context), or nil when unbounded (recurrent).
    var contextLength: Int? { get }
    /// The next-token task for batches of windows [N, T] with targets shifted by one.
    func trainingTask() -> TokenPredictionTask<SequenceBatch>
    /// Generates up to `count` tokens after `prompt`, calling `emit` with each as soon as it is
    /// drawn, and ending early once `shouldStop` (asked after each token) says so.
    @discardableResult
    func generate(prompt: [Int], count: Int, sampler: inout TokenSampler, emit: (Int) -> Void,
                  shouldStop: () -> Bool) throws -> [Int]
}

extension CharacterLanguageModel: LanguageModel {
    public var kindName: String { kind.rawValue }
    public var contextLength: Int? { nil }

    public var architecture: [String: String] {
        ["layers": String(rnn.layers), "hidden": String(rnn.hiddenSize), "embedding": String(emb.dimension)]
    }
}
