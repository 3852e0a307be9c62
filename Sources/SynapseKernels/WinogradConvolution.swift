// Winograd convolution: Lavin and Gray's minimal filtering F(m×m, r×r), whose Cook–Toom
// matrices turn an r×r filter over an m×m output tile into (m + r − 1)² products instead of
// m²·r². A stride-s convolution whose kernel is s·r wide is first split into its s² phases
// (phase (a, b) sees input pixels ≡ (a, b) mod s and kernel taps ≡ (a, b) mod s), each an
// ordinary stride-1 r×r convolution; the phases become extra input channels. For a DCGAN's
// 4×4 stride-2 layers (r = 2) on 7×7 outputs, F(4×4, 2×2) needs 100 products per channel
// pair and image where im2col + GEMM does 196 (padding included).
//
// All three passes are a transform, one GEMM per transform point (α² of them, α = m + r − 1),
// and an inverse transform: the forward pass multiplies the input's transformed tiles by the
// transformed filters, the input gradient runs the forward pass's adjoint (the transposed
// matrices, in reverse), and the weight gradient multiplies transformed tiles by transformed
// output gradients, summed over every tile of the batch in one GEMM. The gradients are thus
// those of the function computed (the convolution, up to rounding). Transforms work on 16
// channels at a time in channels-last copies of each image, so the GEMMs read rows of
// channels; results do not depend on the thread count.

import CSynapse

extension Kernels {
    /// Whether convolutions that fit `WinogradPlan` run as Winograd convolutions (the default)
    /// rather than as im2col + GEMM. Set it only while no kernel is running; benchmarks turn it
    /// off to compare the two.
    nonisolated(unsafe) public static var allowsWinogradConvolution = true

    /// Whether a convolution of geometry `g` (its forward pass, both gradients, and the
    /// transposed convolution built on it) runs as a Winograd convolution.
    public static func runsAsWinogradConvolution(_ g: ConvolutionGeometry) -> Bool { WinogradPlan(g) != nil }
}

/// How a convolution runs as phases of Winograd F(m×m, r×r): the tiling and the sizes of the
/// per-point GEMMs.
struct WinogradPlan {
    let geometry: ConvolutionGeometry
    /// The stride; each of its s² phases is a stride-1 convolution.
    let stride: Int
    /// r: each phase's kernel is r×r.
    let filterSize: Int
    /// m: outputs per tile side.
    let tileSize: Int
    let tilesY: Int, tilesX: Int

    /// α = m + r − 1: the transformed tile's side.
    var pointSide: Int { tileSize + filterSize - 1 }
    /// α²: the number of per-point GEMMs.
    var points: Int { pointSide * pointSide }
    var tilesPerImage: Int { tilesY * tilesX }
    /// Rows of each GEMM: every tile of the batch.
    var tiles: Int { geometry.batch * tilesPerImage }
    /// The GEMMs' depth: input channels times phases, ordered (phase, channel).
    var depth: Int { geometry.inChannels * stride * stride }
    /// Images per chunk in the forward pass and the input gradient: about 24 tiles (two of the
    /// GEMM micro-kernel's 12-row blocks), whose transformed tiles and products (under 1 MB
    /// for a DCGAN's 256-deep layer) stay in a core's L2 cache from one step to the next.
    var imagesPerChunk: Int { max(1, 24 / tilesPerImage) }
    /// The matrices of F(m, r), built once per tile side.
    var transforms: WinogradTransforms { WinogradTransforms.filterSizeTwo[tileSize - 2] }

    /// Where output tile `tile` of an image starts (row, column).
    func outputOrigin(_ tile: Int) -> (Int32, Int32) {
        (Int32(tile / tilesX * tileSize), Int32(tile % tilesX * tileSize))
    }

    /// The input pixel (row, column) that `phase` of output tile `tile` starts from; the phase
    /// reads every `stride`-th pixel from there.
    func inputOrigin(_ tile: Int, phase: Int) -> (Int32, Int32) {
        let y = stride * (tile / tilesX) * tileSize - geometry.paddingY + phase / stride
        let x = stride * (tile % tilesX) * tileSize - geometry.paddingX + phase % stride
        return (Int32(y), Int32(x))
    }

    /// The plan for `g`, or nil where im2col + GEMM is the better (or the only) way: Winograd
    /// needs square kernels twice the stride (4×4 stride 2, 2×2 stride 1), no dilation or
    /// groups, channel counts in whole 16-lane vectors, and enough channels that the GEMMs
    /// outweigh the transforms. Other filter sizes (r = 3, the 3×3 stride-1 layers) have a
    /// direct kernel that has not been measured against this one, so they keep it.
    init?(_ g: ConvolutionGeometry) {
        let s = g.strideY
        guard Kernels.allowsWinogradConvolution, g.groups == 1, g.dilationY == 1, g.dilationX == 1, g.strideX == s,
              g.kernelHeight == g.kernelWidth, g.kernelHeight == 2 * s,
              g.inChannels % 16 == 0, g.outChannels % 16 == 0, g.inChannels * s * s >= 64, g.outChannels >= 32 else {
            return nil
        }
        geometry = g
        stride = s
        filterSize = 2
        // The tile side with the fewest products over the whole output, α at most `largestPointSide`.
        var best: (m: Int, cost: Int)?
        for m in 2...(WinogradTransforms.largestPointSide + 1 - filterSize) {
            let tiles = ((g.outputHeight + m - 1) / m) * ((g.outputWidth + m - 1) / m)
            let cost = tiles * (m + filterSize - 1) * (m + filterSize - 1)
            if best == nil || cost < best!.cost { best = (m, cost) }
        }
        tileSize = best!.m
        tilesY = (g.outputHeight + tileSize - 1) / tileSize
        tilesX = (g.outputWidth + tileSize - 1) / tileSize
    }
}

/// A small matrix (2 to 6 rows and columns) for the C tile transforms; immutable once built.
final class TileMap: @unchecked Sendable {
    let rows: Int, columns: Int
    private let matrix: UnsafeMutablePointer<Float>

    init(_ values: [[Double]]) {
        rows = values.count
        columns = values[0].count
        precondition((2...6).contains(rows) && (2...6).contains(columns), "TileMap: \(rows)×\(columns) is not 2…6 each way")
        matrix = .allocate(capacity: rows * columns)
        for (i, row) in values.enumerated() {
            for (j, value) in row.enumerated() { matrix[i * columns + j] = Float(value) }
        }
    }

    deinit { matrix.deallocate() }

    /// Valid while this object lives.
    var map: synapse_tile_map { synapse_tile_map(rows: Int32(rows), columns: Int32(columns), matrix: matrix) }
}

/// The matrices of F(m, r) and their transposes: Bᵀ (α×α) maps input tiles to points, G (α×r)
/// filters, Aᵀ (m×α) points to output tiles.
struct WinogradTransforms {
    let input: TileMap, inputAdjoint: TileMap
    let filter: TileMap, filterAdjoint: TileMap
    let output: TileMap, outputAdjoint: TileMap

    /// The largest α plans use: F(4, 2)'s results stray from the exact sums by about 1e-5 of
    /// their size (im2col's by 1e-6), F(5, 2)'s (α = 6) by ten times that.
    static let largestPointSide = 5
    /// F(m, 2) for every tile side m a plan may pick (2 …), built on first use.
    static let filterSizeTwo = (2...(largestPointSide - 1)).map { WinogradTransforms(tileSize: $0, filterSize: 2) }

    /// Cook–Toom: interpolation at α − 1 finite points and at infinity. The points are the
    /// usual small ones (0, ±1, ±2, ±½), in the order that gave F(4, 2) its smallest errors.
    init(tileSize m: Int, filterSize r: Int) {
        let alpha = m + r - 1
        let points = Array([0, 1, -1, -2, 2, 0.5, -0.5][..<(alpha - 1)])
        func product(_ a: [Double], _ b: [Double]) -> [Double] {
            var c = [Double](repeating: 0, count: a.count + b.count - 1)
            for (i, x) in a.enumerated() { for (j, y) in b.enumerated() { c[i + j] += x * y } }
            return c
        }
        var outputMatrix = [[Double]](repeating: [Double](repeating: 0, count: alpha), count: m)
        var filterMatrix = [[Double]](repeating: [Double](repeating: 0, count: r), count: alpha)
        var inputMatrix = [[Double]](repeating: [Double](repeating: 0, count: alpha), count: alpha)
        for (j, p) in points.enumerated() {
            var power = 1.0
            for i in 0..<m { outputMatrix[i][j] = power; power *= p }
            let others = points.enumerated().filter { $0.offset != j }.map(\.element)
            let scale = others.reduce(1.0) { $0 * (p - $1) }
            power = 1
            for k in 0..<r { filterMatrix[j][k] = power / scale; power *= p }
            // Row j of Bᵀ: the coefficients of Π over the other points of (x − point).
            let polynomial = others.reduce([1.0]) { product($0, [-$1, 1]) }
            for (k, c) in polynomial.enumerated() { inputMatrix[j][k] = c }
        }
        outputMatrix[m - 1][alpha - 1] = 1
        filterMatrix[alpha - 1][r - 1] = 1
        for (k, c) in points.reduce([1.0], { product($0, [-$1, 1]) }).enumerated() { inputMatrix[alpha - 1][k] = c }
        func transposed(_ a: [[Double]]) -> [[Double]] { (0..<a[0].count).map { j in a.map { $0[j] } } }
        input = TileMap(inputMatrix)
        inputAdjoint = TileMap(transposed(inputMatrix))
        filter = TileMap(filterMatrix)
        filterAdjoint = TileMap(transposed(filterMatrix))
        output = TileMap(outputMatrix)
        outputAdjoint = TileMap(transposed(outputMatrix))
    }
}

/// Fetches the next image's buffer into the cache a few lines per step of the current one's
/// work. Converting an image between channels-first and channels-last waits on memory for
/// every row of channels; with the rows already fetched it took 0.8 ms per batch of 128
/// DCGAN discriminator inputs instead of 1.3–1.9 ms.
struct ImagePrefetch {
    private let start: UnsafePointer<Float>?, count: Int, share: Int, write: Bool
    private var done = 0

    /// `count` floats from `start` (nothing if nil) over `steps` calls of `step()`.
    init(_ start: UnsafePointer<Float>?, count: Int, steps: Int, write: Bool = false) {
        self.start = start
        self.count = count
        self.write = write
        share = (count / max(steps, 1) + 16) / 16 * 16
    }

    mutating func step() {
        guard let start, done < count else { return }
        synapse_prefetch(start + done, min(share, count - done), write ? 1 : 0)
        done += share
    }
}

extension Kernels {
    /// The forward pass (see `convolutionForward`) as a Winograd convolution, with max(0, ·)
    /// applied to each image while it is in the cache if `rectify`. Chunks of images run on
    /// their own threads from transform to output, so a chunk's transformed tiles and products
    /// stay in the cache between the steps.
    static func winogradForward(_ plan: WinogradPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, rectify: Bool) {
        let g = plan.geometry, transforms = plan.transforms
        let (depth, outChannels, points, tilesPerImage) = (plan.depth, g.outChannels, plan.points, plan.tilesPerImage)
        let filters = scratch(.winogradFilters, count: points * depth * outChannels)
        transformFilters(plan, weight, transforms.filter, into: filters)
        let plane = g.outputPlane
        forEachChunk(plan) { images in
            let tiles = images.count * tilesPerImage
            let transformed = scratch(.winogradTiles, count: tiles * points * depth)
            let products = scratch(.winogradProducts, count: tiles * points * outChannels)
            forEachImage(images, of: input, size: g.inChannels * g.inputPlane) { i, image, next in
                transformInputImage(plan, image, transforms.input, into: transformed + i * tilesPerImage * points * depth,
                                    tileStride: points * depth, pointStride: depth, prefetching: next)
            }
            for q in 0..<points {
                gemm(transposeA: false, transposeB: false, m: tiles, n: outChannels, k: depth,
                     a: transformed + q * depth, lda: points * depth, b: filters + q * depth * outChannels,
                     ldb: outChannels, c: products + q * outChannels, ldc: points * outChannels, accumulate: false)
            }
            let map = transforms.output.map
            for (i, n) in images.enumerated() {
                let image = scratch(.convolution, count: plane * outChannels)
                var ahead = ImagePrefetch(n + 1 < images.upperBound ? output + (n + 1) * outChannels * plane : nil,
                                          count: outChannels * plane, steps: tilesPerImage * outChannels / 16, write: true)
                for tile in 0..<tilesPerImage {
                    let (y0, x0) = plan.outputOrigin(tile)
                    for o in stride(from: 0, to: outChannels, by: 16) {
                        ahead.step()
                        synapse_points_to_tile16(products + ((i * tilesPerImage + tile) * points) * outChannels + o,
                                                 outChannels, map, image + o, g.outputWidth * outChannels, outChannels,
                                                 Int32(g.outputHeight), Int32(g.outputWidth), y0, x0, 1, 0)
                    }
                }
                let values = output + n * outChannels * plane
                transpose(image, sourceStride: outChannels, rows: plane, columns: outChannels, into: values,
                          destinationStride: plane)
                if let bias {
                    for o in 0..<outChannels { binaryRun(Add(), values + o * plane, 1, bias + o, 0, values + o * plane, plane) }
                }
                if rectify { mapContiguous(Relu(), values, values, outChannels * plane) }
            }
        }
    }

    /// The input gradient (see `convolutionBackwardData`) as a Winograd convolution, in chunks
    /// of images as the forward pass.
    static func winogradBackwardData(_ plan: WinogradPlan, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     gradInput: UnsafeMutablePointer<Float>) {
        let g = plan.geometry, transforms = plan.transforms
        let (depth, outChannels, points, tilesPerImage) = (plan.depth, g.outChannels, plan.points, plan.tilesPerImage)
        // Transformed, then each point's depth × outChannels block transposed, so the GEMMs read
        // their right-hand side in place.
        let filters = scratch(.winogradFilters, count: 2 * points * depth * outChannels)
        let transposedFilters = filters + points * depth * outChannels
        transformFilters(plan, weight, transforms.filter, into: filters)
        parallelFor(points) { q in
            transpose(filters + q * depth * outChannels, sourceStride: outChannels, rows: depth, columns: outChannels,
                      into: transposedFilters + q * outChannels * depth, destinationStride: depth)
        }
        let (s, channels, plane) = (plan.stride, g.inChannels, g.inputPlane)
        forEachChunk(plan) { images in
            let tiles = images.count * tilesPerImage
            let gradients = scratch(.winogradProducts, count: tiles * points * outChannels)
            let tileGradients = scratch(.winogradTiles, count: tiles * points * depth)
            forEachImage(images, of: gradOutput, size: outChannels * g.outputPlane) { i, image, next in
                transformGradientImage(plan, image, transforms.outputAdjoint,
                                       into: gradients + i * tilesPerImage * points * outChannels,
                                       tileStride: points * outChannels, pointStride: outChannels, prefetching: next)
            }
            for q in 0..<points {
                gemm(transposeA: false, transposeB: false, m: tiles, n: depth, k: outChannels,
                     a: gradients + q * outChannels, lda: points * outChannels,
                     b: transposedFilters + q * outChannels * depth, ldb: depth,
                     c: tileGradients + q * depth, ldc: points * depth, accumulate: false)
            }
            let map = transforms.inputAdjoint.map
            for (i, n) in images.enumerated() {
                // Tiles overlap, so each image's gradient is summed in a channels-last copy, tile by tile in order.
                let image = scratch(.convolution, count: plane * channels)
                image.update(repeating: 0, count: plane * channels)
                var ahead = ImagePrefetch(n + 1 < images.upperBound ? gradInput + (n + 1) * channels * plane : nil,
                                          count: channels * plane, steps: tilesPerImage * s * s * channels / 16,
                                          write: true)
                for tile in 0..<tilesPerImage {
                    let tilePoints = tileGradients + (i * tilesPerImage + tile) * points * depth
                    for phase in 0..<(s * s) {
                        let (y0, x0) = plan.inputOrigin(tile, phase: phase)
                        for c in stride(from: 0, to: channels, by: 16) {
                            ahead.step()
                            synapse_points_to_tile16(tilePoints + phase * channels + c, depth, map, image + c,
                                                     g.width * channels, channels, Int32(g.height), Int32(g.width),
                                                     y0, x0, Int32(s), 1)
                        }
                    }
                }
                transpose(image, sourceStride: channels, rows: plane, columns: channels,
                          into: gradInput + n * channels * plane, destinationStride: plane)
            }
        }
    }

    /// The weight gradient (see `convolutionBackwardWeight`) as a Winograd convolution. Its
    /// products sum over every tile of the batch, so each point's is one GEMM over the whole
    /// batch, in the same order at any thread count; their operands are stored point by point
    /// ([q, tile, channel]), so packing one reads it front to back rather than a few floats
    /// from every tile's block.
    static func winogradBackwardWeight(_ plan: WinogradPlan, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                       gradWeight: UnsafeMutablePointer<Float>) {
        let g = plan.geometry, transforms = plan.transforms
        let (tiles, depth, outChannels, points, tilesPerImage) = (plan.tiles, plan.depth, g.outChannels, plan.points,
                                                                  plan.tilesPerImage)
        let transformed = scratch(.winogradTiles, count: points * tiles * depth)
        let gradients = scratch(.winogradProducts, count: points * tiles * outChannels)
        forEachChunk(plan) { images in
            let first = images.lowerBound
            forEachImage(images, of: input, size: g.inChannels * g.inputPlane) { i, image, next in
                transformInputImage(plan, image, transforms.input, into: transformed + (first + i) * tilesPerImage * depth,
                                    tileStride: depth, pointStride: tiles * depth, prefetching: next)
            }
            forEachImage(images, of: gradOutput, size: outChannels * g.outputPlane) { i, image, next in
                transformGradientImage(plan, image, transforms.outputAdjoint,
                                       into: gradients + (first + i) * tilesPerImage * outChannels,
                                       tileStride: outChannels, pointStride: tiles * outChannels, prefetching: next)
            }
        }
        // Each point's gradient as [outChannels, depth]: the transformed tiles, the larger operand,
        // are then GEMM's right-hand side, read in place rather than packed.
        let filterGradients = scratch(.winogradFilters, count: points * outChannels * depth)
        for q in 0..<points {
            gemm(transposeA: true, transposeB: false, m: outChannels, n: depth, k: tiles,
                 a: gradients + q * tiles * outChannels, lda: outChannels, b: transformed + q * tiles * depth, ldb: depth,
                 c: filterGradients + q * outChannels * depth, ldc: depth, accumulate: false)
        }
        // Back to taps ([output channel, kernel row, kernel column, channel]), then each output
        // channel's taps transposed into the weight's layout.
        let (s, k, channels, r) = (plan.stride, g.kernelHeight, g.inChannels, Int32(plan.filterSize))
        let taps = scratch(.convolutionOutput, count: outChannels * k * k * channels)
        let map = transforms.filterAdjoint.map
        parallelFor(outChannels) { o in
            for phase in 0..<(s * s) {
                for c in stride(from: 0, to: channels, by: 16) {
                    synapse_points_to_tile16(filterGradients + o * depth + phase * channels + c, outChannels * depth, map,
                                             taps + ((o * k + phase / s) * k + phase % s) * channels + c,
                                             s * k * channels, s * channels, r, r, 0, 0, 1, 0)
                }
            }
            transpose(taps + o * k * k * channels, sourceStride: channels, rows: k * k, columns: channels,
                      into: gradWeight + o * channels * k * k, destinationStride: k * k)
        }
    }

    /// Runs `body(i, image, next)` for the i-th image of `images` in `buffer` (images `size`
    /// floats apart), with `next` the image after it in the range (nil for the last), for the
    /// transforms to prefetch.
    private static func forEachImage(_ images: Range<Int>, of buffer: UnsafePointer<Float>, size: Int,
                                     _ body: (Int, UnsafePointer<Float>, UnsafePointer<Float>?) -> Void) {
        for (i, n) in images.enumerated() {
            body(i, buffer + n * size, n + 1 < images.upperBound ? buffer + (n + 1) * size : nil)
        }
    }

    /// Runs `body(images)` for consecutive chunks of `plan.imagesPerChunk` images, one task each.
    private static func forEachChunk(_ plan: WinogradPlan, _ body: (Range<Int>) -> Void) {
        let batch = plan.geometry.batch, perChunk = plan.imagesPerChunk
        parallelFor((batch + perChunk - 1) / perChunk) { chunk in
            body((chunk * perChunk)..<min(batch, (chunk + 1) * perChunk))
        }
    }

    /// filters[q, (phase, c), o]: point q of the transformed r×r sub-kernel of weight[o, c]
    /// that phase sees.
    private static func transformFilters(_ plan: WinogradPlan, _ weight: UnsafePointer<Float>, _ filter: TileMap,
                                         into filters: UnsafeMutablePointer<Float>) {
        let g = plan.geometry, (s, k, channels, outChannels) = (plan.stride, g.kernelHeight, g.inChannels, g.outChannels)
        let patch = channels * k * k, depth = plan.depth
        // Channels-last taps, so 16 output channels load as one vector.
        let taps = scratch(.convolutionOutput, count: patch * outChannels)
        transpose(weight, sourceStride: patch, rows: outChannels, columns: patch, into: taps, destinationStride: outChannels)
        let map = filter.map, r = Int32(plan.filterSize)
        parallelFor(channels) { c in
            for phase in 0..<(s * s) {
                for o in stride(from: 0, to: outChannels, by: 16) {
                    synapse_tile_to_points16(taps + ((c * k + phase / s) * k + phase % s) * outChannels + o,
                                             s * k * outChannels, s * outChannels, r, r, 0, 0, 1, map,
                                             filters + (phase * channels + c) * outChannels + o, depth * outChannels)
                }
            }
        }
    }

    /// One image's transformed tiles: point q of its tile t of channel c as the phase sees it at
    /// transformed[t · tileStride + q · pointStride + phase · channels + c].
    private static func transformInputImage(_ plan: WinogradPlan, _ input: UnsafePointer<Float>, _ transform: TileMap,
                                            into transformed: UnsafeMutablePointer<Float>, tileStride: Int, pointStride: Int,
                                            prefetching next: UnsafePointer<Float>?) {
        let g = plan.geometry, (s, channels, plane) = (plan.stride, g.inChannels, g.inputPlane)
        let image = scratch(.convolution, count: plane * channels)
        transpose(input, sourceStride: plane, rows: channels, columns: plane, into: image, destinationStride: channels)
        let map = transform.map
        var ahead = ImagePrefetch(next, count: plane * channels, steps: plan.tilesPerImage * s * s * (channels / 16))
        for tile in 0..<plan.tilesPerImage {
            for phase in 0..<(s * s) {
                let (y0, x0) = plan.inputOrigin(tile, phase: phase)
                for c in stride(from: 0, to: channels, by: 16) {
                    ahead.step()
                    synapse_tile_to_points16(image + c, g.width * channels, channels, Int32(g.height), Int32(g.width),
                                             y0, x0, Int32(s), map,
                                             transformed + tile * tileStride + phase * channels + c, pointStride)
                }
            }
        }
    }

    /// One image's transformed output-gradient tiles (through Aᵀ's adjoint): point q of its tile
    /// t of channel o at gradients[t · tileStride + q · pointStride + o].
    private static func transformGradientImage(_ plan: WinogradPlan, _ gradOutput: UnsafePointer<Float>,
                                               _ transform: TileMap, into gradients: UnsafeMutablePointer<Float>,
                                               tileStride: Int, pointStride: Int, prefetching next: UnsafePointer<Float>?) {
        let g = plan.geometry, (outChannels, plane) = (g.outChannels, g.outputPlane)
        let image = scratch(.convolution, count: plane * outChannels)
        transpose(gradOutput, sourceStride: plane, rows: outChannels, columns: plane, into: image, destinationStride: outChannels)
        let map = transform.map
        var ahead = ImagePrefetch(next, count: plane * outChannels, steps: plan.tilesPerImage * (outChannels / 16))
        for tile in 0..<plan.tilesPerImage {
            let (y0, x0) = plan.outputOrigin(tile)
            for o in stride(from: 0, to: outChannels, by: 16) {
                ahead.step()
                synapse_tile_to_points16(image + o, g.outputWidth * outChannels, outChannels, Int32(g.outputHeight),
                                         Int32(g.outputWidth), y0, x0, 1, map, gradients + tile * tileStride + o, pointStride)
            }
        }
    }
}
