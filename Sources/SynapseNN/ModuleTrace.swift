// Recording what each module's forward pass produced, for model summaries.

import SynapseCore

/// Records the output shape of every module that runs inside `ModuleTrace.run`, as PyTorch's
/// forward hooks let torchinfo do. `Sequential` records each of its layers, and the layers
/// whose forward pass takes more than one tensor or returns more than one (`Embedding`,
/// `LSTM`, `MultiheadAttention`, the Transformer layers) record themselves, so a summary sees
/// inside models that are not `Sequential`. Outside `run` recording costs one load.
public enum ModuleTrace {
    /// What one module produced during a traced run.
    public struct Entry: Sendable {
        /// The shape of the module's first output.
        public let shape: [Int]
        /// How many times it ran (a layer reused at every time step runs many times).
        public var calls: Int
    }

    nonisolated(unsafe) private static var recording: [ObjectIdentifier: Entry]?

    /// Whether a traced run is in progress on this process.
    public static var isRecording: Bool { recording != nil }

    /// Runs `body` and returns its result with the output shape of every module that ran in
    /// it, keyed by the module's identity. Runs do not nest; the training loop's thread only.
    public static func run<R>(_ body: () throws -> R) rethrows -> (result: R, entries: [ObjectIdentifier: Entry]) {
        require(recording == nil, "ModuleTrace.run: traced runs do not nest")
        recording = [:]
        defer { recording = nil }
        let result = try body()
        return (result, recording ?? [:])
    }

    /// Records that `module` produced `output`; the first call's shape is kept.
    public static func record(_ module: Module, output: Tensor) {
        guard recording != nil else { return }
        let key = ObjectIdentifier(module)
        if recording![key] != nil {
            recording![key]!.calls += 1
        } else {
            recording![key] = Entry(shape: output.shape, calls: 1)
        }
    }
}

extension Module {
    /// Records `output` as this module's output in a `ModuleTrace` run, and returns it.
    @inline(__always)
    public func traced(_ output: Tensor) -> Tensor {
        if ModuleTrace.isRecording { ModuleTrace.record(self, output: output) }
        return output
    }
}
