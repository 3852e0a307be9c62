// The kinds of mini-batch the built-in datasets assemble.

import SynapseCore

/// Inputs with one class label each: images, feature vectors.
public struct LabeledBatch: Sendable {
    /// [N, …].
    public let inputs: Tensor
    /// [N].
    public let labels: IndexTensor

    public init(inputs: Tensor, labels: IndexTensor) {
        self.inputs = inputs
        self.labels = labels
    }
}

/// Token sequences padded to a common length, with their true lengths and their targets.
public struct SequenceBatch: Sendable {
    /// Token ids [N, T]; positions at or past a sequence's length hold the padding index.
    public let tokens: IndexTensor
    /// Per-token targets [N, T] (padding positions hold the dataset's ignore index), or one
    /// label per sequence [N].
    public let targets: IndexTensor
    /// Each sequence's true length, 1 ≤ length ≤ T.
    public let lengths: [Int]
    /// The spellings of the tokens, when the dataset has them (for character-level features).
    public let characters: CharacterBatch?

    public init(tokens: IndexTensor, targets: IndexTensor, lengths: [Int], characters: CharacterBatch? = nil) {
        require(tokens.rank == 2 && lengths.count == tokens.shape[0],
                "SequenceBatch: tokens must be [N, T] with N lengths, got \(tokens.shape) and \(lengths.count) lengths")
        if let characters {
            require(characters.words.shape == tokens.shape,
                    "SequenceBatch: character rows \(characters.words.shape) do not match tokens \(tokens.shape)")
        }
        self.tokens = tokens
        self.targets = targets
        self.lengths = lengths
        self.characters = characters
    }

    /// The number of sequences.
    public var count: Int { lengths.count }

    /// The padded length T.
    public var steps: Int { tokens.shape[1] }

    /// The number of real (unpadded) tokens.
    public var tokenCount: Int { lengths.reduce(0, +) }

    /// Whether every sequence fills all T steps.
    public var isFull: Bool { lengths.allSatisfy { $0 == steps } }

    /// 1 at real tokens and 0 at padding, [N, T].
    public var mask: Tensor {
        let t = steps
        var values = [Float](repeating: 0, count: count * t)
        for (row, length) in lengths.enumerated() {
            for step in 0..<length { values[row * t + step] = 1 }
        }
        return Tensor(values, shape: [count, t])
    }
}

/// Inputs with real-valued targets: a window of a time series and the values that follow it.
public struct RegressionBatch: Sendable {
    /// [N, …].
    public let inputs: Tensor
    /// [N, …].
    public let targets: Tensor

    public init(inputs: Tensor, targets: Tensor) {
        require(inputs.rank >= 1 && targets.rank >= 1 && inputs.shape[0] == targets.shape[0],
                "RegressionBatch: \(inputs.shape.first ?? 0) inputs but targets of shape \(targets.shape)")
        self.inputs = inputs
        self.targets = targets
    }

    /// The number of examples.
    public var count: Int { inputs.shape[0] }
}
