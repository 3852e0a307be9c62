// Resampling images to a model's input size.

import SynapseCore

extension Image {
    /// The image resampled to `width`×`height` with a triangle (bilinear) filter whose support
    /// widens when shrinking, so downscaling averages every source pixel instead of skipping
    /// most of them (PIL's antialiased BILINEAR). Each axis is resampled separately.
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        require(newWidth > 0 && newHeight > 0, "Image.resized: size must be positive, got \(newWidth)×\(newHeight)")
        guard newWidth != width || newHeight != height else { return self }
        let columns = Image.resamplingWeights(from: width, to: newWidth)
        let rows = Image.resamplingWeights(from: height, to: newHeight)
        // Horizontal pass into floats, then vertical pass into bytes.
        var horizontal = [Float](repeating: 0, count: height * newWidth * channels)
        for y in 0..<height {
            for (x, taps) in columns.enumerated() {
                for channel in 0..<channels {
                    var sum: Float = 0
                    for (source, weight) in taps { sum += weight * Float(pixels[(y * width + source) * channels + channel]) }
                    horizontal[(y * newWidth + x) * channels + channel] = sum
                }
            }
        }
        var result = [UInt8](repeating: 0, count: newHeight * newWidth * channels)
        for (y, taps) in rows.enumerated() {
            for x in 0..<newWidth {
                for channel in 0..<channels {
                    var sum: Float = 0
                    for (source, weight) in taps { sum += weight * horizontal[(source * newWidth + x) * channels + channel] }
                    result[(y * newWidth + x) * channels + channel] = UInt8(min(max(sum.rounded(), 0), 255))
                }
            }
        }
        return Image(width: newWidth, height: newHeight, channels: channels, pixels: result)
    }

    /// For each output position along an axis, the source positions and normalized weights.
    private static func resamplingWeights(from source: Int, to target: Int) -> [[(Int, Float)]] {
        let scale = Float(source) / Float(target)
        let support = max(scale, 1)
        return (0..<target).map { position in
            let center = (Float(position) + 0.5) * scale - 0.5
            let first = max(0, Int((center - support).rounded(.up)))
            let last = min(source - 1, Int((center + support).rounded(.down)))
            var taps = (first...max(first, last)).map { ($0, max(0, 1 - abs(Float($0) - center) / support)) }
            let total = taps.reduce(0) { $0 + $1.1 }
            if total > 0 {
                taps = taps.map { ($0.0, $0.1 / total) }
            } else {
                taps = [(min(max(Int(center.rounded()), 0), source - 1), 1)]
            }
            return taps
        }
    }
}
