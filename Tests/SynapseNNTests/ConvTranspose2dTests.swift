import Foundation
import XCTest
import Synapse

/// ConvTranspose2d against PyTorch (Fixtures/make_conv_transpose_fixture.py); the finite
/// difference checks of the op are in SynapseCoreTests.
final class ConvTranspose2dTests: XCTestCase {
    private func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    func testMatchesPyTorchOutputsAndGradients() throws {
        let file = try CheckpointFile(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/conv_transpose.safetensors").path)
        let cases = [("a", ConvTranspose2d(32, 16, kernelSize: 4, stride: 2, padding: 1)),
                     ("b", ConvTranspose2d(6, 4, kernelSize: (3, 2), stride: (2, 3), padding: (1, 0), outputPadding: (1, 2),
                                           dilation: (2, 1), groups: 2)),
                     ("c", ConvTranspose2d(3, 5, kernelSize: 1))]
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

    func testShapesInitializationAndErrors() {
        GlobalRandom.seed(0)
        let conv = ConvTranspose2d(8, 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1)
        XCTAssertEqual(conv.weight.shape, [8, 4, 3, 3], "PyTorch's [in, out / groups, kH, kW]")
        XCTAssertEqual(conv(Tensor.randn([2, 8, 5, 5], seed: 1)).shape, [2, 4, 10, 10])
        // Fan-in from the weight's second axis: 4 · 3 · 3 = 36, so the bound is 1/6.
        let bound = conv.weight.scalars.map(abs).max()!
        XCTAssertLessThanOrEqual(bound, 1 / 6)
        XCTAssertGreaterThan(bound, 0.15)
        let normal = ConvTranspose2d(64, 32, kernelSize: 4, initializer: .normal(standardDeviation: 0.02)).weight.scalars
        let mean = normal.reduce(0, +) / Float(normal.count)
        let deviation = (normal.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(normal.count)).squareRoot()
        XCTAssertEqual(deviation, 0.02, accuracy: 0.001)
        XCTAssertEqual(conv.namedParameters.map(\.0).sorted(), ["bias", "weight"])
    }
}
