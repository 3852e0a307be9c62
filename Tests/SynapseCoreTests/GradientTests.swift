import XCTest
@testable import SynapseCore

/// Every differentiable op, checked against central finite differences.
final class GradientTests: XCTestCase {
    func testArithmeticWithBroadcasting() {
        let a = Tensor.randn([3, 1, 4], seed: 1), b = Tensor.randn([2, 1], seed: 2)
        assertGradients({ $0[0] + $0[1] }, at: [a, b])
        assertGradients({ $0[0] - $0[1] }, at: [a, b])
        assertGradients({ $0[0] * $0[1] }, at: [a, b])
        assertGradients({ $0[0] / $0[1] }, at: [a, awayFromZero([2, 1], seed: 3) * 2])
        assertGradients({ -$0[0] }, at: [a])
        assertGradients({ 2 * $0[0] + 1 - $0[0] / 4 }, at: [a])
        assertGradients({ $0[0] * $0[0] }, at: [a])  // the same tensor used twice
    }

    func testPowerAndExtrema() {
        let base = Tensor.uniform([2, 3], low: 0.5, high: 2, seed: 4)
        let exponent = Tensor.uniform([3], low: -1, high: 2, seed: 5)
        assertGradients({ $0[0].pow($0[1]) }, at: [base, exponent])
        assertGradients({ $0[0].pow(3) }, at: [awayFromZero([2, 3], seed: 6)])
        assertGradients({ $0[0].pow(-1.5) }, at: [base])
        let a = distinctValues([2, 3], seed: 7), b = distinctValues([3], seed: 8) + 0.05
        assertGradients({ $0[0].maximum($0[1]) }, at: [a, b])
        assertGradients({ $0[0].minimum($0[1]) }, at: [a, b])
    }

    func testUnaryFunctions() {
        let x = awayFromZero([3, 5], seed: 9)
        let positive = Tensor.uniform([3, 5], low: 0.3, high: 3, seed: 10)
        assertGradients({ $0[0].exp() }, at: [x])
        assertGradients({ $0[0].log() }, at: [positive])
        assertGradients({ $0[0].sqrt() }, at: [positive])
        assertGradients({ $0[0].square() }, at: [x])
        assertGradients({ $0[0].abs() }, at: [x])
        assertGradients({ $0[0].tanh() }, at: [x])
        assertGradients({ $0[0].sigmoid() }, at: [x * 3])
        assertGradients({ $0[0].relu() }, at: [x])
        assertGradients({ $0[0].leakyRelu(negativeSlope: 0.1) }, at: [x])
        assertGradients({ $0[0].gelu() }, at: [x * 2])
        assertGradients({ $0[0].clamped(min: -0.5, max: 0.7) }, at: [distinctValues([3, 5], seed: 11) + 0.03])
    }

    func testWhere() {
        let condition = Tensor([1, 0, 1, 0], shape: [4, 1])
        let a = Tensor.randn([4, 3], seed: 12), b = Tensor.randn([3], seed: 13)
        assertGradients({ Tensor.where(condition, $0[0], $0[1]) }, at: [a, b])
    }

    func testReductionsOverSeveralAxes() {
        let x = Tensor.randn([2, 3, 4], seed: 14)
        assertGradients({ $0[0].sum() }, at: [x])
        assertGradients({ $0[0].sum(axes: [0, 2]) }, at: [x])
        assertGradients({ $0[0].sum(axes: [1], keepDims: true) * $0[0] }, at: [x])
        assertGradients({ $0[0].mean(axes: [0, 2], keepDims: true) }, at: [x])
        assertGradients({ $0[0].mean(axis: -1) }, at: [x])
        assertGradients({ $0[0].variance(axes: [1, 2]) }, at: [x])
        assertGradients({ $0[0].variance(axis: 0, correction: 0) }, at: [x])
        let distinct = distinctValues([2, 3, 4], seed: 15)
        assertGradients({ $0[0].max(axes: [0, 2]) }, at: [distinct])
        assertGradients({ $0[0].max() }, at: [distinct])
        assertGradients({ $0[0].min(axis: 1, keepDims: true) }, at: [distinct])
    }

    func testMaxSplitsTiedGradient() {
        let x = Tensor([1, 3, 3]).requiringGrad()
        x.max().backward()
        assertClose(x.grad!, [0, 0.5, 0.5])
    }

    func testMatmulShapes() {
        assertGradients({ $0[0].matmul($0[1]) }, at: [Tensor.randn([3, 4], seed: 16), Tensor.randn([4, 5], seed: 17)])
        assertGradients({ $0[0].matmul($0[1]) }, at: [Tensor.randn([2, 1, 3, 4], seed: 18), Tensor.randn([3, 4, 2], seed: 19)])
        assertGradients({ $0[0].matmul($0[1]) }, at: [Tensor.randn([2, 3, 4], seed: 20), Tensor.randn([4, 2], seed: 21)])
        assertGradients({ $0[0].matmul($0[1]) }, at: [Tensor.randn([4], seed: 22), Tensor.randn([2, 4, 3], seed: 23)])
        assertGradients({ $0[0].matmul($0[1]) }, at: [Tensor.randn([3, 4], seed: 24), Tensor.randn([4], seed: 25)])
        assertGradients({ $0[0].matmul($0[1]) }, at: [Tensor.randn([4], seed: 26), Tensor.randn([4], seed: 27)])
        assertGradients({ $0[0].matmul($0[1].T) }, at: [Tensor.randn([3, 4], seed: 28), Tensor.randn([5, 4], seed: 29)])
    }

    func testLinear() {
        let x = Tensor.randn([2, 3, 4], seed: 50), w = Tensor.randn([5, 4], seed: 51), b = Tensor.randn([5], seed: 52)
        assertGradients({ $0[0].linear(weight: $0[1], bias: $0[2]) }, at: [x, w, b])
        assertGradients({ $0[0].linear(weight: $0[1]) }, at: [Tensor.randn([4], seed: 53), w])
        assertClose(x.linear(weight: w, bias: b), x.matmul(w.T).scalars.enumerated().map { $0.element + b.scalars[$0.offset % 5] })
    }

    func testSoftmax() {
        let x = Tensor.randn([3, 4, 2], seed: 30)
        assertGradients({ $0[0].softmax() }, at: [x])
        assertGradients({ $0[0].softmax(axis: 1) }, at: [x])
        assertGradients({ $0[0].logSoftmax() }, at: [x])
        assertGradients({ $0[0].logSoftmax(axis: 0) }, at: [x])
    }

    func testIndexing() {
        let table = Tensor.randn([5, 3], seed: 31)
        assertGradients({ $0[0].indexSelect(axis: 0, indices: IndexTensor([[1, 4], [1, 0]])) }, at: [table])
        assertGradients({ $0[0].indexSelect(axis: 1, indices: IndexTensor([2, 2, 0])) }, at: [table])
        assertGradients({ $0[0].gather(axis: 1, indices: IndexTensor([[0], [2], [1], [1], [0]])) }, at: [table])
        assertGradients({ $0[0].gather(axis: 0, indices: IndexTensor([[4, 0, 1], [4, 4, 2]])) }, at: [table])
    }

    func testShapeOps() {
        let x = Tensor.randn([2, 3, 4], seed: 32)
        assertGradients({ $0[0].reshaped([4, -1]) * $0[0].reshaped([4, 6]) }, at: [x])
        assertGradients({ $0[0].flattened(startAxis: 1) }, at: [x])
        assertGradients({ $0[0].unsqueezed(axis: 1).squeezed(axis: 1) * 2 }, at: [x])
        assertGradients({ $0[0].transposed(0, 2) }, at: [x])
        assertGradients({ $0[0].permuted([1, 2, 0]) }, at: [x])
        assertGradients({ $0[0].slice(axis: 2, start: 1, end: 4, step: 2) }, at: [x])
        assertGradients({ $0[0][1] }, at: [x])
        assertGradients({ $0[0][axis: 1, 1...] }, at: [x])
        assertGradients({ $0[0].expanded(to: [3, 2, 3, 4]) }, at: [x])
        assertGradients({ $0[0].expanded(to: [2, 3, 4]) }, at: [Tensor.randn([3, 1], seed: 33)])
    }

    func testJoiningAndSplitting() {
        let a = Tensor.randn([2, 3], seed: 34), b = Tensor.randn([2, 1], seed: 35)
        assertGradients({ Tensor.concatenate([$0[0], $0[1], $0[0]], axis: 1) }, at: [a, b])
        assertGradients({ Tensor.stack([$0[0], $0[0] * 2], axis: 1) }, at: [a])
        assertGradients({ $0[0].split(sizes: [1, 2], axis: 1)[1] }, at: [a])
        assertGradients({ let parts = $0[0].split(parts: 2); return parts[0] * parts[1] }, at: [a])
    }

    func testConvolution() {
        let x = Tensor.randn([2, 4, 6, 5], seed: 40)
        let w = Tensor.randn([6, 2, 3, 2], seed: 41), b = Tensor.randn([6], seed: 42)
        assertGradients({ $0[0].conv2d(weight: $0[1], bias: $0[2], stride: (2, 1), padding: (1, 1), dilation: (1, 2), groups: 2) },
                        at: [x, w, b])
        assertGradients({ $0[0].conv2d(weight: $0[1], padding: (1, 1)) },
                        at: [Tensor.randn([1, 1, 5, 5], seed: 43), Tensor.randn([3, 1, 3, 3], seed: 44)])
    }

    func testTransposedConvolution() {
        let x = Tensor.randn([2, 4, 3, 4], seed: 47)
        let w = Tensor.randn([4, 3, 3, 2], seed: 48), b = Tensor.randn([6], seed: 49)
        assertGradients({ $0[0].convTranspose2d(weight: $0[1], bias: $0[2], stride: (2, 1), padding: (1, 0),
                                                outputPadding: (1, 0), dilation: (1, 2), groups: 2) },
                        at: [x, w, b])
        // DCGAN's upsampling step: kernel 4, stride 2, padding 1 doubles the size.
        let y = Tensor.randn([1, 2, 3, 3], seed: 50)
        XCTAssertEqual(y.convTranspose2d(weight: Tensor.randn([2, 3, 4, 4], seed: 51), stride: (2, 2), padding: (1, 1)).shape,
                       [1, 3, 6, 6])
        assertGradients({ $0[0].convTranspose2d(weight: $0[1], stride: (2, 2), padding: (1, 1)) },
                        at: [y, Tensor.randn([2, 3, 4, 4], seed: 51)])
    }

    func testPooling() {
        let x = distinctValues([2, 3, 6, 5], seed: 45)
        assertGradients({ $0[0].maxPool2d(kernelSize: (2, 2)) }, at: [x])
        assertGradients({ $0[0].maxPool2d(kernelSize: (3, 3), stride: (2, 1), padding: (1, 1)) }, at: [x])
        assertGradients({ $0[0].avgPool2d(kernelSize: (2, 3), stride: (1, 2), padding: (1, 1)) }, at: [Tensor.randn([2, 2, 5, 6], seed: 46)])
    }

    func testGradientCheckDetectsWrongGradients() {
        // A function whose recorded backward is deliberately wrong must fail the check.
        func wrongSquare(_ inputs: [Tensor]) -> Tensor {
            let x = inputs[0]
            return record("wrongSquare", x.detached().square(), inputs: [x]) { g, _ in [g * x.detached()] }
        }
        let result = gradientCheck(wrongSquare, at: [Tensor([1, 2, 3])])
        XCTAssertFalse(result.passed)
    }
}
