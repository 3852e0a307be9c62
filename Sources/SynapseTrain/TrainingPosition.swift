// What a run saved between epochs needs, besides its weights and optimizer state, to continue
// exactly as if it had never stopped.

import SynapseCore

/// Where a training run stands after an epoch: epochs and optimizer steps completed, the
/// schedule's steps and the global random generator's state. Saved as checkpoint metadata
/// beside the model and the optimizer, it lets `Trainer.resume(from:)` continue a run so that
/// its numbers equal the uninterrupted run's bit for bit (the data loader is put at the same
/// epoch with `DataLoader.epoch`).
public struct TrainingPosition: Equatable, Sendable {
    public var epochs: Int
    public var steps: Int
    public var scheduleSteps: Int
    public var random: [UInt64]

    public init(epochs: Int, steps: Int, scheduleSteps: Int, random: [UInt64]) {
        self.epochs = epochs
        self.steps = steps
        self.scheduleSteps = scheduleSteps
        self.random = random
    }

    /// The position as checkpoint metadata, under `resume.` keys.
    public var metadata: [String: String] {
        ["resume.epochs": String(epochs), "resume.steps": String(steps), "resume.schedule_steps": String(scheduleSteps),
         "resume.random": random.map { String($0, radix: 16) }.joined(separator: ",")]
    }

    /// Reads a position from checkpoint metadata written by `metadata`; a missing or malformed
    /// entry throws `TrainingError.cannotResume` naming it.
    public init(metadata: [String: String], source: String) throws {
        func count(_ key: String) throws -> Int {
            guard let text = metadata[key] else {
                throw TrainingError.cannotResume("\(source): has no \(key) (not saved by a run that can be resumed)")
            }
            guard let value = Int(text), value >= 0 else {
                throw TrainingError.cannotResume("\(source): \(key) \"\(text)\" is not a count")
            }
            return value
        }
        epochs = try count("resume.epochs")
        steps = try count("resume.steps")
        scheduleSteps = try count("resume.schedule_steps")
        let words = (metadata["resume.random"] ?? "").split(separator: ",").compactMap { UInt64($0, radix: 16) }
        guard RandomGenerator(state: words) != nil else {
            throw TrainingError.cannotResume("\(source): resume.random is not a random generator state")
        }
        random = words
    }
}

extension Trainer {
    /// Where this run stands now.
    public var position: TrainingPosition {
        TrainingPosition(epochs: completedEpochs, steps: stepCount, scheduleSteps: schedule?.stepCount ?? 0, random: GlobalRandom.state)
    }

    /// Continues from `position`: the epoch and step counts, the schedule (with the
    /// optimizer's learning rate) and the global random state. Load the weights and the
    /// optimizer state first, and set the training loader's `epoch` to `position.epochs`.
    public func resume(from position: TrainingPosition) {
        restoreCounts(epochs: position.epochs, steps: position.steps)
        schedule?.restore(stepCount: position.scheduleSteps)
        GlobalRandom.state = position.random
    }
}
