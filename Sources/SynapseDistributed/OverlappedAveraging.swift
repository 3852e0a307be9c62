// Gradient averaging that starts during backward(), bucket by bucket.

import CSynapseMPI
import SynapseCore
import SynapseKernels
import SynapseNN
import SynapseTrain

/// The all-to-all path of `GradientAveraging`, started while `backward()` runs, as DDP and
/// Horovod do: the parameters are cut into buckets of `bucketBytes` in reverse order (the
/// order in which backward usually finishes them); when the last gradient of a bucket is
/// final, its segments leave in a non-blocking all-to-all, which moves while backward
/// computes the earlier layers. `finish()` then adds each bucket's segments in rank order,
/// divides, and gathers them back, so the averages are bitwise those of `averageGradients`.
///
/// Every process starts the same collectives in the same order, as MPI requires: the
/// buckets' all-to-alls in the order their gradients complete (the same graph on every
/// process), then their all-gathers in that order.
final class OverlappedGradientAveraging: OverlappedAveraging {
    private final class Bucket {
        /// Indices into the trainable parameters, and where each starts in the bucket.
        var members: [(parameter: Int, offset: Int)] = []
        var count = 0
        var waiting = 0
        var send: UnsafeMutablePointer<Float>?
        var receive: UnsafeMutablePointer<Float>?
        var request: UnsafeMutableRawPointer?
        var segment: Int { (count + size - 1) / size }
        let size: Int
        init(size: Int) { self.size = size }
        deinit {
            send?.deallocate()
            receive?.deallocate()
        }
    }

    private let group: MPIProcessGroup
    private let trainable: [Parameter]
    /// For each of the parameters given, its place among the trainable ones (nil if frozen).
    private let trainableIndex: [Int?]
    private let buckets: [Bucket]
    private let bucketOf: [Int]
    private var started: [Bucket] = []
    private var failure: Error?

    init(group: MPIProcessGroup, parameters: [Parameter]) {
        self.group = group
        var trainable: [Parameter] = [], trainableIndex: [Int?] = []
        for parameter in parameters {
            trainableIndex.append(parameter.isFrozen ? nil : trainable.count)
            if !parameter.isFrozen { trainable.append(parameter) }
        }
        self.trainable = trainable
        self.trainableIndex = trainableIndex
        let limit = max(group.size, group.bucketBytes / MemoryLayout<Float>.stride)
        var buckets: [Bucket] = [], bucketOf = [Int](repeating: 0, count: trainable.count)
        for index in trainable.indices.reversed() {
            if buckets.isEmpty || buckets.last!.count >= limit { buckets.append(Bucket(size: group.size)) }
            let bucket = buckets.last!
            bucket.members.append((index, bucket.count))
            bucket.count += trainable[index].value.count
            bucket.waiting += 1
            bucketOf[index] = buckets.count - 1
        }
        self.buckets = buckets
        self.bucketOf = bucketOf
    }

    func gradientIsReady(_ index: Int) {
        guard failure == nil, let position = trainableIndex[index] else { return }
        let bucket = buckets[bucketOf[position]]
        bucket.waiting -= 1
        do {
            try group.timed {
                if bucket.waiting == 0 { try start(bucket) }
                // Open MPI moves non-blocking collectives along only inside MPI calls.
                for earlier in started {
                    var done: Int32 = 0
                    try MPIProcessGroup.check(synapse_mpi_test(&earlier.request, &done), "MPI_Test")
                }
            }
        } catch {
            failure = error
        }
    }

    private func start(_ bucket: Bucket) throws {
        let n = group.size, segment = bucket.segment
        let send = UnsafeMutablePointer<Float>.allocate(capacity: n * segment)
        let receive = UnsafeMutablePointer<Float>.allocate(capacity: n * segment)
        bucket.send = send
        bucket.receive = receive
        for (parameter, offset) in bucket.members {
            let count = trainable[parameter].value.count
            if let gradient = trainable[parameter].grad {
                gradient.withUnsafeBufferPointer { (send + offset).update(from: $0.baseAddress!, count: count) }
            } else {
                (send + offset).update(repeating: 0, count: count)
            }
        }
        (send + bucket.count).update(repeating: 0, count: n * segment - bucket.count)
        var request: UnsafeMutableRawPointer?
        try MPIProcessGroup.check(synapse_mpi_ialltoall_float(send, receive, segment, &request), "MPI_Ialltoall")
        bucket.request = request
        started.append(bucket)
    }

    func finish() throws {
        if let failure { throw failure }
        try group.timed {
            // Every gradient was reported by now; start what is left in bucket order.
            for bucket in buckets where bucket.send == nil { try start(bucket) }
            let n = group.size, divisor = Float(n)
            for bucket in started {
                try MPIProcessGroup.check(synapse_mpi_wait(&bucket.request), "MPI_Wait")
                let receive = bucket.receive!, segment = bucket.segment
                Kernels.orderedSum(of: (0..<n).map { UnsafePointer(receive + $0 * segment) }, into: receive, count: segment,
                                   dividingBy: divisor)
                var request: UnsafeMutableRawPointer?
                try MPIProcessGroup.check(synapse_mpi_iallgather_float(receive, bucket.send!, segment, &request), "MPI_Iallgather")
                bucket.request = request
            }
            for bucket in started {
                try MPIProcessGroup.check(synapse_mpi_wait(&bucket.request), "MPI_Wait")
                for (index, offset) in bucket.members {
                    let parameter = trainable[index], source = bucket.send! + offset
                    // Written into the gradient's own buffer; one that backward did not reach gets one.
                    if parameter.grad == nil { parameter.setGradient(Tensor.zeros(parameter.shape)) }
                    _ = parameter.withUnsafeMutableGradPointer { $0.baseAddress!.update(from: source, count: $0.count) }
                }
            }
        }
    }
}

extension MPIProcessGroup {
    /// Overlapped averaging for the message path between machines; nil on one machine, where
    /// the shared-memory sum is work for the same cores that run backward, or with
    /// `overlapsCommunication` off.
    public func overlappedAveraging(of parameters: [Parameter]) -> (any OverlappedAveraging)? {
        guard size > 1, overlapsCommunication, !(usesSharedMemory && nodeSize == size) else { return nil }
        return OverlappedGradientAveraging(group: self, parameters: parameters)
    }
}
