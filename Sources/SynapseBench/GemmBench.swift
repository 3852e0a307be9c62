// GEMM GFLOP/s against OpenBLAS on the same machine.

import Foundation
import SynapseKernels

func gemmBenchmark(options: Options) {
    let blas = OpenBLAS()
    let defaultThreads = Kernels.threadCount
    print("GEMM, GFLOP/s, best of \(options.rounds) interleaved rounds; OpenBLAS \(blas == nil ? "not found (apt-get install libopenblas0-pthread)" : "loaded at run time")")
    print("shape (m×k×n)        threads   synapse   openblas   synapse/openblas")
    var rows: [(String, Bool, Bool, Int, Int, Int, Int)] = []
    for threads in [1, 2] where threads <= defaultThreads {
        for size in [256, 512, 1024, 2048] {
            rows.append(("\(size)³ AB", false, false, size, size, size, threads))
        }
    }
    rows += [
        ("64×784×128 AB", false, false, 64, 784, 128, defaultThreads),
        ("64×128×10 AB", false, false, 64, 128, 10, defaultThreads),
        ("784×64×128 AᵀB", true, false, 784, 64, 128, defaultThreads),
        ("64×128×784 ABᵀ", false, true, 64, 128, 784, defaultThreads),
        ("128×64×10 AᵀB", true, false, 128, 64, 10, defaultThreads),
        // One image of the 32→64 convolution at 14×14 (Wᵀ · patches), as each thread runs it.
        ("conv 64×288×196 AᵀB", true, false, 64, 288, 196, 1),
    ]
    for (name, transposeA, transposeB, m, k, n, threads) in rows where options.includes(name) {
        let a = randomBuffer(m * k, seed: 1), b = randomBuffer(k * n, seed: 2)
        let c = randomBuffer(m * n, seed: 3)
        defer { [a, b, c].forEach { free(UnsafeMutableRawPointer($0)) } }
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let repeats = max(1, Int(4e8 / flops))
        Kernels.threadCount = threads
        blas?.setThreads(threads)
        let ours = {
            Kernels.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                         a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: n, accumulate: false)
        }
        let theirs = blas.map { blas in {
            blas.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: n)
        } }
        let (mine, reference) = interleavedBestTimes(rounds: options.rounds, repeats: repeats, ours, theirs)
        var line = name.padding(toLength: 21, withPad: " ", startingAt: 0)
        line += String(format: "%7d %9.1f", threads, flops / mine / 1e9)
        if let reference {
            line += String(format: " %10.1f   %.2fx", flops / reference / 1e9, reference / mine)
        }
        print(line)
    }
    Kernels.threadCount = defaultThreads
}

/// A buffer of deterministic values in [-1, 1], allocated the way Synapse allocates tensor
/// storage (2 MiB aligned and huge-page advised when large), so both libraries in a row read
/// the same kind of memory.
func randomBuffer(_ count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
    let bytes = max(count, 1) * MemoryLayout<Float>.stride
    let large = bytes >= 4 << 20
    var memory: UnsafeMutableRawPointer?
    guard posix_memalign(&memory, large ? 2 << 20 : 64, bytes) == 0, let memory else {
        fatalError("synapse-bench: cannot allocate \(bytes) bytes")
    }
    #if os(Linux)
    if large { _ = madvise(memory, bytes, MADV_HUGEPAGE) }
    #endif
    let buffer = memory.bindMemory(to: Float.self, capacity: max(count, 1))
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    for i in 0..<count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        buffer[i] = Float(Int(state >> 40) % 2001 - 1000) / 1000
    }
    return buffer
}
