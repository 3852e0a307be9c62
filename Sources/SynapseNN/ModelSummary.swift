// A table of a model's layers, output shapes and parameters, as Keras' model.summary() and
// torchinfo print.

import Foundation
import SynapseCore

/// A model's layers, each with its output shape for one batch and its parameter count, with
/// the totals and the memory of the parameters and of one batch's activations.
///
/// ```swift
/// let summary = try ModelSummary(model, input: Tensor.zeros([64, 1, 28, 28]))
/// print(summary)
/// ```
public struct ModelSummary: Sendable, Codable {
    /// One module of the tree.
    public struct Row: Sendable, Codable, Equatable {
        /// The module's path, as in the state dict (`features.0`); empty for the model itself.
        public let name: String
        /// The module's type (`Linear`, `LSTM`).
        public let type: String
        /// 0 for the model, 1 for its children, and so on.
        public let depth: Int
        /// The shape of its (first) output in the traced forward pass; nil if it did not run
        /// there or does not record its output.
        public let outputShape: [Int]?
        /// Parameters of the module and everything under it.
        public let parameters: Int
        /// Parameters held by this module itself, not its children.
        public let ownParameters: Int
    }

    public let rows: [Row]
    /// The shape of the input the forward pass was traced with, when known.
    public let inputShape: [Int]?
    public let parameterCount: Int
    public let trainableParameterCount: Int
    /// Bytes of parameters and buffers (running statistics).
    public let parameterBytes: Int
    /// Bytes of tensors one forward pass keeps alive for backward, measured while it ran
    /// (with gradients recorded); nil when the summary was made without a forward pass.
    public let activationBytes: Int?

    /// Summarizes `model`, tracing `forward` (which runs the model on one batch and returns
    /// its output) for output shapes and activation memory. The forward pass runs in
    /// evaluation mode, so running statistics do not change, with gradients recorded; the
    /// model is put back in the mode it was in. `maxDepth` limits how deep the table goes
    /// (counts always include everything below).
    public init(_ model: Module, inputShape: [Int]? = nil, maxDepth: Int = 3, forward: (() throws -> Tensor)? = nil) rethrows {
        var entries: [ObjectIdentifier: ModuleTrace.Entry] = [:]
        var activationBytes: Int?
        if let forward {
            let wasTraining = model.isTraining
            model.eval()
            defer { model.train(wasTraining) }
            let before = TensorMemory.liveBytes
            let (output, traced) = try withGradients { try ModuleTrace.run(forward) }
            activationBytes = max(0, TensorMemory.liveBytes - before)
            entries = traced
            if entries[ObjectIdentifier(model)] == nil {
                entries[ObjectIdentifier(model)] = ModuleTrace.Entry(shape: output.shape, calls: 1)
            }
            withExtendedLifetime(output) {}
        }
        var rows: [Row] = []
        func visit(_ module: Module, name: String, depth: Int) {
            let own = module.namedOwnParameters.reduce(0) { $0 + $1.1.value.count }
            rows.append(Row(name: name, type: String(describing: type(of: module)), depth: depth,
                            outputShape: entries[ObjectIdentifier(module)]?.shape, parameters: module.parameterCount,
                            ownParameters: own))
            guard depth < maxDepth else { return }
            for (childName, child) in module.namedChildren {
                visit(child, name: name.isEmpty ? childName : "\(name).\(childName)", depth: depth + 1)
            }
        }
        visit(model, name: "", depth: 0)
        self.rows = rows
        self.inputShape = inputShape
        parameterCount = model.parameterCount
        trainableParameterCount = model.trainableParameters.reduce(0) { $0 + $1.value.count }
        parameterBytes = (model.parameterCount + model.namedBuffers.reduce(0) { $0 + $1.1.value.count }) * MemoryLayout<Float>.stride
        self.activationBytes = activationBytes
    }

    /// Summarizes a one-input model traced on `input` (a batch).
    public init(_ model: any UnaryLayer, input: Tensor, maxDepth: Int = 3) {
        self.init(model, inputShape: input.shape, maxDepth: maxDepth) { model(input) }
    }

    /// `count` bytes in binary units: "512 B", "3.1 KiB", "12.40 MiB".
    public static func formatted(bytes count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: value < 10 ? "%.2f %@" : "%.1f %@", value, units[unit])
    }

    /// A shape as PyTorch prints it: `[64, 10]`; "—" when unknown.
    public static func formatted(shape: [Int]?) -> String {
        shape.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" } ?? "—"
    }

    /// `n` with thousands separators: 1,234,567.
    public static func formatted(count n: Int) -> String {
        let digits = String(n.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(digit)
        }
        return (n < 0 ? "-" : "") + grouped
    }
}

extension ModelSummary: CustomStringConvertible {
    /// The summary as a text table.
    public var description: String {
        let header = ["Layer (type)", "Output shape", "Parameters"]
        let body = rows.map { row -> [String] in
            let label = String(repeating: "  ", count: row.depth) + (row.name.isEmpty ? row.type : "\(row.name) (\(row.type))")
            return [label, ModelSummary.formatted(shape: row.outputShape), ModelSummary.formatted(count: row.parameters)]
        }
        let widths = (0..<3).map { column in ([header] + body).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells[0].padding(toLength: widths[0], withPad: " ", startingAt: 0) + "  "
                + cells[1].padding(toLength: widths[1], withPad: " ", startingAt: 0) + "  "
                + String(repeating: " ", count: widths[2] - cells[2].count) + cells[2]
        }
        let rule = String(repeating: "─", count: widths.reduce(4, +))
        var lines = [rule, line(header), rule] + body.map(line) + [rule]
        lines.append("Total parameters: \(ModelSummary.formatted(count: parameterCount))")
        lines.append("Trainable parameters: \(ModelSummary.formatted(count: trainableParameterCount))")
        lines.append("Non-trainable parameters: \(ModelSummary.formatted(count: parameterCount - trainableParameterCount))")
        lines.append("Parameter memory: \(ModelSummary.formatted(bytes: parameterBytes))")
        if let activationBytes {
            let batch = inputShape.map { " (input \(ModelSummary.formatted(shape: $0)))" } ?? ""
            lines.append("Activation memory, one batch\(batch): \(ModelSummary.formatted(bytes: activationBytes))")
        }
        lines.append(rule)
        return lines.joined(separator: "\n")
    }
}
