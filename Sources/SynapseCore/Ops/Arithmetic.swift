// + − × ÷, pow, maximum and minimum with NumPy broadcasting, and their gradients.

import SynapseKernels

/// Applies a broadcasting binary kernel without recording anything.
func broadcastKernel(_ operation: BinaryOperation, _ a: Tensor, _ b: Tensor, op: String) -> Tensor {
    let shape = check { () throws(ShapeError) in try Shape.broadcast(a.shape, b.shape, op: op) }
    let result = Tensor(uninitializedShape: shape)
    let layout = BroadcastLayout(shape: shape,
                                 stridesA: Shape.broadcastStrides(a.shape, to: shape),
                                 stridesB: Shape.broadcastStrides(b.shape, to: shape))
    Kernels.binary(operation, a.pointer, b.pointer, result.pointer, layout: layout)
    return result
}

extension Tensor {
    /// Sums a broadcast gradient back down to `target`, the shape of the operand that was broadcast.
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let extra = rank - target.count
        require(extra >= 0, "sum(toShape:): cannot reduce \(Shape.describe(shape)) to larger rank \(Shape.describe(target))")
        var axes = Array(0..<extra)
        for (i, size) in target.enumerated() where size == 1 && shape[extra + i] != 1 {
            axes.append(extra + i)
        }
        let reduced = axes.isEmpty ? self : sum(axes: axes, keepDims: true)
        return reduced.reshaped(target)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let result = broadcastKernel(.add, a, b, op: "add")
        return record("add", result, inputs: [a, b]) { g, needs in
            [needs[0] ? g.sum(toShape: a.shape) : nil, needs[1] ? g.sum(toShape: b.shape) : nil]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let result = broadcastKernel(.subtract, a, b, op: "subtract")
        return record("subtract", result, inputs: [a, b]) { g, needs in
            [needs[0] ? g.sum(toShape: a.shape) : nil, needs[1] ? (-g).sum(toShape: b.shape) : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let result = broadcastKernel(.multiply, a, b, op: "multiply")
        return record("multiply", result, inputs: [a, b]) { g, needs in
            [needs[0] ? (g * b).sum(toShape: a.shape) : nil, needs[1] ? (g * a).sum(toShape: b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let result = broadcastKernel(.divide, a, b, op: "divide")
        return record("divide", result, inputs: [a, b]) { g, needs in
            [needs[0] ? (g / b).sum(toShape: a.shape) : nil,
             needs[1] ? (-(g * result) / b).sum(toShape: b.shape) : nil]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        x.unary(.negate, op: "negate") { g, _, _ in -g }
    }

    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }

    /// self^exponent elementwise, with broadcasting. Negative bases need integer exponents.
    public func pow(_ exponent: Tensor) -> Tensor {
        let base = self
        let result = broadcastKernel(.power, base, exponent, op: "pow")
        return record("pow", result, inputs: [base, exponent]) { g, needs in
            [needs[0] ? (g * exponent * base.pow(exponent - 1)).sum(toShape: base.shape) : nil,
             needs[1] ? (g * result * base.log()).sum(toShape: exponent.shape) : nil]
        }
    }

    /// self^exponent elementwise for a scalar exponent.
    public func pow(_ exponent: Float) -> Tensor {
        unary(.power(exponent), op: "pow") { g, x, _ in g * exponent * x.pow(exponent - 1) }
    }

    /// The elementwise maximum, broadcasting. Where the two are equal the gradient is split evenly.
    public func maximum(_ other: Tensor) -> Tensor {
        extremum(other, operation: .maximum, winner: .greater, op: "maximum")
    }

    /// The elementwise minimum, broadcasting. Where the two are equal the gradient is split evenly.
    public func minimum(_ other: Tensor) -> Tensor {
        extremum(other, operation: .minimum, winner: .less, op: "minimum")
    }

    private func extremum(_ other: Tensor, operation: BinaryOperation, winner: BinaryOperation, op: String) -> Tensor {
        let a = self, b = other
        let result = broadcastKernel(operation, a, b, op: op)
        return record(op, result, inputs: [a, b]) { g, needs in
            let share = broadcastKernel(winner, a, b, op: op) + 0.5 * broadcastKernel(.equal, a, b, op: op)
            return [needs[0] ? (g * share).sum(toShape: a.shape) : nil,
                    needs[1] ? (g * (1 - share)).sum(toShape: b.shape) : nil]
        }
    }
}
