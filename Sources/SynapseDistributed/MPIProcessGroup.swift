// The process group of an MPI job (Open MPI, loaded at run time).

import CSynapseMPI
import Foundation
import SynapseCore
import SynapseNN
import SynapseTrain

/// Why a distributed run could not start or continue.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// MPI is not installed, or is not Open MPI; the message says what to install.
    case unavailable(String)
    /// An MPI call returned an error code.
    case callFailed(String, code: Int32)
    /// The processes were not started with the same configuration.
    case configurationMismatch(String)

    public var description: String {
        switch self {
        case .unavailable(let message): return "--distributed: \(message)"
        case let .callFailed(call, code): return "MPI: \(call) failed with error code \(code)"
        case .configurationMismatch(let message): return message
        }
    }
}

/// The processes started by `mpirun`, as a `ProcessGroup`. Gradients are averaged with
/// `averageGradients` in an order that MPI's algorithms cannot change (see
/// `GradientAveraging`), so a run at a fixed process count repeats bit for bit.
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let size: Int
    /// How many processes of the job run on this machine (Open MPI's
    /// OMPI_COMM_WORLD_LOCAL_SIZE), to share its cores among them.
    public let localSize: Int
    /// Bytes per gradient bucket: 25 MB, as PyTorch's DDP.
    public var bucketBytes = 25 << 20
    /// Seconds spent in gradient averaging and other collectives so far (the share of a step
    /// spent communicating).
    public private(set) var communicationSeconds = 0.0
    /// Whether sums go through memory shared by the processes (MPI-3 shared windows) rather
    /// than MPI's messages: true by default when every process runs on this machine, where
    /// Open MPI's own collectives moved 0.7–5.2 GB/s against 9–35 for a plain copy (BENCHMARKS.md).
    /// Both give bitwise the same sums. Setting it to true has no effect on a job spread over
    /// several machines.
    public var usesSharedMemory: Bool
    /// Whether gradient averaging between machines starts during `backward()`, bucket by
    /// bucket (default: true; SYNAPSE_MPI_OVERLAP=0 turns it off). The averages are the same
    /// bits either way.
    public var overlapsCommunication = ProcessInfo.processInfo.environment["SYNAPSE_MPI_OVERLAP"] != "0"
    /// The shared window's slots, once a sum has needed them.
    var sharedWindow = SharedWindow()

    nonisolated(unsafe) private static var shared: MPIProcessGroup?
    nonisolated(unsafe) private static var finalized = false

    /// The job's process group: loads libmpi and initializes MPI on the first call (from the
    /// thread that will make every later MPI call), or throws `DistributedError.unavailable`
    /// saying what to install.
    public static func start() throws -> MPIProcessGroup {
        if let shared { return shared }
        guard !finalized else { throw DistributedError.unavailable("MPI was already finalized in this process") }
        var message = [CChar](repeating: 0, count: 512)
        guard synapse_mpi_load(&message, message.count) == 0 else {
            throw DistributedError.unavailable(String(cString: message))
        }
        try check(synapse_mpi_init(), "MPI_Init_thread")
        let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
        var nodeSize: Int32 = 0
        try check(synapse_mpi_node_size(&nodeSize), "MPI_Comm_split_type")
        let group = MPIProcessGroup(rank: Int(synapse_mpi_rank()), size: Int(synapse_mpi_size()), localSize: max(1, local),
                                    nodeSize: Int(nodeSize))
        shared = group
        return group
    }

    private init(rank: Int, size: Int, localSize: Int, nodeSize: Int) {
        self.rank = rank
        self.size = size
        self.localSize = localSize
        self.nodeSize = nodeSize
        usesSharedMemory = nodeSize == size && ProcessInfo.processInfo.environment["SYNAPSE_MPI_SHARED_MEMORY"] != "0"
    }

    /// How many of the job's processes run on this machine (those that can share memory).
    let nodeSize: Int

    /// Waits for every process, then shuts MPI down. Call it once, at the end of the job.
    public func finish() throws {
        try barrier()
        try Self.check(synapse_mpi_finalize(), "MPI_Finalize")
        Self.shared = nil
        Self.finalized = true
    }

    /// Ends every process of the job at once with `code`: for an error on one rank that the
    /// others would otherwise wait on in their next collective.
    public func abort(code: Int32) -> Never {
        synapse_mpi_abort(code)
        exit(code)
    }

    public func barrier() throws {
        try timed { try Self.check(synapse_mpi_barrier(), "MPI_Barrier") }
    }

    public func sum(_ values: [Double]) throws -> [Double] {
        var values = values
        try timed { try Self.check(synapse_mpi_allreduce_double_sum(&values, values.count), "MPI_Allreduce") }
        return values
    }

    /// Element-wise maxima of `values` over the processes.
    public func maximum(_ values: [Double]) throws -> [Double] {
        var values = values
        try timed { try Self.check(synapse_mpi_allreduce_double_max(&values, values.count), "MPI_Allreduce") }
        return values
    }

    /// Rank 0's bytes on every process.
    public func broadcast(_ bytes: inout [UInt8]) throws {
        try timed {
            try bytes.withUnsafeMutableBytes { try Self.check(synapse_mpi_broadcast($0.baseAddress, $0.count, 0), "MPI_Bcast") }
        }
    }

    /// Rank 0's floats on every process.
    public func broadcast(_ floats: inout [Float]) throws {
        try timed {
            try floats.withUnsafeMutableBytes { try Self.check(synapse_mpi_broadcast($0.baseAddress, $0.count, 0), "MPI_Bcast") }
        }
    }

    /// Every process's `bytes` (the same count on each), in rank order.
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var gathered = [UInt8](repeating: 0, count: bytes.count * size)
        try timed {
            try Self.check(synapse_mpi_allgather_bytes(bytes, &gathered, bytes.count), "MPI_Allgather")
        }
        return (0..<size).map { Array(gathered[$0 * bytes.count..<($0 + 1) * bytes.count]) }
    }

    /// Rank r sends `send[j*count ..< (j+1)*count]` to rank j and receives rank j's block r
    /// at `receive[j*count ..< (j+1)*count]`.
    func allToAll(_ send: UnsafePointer<Float>, _ receive: UnsafeMutablePointer<Float>, count: Int) throws {
        try Self.check(synapse_mpi_alltoall_float(send, receive, count), "MPI_Alltoall")
    }

    /// Every process's `count` floats at `send`, in rank order at `receive`.
    func allGather(_ send: UnsafePointer<Float>, _ receive: UnsafeMutablePointer<Float>, count: Int) throws {
        try Self.check(synapse_mpi_allgather_float(send, receive, count), "MPI_Allgather")
    }

    /// Checks that every process has a model with the same parameter names and shapes, then
    /// broadcasts rank 0's parameters and buffers.
    public func synchronize(_ module: Module) throws {
        try checkSameConfiguration("parameters " + module.namedParameters.map { "\($0.0)\($0.1.shape)" }.joined(separator: ", ")
                                   + "; buffers " + module.namedBuffers.map { "\($0.0)\($0.1.value.shape)" }.joined(separator: ", "))
        let parameters = module.parameters.map(\.value)
        let buffers = module.namedBuffers.map(\.1)
        var flat = [Float]()
        flat.reserveCapacity(parameters.reduce(0) { $0 + $1.count } + buffers.reduce(0) { $0 + $1.value.count })
        for tensor in parameters { flat += tensor.scalars }
        for buffer in buffers { flat += buffer.value.scalars }
        try broadcast(&flat)
        guard rank != 0 else { return }
        var offset = 0
        for parameter in module.parameters {
            let count = parameter.value.count
            let values = Array(flat[offset..<offset + count])
            parameter.updateInPlace { target in for index in 0..<count { target[index] = values[index] } }
            offset += count
        }
        for buffer in buffers {
            let count = buffer.value.count
            buffer.value = Tensor(Array(flat[offset..<offset + count]), shape: buffer.value.shape)
            offset += count
        }
    }

    /// Replaces the floats in `buffer` with their sum over the processes, added in rank order
    /// in buckets of `bucketBytes`, bitwise the same on every process whatever the message
    /// size (the sum that `averageGradients` uses).
    public func sumInRankOrder(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = buffer.baseAddress else { return }
        let bucket = max(size, bucketBytes / MemoryLayout<Float>.stride)
        try timed {
            for start in stride(from: 0, to: buffer.count, by: bucket) {
                try sumInRankOrder(base + start, count: min(bucket, buffer.count - start))
            }
        }
    }

    /// The same sum by MPI_Allreduce, in an order of MPI's choosing: for comparison in
    /// benchmarks, not for training.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try timed { try Self.check(synapse_mpi_allreduce_float_sum(buffer.baseAddress, buffer.count), "MPI_Allreduce") }
    }

    public func averageGradients(_ parameters: [Parameter]) throws {
        try timed { try GradientAveraging(group: self).average(parameters) }
    }

    public func averageGradients(_ parameters: [Parameter], chunks: [[Tensor?]]) throws {
        try timed { try GradientAveraging(group: self).average(parameters, chunks: chunks) }
    }

    /// Checks that every process runs with the same `configuration` (the model, the shapes,
    /// the flags): a process started differently would train a different model, or wait
    /// forever for a collective the others never reach. On a mismatch every process throws
    /// the same message, naming the ranks that differ from rank 0 with their configurations
    /// and rank 0's.
    public func checkSameConfiguration(_ configuration: String) throws {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in configuration.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let hashes = try allGather(withUnsafeBytes(of: hash.littleEndian) { Array($0) })
        let differing = hashes.indices.filter { hashes[$0] != hashes[0] }
        guard !differing.isEmpty else { return }
        var bytes = Array(configuration.utf8)
        let longest = Int(try maximum([Double(bytes.count)])[0])
        bytes += [UInt8](repeating: 0, count: longest - bytes.count)
        let configurations = try allGather(bytes).map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        throw DistributedError.configurationMismatch(
            "--distributed: rank\(differing.count > 1 ? "s" : "") \(differing.map(String.init).joined(separator: ", ")) "
            + "started with a different configuration from rank 0 ("
            + ([0] + differing).map { "rank \($0): \(configurations[$0])" }.joined(separator: "; ")
            + "); start every process with the same command")
    }

    /// Runs `body`, counting its time as communication.
    func timed<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    static func check(_ status: Int32, _ call: String) throws {
        guard status == 0 else { throw DistributedError.callFailed(call, code: status) }
    }
}
