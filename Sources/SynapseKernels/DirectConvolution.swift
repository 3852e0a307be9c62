// Direct convolution for stride 1, no dilation, one group: no patch matrix at all.
//
// im2col copies every input value kernelHeight × kernelWidth times and then runs a GEMM over
// the copies; here the micro-kernel broadcasts input pixels straight from a zero-padded copy
// of the image and multiplies them by packed weight vectors. A tile is 14 neighbouring output
// pixels of one row × 32 output channels: 28 SIMD16 accumulators, and with two weight
// vectors and a broadcast that fills AVX-512's 32 vector registers without spilling. Each
// tile turns its accumulators around in registers and writes NCHW rows. Each output sums its
// (channel, kernel row, kernel column) terms in that order, as the im2col GEMM does, and
// images are split over threads, so results do not depend on the thread count.

import CSynapse

/// Output pixels per tile.
private let tilePixels = 14
/// Output channels per tile: two SIMD16 vectors.
private let tileChannels = 32

extension ConvolutionGeometry {
    /// Whether the forward pass and the input gradient run as direct convolutions: stride 1,
    /// no dilation, one group, padding less than the kernel (so the input gradient is a
    /// convolution too) and several input channels. A single input channel (an image's first
    /// layer) has too few terms per output to pay for packing 32-channel tiles: its forward pass
    /// is `SingleChannelConvolution`; a pointwise convolution is a plain GEMM.
    var allowsDirect: Bool {
        strideY == 1 && strideX == 1 && dilationY == 1 && dilationX == 1 && groups == 1 && !isPointwise
            && paddingY < kernelHeight && paddingX < kernelWidth && inChannels >= 4 && outChannels >= 4
    }

    /// The forward pass of one image as a direct convolution.
    var directForward: DirectConvolution {
        DirectConvolution(channels: inChannels, height: height, width: width, outChannels: outChannels,
                          kernelHeight: kernelHeight, kernelWidth: kernelWidth, paddingY: paddingY, paddingX: paddingX)
    }

    /// The input gradient of one image: the output gradient convolved with the kernel rotated
    /// by 180°, input and output channels swapped, padded by kernel − 1 − padding.
    var directBackwardData: DirectConvolution {
        DirectConvolution(channels: outChannels, height: outputHeight, width: outputWidth, outChannels: inChannels,
                          kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                          paddingY: kernelHeight - 1 - paddingY, paddingX: kernelWidth - 1 - paddingX)
    }
}

extension Kernels {
    /// Runs `convolution` on every image of a batch (images `inputStride` and `outputStride`
    /// floats apart), one image per task when there are enough images to keep every thread
    /// busy. The weights are packed once from `weights` as `packWeights` describes.
    static func runDirect(_ convolution: DirectConvolution, batch: Int, input: UnsafePointer<Float>, inputStride: Int,
                          weights: UnsafePointer<Float>, outStride: Int, inStride: Int, flipped: Bool, bias: UnsafePointer<Float>?,
                          output: UnsafeMutablePointer<Float>, outputStride: Int,
                          epilogue: ConvolutionEpilogue = ConvolutionEpilogue()) {
        let blockChannels = convolution.channelBlocks * tileChannels
        let packedWeights = UnsafeMutablePointer<Float>.allocate(capacity: convolution.packedWeightCount + blockChannels)
        defer { packedWeights.deallocate() }
        convolution.packWeights(weights, outStride: outStride, inStride: inStride, flipped: flipped, into: packedWeights)
        let packedBias = packedWeights + convolution.packedWeightCount
        packedBias.update(repeating: 0, count: blockChannels)
        if let bias { packedBias.update(from: bias, count: convolution.outChannels) }
        let tasks = batch >= threadCount ? batch : 1
        parallelFor(tasks) { task in
            let buffer = scratch(.convolution, count: convolution.scratchCount)
            for n in tasks == 1 ? 0..<batch : task..<(task + 1) {
                let image = epilogue.maxPool == nil ? output + n * outputStride : scratch(.convolutionOutput, count: outputStride)
                convolution.run(input: input + n * inputStride, packedWeights: packedWeights, packedBias: packedBias,
                                output: image, scratch: buffer)
                epilogue.apply(to: image, count: outputStride, output: output, image: n)
            }
        }
    }
}

/// A stride-1, undilated, ungrouped convolution of one image with `channels` input planes of
/// height × width, zero padding (paddingY, paddingX) and a kernelHeight × kernelWidth kernel.
struct DirectConvolution {
    let channels: Int, height: Int, width: Int, outChannels: Int
    let kernelHeight: Int, kernelWidth: Int, paddingY: Int, paddingX: Int
    /// Where each term's input pixel lies relative to its output pixel's in the padded image,
    /// in term order; then `gradientTaps` repeats of the first, so that a ragged last group
    /// of weight-gradient taps reads inside the table (its extra sums are dropped).
    let termOffsets: [Int]
    /// Each output pixel's position in the padded image.
    let pixelPositions: [Int32]

    init(channels: Int, height: Int, width: Int, outChannels: Int,
         kernelHeight: Int, kernelWidth: Int, paddingY: Int, paddingX: Int) {
        (self.channels, self.height, self.width, self.outChannels) = (channels, height, width, outChannels)
        (self.kernelHeight, self.kernelWidth, self.paddingY, self.paddingX) = (kernelHeight, kernelWidth, paddingY, paddingX)
        let paddedWidth = width + 2 * paddingX, paddedPlane = (height + 2 * paddingY) * paddedWidth
        let kernelArea = kernelHeight * kernelWidth
        let offsets = (0..<channels * kernelArea).map { step in
            step / kernelArea * paddedPlane + step % kernelArea / kernelWidth * paddedWidth + step % kernelWidth
        }
        termOffsets = offsets + Array(repeating: offsets.first ?? 0, count: gradientTaps)
        let outputWidth = width + 2 * paddingX - kernelWidth + 1
        pixelPositions = (0..<(height + 2 * paddingY - kernelHeight + 1) * outputWidth).map {
            Int32($0 / outputWidth * paddedWidth + $0 % outputWidth)
        }
    }

    var outputHeight: Int { height + 2 * paddingY - kernelHeight + 1 }
    var outputWidth: Int { width + 2 * paddingX - kernelWidth + 1 }
    var paddedWidth: Int { width + 2 * paddingX }
    var paddedPlane: Int { (height + 2 * paddingY) * paddedWidth }
    /// Terms per output: one per (input channel, kernel row, kernel column).
    var steps: Int { channels * kernelHeight * kernelWidth }
    var channelBlocks: Int { (outChannels + tileChannels - 1) / tileChannels }
    /// Floats of packed weights: `steps` vectors of 32 output channels per block.
    var packedWeightCount: Int { channelBlocks * steps * tileChannels }
    /// A ragged last tile reads up to a tile's width past the last padded row, and `pad`
    /// writes whole vectors, up to 15 floats past a plane.
    var slack: Int { tilePixels + kernelWidth + PanelVector.scalarCount }
    /// Floats of per-thread scratch: the padded image.
    var scratchCount: Int { channels * paddedPlane + slack }

    /// Packs weights for `run`: the term (o, c, ky, kx) is weights[o · outStride + c · inStride
    /// + ky' · kernelWidth + kx'], where (ky', kx') is (ky, kx), or the kernel rotated by 180°
    /// when `flipped`. Output channels past `outChannels` get zeros.
    func packWeights(_ weights: UnsafePointer<Float>, outStride: Int, inStride: Int, flipped: Bool,
                     into packed: UnsafeMutablePointer<Float>) {
        packed.update(repeating: 0, count: packedWeightCount)
        for o in 0..<outChannels {
            let block = o / tileChannels, lane = o % tileChannels
            for c in 0..<channels {
                for ky in 0..<kernelHeight {
                    for kx in 0..<kernelWidth {
                        let sourceY = flipped ? kernelHeight - 1 - ky : ky, sourceX = flipped ? kernelWidth - 1 - kx : kx
                        let step = (c * kernelHeight + ky) * kernelWidth + kx
                        packed[(block * steps + step) * tileChannels + lane] =
                            weights[o * outStride + c * inStride + sourceY * kernelWidth + sourceX]
                    }
                }
            }
        }
    }

    /// Copies the image into `padded` (channels planes of the padded size, then `slack` zeros)
    /// with a zero border.
    func pad(_ input: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        // Whole padded rows as vectors: clearing the planes and then copying rows one call
        // each had cost a twentieth of the convolution.
        for c in 0..<channels {
            synapse_pad_plane(input + c * height * width, Int32(height), Int32(width), padded + c * paddedPlane,
                              Int32(height + 2 * paddingY), Int32(paddedWidth), Int32(paddingY), Int32(paddingX))
        }
        (padded + channels * paddedPlane).update(repeating: 0, count: slack)
    }

    /// output (outChannels planes of outputHeight × outputWidth) = the convolution of `input`
    /// (channels planes of height × width) with weights packed by `packWeights`, plus
    /// `packedBias` (one float per output channel, zero-padded to whole 32-channel blocks).
    func run(input: UnsafePointer<Float>, packedWeights: UnsafePointer<Float>, packedBias: UnsafePointer<Float>,
             output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let padded = scratch
        pad(input, into: padded)
        let plane = outputHeight * outputWidth
        termOffsets.withUnsafeBufferPointer { offsets in
            for block in 0..<channelBlocks {
                let weights = packedWeights + block * steps * tileChannels
                for y in 0..<outputHeight {
                    var x = 0
                    while x < outputWidth {
                        convolutionTile(input: padded + y * paddedWidth + x, weights: weights, offsets: offsets.baseAddress!,
                                        steps: steps, bias: packedBias + block * tileChannels,
                                        output: output + block * tileChannels * plane + y * outputWidth + x, channelStride: plane,
                                        channels: min(tileChannels, outChannels - block * tileChannels),
                                        pixels: min(tilePixels, outputWidth - x))
                        x += tilePixels
                    }
                }
            }
        }
    }
}

/// 14 output pixels × 32 output channels: output[o · channelStride + i] = Σ over the steps of
/// input[offsets[step] + i] · weights[step · 32 + o], plus bias[o], for i < pixels and o < channels.
private func convolutionTile(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, offsets: UnsafePointer<Int>, steps: Int,
                             bias: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, channelStride: Int, channels: Int,
                             pixels: Int) {
    var a00 = PanelVector(), a01 = PanelVector()
    var a10 = PanelVector(), a11 = PanelVector()
    var a20 = PanelVector(), a21 = PanelVector()
    var a30 = PanelVector(), a31 = PanelVector()
    var a40 = PanelVector(), a41 = PanelVector()
    var a50 = PanelVector(), a51 = PanelVector()
    var a60 = PanelVector(), a61 = PanelVector()
    var a70 = PanelVector(), a71 = PanelVector()
    var a80 = PanelVector(), a81 = PanelVector()
    var a90 = PanelVector(), a91 = PanelVector()
    var a100 = PanelVector(), a101 = PanelVector()
    var a110 = PanelVector(), a111 = PanelVector()
    var a120 = PanelVector(), a121 = PanelVector()
    var a130 = PanelVector(), a131 = PanelVector()
    // One flat loop over the terms, each at a precomputed offset: nested channel and kernel
    // loops made the compiler spill accumulators at every inner-loop boundary.
    var w = UnsafeRawPointer(weights)
    for step in 0..<steps {
        let p = input + offsets[step]
        let w0 = w.loadUnaligned(as: PanelVector.self), w1 = w.loadUnaligned(fromByteOffset: 64, as: PanelVector.self)
        var x: PanelVector
        x = PanelVector(repeating: p[0]); a00 = multiplyAdd(a00, x, w0); a01 = multiplyAdd(a01, x, w1)
        x = PanelVector(repeating: p[1]); a10 = multiplyAdd(a10, x, w0); a11 = multiplyAdd(a11, x, w1)
        x = PanelVector(repeating: p[2]); a20 = multiplyAdd(a20, x, w0); a21 = multiplyAdd(a21, x, w1)
        x = PanelVector(repeating: p[3]); a30 = multiplyAdd(a30, x, w0); a31 = multiplyAdd(a31, x, w1)
        x = PanelVector(repeating: p[4]); a40 = multiplyAdd(a40, x, w0); a41 = multiplyAdd(a41, x, w1)
        x = PanelVector(repeating: p[5]); a50 = multiplyAdd(a50, x, w0); a51 = multiplyAdd(a51, x, w1)
        x = PanelVector(repeating: p[6]); a60 = multiplyAdd(a60, x, w0); a61 = multiplyAdd(a61, x, w1)
        x = PanelVector(repeating: p[7]); a70 = multiplyAdd(a70, x, w0); a71 = multiplyAdd(a71, x, w1)
        x = PanelVector(repeating: p[8]); a80 = multiplyAdd(a80, x, w0); a81 = multiplyAdd(a81, x, w1)
        x = PanelVector(repeating: p[9]); a90 = multiplyAdd(a90, x, w0); a91 = multiplyAdd(a91, x, w1)
        x = PanelVector(repeating: p[10]); a100 = multiplyAdd(a100, x, w0); a101 = multiplyAdd(a101, x, w1)
        x = PanelVector(repeating: p[11]); a110 = multiplyAdd(a110, x, w0); a111 = multiplyAdd(a111, x, w1)
        x = PanelVector(repeating: p[12]); a120 = multiplyAdd(a120, x, w0); a121 = multiplyAdd(a121, x, w1)
        x = PanelVector(repeating: p[13]); a130 = multiplyAdd(a130, x, w0); a131 = multiplyAdd(a131, x, w1)
        w += 2 * MemoryLayout<PanelVector>.stride
    }
    let biasLow = UnsafeRawPointer(bias).loadUnaligned(as: PanelVector.self)
    let biasHigh = UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 64, as: PanelVector.self)
    // Accumulator pixel i holds 16 channels of pixel i: transposed, each row is a channel's pixels.
    let zero = PanelVector()
    storeTransposed((a00 + biasLow, a10 + biasLow, a20 + biasLow, a30 + biasLow, a40 + biasLow, a50 + biasLow, a60 + biasLow,
                     a70 + biasLow, a80 + biasLow, a90 + biasLow, a100 + biasLow, a110 + biasLow, a120 + biasLow, a130 + biasLow,
                     zero, zero),
                    rows: min(channels, 16), into: output, ldc: channelStride, columns: pixels, addToC: false)
    if channels > 16 {
        storeTransposed((a01 + biasHigh, a11 + biasHigh, a21 + biasHigh, a31 + biasHigh, a41 + biasHigh, a51 + biasHigh, a61 + biasHigh,
                         a71 + biasHigh, a81 + biasHigh, a91 + biasHigh, a101 + biasHigh, a111 + biasHigh, a121 + biasHigh, a131 + biasHigh,
                         zero, zero),
                        rows: channels - 16, into: output + 16 * channelStride, ldc: channelStride, columns: pixels, addToC: false)
    }
}

extension DirectConvolution {
    /// Floats of per-thread scratch for `accumulateWeightGradient`: the padded image and the
    /// output gradient channels-last.
    var gradientScratchCount: Int {
        channels * paddedPlane + slack + outputHeight * outputWidth * channelBlocks * tileChannels
    }

    /// partial[(block · steps + step) · 32 + lane] += Σ over output pixels of gradOutput[o, pixel] ·
    /// (padded input at the pixel shifted by the step's kernel offset), for output channel
    /// o = block · 32 + lane: the weight gradient of one image, in `packWeights`' layout.
    func accumulateWeightGradient(input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                  into partial: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let padded = scratch
        pad(input, into: padded)
        let pixels = outputHeight * outputWidth, gradientStride = channelBlocks * tileChannels
        let gradients = padded + channels * paddedPlane + slack
        if outChannels < gradientStride { gradients.update(repeating: 0, count: pixels * gradientStride) }
        Kernels.transpose(gradOutput, sourceStride: pixels, rows: outChannels, columns: pixels,
                          into: gradients, destinationStride: gradientStride)
        termOffsets.withUnsafeBufferPointer { offsets in
            pixelPositions.withUnsafeBufferPointer { positions in
                for first in stride(from: 0, to: steps, by: gradientTaps) {
                    for block in 0..<channelBlocks {
                        let gradients = gradients + block * tileChannels, partial = partial + (block * steps + first) * tileChannels
                        let offsets = offsets.baseAddress! + first, taps = min(gradientTaps, steps - first)
                        // A 3 × 3 kernel's nine taps are one channel's three rows of three neighbours.
                        if kernelHeight == 3 && kernelWidth == 3 {
                            gradientTile(ThreeRowsOfThree.self, input: padded, positions: positions.baseAddress!, pixels: pixels,
                                         offsets: offsets, gradients: gradients, gradientStride: gradientStride, partial: partial, taps: taps)
                        } else {
                            gradientTile(AnyTaps.self, input: padded, positions: positions.baseAddress!, pixels: pixels,
                                         offsets: offsets, gradients: gradients, gradientStride: gradientStride, partial: partial, taps: taps)
                        }
                    }
                }
            }
        }
    }

    /// weights[o · steps + step] = packed[(block · steps + step) · 32 + lane] for o = block · 32 + lane:
    /// `packWeights`' layout back to [out, in, kernel rows, kernel columns].
    func unpackWeights(_ packed: UnsafePointer<Float>, into weights: UnsafeMutablePointer<Float>) {
        for block in 0..<channelBlocks {
            Kernels.transpose(packed + block * steps * tileChannels, sourceStride: tileChannels, rows: steps,
                              columns: min(tileChannels, outChannels - block * tileChannels),
                              into: weights + block * tileChannels * steps, destinationStride: steps)
        }
    }
}

/// Kernel taps per weight-gradient tile: nine taps × 32 output channels make 18 accumulators.
private let gradientTaps = 9

/// Where a weight-gradient tile's nine taps lie relative to each other.
private protocol TapLayout { static var isThreeRowsOfThree: Bool { get } }
/// Any nine offsets: each tap needs its own offset register.
private enum AnyTaps: TapLayout { static var isThreeRowsOfThree: Bool { false } }
/// Taps 3r + 1 and 3r + 2 are the floats right after tap 3r (one channel of a 3 × 3 kernel):
/// three row pointers and constant displacements address all nine, leaving registers free.
private enum ThreeRowsOfThree: TapLayout { static var isThreeRowsOfThree: Bool { true } }

/// partial[t · 32 + o] += Σ over pixels of input[positions[pixel] + offsets[t]] · gradients[pixel · gradientStride + o]
/// for t < taps and o < 32.
private func gradientTile<Layout: TapLayout>(_ layout: Layout.Type, input: UnsafePointer<Float>, positions: UnsafePointer<Int32>,
                                             pixels: Int, offsets: UnsafePointer<Int>, gradients: UnsafePointer<Float>,
                                             gradientStride: Int, partial: UnsafeMutablePointer<Float>, taps: Int) {
    var a00 = PanelVector(), a01 = PanelVector()
    var a10 = PanelVector(), a11 = PanelVector()
    var a20 = PanelVector(), a21 = PanelVector()
    var a30 = PanelVector(), a31 = PanelVector()
    var a40 = PanelVector(), a41 = PanelVector()
    var a50 = PanelVector(), a51 = PanelVector()
    var a60 = PanelVector(), a61 = PanelVector()
    var a70 = PanelVector(), a71 = PanelVector()
    var a80 = PanelVector(), a81 = PanelVector()
    let o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3], o4 = offsets[4], o5 = offsets[5], o6 = offsets[6], o7 = offsets[7], o8 = offsets[8]
    var g = UnsafeRawPointer(gradients)
    let gradientBytes = gradientStride * MemoryLayout<Float>.stride
    for pixel in 0..<pixels {
        let p = input + Int(positions[pixel])
        let g0 = g.loadUnaligned(as: PanelVector.self), g1 = g.loadUnaligned(fromByteOffset: 64, as: PanelVector.self)
        let row0 = p + o0, row1 = p + o3, row2 = p + o6
        let three = Layout.isThreeRowsOfThree
        var x: PanelVector
        x = PanelVector(repeating: row0[0]); a00 = multiplyAdd(a00, x, g0); a01 = multiplyAdd(a01, x, g1)
        x = PanelVector(repeating: three ? row0[1] : p[o1]); a10 = multiplyAdd(a10, x, g0); a11 = multiplyAdd(a11, x, g1)
        x = PanelVector(repeating: three ? row0[2] : p[o2]); a20 = multiplyAdd(a20, x, g0); a21 = multiplyAdd(a21, x, g1)
        x = PanelVector(repeating: row1[0]); a30 = multiplyAdd(a30, x, g0); a31 = multiplyAdd(a31, x, g1)
        x = PanelVector(repeating: three ? row1[1] : p[o4]); a40 = multiplyAdd(a40, x, g0); a41 = multiplyAdd(a41, x, g1)
        x = PanelVector(repeating: three ? row1[2] : p[o5]); a50 = multiplyAdd(a50, x, g0); a51 = multiplyAdd(a51, x, g1)
        x = PanelVector(repeating: row2[0]); a60 = multiplyAdd(a60, x, g0); a61 = multiplyAdd(a61, x, g1)
        x = PanelVector(repeating: three ? row2[1] : p[o7]); a70 = multiplyAdd(a70, x, g0); a71 = multiplyAdd(a71, x, g1)
        x = PanelVector(repeating: three ? row2[2] : p[o8]); a80 = multiplyAdd(a80, x, g0); a81 = multiplyAdd(a81, x, g1)
        g += gradientBytes
    }
    @inline(__always) func add(_ low: PanelVector, _ high: PanelVector, _ tap: Int) {
        let target = UnsafeMutableRawPointer(partial + tap * tileChannels)
        target.storeBytes(of: low + target.loadUnaligned(as: PanelVector.self), as: PanelVector.self)
        target.storeBytes(of: high + target.loadUnaligned(fromByteOffset: 64, as: PanelVector.self), toByteOffset: 64, as: PanelVector.self)
    }
    if taps > 0 { add(a00, a01, 0) }
    if taps > 1 { add(a10, a11, 1) }
    if taps > 2 { add(a20, a21, 2) }
    if taps > 3 { add(a30, a31, 3) }
    if taps > 4 { add(a40, a41, 4) }
    if taps > 5 { add(a50, a51, 5) }
    if taps > 6 { add(a60, a61, 6) }
    if taps > 7 { add(a70, a71, 7) }
    if taps > 8 { add(a80, a81, 8) }
}
