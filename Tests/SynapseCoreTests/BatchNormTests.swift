import XCTest
@testable import SynapseCore
import SynapseKernels

/// The fused batch-normalization op against the same formula written with broadcast ops.
final class BatchNormTests: XCTestCase {
    /// (x − mean) / √(var + ε) · w + b with mean and variance over every axis but 1.
    private func composite(_ x: Tensor, _ weight: Tensor, _ bias: Tensor, statistics: (Tensor, Tensor)?) -> Tensor {
        var shape = [Int](repeating: 1, count: x.rank)
        shape[1] = x.shape[1]
        let axes = [0] + Array(2..<x.rank)
        let mean = statistics?.0.reshaped(shape) ?? x.mean(axes: axes, keepDims: true)
        let variance = statistics?.1.reshaped(shape) ?? x.variance(axes: axes, correction: 0, keepDims: true)
        return (x - mean) / (variance + 1e-5).sqrt() * weight.reshaped(shape) + bias.reshaped(shape)
    }

    func testMatchesTheCompositeFormulaInValueAndGradient() {
        for (index, shape) in [[6, 3], [4, 3, 5], [3, 2, 4, 5], [2, 4, 9, 11]].enumerated() {
            let seed = UInt64(10 * index)
            let x = (Tensor.randn(shape, seed: seed) * 2 + 1).requiringGrad()
            let weight = Tensor.uniform([shape[1]], low: 0.5, high: 1.5, seed: seed + 1).requiringGrad()
            let bias = Tensor.randn([shape[1]], seed: seed + 2).requiringGrad()
            let projection = Tensor.randn(shape, seed: seed + 3)
            let running = (Tensor.randn([shape[1]], seed: seed + 4), Tensor.uniform([shape[1]], low: 0.5, high: 2, seed: seed + 5))
            for statistics in [nil, running] as [(Tensor, Tensor)?] {
                let fused = x.batchNormalized(weight: weight, bias: bias, epsilon: 1e-5,
                                              statistics: statistics.map { (mean: $0.0, variance: $0.1) })
                let expected = composite(x, weight, bias, statistics: statistics)
                assertClose(fused.output, expected.scalars, shape: shape, tolerance: 1e-4)
                if statistics == nil {
                    let axes = [0] + Array(2..<x.rank)
                    assertClose(fused.mean, x.mean(axes: axes).scalars, tolerance: 1e-5)
                    assertClose(fused.variance, x.variance(axes: axes, correction: 0).scalars, tolerance: 1e-5)
                }
                (fused.output * projection).sum().backward()
                let fusedGradients = [x.grad!, weight.grad!, bias.grad!]
                x.zeroGrad(); weight.zeroGrad(); bias.zeroGrad()
                (expected * projection).sum().backward()
                for (fusedGradient, expectedGradient) in zip(fusedGradients, [x.grad!, weight.grad!, bias.grad!]) {
                    assertClose(fusedGradient, expectedGradient.scalars, tolerance: 2e-4)
                }
                x.zeroGrad(); weight.zeroGrad(); bias.zeroGrad()
            }
        }
    }

    func testGradientCheck() {
        let x = Tensor.randn([3, 2, 3, 4], seed: 40), weight = Tensor([0.7, 1.3]), bias = Tensor([0.1, -0.2])
        assertGradients({ $0[0].batchNormalized(weight: $0[1], bias: $0[2], epsilon: 1e-5).output }, at: [x, weight, bias])
        let statistics = (mean: Tensor([0.2, -0.1]), variance: Tensor([0.8, 1.5]))
        assertGradients({ $0[0].batchNormalized(weight: $0[1], bias: $0[2], epsilon: 1e-5, statistics: statistics).output },
                        at: [x, weight, bias])
    }

    func testBitwiseIdenticalAcrossThreadCounts() {
        let x = Tensor.randn([16, 8, 24, 24], seed: 50).requiringGrad()
        let weight = Tensor.uniform([8], low: 0.5, high: 1.5, seed: 51).requiringGrad(), bias = Tensor.randn([8], seed: 52)
        let projection = Tensor.randn([16, 8, 24, 24], seed: 53)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            Kernels.threadCount = threads
            let output = x.batchNormalized(weight: weight, bias: bias, epsilon: 1e-5).output
            (output * projection).sum().backward()
            results.append(output.scalars + x.grad!.scalars + weight.grad!.scalars)
            x.zeroGrad(); weight.zeroGrad()
        }
        Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }
}
