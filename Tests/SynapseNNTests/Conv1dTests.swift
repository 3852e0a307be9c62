import Foundation
import XCTest
import Synapse

/// Conv1d against PyTorch (Fixtures/make_conv1d_fixture.py) and finite differences.
final class Conv1dTests: XCTestCase {
    private func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    func testMatchesPyTorchOutputsAndGradients() throws {
        let file = try CheckpointFile(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/conv1d.safetensors").path)
        let cases = [("a", Conv1d(6, 4, kernelSize: 3, stride: 2, padding: 1, groups: 2)), ("b", Conv1d(5, 3, kernelSize: 4, dilation: 2))]
        for (name, conv) in cases {
            try file.load(modules: [(name, conv)])
            let x = file.tensors["\(name).x"]!.requiringGrad()
            let output = conv(x)
            XCTAssertLessThan(maxDifference(output, file.tensors["\(name).output"]!), 1e-5, name)
            (output * file.tensors["\(name).R"]!).sum().backward()
            XCTAssertLessThan(maxDifference(x.grad!, file.tensors["\(name).grad.x"]!), 1e-5, name)
            XCTAssertLessThan(maxDifference(conv.weight.grad!, file.tensors["\(name).grad.weight"]!), 1e-4, name)
            XCTAssertLessThan(maxDifference(conv.bias!.value.grad!, file.tensors["\(name).grad.bias"]!), 1e-4, name)
        }
    }

    func testGradientsMatchFiniteDifferences() {
        GlobalRandom.seed(0)
        let conv = Conv1d(3, 2, kernelSize: 3, padding: .same, dilation: 1)
        let x = Tensor.randn([2, 3, 7], seed: 4)
        let result = gradientCheck({ inputs in
            let out = inputs[0].reshaped([2, 3, 1, 7]).conv2d(weight: inputs[1].reshaped([2, 3, 1, 3]), bias: inputs[2], padding: (0, 1))
            return out.reshaped([2, 2, 7]).relu().max(axis: 2)
        }, at: [x, conv.weight, conv.bias!.value])
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertEqual(conv(x).shape, [2, 2, 7], "same padding keeps the length")
    }
}
