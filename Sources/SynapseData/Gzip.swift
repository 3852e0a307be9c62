// Reading whole files, transparently gunzipping `.gz` ones with zlib.

import CZlib
import Foundation

/// Errors from loading data files. Each names the file and what was wrong with it.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The bytes of `path`, decompressed if it is gzip (detected by its magic bytes, not its
/// name). Decompression stops, with an error, as soon as the output passes `limit` bytes, so
/// a small file that expands without bound never fills memory.
public func readPossiblyCompressedFile(_ path: String, limit: Int = 1 << 30) throws -> [UInt8] {
    let reader = try ByteReader(path: path)
    let bytes = try reader.read(limit)
    if try !reader.read(1).isEmpty {
        throw DataError("\(path): holds more than the \(limit) bytes allowed\(reader.compressed ? " once decompressed" : "")")
    }
    return bytes
}

/// Reads a file front to back, decompressing it on the way if it is gzip: a reader takes
/// only as many bytes as a header says it should, and notices when there are more.
public final class ByteReader {
    public let path: String
    /// Whether the file is gzip.
    public let compressed: Bool
    private let file: gzFile

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError("\(path): no such file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DataError("\(path): cannot read the file") }
        let magic = [UInt8]((try? handle.read(upToCount: 2)) ?? Data())
        try? handle.close()
        // zlib reads a file that is not gzip as it is, so one path serves both.
        guard let file = gzopen(path, "rb") else { throw DataError("\(path): cannot read the file") }
        self.path = path
        self.file = file
        compressed = magic == [0x1f, 0x8b]
    }

    /// Up to `count` more bytes: fewer only at the end of the file.
    public func read(_ count: Int) throws -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(max(count, 1), 1 << 16))
        while output.count < count {
            let wanted = min(chunk.count, count - output.count)
            let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(wanted)) }
            if read < 0 {
                var errorCode: Int32 = 0
                let message = gzerror(file, &errorCode).map { String(cString: $0) } ?? "zlib error \(errorCode)"
                throw DataError("\(path): corrupt \(compressed ? "gzip " : "")data (\(message))")
            }
            if read == 0 { break }
            output.append(contentsOf: chunk[0..<Int(read)])
        }
        return output
    }

    deinit { gzclose(file) }
}
