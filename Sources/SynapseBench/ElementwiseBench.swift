// Elementwise kernels against numpy.

import Foundation
import Synapse
import SynapseKernels

func elementwiseBenchmark(options: Options) {
    let n = options.count
    let a = Tensor.randn([n], seed: 1), b = Tensor.randn([n], seed: 2)
    var out = Tensor.zeros([n])
    let bytes = Double(n * MemoryLayout<Float>.size)

    // (name, bytes moved per run, body)
    let rows: [(String, Double, () -> Void)] = [
        ("memcpy", 2 * bytes, {
            a.withUnsafeBufferPointer { source in
                out.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: source.baseAddress!, count: n) }
            }
        }),
        ("add", 3 * bytes, { _ = a + b }),
        ("add_into", 3 * bytes, {
            a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { y in
                    out.withUnsafeMutableBufferPointer { z in
                        Kernels.binary(.add, x.baseAddress!, y.baseAddress!, z.baseAddress!,
                                       layout: BroadcastLayout(shape: [n], stridesA: [1], stridesB: [1]))
                    }
                }
            }
        }),
        ("mul", 3 * bytes, { _ = a * b }),
        ("exp", 2 * bytes, { _ = a.exp() }),
        ("sum", bytes, { _ = a.sum() }),
    ]

    let reference = referenceTimes(python: options.python, script: "numpy_elementwise.py",
                                   arguments: [String(options.count), String(options.repeats)]).mapValues { $0[0] }
    print("Synapse elementwise kernels, \(n) Float32 elements, best of \(options.repeats); numpy on the same machine")
    print("op        synapse ms   GB/s   numpy ms   GB/s   numpy/synapse time")
    for (name, moved, body) in rows {
        let seconds = bestTime(repeats: options.repeats, body)
        var line = name.padding(toLength: 10, withPad: " ", startingAt: 0)
        line += String(format: "%10.2f %6.1f", seconds * 1e3, moved / seconds / 1e9)
        if let theirs = reference[name] {
            line += String(format: " %10.2f %6.1f   %.2fx", theirs * 1e3, moved / theirs / 1e9, theirs / seconds)
        } else {
            line += "          -      -   -"
        }
        print(line)
    }
}
