// Learning-rate schedules, stepped once per epoch (or per batch, as the caller chooses).

import Foundation
import SynapseCore

/// A schedule that sets `optimizer.learningRate` from the number of `step()` calls so far,
/// like PyTorch's `LRScheduler`. Subclasses give the factor applied to the base rate.
open class LearningRateSchedule {
    public let optimizer: Optimizer
    /// The optimizer's learning rate when the schedule was created.
    public let baseLearningRate: Float
    /// `step()` calls so far.
    public private(set) var stepCount = 0

    public init(optimizer: Optimizer) {
        self.optimizer = optimizer
        baseLearningRate = optimizer.learningRate
    }

    /// Puts the schedule at `stepCount` steps, with the optimizer's rate to match, as a run
    /// saved after that many steps had it.
    public func restore(stepCount: Int) {
        self.stepCount = max(0, stepCount)
        optimizer.learningRate = baseLearningRate * factor(at: self.stepCount)
    }

    /// Advances the schedule and updates the optimizer's learning rate.
    public func step() {
        stepCount += 1
        optimizer.learningRate = baseLearningRate * factor(at: stepCount)
    }

    /// The multiplier of the base rate after `step` steps.
    open func factor(at step: Int) -> Float { 1 }
}

/// Multiplies the rate by `gamma` every `stepSize` steps (`StepLR`).
public final class StepSchedule: LearningRateSchedule {
    public let stepSize: Int, gamma: Float
    public init(optimizer: Optimizer, stepSize: Int, gamma: Float = 0.1) {
        require(stepSize > 0, "StepSchedule: stepSize must be positive, got \(stepSize)")
        self.stepSize = stepSize
        self.gamma = gamma
        super.init(optimizer: optimizer)
    }
    public override func factor(at step: Int) -> Float { Float(Foundation.pow(Double(gamma), Double(step / stepSize))) }
}

/// Multiplies the rate by `gamma` every step (`ExponentialLR`).
public final class ExponentialSchedule: LearningRateSchedule {
    public let gamma: Float
    public init(optimizer: Optimizer, gamma: Float) {
        self.gamma = gamma
        super.init(optimizer: optimizer)
    }
    public override func factor(at step: Int) -> Float { Float(Foundation.pow(Double(gamma), Double(step))) }
}

/// Half a cosine from the base rate down to `minimumLearningRate` over `period` steps (`CosineAnnealingLR`).
public final class CosineSchedule: LearningRateSchedule {
    public let period: Int, minimumLearningRate: Float
    public init(optimizer: Optimizer, period: Int, minimumLearningRate: Float = 0) {
        require(period > 0, "CosineSchedule: period must be positive, got \(period)")
        self.period = period
        self.minimumLearningRate = minimumLearningRate
        super.init(optimizer: optimizer)
    }
    public override func factor(at step: Int) -> Float {
        let progress = Double(min(step, period)) / Double(period)
        let rate = Double(minimumLearningRate)
            + (Double(baseLearningRate) - Double(minimumLearningRate)) * (1 + cos(Double.pi * progress)) / 2
        return baseLearningRate == 0 ? 0 : Float(rate / Double(baseLearningRate))
    }
}

/// Ramps the rate linearly from `startFactor` × base to the base over `warmupSteps` steps, then holds it.
/// The optimizer starts at the ramp's first value.
public final class LinearWarmup: LearningRateSchedule {
    public let warmupSteps: Int, startFactor: Float
    public init(optimizer: Optimizer, warmupSteps: Int, startFactor: Float = 0.1) {
        require(warmupSteps > 0 && startFactor >= 0 && startFactor <= 1,
                "LinearWarmup: warmupSteps must be positive and startFactor in [0, 1]")
        self.warmupSteps = warmupSteps
        self.startFactor = startFactor
        super.init(optimizer: optimizer)
        optimizer.learningRate = baseLearningRate * startFactor
    }
    public override func factor(at step: Int) -> Float {
        startFactor + (1 - startFactor) * Float(min(step, warmupSteps)) / Float(warmupSteps)
    }
}

/// GPT training's schedule, as nanoGPT's `get_lr`: a linear warmup to the base rate over
/// `warmupSteps` (step i runs at base · (i + 1) / (warmupSteps + 1)), then half a cosine down to
/// `minimumLearningRate` at `totalSteps`, held after that. The optimizer starts at step 0's rate.
public final class WarmupCosineSchedule: LearningRateSchedule {
    public let warmupSteps: Int, totalSteps: Int, minimumLearningRate: Float

    public init(optimizer: Optimizer, warmupSteps: Int, totalSteps: Int, minimumLearningRate: Float = 0) {
        require(warmupSteps >= 0 && totalSteps > warmupSteps,
                "WarmupCosineSchedule: need 0 ≤ warmupSteps < totalSteps, got \(warmupSteps) and \(totalSteps)")
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumLearningRate = minimumLearningRate
        super.init(optimizer: optimizer)
        optimizer.learningRate = baseLearningRate * factor(at: 0)
    }

    public override func factor(at step: Int) -> Float {
        guard baseLearningRate > 0 else { return 0 }
        if step < warmupSteps { return Float(step + 1) / Float(warmupSteps + 1) }
        let progress = Double(min(step, totalSteps) - warmupSteps) / Double(totalSteps - warmupSteps)
        let rate = Double(minimumLearningRate)
            + (1 + cos(Double.pi * progress)) / 2 * (Double(baseLearningRate) - Double(minimumLearningRate))
        return Float(rate / Double(baseLearningRate))
    }
}

/// Cuts the rate by `factor` when a monitored metric (lower is better) has not improved by a
/// relative `threshold` for more than `patience` steps (`ReduceLROnPlateau`, mode "min").
public final class ReduceOnPlateau {
    public let optimizer: Optimizer
    public let factor: Float, patience: Int, threshold: Float, minimumLearningRate: Float
    public private(set) var best = Float.infinity
    public private(set) var badSteps = 0

    public init(optimizer: Optimizer, factor: Float = 0.1, patience: Int = 10, threshold: Float = 1e-4,
                minimumLearningRate: Float = 0) {
        require(factor > 0 && factor < 1 && patience >= 0, "ReduceOnPlateau: factor must be in (0, 1) and patience non-negative")
        self.optimizer = optimizer
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.minimumLearningRate = minimumLearningRate
    }

    /// Records this step's metric (for example the validation loss) and lowers the rate if it plateaued.
    public func step(metric: Float) {
        if metric < best * (1 - threshold) {
            best = metric
            badSteps = 0
        } else {
            badSteps += 1
        }
        if badSteps > patience {
            optimizer.learningRate = max(optimizer.learningRate * factor, minimumLearningRate)
            badSteps = 0
        }
    }
}
