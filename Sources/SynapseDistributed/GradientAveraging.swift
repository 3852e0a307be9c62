// Averaging gradients across processes in an order MPI cannot change, and the sum that does it.

import SynapseCore
import SynapseKernels
import SynapseNN

/// The mean of each gradient over the processes of an `MPIProcessGroup`, computed in a fixed
/// order so that it is bitwise the same on every process and in every run at the same
/// process count, whatever algorithm MPI picks for the message size.
///
/// `MPI_Allreduce` adds the processes' values in an order of its own choosing, which changes
/// with the message size, the process count and the tuning of the library, and float
/// addition is not associative. So the sum is split into MPI's two halves by hand: each
/// bucket of gradients (25 MB by default, as DDP) is cut into one segment per process, an
/// all-to-all hands segment j of every process to process j, which adds them in rank order
/// (((g₀ + g₁) + g₂) + …) and divides by N, and an all-gather returns the averaged segments
/// to everyone. Each process sends and receives 2(N − 1)/N of the gradient, as a ring
/// all-reduce does; MPI only moves bytes. When every process runs on one machine the same
/// sum goes through shared memory instead (`sumThroughSharedMemory`).
///
/// With chunks (each process's share of the batch split into m chunks, process r's chunk i
/// being chunk r + i·N of the batch) the sum runs over all N·m chunks in chunk order and
/// divides by N·m: the arithmetic of `ChunkedGradients.average` in one process.
struct GradientAveraging {
    let group: MPIProcessGroup

    /// Averages the parameters' own gradients (`chunks` nil) or the given chunks' gradients
    /// (`chunks[i][p]` for parameter p), and sets the result as every trainable parameter's
    /// gradient; a missing gradient counts as zeros.
    func average(_ parameters: [Parameter], chunks: [[Tensor?]]? = nil) throws {
        let indices = parameters.indices.filter { !parameters[$0].isFrozen }
        let trainable = indices.map { parameters[$0] }
        let sources = chunks.map { chunks in chunks.map { chunk in indices.map { chunk[$0] } } } ?? [trainable.map(\.grad)]
        let total = trainable.reduce(0) { $0 + $1.value.count }
        guard total > 0, group.size > 1 || chunks != nil else { return }
        // The average is written into each gradient's buffer, so every parameter gets one.
        for parameter in trainable where parameter.grad == nil || chunks != nil {
            parameter.setGradient(Tensor.zeros(parameter.shape))
        }
        let ends = trainable.reduce(into: [0]) { $0.append($0.last! + $1.value.count) }
        let bucket = max(group.size, group.bucketBytes / MemoryLayout<Float>.stride)
        for start in stride(from: 0, to: total, by: bucket) {
            let count = min(total, start + bucket) - start
            // Calls `body` with the index of each parameter overlapping `range` (positions in
            // the bucket) and the overlap as positions in that parameter's gradient.
            func pieces(_ range: Range<Int>, _ body: (Int, Range<Int>) throws -> Void) rethrows {
                let global = (start + range.lowerBound)..<(start + range.upperBound)
                var index = ends.firstIndex { $0 > global.lowerBound }! - 1
                while index < trainable.count && ends[index] < global.upperBound {
                    let lower = max(global.lowerBound, ends[index]), upper = min(global.upperBound, ends[index + 1])
                    try body(index, (lower - ends[index])..<(upper - ends[index]))
                    index += 1
                }
            }
            // Chunk i of the bucket goes at slot[i * count ..< (i + 1) * count].
            func fill(_ slot: UnsafeMutablePointer<Float>) {
                for (chunk, gradients) in sources.enumerated() {
                    pieces(0..<count) { index, range in
                        let target = slot + chunk * count + (ends[index] + range.lowerBound - start)
                        if let gradient = gradients[index] {
                            gradient.withUnsafeBufferPointer { target.update(from: $0.baseAddress! + range.lowerBound, count: range.count) }
                        } else {
                            target.update(repeating: 0, count: range.count)
                        }
                    }
                }
            }
            func drain(_ range: Range<Int>, _ source: UnsafePointer<Float>) {
                var consumed = 0
                pieces(range) { index, piece in
                    _ = trainable[index].withUnsafeMutableGradPointer { gradient in
                        (gradient.baseAddress! + piece.lowerBound).update(from: source + consumed, count: piece.count)
                    }
                    consumed += piece.count
                }
            }
            try group.sumInChunkOrder(count: count, chunks: sources.count, dividingBy: Float(group.size * sources.count),
                                      fill: fill, drain: drain)
        }
    }
}

extension MPIProcessGroup {
    /// Replaces `count` floats at `values` with their sum over the processes, added in rank
    /// order and then divided by `divisor` (if given), bitwise the same on every process.
    func sumInRankOrder(_ values: UnsafeMutablePointer<Float>, count: Int, dividingBy divisor: Float? = nil) throws {
        try sumInChunkOrder(count: count, chunks: 1, dividingBy: divisor, fill: { $0.update(from: values, count: count) },
                            drain: { range, source in (values + range.lowerBound).update(from: source, count: range.count) })
    }

    /// The sum in chunk order of every process's `chunks` vectors of `count` floats, then
    /// divided by `divisor` if given, bitwise the same on every process. `fill` writes this process's vectors,
    /// chunk i at [i·count, (i + 1)·count) of the buffer it is given; process r's chunk i is
    /// vector r + i·N of the sum. `drain` receives the result in pieces: a range of the
    /// `count` positions and where that range's sums start.
    func sumInChunkOrder(count: Int, chunks: Int, dividingBy divisor: Float?, fill: (UnsafeMutablePointer<Float>) throws -> Void,
                         drain: (Range<Int>, UnsafePointer<Float>) throws -> Void) throws {
        if size > 1 && usesSharedMemory && nodeSize == size {
            return try sumThroughSharedMemory(count: count, chunks: chunks, dividingBy: divisor, fill: fill, drain: drain)
        }
        let n = size, segment = (count + n - 1) / n
        // Destination j's block holds segment j of each chunk in turn: chunks × segment floats.
        let block = chunks * segment
        let send = UnsafeMutablePointer<Float>.allocate(capacity: n * block)
        let receive = UnsafeMutablePointer<Float>.allocate(capacity: n * block)
        defer {
            send.deallocate()
            receive.deallocate()
        }
        if chunks == 1 {
            // One chunk is already laid out by destination: fill the send buffer directly.
            try fill(send)
            (send + count).update(repeating: 0, count: n * segment - count)
        } else {
            let values = UnsafeMutablePointer<Float>.allocate(capacity: chunks * count)
            defer { values.deallocate() }
            try fill(values)
            for process in 0..<n {
                for chunk in 0..<chunks {
                    let start = min(count, process * segment), end = min(count, start + segment)
                    let target = send + process * block + chunk * segment
                    target.update(from: values + chunk * count + start, count: end - start)
                    (target + (end - start)).update(repeating: 0, count: segment - (end - start))
                }
            }
        }
        if n > 1 {
            try allToAll(send, receive, count: block)
        } else {
            receive.update(from: send, count: block)
        }
        // Vector c = r + i·N is process r's chunk i, at receive[r·block + i·segment].
        let vectors = (0..<(n * chunks)).map { UnsafePointer(receive + ($0 % n) * block + ($0 / n) * segment) }
        Kernels.orderedSum(of: vectors, into: receive, count: segment, dividingBy: divisor)
        if n > 1 {
            try allGather(receive, send, count: segment)
        } else {
            send.update(from: receive, count: segment)
        }
        for process in 0..<n {
            let start = min(count, process * segment), end = min(count, start + segment)
            if start < end { try drain(start..<end, send + process * segment) }
        }
    }
}
