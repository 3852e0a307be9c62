// Unstructured magnitude pruning and the per-layer sparsity report.

import Foundation
import SynapseCore

/// A layer whose weight pruning may zero: the fully connected and convolution layers. Biases
/// and normalization scales are never pruned; they are a tiny share of the weights and
/// pruning them shifts every output.
public protocol PrunableLayer: Module {
    /// The weight that magnitude pruning masks.
    var prunableWeight: Parameter { get }
}

extension Linear: PrunableLayer { public var prunableWeight: Parameter { $weight } }
extension Conv1d: PrunableLayer { public var prunableWeight: Parameter { $weight } }
extension Conv2d: PrunableLayer { public var prunableWeight: Parameter { $weight } }
extension ConvTranspose2d: PrunableLayer { public var prunableWeight: Parameter { $weight } }

extension Module {
    /// This module and every module below it, named by path ("" for this one, then `fc1`,
    /// `layers.0`, …), parents before children.
    public var namedModules: [(String, Module)] {
        [("", self)] + namedChildren.flatMap { childName, child in
            child.namedModules.map { name, module in (name.isEmpty ? childName : "\(childName).\(name)", module) }
        }
    }

    /// The weights pruning may zero, named as in the state dict: `fc1.weight`.
    public var prunableWeights: [(String, Parameter)] {
        namedModules.compactMap { name, module in
            guard let layer = module as? PrunableLayer else { return nil }
            return (name.isEmpty ? "weight" : "\(name).weight", layer.prunableWeight)
        }
    }
}

/// Bad pruning requests: a sparsity out of range, a model with nothing to prune.
public struct PruningError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How the magnitude threshold is chosen.
public enum PruningScope: String, Sendable, CaseIterable {
    /// One threshold over all prunable weights together: layers with many small weights
    /// lose more (`torch.nn.utils.prune.global_unstructured`).
    case global
    /// Each prunable weight loses the same share (`prune.l1_unstructured` per layer).
    case perLayer = "per-layer"
}

/// Pruning: zeroing the weights that matter least, with masks that keep them zero through
/// training (`Parameter.prune(keeping:)`).
public enum Pruning {
    /// Masks the smallest-magnitude share `sparsity` of the prunable weights (`PrunableLayer`)
    /// and returns the sparsity each then has. Weights pruned before count among the zeros,
    /// so raising the sparsity step by step (`GradualPruning`) only ever adds to the pruned
    /// set. Ties at the threshold are broken by position, so exactly the requested share is
    /// pruned.
    @discardableResult
    public static func magnitude(_ model: Module, sparsity: Double, scope: PruningScope = .global) throws -> SparsityReport {
        guard sparsity >= 0, sparsity < 1 else {
            throw PruningError("sparsity must lie in [0, 1), got \(sparsity)")
        }
        let weights = try prunableWeights(of: model)
        switch scope {
        case .global:
            let magnitudes = weights.flatMap { $0.1.value.scalars.map(abs) }
            let kept = keptElements(magnitudes, pruning: Int((sparsity * Double(magnitudes.count)).rounded()))
            var start = 0
            for (_, parameter) in weights {
                let count = parameter.value.count
                parameter.prune(keeping: Tensor(Array(kept[start..<(start + count)]), shape: parameter.shape))
                start += count
            }
        case .perLayer:
            for (_, parameter) in weights {
                let magnitudes = parameter.value.scalars.map(abs)
                let kept = keptElements(magnitudes, pruning: Int((sparsity * Double(magnitudes.count)).rounded()))
                parameter.prune(keeping: Tensor(kept, shape: parameter.shape))
            }
        }
        return report(model)
    }

    /// The sparsity of each prunable weight of `model`, and of all of them together.
    public static func report(_ model: Module) -> SparsityReport {
        SparsityReport(layers: model.prunableWeights.map { name, parameter in
            SparsityReport.Layer(name: name, shape: parameter.shape, zeros: parameter.zeroCount, count: parameter.value.count)
        })
    }

    /// `model.prunableWeights`, or an error saying that it has none.
    public static func prunableWeights(of model: Module) throws -> [(String, Parameter)] {
        let weights = model.prunableWeights
        guard !weights.isEmpty else {
            throw PruningError("\(type(of: model)) has no prunable layers (Linear, Conv1d, Conv2d or ConvTranspose2d)")
        }
        return weights
    }

    /// Drops every mask in `model`: the zeros stay until training changes them.
    public static func removeMasks(_ model: Module) {
        model.parameters.forEach { $0.removeMask() }
    }

    /// 0/1 flags keeping all but the `count` smallest magnitudes (the earliest of equal ones go first).
    private static func keptElements(_ magnitudes: [Float], pruning count: Int) -> [Float] {
        guard count > 0 else { return Array(repeating: 1, count: magnitudes.count) }
        let order = magnitudes.indices.sorted { magnitudes[$0] < magnitudes[$1] || (magnitudes[$0] == magnitudes[$1] && $0 < $1) }
        var kept = [Float](repeating: 1, count: magnitudes.count)
        for index in order.prefix(count) { kept[index] = 0 }
        return kept
    }
}

/// How sparse each prunable weight of a model is.
public struct SparsityReport: CustomStringConvertible, Sendable {
    public struct Layer: Sendable {
        public let name: String
        public let shape: [Int]
        /// Elements that are exactly zero.
        public let zeros: Int
        public let count: Int
        public var sparsity: Double { count == 0 ? 0 : Double(zeros) / Double(count) }
    }

    public let layers: [Layer]

    /// The share of zeros over all prunable weights.
    public var sparsity: Double {
        let count = layers.reduce(0) { $0 + $1.count }
        return count == 0 ? 0 : Double(layers.reduce(0) { $0 + $1.zeros }) / Double(count)
    }

    public var description: String {
        let width = max(5, layers.map(\.name.count).max() ?? 0)
        func pad(_ text: String, _ length: Int) -> String { text + String(repeating: " ", count: max(0, length - text.count)) }
        var lines = [pad("layer", width) + "  shape            weights    zeros  sparsity"]
        for layer in layers {
            let shape = "[" + layer.shape.map(String.init).joined(separator: ", ") + "]"
            lines.append(pad(layer.name, width) + "  " + pad(shape, 14)
                         + String(format: " %9d %8d  %7.2f%%", layer.count, layer.zeros, 100 * layer.sparsity))
        }
        let total = layers.reduce(0) { $0 + $1.count }, zeros = layers.reduce(0) { $0 + $1.zeros }
        lines.append(pad("total", width) + "  " + pad("", 14) + String(format: " %9d %8d  %7.2f%%", total, zeros, 100 * sparsity))
        return lines.joined(separator: "\n")
    }
}
