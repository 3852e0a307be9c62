// 8-bit images in memory, and their conversion to and from tensors.

import SynapseCore

/// An 8-bit image, row-major with interleaved channels: 1 (gray) or 3 (RGB).
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    /// height × width × channels bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        require(width > 0 && height > 0 && (channels == 1 || channels == 3),
                "Image: needs a positive size and 1 or 3 channels, got \(width)×\(height)×\(channels)")
        require(pixels.count == width * height * channels,
                "Image: \(width)×\(height)×\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
    }

    /// A `width`×`height` image filled with `value` in every channel.
    public init(width: Int, height: Int, channels: Int = 1, value: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: Array(repeating: value, count: width * height * channels))
    }

    /// An image from a [1, H, W] or [3, H, W] tensor (or [H, W] for gray) with values in
    /// [0, 1], clamped and rounded to bytes.
    public init(_ tensor: Tensor) {
        let planar = tensor.rank == 2 ? tensor.reshaped([1] + tensor.shape) : tensor
        require(planar.rank == 3 && (planar.shape[0] == 1 || planar.shape[0] == 3),
                "Image: needs a tensor [1 or 3, H, W] or [H, W], got \(tensor.shape)")
        let (channels, height, width) = (planar.shape[0], planar.shape[1], planar.shape[2])
        let values = planar.scalars
        var pixels = [UInt8](repeating: 0, count: values.count)
        for channel in 0..<channels {
            for index in 0..<(height * width) {
                let value = min(max(values[channel * height * width + index], 0), 1)
                pixels[index * channels + channel] = UInt8((value * 255).rounded())
            }
        }
        self.init(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// The image as a [channels, height, width] tensor with values in [0, 1], the layout and
    /// scale of the MNIST-style datasets.
    public func tensor() -> Tensor {
        var values = [Float](repeating: 0, count: pixels.count)
        let planeSize = width * height
        for index in 0..<planeSize {
            for channel in 0..<channels {
                values[channel * planeSize + index] = Float(pixels[index * channels + channel]) / 255
            }
        }
        return Tensor(values, shape: [channels, height, width])
    }

    /// The image with `channels` channels: RGB to gray uses the ITU-R BT.601 luma weights
    /// (as PIL's "L" mode does); gray to RGB repeats the value.
    public func converted(toChannels target: Int) -> Image {
        require(target == 1 || target == 3, "Image.converted: 1 or 3 channels, got \(target)")
        guard target != channels else { return self }
        if target == 3 {
            return Image(width: width, height: height, channels: 3, pixels: pixels.flatMap { [$0, $0, $0] })
        }
        let gray = (0..<(width * height)).map { index -> UInt8 in
            let (red, green, blue) = (Float(pixels[3 * index]), Float(pixels[3 * index + 1]), Float(pixels[3 * index + 2]))
            return UInt8((0.299 * red + 0.587 * green + 0.114 * blue).rounded())
        }
        return Image(width: width, height: height, channels: 1, pixels: gray)
    }

    /// The image with every value v replaced by 255 − v (dark-on-light ↔ light-on-dark).
    public func inverted() -> Image {
        Image(width: width, height: height, channels: channels, pixels: pixels.map { 255 - $0 })
    }

    /// The mean value of the outermost ring of pixels, in [0, 255]: a cheap guess at the
    /// background of an object photo.
    public var borderMean: Float {
        var total = 0, count = 0
        for y in 0..<height {
            for x in 0..<width where y == 0 || y == height - 1 || x == 0 || x == width - 1 {
                for channel in 0..<channels { total += Int(pixels[(y * width + x) * channels + channel]) }
                count += channels
            }
        }
        return Float(total) / Float(count)
    }
}
