// A character language model: embedding, a recurrent network and a linear head.

import Foundation
import Synapse

/// The recurrent network inside a `CharacterLanguageModel`.
public enum RecurrentModelName: String, CaseIterable, Sendable {
    case lstm, gru
}

/// Embedding → LSTM or GRU → Linear, predicting each next character. Parameters are named as
/// the PyTorch reference's (`emb.weight`, `lstm.weight_ih_l0`, `head.weight`), so weights
/// move both ways through safetensors.
///
/// ```swift
/// let model = CharacterLanguageModel(vocabularySize: 65, kind: .lstm, embedding: 128, hidden: 256, layers: 2)
/// let (logits, state) = model.logits(tokens, state: nil)   // tokens [T, N] → logits [T·N, 65]
/// ```
public final class CharacterLanguageModel: Module {
    public let kind: RecurrentModelName
    public let emb: Embedding
    public let rnn: RecurrentNetwork
    public let head: Linear

    public init(vocabularySize: Int, kind: RecurrentModelName, embedding: Int = 128, hidden: Int = 256, layers: Int = 2,
                dropout: Float = 0) {
        self.kind = kind
        emb = Embedding(vocabularySize, embedding)
        switch kind {
        case .lstm: rnn = LSTM(embedding, hidden, layers: layers, dropout: dropout)
        case .gru: rnn = GRU(embedding, hidden, layers: layers, dropout: dropout)
        }
        head = Linear(hidden, vocabularySize)
    }

    public override var namedChildren: [(String, Module)] { [("emb", emb), (kind.rawValue, rnn), ("head", head)] }

    /// The names and shapes of the parameters such a model holds, computed without building
    /// it, so a checkpoint can be checked before anything is allocated from its metadata.
    public static func tensorShapes(vocabularySize: Int, kind: RecurrentModelName, embedding: Int, hidden: Int,
                                    layers: Int) -> [(name: String, shape: [Int])] {
        let gates = (kind == .lstm ? RecurrentCell.lstm : .gru).gateCount * hidden
        var shapes: [(name: String, shape: [Int])] = [("emb.weight", [vocabularySize, embedding])]
        for layer in 0..<layers {
            shapes += [("\(kind.rawValue).weight_ih_l\(layer)", [gates, layer == 0 ? embedding : hidden]),
                       ("\(kind.rawValue).weight_hh_l\(layer)", [gates, hidden]),
                       ("\(kind.rawValue).bias_ih_l\(layer)", [gates]), ("\(kind.rawValue).bias_hh_l\(layer)", [gates])]
        }
        return shapes + [("head.weight", [vocabularySize, hidden]), ("head.bias", [vocabularySize])]
    }

    public var vocabularySize: Int { emb.count }

    /// Logits [T·N, V] for time-major token ids [T, N] (row t·N + n predicts the token after
    /// tokens[t, n]) and the state after the last step. `state` defaults to zeros.
    public func logits(_ tokens: IndexTensor, state: RecurrentState?) -> (logits: Tensor, state: RecurrentState) {
        require(tokens.rank == 2, "CharacterLanguageModel: tokens must be [T, N], got \(tokens.shape)")
        let (output, next) = rnn(emb(tokens), state: state)
        return (head(output.reshaped([-1, rnn.hiddenSize])), next)
    }

    /// The next-token task for batches of windows [N, T]: the model runs time-major, so the
    /// batch's tokens and targets are transposed once here rather than activations per layer.
    public func trainingTask() -> TokenPredictionTask<SequenceBatch> {
        TokenPredictionTask { [unowned self] batch in
            let (tokens, targets) = (batch.tokens.transposed(), batch.targets.transposed())
            return (logits(tokens, state: nil).logits, targets.reshaped([targets.count]))
        }
    }

    /// Generates up to `count` tokens after `prompt`, calling `emit` with each as soon as it is
    /// drawn and ending early once `shouldStop` says so. The prompt runs once; after it the
    /// recurrent state is carried one token at a time.
    @discardableResult
    public func generate(prompt: [Int], count: Int, sampler: inout TokenSampler, emit: (Int) -> Void = { _ in },
                         shouldStop: () -> Bool = { false }) -> [Int] {
        require(!prompt.isEmpty, "CharacterLanguageModel.generate: the prompt must hold at least one token")
        return inference {
            var (logits, state) = self.logits(IndexTensor(prompt, shape: [prompt.count, 1]), state: nil)
            var last = logits[prompt.count - 1].scalars
            var generated: [Int] = []
            generated.reserveCapacity(count)
            for index in 0..<count {
                let token = sampler.sample(last)
                generated.append(token)
                emit(token)
                guard index + 1 < count, !shouldStop() else { break }
                (logits, state) = self.logits(IndexTensor([token], shape: [1, 1]), state: state)
                last = logits.scalars
            }
            return generated
        }
    }
}
