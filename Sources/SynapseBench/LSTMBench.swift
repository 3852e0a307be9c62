// LSTM forward and training-step (forward + backward) times against PyTorch's nn.LSTM.

import Foundation
import Synapse
import SynapseKernels

/// The configurations both sides run: batch-first input [N, T, in], zero initial states.
private let configurations: [(key: String, name: String, steps: Int, batch: Int, input: Int, hidden: Int, layers: Int)] = [
    ("lstm_T128_B32_in128_H256_L2", "T128 N32 128→256 ×2", 128, 32, 128, 256, 2),
    ("lstm_T64_B32_in64_H256_L1", "T64 N32 64→256 ×1", 64, 32, 64, 256, 1),
]

/// PyTorch and Synapse take turns, each keeping its best, so a slow spell falls on both.
private let segments = 3

func lstmBenchmark(options: Options) {
    let rows = configurations.filter { options.includes($0.name) }
    let roundsPerSegment = max(1, options.rounds / segments)
    var reference: [String: [Double]] = [:], ours: [String: [Double]] = [:]
    for _ in 0..<segments {
        let times = referenceTimes(python: options.python, script: "torch_lstm.py",
                                   arguments: [String(roundsPerSegment), String(Kernels.threadCount)])
        for (key, values) in times { reference[key] = zip(reference[key] ?? values, values).map { Swift.min($0, $1) } }
        for row in rows {
            GlobalRandom.seed(0)
            let lstm = LSTM(row.input, row.hidden, layers: row.layers, batchFirst: true)
            let x = Tensor.randn([row.batch, row.steps, row.input], seed: 1)
            let dy = Tensor.randn([row.batch, row.steps, row.hidden], seed: 2)
            let leaf = x.requiringGrad()
            let forward = { _ = withoutGradients { lstm(x) } }
            let train = {
                lstm.zeroGrad()
                lstm(leaf).output.backward(dy)
                leaf.zeroGrad()
            }
            let (forwardSeconds, _) = interleavedBestTimes(rounds: roundsPerSegment, repeats: 2, forward, nil)
            let (trainSeconds, _) = interleavedBestTimes(rounds: roundsPerSegment, repeats: 2, train, nil)
            let previous = ours[row.key] ?? [.infinity, .infinity]
            ours[row.key] = [Swift.min(previous[0], forwardSeconds * 1e3), Swift.min(previous[1], trainSeconds * 1e3)]
        }
    }
    print("LSTM, batch-first, ms per call (best of \(roundsPerSegment * segments) rounds in \(segments) turns each), "
          + "\(Kernels.threadCount) threads; "
          + (reference.isEmpty ? "PyTorch not found (pass --python with torch installed)" : "PyTorch nn.LSTM in the same run"))
    print("configuration           pass        synapse    pytorch   pytorch/synapse")
    for row in rows {
        for (index, pass) in ["forward", "fwd+bwd"].enumerated() {
            let mine = ours[row.key]![index]
            var line = row.name.padding(toLength: 24, withPad: " ", startingAt: 0) + pass.padding(toLength: 9, withPad: " ", startingAt: 0)
            line += String(format: "%10.2f", mine)
            if let theirs = reference[row.key]?[index] { line += String(format: " %10.2f   %.2fx", theirs, theirs / mine) }
            print(line)
        }
    }
}
