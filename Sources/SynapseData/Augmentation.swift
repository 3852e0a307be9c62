// Random image augmentations for batches [N, C, H, W]: each image gets its own draw.

import Foundation
import SynapseCore

/// Splits an image batch's shape into its parts, stopping with a clear message otherwise.
private func imageBatchShape(_ batch: Tensor, _ name: String) -> (count: Int, channels: Int, height: Int, width: Int) {
    require(batch.rank == 4, "\(name): expects image batches [N, C, H, W], got \(batch.shape)")
    return (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
}

/// Mirrors each image left–right with probability `probability`.
public struct RandomHorizontalFlip: Transform {
    public let probability: Float

    public init(probability: Float = 0.5) {
        require((0...1).contains(probability), "RandomHorizontalFlip: probability must be in [0, 1], got \(probability)")
        self.probability = probability
    }

    public func callAsFunction(_ batch: Tensor, using generator: inout RandomGenerator) -> Tensor {
        let (count, channels, height, width) = imageBatchShape(batch, "RandomHorizontalFlip")
        let flips = (0..<count).map { _ in generator.nextUniform() < probability }
        var output = batch
        output.withUnsafeMutableBufferPointer { pixels in
            let planeSize = height * width
            for image in 0..<count where flips[image] {
                for row in 0..<(channels * height) {
                    let start = image * channels * planeSize + row * width
                    pixels[start..<(start + width)].reverse()
                }
            }
        }
        return output
    }
}

/// Pads each image by `padding` pixels of `fill` on every side, then cuts a random
/// `height`×`width` window out of it (torchvision's `RandomCrop(size, padding)`). With the
/// image's own size this is a random shift of up to `padding` pixels.
public struct RandomCrop: Transform {
    public let height: Int
    public let width: Int
    public let padding: Int
    public let fill: Float

    public init(_ size: Int, padding: Int = 0, fill: Float = 0) {
        self.init(height: size, width: size, padding: padding, fill: fill)
    }

    public init(height: Int, width: Int, padding: Int = 0, fill: Float = 0) {
        require(height > 0 && width > 0 && padding >= 0,
                "RandomCrop: size must be positive and padding non-negative, got \(height)×\(width), padding \(padding)")
        (self.height, self.width, self.padding, self.fill) = (height, width, padding, fill)
    }

    public func callAsFunction(_ batch: Tensor, using generator: inout RandomGenerator) -> Tensor {
        let (count, channels, inHeight, inWidth) = imageBatchShape(batch, "RandomCrop")
        let (paddedHeight, paddedWidth) = (inHeight + 2 * padding, inWidth + 2 * padding)
        require(height <= paddedHeight && width <= paddedWidth,
                "RandomCrop: a \(height)×\(width) crop does not fit \(inHeight)×\(inWidth) images padded by \(padding)")
        // Offsets of the window's corner in input coordinates (negative: inside the padding).
        let offsets = (0..<count).map { _ in
            (Int(generator.next() % UInt64(paddedHeight - height + 1)) - padding,
             Int(generator.next() % UInt64(paddedWidth - width + 1)) - padding)
        }
        var output = Tensor.full([count, channels, height, width], value: fill)
        batch.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { result in
                for image in 0..<count {
                    let (top, left) = offsets[image]
                    // The window's columns that land on real pixels.
                    let firstColumn = max(0, -left), endColumn = min(width, inWidth - left)
                    guard firstColumn < endColumn else { continue }
                    for channel in 0..<channels {
                        let plane = (image * channels + channel)
                        for row in 0..<height {
                            let sourceRow = top + row
                            guard sourceRow >= 0 && sourceRow < inHeight else { continue }
                            let source = input.baseAddress! + (plane * inHeight + sourceRow) * inWidth + left
                            let destination = result.baseAddress! + (plane * height + row) * width
                            (destination + firstColumn).update(from: source + firstColumn, count: endColumn - firstColumn)
                        }
                    }
                }
            }
        }
        return output
    }
}

/// One image's affine warp about its centre: rotate by `degrees` (counter-clockwise on screen),
/// scale by `scale`, then shift by `shift` pixels (x right, y down).
public struct AffineWarp: Sendable {
    public var degrees: Float
    public var shift: (x: Float, y: Float)
    public var scale: Float

    public init(degrees: Float = 0, shift: (x: Float, y: Float) = (0, 0), scale: Float = 1) {
        require(scale > 0, "AffineWarp: scale must be positive, got \(scale)")
        (self.degrees, self.shift, self.scale) = (degrees, shift, scale)
    }

    /// Warps image i of `batch` [N, C, H, W] by `warps[i]`, sampling bilinearly; pixels that come
    /// from outside the image get `fill`.
    public static func apply(_ warps: [AffineWarp], to batch: Tensor, fill: Float = 0) -> Tensor {
        let (count, channels, height, width) = imageBatchShape(batch, "AffineWarp.apply")
        require(warps.count == count, "AffineWarp.apply: \(warps.count) warps for \(count) images")
        let (centerX, centerY) = (Float(width - 1) / 2, Float(height - 1) / 2)
        var output = Tensor.zeros([count, channels, height, width])
        batch.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { result in
                for (image, warp) in warps.enumerated() {
                    // The inverse map, output pixel → input point: R(−θ)/s · (p − c − t) + c, where a
                    // counter-clockwise turn on screen (y down) is clockwise in (x, y).
                    let angle = warp.degrees * .pi / 180
                    let (cosine, sine) = (cos(angle) / warp.scale, sin(angle) / warp.scale)
                    for y in 0..<height {
                        for x in 0..<width {
                            let (dx, dy) = (Float(x) - centerX - warp.shift.x, Float(y) - centerY - warp.shift.y)
                            let sourceX = cosine * dx - sine * dy + centerX
                            let sourceY = sine * dx + cosine * dy + centerY
                            let (x0, y0) = (Int(sourceX.rounded(.down)), Int(sourceY.rounded(.down)))
                            let (fx, fy) = (sourceX - Float(x0), sourceY - Float(y0))
                            // Which of the four neighbours lie inside the image is the same for every channel.
                            let rows = (y0 >= 0 && y0 < height, y0 + 1 >= 0 && y0 + 1 < height)
                            let columns = (x0 >= 0 && x0 < width, x0 + 1 >= 0 && x0 + 1 < width)
                            for channel in 0..<channels {
                                let plane = input.baseAddress! + (image * channels + channel) * height * width
                                let corner = plane + y0 * width + x0  // only dereferenced where inside
                                let topLeft = rows.0 && columns.0 ? corner[0] : fill
                                let topRight = rows.0 && columns.1 ? corner[1] : fill
                                let bottomLeft = rows.1 && columns.0 ? corner[width] : fill
                                let bottomRight = rows.1 && columns.1 ? corner[width + 1] : fill
                                let top = topLeft + (topRight - topLeft) * fx
                                let bottom = bottomLeft + (bottomRight - bottomLeft) * fx
                                result[((image * channels + channel) * height + y) * width + x] = top + (bottom - top) * fy
                            }
                        }
                    }
                }
            }
        }
        return output
    }
}

/// A random affine warp per image about its centre: rotation by up to ±`degrees`, a shift of
/// up to `translate` (fractions of width and height, rounded to whole pixels), and scaling
/// drawn from `scale`; pixels are sampled bilinearly and areas from outside the image get
/// `fill`. The default is the "small shift" augmentation: up to 10 % either way.
public struct RandomAffine: Transform {
    public let degrees: Float
    public let translate: (horizontal: Float, vertical: Float)
    public let scale: ClosedRange<Float>
    public let fill: Float

    public init(degrees: Float = 0, translate: (horizontal: Float, vertical: Float) = (0.1, 0.1),
                scale: ClosedRange<Float> = 1...1, fill: Float = 0) {
        require(degrees >= 0 && (0...1).contains(translate.horizontal) && (0...1).contains(translate.vertical) && scale.lowerBound > 0,
                "RandomAffine: needs degrees ≥ 0, translations in [0, 1] and positive scales")
        (self.degrees, self.translate, self.scale, self.fill) = (degrees, translate, scale, fill)
    }

    public func callAsFunction(_ batch: Tensor, using generator: inout RandomGenerator) -> Tensor {
        let (count, _, height, width) = imageBatchShape(batch, "RandomAffine")
        let warps = (0..<count).map { _ in
            let angle = (generator.nextUniform() * 2 - 1) * degrees
            let shiftX = ((generator.nextUniform() * 2 - 1) * translate.horizontal * Float(width)).rounded()
            let shiftY = ((generator.nextUniform() * 2 - 1) * translate.vertical * Float(height)).rounded()
            let factor = scale.lowerBound + generator.nextUniform() * (scale.upperBound - scale.lowerBound)
            return AffineWarp(degrees: angle, shift: (shiftX, shiftY), scale: factor)
        }
        return AffineWarp.apply(warps, to: batch, fill: fill)
    }
}
