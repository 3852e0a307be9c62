// Max and average pooling over NCHW planes, forward and backward.

import CSynapse

/// The sizes of a 2-D pooling window over `planes` = batch × channels planes of height × width.
public struct PoolingGeometry: Sendable, Equatable {
    public var planes: Int, height: Int, width: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideY: Int, strideX: Int
    public var paddingY: Int, paddingX: Int

    public init(planes: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
                strideY: Int, strideX: Int, paddingY: Int = 0, paddingX: Int = 0) {
        self.planes = planes
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideY = strideY
        self.strideX = strideX
        self.paddingY = paddingY
        self.paddingX = paddingX
    }

    public var outputHeight: Int { (height + 2 * paddingY - kernelHeight) / strideY + 1 }
    public var outputWidth: Int { (width + 2 * paddingX - kernelWidth) / strideX + 1 }

    /// The window of output (y, x) clipped to the image: input rows and columns.
    @inline(__always)
    func window(_ y: Int, _ x: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        let top = y * strideY - paddingY, left = x * strideX - paddingX
        return (max(top, 0)..<min(top + kernelHeight, height), max(left, 0)..<min(left + kernelWidth, width))
    }
}

extension Kernels {
    /// Max pooling; `indices`, if given, receives per output the flat in-plane index of the
    /// maximum (the first one on ties; padding never wins) for the backward pass.
    public static func maxPoolForward(_ g: PoolingGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                      indices: UnsafeMutablePointer<Int32>?) {
        let outputPlane = g.outputHeight * g.outputWidth
        forEachPlane(g) { plane in
            let x = input + plane * g.height * g.width
            let out = output + plane * outputPlane, index = indices.map { $0 + plane * outputPlane }
            // A plane with NaN in it is redone by the general path, which propagates NaN.
            if g.kernelHeight == 2 && g.kernelWidth == 2 && g.strideY == 2 && g.strideX == 2 && g.paddingY == 0 && g.paddingX == 0
                && maxPool2x2(x, width: g.width, outputHeight: g.outputHeight, outputWidth: g.outputWidth, out, index) {
                return
            }
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    let (rows, columns) = g.window(oy, ox)
                    var best = -Float.infinity, bestIndex = rows.lowerBound * g.width + columns.lowerBound
                    for r in rows {
                        for c in columns where x[r * g.width + c] > best || x[r * g.width + c].isNaN {
                            best = x[r * g.width + c]
                            bestIndex = r * g.width + c
                            if best.isNaN { break }
                        }
                    }
                    out[oy * g.outputWidth + ox] = best
                    index?[oy * g.outputWidth + ox] = Int32(bestIndex)
                }
            }
        }
    }

    /// gradInput (overwritten) receives each output gradient at its recorded maximum.
    public static func maxPoolBackward(_ g: PoolingGeometry, gradOutput: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
                                       gradInput: UnsafeMutablePointer<Float>) {
        let outputPlane = g.outputHeight * g.outputWidth, inputPlane = g.height * g.width
        forEachPlane(g) { plane in
            let dx = gradInput + plane * inputPlane
            dx.update(repeating: 0, count: inputPlane)
            let dy = gradOutput + plane * outputPlane, index = indices + plane * outputPlane
            for o in 0..<outputPlane { dx[Int(index[o])] += dy[o] }
        }
    }

    /// Average pooling. Padding counts toward the divisor (PyTorch's count_include_pad = true).
    public static func averagePoolForward(_ g: PoolingGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let outputPlane = g.outputHeight * g.outputWidth
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        forEachPlane(g) { plane in
            let x = input + plane * g.height * g.width, out = output + plane * outputPlane
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    let (rows, columns) = g.window(oy, ox)
                    var total: Float = 0
                    for r in rows { for c in columns { total += x[r * g.width + c] } }
                    out[oy * g.outputWidth + ox] = total * scale
                }
            }
        }
    }

    /// gradInput (overwritten) of average pooling.
    public static func averagePoolBackward(_ g: PoolingGeometry, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let outputPlane = g.outputHeight * g.outputWidth, inputPlane = g.height * g.width
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        forEachPlane(g) { plane in
            let dx = gradInput + plane * inputPlane, dy = gradOutput + plane * outputPlane
            dx.update(repeating: 0, count: inputPlane)
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    let share = dy[oy * g.outputWidth + ox] * scale
                    let (rows, columns) = g.window(oy, ox)
                    for r in rows { for c in columns { dx[r * g.width + c] += share } }
                }
            }
        }
    }

    /// Runs `body(plane)` for every plane, in parallel when there is enough work.
    private static func forEachPlane(_ g: PoolingGeometry, _ body: (Int) -> Void) {
        let work = g.planes * g.height * g.width
        let tasks = work >= 1 << 15 ? min(g.planes, threadCount * 4) : 1
        parallelFor(tasks) { task in
            for plane in (g.planes * task / tasks)..<(g.planes * (task + 1) / tasks) { body(plane) }
        }
    }
}

/// The common 2×2, stride-2 max pool, eight outputs at a time. The four candidates of each
/// window are scanned in row-major order with strict comparisons, so ties go to the first, as
/// in the general path. Returns false if the plane may hold NaN, which the vector path does
/// not propagate: it only accumulates x − x (NaN for NaN and ±∞) and checks that once.
/// Blends are integer bit operations on the comparison masks' lanes (`select`): Swift's
/// `replace(with:where:)` and mask reductions such as `any` compile to per-lane mask
/// shuffles, and `pointwiseMax` is not inlined.
@inline(__always)
private func maxPool2x2(_ x: UnsafePointer<Float>, width: Int, outputHeight: Int, outputWidth: Int,
                        _ out: UnsafeMutablePointer<Float>, _ index: UnsafeMutablePointer<Int32>?) -> Bool {
    let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
    let (right, below, belowRight) = (SIMD8<Int32>(repeating: 1), SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: width)),
                                      SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: width + 1)))
    var probe = SIMD16<Float>(repeating: 0), scalarProbe: Float = 0
    for oy in 0..<outputHeight {
        let top = x + 2 * oy * width, bottom = top + width
        var ox = 0
        var vectorEnd = 0
        while vectorEnd < outputWidth && outputWidth >= 8 {
            // The last block overlaps the previous one instead of leaving a scalar tail;
            // recomputing an output writes the same value.
            ox = min(vectorEnd, outputWidth - 8)
            let t = UnsafeRawPointer(top + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
            let b = UnsafeRawPointer(bottom + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
            probe += (t - t) + (b - b)
            vectorEnd = ox + 8
            guard let index else {
                // Without indices only the maximum is needed: the same strict comparisons, one
                // MAXPS each (Swift's pointwiseMax follows IEEE maxNum and runs lane by lane).
                UnsafeMutableRawPointer(out + oy * outputWidth + ox).storeBytes(of: synapse_pool_rows16(t, b, 0), as: SIMD8<Float>.self)
                continue
            }
            let (topLeft, topRight, bottomLeft, bottomRight) = (t.evenHalf, t.oddHalf, b.evenHalf, b.oddHalf)
            let first = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: 2 * oy * width + 2 * ox)) &+ lanes
            var best = topLeft, position = first
            var wins = (topRight .> best)._storage
            best = select(topRight, over: best, where: wins)
            position = select(first &+ right, over: position, where: wins)
            wins = (bottomLeft .> best)._storage
            best = select(bottomLeft, over: best, where: wins)
            position = select(first &+ below, over: position, where: wins)
            wins = (bottomRight .> best)._storage
            best = select(bottomRight, over: best, where: wins)
            position = select(first &+ belowRight, over: position, where: wins)
            UnsafeMutableRawPointer(out + oy * outputWidth + ox).storeBytes(of: best, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(index + oy * outputWidth + ox).storeBytes(of: position, as: SIMD8<Int32>.self)
        }
        // Rows narrower than eight outputs (a 14-pixel plane pools to 7): the same strict
        // comparisons one window at a time, as selects rather than branches, which ReLU's
        // many tied zeros would keep mispredicting. NaN is caught by the same probe.
        ox = vectorEnd
        while ox < outputWidth {
            let c = 2 * ox, first = 2 * oy * width + c
            let (topLeft, topRight, bottomLeft, bottomRight) = (top[c], top[c + 1], bottom[c], bottom[c + 1])
            scalarProbe += (topLeft - topLeft) + (topRight - topRight) + (bottomLeft - bottomLeft) + (bottomRight - bottomRight)
            var best = topLeft, bestIndex = first
            if topRight > best { best = topRight; bestIndex = first + 1 }
            if bottomLeft > best { best = bottomLeft; bestIndex = first + width }
            if bottomRight > best { best = bottomRight; bestIndex = first + width + 1 }
            out[oy * outputWidth + ox] = best
            index?[oy * outputWidth + ox] = Int32(truncatingIfNeeded: bestIndex)
            ox += 1
        }
    }
    return !probe.sum().isNaN && !scalarProbe.isNaN
}

/// Lanes of `chosen` where `mask` is all ones, of `other` where it is zero.
@inline(__always)
private func select(_ chosen: SIMD8<Int32>, over other: SIMD8<Int32>, where mask: SIMD8<Int32>) -> SIMD8<Int32> {
    other ^ ((other ^ chosen) & mask)
}

@inline(__always)
private func select(_ chosen: SIMD8<Float>, over other: SIMD8<Float>, where mask: SIMD8<Int32>) -> SIMD8<Float> {
    unsafeBitCast(select(unsafeBitCast(chosen, to: SIMD8<Int32>.self), over: unsafeBitCast(other, to: SIMD8<Int32>.self),
                         where: mask), to: SIMD8<Float>.self)
}
