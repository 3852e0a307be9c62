// Saving and restoring models and optimizers.

import Foundation
import SynapseCore
import SynapseNN
import SynapseOptim

/// Checkpoints as safetensors files: any number of named modules and optimizers, extra
/// tensors, and string metadata (a model's configuration, a vocabulary) in one file, so a
/// command can rebuild everything from the file alone.
///
/// A module saved under the name "" keeps its bare PyTorch-style names (`fc1.weight`), so the
/// file loads into PyTorch with `load_state_dict`; a module named "generator" is stored as
/// `generator.fc1.weight`. An optimizer named "optimizer" stores its step count and learning
/// rate as metadata `optimizer.step_count` and `optimizer.learning_rate`, and its
/// per-parameter state as tensors `optimizer.<index>.<key>`.
public enum Checkpoint {
    /// Saves `model`'s parameters and buffers under their PyTorch-style names, and, if given,
    /// the optimizer's state under "optimizer", atomically to `path`. `extra` tensors (input
    /// normalization statistics, say) are stored alongside under their own names.
    public static func save(_ model: Module, optimizer: Optimizer? = nil, extra: [(String, Tensor)] = [],
                            metadata: [String: String] = [:], to path: String) throws {
        try save(modules: [("", model)], optimizers: optimizer.map { [("optimizer", $0)] } ?? [], extra: extra,
                 metadata: metadata, to: path)
    }

    /// Saves every module (its parameters and buffers under `name.`, or bare for "") and every
    /// optimizer (under its name), with `extra` tensors and `metadata`, atomically to `path`.
    /// With `sparse`, each pruned parameter (one with a mask) is stored as its nonzeros in the
    /// `SparseTensors` format wherever that is smaller; loading restores it and its mask.
    public static func save(modules: [(String, Module)], optimizers: [(String, Optimizer)] = [],
                            extra: [(String, Tensor)] = [], metadata: [String: String] = [:], sparse: Bool = false,
                            to path: String) throws {
        var tensors: [(String, Tensor)] = []
        var entries: [(String, SafeTensors.StoredTensor)] = []
        var info = metadata
        for (name, module) in modules {
            let prefix = name.isEmpty ? "" : name + "."
            for (parameterName, parameter) in module.namedParameters {
                if sparse, parameter.mask != nil, let encoded = SparseTensors.encode(prefix + parameterName, parameter.value) {
                    entries += encoded.entries
                    info[SparseTensors.metadataPrefix + prefix + parameterName] = encoded.shape
                } else {
                    tensors.append((prefix + parameterName, parameter.value))
                }
            }
            tensors += module.namedBuffers.map { (prefix + $0.0, $0.1.value) }
        }
        tensors += extra
        for (name, optimizer) in optimizers {
            info["\(name).step_count"] = String(optimizer.stepCount)
            info["\(name).learning_rate"] = String(optimizer.learningRate)
            for (index, state) in optimizer.state.enumerated() {
                for (key, tensor) in state.sorted(by: { $0.key < $1.key }) { tensors.append(("\(name).\(index).\(key)", tensor)) }
            }
        }
        entries = tensors.map { ($0.0, .float32($0.1)) } + entries
        var seen = Set<String>()
        for (name, _) in entries where !seen.insert(name).inserted {
            throw CheckpointError("\(path): two tensors would be saved as \(name); give the modules distinct names")
        }
        try SafeTensors.write(entries: entries, metadata: info, to: path)
    }

    /// Loads parameters and buffers saved by `save` (or by PyTorch under the same names) into
    /// `model`, and optimizer state into `optimizer`. Missing or misshapen tensors are errors.
    /// Returns the file's metadata.
    @discardableResult
    public static func load(into model: Module, optimizer: Optimizer? = nil, from path: String) throws -> [String: String] {
        try load(modules: [("", model)], optimizers: optimizer.map { [("optimizer", $0)] } ?? [], from: path)
    }

    /// Loads every named module and optimizer saved by `save(modules:optimizers:…)`. Nothing is
    /// changed unless everything fits: missing or misshapen tensors are errors naming them.
    /// Returns the file's metadata.
    @discardableResult
    public static func load(modules: [(String, Module)], optimizers: [(String, Optimizer)] = [],
                            from path: String) throws -> [String: String] {
        let file = try CheckpointFile(path: path)
        return try file.load(modules: modules, optimizers: optimizers)
    }
}

/// A checkpoint read into memory: its tensors and metadata, to inspect (which model, which
/// configuration, which vocabulary) before building the modules it loads into.
public struct CheckpointFile {
    public let path: String
    public let tensors: [String: Tensor]
    /// Each tensor's dtype in the file; every tensor was converted to Float32 on reading.
    public let dtypes: [String: String]
    public let metadata: [String: String]
    /// The tensors the file stored sparse (`SparseTensors`), now dense in `tensors`; loading
    /// one into a parameter also prunes the parameter to its nonzeros.
    public let sparseTensors: Set<String>

    /// Throws unless tensor `name` was stored with a floating-point dtype (F32, F16, BF16 or
    /// F64), as model weights are: integers where weights belong mean a file of another kind.
    public func requireFloatingPoint(_ name: String) throws {
        let dtype = dtypes[name] ?? "F32"
        guard ["F32", "F16", "BF16", "F64"].contains(dtype) else {
            throw CheckpointError("\(path): tensor \(name) has dtype \(dtype), but model weights are floating point (F32, F16, BF16, F64)")
        }
    }

    public init(path: String) throws {
        self.path = path
        var (tensors, dtypes, metadata) = try SafeTensors.readWithTypes(path)
        sparseTensors = try SparseTensors.decode(&tensors, dtypes: &dtypes, metadata: metadata, path: path)
        (self.tensors, self.dtypes, self.metadata) = (tensors, dtypes, metadata)
    }

    /// The metadata entry `key`, or an error naming it.
    public func requireMetadata(_ key: String) throws -> String {
        guard let value = metadata[key] else { throw CheckpointError("\(path): no metadata entry \(key)") }
        return value
    }

    /// Loads the named modules and optimizers, checking everything before changing anything.
    /// A parameter stored sparse is pruned to its nonzeros (it gets a mask); one stored dense
    /// loses any mask it had.
    @discardableResult
    public func load(modules: [(String, Module)], optimizers: [(String, Optimizer)] = []) throws -> [String: String] {
        var assignments: [() -> Void] = []
        for (moduleName, module) in modules {
            let prefix = moduleName.isEmpty ? "" : moduleName + "."
            for (name, parameter) in module.namedParameters {
                guard let tensor = tensors[prefix + name] else { throw CheckpointError("\(path): no tensor named \(prefix + name) for this model") }
                guard tensor.shape == parameter.shape else {
                    throw CheckpointError("\(path): \(prefix + name) has shape \(tensor.shape), the model expects \(parameter.shape)")
                }
                let pruned = sparseTensors.contains(prefix + name)
                assignments.append {
                    parameter.removeMask()
                    parameter.assign(tensor)
                    if pruned { parameter.prune(keeping: Tensor(tensor.scalars.map { $0 == 0 ? 0 : 1 }, shape: tensor.shape)) }
                }
            }
            for (name, buffer) in module.namedBuffers {
                guard let tensor = tensors[prefix + name], tensor.shape == buffer.value.shape else {
                    throw CheckpointError("\(path): buffer \(prefix + name) is missing or has the wrong shape")
                }
                assignments.append { buffer.value = tensor }
            }
        }
        for (optimizerName, optimizer) in optimizers {
            guard let steps = metadata["\(optimizerName).step_count"].flatMap(Int.init),
                  let rate = metadata["\(optimizerName).learning_rate"].flatMap(Float.init) else {
                throw CheckpointError("\(path): holds no state for optimizer \(optimizerName)")
            }
            var states = Array(repeating: [String: Tensor](), count: optimizer.parameters.count)
            for (name, tensor) in tensors where name.hasPrefix(optimizerName + ".") {
                let rest = name.dropFirst(optimizerName.count + 1)
                let parts = rest.split(separator: ".", maxSplits: 1)
                guard parts.count == 2, let index = Int(parts[0]) else { continue }
                guard index < states.count else {
                    throw CheckpointError("\(path): optimizer entry \(name) does not fit this optimizer")
                }
                states[index][String(parts[1])] = tensor
            }
            assignments.append { optimizer.restore(stepCount: steps, learningRate: rate, state: states) }
        }
        assignments.forEach { $0() }
        return metadata
    }
}
