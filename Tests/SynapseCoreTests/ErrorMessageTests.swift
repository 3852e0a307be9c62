import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import SynapseCore

/// Bad shapes, axes and indices are reported with messages naming the op and the shapes.
final class ErrorMessageTests: XCTestCase {
    func testBroadcastMismatch() {
        assertShapeError("add: shapes [2,3] and [4] cannot be broadcast together (3 ≠ 4 at dimension 1)") {
            () throws(ShapeError) in try Shape.broadcast([2, 3], [4], op: "add")
        }
    }

    func testBadAxes() {
        assertShapeError("sum: axis 3 is out of range for a tensor of rank 2") {
            () throws(ShapeError) in try Shape.normalize(axes: [3], rank: 2, op: "sum")
        }
        assertShapeError("sum: axis -1 is repeated in [1, -1]") {
            () throws(ShapeError) in try Shape.normalize(axes: [1, -1], rank: 2, op: "sum")
        }
        assertShapeError("permute: [0, 0] is not a permutation of the 2 axes") {
            () throws(ShapeError) in try Shape.validatePermutation([0, 0], rank: 2)
        }
    }

    func testReshapeAndConcatenate() {
        assertShapeError("reshape: cannot reshape [2,3] (6 elements) into [4,-1]") {
            () throws(ShapeError) in try Shape.resolveReshape([4, -1], count: 6, from: [2, 3])
        }
        assertShapeError("reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)") {
            () throws(ShapeError) in try Shape.resolveReshape([4, 2], count: 6, from: [2, 3])
        }
        assertShapeError("concatenate: tensor 1 has shape [2,4], which differs from [3,4] outside axis 1") {
            () throws(ShapeError) in try Shape.validateConcatenation([[3, 4], [2, 4]], axis: 1)
        }
    }

    func testConvolutionShapes() {
        assertShapeError("conv2d: weight [8,2,3,3] expects 2 input channels, input [1,3,8,8] has 3") {
            () throws(ShapeError) in
            try Shape.convolution(input: [1, 3, 8, 8], weight: [8, 2, 3, 3], bias: nil, stride: (1, 1),
                                  padding: (0, 0), dilation: (1, 1), groups: 1)
        }
        assertShapeError("conv2d: kernel 5×5 (dilation 1×1) does not fit input 3×3 with padding 0×0") {
            () throws(ShapeError) in
            try Shape.convolution(input: [1, 1, 3, 3], weight: [1, 1, 5, 5], bias: nil, stride: (1, 1),
                                  padding: (0, 0), dilation: (1, 1), groups: 1)
        }
        assertShapeError("convTranspose2d: weight [4,2,3,3] expects 4 input channels, input [1,3,8,8] has 3") {
            () throws(ShapeError) in
            try Shape.transposedConvolution(input: [1, 3, 8, 8], weight: [4, 2, 3, 3], bias: nil, stride: (1, 1),
                                            padding: (0, 0), outputPadding: (0, 0), dilation: (1, 1), groups: 1)
        }
        assertShapeError("convTranspose2d: output padding 2×0 must be non-negative and smaller than the stride 2×2") {
            () throws(ShapeError) in
            try Shape.transposedConvolution(input: [1, 3, 8, 8], weight: [3, 2, 3, 3], bias: nil, stride: (2, 2),
                                            padding: (0, 0), outputPadding: (2, 0), dilation: (1, 1), groups: 1)
        }
        assertShapeError("convTranspose2d: bias must be [4], got [2]") {
            () throws(ShapeError) in
            try Shape.transposedConvolution(input: [1, 4, 8, 8], weight: [4, 2, 3, 3], bias: [2], stride: (1, 1),
                                            padding: (0, 0), outputPadding: (0, 0), dilation: (1, 1), groups: 2)
        }
        assertShapeError("convTranspose2d: input [1,1,1,1] with kernel 1×1, stride 1×1 and padding 1×1 gives an empty -1×-1 output") {
            () throws(ShapeError) in
            try Shape.transposedConvolution(input: [1, 1, 1, 1], weight: [1, 1, 1, 1], bias: nil, stride: (1, 1),
                                            padding: (1, 1), outputPadding: (0, 0), dilation: (1, 1), groups: 1)
        }
    }

    func testIndexOutOfRange() {
        assertShapeError("indexSelect: index 5 is out of range for a dimension of size 3") {
            () throws(ShapeError) in try IndexTensor([0, 5]).resolved(against: 3, op: "indexSelect")
        }
    }

    /// A failed check stops the process, so each misuse runs in a forked child whose stderr is read back.
    func testMisuseStopsWithAClearMessage() {
        let x = Tensor.zeros([2, 3])
        let cases: [(String, () -> Void)] = [
            ("matmul: shapes [2,3] and [4,5] are incompatible (3 ≠ 4)", { _ = x.matmul(Tensor.zeros([4, 5])) }),
            ("add: shapes [2,3] and [2] cannot be broadcast together (3 ≠ 2 at dimension 1)", { _ = x + Tensor.zeros([2]) }),
            ("sum: axis 2 is out of range for a tensor of rank 2", { _ = x.sum(axis: 2) }),
            ("subscript: index 5 is out of range for dimension 0 of size 2", { _ = x[5] }),
            ("gather: index 3 is out of range for a dimension of size 3", { _ = x.gather(axis: 1, indices: IndexTensor([[3], [0]])) }),
            ("backward: tensor of shape [2,3] is not a scalar; pass a gradient of the same shape", {
                (x.requiringGrad() * 2).backward()
            }),
            ("backward: tensor of shape [] does not require gradients", { x.sum().backward() }),
        ]
        for (message, misuse) in cases {
            let stderr = stderrOfCrashingChild(misuse)
            XCTAssertTrue(stderr.contains(message), "expected \"\(message)\" in stderr: \(stderr)")
        }
    }
}

/// Runs `body` in a forked child process and returns what it wrote to stderr before exiting.
private func stderrOfCrashingChild(_ body: () -> Void) -> String {
    var pipe: [Int32] = [0, 0]
    guard Glibc.pipe(&pipe) == 0 else { return "pipe failed" }
    let child = fork()
    if child == 0 {
        close(pipe[0])
        dup2(pipe[1], STDERR_FILENO)
        body()
        _exit(0)
    }
    close(pipe[1])
    var output = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(pipe[0], &buffer, buffer.count)
        if n <= 0 { break }
        output.append(contentsOf: buffer[0..<n])
    }
    close(pipe[0])
    var status: Int32 = 0
    waitpid(child, &status, 0)
    return String(decoding: output, as: UTF8.self)
}
