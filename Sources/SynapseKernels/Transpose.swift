// Cache-tiled matrix transpose.

extension Kernels {
    /// dst (columns×rows, contiguous) = transpose of src (rows×columns with row stride `sourceStride`).
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, sourceStride: Int,
                                 into dst: UnsafeMutablePointer<Float>) {
        let tile = 32
        var r0 = 0
        while r0 < rows {
            let r1 = min(r0 + tile, rows)
            var c0 = 0
            while c0 < columns {
                let c1 = min(c0 + tile, columns)
                for r in r0..<r1 {
                    for col in c0..<c1 { dst[col * rows + r] = src[r * sourceStride + col] }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}
