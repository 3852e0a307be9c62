import Foundation
import XCTest
@testable import SynapseKernels

final class LayoutTests: XCTestCase {
    func testStridedCopyPermutesAndBroadcasts() {
        // A [2,3] → its transpose [3,2], then a broadcast of a row to [2,3].
        let source: [Float] = [0, 1, 2, 3, 4, 5]
        var out = [Float](repeating: -1, count: 6)
        Kernels.stridedCopy(shape: [3, 2], from: source, strides: [1, 3], to: &out, strides: [2, 1])
        XCTAssertEqual(out, [0, 3, 1, 4, 2, 5])
        Kernels.stridedCopy(shape: [2, 3], from: source, strides: [0, 1], to: &out, strides: [3, 1])
        XCTAssertEqual(out, [0, 1, 2, 0, 1, 2])
        var big = [Float](repeating: 0, count: 40 * 70)
        let matrix = (0..<(70 * 40)).map(Float.init)
        Kernels.stridedCopy(shape: [40, 70], from: matrix, strides: [1, 40], to: &big, strides: [70, 1])
        XCTAssertEqual(big[3 * 70 + 5], matrix[5 * 40 + 3])
    }

    func testTransposeAtOddSizesWithStrides() {
        for (rows, columns) in [(1, 1), (8, 8), (13, 21), (16, 3), (3, 17), (40, 33), (12, 40), (32, 32), (36, 50), (20, 16)] {
            let sourceStride = columns + 2, destinationStride = rows + 3
            let source = (0..<(rows * sourceStride)).map(Float.init)
            var destination = [Float](repeating: -1, count: columns * destinationStride)
            Kernels.transpose(source, sourceStride: sourceStride, rows: rows, columns: columns,
                              into: &destination, destinationStride: destinationStride)
            for r in 0..<rows {
                for c in 0..<columns {
                    XCTAssertEqual(destination[c * destinationStride + r], source[r * sourceStride + c], "\(rows)×\(columns) at \(r),\(c)")
                }
            }
            XCTAssertEqual(destination[rows], -1, "padding between destination rows is left alone")
        }
    }

    func testReduceMatchesNaiveSums() {
        let (outer, size, inner) = (3, 1000, 5)
        let x = (0..<(outer * size * inner)).map { Float(($0 * 37) % 101) / 10 }
        var out = [Float](repeating: 0, count: outer * inner)
        Kernels.reduce(.sum, x, &out, outer: outer, size: size, inner: inner)
        var maxima = [Float](repeating: 0, count: outer * inner)
        Kernels.reduce(.max, x, &maxima, outer: outer, size: size, inner: inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var total = 0.0
                var best = -Float.infinity
                for k in 0..<size {
                    let v = x[(o * size + k) * inner + i]
                    total += Double(v)
                    best = max(best, v)
                }
                XCTAssertEqual(Double(out[o * inner + i]), total, accuracy: total * 1e-6)
                XCTAssertEqual(maxima[o * inner + i], best)
            }
        }
    }

    func testReductionsAndSoftmaxAreBitwiseIdenticalAcrossThreadCounts() {
        defer { Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount }
        let x = (0..<(1 << 20)).map { Float(($0 * 7919) % 10007) / 1000 - 5 }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            Kernels.threadCount = threads
            var total: Float = 0, columns = [Float](repeating: 0, count: 1024), rows = [Float](repeating: 0, count: 1024)
            var softmax = [Float](repeating: 0, count: x.count)
            Kernels.reduce(.sum, x, &total, outer: 1, size: x.count, inner: 1)
            Kernels.reduce(.sum, x, &columns, outer: 1, size: 1024, inner: 1024)
            Kernels.reduce(.max, x, &rows, outer: 1024, size: 1024, inner: 1)
            Kernels.softmax(x, &softmax, outer: 1024, size: 1024, inner: 1, log: false)
            results.append([total] + columns + rows + softmax)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }

    func testMomentsMatchTwoPassDoubleReference() {
        let (batch, channels, plane) = (3, 5, 70)
        // A large offset makes a one-pass E[x²] − E[x]² formula lose most of its digits.
        let x: [Float] = (0..<(batch * channels * plane)).map { index in
            let wobble = Float((index * 37) % 101) / 10
            return 1000 + wobble
        }
        var rowMean = [Float](repeating: 0, count: batch * channels), rowVariance = rowMean
        Kernels.rowMoments(x, rows: batch * channels, size: plane, mean: &rowMean, variance: &rowVariance)
        var channelMean = [Float](repeating: 0, count: channels), channelVariance = channelMean
        Kernels.channelMoments(x, batch: batch, channels: channels, plane: plane, mean: &channelMean, variance: &channelVariance)
        func moments(_ values: [Float]) -> (Double, Double) {
            var total = 0.0
            for value in values { total += Double(value) }
            let mean = total / Double(values.count)
            var squares = 0.0
            for value in values { squares += (Double(value) - mean) * (Double(value) - mean) }
            return (mean, squares / Double(values.count))
        }
        for r in 0..<(batch * channels) {
            let (mean, variance) = moments(Array(x[(r * plane)..<((r + 1) * plane)]))
            XCTAssertEqual(Double(rowMean[r]), mean, accuracy: 1e-3)
            XCTAssertEqual(Double(rowVariance[r]), variance, accuracy: variance * 1e-3)
        }
        for c in 0..<channels {
            var values: [Float] = []
            for n in 0..<batch { values += x[((n * channels + c) * plane)..<((n * channels + c + 1) * plane)] }
            let (mean, variance) = moments(values)
            XCTAssertEqual(Double(channelMean[c]), mean, accuracy: 1e-3)
            XCTAssertEqual(Double(channelVariance[c]), variance, accuracy: variance * 1e-3)
        }
    }

    func testThreadedBroadcastMatchesSerial() {
        defer { Kernels.threadCount = ProcessInfo.processInfo.activeProcessorCount }
        // [37, 5, 900] + [5, 1]: many rows, split across tasks at arbitrary row boundaries.
        let a = (0..<(37 * 5 * 900)).map { Float($0 % 1013) }, b: [Float] = [1, 2, 3, 4, 5]
        let layout = BroadcastLayout(shape: [37, 5, 900], stridesA: [4500, 900, 1], stridesB: [0, 1, 0])
        var results: [[Float]] = []
        for threads in [1, 3] {
            Kernels.threadCount = threads
            var out = [Float](repeating: 0, count: a.count)
            Kernels.binary(.multiply, a, b, &out, layout: layout)
            results.append(out)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0][(12 * 5 + 3) * 900 + 17], a[(12 * 5 + 3) * 900 + 17] * 4)
    }

    func testBroadcastLayoutMergesDimensions() {
        let layout = BroadcastLayout(shape: [2, 3, 4], stridesA: [12, 4, 1], stridesB: [0, 0, 1])
        XCTAssertEqual(layout.shape, [6, 4])
        XCTAssertEqual(layout.stridesA, [4, 1])
        XCTAssertEqual(layout.stridesB, [0, 1])
    }
}
