// Comparisons (as 0/1 masks) and `where(condition, a, b)`.

import SynapseKernels

extension Tensor {
    /// 1 where a == b, else 0 (broadcasting). Masks carry no gradient.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(.equal, a, b, op: "equal") }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(.notEqual, a, b, op: "notEqual") }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(.less, a, b, op: "less") }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(.lessEqual, a, b, op: "lessEqual") }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(.greater, a, b, op: "greater") }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(.greaterEqual, a, b, op: "greaterEqual") }

    public static func .== (a: Tensor, b: Float) -> Tensor { a .== Tensor(b) }
    public static func .!= (a: Tensor, b: Float) -> Tensor { a .!= Tensor(b) }
    public static func .< (a: Tensor, b: Float) -> Tensor { a .< Tensor(b) }
    public static func .<= (a: Tensor, b: Float) -> Tensor { a .<= Tensor(b) }
    public static func .> (a: Tensor, b: Float) -> Tensor { a .> Tensor(b) }
    public static func .>= (a: Tensor, b: Float) -> Tensor { a .>= Tensor(b) }

    /// Picks `a` where `condition` is non-zero and `b` elsewhere; all three broadcast together.
    /// Gradients flow to `a` and `b` through the elements each one supplied.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = check { () throws(ShapeError) in
            try Shape.broadcast(try Shape.broadcast(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        }
        let c = condition.detached().expandedContiguous(to: shape)
        let left = a.detached().expandedContiguous(to: shape), right = b.detached().expandedContiguous(to: shape)
        let result = Tensor(uninitializedShape: shape)
        withExtendedLifetime((left, right)) {
            Kernels.select(c.pointer, left.pointer, right.pointer, result.pointer, count: result.count)
        }
        return record("where", result, inputs: [a, b]) { g, needs in
            let zero = Tensor.zeros(like: g)
            return [needs[0] ? Tensor.where(c, g, zero).sum(toShape: a.shape) : nil,
                    needs[1] ? Tensor.where(c, zero, g).sum(toShape: b.shape) : nil]
        }
    }
}
