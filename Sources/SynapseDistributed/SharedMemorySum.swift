// The rank-ordered sum through memory that the processes of one machine share.

import CSynapseMPI
import SynapseKernels

/// Each process's part of an MPI-3 shared-memory window: two halves of `capacity` floats,
/// used in turn by successive sums.
struct SharedWindow {
    var bases: [UnsafeMutablePointer<Float>] = []
    var capacity = 0
    var half = 0
}

extension MPIProcessGroup {
    /// The sum of `sumInChunkOrder`, bitwise, for processes that share this machine's memory.
    /// Each process writes its chunks into its own slot; after a barrier, process j adds
    /// segment j of every process's every chunk in chunk order (((v₀ + v₁) + v₂) + …),
    /// divides, and writes the result over segment j of its own slot's first chunk, which no
    /// other process reads; after a second barrier every process reads the segments back.
    /// Successive sums alternate between two halves of each slot, so a fast process's next
    /// write never lands where a slow one is still reading: two barriers per sum, not three.
    func sumThroughSharedMemory(count: Int, chunks: Int, dividingBy divisor: Float?, fill: (UnsafeMutablePointer<Float>) throws -> Void,
                                drain: (Range<Int>, UnsafePointer<Float>) throws -> Void) throws {
        let n = size
        if sharedWindow.capacity < chunks * count { try allocateSharedWindow(capacity: chunks * count) }
        let offset = sharedWindow.half * sharedWindow.capacity
        sharedWindow.half ^= 1
        let slots = sharedWindow.bases.map { $0 + offset }
        try fill(slots[rank])
        try Self.check(synapse_mpi_shared_synchronize(), "MPI_Win_sync")
        let segment = (count + n - 1) / n
        let lower = min(count, rank * segment), upper = min(count, lower + segment)
        let vectors = (0..<(n * chunks)).map { UnsafePointer(slots[$0 % n] + ($0 / n) * count + lower) }
        Kernels.orderedSum(of: vectors, into: slots[rank] + lower, count: upper - lower, dividingBy: divisor)
        try Self.check(synapse_mpi_shared_synchronize(), "MPI_Win_sync")
        for process in 0..<n {
            let start = min(count, process * segment), end = min(count, start + segment)
            if start < end { try drain(start..<end, slots[process] + start) }
        }
    }

    /// Replaces the shared window with one of two halves of `capacity` floats per process
    /// (collective: every process asks for the same capacity, as their sums have the same sizes).
    private func allocateSharedWindow(capacity: Int) throws {
        var bases = [UnsafeMutableRawPointer?](repeating: nil, count: size)
        try Self.check(synapse_mpi_shared_allocate(2 * capacity * MemoryLayout<Float>.stride, &bases, Int32(size)),
                       "MPI_Win_allocate_shared")
        sharedWindow = SharedWindow(bases: bases.map { $0!.assumingMemoryBound(to: Float.self) }, capacity: capacity, half: 0)
    }
}
