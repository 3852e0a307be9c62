// The IDX format of MNIST and Fashion-MNIST.

import Foundation
import SynapseCore

/// An unsigned-byte IDX array: the dimensions and the values in row-major order.
public struct IDXArray: Sendable {
    public let shape: [Int]
    public let values: [UInt8]

    /// Reads an IDX file (`.gz` or plain). Only the unsigned-byte type (0x08) that MNIST-style
    /// datasets use is supported; anything else, or a size that does not match the header,
    /// is reported with the file name.
    public init(contentsOf path: String) throws {
        let bytes = try readPossiblyCompressedFile(path)
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DataError("\(path): not an IDX file (bad magic number)")
        }
        guard bytes[2] == 0x08 else {
            throw DataError("\(path): IDX element type 0x\(String(bytes[2], radix: 16)) is not supported (only unsigned bytes)")
        }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else { throw DataError("\(path): truncated IDX header") }
        var shape: [Int] = []
        for axis in 0..<rank {
            let o = 4 + 4 * axis
            shape.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        let count = shape.reduce(1, *), start = 4 + 4 * rank
        guard bytes.count - start == count else {
            throw DataError("\(path): IDX header promises \(count) values for shape \(shape), the file holds \(bytes.count - start)")
        }
        self.shape = shape
        values = Array(bytes[start...])
    }

    /// The values as floats scaled by `scale`, e.g. 1/255 for pixels.
    public func tensor(scale: Float = 1) -> Tensor {
        Tensor(values.map { Float($0) * scale }, shape: shape)
    }

    /// The values as class indices.
    public func indices() -> IndexTensor {
        IndexTensor(values.map(Int.init), shape: shape)
    }
}
