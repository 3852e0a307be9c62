// Gradient all-reduce under mpirun: Synapse's rank-ordered sum against MPI_Allreduce and memcpy.

import Foundation
import SynapseDistributed
import SynapseKernels

/// Times, for buffers of 1, 4, 25 and 100 MB, Synapse's rank-ordered sum (what
/// `averageGradients` runs: through shared memory when every process is on this machine,
/// else as all-to-all, adds in rank order, all-gather), the same sum forced through MPI's
/// messages, Open MPI's own MPI_Allreduce, and a memcpy of the same bytes, alternating them
/// round by round. Run it under mpirun; rank 0 prints. Bandwidth is the gradient's bytes over
/// the seconds. Checks that Synapse's two paths give the same bits and MPI_Allreduce the
/// same sums to rounding.
func allReduceBenchmark(options: Options) {
    let group: MPIProcessGroup
    do { group = try MPIProcessGroup.start() } catch {
        print("allreduce: \(error) (run it as mpirun -np 2 … synapse-bench allreduce)")
        return
    }
    // As training under mpirun: the machine's cores shared among its processes.
    if ProcessInfo.processInfo.environment["SYNAPSE_NUM_THREADS"] == nil {
        Kernels.threadCount = max(1, ProcessInfo.processInfo.activeProcessorCount / group.localSize)
    }
    let primary = group.rank == 0
    if primary {
        print("allreduce over \(group.size) processes, best of \(options.rounds) rounds (GB/s of gradient; ms per call)")
        print("size     rank-ordered sum\(group.usesSharedMemory ? " (shm)" : "      ")  rank-ordered, all-to-all  MPI_Allreduce           memcpy                  ordered/allreduce")
    }
    for megabytes in [1, 4, 25, 100] where options.includes("\(megabytes)MB") {
        let count = megabytes << 18
        let source = (0..<count).map { Float(($0 &* 2_654_435_761 &+ group.rank) % 1000) / 1000 }
        // Each its own buffer, written before timing (the stores force the copies), so no
        // timed round pays for fresh pages.
        var values = source, copy = source
        values[0] = source[0]
        copy[0] = source[0]
        func restore() { values.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: source) } }
        var ordered = Double.infinity, messages = Double.infinity, reference = Double.infinity, memcpyTime = Double.infinity
        func time(_ body: () throws -> Void) -> Double {
            do {
                try group.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } catch {
                FileHandle.standardError.write(Data("synapse-bench allreduce: \(error)\n".utf8))
                exit(1)
            }
        }
        var largestDifference: Float = 0, pathsDiffer = false
        for _ in 0..<options.rounds {
            restore()
            ordered = min(ordered, time { try values.withUnsafeMutableBufferPointer { try group.sumInRankOrder($0) } })
            let orderedSum = Array(values)
            restore()
            let shared = group.usesSharedMemory
            group.usesSharedMemory = false
            messages = min(messages, time { try values.withUnsafeMutableBufferPointer { try group.sumInRankOrder($0) } })
            group.usesSharedMemory = shared
            pathsDiffer = pathsDiffer || values != orderedSum
            restore()
            reference = min(reference, time { try values.withUnsafeMutableBufferPointer { try group.allReduceSum($0) } })
            for index in stride(from: 0, to: count, by: 997) {
                largestDifference = max(largestDifference, abs(values[index] - orderedSum[index]))
            }
            memcpyTime = min(memcpyTime, time {
                copy.withUnsafeMutableBytes { target in source.withUnsafeBytes { target.copyMemory(from: $0) } }
            })
        }
        guard primary else { continue }
        let bytes = Double(count * MemoryLayout<Float>.stride)
        func cell(_ seconds: Double) -> String {
            String(format: "%6.2f GB/s %7.2f ms", bytes / seconds / 1e9, seconds * 1e3).padding(toLength: 26, withPad: " ", startingAt: 0)
        }
        var line = "\(megabytes) MB".padding(toLength: 9, withPad: " ", startingAt: 0)
        line += cell(ordered) + cell(messages) + cell(reference) + cell(memcpyTime) + String(format: "%.2f×", ordered / reference)
        if largestDifference > 1e-5 * Float(group.size) { line += "  (MPI_Allreduce differs by \(largestDifference))" }
        if pathsDiffer { line += "  (shared memory and all-to-all differ: a bug)" }
        print(line)
    }
    try? group.finish()
}
