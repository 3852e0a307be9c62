// OpenBLAS, loaded at run time for side-by-side timings. Synapse never links it.

import Foundation

struct OpenBLAS {
    private typealias Sgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                              UnsafePointer<Float>, Int32, UnsafePointer<Float>, Int32, Float,
                                              UnsafeMutablePointer<Float>, Int32) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private let sgemmFunction: Sgemm
    private let setThreadsFunction: SetThreads

    /// Loads `libopenblas.so.0`, or returns nil when it is not installed
    /// (`apt-get install libopenblas0-pthread` provides it).
    init?() {
        // OpenBLAS 0.3.21 does not recognize this VM's CPU model and falls back to its generic
        // "Prescott" kernels (about 15-30 GFLOP/s). Pin the best kernel set the CPU supports
        // so the comparison is against OpenBLAS at its fastest, unless the caller chose one.
        if let flags = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            let coreType = flags.contains("avx512f") ? "SkylakeX" : flags.contains("avx2") ? "Haswell" : nil
            if let coreType { setenv("OPENBLAS_CORETYPE", coreType, 0) }
        }
        guard let handle = dlopen("libopenblas.so.0", RTLD_NOW) ?? dlopen("libopenblas.dylib", RTLD_NOW),
              let sgemm = dlsym(handle, "cblas_sgemm"),
              let setThreads = dlsym(handle, "openblas_set_num_threads") else { return nil }
        sgemmFunction = unsafeBitCast(sgemm, to: Sgemm.self)
        setThreadsFunction = unsafeBitCast(setThreads, to: SetThreads.self)
    }

    func setThreads(_ count: Int) { setThreadsFunction(Int32(count)) }

    /// Row-major C = op(A) · op(B), with the same argument meaning as `Kernels.gemm`.
    func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               c: UnsafeMutablePointer<Float>, ldc: Int) {
        sgemmFunction(101, transposeA ? 112 : 111, transposeB ? 112 : 111, Int32(m), Int32(n), Int32(k), 1,
                      a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }
}
