import XCTest
@testable import SynapseCore

/// A hand-written loop over time steps must cost O(T) in backward, not O(T²).
final class SequenceLoopTests: XCTestCase {
    /// Slices one step of a projected input [B, T, F] per iteration, as a recurrent loop does,
    /// and returns the tensor bytes allocated by backward.
    private func backwardBytes(steps: Int) -> (bytes: Int, gradient: Tensor) {
        let batch = 4, features = 32
        let x = Tensor.uniform([batch, steps, features], low: -1, high: 1, seed: 7).requiringGrad()
        var h = Tensor.zeros([batch, 1, features])
        var outputs: [Tensor] = []
        for t in 0..<steps {
            h = (x.slice(axis: 1, start: t, end: t + 1) * 0.5 + h * 0.5).tanh()
            outputs.append(h)
        }
        let loss = Tensor.concatenate(outputs, axis: 1).sum()
        let before = TensorMemory.allocatedBytes
        loss.backward()
        return (TensorMemory.allocatedBytes - before, x.grad!)
    }

    func testSlicingLoopBackwardAllocatesLinearlyInSteps() {
        let short = backwardBytes(steps: 100), long = backwardBytes(steps: 1000)
        let stepBytes = 4 * 32 * MemoryLayout<Float>.stride
        // Slicing with a zero-filled gradient of the whole input per step would allocate
        // T × [B, T, F]: 100× more per step at T = 1,000 than at T = 100.
        XCTAssertLessThan(Double(long.bytes) / 1000, 1.1 * Double(short.bytes) / 100,
                          "per-step backward bytes grew with T: \(short.bytes) at T=100, \(long.bytes) at T=1000")
        XCTAssertLessThan(long.bytes, 40 * 1000 * stepBytes, "backward allocated \(long.bytes) bytes for T=1000")
        XCTAssertEqual(long.gradient.shape, [4, 1000, 32])
    }

    func testSliceGradientsAccumulateInPlace() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).requiringGrad()
        let y = (x.slice(axis: 1, start: 0, end: 2) * 2 + x.slice(axis: 1, start: 1, end: 3) * 3).sum()
            + x.slice(axis: 0, start: 1, end: 2).sum()
        y.backward()
        assertClose(x.grad!, [2, 5, 3, 3, 6, 4], shape: [2, 3])
        let kept = x.grad!
        x.slice(axis: 1, start: 2, end: 3).sum().backward()
        assertClose(kept, [2, 5, 3, 3, 6, 4])
        assertClose(x.grad!, [2, 5, 4, 3, 6, 5])
    }
}
