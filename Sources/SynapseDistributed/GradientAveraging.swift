// Averaging gradients across processes in an order MPI cannot change, and the sum that does it.

import SynapseCore
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
/// all-reduce does; MPI only moves bytes.
struct GradientAveraging {
    let group: MPIProcessGroup

    func average(_ parameters: [Parameter]) throws {
        let trainable = parameters.filter { !$0.isFrozen }
        let total = trainable.reduce(0) { $0 + $1.value.count }
        guard group.size > 1, total > 0 else { return }
        if group.usesSharedMemory && group.nodeSize == group.size { return try averageThroughSharedMemory(trainable, total: total) }
        var flat = [Float](repeating: 0, count: total)
        var offset = 0
        for parameter in trainable {
            let count = parameter.value.count
            if let gradient = parameter.grad {
                gradient.withUnsafeBufferPointer { source in
                    flat.withUnsafeMutableBufferPointer { target in
                        (target.baseAddress! + offset).update(from: source.baseAddress!, count: count)
                    }
                }
            }
            offset += count
        }
        let bucket = max(group.size, group.bucketBytes / MemoryLayout<Float>.stride)
        try flat.withUnsafeMutableBufferPointer { buffer in
            for start in stride(from: 0, to: total, by: bucket) {
                try group.sumInRankOrder(buffer.baseAddress! + start, count: min(bucket, total - start), dividingBy: Float(group.size))
            }
        }
        offset = 0
        for parameter in trainable {
            let count = parameter.value.count
            parameter.setGradient(Tensor(Array(flat[offset..<offset + count]), shape: parameter.shape))
            offset += count
        }
    }

    /// The same average through shared memory, copying each gradient straight into the shared
    /// slot and the result straight back into the gradient's own buffer, bucket by bucket.
    private func averageThroughSharedMemory(_ trainable: [Parameter], total: Int) throws {
        // The averaged gradient is written in place, so a parameter that backward() did not
        // reach gets a zero gradient to hold it.
        for parameter in trainable where parameter.grad == nil { parameter.setGradient(Tensor.zeros(parameter.shape)) }
        let ends = trainable.reduce(into: [0]) { $0.append($0.last! + $1.value.count) }
        let bucket = max(group.size, group.bucketBytes / MemoryLayout<Float>.stride)
        for start in stride(from: 0, to: total, by: bucket) {
            let end = min(total, start + bucket)
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
            try group.sumThroughSharedMemory(count: end - start, dividingBy: Float(group.size), fill: { slot in
                pieces(0..<(end - start)) { index, range in
                    trainable[index].grad!.withUnsafeBufferPointer { gradient in
                        (slot + (ends[index] + range.lowerBound - start)).update(from: gradient.baseAddress! + range.lowerBound, count: range.count)
                    }
                }
            }, drain: { range, source in
                var consumed = 0
                pieces(range) { index, piece in
                    _ = trainable[index].withUnsafeMutableGradPointer { gradient in
                        (gradient.baseAddress! + piece.lowerBound).update(from: source + consumed, count: piece.count)
                    }
                    consumed += piece.count
                }
            })
        }
    }
}

extension MPIProcessGroup {
    /// Replaces `count` floats at `values` with their sum over the processes, added in rank
    /// order and then divided by `divisor` (if given), bitwise the same on every process.
    func sumInRankOrder(_ values: UnsafeMutablePointer<Float>, count: Int, dividingBy divisor: Float? = nil) throws {
        let n = size
        guard n > 1 else {
            if let divisor { for index in 0..<count { values[index] /= divisor } }
            return
        }
        if usesSharedMemory && nodeSize == n { return try sumThroughSharedMemory(values, count: count, dividingBy: divisor) }
        let segment = (count + n - 1) / n
        let send = UnsafeMutablePointer<Float>.allocate(capacity: n * segment)
        let receive = UnsafeMutablePointer<Float>.allocate(capacity: n * segment)
        defer {
            send.deallocate()
            receive.deallocate()
        }
        send.update(from: values, count: count)
        (send + count).initialize(repeating: 0, count: n * segment - count)
        try allToAll(send, receive, count: segment)
        // Process j's copy of this process's segment is at receive[j * segment]; add them in
        // rank order into the first block.
        for process in 1..<n {
            let addend = receive + process * segment
            for index in 0..<segment { receive[index] += addend[index] }
        }
        if let divisor { for index in 0..<segment { receive[index] /= divisor } }
        try allGather(receive, send, count: segment)
        values.update(from: send, count: count)
    }
}
