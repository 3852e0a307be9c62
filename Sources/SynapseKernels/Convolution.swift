// 2-D convolution over NCHW buffers: im2col + GEMM, forward and both backward passes (or a
// Winograd convolution, a direct one, where those fit).

import CSynapse

/// The sizes of a 2-D convolution. Weights are laid out [outChannels, inChannels / groups, kernelHeight, kernelWidth].
public struct ConvolutionGeometry: Sendable, Equatable {
    public var batch: Int, inChannels: Int, outChannels: Int
    public var height: Int, width: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideY: Int, strideX: Int
    public var paddingY: Int, paddingX: Int
    public var dilationY: Int, dilationX: Int
    public var groups: Int

    public init(batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int,
                kernelHeight: Int, kernelWidth: Int, strideY: Int = 1, strideX: Int = 1,
                paddingY: Int = 0, paddingX: Int = 0, dilationY: Int = 1, dilationX: Int = 1, groups: Int = 1) {
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideY = strideY
        self.strideX = strideX
        self.paddingY = paddingY
        self.paddingX = paddingX
        self.dilationY = dilationY
        self.dilationX = dilationX
        self.groups = groups
    }

    public var outputHeight: Int { (height + 2 * paddingY - dilationY * (kernelHeight - 1) - 1) / strideY + 1 }
    public var outputWidth: Int { (width + 2 * paddingX - dilationX * (kernelWidth - 1) - 1) / strideX + 1 }
    var groupInChannels: Int { inChannels / groups }
    var groupOutChannels: Int { outChannels / groups }
    /// Rows of the im2col matrix of one group: one per (input channel, kernel row, kernel column).
    var patchSize: Int { groupInChannels * kernelHeight * kernelWidth }
    var outputPlane: Int { outputHeight * outputWidth }
    var inputPlane: Int { height * width }
}

/// Images per weight-gradient chunk. The chunk partial sums are added in a fixed order, so the
/// result does not depend on the thread count; the size is a constant for the same reason.
private let weightGradientChunk = 8

/// What a convolution does to each image's output while it is still in the cache: the layers
/// that follow a convolution at inference (ReLU, then max pooling), fused into it.
public struct ConvolutionEpilogue: Sendable {
    /// Apply max(0, ·).
    public var rectify: Bool
    /// Max-pool the image's planes with this geometry (its `planes` the output channels);
    /// the output then holds the pooled images.
    public var maxPool: PoolingGeometry?

    public init(rectify: Bool = false, maxPool: PoolingGeometry? = nil) {
        self.rectify = rectify
        self.maxPool = maxPool
    }

    /// Applies the epilogue to image `image`'s `count` outputs at `values`; with pooling,
    /// writes the pooled image into `output` (else `values` is already in place there).
    func apply(to values: UnsafeMutablePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>, image: Int) {
        if rectify { mapContiguous(Relu(), values, values, count) }
        if let maxPool {
            let pooled = maxPool.planes * maxPool.outputHeight * maxPool.outputWidth
            // Called from inside an image task, so the pooling runs on this thread.
            Kernels.maxPoolForward(maxPool, input: values, output: output + image * pooled, indices: nil)
        }
    }
}

extension Kernels {
    /// output[n, o] = Σ weight[o] ⋆ input[n] (+ bias[o]) for every image n and output channel o,
    /// then the `epilogue`, applied to each image while its output is in the cache.
    public static func convolutionForward(_ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                          bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                          epilogue: ConvolutionEpilogue = ConvolutionEpilogue()) {
        if epilogue.maxPool == nil, let plan = WinogradPlan(g) {
            winogradForward(plan, input: input, weight: weight, bias: bias, output: output, rectify: epilogue.rectify)
            return
        }
        if g.allowsSingleChannelDirect {
            singleChannelForward(g, input: input, weight: weight, bias: bias, output: output, epilogue: epilogue)
            return
        }
        if g.allowsDirect {
            runDirect(g.directForward, batch: g.batch, input: input, inputStride: g.inChannels * g.inputPlane,
                      weights: weight, outStride: g.patchSize, inStride: g.kernelHeight * g.kernelWidth, flipped: false,
                      bias: bias, output: output, outputStride: g.outChannels * g.outputPlane, epilogue: epilogue)
            return
        }
        // The GEMM wants A one column at a time; giving it Wᵀ once spares a transpose per image.
        let transposedWeight = UnsafeMutablePointer<Float>.allocate(capacity: g.outChannels * g.patchSize)
        defer { transposedWeight.deallocate() }
        for group in 0..<g.groups {
            let offset = group * g.groupOutChannels * g.patchSize
            transpose(weight + offset, sourceStride: g.patchSize, rows: g.groupOutChannels, columns: g.patchSize,
                      into: transposedWeight + offset, destinationStride: g.groupOutChannels)
        }
        let imageSize = g.outChannels * g.outputPlane
        forEachImageGroup(g) { images, columns in
            // Several small images share one GEMM: their patches side by side, then their
            // products copied out to each image's planes.
            let span = images.count * g.outputPlane
            let products = images.count == 1 ? nil : scratch(.convolutionGroup, count: g.outChannels * span)
            // A pooled image is computed in scratch and only its pooled planes are written out.
            func image(_ n: Int) -> UnsafeMutablePointer<Float> {
                epilogue.maxPool == nil ? output + n * imageSize : scratch(.convolutionOutput, count: imageSize)
            }
            for group in 0..<g.groups {
                let first = images.lowerBound
                let x = input + (first * g.inChannels + group * g.groupInChannels) * g.inputPlane
                let w = transposedWeight + group * g.groupOutChannels * g.patchSize
                for (i, n) in images.enumerated() where !g.isPointwise {
                    im2col(g, input + (n * g.inChannels + group * g.groupInChannels) * g.inputPlane,
                           columns + i * g.outputPlane, rowStride: span)
                }
                let patches = g.isPointwise ? x : UnsafePointer(columns)
                let y = products.map { $0 + group * g.groupOutChannels * span } ?? image(first) + group * g.groupOutChannels * g.outputPlane
                gemm(transposeA: true, transposeB: false, m: g.groupOutChannels, n: span, k: g.patchSize,
                     a: w, lda: g.groupOutChannels, b: patches, ldb: span, c: y, ldc: span, accumulate: false)
            }
            for (i, n) in images.enumerated() {
                let values = image(n)
                if let products {
                    copyBlocks(products + i * g.outputPlane, sourceStride: span, values, destinationStride: g.outputPlane,
                               blocks: g.outChannels, blockLength: g.outputPlane)
                }
                if let bias {
                    for o in 0..<g.outChannels {
                        let plane = values + o * g.outputPlane
                        binaryRun(Add(), plane, 1, bias + o, 0, plane, g.outputPlane)
                    }
                }
                epilogue.apply(to: values, count: imageSize, output: output, image: n)
            }
        }
    }

    /// gradInput = the gradient of the convolution with respect to its input (overwritten).
    public static func convolutionBackwardData(_ g: ConvolutionGeometry, gradOutput: UnsafePointer<Float>,
                                               weight: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        if let plan = WinogradPlan(g) {
            winogradBackwardData(plan, gradOutput: gradOutput, weight: weight, gradInput: gradInput)
            return
        }
        if g.allowsDirect {
            // The forward weight's term (input channel c, output channel o) sits at
            // weight[o · patchSize + c · kernelArea]; here c is the output channel.
            runDirect(g.directBackwardData, batch: g.batch, input: gradOutput, inputStride: g.outChannels * g.outputPlane,
                      weights: weight, outStride: g.kernelHeight * g.kernelWidth, inStride: g.patchSize, flipped: true,
                      bias: nil, output: gradInput, outputStride: g.inChannels * g.inputPlane)
            return
        }
        forEachImageGroup(g) { images, columns in
            let span = images.count * g.outputPlane
            let gradients = images.count == 1 ? nil : scratch(.convolutionGroup, count: g.groupOutChannels * span)
            for group in 0..<g.groups {
                let w = weight + group * g.groupOutChannels * g.patchSize
                func gradOutputPlanes(_ n: Int) -> UnsafePointer<Float> {
                    gradOutput + (n * g.outChannels + group * g.groupOutChannels) * g.outputPlane
                }
                func gradInputPlanes(_ n: Int) -> UnsafeMutablePointer<Float> {
                    gradInput + (n * g.inChannels + group * g.groupInChannels) * g.inputPlane
                }
                // Several small images share one GEMM: their output gradients side by side.
                if let gradients {
                    for (i, n) in images.enumerated() {
                        copyBlocks(gradOutputPlanes(n), sourceStride: g.outputPlane, gradients + i * g.outputPlane,
                                   destinationStride: span, blocks: g.groupOutChannels, blockLength: g.outputPlane)
                    }
                }
                // A pointwise convolution (never grouped) has the input gradient for patch gradient.
                gemm(transposeA: true, transposeB: false, m: g.patchSize, n: span, k: g.groupOutChannels,
                     a: w, lda: g.patchSize, b: gradients.map { UnsafePointer($0) } ?? gradOutputPlanes(images.lowerBound),
                     ldb: span, c: g.isPointwise ? gradInputPlanes(images.lowerBound) : columns, ldc: span, accumulate: false)
                for (i, n) in images.enumerated() where !g.isPointwise {
                    col2im(g, columns + i * g.outputPlane, gradInputPlanes(n), rowStride: span)
                }
            }
        }
    }

    /// Runs `body(images, patchScratch)` for consecutive groups of images that cover the batch:
    /// one group per task when there are enough groups to keep every thread busy (each GEMM
    /// then runs on its thread), otherwise all on the calling thread so each GEMM can use the
    /// whole pool. Images whose output plane is small are grouped (`imagesPerGroup`) so that
    /// one GEMM covers them all; the grouping depends only on the geometry, so results do not
    /// depend on the thread count. The scratch holds a group's patches, `span` columns wide.
    private static func forEachImageGroup(_ g: ConvolutionGeometry, _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let perGroup = g.imagesPerGroup
        let groups = (g.batch + perGroup - 1) / perGroup
        let tasks = groups >= threadCount ? groups : 1
        parallelFor(tasks) { task in
            let columns = scratch(.convolution, count: g.patchSize * g.outputPlane * perGroup)
            for group in tasks == 1 ? 0..<groups : task..<(task + 1) {
                body((group * perGroup)..<min(g.batch, (group + 1) * perGroup), columns)
            }
        }
    }

    /// gradWeight (and gradBias, if given) of the convolution, overwritten. Chunks of images
    /// are reduced in parallel and their partial sums added in a fixed order.
    public static func convolutionBackwardWeight(_ g: ConvolutionGeometry, input: UnsafePointer<Float>,
                                                 gradOutput: UnsafePointer<Float>, gradWeight: UnsafeMutablePointer<Float>,
                                                 gradBias: UnsafeMutablePointer<Float>?) {
        if let gradBias { biasGradient(g, gradOutput, gradBias) }
        if let plan = WinogradPlan(g) {
            winogradBackwardWeight(plan, input: input, gradOutput: gradOutput, gradWeight: gradWeight)
            return
        }
        let weightCount = g.outChannels * g.patchSize
        let chunks = (g.batch + weightGradientChunk - 1) / weightGradientChunk
        if g.allowsDirect {
            let direct = g.directForward, partialCount = direct.packedWeightCount
            let partials = UnsafeMutablePointer<Float>.allocate(capacity: chunks * partialCount)
            defer { partials.deallocate() }
            parallelFor(chunks) { chunk in
                let buffer = scratch(.convolution, count: direct.gradientScratchCount)
                let partial = partials + chunk * partialCount
                partial.update(repeating: 0, count: partialCount)
                for n in (chunk * weightGradientChunk)..<min(g.batch, (chunk + 1) * weightGradientChunk) {
                    direct.accumulateWeightGradient(input: input + n * g.inChannels * g.inputPlane,
                                                    gradOutput: gradOutput + n * g.outChannels * g.outputPlane,
                                                    into: partial, scratch: buffer)
                }
            }
            for chunk in 1..<max(chunks, 1) {
                binaryRun(Add(), partials, 1, partials + chunk * partialCount, 1, partials, partialCount)
            }
            direct.unpackWeights(partials, into: gradWeight)
            return
        }
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: chunks * weightCount)
        defer { partials.deallocate() }
        let span = weightGradientChunk * g.outputPlane
        parallelFor(chunks) { chunk in
            let first = chunk * weightGradientChunk, count = min(weightGradientChunk, g.batch - first)
            let columns = scratch(.convolution, count: g.patchSize * span + g.groupOutChannels * span)
            let gradients = columns + g.patchSize * span
            for group in 0..<g.groups {
                // Lay the chunk's patches and output gradients side by side so one GEMM sums over them.
                for i in 0..<count {
                    let n = first + i
                    let x = input + (n * g.inChannels + group * g.groupInChannels) * g.inputPlane
                    if g.isPointwise {
                        copyBlocks(x, sourceStride: g.outputPlane, columns + i * g.outputPlane, destinationStride: span,
                                   blocks: g.patchSize, blockLength: g.outputPlane)
                    } else {
                        im2col(g, x, columns + i * g.outputPlane, rowStride: span)
                    }
                    copyBlocks(gradOutput + (n * g.outChannels + group * g.groupOutChannels) * g.outputPlane,
                               sourceStride: g.outputPlane, gradients + i * g.outputPlane, destinationStride: span,
                               blocks: g.groupOutChannels, blockLength: g.outputPlane)
                }
                let c = partials + chunk * weightCount + group * g.groupOutChannels * g.patchSize
                if g.groupOutChannels >= 32 && g.patchSize >= 256 {
                    // Wide enough that packing both operands for the GEMM micro-kernel costs
                    // less than the dot products' horizontal sums (a DCGAN discriminator's
                    // 64 → 128 channels of 4×4 patches).
                    gemm(transposeA: false, transposeB: true, m: g.groupOutChannels, n: g.patchSize, k: count * g.outputPlane,
                         a: gradients, lda: span, b: columns, ldb: span, c: c, ldc: g.patchSize, accumulate: false)
                } else {
                    gemmDotProducts(m: g.groupOutChannels, n: g.patchSize, k: count * g.outputPlane,
                                    a: gradients, lda: span, b: columns, ldb: span, c: c, ldc: g.patchSize, accumulate: false)
                }
            }
        }
        gradWeight.update(from: partials, count: weightCount)
        for chunk in 1..<max(chunks, 1) {
            binaryRun(Add(), gradWeight, 1, partials + chunk * weightCount, 1, gradWeight, weightCount)
        }
    }

    /// gradBias[o] = Σ over images and pixels of gradOutput[n, o].
    private static func biasGradient(_ g: ConvolutionGeometry, _ gradOutput: UnsafePointer<Float>,
                                     _ gradBias: UnsafeMutablePointer<Float>) {
        let perChannel = UnsafeMutablePointer<Float>.allocate(capacity: g.batch * g.outChannels)
        defer { perChannel.deallocate() }
        reduce(.sum, gradOutput, perChannel, outer: g.batch * g.outChannels, size: g.outputPlane, inner: 1)
        reduce(.sum, perChannel, gradBias, outer: 1, size: g.batch, inner: g.outChannels)
    }
}

/// Output pixels a convolution GEMM should have at least: fewer leave its micro-kernel's tiles
/// part empty and repack the weights for little work. A DCGAN's 7 × 7 planes (49 pixels) then
/// go 8 to a GEMM; 6 (at least 256 columns) made its epoch 3–5 % slower, 16 no faster.
private let minimumGemmColumns = 384

extension ConvolutionGeometry {
    /// Images per GEMM in the forward pass and the input gradient: enough that their output
    /// planes together reach `minimumGemmColumns`, at most 8; 1 for pointwise convolutions,
    /// whose images are their own patches.
    var imagesPerGroup: Int {
        isPointwise ? 1 : min(8, max(1, (minimumGemmColumns + outputPlane - 1) / max(outputPlane, 1)))
    }

    /// A 1×1, stride-1, unpadded convolution needs no im2col: the input planes are the patches.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideY == 1 && strideX == 1 && paddingY == 0 && paddingX == 0
    }

    /// For kernel column j, the output columns whose input column lies inside the image.
    func validColumns(kernelColumn j: Int) -> Range<Int> {
        let offset = j * dilationX - paddingX
        let lower = offset >= 0 ? 0 : (-offset + strideX - 1) / strideX
        let upper = width - offset <= 0 ? 0 : min(outputWidth, (width - offset - 1) / strideX + 1)
        return lower..<max(lower, upper)
    }
}

/// columns[(c, i, j), (y, x)] = input[c, y·sy − py + i·dy, x·sx − px + j·dx], zero outside the image.
/// Row r of the patch matrix starts at columns + r · rowStride.
private func im2col(_ g: ConvolutionGeometry, _ input: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>,
                    rowStride: Int? = nil) {
    let rowStride = rowStride ?? g.outputPlane
    if g.strideY == 1 && g.strideX == 1 && g.outputWidth == g.width {
        return shiftedPlanes(g, input, columns, rowStride: rowStride)
    }
    let ow = g.outputWidth
    // Each input row is copied once into a zero-bordered row, from which every kernel column's
    // outputs are a strided read with no bounds to check: stride 2 (a DCGAN's 4 × 4 layers)
    // takes the even lanes of 16-float loads.
    let paddedWidth = g.width + 2 * g.paddingX
    withUnsafeTemporaryAllocation(of: Float.self, capacity: paddedWidth + 16) { buffer in
        let padded = buffer.baseAddress!
        padded.initialize(repeating: 0, count: paddedWidth + 16)
        for c in 0..<g.groupInChannels {
            for i in 0..<g.kernelHeight {
                let rows = columns + (c * g.kernelHeight + i) * g.kernelWidth * rowStride
                for y in 0..<g.outputHeight {
                    let sourceRow = y * g.strideY - g.paddingY + i * g.dilationY
                    guard sourceRow >= 0 && sourceRow < g.height else {
                        for j in 0..<g.kernelWidth { (rows + j * rowStride + y * ow).update(repeating: 0, count: ow) }
                        continue
                    }
                    copyFloats(input + (c * g.height + sourceRow) * g.width, to: padded + g.paddingX, count: g.width)
                    for j in 0..<g.kernelWidth {
                        let source = padded + j * g.dilationX, target = rows + j * rowStride + y * ow
                        if g.strideX == 1 {
                            copyFloats(source, to: target, count: ow)
                        } else if g.strideX == 2 {
                            var x = 0
                            while x < ow {
                                let pairs = UnsafeRawPointer(source + 2 * x).loadUnaligned(as: SIMD16<Float>.self)
                                synapse_store_prefix16(target + x, SIMD16(lowHalf: pairs.evenHalf, highHalf: .zero),
                                                       Int32(min(8, ow - x)), 0)
                                x += 8
                            }
                        } else {
                            for x in 0..<ow { target[x] = source[x &* g.strideX] }
                        }
                    }
                }
            }
        }
    }
}

/// im2col for stride 1 with output rows as wide as input rows ("same" padding): each patch row
/// is the input plane shifted by the kernel offset, so it is one contiguous copy followed by
/// zeroing the rows and the few columns that fall outside the image, instead of a short copy
/// per output row.
private func shiftedPlanes(_ g: ConvolutionGeometry, _ input: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>,
                           rowStride: Int) {
    let (width, outputPlane) = (g.width, g.outputPlane)
    for c in 0..<g.groupInChannels {
        let plane = input + c * g.inputPlane
        for i in 0..<g.kernelHeight {
            let dy = i * g.dilationY - g.paddingY
            // Output rows whose source row lies inside the image.
            let firstRow = min(max(0, -dy), g.outputHeight), endRow = max(firstRow, min(g.outputHeight, g.height - dy))
            for j in 0..<g.kernelWidth {
                let dx = j * g.dilationX - g.paddingX
                let row = columns + ((c * g.kernelHeight + i) * g.kernelWidth + j) * rowStride
                let shift = dy * width + dx
                // Output position k reads input k + shift; clip to the rows in range and to the
                // input buffer, then zero what is left outside.
                let start = max(firstRow * width, -shift), end = min(endRow * width, g.inputPlane - shift)
                if start < end {
                    (row + start).update(from: plane + start + shift, count: end - start)
                    if start > 0 { row.update(repeating: 0, count: start) }
                    if end < outputPlane { (row + end).update(repeating: 0, count: outputPlane - end) }
                } else {
                    row.update(repeating: 0, count: outputPlane)
                }
                // Columns whose source column wraps into the neighbouring row.
                let zeroColumns = dx > 0 ? (width - min(dx, width))..<width : 0..<min(-dx, width)
                if !zeroColumns.isEmpty {
                    for y in firstRow..<endRow {
                        for x in zeroColumns { row[y * width + x] = 0 }
                    }
                }
            }
        }
    }
}

/// The adjoint of im2col: input[c, y·sy − py + i·dy, x·sx − px + j·dx] += columns[(c, i, j), (y, x)],
/// each input element summed from zero in (i, j) order. Overwrites `input`. Horizontal stride
/// 2 without dilation gathers each row instead of scattering into it, with the same bits
/// (`gathering: false` keeps the scatter, for comparison).
func col2im(_ g: ConvolutionGeometry, _ columns: UnsafePointer<Float>, _ input: UnsafeMutablePointer<Float>,
            rowStride: Int, gathering: Bool = true) {
    if gathering && g.strideX == 2 && g.dilationX == 1 && g.dilationY == 1 && g.kernelHeight <= 16 && g.kernelWidth <= 16 {
        // Stride 2 scatters every other float of a row, a read-modify-write each; gathering
        // each row from its taps writes it once, with the same sums.
        synapse_col2im_stride2(columns, g.kernelHeight * g.kernelWidth * rowStride, rowStride, Int32(g.groupInChannels),
                               Int32(g.kernelHeight), Int32(g.kernelWidth), Int32(g.strideY), Int32(g.paddingY),
                               Int32(g.paddingX), Int32(g.outputHeight), Int32(g.outputWidth), input,
                               Int32(g.height), Int32(g.width))
        return
    }
    input.update(repeating: 0, count: g.groupInChannels * g.inputPlane)
    let ow = g.outputWidth
    for c in 0..<g.groupInChannels {
        for i in 0..<g.kernelHeight {
            for j in 0..<g.kernelWidth {
                let row = columns + ((c * g.kernelHeight + i) * g.kernelWidth + j) * rowStride
                let valid = g.validColumns(kernelColumn: j)
                if valid.isEmpty { continue }
                let columnOffset = j * g.dilationX - g.paddingX
                for y in 0..<g.outputHeight {
                    let sourceRow = y * g.strideY - g.paddingY + i * g.dilationY
                    guard sourceRow >= 0 && sourceRow < g.height else { continue }
                    let target = input + (c * g.height + sourceRow) * g.width + columnOffset
                    let gradient = row + y * ow
                    if g.strideX == 1 {
                        for x in valid { target[x] += gradient[x] }
                    } else {
                        for x in valid { target[x &* g.strideX] += gradient[x] }
                    }
                }
            }
        }
    }
}
