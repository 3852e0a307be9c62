// Elementwise kernels against numpy.

import Foundation
import Synapse
import SynapseKernels

/// Runs the numpy script and returns its seconds per row, or [:] if Python or numpy is unavailable.
func numpyTimes(options: Options) -> [String: Double] {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Benchmarks/numpy_elementwise.py").standardized.path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [options.python, script, String(options.count), String(options.repeats)]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return [:] }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return [:] }
    var times: [String: Double] = [:]
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        let parts = line.split(separator: " ")
        if parts.count == 2, let seconds = Double(parts[1]) { times[String(parts[0])] = seconds }
    }
    return times
}

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

    let reference = numpyTimes(options: options)
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
