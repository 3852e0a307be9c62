// Conv2d and ConvTranspose2d forward and training-step (forward + backward) times against PyTorch.

import Foundation
import Synapse
import SynapseKernels

/// PyTorch and Synapse take turns this many times, each turn a share of the rounds, and each
/// side keeps its best: on a shared VM a slow spell then falls on both sides, not on whichever
/// happened to run during it.
private let segments = 3

func convolutionBenchmark(options: Options) {
    let layers: [(String, String, ConvolutionGeometry, Bool)] = [
        ("conv1x32_28", "1→32, 28×28", ConvolutionGeometry(batch: 64, inChannels: 1, outChannels: 32, height: 28, width: 28,
                                                          kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1), false),
        ("conv32x64_14", "32→64, 14×14", ConvolutionGeometry(batch: 64, inChannels: 32, outChannels: 64, height: 14, width: 14,
                                                            kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1), true),
    ].filter { options.includes($0.1) }
    // The DCGAN generator's two upsampling layers and its discriminator's two downsampling ones
    // (kernel 4, stride 2, padding 1) at batch 128, timed through the Tensor op with bias and
    // every gradient, as training runs them.
    let strided: [(key: String, name: String, batch: Int, inChannels: Int, outChannels: Int, size: Int, transposed: Bool)] = [
        ("convT128x64_7", "T 128→64, 7→14", 128, 128, 64, 7, true),
        ("convT64x1_14", "T 64→1, 14→28", 128, 64, 1, 14, true),
        ("conv1x64_28s2", "1→64, 28→14 s2", 128, 1, 64, 28, false),
        ("conv64x128_14s2", "64→128, 14→7 s2", 128, 64, 128, 14, false),
    ].filter { options.includes($0.1) }
    let roundsPerSegment = max(1, options.rounds / segments)
    var reference: [String: [Double]] = [:]
    // Best seconds per (layer, pass), in the order the table prints them.
    var ours: [String: Double] = [:]
    var passNames: [(layer: String, key: String, pass: String)] = []
    for segment in 0..<segments {
        let times = referenceTimes(python: options.python, script: "torch_conv.py",
                                   arguments: [String(roundsPerSegment), String(Kernels.threadCount)])
        for (key, values) in times {
            reference[key] = zip(reference[key] ?? values, values).map { Swift.min($0, $1) }
        }
        for (key, name, g, inputGradient) in layers {
            let inputCount = g.batch * g.inChannels * g.height * g.width
            let weightCount = g.outChannels * g.inChannels * 9
            let outputCount = g.batch * g.outChannels * g.outputHeight * g.outputWidth
            let x = randomBuffer(inputCount, seed: 1), w = randomBuffer(weightCount, seed: 2), b = randomBuffer(g.outChannels, seed: 3)
            let dy = randomBuffer(outputCount, seed: 4), y = randomBuffer(outputCount, seed: 5)
            let dx = randomBuffer(inputCount, seed: 6), dw = randomBuffer(weightCount, seed: 7), db = randomBuffer(g.outChannels, seed: 8)
            defer { [x, w, b, dy, y, dx, dw, db].forEach { free(UnsafeMutableRawPointer($0)) } }
            let forward = { Kernels.convolutionForward(g, input: x, weight: w, bias: b, output: y) }
            let data = { Kernels.convolutionBackwardData(g, gradOutput: dy, weight: w, gradInput: dx) }
            let weights = { Kernels.convolutionBackwardWeight(g, input: x, gradOutput: dy, gradWeight: dw, gradBias: db) }
            let train = {
                forward()
                if inputGradient { data() }
                weights()
            }
            var passes: [(String, () -> Void)] = []
            if options.passes { passes += (inputGradient ? [("dx only", data)] : []) + [("dw only", weights)] }
            passes += [("forward", forward), ("fwd+bwd", train)]
            for (pass, body) in passes {
                let (seconds, _) = interleavedBestTimes(rounds: roundsPerSegment, repeats: 5, body, nil)
                let id = key + "/" + pass
                if segment == 0 { passNames.append((name, key, pass)) }
                ours[id] = Swift.min(ours[id] ?? .infinity, seconds)
            }
        }
        for row in strided {
            let x = Tensor.randn([row.batch, row.inChannels, row.size, row.size], seed: 1)
            let w = Tensor.randn(row.transposed ? [row.inChannels, row.outChannels, 4, 4] : [row.outChannels, row.inChannels, 4, 4],
                                 seed: 2)
            let b = Tensor.randn([row.outChannels], seed: 3)
            let outputSize = row.transposed ? 2 * row.size : row.size / 2
            let dy = Tensor.randn([row.batch, row.outChannels, outputSize, outputSize], seed: 4)
            let (xl, wl, bl) = (x.requiringGrad(), w.requiringGrad(), b.requiringGrad())
            func layer(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
                row.transposed ? x.convTranspose2d(weight: w, bias: b, stride: (2, 2), padding: (1, 1))
                    : x.conv2d(weight: w, bias: b, stride: (2, 2), padding: (1, 1))
            }
            let forward = { _ = layer(x, w, b) }
            let train = {
                layer(xl, wl, bl).backward(dy)
                xl.zeroGrad(); wl.zeroGrad(); bl.zeroGrad()
            }
            // A layer that runs as a Winograd convolution is also timed as im2col + GEMM. Both
            // kinds run the convolution from the large image to the small one.
            let (large, small) = row.transposed ? (row.outChannels, row.inChannels) : (row.inChannels, row.outChannels)
            let side = max(row.size, outputSize)
            let geometry = ConvolutionGeometry(batch: row.batch, inChannels: large, outChannels: small, height: side, width: side,
                                               kernelHeight: 4, kernelWidth: 4, strideY: 2, strideX: 2, paddingY: 1, paddingX: 1)
            let algorithms = Kernels.runsAsWinogradConvolution(geometry) ? [true, false] : [true]
            for (pass, body) in [("forward", forward), ("fwd+bwd", train)] {
                let id = row.key + "/" + pass
                if segment == 0 { passNames.append((row.name, row.key, pass)) }
                for winograd in algorithms {
                    Kernels.allowsWinogradConvolution = winograd
                    defer { Kernels.allowsWinogradConvolution = true }
                    let (seconds, _) = interleavedBestTimes(rounds: roundsPerSegment, repeats: 5, body, nil)
                    let key = winograd ? id : id + "/im2col"
                    ours[key] = Swift.min(ours[key] ?? .infinity, seconds)
                }
            }
        }
    }
    print("Conv2d, 3×3 pad 1, batch 64; ConvTranspose2d (T) and Conv2d (s2), 4×4 stride 2 pad 1, batch 128; ms per call "
          + "(best of \(roundsPerSegment * segments) rounds in \(segments) turns each), \(Kernels.threadCount) threads; "
          + (reference.isEmpty ? "PyTorch not found (pass --python with torch installed)" : "PyTorch in the same run")
          + "; im2col: the same layer with Winograd convolution turned off")
    print("layer                 pass        synapse    pytorch   pytorch/synapse    im2col")
    for (name, key, pass) in passNames {
        let seconds = ours[key + "/" + pass]!
        var line = name.padding(toLength: 22, withPad: " ", startingAt: 0) + pass.padding(toLength: 9, withPad: " ", startingAt: 0)
        line += String(format: "%10.3f", seconds * 1e3)
        let index = pass == "forward" ? 0 : pass == "fwd+bwd" ? 1 : nil
        if let index, let theirs = reference[key]?[index] {
            line += String(format: " %10.3f   %.2fx", theirs, theirs / (seconds * 1e3))
        } else {
            line += String(repeating: " ", count: 19)
        }
        if let im2col = ours[key + "/" + pass + "/im2col"] { line += String(format: "       %10.3f", im2col * 1e3) }
        print(line)
    }
}
