// The sparse × dense kernel of pruned fully connected layers against the dense GEMM.

import Foundation
import SynapseKernels

func sparseBenchmark(options: Options) {
    let sparsities = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    print("Linear forward x · Wᵀ, sparse (CSR) vs dense GEMM, ms per call (best of \(options.rounds) interleaved rounds), "
          + "\(Kernels.threadCount) threads")
    print("shape (batch × in → out)     sparsity   dense ms   sparse ms   dense/sparse")
    // The seed CNN's fc1 over a batch of 250 test images, an MLP's first layer, and a square layer.
    let shapes = [(250, 6272, 128), (64, 784, 256), (256, 1024, 1024)]
    for (batch, inputs, outputs) in shapes {
        let name = "\(batch) × \(inputs) → \(outputs)"
        guard options.includes(name) else { continue }
        let x = randomBuffer(batch * inputs, seed: 1), original = randomBuffer(outputs * inputs, seed: 2)
        let dense = randomBuffer(outputs * inputs, seed: 2), y = randomBuffer(batch * outputs, seed: 3)
        defer { [x, original, dense, y].forEach { free(UnsafeMutableRawPointer($0)) } }
        var crossover: Double?
        for sparsity in sparsities {
            // The same weights pruned at random to this sparsity; the dense GEMM does not care about zeros.
            var generator = SplitMix(seed: UInt64(sparsity * 1000))
            for index in 0..<(outputs * inputs) { dense[index] = generator.nextUnit() < sparsity ? 0 : original[index] }
            let matrix = SparseMatrix(dense: dense, rows: outputs, columns: inputs)
            let flops = 2.0 * Double(batch) * Double(inputs) * Double(outputs)
            let repeats = max(1, Int(2e8 / flops))
            let (denseTime, sparseTime) = interleavedBestTimes(rounds: options.rounds, repeats: repeats, {
                Kernels.gemm(transposeA: false, transposeB: true, m: batch, n: outputs, k: inputs,
                             a: x, lda: inputs, b: dense, ldb: inputs, c: y, ldc: outputs, accumulate: false)
            }, {
                Kernels.sparseLinear(input: x, batch: batch, weight: matrix, bias: nil, output: y)
            })
            let ratio = denseTime / sparseTime!
            if crossover == nil && ratio > 1 { crossover = sparsity }
            print(String(format: "%@ %8.2f %10.3f %11.3f   %.2fx", (name as NSString).padding(toLength: 28, withPad: " ", startingAt: 0),
                         matrix.sparsity, denseTime * 1e3, sparseTime! * 1e3, ratio))
        }
        print("  crossover: " + (crossover.map { "sparse is faster from sparsity \($0) of those measured" } ?? "dense was faster at every sparsity measured"))
    }
}

/// A small deterministic generator for the benchmark's random masks.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nextUnit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
