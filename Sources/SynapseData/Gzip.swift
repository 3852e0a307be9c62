// Reading whole files, transparently gunzipping `.gz` ones with zlib.

import CZlib
import Foundation

/// Errors from loading data files. Each names the file and what was wrong with it.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The bytes of `path`, decompressed if it is gzip (detected by its magic bytes, not its name).
public func readPossiblyCompressedFile(_ path: String) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: path) else { throw DataError("\(path): no such file") }
    guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read the file") }
    let bytes = [UInt8](data)
    guard bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b else { return bytes }
    guard let file = gzopen(path, "rb") else { throw DataError("\(path): cannot open as gzip") }
    defer { gzclose(file) }
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count * 4)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if read < 0 { throw DataError("\(path): corrupt gzip data") }
        if read == 0 { break }
        output.append(contentsOf: chunk[0..<Int(read)])
    }
    var errorCode: Int32 = 0
    if gzerror(file, &errorCode) != nil, errorCode != Z_OK && errorCode != Z_STREAM_END {
        throw DataError("\(path): corrupt gzip data (zlib error \(errorCode))")
    }
    return output
}
