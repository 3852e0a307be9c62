// Batch normalization as one fused op: statistics, normalization and affine map in two passes,
// and a backward pass of two more, instead of a chain of broadcast ops.

import SynapseKernels

extension Tensor {
    /// Batch normalization over axis 1 of [N, C, …]: (x − mean) / √(variance + ε) · weight + bias,
    /// per channel. With `statistics` nil, mean and population variance come from this batch
    /// (training) and the gradient flows through them; given, they are used as constants
    /// (evaluation with running estimates). Also returns the statistics used, so a module can
    /// update its running estimates.
    public func batchNormalized(weight: Tensor, bias: Tensor, epsilon: Float,
                                statistics: (mean: Tensor, variance: Tensor)? = nil)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        require(rank >= 2, "batchNormalized: input must be [N, C, …], got \(Shape.describe(shape))")
        let (batch, channels) = (shape[0], shape[1])
        let plane = count / Swift.max(batch * channels, 1)
        for (name, tensor) in [("weight", weight), ("bias", bias)] + (statistics.map { [("mean", $0.mean), ("variance", $0.variance)] } ?? []) {
            require(tensor.shape == [channels], "batchNormalized: \(name) must be [\(channels)], got \(Shape.describe(tensor.shape))")
        }
        let mean: Tensor, variance: Tensor
        if let statistics {
            (mean, variance) = (statistics.mean.detached(), statistics.variance.detached())
        } else {
            require(batch * plane > 1, "batchNormalized: training needs more than one value per channel, got input \(Shape.describe(shape))")
            (mean, variance) = (Tensor(uninitializedShape: [channels]), Tensor(uninitializedShape: [channels]))
            Kernels.channelMoments(pointer, batch: batch, channels: channels, plane: plane, mean: mean.pointer, variance: variance.pointer)
        }
        let (means, variances, weights, biases) = (mean.scalars, variance.scalars, weight.scalars, bias.scalars)
        let inverseDeviation = variances.map { 1 / ($0 + epsilon).squareRoot() }
        let scale = (0..<channels).map { weights[$0] * inverseDeviation[$0] }
        let shift = (0..<channels).map { biases[$0] - means[$0] * scale[$0] }
        let result = Tensor(uninitializedShape: shape)
        Kernels.channelAffine(pointer, scale: scale, shift: shift, batch: batch, channels: channels, plane: plane, output: result.pointer)
        let input = self.detached(), usesBatchStatistics = statistics == nil
        let output = record("batchNorm", result, inputs: [self, weight, bias]) { g, needs in
            var gradientSum = [Float](repeating: 0, count: channels), productSum = [Float](repeating: 0, count: channels)
            Kernels.channelGradientSums(g.pointer, input.pointer, mean: means, batch: batch, channels: channels, plane: plane,
                                        gradientSum: &gradientSum, centeredProductSum: &productSum)
            var dx: Tensor?
            if needs[0] {
                // dx = a·dy + b·x + d per channel; with batch statistics the mean and variance
                // depend on x, which adds the b and d terms.
                let count = Float(batch * plane)
                var b = [Float](repeating: 0, count: channels), d = [Float](repeating: 0, count: channels)
                if usesBatchStatistics {
                    for c in 0..<channels {
                        let s = inverseDeviation[c]
                        b[c] = -scale[c] * s * s * productSum[c] / count
                        d[c] = -scale[c] * gradientSum[c] / count - b[c] * means[c]
                    }
                }
                let gradient = Tensor(uninitializedShape: input.shape)
                // Written as x·b + d + dy·a to share one kernel with the forward pass.
                Kernels.channelAffine(input.pointer, scale: b, shift: d, plus: g.pointer, scaledBy: scale,
                                      batch: batch, channels: channels, plane: plane, output: gradient.pointer)
                dx = gradient
            }
            let dWeight = needs[1] ? Tensor((0..<channels).map { productSum[$0] * inverseDeviation[$0] }) : nil
            let dBias = needs[2] ? Tensor(gradientSum) : nil
            return [dx, dWeight, dBias]
        }
        return (output, mean, variance)
    }
}
