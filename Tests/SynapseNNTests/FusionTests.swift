import XCTest
import Synapse

/// Inference fusion: a ReLU, and a max pool after it, run inside the layer before them with
/// the same results as the separate layers, and the fused ReLU differentiates like the pair.
final class FusionTests: XCTestCase {
    /// Both convolution paths: one input channel (im2col and GEMM) and several (direct), with
    /// and without the ReLU before the pool, odd planes and a pool with a stride of its own.
    func testFusedConvolutionReLUAndPoolingMatchTheSeparateLayers() {
        for (channels, size, rectified, pool) in [(1, 28, true, MaxPool2d(2)), (5, 9, true, MaxPool2d(2)), (4, 11, false, MaxPool2d(3, stride: 2)),
                                                  (6, 8, true, MaxPool2d(2, padding: 1))] {
            GlobalRandom.seed(UInt64(channels))
            let conv = Conv2d(channels, 7, kernelSize: 3, padding: 1)
            let layers: [any UnaryLayer] = rectified ? [conv, ReLU(), pool] : [conv, pool]
            let model = Sequential(layers)
            let x = Tensor.randn([3, channels, size, size], seed: 2)
            let separate = layers.reduce(x) { $1($0) }
            let fused = withoutGradients { model(x) }
            XCTAssertEqual(fused.shape, separate.shape)
            for (a, b) in zip(fused.scalars, separate.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(channels) channels") }
        }
    }

    func testFusedLinearReLUMatchesAndRunsSparseToo() throws {
        GlobalRandom.seed(4)
        let model = Sequential { Linear(50, 40); ReLU(); Linear(40, 3) }
        let x = Tensor.randn([20, 50], seed: 5)
        for sparse in [false, true] {
            if sparse { try Pruning.magnitude(model, sparsity: 0.8) }
            let separate = model.layers.reduce(x) { $1($0) }
            for (a, b) in zip(withoutGradients { model(x) }.scalars, separate.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
    }

    /// The fused ReLU's gradient is the ReLU's: compared with the unfused pair and with
    /// finite differences.
    func testFusedReLUGradientsMatchTheUnfusedPair() {
        let x = Tensor.randn([2, 3, 6, 6], seed: 6).requiringGrad(), w = Tensor.randn([4, 3, 3, 3], seed: 7).requiringGrad()
        let b = Tensor.randn([4], seed: 8).requiringGrad()
        let upstream = Tensor.randn([2, 4, 6, 6], seed: 9)
        (x.conv2d(weight: w, bias: b, padding: (1, 1), fusingReLU: true) * upstream).sum().backward()
        let fused = [x, w, b].map { $0.grad!.scalars }
        [x, w, b].forEach { $0.zeroGrad() }
        (x.conv2d(weight: w, bias: b, padding: (1, 1)).relu() * upstream).sum().backward()
        for (a, b) in zip(fused, [x, w, b].map { $0.grad!.scalars }) { XCTAssertEqual(a, b) }

        let input = Tensor.randn([5, 6], seed: 10).requiringGrad(), weight = Tensor.randn([4, 6], seed: 11).requiringGrad()
        let check = gradientCheck({ inputs in inputs[0].linear(weight: inputs[1], fusingReLU: true) }, at: [input, weight])
        XCTAssertTrue(check.passed, "\(check)")
    }

    func testFusedPoolingShape() {
        let x = Tensor.randn([1, 1, 4, 4], seed: 1), w = Tensor.randn([1, 1, 3, 3], seed: 2).requiringGrad()
        XCTAssertEqual(withoutGradients { x.conv2d(weight: w, padding: (1, 1), fusingReLU: true, maxPool: ((2, 2), (2, 2), (0, 0))) }.shape,
                       [1, 1, 2, 2])
    }
}
