// Reading and writing PNG (through libpng's simplified API) and PGM files.

import CPNG
import Foundation
import SynapseIO

/// A file that could not be read or written as an image; the message names the file.
public struct ImageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Image {
    /// The most pixels an image file may declare (64 Mi, 8192 × 8192).
    public static let maximumPixels = 1 << 26

    /// Reads a PNG (any bit depth, gray, RGB, palette, with or without alpha) or a PGM (P2/P5)
    /// file, recognized by its first bytes rather than its name. With `channels` 1 or 3 the
    /// pixels are converted to gray or RGB; otherwise gray files stay gray and the rest become
    /// RGB. Transparent areas are composited onto white, as viewers show them.
    public init(contentsOf path: String, channels: Int? = nil) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw ImageError("\(path): " + (exists ? (isDirectory.boolValue ? "is a directory" : "cannot be read") : "no such file"))
        }
        let bytes = [UInt8](data)
        let image: Image
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            image = try Image.decodePNG(bytes, path: path, channels: channels)
        } else if bytes.starts(with: [0x50, 0x35]) || bytes.starts(with: [0x50, 0x32]) {
            image = try Image.decodePGM(bytes, path: path)
        } else {
            throw ImageError("\(path): not a PNG or PGM image")
        }
        self = channels.map { image.converted(toChannels: $0) } ?? image
    }

    /// Writes the image as PNG, or as binary PGM (gray only) if `path` ends in `.pgm`,
    /// atomically (`AtomicFile`): the file appears complete or not at all.
    public func write(to path: String) throws {
        let bytes: Data
        if path.lowercased().hasSuffix(".pgm") {
            guard channels == 1 else { throw ImageError("\(path): PGM holds gray images; this one has \(channels) channels") }
            bytes = Data(Array("P5\n\(width) \(height)\n255\n".utf8) + pixels)
        } else {
            do {
                bytes = try pngData()
            } catch let error as ImageError {
                throw ImageError("\(path): \(error)")
            }
        }
        do {
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw ImageError("\(error)")
        }
    }

    /// The image encoded as PNG (gray or RGB, 8 bits), for a file or a data URI.
    public func pngData() throws -> Data {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(width)
        png.height = UInt32(height)
        png.format = channels == 1 ? UInt32(PNG_FORMAT_GRAY) : UInt32(PNG_FORMAT_RGB)
        // The first call measures the encoded size, the second encodes into a buffer of it.
        var size = 0
        var encoded: [UInt8] = []
        let written = pixels.withUnsafeBytes { raw -> Int32 in
            guard png_image_write_to_memory(&png, nil, &size, 0, raw.baseAddress, Int32(width * channels), nil) != 0 else {
                return 0
            }
            encoded = [UInt8](repeating: 0, count: size)
            return encoded.withUnsafeMutableBytes {
                png_image_write_to_memory(&png, $0.baseAddress, &size, 0, raw.baseAddress, Int32(width * channels), nil)
            }
        }
        guard written != 0 else { throw ImageError("cannot be encoded as PNG (\(Image.message(of: &png)))") }
        return Data(encoded.prefix(size))
    }

    private static func message(of png: inout png_image) -> String {
        withUnsafeBytes(of: &png.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func decodePNG(_ bytes: [UInt8], path: String, channels: Int?) throws -> Image {
        // libpng keeps reading from the memory given to begin_read, so all of it happens here.
        try bytes.withUnsafeBytes { memory in
            var png = png_image()
            png.version = UInt32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&png, memory.baseAddress, memory.count) != 0 else {
                throw ImageError("\(path): not a readable PNG (\(message(of: &png)))")
            }
            defer { png_image_free(&png) }
            let isColor = png.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
            let outputChannels = channels ?? (isColor ? 3 : 1)
            png.format = outputChannels == 1 ? UInt32(PNG_FORMAT_GRAY) : UInt32(PNG_FORMAT_RGB)
            let (width, height) = (Int(png.width), Int(png.height))
            guard width > 0, height > 0, width * height <= Image.maximumPixels else {
                throw ImageError("\(path): PNG of \(width)×\(height) pixels is empty or larger than the \(Image.maximumPixels) allowed")
            }
            // Deflate shrinks data at most about 1032 times, and a 1-bit pixel is an eighth of a
            // byte: a header claiming more pixels than that is a lie, caught before allocating.
            guard width * height <= 8 * 1032 * memory.count else {
                throw ImageError("\(path): PNG header claims \(width)×\(height) pixels, more than its \(memory.count) bytes can hold")
            }
            var pixels = [UInt8](repeating: 0, count: width * height * outputChannels)
            var white = png_color(red: 255, green: 255, blue: 255)
            let finished = pixels.withUnsafeMutableBytes {
                png_image_finish_read(&png, &white, $0.baseAddress, Int32(width * outputChannels), nil)
            }
            guard finished != 0 else { throw ImageError("\(path): corrupt PNG (\(message(of: &png)))") }
            return Image(width: width, height: height, channels: outputChannels, pixels: pixels)
        }
    }

    /// PGM: "P5" (binary) or "P2" (text), whitespace-separated width, height and maxval with
    /// "#" comments, then the samples; 16-bit samples are big-endian. Values scale to 0…255.
    private static func decodePGM(_ bytes: [UInt8], path: String) throws -> Image {
        var position = 2
        func skipSpaceAndComments() {
            while position < bytes.count {
                if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
                } else if [9, 10, 11, 12, 13, 32].contains(bytes[position]) {
                    position += 1
                } else {
                    return
                }
            }
        }
        func number(_ what: String) throws -> Int {
            skipSpaceAndComments()
            var value = 0, digits = 0
            while position < bytes.count, (48...57).contains(bytes[position]) {
                digits += 1
                guard digits <= 9 else { throw ImageError("\(path): malformed PGM (the \(what) has more than 9 digits)") }
                value = value * 10 + Int(bytes[position] - 48)
                position += 1
            }
            guard digits > 0 else { throw ImageError("\(path): malformed PGM (expected the \(what))") }
            return value
        }
        let binary = bytes[1] == UInt8(ascii: "5")
        let width = try number("width"), height = try number("height"), maxValue = try number("maximum value")
        guard width > 0, height > 0, width * height <= Image.maximumPixels, (1...65535).contains(maxValue) else {
            throw ImageError("\(path): PGM header gives an unusable size \(width)×\(height) or maximum value \(maxValue)")
        }
        var samples = [Int]()
        if binary {
            // Exactly one whitespace byte ends the header; anything else means the header was
            // misread (a missing maximum value taken from the pixels, say).
            guard position < bytes.count, [9, 10, 11, 12, 13, 32].contains(bytes[position]) else {
                throw ImageError("\(path): malformed PGM (no whitespace after the maximum value \(maxValue))")
            }
            position += 1
            let bytesPerSample = maxValue > 255 ? 2 : 1, needed = width * height * bytesPerSample
            guard bytes.count - position == needed else {
                throw ImageError("\(path): PGM of \(width)×\(height) with maximum value \(maxValue) needs \(needed) bytes of pixels, "
                                 + "the file holds \(bytes.count - position)")
            }
            samples.reserveCapacity(width * height)
            for index in 0..<(width * height) {
                let offset = position + index * bytesPerSample
                samples.append(bytesPerSample == 2 ? Int(bytes[offset]) << 8 | Int(bytes[offset + 1]) : Int(bytes[offset]))
            }
        } else {
            // Each text sample takes at least a digit and a separator.
            guard width * height <= (bytes.count - position + 1) / 2 else {
                throw ImageError("\(path): truncated PGM (\(width)×\(height) samples cannot fit in \(bytes.count) bytes)")
            }
            samples.reserveCapacity(width * height)
            for _ in 0..<(width * height) { samples.append(try number("pixel values")) }
        }
        if let index = samples.firstIndex(where: { $0 > maxValue }) {
            throw ImageError("\(path): PGM sample \(samples[index]) at pixel \(index) exceeds the maximum value \(maxValue)")
        }
        let pixels = samples.map { UInt8((Double($0) * 255 / Double(maxValue)).rounded()) }
        return Image(width: width, height: height, channels: 1, pixels: pixels)
    }
}
