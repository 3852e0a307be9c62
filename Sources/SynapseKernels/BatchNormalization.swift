// Batch normalization's per-channel passes over [batch, channels, plane] buffers.

extension Kernels {
    /// out = a[c] · x + b[c] (+ d[c] · y when `y` is given) for every element of channel c of
    /// a [batch, channels, plane] buffer: batch normalization's forward (x·scale + shift) and
    /// its input gradient (a·dy + b·x + d) in one pass each.
    public static func channelAffine(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                     plus y: UnsafePointer<Float>? = nil, scaledBy yScale: UnsafePointer<Float>? = nil,
                                     batch: Int, channels: Int, plane: Int, output: UnsafeMutablePointer<Float>) {
        let planes = batch * channels
        let tasks = planes * plane >= 1 << 15 ? min(planes, threadCount * 4) : 1
        parallelFor(tasks) { task in
            for index in (planes * task / tasks)..<(planes * (task + 1) / tasks) {
                let c = index % channels, offset = index * plane
                let a = FloatVector(repeating: scale[c]), b = FloatVector(repeating: shift[c])
                let source = x + offset, target = output + offset
                var i = 0
                if let y, let yScale {
                    let other = y + offset, d = FloatVector(repeating: yScale[c])
                    while i + FloatVector.scalarCount <= plane {
                        storeVector(loadVector(source + i) * a + b + loadVector(other + i) * d, target + i)
                        i += FloatVector.scalarCount
                    }
                    while i < plane {
                        target[i] = source[i] * scale[c] + shift[c] + other[i] * yScale[c]
                        i += 1
                    }
                } else {
                    while i + FloatVector.scalarCount <= plane {
                        storeVector(loadVector(source + i) * a + b, target + i)
                        i += FloatVector.scalarCount
                    }
                    while i < plane {
                        target[i] = source[i] * scale[c] + shift[c]
                        i += 1
                    }
                }
            }
        }
    }

    /// Per channel c of [batch, channels, plane] buffers: Σ dy and Σ dy · (x − mean[c]), the two
    /// sums batch normalization's backward needs. Each channel is summed by one thread in a
    /// fixed order (planes in Double, as `channelMoments`), so the thread count cannot change it.
    public static func channelGradientSums(_ gradient: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                           batch: Int, channels: Int, plane: Int,
                                           gradientSum: UnsafeMutablePointer<Float>, centeredProductSum: UnsafeMutablePointer<Float>) {
        let tasks = channels > 1 && batch * channels * plane >= 1 << 16 ? min(channels, threadCount * 4) : 1
        parallelFor(tasks) { task in
            for c in (channels * task / tasks)..<(channels * (task + 1) / tasks) {
                var sum = 0.0, products = 0.0
                for n in 0..<batch {
                    let offset = (n * channels + c) * plane
                    let (planeSum, planeProducts) = sumAndCenteredProduct(gradient + offset, x + offset, count: plane, mean: mean[c])
                    sum += Double(planeSum)
                    products += Double(planeProducts)
                }
                gradientSum[c] = Float(sum)
                centeredProductSum[c] = Float(products)
            }
        }
    }
}

/// (Σ g, Σ g · (x − mean)) over `count` contiguous floats, in Float with eight lanes.
@inline(__always)
private func sumAndCenteredProduct(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int,
                                   mean: Float) -> (Float, Float) {
    let center = FloatVector(repeating: mean)
    var sums = FloatVector(repeating: 0), products = FloatVector(repeating: 0)
    var i = 0
    while i + FloatVector.scalarCount <= count {
        let gradient = loadVector(g + i)
        sums += gradient
        products += gradient * (loadVector(x + i) - center)
        i += FloatVector.scalarCount
    }
    var (sum, product) = (sums.sum(), products.sum())
    while i < count {
        sum += g[i]
        product += g[i] * (x[i] - mean)
        i += 1
    }
    return (sum, product)
}
