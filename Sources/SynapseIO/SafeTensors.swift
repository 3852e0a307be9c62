// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw little-endian data.

import Foundation
import SynapseCore

/// Errors from reading or writing checkpoint files; each names the file.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum SafeTensors {
    /// Writes `tensors` (Float32) and string `metadata` to `path` atomically (`AtomicFile`):
    /// a crash or kill mid-save leaves any previous file intact.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String) throws {
        try write(entries: tensors.map { ($0.0, .float32($0.1)) }, metadata: metadata, to: path)
    }

    /// One tensor to write: Float32 values, or the integers of an index array.
    public enum StoredTensor {
        case float32(Tensor)
        case uint16([UInt16], shape: [Int])
        case int32([Int32], shape: [Int])

        var dtype: String {
            switch self {
            case .float32: return "F32"
            case .uint16: return "U16"
            case .int32: return "I32"
            }
        }

        var shape: [Int] {
            switch self {
            case .float32(let tensor): return tensor.shape
            case .uint16(_, let shape), .int32(_, let shape): return shape
            }
        }

        var byteCount: Int {
            switch self {
            case .float32(let tensor): return tensor.count * 4
            case .uint16(let values, _): return values.count * 2
            case .int32(let values, _): return values.count * 4
            }
        }

        /// Appends the little-endian bytes.
        func append(to file: inout Data) {
            switch self {
            case .float32(let tensor):
                tensor.withUnsafeBufferPointer { buffer in
                    #if _endian(big)
                    for value in buffer { withUnsafeBytes(of: value.bitPattern.littleEndian) { file.append(contentsOf: $0) } }
                    #else
                    file.append(UnsafeBufferPointer(start: UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                                    count: buffer.count * 4))
                    #endif
                }
            case .uint16(let values, _):
                for value in values { withUnsafeBytes(of: value.littleEndian) { file.append(contentsOf: $0) } }
            case .int32(let values, _):
                for value in values { withUnsafeBytes(of: value.littleEndian) { file.append(contentsOf: $0) } }
            }
        }
    }

    /// Writes `entries` and string `metadata` to `path` atomically.
    public static func write(entries: [(String, StoredTensor)], metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, entry) in entries {
            guard header[name] == nil, name != "__metadata__" else { throw CheckpointError("\(path): duplicate tensor name \(name)") }
            let bytes = entry.byteCount
            header[name] = ["dtype": entry.dtype, "shape": entry.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data()
        file.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, entry) in entries { entry.append(to: &file) }
        try AtomicFile.write(file, to: path)
    }

    /// The largest header accepted, as the reference implementation limits it: a header is
    /// parsed before anything in it is checked, so its size bounds that work.
    public static let maximumHeaderBytes = 100_000_000

    /// Reads every tensor in a safetensors file (F32, F64, F16, BF16 and integer dtypes are
    /// converted to Float32) and the metadata. The file is checked as the format's
    /// specification requires before any tensor is allocated: a header of bounded size that is
    /// one JSON object without duplicate names; known dtypes; shapes and byte ranges computed
    /// without overflow; ranges that lie in the file, match their shapes, do not overlap and
    /// cover the data exactly; string metadata. Anything else throws a `CheckpointError` that
    /// names the file and the fault; nothing is trusted or trapped on.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file = try readWithTypes(path)
        return (file.tensors, file.metadata)
    }

    /// As `read`, with each tensor's dtype in the file ("F32", "BF16", "I64", …), for
    /// callers that check them against what a model expects.
    public static func readWithTypes(_ path: String) throws
        -> (tensors: [String: Tensor], dtypes: [String: String], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(FileManager.default.fileExists(atPath: path) ? "\(path): cannot read the file" : "\(path): no such file")
        }
        guard data.count >= 8 else { throw CheckpointError("\(path): too short to be a safetensors file (\(data.count) bytes)") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw CheckpointError("\(path): header length \(headerLength) runs past the end of the file (truncated or not safetensors)")
        }
        guard headerLength <= UInt64(maximumHeaderBytes) else {
            throw CheckpointError("\(path): header of \(headerLength) bytes is larger than the \(maximumHeaderBytes) allowed")
        }
        let dataStart = 8 + Int(headerLength), dataLength = data.count - dataStart
        let headerBytes = data.subdata(in: 8..<dataStart)
        guard let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] else {
            throw CheckpointError("\(path): the header is not a valid JSON object")
        }
        if let duplicate = JSONKeys.firstDuplicateTopLevelKey(in: headerBytes) {
            throw CheckpointError("\(path): the header names \"\(duplicate)\" more than once")
        }
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: String, shape: [Int], range: Range<Int>, count: Int)] = []
        for (name, entry) in header {
            if name == "__metadata__" {
                guard let strings = entry as? [String: String] else {
                    throw CheckpointError("\(path): __metadata__ must map names to strings")
                }
                metadata = strings
                continue
            }
            guard let info = entry as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw CheckpointError("\(path): tensor \(name) has a malformed header entry")
            }
            guard let width = elementWidths[dtype] else { throw CheckpointError("\(path): tensor \(name) has unsupported dtype \(dtype)") }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw CheckpointError("\(path): tensor \(name) has a negative dimension in its shape \(shape)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= dataLength else {
                throw CheckpointError("\(path): tensor \(name) has byte range \(begin)..<\(end) outside the \(dataLength) data bytes "
                                      + "(truncated?)")
            }
            guard let count = checkedProduct(shape), let bytes = checkedProduct([count, width]), bytes == end - begin else {
                throw CheckpointError("\(path): tensor \(name) (\(dtype) \(shape)) does not fill its byte range \(begin)..<\(end)")
            }
            entries.append((name, dtype, shape, begin..<end, count))
        }
        // The specification requires the ranges to tile the data: no overlap, no hole.
        var covered = 0
        for entry in entries.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            if entry.range.lowerBound < covered {
                throw CheckpointError("\(path): tensor \(entry.name) overlaps another tensor's bytes at \(entry.range.lowerBound)")
            }
            if entry.range.lowerBound > covered {
                throw CheckpointError("\(path): data bytes \(covered)..<\(entry.range.lowerBound) belong to no tensor")
            }
            covered = entry.range.upperBound
        }
        if covered != dataLength { throw CheckpointError("\(path): data bytes \(covered)..<\(dataLength) belong to no tensor") }
        var tensors: [String: Tensor] = [:], dtypes: [String: String] = [:]
        for entry in entries {
            dtypes[entry.name] = entry.dtype
            let width = elementWidths[entry.dtype]!
            let values = data.subdata(in: (dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound)).withUnsafeBytes { raw in
                (0..<entry.count).map { decode(raw, at: $0 * width, dtype: entry.dtype) }
            }
            tensors[entry.name] = Tensor(values, shape: entry.shape)
        }
        return (tensors, dtypes, metadata)
    }

    /// The product of `values`, or nil if it overflows.
    private static func checkedProduct(_ values: [Int]) -> Int? {
        var product = 1
        for value in values {
            let (next, overflow) = product.multipliedReportingOverflow(by: value)
            if overflow { return nil }
            product = next
        }
        return product
    }

    private static let elementWidths: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U16": 2, "U8": 1, "I8": 1]

    private static func decode(_ raw: UnsafeRawBufferPointer, at offset: Int, dtype: String) -> Float {
        switch dtype {
        case "F32": return Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        case "F64": return Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
        case "F16":
            #if arch(x86_64) || arch(arm64)
            return Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
            #else
            return .nan
            #endif
        case "BF16": return Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) << 16)
        case "I64": return Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
        case "I32": return Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        case "U16": return Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        case "U8": return Float(raw[offset])
        default: return Float(Int8(bitPattern: raw[offset]))
        }
    }
}
