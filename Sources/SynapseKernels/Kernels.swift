// The namespace for every CPU kernel: plain functions over raw buffers and shapes.
//
// Kernels know nothing about tensors or autodiff. Callers pass contiguous row-major
// buffers (or explicit element strides where a kernel says so) and own all memory.

/// CPU kernels over raw Float32 buffers.
public enum Kernels {
    /// Runs `body(start, length)` over consecutive chunks that together cover `0..<count`,
    /// in parallel when the work is large enough to pay for waking the pool. Chunks start at
    /// multiples of 64 elements and each element's result never depends on the chunking.
    @inline(__always)
    static func parallelChunks(count: Int, costPerElement: Int, _ body: (Int, Int) -> Void) {
        guard count > 0 else { return }
        let minimumWorkPerTask = 1 << 16
        let threads = threadCount
        let tasks = min(threads, count * costPerElement / minimumWorkPerTask)
        if tasks <= 1 {
            body(0, count)
            return
        }
        let chunk = (count / tasks + 63) & ~63
        parallelFor(tasks) { task in
            let start = task * chunk
            if start < count { body(start, min(chunk, count - start)) }
        }
    }
}

import CSynapse
import Foundation

extension Kernels {
    /// Whether this binary was built for a CPU with fused multiply-add (for example with
    /// `-Xcc -march=native`). Without it, SIMD code runs on baseline x86-64 vectors.
    public static var isNativeBuild: Bool {
        synapse_target_has_fma() != 0 || synapse_target_is_x86() == 0
    }

    /// The CPU features this binary's kernels were compiled for, as a person reads them:
    /// "x86-64: AVX-512, AVX2, FMA", "x86-64: baseline (SSE2)", "arm64: NEON, FMA".
    public static var buildTargetDescription: String {
        guard synapse_target_is_x86() != 0 else { return "arm64: NEON, FMA" }
        let features = [(synapse_target_has_avx512(), "AVX-512"), (synapse_target_has_avx2(), "AVX2"),
                        (synapse_target_has_fma(), "FMA")].filter { $0.0 != 0 }.map(\.1)
        return "x86-64: " + (features.isEmpty ? "baseline (SSE2)" : features.joined(separator: ", "))
    }

    private static let baselineNotice: Void = {
        guard !isNativeBuild else { return }
        FileHandle.standardError.write(Data("""
            synapse: this build targets baseline x86-64 (no AVX2/FMA), so kernels run several times \
            slower than they can. For the fast build add -Xcc -march=native, e.g. \
            swift run -c release -Xcc -march=native synapse ...\n
            """.utf8))
    }()

    /// Prints, once per process and only in a baseline build, how to get the fast build.
    public static func noteBuildTargetOnce() {
        _ = baselineNotice
    }
}
