import XCTest
@testable import SynapseCore
import SynapseKernels

/// The fused layer norm against its composition from mean, variance and broadcasts.
final class LayerNormTests: XCTestCase {
    override func tearDown() {
        Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    private func composed(_ x: Tensor, _ weight: Tensor?, _ bias: Tensor?, axes: [Int]) -> Tensor {
        let mean = x.mean(axes: axes, keepDims: true)
        let variance = x.variance(axes: axes, correction: 0, keepDims: true)
        var y = (x - mean) / (variance + 1e-5).sqrt()
        if let weight { y = y * weight }
        if let bias { y = y + bias }
        return y
    }

    func testMatchesCompositionWithGradients() {
        // 37 features leave a vector tail; two normalized axes flatten into one row.
        for (shape, normalized) in [([6, 37], [37]), ([3, 4, 5, 6], [5, 6]), ([2, 64], [64])] {
            let x = Tensor.randn(shape, seed: 1).requiringGrad()
            let weight = Tensor.randn(normalized, seed: 2).requiringGrad()
            let bias = Tensor.randn(normalized, seed: 3).requiringGrad()
            let probe = Tensor.randn(shape, seed: 4)
            let fused = x.layerNormalized(normalized, weight: weight, bias: bias)
            (fused * probe).sum().backward()
            let got = [x.grad!, weight.grad!, bias.grad!]
            x.zeroGrad(); weight.zeroGrad(); bias.zeroGrad()
            let axes = Array((shape.count - normalized.count)..<shape.count)
            let expected = composed(x, weight, bias, axes: axes)
            (expected * probe).sum().backward()
            assertClose(fused, expected.scalars, shape: shape, tolerance: 1e-5)
            for (a, b) in zip(got, [x.grad!, weight.grad!, bias.grad!]) { assertClose(a, b.scalars, tolerance: 1e-4) }
        }
    }

    func testWithoutAffineParametersAndFiniteDifferences() {
        let x = Tensor.randn([4, 5], seed: 7)
        let weight = Tensor.randn([5], seed: 8)
        XCTAssertTrue(gradientCheck({ $0[0].layerNormalized([5]) * Tensor([1, 2, 3, 4, 5]) }, at: [x]).passed)
        let check = gradientCheck({ $0[0].layerNormalized([5], weight: $0[1]) * Tensor([1, -2, 3, 1, 2]) }, at: [x, weight])
        XCTAssertTrue(check.passed, check.description)
    }

    func testLargeMeanKeepsItsVariance() {
        // Values 10⁴ ± 1: sums of squares without a shift would cancel to noise in Float.
        let x = Tensor([10_000, 10_001, 9_999, 10_000.5], shape: [1, 4])
        let expected = composed(x - 10_000, nil, nil, axes: [1])
        assertClose(x.layerNormalized([4]), expected.scalars, tolerance: 1e-3)
    }

    func testBitwiseIdenticalAtAnyThreadCount() {
        let x = Tensor.randn([300, 128], seed: 1), weight = Tensor.randn([128], seed: 2)
        let bias = Tensor.randn([128], seed: 3), g = Tensor.randn([300, 128], seed: 4)
        func run() -> [[Float]] {
            let (xl, wl, bl) = (x.requiringGrad(), weight.requiringGrad(), bias.requiringGrad())
            let y = xl.layerNormalized([128], weight: wl, bias: bl)
            y.backward(g)
            return [y.scalars, xl.grad!.scalars, wl.grad!.scalars, bl.grad!.scalars]
        }
        Kernels.threadCount = 1
        let serial = run()
        for threads in [2, 3] {
            Kernels.threadCount = threads
            XCTAssertEqual(run(), serial, "\(threads) threads")
        }
    }
}
