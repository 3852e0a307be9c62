// Fused attention forward and forward + backward against PyTorch's scaled_dot_product_attention.

import Foundation
import Synapse
import SynapseKernels

/// Both sides run [4, 4, T, D] query, key and value; Benchmarks/torch_attention.py matches these.
private let batch = 4, heads = 4
private let configurations: [(key: String, name: String, steps: Int, depth: Int, causal: Bool)] =
    [64, 256, 1024].flatMap { steps in
        [32, 64].flatMap { depth in
            [false, true].map { causal in
                ("attention_T\(steps)_D\(depth)_\(causal ? "causal" : "full")",
                 "T\(steps) D\(depth) \(causal ? "causal" : "full")", steps, depth, causal)
            }
        }
    }

/// PyTorch and Synapse take turns, each keeping its best, so a slow spell falls on both.
private let segments = 3

func attentionBenchmark(options: Options) {
    let rows = configurations.filter { options.includes($0.name) }
    let roundsPerSegment = max(1, options.rounds / segments)
    var reference: [String: [Double]] = [:], ours: [String: [Double]] = [:]
    for _ in 0..<segments {
        let times = referenceTimes(python: options.python, script: "torch_attention.py",
                                   arguments: [String(roundsPerSegment), String(Kernels.threadCount)])
        for (key, values) in times { reference[key] = zip(reference[key] ?? values, values).map { Swift.min($0, $1) } }
        for row in rows {
            let shape = [batch, heads, row.steps, row.depth]
            let q = Tensor.randn(shape, seed: 1), k = Tensor.randn(shape, seed: 2), v = Tensor.randn(shape, seed: 3)
            let dy = Tensor.randn(shape, seed: 4)
            let (ql, kl, vl) = (q.requiringGrad(), k.requiringGrad(), v.requiringGrad())
            let forward = { _ = scaledDotProductAttention(q, k, v, causal: row.causal) }
            let train = {
                scaledDotProductAttention(ql, kl, vl, causal: row.causal).backward(dy)
                ql.zeroGrad(); kl.zeroGrad(); vl.zeroGrad()
            }
            let repeats = max(1, (1 << 20) / (row.steps * row.steps))
            let (forwardSeconds, _) = interleavedBestTimes(rounds: roundsPerSegment, repeats: repeats, forward, nil)
            let (trainSeconds, _) = interleavedBestTimes(rounds: roundsPerSegment, repeats: repeats, train, nil)
            let previous = ours[row.key] ?? [.infinity, .infinity]
            ours[row.key] = [Swift.min(previous[0], forwardSeconds * 1e3), Swift.min(previous[1], trainSeconds * 1e3)]
        }
    }
    print("scaled dot-product attention [\(batch), \(heads), T, D], ms per call (best of \(roundsPerSegment * segments) rounds "
          + "in \(segments) turns each), \(Kernels.threadCount) threads; "
          + (reference.isEmpty ? "PyTorch not found (pass --python with torch installed)"
                               : "PyTorch F.scaled_dot_product_attention in the same run"))
    print("configuration       pass        synapse    pytorch   pytorch/synapse")
    for row in rows {
        for (index, pass) in ["forward", "fwd+bwd"].enumerated() {
            let mine = ours[row.key]![index]
            var line = row.name.padding(toLength: 20, withPad: " ", startingAt: 0) + pass.padding(toLength: 9, withPad: " ", startingAt: 0)
            line += String(format: "%10.3f", mine)
            if let theirs = reference[row.key]?[index] { line += String(format: " %10.3f   %.2fx", theirs, theirs / mine) }
            print(line)
        }
    }
}
