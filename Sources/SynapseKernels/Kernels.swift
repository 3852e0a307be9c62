// The namespace for every CPU kernel: plain functions over raw buffers and shapes.
//
// Kernels know nothing about tensors or autodiff. Callers pass contiguous row-major
// buffers (or explicit element strides where a kernel says so) and own all memory.

/// CPU kernels over raw Float32 buffers.
public enum Kernels {
    /// Runs `body(start, length)` over consecutive chunks that together cover `0..<count`.
    ///
    /// This is the single place where elementwise work is split; it runs the whole range
    /// on the calling thread until the shared thread pool lands, and each element's result
    /// never depends on how the range was chunked.
    @inline(__always)
    static func parallelChunks(count: Int, costPerElement: Int, _ body: (Int, Int) -> Void) {
        if count > 0 { body(0, count) }
    }
}
