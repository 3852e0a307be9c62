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
    /// Writes `tensors` (Float32) and string `metadata` to `path` atomically: the file is
    /// written under a temporary name and renamed over `path` only once complete, so a crash
    /// mid-save leaves any previous file intact.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, tensor) in tensors {
            guard header[name] == nil, name != "__metadata__" else { throw CheckpointError("\(path): duplicate tensor name \(name)") }
            let bytes = tensor.count * 4
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data()
        file.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, tensor) in tensors {
            tensor.withUnsafeBufferPointer { buffer in
                #if _endian(big)
                for value in buffer { withUnsafeBytes(of: value.bitPattern.littleEndian) { file.append(contentsOf: $0) } }
                #else
                file.append(UnsafeBufferPointer(start: UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                                count: buffer.count * 4))
                #endif
            }
        }
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try file.write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, path) != 0 {
                throw CheckpointError("\(path): cannot replace the file (\(String(cString: strerror(errno))))")
            }
        } catch let error as CheckpointError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CheckpointError("\(path): cannot write (\(error.localizedDescription))")
        }
    }

    /// Reads every tensor in a safetensors file (F32, F64, F16, BF16 and integer dtypes are
    /// converted to Float32) and the metadata. A truncated or malformed file is reported, never trusted.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(FileManager.default.fileExists(atPath: path) ? "\(path): cannot read the file" : "\(path): no such file")
        }
        guard data.count >= 8 else { throw CheckpointError("\(path): too short to be a safetensors file (\(data.count) bytes)") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw CheckpointError("\(path): header length \(headerLength) runs past the end of the file (truncated or not safetensors)")
        }
        let dataStart = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any] else {
            throw CheckpointError("\(path): the header is not valid JSON")
        }
        var metadata: [String: String] = [:]
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header {
            if name == "__metadata__" {
                metadata = entry as? [String: String] ?? [:]
                continue
            }
            guard let info = entry as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw CheckpointError("\(path): tensor \(name) has a malformed header entry")
            }
            guard let width = elementWidths[dtype] else { throw CheckpointError("\(path): tensor \(name) has unsupported dtype \(dtype)") }
            let count = shape.reduce(1, *)
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, end - begin == count * width, dataStart + end <= data.count else {
                throw CheckpointError("\(path): tensor \(name) (\(dtype) \(shape)) has byte range \(begin)..<\(end) that does not fit the file (truncated?)")
            }
            let values = data.subdata(in: (dataStart + begin)..<(dataStart + end)).withUnsafeBytes { raw in
                (0..<count).map { decode(raw, at: $0 * width, dtype: dtype) }
            }
            tensors[name] = Tensor(values, shape: shape)
        }
        return (tensors, metadata)
    }

    private static let elementWidths: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "I8": 1]

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
        case "U8": return Float(raw[offset])
        default: return Float(Int8(bitPattern: raw[offset]))
        }
    }
}
