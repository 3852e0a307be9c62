// Softmax and log-softmax along an axis.

import SynapseKernels

extension Tensor {
    /// exp(x) / Σ exp(x) along `axis`, computed after subtracting the maximum so large logits are safe.
    public func softmax(axis: Int = -1) -> Tensor {
        normalizedExponential(axis: axis, log: false, op: "softmax")
    }

    /// x − log Σ exp(x) along `axis`, computed without forming exp(x) of large logits.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        normalizedExponential(axis: axis, log: true, op: "logSoftmax")
    }

    private func normalizedExponential(axis: Int, log: Bool, op: String) -> Tensor {
        let resolved = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank, op: op) }
        let (outer, size, inner) = Shape.split(shape, at: resolved)
        let result = Tensor(uninitializedShape: shape)
        Kernels.softmax(pointer, result.pointer, outer: outer, size: size, inner: inner, log: log)
        return record(op, result, inputs: [self]) { g, _ in
            let input = Tensor(uninitializedShape: g.shape)
            Kernels.softmaxBackward(output: result.pointer, gradient: g.pointer, input.pointer,
                                    outer: outer, size: size, inner: inner, log: log)
            return [input]
        }
    }
}
