// Datasets of token sequences: labelled or tagged sentences, and windows of a long text.

import SynapseCore

/// Token sequences of varying lengths with per-token targets (tags) or one label each
/// (sentiment). A batch pads its sequences to the longest one in it. With `spellings` (the
/// character ids of every token), batches also carry a `CharacterBatch` for models with
/// character-level features.
public struct SequenceDataset: Dataset {
    public enum Targets: Sendable {
        /// One target per token; each list as long as its sequence.
        case perToken([[Int]])
        /// One label per sequence.
        case perSequence([Int])
    }

    public let sequences: [[Int]]
    public let targets: Targets
    /// The token id written at padding positions.
    public let paddingIndex: Int
    /// The per-token target written at padding positions, which losses skip (PyTorch's -100).
    public let ignoreIndex: Int
    /// The character ids of each token of each sequence, if the model reads spellings.
    public let spellings: [[[Int]]]?
    /// The characters kept of a longer spelling.
    public let maximumSpelling: Int

    public init(sequences: [[Int]], targets: Targets, paddingIndex: Int = 0, ignoreIndex: Int = -100,
                spellings: [[[Int]]]? = nil, maximumSpelling: Int = 32) {
        for (i, sequence) in sequences.enumerated() {
            require(!sequence.isEmpty, "SequenceDataset: sequence \(i) is empty")
        }
        switch targets {
        case .perToken(let tags):
            require(tags.count == sequences.count, "SequenceDataset: \(sequences.count) sequences but \(tags.count) target lists")
            for i in tags.indices {
                require(tags[i].count == sequences[i].count,
                        "SequenceDataset: sequence \(i) has \(sequences[i].count) tokens but \(tags[i].count) targets")
            }
        case .perSequence(let labels):
            require(labels.count == sequences.count, "SequenceDataset: \(sequences.count) sequences but \(labels.count) labels")
        }
        if let spellings {
            require(spellings.count == sequences.count && zip(spellings, sequences).allSatisfy { $0.count == $1.count },
                    "SequenceDataset: spellings must give one spelling per token of every sequence")
        }
        require(maximumSpelling > 0, "SequenceDataset: maximumSpelling must be positive, got \(maximumSpelling)")
        self.spellings = spellings
        self.maximumSpelling = maximumSpelling
        self.sequences = sequences
        self.targets = targets
        self.paddingIndex = paddingIndex
        self.ignoreIndex = ignoreIndex
    }

    public var count: Int { sequences.count }

    public func batch(_ indices: [Int]) -> SequenceBatch {
        let lengths = indices.map { sequences[$0].count }
        let steps = lengths.max() ?? 0
        var tokens = [Int](repeating: paddingIndex, count: indices.count * steps)
        for (row, index) in indices.enumerated() {
            for (step, token) in sequences[index].enumerated() { tokens[row * steps + step] = token }
        }
        let batchTargets: IndexTensor
        switch targets {
        case .perToken(let tags):
            var values = [Int](repeating: ignoreIndex, count: indices.count * steps)
            for (row, index) in indices.enumerated() {
                for (step, tag) in tags[index].enumerated() { values[row * steps + step] = tag }
            }
            batchTargets = IndexTensor(values, shape: [indices.count, steps])
        case .perSequence(let labels):
            batchTargets = IndexTensor(indices.map { labels[$0] })
        }
        let characters = spellings.map { spellings in
            CharacterBatch(spellings: indices.map { spellings[$0] }, steps: steps, maximumLength: maximumSpelling)
        }
        return SequenceBatch(tokens: IndexTensor(tokens, shape: [indices.count, steps]), targets: batchTargets, lengths: lengths,
                             characters: characters)
    }
}

/// Every window of `context` consecutive tokens of one long token stream, with the next
/// tokens as targets: example i is tokens[i..<i+context] → tokens[i+1...i+context]. Shuffled,
/// a loader draws windows at random offsets, as character language models train.
public struct TokenWindows: Dataset {
    public let tokens: [Int]
    public let context: Int

    public init(tokens: [Int], context: Int) {
        require(context > 0, "TokenWindows: context must be positive, got \(context)")
        require(tokens.count > context,
                "TokenWindows: a stream of \(tokens.count) tokens is too short for windows of \(context) (needs at least \(context + 1))")
        self.tokens = tokens
        self.context = context
    }

    public var count: Int { tokens.count - context }

    public func batch(_ indices: [Int]) -> SequenceBatch {
        var inputs = [Int](), targets = [Int]()
        inputs.reserveCapacity(indices.count * context)
        targets.reserveCapacity(indices.count * context)
        for start in indices {
            inputs += tokens[start..<(start + context)]
            targets += tokens[(start + 1)...(start + context)]
        }
        let shape = [indices.count, context]
        return SequenceBatch(tokens: IndexTensor(inputs, shape: shape), targets: IndexTensor(targets, shape: shape),
                             lengths: [Int](repeating: context, count: indices.count))
    }
}

/// Inputs with real-valued targets, all in memory: `inputs` [N, …], `targets` [N, …].
public struct RegressionDataset: Dataset {
    public let inputs: Tensor
    public let targets: Tensor

    public init(inputs: Tensor, targets: Tensor) {
        require(inputs.rank >= 1 && targets.rank >= 1 && inputs.shape[0] == targets.shape[0],
                "RegressionDataset: \(inputs.shape.first ?? 0) inputs but targets of shape \(targets.shape)")
        self.inputs = inputs
        self.targets = targets
    }

    public var count: Int { inputs.shape[0] }

    public func batch(_ indices: [Int]) -> RegressionBatch {
        let index = IndexTensor(indices)
        return RegressionBatch(inputs: inputs.indexSelect(axis: 0, indices: index), targets: targets.indexSelect(axis: 0, indices: index))
    }
}
