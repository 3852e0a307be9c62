// Gradual magnitude pruning during training (Zhu & Gupta, 2017).

import Foundation
import SynapseCore
import SynapseNN

/// Raises a model's sparsity during training on Zhu and Gupta's cubic schedule,
/// sₜ = s_f + (s_i − s_f) · (1 − (t − t₀) / (t₁ − t₀))³, pruning by magnitude every
/// `frequency` steps from step t₀ to t₁: fast at first, while the network can still recover,
/// and slowly near the target. After t₁ the masks hold the final sparsity.
///
/// ```swift
/// trainer.callbacks.append(GradualPruning(model: model, finalSparsity: 0.9))
/// ```
public final class GradualPruning: TrainingCallback {
    public let model: Module
    public let initialSparsity: Double
    public let finalSparsity: Double
    public let startStep: Int
    /// The step at which the final sparsity is reached; nil means three quarters of the run,
    /// leaving the last quarter to recover at the final sparsity.
    public let endStep: Int?
    public let frequency: Int
    public let scope: PruningScope
    /// The sparsity the last pruning step set.
    public private(set) var currentSparsity = 0.0
    private var end = 0

    public init(model: Module, finalSparsity: Double, initialSparsity: Double = 0, startStep: Int = 0, endStep: Int? = nil,
                frequency: Int = 50, scope: PruningScope = .global) {
        require(finalSparsity >= 0 && finalSparsity < 1 && initialSparsity >= 0 && initialSparsity <= finalSparsity,
                "GradualPruning: sparsities must satisfy 0 ≤ initial ≤ final < 1, got \(initialSparsity) and \(finalSparsity)")
        require(frequency > 0 && startStep >= 0 && (endStep.map { $0 >= startStep } ?? true),
                "GradualPruning: frequency must be positive and the end step at or after the start step")
        require(!model.prunableWeights.isEmpty, "GradualPruning: \(type(of: model)) has no prunable layers")
        self.model = model
        self.initialSparsity = initialSparsity
        self.finalSparsity = finalSparsity
        self.startStep = startStep
        self.endStep = endStep
        self.frequency = frequency
        self.scope = scope
        end = endStep ?? startStep
    }

    /// The schedule's sparsity after `step` optimizer steps.
    public func sparsity(atStep step: Int) -> Double {
        guard step >= startStep else { return 0 }
        guard end > startStep, step < end else { return finalSparsity }
        let progress = Double(step - startStep) / Double(end - startStep)
        return finalSparsity + (initialSparsity - finalSparsity) * pow(1 - progress, 3)
    }

    public func trainingWillStart(_ trainer: Trainer, epochs: Int, batchesPerEpoch: Int) {
        end = endStep ?? max(startStep, trainer.stepCount + epochs * batchesPerEpoch * 3 / 4)
    }

    public func batchDidEnd(_ trainer: Trainer, epoch: Int, batch: Int, loss: Float, metrics: [String: Float], samples: Int) {
        let step = trainer.stepCount
        guard step >= startStep, step <= end, (step - startStep) % frequency == 0 || step == end else { return }
        let target = sparsity(atStep: step)
        guard target > currentSparsity else { return }
        // init checked that the model has prunable layers, and the schedule stays in [0, 1).
        try! Pruning.magnitude(model, sparsity: target, scope: scope)
        currentSparsity = target
    }
}
