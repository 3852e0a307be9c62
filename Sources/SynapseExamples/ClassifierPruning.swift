// Pruning a trained classifier, fine-tuning it, and measuring what pruning bought.

import Foundation
import Synapse

/// How `ClassifierPruning.run` prunes and fine-tunes.
public struct PruningConfiguration: Sendable {
    /// The share of weights (unstructured) or of channels (structured) to remove.
    public var sparsity: Double
    /// Remove whole channels and units (`Pruning.structured`) instead of single weights.
    public var structured = false
    public var scope = PruningScope.global
    public var norm = ChannelNorm.l1
    /// Raise the sparsity gradually during fine-tuning (`GradualPruning`) instead of at once.
    public var gradual = false
    public var fineTuneEpochs = 2
    public var learningRate: Float = 0.01
    public var momentum: Float = 0.9
    public var batchSize = 64
    public var seed: UInt64 = 0
    /// Inference is timed as the best of this many rounds over the test set, dense and
    /// pruned models alternating.
    public var timingRounds = 3

    public init(sparsity: Double) { self.sparsity = sparsity }
}

/// What pruning a classifier did.
public struct PruningOutcome {
    /// The pruned model, fine-tuned, in evaluation mode.
    public let model: any UnaryLayer
    /// Its hidden widths (smaller than the original's after structured pruning).
    public let widths: [Int]
    /// The share of the prunable weights that are zero, or (structured) of the weights removed.
    public let sparsity: Double
    public let report: SparsityReport
    public let accuracyBefore: Float
    public let accuracyAfter: Float
    /// Inference over the whole test set: the original dense model, and the pruned one with
    /// its kernels chosen by `SparseExecution` (best of the rounds, in seconds).
    public let inferenceSecondsDense: Double
    public let inferenceSecondsSparse: Double
    /// The pruned model forced onto the dense kernels (`SparseExecution.Policy.dense`): what
    /// the sparse kernels themselves save.
    public let inferenceSecondsPrunedDense: Double
}

public enum ClassifierPruning {
    /// Prunes a copy of `classifier` as `configuration` says, fine-tunes it on `train`, and
    /// measures accuracy on `test` and inference time before and after. `classifier` itself
    /// is left as it was, as the dense reference.
    public static func run(_ classifier: TrainedClassifier, checkpoint: String, train: TensorDataset, test: TensorDataset,
                           configuration: PruningConfiguration, quiet: Bool) throws -> PruningOutcome {
        let classes = classifier.classNames.count
        let normalize = classifier.normalize
        let testLoader = DataLoader(test, batchSize: 250, transform: normalize.map { $0 as any Transform } ?? Compose([]))
        let accuracyBefore = evaluate(classifier.model, on: testLoader, classCount: classes).accuracy

        // A second copy from the file is the one pruned; the first stays the dense reference.
        let copy = try TrainedClassifier(checkpoint: checkpoint)
        var model = copy.model, widths = copy.widths
        let originalWeights = (model as Module).prunableWeights.reduce(0) { $0 + $1.1.value.count }
        if configuration.structured {
            guard let sequential = model as? Sequential else {
                throw PruningError("structured pruning needs a Sequential model; this is a \(type(of: model))")
            }
            let result = try Pruning.structured(sequential, fraction: configuration.sparsity, norm: configuration.norm)
            model = result.model
            widths = Array(result.widths.dropLast())
        } else if !configuration.gradual || configuration.fineTuneEpochs == 0 {
            try Pruning.magnitude(model, sparsity: configuration.sparsity, scope: configuration.scope)
        } else {
            _ = try Pruning.prunableWeights(of: model)
        }
        if configuration.fineTuneEpochs > 0 {
            GlobalRandom.seed(configuration.seed)
            let loader = DataLoader(train, batchSize: configuration.batchSize, shuffle: true, seed: configuration.seed,
                                    transform: normalize.map { $0 as any Transform } ?? Compose([]))
            let optimizer = SGD(parameters: model.parameters, lr: configuration.learningRate, momentum: configuration.momentum)
            let trainer = Trainer(model: model, optimizer: optimizer, callbacks: [ProgressBar(quiet: quiet)])
            if configuration.gradual && !configuration.structured {
                trainer.callbacks.append(GradualPruning(model: model, finalSparsity: configuration.sparsity, scope: configuration.scope))
            }
            try trainer.fit(loader, epochs: configuration.fineTuneEpochs, classCount: classes)
        }
        model.eval()
        let accuracyAfter = evaluate(model, on: testLoader, classCount: classes).accuracy

        let inputs = withoutGradients { normalize.map { $0(test.inputs) } ?? test.inputs }
        var dense = Double.infinity, sparse = Double.infinity, prunedDense = Double.infinity
        let policy = SparseExecution.policy
        defer { SparseExecution.policy = policy }
        for _ in 0..<max(1, configuration.timingRounds) {
            dense = min(dense, inferenceSeconds(classifier.model, inputs: inputs))
            sparse = min(sparse, inferenceSeconds(model, inputs: inputs))
            SparseExecution.policy = .dense
            prunedDense = min(prunedDense, inferenceSeconds(model, inputs: inputs))
            SparseExecution.policy = policy
        }
        let report = Pruning.report(model)
        let remaining = (model as Module).prunableWeights.reduce(0) { $0 + $1.1.value.count }
        let sparsity = configuration.structured
            ? 1 - Double(remaining) / Double(max(1, originalWeights))
            : report.sparsity
        return PruningOutcome(model: model, widths: widths, sparsity: sparsity, report: report, accuracyBefore: accuracyBefore,
                              accuracyAfter: accuracyAfter, inferenceSecondsDense: dense, inferenceSecondsSparse: sparse,
                              inferenceSecondsPrunedDense: prunedDense)
    }

    /// Seconds to run `model` over `inputs` [N, …] in batches of `batchSize`, in inference mode.
    public static func inferenceSeconds(_ model: any UnaryLayer, inputs: Tensor, batchSize: Int = 250) -> Double {
        let count = inputs.shape[0]
        let start = DispatchTime.now().uptimeNanoseconds
        model.inference {
            var first = 0
            while first < count {
                let last = min(count, first + batchSize)
                _ = model(inputs[first..<last])
                first = last
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
