// Saving and restoring models and optimizers.

import Foundation
import SynapseCore
import SynapseNN
import SynapseOptim

public enum Checkpoint {
    /// Saves `model`'s parameters and buffers under their PyTorch-style names, and, if given,
    /// the optimizer's step count, learning rate and per-parameter state (as
    /// `optimizer.<index>.<key>`), atomically to `path`. `extra` tensors (input normalization
    /// statistics, say) are stored alongside under their own names.
    public static func save(_ model: Module, optimizer: Optimizer? = nil, extra: [(String, Tensor)] = [],
                            metadata: [String: String] = [:], to path: String) throws {
        var tensors = model.namedParameters.map { ($0.0, $0.1.value) } + model.namedBuffers.map { ($0.0, $0.1.value) } + extra
        var info = metadata
        if let optimizer {
            info["optimizer.step_count"] = String(optimizer.stepCount)
            info["optimizer.learning_rate"] = String(optimizer.learningRate)
            for (index, state) in optimizer.state.enumerated() {
                for (key, tensor) in state.sorted(by: { $0.key < $1.key }) { tensors.append(("optimizer.\(index).\(key)", tensor)) }
            }
        }
        try SafeTensors.write(tensors, metadata: info, to: path)
    }

    /// Loads parameters and buffers saved by `save` (or by PyTorch under the same names) into
    /// `model`, and optimizer state into `optimizer`. Missing or misshapen tensors are errors.
    /// Returns the file's metadata.
    @discardableResult
    public static func load(into model: Module, optimizer: Optimizer? = nil, from path: String) throws -> [String: String] {
        let (tensors, metadata) = try SafeTensors.read(path)
        for (name, parameter) in model.namedParameters {
            guard let tensor = tensors[name] else { throw CheckpointError("\(path): no tensor named \(name) for this model") }
            guard tensor.shape == parameter.shape else {
                throw CheckpointError("\(path): \(name) has shape \(tensor.shape), the model expects \(parameter.shape)")
            }
            parameter.assign(tensor)
        }
        for (name, buffer) in model.namedBuffers {
            guard let tensor = tensors[name], tensor.shape == buffer.value.shape else {
                throw CheckpointError("\(path): buffer \(name) is missing or has the wrong shape")
            }
            buffer.value = tensor
        }
        if let optimizer {
            guard let steps = metadata["optimizer.step_count"].flatMap(Int.init),
                  let rate = metadata["optimizer.learning_rate"].flatMap(Float.init) else {
                throw CheckpointError("\(path): holds no optimizer state")
            }
            var states = Array(repeating: [String: Tensor](), count: optimizer.parameters.count)
            for (name, tensor) in tensors where name.hasPrefix("optimizer.") {
                let parts = name.split(separator: ".", maxSplits: 2)
                guard parts.count == 3, let index = Int(parts[1]), index < states.count else {
                    throw CheckpointError("\(path): optimizer entry \(name) does not fit this optimizer")
                }
                states[index][String(parts[2])] = tensor
            }
            optimizer.restore(stepCount: steps, learningRate: rate, state: states)
        }
        return metadata
    }
}
