import Foundation
import XCTest
@testable import SynapseKernels

/// Convolution and pooling kernels against direct loops, in float64.
final class ConvolutionTests: XCTestCase {
    override func tearDown() {
        Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount
    }

    private func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(($0 * 7919 + seed * 104_729) % 1999) / 1000 - 1 }
    }

    private let geometries: [ConvolutionGeometry] = [
        ConvolutionGeometry(batch: 2, inChannels: 1, outChannels: 3, height: 6, width: 7, kernelHeight: 3, kernelWidth: 3,
                            paddingY: 1, paddingX: 1),
        ConvolutionGeometry(batch: 3, inChannels: 4, outChannels: 6, height: 9, width: 8, kernelHeight: 3, kernelWidth: 2,
                            strideY: 2, strideX: 3, paddingY: 2, paddingX: 1, dilationY: 2, dilationX: 1, groups: 2),
        ConvolutionGeometry(batch: 9, inChannels: 4, outChannels: 4, height: 5, width: 5, kernelHeight: 1, kernelWidth: 1,
                            groups: 4),
        ConvolutionGeometry(batch: 1, inChannels: 2, outChannels: 5, height: 4, width: 6, kernelHeight: 2, kernelWidth: 3,
                            strideY: 1, strideX: 2, dilationY: 3, dilationX: 1),
        // Stride 1 with output rows as wide as input rows takes im2col's shifted-plane path:
        // fewer output rows than input rows, dilated "same" padding, shifts as wide as the image.
        ConvolutionGeometry(batch: 2, inChannels: 3, outChannels: 2, height: 5, width: 6, kernelHeight: 3, kernelWidth: 1),
        ConvolutionGeometry(batch: 2, inChannels: 4, outChannels: 4, height: 6, width: 4, kernelHeight: 3, kernelWidth: 3,
                            paddingY: 2, paddingX: 2, dilationY: 2, dilationX: 2, groups: 2),
        ConvolutionGeometry(batch: 1, inChannels: 2, outChannels: 3, height: 3, width: 2, kernelHeight: 5, kernelWidth: 5,
                            paddingY: 2, paddingX: 2),
        ConvolutionGeometry(batch: 3, inChannels: 2, outChannels: 2, height: 4, width: 7, kernelHeight: 3, kernelWidth: 5,
                            paddingY: 1, paddingX: 2),
        // Longer patches with groups, and a stride-2 layer with an odd channel count.
        ConvolutionGeometry(batch: 2, inChannels: 8, outChannels: 6, height: 5, width: 7, kernelHeight: 3, kernelWidth: 3,
                            paddingY: 1, paddingX: 1, groups: 2),
        ConvolutionGeometry(batch: 3, inChannels: 5, outChannels: 33, height: 6, width: 6, kernelHeight: 3, kernelWidth: 3,
                            strideY: 2, strideX: 2, paddingY: 1, paddingX: 1),
        // Direct convolutions (stride 1, one group, several channels): a ragged second block of
        // 32 output channels; output rows wider than one 14-pixel tile with a rectangular kernel;
        // no padding (the input gradient then pads by 2); uneven padding on a 5×3 kernel.
        ConvolutionGeometry(batch: 3, inChannels: 5, outChannels: 33, height: 6, width: 6, kernelHeight: 3, kernelWidth: 3,
                            paddingY: 1, paddingX: 1),
        ConvolutionGeometry(batch: 2, inChannels: 4, outChannels: 6, height: 5, width: 17, kernelHeight: 3, kernelWidth: 5,
                            paddingY: 1, paddingX: 2),
        ConvolutionGeometry(batch: 2, inChannels: 6, outChannels: 4, height: 7, width: 9, kernelHeight: 3, kernelWidth: 3),
        ConvolutionGeometry(batch: 1, inChannels: 4, outChannels: 5, height: 8, width: 6, kernelHeight: 5, kernelWidth: 3,
                            paddingY: 2, paddingX: 0),
        // One input channel (direct, lanes along output rows): a ragged second block of 8 output
        // channels over two row vectors with an odd row count; three row vectors and no padding;
        // a pointwise kernel; padding wider than the kernel's reach.
        ConvolutionGeometry(batch: 3, inChannels: 1, outChannels: 12, height: 7, width: 17, kernelHeight: 3, kernelWidth: 5,
                            paddingY: 1, paddingX: 2),
        ConvolutionGeometry(batch: 2, inChannels: 1, outChannels: 9, height: 8, width: 38, kernelHeight: 5, kernelWidth: 5),
        ConvolutionGeometry(batch: 2, inChannels: 1, outChannels: 8, height: 3, width: 5, kernelHeight: 1, kernelWidth: 1),
        ConvolutionGeometry(batch: 1, inChannels: 1, outChannels: 2, height: 2, width: 3, kernelHeight: 2, kernelWidth: 2,
                            paddingY: 2, paddingX: 1),
    ] + ConvolutionTests.winogradGeometries

    /// Winograd convolutions: a DCGAN's 4×4 stride-2 layer (7×7 outputs in 4×4 tiles, the
    /// last ones partly outside; 7 images, so chunks of 6 and 1); uneven padding wider than a phase's reach with outputs of
    /// 5 × 6; a 2×2 stride-1 kernel (one phase, F(m, 2) with another tile size).
    private static let winogradGeometries: [ConvolutionGeometry] = [
        ConvolutionGeometry(batch: 7, inChannels: 16, outChannels: 32, height: 14, width: 14, kernelHeight: 4, kernelWidth: 4,
                            strideY: 2, strideX: 2, paddingY: 1, paddingX: 1),
        ConvolutionGeometry(batch: 3, inChannels: 16, outChannels: 48, height: 9, width: 11, kernelHeight: 4, kernelWidth: 4,
                            strideY: 2, strideX: 2, paddingY: 2, paddingX: 3),
        ConvolutionGeometry(batch: 2, inChannels: 64, outChannels: 32, height: 11, width: 6, kernelHeight: 2, kernelWidth: 2),
    ]

    /// Calls body(n, o, oy, ox, c, i, j, inputIndex, weightIndex) for every in-image tap of the convolution.
    private func forEachTap(_ g: ConvolutionGeometry, _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let cg = g.inChannels / g.groups, og = g.outChannels / g.groups
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                let group = o / og
                for oy in 0..<g.outputHeight {
                    for ox in 0..<g.outputWidth {
                        let out = ((n * g.outChannels + o) * g.outputHeight + oy) * g.outputWidth + ox
                        for c in 0..<cg {
                            for i in 0..<g.kernelHeight {
                                for j in 0..<g.kernelWidth {
                                    let y = oy * g.strideY - g.paddingY + i * g.dilationY
                                    let x = ox * g.strideX - g.paddingX + j * g.dilationX
                                    guard y >= 0, y < g.height, x >= 0, x < g.width else { continue }
                                    let input = ((n * g.inChannels + group * cg + c) * g.height + y) * g.width + x
                                    let weight = ((o * cg + c) * g.kernelHeight + i) * g.kernelWidth + j
                                    body(out, input, weight, o, 0, 0)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    func testForwardAndBackwardMatchDirectLoops() {
        for threads in [1, 2, 3] {
            Kernels.threadCount = threads
            for g in geometries {
                let inputCount = g.batch * g.inChannels * g.height * g.width
                let weightCount = g.outChannels * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth
                let outputCount = g.batch * g.outChannels * g.outputHeight * g.outputWidth
                let x = values(inputCount, seed: 1), w = values(weightCount, seed: 2), bias = values(g.outChannels, seed: 3)
                let dy = values(outputCount, seed: 4)
                var expectedY = [Double](repeating: 0, count: outputCount)
                var expectedDx = [Double](repeating: 0, count: inputCount)
                var expectedDw = [Double](repeating: 0, count: weightCount)
                forEachTap(g) { out, input, weight, _, _, _ in
                    expectedY[out] += Double(x[input]) * Double(w[weight])
                    expectedDx[input] += Double(dy[out]) * Double(w[weight])
                    expectedDw[weight] += Double(dy[out]) * Double(x[input])
                }
                let plane = g.outputHeight * g.outputWidth
                var expectedDb = [Double](repeating: 0, count: g.outChannels)
                for i in 0..<outputCount {
                    let o = (i / plane) % g.outChannels
                    expectedY[i] += Double(bias[o])
                    expectedDb[o] += Double(dy[i])
                }
                var y = [Float](repeating: .nan, count: outputCount)
                var dx = [Float](repeating: .nan, count: inputCount)
                var dw = [Float](repeating: .nan, count: weightCount)
                var db = [Float](repeating: .nan, count: g.outChannels)
                Kernels.convolutionForward(g, input: x, weight: w, bias: bias, output: &y)
                Kernels.convolutionBackwardData(g, gradOutput: dy, weight: w, gradInput: &dx)
                Kernels.convolutionBackwardWeight(g, input: x, gradOutput: dy, gradWeight: &dw, gradBias: &db)
                assertClose(y, expectedY, "forward \(g)")
                assertClose(dx, expectedDx, "backward data \(g)")
                assertClose(dw, expectedDw, "backward weight \(g)")
                assertClose(db, expectedDb, "backward bias \(g)")
            }
        }
    }

    func testDirectConvolutionIsBitwiseIdenticalAcrossThreadCounts() {
        let g = ConvolutionGeometry(batch: 17, inChannels: 6, outChannels: 40, height: 9, width: 16,
                                    kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1)
        XCTAssertTrue(g.allowsDirect)
        let x = values(17 * 6 * 144, seed: 8), w = values(40 * 54, seed: 9), dy = values(17 * 40 * 144, seed: 10)
        assertSameBitsAtEveryThreadCount(g, x: x, w: w, bias: nil, dy: dy)
    }

    /// Small output planes put several images in one GEMM (here 4 × 4 planes, 8 images per
    /// GEMM and a ragged last group of 1); the grouping, and so every bit, is the same at any
    /// thread count, and matches the images computed one by one.
    func testGroupedImagesAreBitwiseIdenticalAcrossThreadCountsAndBatchSizes() {
        let g = ConvolutionGeometry(batch: 17, inChannels: 3, outChannels: 5, height: 8, width: 8,
                                    kernelHeight: 4, kernelWidth: 4, strideY: 2, strideX: 2, paddingY: 1, paddingX: 1)
        XCTAssertEqual(g.imagesPerGroup, 8)
        let x = values(17 * 3 * 64, seed: 14), w = values(5 * 48, seed: 15), bias = values(5, seed: 16)
        let dy = values(17 * 5 * 16, seed: 17)
        let (y0, dx0, _) = assertSameBitsAtEveryThreadCount(g, x: x, w: w, bias: bias, dy: dy)
        // The last image alone (a batch of one) gives its slice of the grouped result.
        var single = g
        single.batch = 1
        var y = [Float](repeating: 0, count: 5 * 16), dx = [Float](repeating: 0, count: 3 * 64)
        Kernels.convolutionForward(single, input: Array(x[(16 * 192)...]), weight: w, bias: bias, output: &y)
        Kernels.convolutionBackwardData(single, gradOutput: Array(dy[(16 * 80)...]), weight: w, gradInput: &dx)
        XCTAssertEqual(y, Array(y0[(16 * 80)...]))
        XCTAssertEqual(dx, Array(dx0[(16 * 192)...]))
    }

    /// col2im gathers rows for horizontal stride 2 and gives the scatter's bits: every kernel
    /// size and padding that reaches past each edge, odd and even widths, rows wider than one
    /// 32-float vector pair, vertical strides 1 to 3, a NaN and an infinity among the columns,
    /// and ±0 (a sum from +0 stays +0 where only −0 reaches).
    func testStrideTwoColumnGatherMatchesTheScatter() {
        var cases = 0
        for (height, width) in [(5, 7), (6, 14), (4, 37), (1, 1), (3, 70)] {
            for kernel in 1...5 {
                for padding in 0..<min(kernel, 3) {
                    for strideY in 1...3 {
                        let g = ConvolutionGeometry(batch: 1, inChannels: 2, outChannels: 1, height: height, width: width,
                                                    kernelHeight: kernel, kernelWidth: kernel, strideY: strideY, strideX: 2,
                                                    paddingY: padding, paddingX: padding)
                        guard g.outputHeight > 0, g.outputWidth > 0 else { continue }
                        let rows = g.patchSize, span = g.outputPlane + 3
                        var columns = values(rows * span, seed: kernel * 10 + padding)
                        columns[0] = -0.0
                        columns[span + 1] = .nan
                        columns[rows * span - 5] = .infinity
                        var gathered = [Float](repeating: 1, count: 2 * g.inputPlane), scattered = gathered
                        col2im(g, columns, &gathered, rowStride: span)
                        col2im(g, columns, &scattered, rowStride: span, gathering: false)
                        XCTAssertEqual(gathered.map(\.bitPattern), scattered.map(\.bitPattern),
                                       "\(height)×\(width), kernel \(kernel), padding \(padding), stride \(strideY)×2")
                        cases += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 100)
    }

    /// Runs the forward pass and both gradients of `g` at 1, 2 and 3 threads, asserts that
    /// every run gives the same bits, and returns the first run's output and gradients.
    @discardableResult
    private func assertSameBitsAtEveryThreadCount(_ g: ConvolutionGeometry, x: [Float], w: [Float], bias: [Float]?,
                                                  dy: [Float], file: StaticString = #filePath,
                                                  line: UInt = #line) -> ([Float], [Float], [Float]) {
        var runs: [([Float], [Float], [Float])] = []
        for threads in [1, 2, 3] {
            Kernels.threadCount = threads
            var y = [Float](repeating: 0, count: dy.count), dx = [Float](repeating: 0, count: x.count)
            var dw = [Float](repeating: 0, count: w.count)
            Kernels.convolutionForward(g, input: x, weight: w, bias: bias, output: &y)
            Kernels.convolutionBackwardData(g, gradOutput: dy, weight: w, gradInput: &dx)
            Kernels.convolutionBackwardWeight(g, input: x, gradOutput: dy, gradWeight: &dw, gradBias: nil)
            runs.append((y, dx, dw))
        }
        for (index, run) in runs.enumerated().dropFirst() {
            XCTAssertEqual(run.0, runs[0].0, "output at \(index + 1) threads", file: file, line: line)
            XCTAssertEqual(run.1, runs[0].1, "input gradient at \(index + 1) threads", file: file, line: line)
            XCTAssertEqual(run.2, runs[0].2, "weight gradient at \(index + 1) threads", file: file, line: line)
        }
        return runs[0]
    }

    /// The Winograd geometries take that path (the float64 loops above check its values), give
    /// the same bits at any thread count, and agree with im2col + GEMM when it is turned off.
    func testWinogradConvolutionIsBitwiseIdenticalAcrossThreadCountsAndMatchesIm2col() {
        for g in Self.winogradGeometries {
            XCTAssertTrue(Kernels.runsAsWinogradConvolution(g), "\(g)")
            if g.batch == 7 { XCTAssertEqual(WinogradPlan(g)?.imagesPerChunk, 6) }
            let x = values(g.batch * g.inChannels * g.inputPlane, seed: 21)
            let w = values(g.outChannels * g.patchSize, seed: 22), bias = values(g.outChannels, seed: 23)
            let dy = values(g.batch * g.outChannels * g.outputPlane, seed: 24)
            let (y, dx, dw) = assertSameBitsAtEveryThreadCount(g, x: x, w: w, bias: bias, dy: dy)
            // A fused ReLU gives the bits of the output rectified afterwards.
            var rectified = [Float](repeating: .nan, count: y.count)
            Kernels.convolutionForward(g, input: x, weight: w, bias: bias, output: &rectified,
                                       epilogue: ConvolutionEpilogue(rectify: true))
            XCTAssertEqual(rectified, y.map { max(0, $0) }, "rectified \(g)")
            Kernels.allowsWinogradConvolution = false
            defer { Kernels.allowsWinogradConvolution = true }
            XCTAssertFalse(Kernels.runsAsWinogradConvolution(g))
            let (y0, dx0, dw0) = assertSameBitsAtEveryThreadCount(g, x: x, w: w, bias: bias, dy: dy)
            assertClose(y, y0.map(Double.init), "forward \(g)")
            assertClose(dx, dx0.map(Double.init), "backward data \(g)")
            assertClose(dw, dw0.map(Double.init), "backward weight \(g)")
            XCTAssertNotEqual(y, y0, "both paths ran, so some sums differ in their last bits")
        }
        // What does not fit keeps im2col (or the direct kernels): 3×3 kernels, a kernel not
        // twice the stride, dilation, groups, and channel counts not in whole 16-lane vectors.
        let layer = Self.winogradGeometries[0]
        var misfits = [ConvolutionGeometry](repeating: layer, count: 5)
        (misfits[0].kernelHeight, misfits[0].kernelWidth) = (3, 3)
        (misfits[1].strideY, misfits[1].strideX) = (1, 1)
        (misfits[2].dilationY, misfits[2].dilationX) = (2, 2)
        misfits[3].groups = 2
        misfits[4].outChannels = 40
        for g in misfits { XCTAssertFalse(Kernels.runsAsWinogradConvolution(g), "\(g)") }
    }

    func testWeightGradientIsBitwiseIdenticalAcrossThreadCounts() {
        let g = ConvolutionGeometry(batch: 20, inChannels: 3, outChannels: 8, height: 12, width: 12,
                                    kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1)
        let x = values(20 * 3 * 144, seed: 5), w = values(8 * 27, seed: 7), dy = values(20 * 8 * 144, seed: 6)
        assertSameBitsAtEveryThreadCount(g, x: x, w: w, bias: nil, dy: dy)
    }

    /// The one-channel kernel with ReLU and 2×2 pooling fused in gives the bits of the three
    /// steps apart, at any thread count: ties between +0 and −0 (a zero channel with bias −0,
    /// a channel ReLU zeroes), an image with a NaN and one so large that its sums may
    /// overflow (both redone by the general pooling path), odd output sizes and a
    /// non-fusable pool.
    func testSingleChannelFusionMatchesTheStepsApart() {
        let g = ConvolutionGeometry(batch: 5, inChannels: 1, outChannels: 11, height: 9, width: 21, kernelHeight: 3,
                                    kernelWidth: 3, paddingY: 1, paddingX: 1)
        XCTAssertTrue(g.allowsSingleChannelDirect)
        // The first image is negative throughout, so the zero channel's interior outputs are −0.
        var x = values(g.batch * g.inputPlane, seed: 11).enumerated().map { index, value in
            index < g.inputPlane ? -abs(value) - 0.25 : (value * 4).rounded() / 4
        }
        x[g.inputPlane + 30] = .nan
        x[2 * g.inputPlane + 5] = 3e37
        var w = values(11 * 9, seed: 12)
        for term in 0..<9 { w[4 * 9 + term] = 0; w[5 * 9 + term] = -abs(w[5 * 9 + term]) }
        var bias = values(11, seed: 13)
        bias[4] = -0.0
        bias[5] = -2
        let imageSize = g.outChannels * g.outputPlane
        var plain = [Float](repeating: 0, count: g.batch * imageSize)
        Kernels.convolutionForward(g, input: x, weight: w, bias: bias, output: &plain)
        for (rectify, poolSize) in [(true, 2), (false, 2), (true, 3)] {
            let pool = PoolingGeometry(planes: g.outChannels, height: g.outputHeight, width: g.outputWidth,
                                       kernelHeight: poolSize, kernelWidth: poolSize, strideY: 2, strideX: 2)
            let pooledSize = g.outChannels * pool.outputHeight * pool.outputWidth
            let steps = rectify ? plain.map { $0 < 0 ? 0 : $0 } : plain
            let expected = referenceMaxPool(PoolingGeometry(planes: g.batch * g.outChannels, height: pool.height, width: pool.width,
                                                            kernelHeight: poolSize, kernelWidth: poolSize, strideY: 2, strideX: 2),
                                            steps)
            XCTAssertTrue(expected[pooledSize..<(2 * pooledSize)].contains { $0.isNaN })
            XCTAssertTrue(expected.contains { $0 == 0 && $0.sign == .minus })
            for threads in [1, 2, 3] {
                Kernels.threadCount = threads
                var fused = [Float](repeating: 0, count: expected.count)
                Kernels.convolutionForward(g, input: x, weight: w, bias: bias, output: &fused,
                                           epilogue: ConvolutionEpilogue(rectify: rectify, maxPool: pool))
                assertBitwiseEqual(fused, expected, "rectify \(rectify), pool \(poolSize), threads \(threads)")
            }
        }
    }

    func testPoolingMatchesDirectLoops() {
        let cases = [
            PoolingGeometry(planes: 3, height: 6, width: 8, kernelHeight: 2, kernelWidth: 2, strideY: 2, strideX: 2),
            // Wide enough for the vectorized 2×2 path, with few distinct values so windows tie.
            PoolingGeometry(planes: 2, height: 4, width: 38, kernelHeight: 2, kernelWidth: 2, strideY: 2, strideX: 2),
            PoolingGeometry(planes: 2, height: 7, width: 5, kernelHeight: 3, kernelWidth: 3, strideY: 2, strideX: 1,
                            paddingY: 1, paddingX: 1),
        ]
        for (caseIndex, g) in cases.enumerated() {
            let x = values(g.planes * g.height * g.width, seed: 7).map { caseIndex == 1 ? ($0 * 2).rounded() : $0 }
            let outputCount = g.planes * g.outputHeight * g.outputWidth
            var maxima = [Float](repeating: 0, count: outputCount), averages = maxima
            var indices = [Int32](repeating: 0, count: outputCount)
            Kernels.maxPoolForward(g, input: x, output: &maxima, indices: &indices)
            var maximaWithoutIndices = maxima.map { _ in Float.nan }
            Kernels.maxPoolForward(g, input: x, output: &maximaWithoutIndices, indices: nil)
            assertBitwiseEqual(maximaWithoutIndices, referenceMaxPool(g, x), "\(g)")
            Kernels.averagePoolForward(g, input: x, output: &averages)
            let dy = values(outputCount, seed: 8)
            var dxMax = [Float](repeating: .nan, count: x.count), dxAverage = dxMax
            Kernels.maxPoolBackward(g, gradOutput: dy, indices: indices, gradInput: &dxMax)
            Kernels.averagePoolBackward(g, gradOutput: dy, gradInput: &dxAverage)
            var expectedDxMax = [Double](repeating: 0, count: x.count), expectedDxAverage = expectedDxMax
            for p in 0..<g.planes {
                for oy in 0..<g.outputHeight {
                    for ox in 0..<g.outputWidth {
                        var best = -Float.infinity, bestIndex = -1, total = 0.0
                        for i in 0..<g.kernelHeight {
                            for j in 0..<g.kernelWidth {
                                let y = oy * g.strideY - g.paddingY + i, xx = ox * g.strideX - g.paddingX + j
                                guard y >= 0, y < g.height, xx >= 0, xx < g.width else { continue }
                                let index = (p * g.height + y) * g.width + xx
                                total += Double(x[index])
                                if x[index] > best { best = x[index]; bestIndex = index }
                            }
                        }
                        let out = (p * g.outputHeight + oy) * g.outputWidth + ox
                        XCTAssertEqual(maxima[out], best)
                        XCTAssertEqual(averages[out], Float(total / Double(g.kernelHeight * g.kernelWidth)), accuracy: 1e-6)
                        expectedDxMax[bestIndex] += Double(dy[out])
                        for i in 0..<g.kernelHeight {
                            for j in 0..<g.kernelWidth {
                                let y = oy * g.strideY - g.paddingY + i, xx = ox * g.strideX - g.paddingX + j
                                guard y >= 0, y < g.height, xx >= 0, xx < g.width else { continue }
                                expectedDxAverage[(p * g.height + y) * g.width + xx] += Double(dy[out]) / Double(g.kernelHeight * g.kernelWidth)
                            }
                        }
                    }
                }
            }
            assertClose(dxMax, expectedDxMax, "max pool backward \(g)")
            assertClose(dxAverage, expectedDxAverage, "average pool backward \(g)")
        }
    }

    func testMaxPoolPropagatesNaNOnTheVectorPath() {
        let g = PoolingGeometry(planes: 1, height: 2, width: 32, kernelHeight: 2, kernelWidth: 2, strideY: 2, strideX: 2)
        var x = (0..<64).map(Float.init)
        x[32 + 7] = .nan  // bottom row, window 3
        var out = [Float](repeating: 0, count: 16), index = [Int32](repeating: 0, count: 16)
        Kernels.maxPoolForward(g, input: x, output: &out, indices: &index)
        XCTAssertTrue(out[3].isNaN)
        XCTAssertEqual(index[3], 39)
        XCTAssertEqual(out[4], 41)
        XCTAssertEqual(index[15], 63)
    }

    func testMaxPoolPropagatesNaNOnNarrowRows() {
        // 14 pixels pool to 7 outputs, fewer than one vector: the scalar selects' path.
        let g = PoolingGeometry(planes: 1, height: 2, width: 14, kernelHeight: 2, kernelWidth: 2, strideY: 2, strideX: 2)
        var x = (0..<28).map { Float($0 % 5) }
        x[14 + 4] = .nan  // bottom row, window 2
        var out = [Float](repeating: 0, count: 7), index = [Int32](repeating: 0, count: 7)
        Kernels.maxPoolForward(g, input: x, output: &out, indices: &index)
        XCTAssertTrue(out[2].isNaN)
        XCTAssertEqual(index[2], 18)
        // Window 0 holds 0, 1 on top and 4, 0 below: the maximum is below-left.
        XCTAssertEqual(out[0], 4)
        XCTAssertEqual(index[0], 14)
    }

    /// Max pooling by strict comparisons in row-major window order (ties to the first, so +0
    /// and −0 stay apart), NaN winning and kept.
    private func referenceMaxPool(_ g: PoolingGeometry, _ x: [Float]) -> [Float] {
        var result: [Float] = []
        for p in 0..<g.planes {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    var best = -Float.infinity
                    for i in 0..<g.kernelHeight {
                        for j in 0..<g.kernelWidth {
                            let y = oy * g.strideY - g.paddingY + i, xx = ox * g.strideX - g.paddingX + j
                            guard y >= 0, y < g.height, xx >= 0, xx < g.width, !best.isNaN else { continue }
                            let value = x[(p * g.height + y) * g.width + xx]
                            if value > best || value.isNaN { best = value }
                        }
                    }
                    result.append(best)
                }
            }
        }
        return result
    }

    private func assertBitwiseEqual(_ actual: [Float], _ expected: [Float], _ context: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, context, file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() where a.bitPattern != e.bitPattern {
            XCTFail("\(context): element \(i) is \(a), expected \(e)", file: file, line: line)
            return
        }
    }

    private func assertClose(_ actual: [Float], _ expected: [Double], _ context: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, context, file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(Double(a) - e) <= 1e-4 * max(1, abs(e))) {
            XCTFail("\(context): element \(i) is \(a), expected \(e)", file: file, line: line)
            return
        }
    }
}
