// Factory functions: constant, range and random tensors.

import SynapseKernels

extension Tensor {
    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], value: Float) -> Tensor {
        Shape.validate(shape, op: "full")
        return Tensor(shape: shape, storage: TensorStorage(repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, value: 0) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, value: 1) }

    /// Zeros with the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// Ones with the shape of `other`.
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape) }

    /// Values `start, start + step, …` below `end`, as `torch.arange`.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        require(step != 0, "arange: step must not be zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = start + Float(i) * step }
        return Tensor(values)
    }

    /// The identity matrix.
    public static func eye(_ n: Int) -> Tensor {
        var result = zeros([n, n])
        result.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<n { buffer[i * n + i] = 1 }
        }
        return result
    }

    /// Standard normal samples from `generator`.
    public static func randn(_ shape: [Int], generator: inout RandomGenerator) -> Tensor {
        Shape.validate(shape, op: "randn")
        let result = Tensor(uninitializedShape: shape)
        for i in 0..<result.count { result.pointer[i] = generator.nextNormal() }
        return result
    }

    /// Standard normal samples; from a fresh generator with `seed` if given, else from the global one.
    public static func randn(_ shape: [Int], seed: UInt64? = nil) -> Tensor {
        if let seed {
            var generator = RandomGenerator(seed: seed)
            return randn(shape, generator: &generator)
        }
        return GlobalRandom.withGenerator { randn(shape, generator: &$0) }
    }

    /// Samples uniform in [low, high) from `generator`.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: inout RandomGenerator) -> Tensor {
        Shape.validate(shape, op: "uniform")
        require(low <= high, "uniform: low \(low) is above high \(high)")
        let result = Tensor(uninitializedShape: shape)
        for i in 0..<result.count { result.pointer[i] = low + (high - low) * generator.nextUniform() }
        return result
    }

    /// Samples uniform in [low, high); from a fresh generator with `seed` if given, else from the global one.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, seed: UInt64? = nil) -> Tensor {
        if let seed {
            var generator = RandomGenerator(seed: seed)
            return uniform(shape, low: low, high: high, generator: &generator)
        }
        return GlobalRandom.withGenerator { uniform(shape, low: low, high: high, generator: &$0) }
    }
}
