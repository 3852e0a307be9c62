// PyTorch-style printing, with elision for large tensors.

import Foundation

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// Values laid out like PyTorch's `repr`, followed by the shape. Tensors over 1000
    /// elements show only the first and last three entries of each dimension.
    public var description: String {
        let formatter = ScalarFormatter(scalars: scalars)
        let elide = count > 1000
        var body = ""
        format(into: &body, axis: 0, offset: 0, indent: 7, elide: elide, formatter: formatter)
        var suffix = ", shape: \(Shape.describe(shape))"
        if node != nil { suffix += isLeaf ? ", requiresGrad: true" : ", gradFn: \(node!.op)" }
        return "tensor(\(body)\(suffix))"
    }

    public var debugDescription: String { description }

    private func format(into out: inout String, axis: Int, offset: Int, indent: Int, elide: Bool, formatter: ScalarFormatter) {
        if rank == 0 {
            out += formatter.format(storage.pointer[0])
            return
        }
        let size = shape[axis]
        let stride = shape[(axis + 1)...].reduce(1, *)
        let edge = 3
        let shown: [Int?] = elide && size > 2 * edge
            ? Array(0..<edge) + [nil] + Array((size - edge)..<size)
            : Array(0..<size)
        out += "["
        let isLast = axis == rank - 1
        for (position, index) in shown.enumerated() {
            if position > 0 {
                out += isLast ? ", " : "," + String(repeating: "\n", count: rank - axis - 1) + String(repeating: " ", count: indent + 1)
            }
            guard let index else {
                out += "..."
                continue
            }
            if isLast {
                out += formatter.format(storage.pointer[offset + index])
            } else {
                format(into: &out, axis: axis + 1, offset: offset + index * stride, indent: indent + 1, elide: elide, formatter: formatter)
            }
        }
        out += "]"
    }
}

/// Chooses one notation for all elements, as PyTorch does: fixed with 4 decimals unless the
/// magnitudes call for scientific notation, right-aligned to a common width.
private struct ScalarFormatter {
    let scientific: Bool
    let width: Int

    init(scalars: [Float]) {
        let finite = scalars.filter { $0.isFinite && $0 != 0 }.map { Swift.abs($0) }
        let largest = finite.max() ?? 0, smallest = finite.min() ?? 0
        scientific = largest >= 1e8 || (smallest > 0 && smallest < 1e-4) || (smallest > 0 && largest / smallest >= 1e6)
        let sample = Swift.min(scalars.count, 2000)
        let notation = scientific
        width = scalars.prefix(sample).map { Self.render($0, scientific: notation).count }.max() ?? 1
    }

    static func render(_ value: Float, scientific: Bool) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(format: scientific ? "%.4e" : "%.4f", Double(value))
    }

    func format(_ value: Float) -> String {
        let text = Self.render(value, scientific: scientific)
        return String(repeating: " ", count: Swift.max(0, width - text.count)) + text
    }
}
