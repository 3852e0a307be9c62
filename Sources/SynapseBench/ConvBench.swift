// Conv2d forward and training-step (forward + backward) times against PyTorch.

import Foundation
import SynapseKernels

func convolutionBenchmark(options: Options) {
    let reference = referenceTimes(python: options.python, script: "torch_conv.py",
                                   arguments: [String(options.rounds), String(Kernels.threadCount)])
    print("Conv2d, 3×3 pad 1, batch 64, ms per call (best of \(options.rounds) rounds), \(Kernels.threadCount) threads; "
          + (reference.isEmpty ? "PyTorch not found (pass --python with torch installed)" : "PyTorch in the same run"))
    print("layer                 pass        synapse    pytorch   pytorch/synapse")
    let layers: [(String, String, ConvolutionGeometry, Bool)] = [
        ("conv1x32_28", "1→32, 28×28", ConvolutionGeometry(batch: 64, inChannels: 1, outChannels: 32, height: 28, width: 28,
                                                          kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1), false),
        ("conv32x64_14", "32→64, 14×14", ConvolutionGeometry(batch: 64, inChannels: 32, outChannels: 64, height: 14, width: 14,
                                                            kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1), true),
    ]
    for (key, name, g, inputGradient) in layers where options.includes(name) {
        let inputCount = g.batch * g.inChannels * g.height * g.width
        let weightCount = g.outChannels * g.inChannels * 9
        let outputCount = g.batch * g.outChannels * g.outputHeight * g.outputWidth
        let x = randomBuffer(inputCount, seed: 1), w = randomBuffer(weightCount, seed: 2), b = randomBuffer(g.outChannels, seed: 3)
        let dy = randomBuffer(outputCount, seed: 4), y = randomBuffer(outputCount, seed: 5)
        let dx = randomBuffer(inputCount, seed: 6), dw = randomBuffer(weightCount, seed: 7), db = randomBuffer(g.outChannels, seed: 8)
        defer { [x, w, b, dy, y, dx, dw, db].forEach { free(UnsafeMutableRawPointer($0)) } }
        let forward = { Kernels.convolutionForward(g, input: x, weight: w, bias: b, output: y) }
        let train = {
            forward()
            if inputGradient { Kernels.convolutionBackwardData(g, gradOutput: dy, weight: w, gradInput: dx) }
            Kernels.convolutionBackwardWeight(g, input: x, gradOutput: dy, gradWeight: dw, gradBias: db)
        }
        if options.passes {
            let data = { Kernels.convolutionBackwardData(g, gradOutput: dy, weight: w, gradInput: dx) }
            let weights = { Kernels.convolutionBackwardWeight(g, input: x, gradOutput: dy, gradWeight: dw, gradBias: db) }
            for (pass, body) in (inputGradient ? [("dx only", data)] : []) + [("dw only", weights)] {
                let (ours, _) = interleavedBestTimes(rounds: options.rounds, repeats: 5, body, nil)
                print(name.padding(toLength: 22, withPad: " ", startingAt: 0) + pass.padding(toLength: 9, withPad: " ", startingAt: 0)
                      + String(format: "%10.3f", ours * 1e3))
            }
        }
        for (index, (pass, body)) in [("forward", forward), ("fwd+bwd", train)].enumerated() {
            let (ours, _) = interleavedBestTimes(rounds: options.rounds, repeats: 5, body, nil)
            var line = name.padding(toLength: 22, withPad: " ", startingAt: 0) + pass.padding(toLength: 9, withPad: " ", startingAt: 0)
            line += String(format: "%10.3f", ours * 1e3)
            if let theirs = reference[key]?[index] {
                line += String(format: " %10.3f   %.2fx", theirs, theirs / (ours * 1e3))
            }
            print(line)
        }
    }
}
