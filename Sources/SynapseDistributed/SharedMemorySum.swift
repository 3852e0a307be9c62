// The rank-ordered sum through memory that the processes of one machine share.

import CSynapseMPI

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
        let block = 1024
        let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: block)
        defer { accumulator.deallocate() }
        for start in stride(from: lower, to: upper, by: block) {
            let length = min(block, upper - start)
            accumulator.update(from: slots[0] + start, count: length)
            for vector in 1..<(n * chunks) {
                Self.add(slots[vector % n] + (vector / n) * count + start, into: accumulator, count: length)
            }
            if let divisor { for index in 0..<length { accumulator[index] /= divisor } }
            (slots[rank] + start).update(from: accumulator, count: length)
        }
        try Self.check(synapse_mpi_shared_synchronize(), "MPI_Win_sync")
        for process in 0..<n {
            let start = min(count, process * segment), end = min(count, start + segment)
            if start < end { try drain(start..<end, slots[process] + start) }
        }
    }

    /// accumulator[i] += addend[i], sixteen lanes at a time.
    private static func add(_ addend: UnsafePointer<Float>, into accumulator: UnsafeMutablePointer<Float>, count: Int) {
        let raw = UnsafeRawPointer(addend), target = UnsafeMutableRawPointer(accumulator)
        let stride = MemoryLayout<SIMD16<Float>>.stride
        var index = 0
        while index + 16 <= count {
            let sum = target.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
                + raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            target.storeBytes(of: sum, toByteOffset: index * 4, as: SIMD16<Float>.self)
            index += stride / 4
        }
        while index < count {
            accumulator[index] += addend[index]
            index += 1
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
