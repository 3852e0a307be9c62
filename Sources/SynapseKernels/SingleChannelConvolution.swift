// Direct convolution of single-channel images (a network's first layer on grey images), with
// the ReLU and 2×2 max pool that may follow it fused in.
//
// One input channel leaves each output only kernelHeight × kernelWidth terms: too few to pay
// for im2col (a patch matrix nine times the image) and a GEMM nine deep, or for the 32-channel
// tiles of `DirectConvolution`. Here the vector lanes run along an output row: one term of 16
// neighbouring outputs is one load from a zero-padded copy of the image and one multiply-add
// with the weight broadcast, and each loaded vector serves a block of 8 output channels. With
// pooling, each block's two rows are rectified and pooled in registers, so the full-size output
// never reaches memory. Each output is its bias plus its terms in (kernel row, kernel column)
// order, pooled or not, and images are split over threads, so results depend neither on the
// thread count nor on the fusion.

import CSynapse

private typealias RowVector = SIMD16<Float>
private let rowLanes = RowVector.scalarCount
/// Output channels per block: each loaded input vector is multiplied into this many accumulators.
private let blockChannels = 8

extension ConvolutionGeometry {
    /// Whether the forward pass runs as `SingleChannelConvolution`: one input channel, stride 1,
    /// no dilation.
    var allowsSingleChannelDirect: Bool {
        inChannels == 1 && groups == 1 && strideY == 1 && strideX == 1 && dilationY == 1 && dilationX == 1
            && outputHeight > 0 && outputWidth > 0
    }
}

/// The forward pass of a stride-1 convolution of one-channel images.
struct SingleChannelConvolution {
    let geometry: ConvolutionGeometry

    var outputHeight: Int { geometry.outputHeight }
    var outputWidth: Int { geometry.outputWidth }
    /// Row vectors per output row; the last may reach past the row, into padding.
    var segments: Int { (outputWidth + rowLanes - 1) / rowLanes }
    var paddedHeight: Int { geometry.height + 2 * geometry.paddingY }
    /// Wide enough for every input column and for the last segment's loads.
    var paddedWidth: Int { segments * rowLanes + geometry.kernelWidth - 1 }
    /// Floats of the zero-padded copy of one image, with the 16 `synapse_pad_plane` may write past it.
    var paddedCount: Int { paddedHeight * paddedWidth + rowLanes }
    var blocks: Int { (geometry.outChannels + blockChannels - 1) / blockChannels }
    var terms: Int { geometry.kernelHeight * geometry.kernelWidth }
    /// Packed weights ([block][term][8 channels]) and then the bias of every block's channels.
    var packedCount: Int { blocks * blockChannels * (terms + 1) }

    /// Whether `pool` can run inside the kernel: 2×2 windows, stride 2, no padding, over this
    /// convolution's output planes.
    func fuses(_ pool: PoolingGeometry) -> Bool {
        pool.kernelHeight == 2 && pool.kernelWidth == 2 && pool.strideY == 2 && pool.strideX == 2
            && pool.paddingY == 0 && pool.paddingX == 0 && pool.planes == geometry.outChannels
            && pool.height == outputHeight && pool.width == outputWidth
    }

    /// Packs weights [outChannels, 1, kH, kW] and the bias (zero if nil) into `packed`
    /// (`packedCount` floats); channels past the last are zero.
    func pack(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into packed: UnsafeMutablePointer<Float>) {
        packed.update(repeating: 0, count: packedCount)
        for channel in 0..<geometry.outChannels {
            let (block, lane) = channel.quotientAndRemainder(dividingBy: blockChannels)
            for term in 0..<terms {
                packed[(block * terms + term) * blockChannels + lane] = weight[channel * terms + term]
            }
            if let bias { packed[blocks * blockChannels * terms + channel] = bias[channel] }
        }
    }

    /// Writes image `input`'s output planes [outChannels, outputHeight, outputWidth] to
    /// `output`, rectified if `rectify`.
    func forward(_ input: UnsafePointer<Float>, packed: UnsafePointer<Float>, padded: UnsafeMutablePointer<Float>,
                 rectify: Bool, output: UnsafeMutablePointer<Float>) {
        pad(input, into: padded)
        let plane = outputHeight * outputWidth
        var y = 0
        while y < outputHeight {
            let pair = y + 1 < outputHeight
            for segment in 0..<segments {
                let column = segment * rowLanes, count = min(rowLanes, outputWidth - column)
                let row = UnsafePointer(padded) + y * paddedWidth + column
                for block in 0..<blocks {
                    let first = block * blockChannels
                    let channels = min(blockChannels, geometry.outChannels - first)
                    let target = output + first * plane + y * outputWidth + column
                    func write(_ sums: BlockSums, _ target: UnsafeMutablePointer<Float>) {
                        sums.forEach(upTo: channels) { lane, value in
                            store(rectify ? rectified(value) : value, target + lane * plane, count: count)
                        }
                    }
                    if pair {
                        let (upper, lower) = pairSums(row, block: block, packed: packed)
                        write(upper, target)
                        write(lower, target + outputWidth)
                    } else {
                        write(blockSums(row, block: block, packed: packed), target)
                    }
                }
            }
            y += pair ? 2 : 1
        }
    }

    /// Writes image `input`'s output, rectified if `rectify`, then max-pooled 2×2 with stride 2
    /// ([outChannels, outputHeight / 2, outputWidth / 2]) to `output`. The pooling in registers
    /// does not propagate NaN, so images whose output could hold a NaN or an infinity (a
    /// non-finite input, or one so large that a sum might overflow, given `bound`) are left
    /// alone and false is returned: the caller redoes them through `maxPoolForward`, which
    /// propagates NaN as PyTorch does.
    func forwardPooled(_ input: UnsafePointer<Float>, packed: UnsafePointer<Float>, bound: OutputBound,
                       padded: UnsafeMutablePointer<Float>, rectify: Bool, output: UnsafeMutablePointer<Float>) -> Bool {
        guard bound.isFinite(forInputsUpTo: largestMagnitude(input, count: geometry.height * geometry.width)) else { return false }
        pad(input, into: padded)
        let (pooledHeight, pooledWidth) = (outputHeight / 2, outputWidth / 2)
        let plane = pooledHeight * pooledWidth
        for pooledRow in 0..<pooledHeight {
            for segment in 0..<segments {
                let column = segment * rowLanes / 2, count = min(rowLanes / 2, pooledWidth - column)
                guard count > 0 else { continue }
                let top = UnsafePointer(padded) + 2 * pooledRow * paddedWidth + segment * rowLanes
                for block in 0..<blocks {
                    let (upper, lower) = pairSums(top, block: block, packed: packed)
                    let first = block * blockChannels
                    let channels = min(blockChannels, geometry.outChannels - first)
                    let target = output + first * plane + pooledRow * pooledWidth + column
                    upper.forEach(upTo: channels, pairedWith: lower) { lane, top, bottom in
                        let best = synapse_pool_rows16(top, bottom, rectify ? 1 : 0)
                        store(RowVector(lowHalf: best, highHalf: .zero), target + lane * plane, count: count)
                    }
                }
            }
        }
        return true
    }

    /// A bound on the magnitude of any output (and partial sum) for inputs up to a magnitude.
    func bound(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?) -> OutputBound {
        var largest = 0.0
        for channel in 0..<geometry.outChannels {
            let biasMagnitude = bias.map { Double(abs($0[channel])) } ?? 0
            let weightMagnitude = (0..<terms).reduce(0.0) { $0 + Double(abs(weight[channel * terms + $1])) }
            let finite = biasMagnitude.isFinite && weightMagnitude.isFinite
            largest = max(largest, finite ? max(biasMagnitude, weightMagnitude) : .infinity)
        }
        return OutputBound(perInput: largest)
    }

    /// Block `block`'s 8 biases in `packed`, after every block's weights.
    private func bias(of block: Int, packed: UnsafePointer<Float>) -> UnsafePointer<Float> {
        packed + blocks * blockChannels * terms + block * blockChannels
    }

    private func pad(_ input: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        synapse_pad_plane(input, Int32(geometry.height), Int32(geometry.width), padded, Int32(paddedHeight),
                          Int32(paddedWidth), Int32(geometry.paddingY), Int32(geometry.paddingX))
    }

    /// The 16 outputs from `row` (the padded image at the outputs' top-left term) of block
    /// `block`'s channels: bias, then one multiply-add per term.
    @inline(__always)
    private func blockSums(_ row: UnsafePointer<Float>, block: Int, packed: UnsafePointer<Float>) -> BlockSums {
        var sums = BlockSums(bias(of: block, packed: packed))
        var weights = packed + block * terms * blockChannels
        for termRow in 0..<geometry.kernelHeight {
            let line = row + termRow * paddedWidth
            for termColumn in 0..<geometry.kernelWidth {
                sums.add(UnsafeRawPointer(line + termColumn).loadUnaligned(as: RowVector.self), times: weights)
                weights += blockChannels
            }
        }
        return sums
    }

    /// `blockSums` of `row` and of the row below it, together: each input vector loaded once
    /// serves both, and sixteen independent sums keep the multiply-adds in flight. Each sum
    /// takes its terms in the same order as `blockSums`.
    @inline(__always)
    private func pairSums(_ row: UnsafePointer<Float>, block: Int, packed: UnsafePointer<Float>) -> (BlockSums, BlockSums) {
        var upper = BlockSums(bias(of: block, packed: packed)), lower = upper
        let weights = packed + block * terms * blockChannels
        let (kernelHeight, kernelWidth) = (geometry.kernelHeight, geometry.kernelWidth)
        @inline(__always) func input(_ inputRow: Int, _ termColumn: Int) -> RowVector {
            UnsafeRawPointer(row + inputRow * paddedWidth + termColumn).loadUnaligned(as: RowVector.self)
        }
        // Input row r is term row r of the upper output and term row r − 1 of the lower one.
        for termColumn in 0..<kernelWidth {
            upper.add(input(0, termColumn), times: weights + termColumn * blockChannels)
        }
        for inputRow in 1..<kernelHeight {
            for termColumn in 0..<kernelWidth {
                let x = input(inputRow, termColumn)
                upper.add(x, times: weights + (inputRow * kernelWidth + termColumn) * blockChannels)
                lower.add(x, times: weights + ((inputRow - 1) * kernelWidth + termColumn) * blockChannels)
            }
        }
        for termColumn in 0..<kernelWidth {
            lower.add(input(kernelHeight, termColumn), times: weights + ((kernelHeight - 1) * kernelWidth + termColumn) * blockChannels)
        }
        return (upper, lower)
    }
}

/// One block's accumulators: 16 neighbouring outputs of one row for each of 8 channels, held
/// as separate values so that they stay in registers.
private struct BlockSums {
    var c0, c1, c2, c3, c4, c5, c6, c7: RowVector

    @inline(__always)
    init(_ start: UnsafePointer<Float>) {
        (c0, c1, c2, c3) = (RowVector(repeating: start[0]), RowVector(repeating: start[1]),
                            RowVector(repeating: start[2]), RowVector(repeating: start[3]))
        (c4, c5, c6, c7) = (RowVector(repeating: start[4]), RowVector(repeating: start[5]),
                            RowVector(repeating: start[6]), RowVector(repeating: start[7]))
    }

    /// Adds `x` times each channel's weight (`weights[0..<8]`).
    @inline(__always)
    mutating func add(_ x: RowVector, times weights: UnsafePointer<Float>) {
        c0 = multiplyAdd(c0, x, RowVector(repeating: weights[0]))
        c1 = multiplyAdd(c1, x, RowVector(repeating: weights[1]))
        c2 = multiplyAdd(c2, x, RowVector(repeating: weights[2]))
        c3 = multiplyAdd(c3, x, RowVector(repeating: weights[3]))
        c4 = multiplyAdd(c4, x, RowVector(repeating: weights[4]))
        c5 = multiplyAdd(c5, x, RowVector(repeating: weights[5]))
        c6 = multiplyAdd(c6, x, RowVector(repeating: weights[6]))
        c7 = multiplyAdd(c7, x, RowVector(repeating: weights[7]))
    }

    /// Calls `body(lane, value)` for the first `channels` (1...8) channels.
    @inline(__always)
    func forEach(upTo channels: Int, _ body: (Int, RowVector) -> Void) {
        body(0, c0)
        if channels > 1 { body(1, c1) }
        if channels > 2 { body(2, c2) }
        if channels > 3 { body(3, c3) }
        if channels > 4 { body(4, c4) }
        if channels > 5 { body(5, c5) }
        if channels > 6 { body(6, c6) }
        if channels > 7 { body(7, c7) }
    }

    /// Calls `body(lane, value, other's value)` for the first `channels` (1...8) channels.
    @inline(__always)
    func forEach(upTo channels: Int, pairedWith other: BlockSums, _ body: (Int, RowVector, RowVector) -> Void) {
        body(0, c0, other.c0)
        if channels > 1 { body(1, c1, other.c1) }
        if channels > 2 { body(2, c2, other.c2) }
        if channels > 3 { body(3, c3, other.c3) }
        if channels > 4 { body(4, c4, other.c4) }
        if channels > 5 { body(5, c5, other.c5) }
        if channels > 6 { body(6, c6, other.c6) }
        if channels > 7 { body(7, c7, other.c7) }
    }
}

/// max(0, x) as `Relu` computes it: negative lanes become +0, −0 and NaN stay.
@inline(__always)
private func rectified(_ x: RowVector) -> RowVector {
    synapse_greater16(RowVector(), x)
}

/// Writes the first `count` (1...16) lanes of `value` to `target`.
@inline(__always)
private func store(_ value: RowVector, _ target: UnsafeMutablePointer<Float>, count: Int) {
    if count == rowLanes {
        UnsafeMutableRawPointer(target).storeBytes(of: value, as: RowVector.self)
    } else {
        synapse_store_prefix16(target, value, Int32(count), 0)
    }
}

/// Bounds the magnitude of a convolution's outputs given its inputs' largest magnitude.
struct OutputBound {
    /// max over channels of max(|bias|, Σ|weights|): an output is at most this times
    /// (1 + the largest input magnitude), less rounding; infinite if a weight is not finite.
    let perInput: Double

    /// Whether inputs of at most `magnitude` (NaN or infinite for non-finite inputs) keep every
    /// sum finite, with a wide margin for rounding.
    func isFinite(forInputsUpTo magnitude: Float) -> Bool {
        magnitude.isFinite && perInput * (1 + Double(magnitude)) <= Double(Float.greatestFiniteMagnitude) / 4
    }
}

/// The largest |x| of `count` floats; infinite or NaN if one of them is not finite.
private func largestMagnitude(_ x: UnsafePointer<Float>, count: Int) -> Float {
    let signless = SIMD16<Int32>(repeating: Int32.max)
    var largest = RowVector(), probe = RowVector()
    var index = 0
    while index < count {
        let value = index + rowLanes <= count ? UnsafeRawPointer(x + index).loadUnaligned(as: RowVector.self)
            : synapse_load_prefix16(x + index, Int32(count - index))
        probe += value - value
        largest = synapse_greater16(unsafeBitCast(unsafeBitCast(value, to: SIMD16<Int32>.self) & signless, to: RowVector.self), largest)
        index += rowLanes
    }
    return largest.max() + probe.sum()
}

extension Kernels {
    /// The forward pass of a one-channel convolution and its epilogue over the batch, one
    /// image per task when there are enough images to keep every thread busy.
    static func singleChannelForward(_ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                     epilogue: ConvolutionEpilogue) {
        let convolution = SingleChannelConvolution(geometry: g)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: convolution.packedCount)
        defer { packed.deallocate() }
        convolution.pack(weight: weight, bias: bias, into: packed)
        let bound = convolution.bound(weight: weight, bias: bias)
        let imageSize = g.outChannels * g.outputPlane
        let fusedPool = epilogue.maxPool.map(convolution.fuses) ?? false
        let pooledSize = epilogue.maxPool.map { $0.planes * $0.outputHeight * $0.outputWidth } ?? imageSize
        let tasks = g.batch >= threadCount ? g.batch : 1
        parallelFor(tasks) { task in
            let padded = scratch(.convolution, count: convolution.paddedCount)
            for n in tasks == 1 ? 0..<g.batch : task..<(task + 1) {
                let image = input + n * g.inputPlane
                if epilogue.maxPool == nil {
                    convolution.forward(image, packed: packed, padded: padded, rectify: epilogue.rectify,
                                        output: output + n * imageSize)
                    continue
                }
                if fusedPool && convolution.forwardPooled(image, packed: packed, bound: bound, padded: padded,
                                                          rectify: epilogue.rectify, output: output + n * pooledSize) {
                    continue
                }
                let values = scratch(.convolutionOutput, count: imageSize)
                convolution.forward(image, packed: packed, padded: padded, rectify: false, output: values)
                epilogue.apply(to: values, count: imageSize, output: output, image: n)
            }
        }
    }
}
