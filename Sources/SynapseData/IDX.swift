// The IDX format of MNIST and Fashion-MNIST.

import Foundation
import SynapseCore

/// An unsigned-byte IDX array: the dimensions and the values in row-major order.
public struct IDXArray: Sendable {
    public let shape: [Int]
    public let values: [UInt8]

    /// The most values an IDX file may declare (1 GiB of bytes): the header is read first,
    /// and nothing larger is ever allocated or decompressed.
    public static let maximumValues = 1 << 30

    /// Reads an IDX file (`.gz` or plain). Only the unsigned-byte type (0x08) that MNIST-style
    /// datasets use is supported. The header is checked first, its sizes with overflow-safe
    /// arithmetic against `maximumValues`, and then exactly the values it promises are read:
    /// fewer or more is an error naming the file, and a compressed file is never expanded
    /// past what its header declares.
    public init(contentsOf path: String) throws {
        let reader = try ByteReader(path: path)
        let prefix = try reader.read(4)
        guard prefix.count == 4, prefix[0] == 0, prefix[1] == 0 else {
            throw DataError("\(path): not an IDX file (bad magic number)")
        }
        guard prefix[2] == 0x08 else {
            throw DataError("\(path): IDX element type 0x\(String(prefix[2], radix: 16)) is not supported (only unsigned bytes)")
        }
        let rank = Int(prefix[3])
        let dimensions = try reader.read(4 * rank)
        guard rank >= 1, dimensions.count == 4 * rank else { throw DataError("\(path): truncated IDX header") }
        var shape: [Int] = [], count = 1, overflow = false
        for axis in 0..<rank {
            let o = 4 * axis
            let size = Int(dimensions[o]) << 24 | Int(dimensions[o + 1]) << 16 | Int(dimensions[o + 2]) << 8 | Int(dimensions[o + 3])
            shape.append(size)
            let product = count.multipliedReportingOverflow(by: size)
            count = product.partialValue
            overflow = overflow || product.overflow
        }
        guard !overflow, count <= Self.maximumValues else {
            throw DataError("\(path): IDX shape \(shape) declares more than the \(Self.maximumValues) values allowed")
        }
        let values = try reader.read(count)
        guard values.count == count else {
            throw DataError("\(path): IDX header promises \(count) values for shape \(shape), the file holds \(values.count)")
        }
        guard try reader.read(1).isEmpty else {
            throw DataError("\(path): the file holds more than the \(count) values its IDX header promises for shape \(shape)")
        }
        self.shape = shape
        self.values = values
    }

    /// An array of `shape` (1 to 255 dimensions, each below 2³¹) holding `values` in row-major order.
    public init(shape: [Int], values: [UInt8]) {
        require((1...255).contains(shape.count) && shape.allSatisfy { (0..<(1 << 31)).contains($0) },
                "IDXArray: shape \(shape) cannot be written as IDX")
        require(shape.reduce(1, *) == values.count, "IDXArray: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    /// Writes the array as an uncompressed IDX file of unsigned bytes (MNIST's format; images
    /// of shape [N, rows, columns] are what `torch_sequence_models.py --score-samples` reads),
    /// replacing `path` in one step.
    public func write(to path: String) throws {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for size in shape { bytes += [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] }
        do {
            try Data(bytes + values).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError("\(path): cannot write the IDX file (\(error.localizedDescription))")
        }
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
