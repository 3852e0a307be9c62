// Index-driven kernels: selecting slices by index and their scatter-add adjoints.

extension Kernels {
    /// out[o, j, :] = x[o, indices[j], :] for the [outer, size, inner] view of `x`.
    /// Indices must already be validated to lie in 0..<size.
    public static func indexSelect(_ x: UnsafePointer<Float>, outer: Int, size: Int, inner: Int,
                                   indices: UnsafePointer<Int>, indexCount: Int, into out: UnsafeMutablePointer<Float>) {
        for o in 0..<outer {
            for j in 0..<indexCount {
                (out + (o * indexCount + j) * inner).update(from: x + (o * size + indices[j]) * inner, count: inner)
            }
        }
    }

    /// The adjoint of `indexSelect`: target[o, indices[j], :] += g[o, j, :]. Repeated indices accumulate.
    /// Entries whose index is `skipping` add nothing (an embedding's padding row).
    public static func indexScatterAdd(_ g: UnsafePointer<Float>, outer: Int, size: Int, inner: Int,
                                       indices: UnsafePointer<Int>, indexCount: Int, skipping: Int? = nil,
                                       into target: UnsafeMutablePointer<Float>) {
        for o in 0..<outer {
            for j in 0..<indexCount where indices[j] != skipping {
                let row = target + (o * size + indices[j]) * inner
                binaryRun(Add(), row, 1, g + (o * indexCount + j) * inner, 1, row, inner)
            }
        }
    }

    /// PyTorch's gather along the middle axis: out[o, j, i] = x[o, index[o, j, i], i], where
    /// `index` has the [outer, indexSize, inner] layout.
    public static func gather(_ x: UnsafePointer<Float>, outer: Int, size: Int, inner: Int,
                              index: UnsafePointer<Int>, indexSize: Int, into out: UnsafeMutablePointer<Float>) {
        for o in 0..<outer {
            for j in 0..<indexSize {
                let base = (o * indexSize + j) * inner
                for i in 0..<inner { out[base + i] = x[(o * size + index[base + i]) * inner + i] }
            }
        }
    }

    /// The adjoint of `gather`: target[o, index[o, j, i], i] += g[o, j, i].
    public static func scatterAdd(_ g: UnsafePointer<Float>, outer: Int, size: Int, inner: Int,
                                  index: UnsafePointer<Int>, indexSize: Int, into target: UnsafeMutablePointer<Float>) {
        for o in 0..<outer {
            for j in 0..<indexSize {
                let base = (o * indexSize + j) * inner
                for i in 0..<inner { target[(o * size + index[base + i]) * inner + i] += g[base + i] }
            }
        }
    }
}
