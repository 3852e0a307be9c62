// Reductions along any set of axes: sum, mean, variance, max, min, argmax, argmin.

import SynapseKernels

extension Tensor {
    /// Reduces `axes` (sorted, validated) with a kernel, keeping them as size-1 dimensions.
    /// Runs of adjacent axes are reduced in one pass over an [outer, size, inner] view.
    func reduceKeepingDims(_ operation: ReductionOperation, axes: [Int]) -> Tensor {
        var current = self.detached()
        var runs: [ClosedRange<Int>] = []
        for axis in axes {
            if let last = runs.last, last.upperBound == axis - 1 {
                runs[runs.count - 1] = last.lowerBound...axis
            } else {
                runs.append(axis...axis)
            }
        }
        for run in runs.reversed() {
            let outer = current.shape[..<run.lowerBound].reduce(1, *)
            let size = current.shape[run].reduce(1, *)
            let inner = current.shape[(run.upperBound + 1)...].reduce(1, *)
            var newShape = current.shape
            for axis in run { newShape[axis] = 1 }
            if size == 0 {
                current = Tensor.zeros(newShape)
                continue
            }
            let next = Tensor(uninitializedShape: newShape)
            withExtendedLifetime(current) {
                Kernels.reduce(operation, current.pointer, next.pointer, outer: outer, size: size, inner: inner)
            }
            current = next
        }
        return current
    }

    func resolvedAxes(_ axes: [Int]?, op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        return check { () throws(ShapeError) in try Shape.normalize(axes: axes, rank: rank, op: op) }
    }

    func removingDims(_ axes: [Int], from keptShape: [Int]) -> [Int] {
        keptShape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    /// The sum over `axes` (all axes if nil). Reduced axes are dropped unless `keepDims`.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = resolvedAxes(axes, op: "sum")
        let kept = reduceKeepingDims(.sum, axes: axes)
        let result = keepDims ? kept : kept.reshaped(removingDims(axes, from: kept.shape))
        let inputShape = shape
        return record("sum", result, inputs: [self]) { g, _ in
            [g.reshaped(kept.shape).expanded(to: inputShape)]
        }
    }

    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// The arithmetic mean over `axes` (all axes if nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = resolvedAxes(axes, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        require(n > 0, "mean: cannot average over an empty dimension of shape \(Shape.describe(shape))")
        return sum(axes: axes, keepDims: keepDims) / Float(n)
    }

    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// The variance over `axes`, Σ(x − mean)² / (n − correction). `correction: 1` (the default,
    /// as in PyTorch) is the unbiased estimate; `correction: 0` is the population variance.
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        let axes = resolvedAxes(axes, op: "variance")
        let n = axes.reduce(1) { $0 * shape[$1] }
        require(n - correction > 0,
                     "variance: \(n) elements are too few for correction \(correction) in shape \(Shape.describe(shape))")
        let centered = self - mean(axes: axes, keepDims: true)
        return centered.square().sum(axes: axes, keepDims: keepDims) / Float(n - correction)
    }

    public func variance(axis: Int, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        variance(axes: [axis], correction: correction, keepDims: keepDims)
    }

    /// The maximum over `axes` (all if nil). Ties share the gradient evenly.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        extremum(.max, axes: axes, keepDims: keepDims, op: "max")
    }

    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }

    /// The minimum over `axes` (all if nil). Ties share the gradient evenly.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        extremum(.min, axes: axes, keepDims: keepDims, op: "min")
    }

    public func min(axis: Int, keepDims: Bool = false) -> Tensor { min(axes: [axis], keepDims: keepDims) }

    private func extremum(_ operation: ReductionOperation, axes: [Int]?, keepDims: Bool, op: String) -> Tensor {
        let axes = resolvedAxes(axes, op: op)
        for axis in axes {
            require(shape[axis] > 0, "\(op): cannot reduce over empty dimension \(axis) of shape \(Shape.describe(shape))")
        }
        let kept = reduceKeepingDims(operation, axes: axes)
        let result = keepDims ? kept : kept.reshaped(removingDims(axes, from: kept.shape))
        let input = self
        return record(op, result, inputs: [input]) { g, _ in
            let winners = input .== kept
            let share = winners / winners.sum(axes: axes, keepDims: true)
            return [share * g.reshaped(kept.shape)]
        }
    }

    /// The index of the first maximum along `axis`; over the flattened tensor if nil.
    public func argmax(axis: Int? = nil, keepDims: Bool = false) -> IndexTensor {
        argExtremum(isMax: true, axis: axis, keepDims: keepDims, op: "argmax")
    }

    /// The index of the first minimum along `axis`; over the flattened tensor if nil.
    public func argmin(axis: Int? = nil, keepDims: Bool = false) -> IndexTensor {
        argExtremum(isMax: false, axis: axis, keepDims: keepDims, op: "argmin")
    }

    private func argExtremum(isMax: Bool, axis: Int?, keepDims: Bool, op: String) -> IndexTensor {
        guard let axis else {
            require(count > 0, "\(op): tensor of shape \(Shape.describe(shape)) is empty")
            var index = 0
            Kernels.argReduce(isMax: isMax, pointer, &index, outer: 1, size: count, inner: 1)
            return IndexTensor([index], shape: keepDims ? [Int](repeating: 1, count: rank) : [])
        }
        let resolved = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank, op: op) }
        require(shape[resolved] > 0, "\(op): dimension \(axis) of shape \(Shape.describe(shape)) is empty")
        let (outer, size, inner) = Shape.split(shape, at: resolved)
        var indices = [Int](repeating: 0, count: outer * inner)
        indices.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Kernels.argReduce(isMax: isMax, pointer, base, outer: outer, size: size, inner: inner)
        }
        var newShape = shape
        if keepDims { newShape[resolved] = 1 } else { newShape.remove(at: resolved) }
        return IndexTensor(indices, shape: newShape)
    }
}
