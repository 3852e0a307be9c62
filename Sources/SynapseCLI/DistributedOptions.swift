// `--distributed`, shared by the training commands: data-parallel training under mpirun.

import ArgumentParser
import Foundation
import Synapse
import SynapseDistributed
import SynapseKernels

struct DistributedOptions: ParsableArguments {
    @Flag(help: "Train data-parallel over the processes started by mpirun (Open MPI): --batch-size is per process, rank 0 prints and writes every file.")
    var distributed = false
    @Flag(help: "With --distributed: batch normalization uses the statistics of the whole global batch, summed across processes (PyTorch's SyncBatchNorm), instead of each process's share.")
    var syncBatchNorm = false

    @Option(help: ArgumentHelp("Split each global batch into this many chunks whose gradients are summed in chunk order, whichever process computed them: runs with the same --chunks train to the same bits at any process count that divides it, one process included (default: the process count).", valueName: "count"))
    var chunks: Int?

    func validate() throws {
        guard !syncBatchNorm || distributed else { throw ValidationError("--sync-batch-norm needs --distributed") }
        if let chunks, chunks < 1 { throw ValidationError("--chunks must be positive, got \(chunks)") }
    }

    /// The shard of the training data for this process: with `group` its share of every
    /// epoch, and with --chunks each batch split into chunks; nil for one process without them.
    func trainingShard(_ group: MPIProcessGroup?, batchSize: Int) throws -> DataShard? {
        let size = group?.size ?? 1, total = try chunkCount(group)
        let perProcess = total / size
        guard batchSize % perProcess == 0 else {
            throw CLIError("--batch-size \(batchSize) per process cannot be split into \(perProcess) equal chunks (--chunks \(total) "
                           + "over \(size) process\(size == 1 ? "" : "es")): choose a batch size that is a multiple of \(perProcess)")
        }
        guard group != nil || perProcess > 1 else { return nil }
        return DataShard(rank: group?.rank ?? 0, count: size, padded: true, chunks: perProcess)
    }

    /// --chunks, or the process count without it, checked to give every process as many.
    func chunkCount(_ group: MPIProcessGroup?) throws -> Int {
        let size = group?.size ?? 1, total = chunks ?? size
        guard total % size == 0 else {
            throw CLIError("--chunks \(total) is not a multiple of the \(size) processes: each process must get as many chunks")
        }
        return total
    }

    /// With --distributed: starts MPI, checks that every process was started with the same
    /// flags as `command` (those that shape the run: not --threads or --json), gives each
    /// process its share of the machine's cores (unless --threads or SYNAPSE_NUM_THREADS says
    /// otherwise), silences the standard output of every rank but 0, and returns the group;
    /// nil without the flag.
    func start(_ common: CommonOptions, command: Any) throws -> MPIProcessGroup? {
        guard distributed else { return nil }
        let group = try reportingErrors { try MPIProcessGroup.start() }
        let flags = configurationFields(of: command).filter { !["--threads", "--json"].contains($0.name) }
        do {
            try group.checkSameConfiguration(flags.map { "\($0.name) \($0.value)" }.joined(separator: " "))
        } catch {
            // Every process finds the same mismatch. Rank 0 alone says so (messages from
            // several processes interleave on mpirun's shared standard error), before the
            // others can end the job; then every process leaves MPI cleanly and fails.
            if group.rank == 0 { FileHandle.standardError.write(Data("Error: \(error)\n".utf8)) }
            try? group.finish()
            throw ExitCode.failure
        }
        if common.threads == nil, ProcessInfo.processInfo.environment["SYNAPSE_NUM_THREADS"] == nil {
            Kernels.threadCount = max(1, ProcessInfo.processInfo.activeProcessorCount / group.localSize)
        }
        if group.rank != 0 { _ = freopen("/dev/null", "w", stdout) }
        return group
    }
}

extension MPIProcessGroup {
    /// Readies a freshly built `model` for training in this group: with --sync-batch-norm its
    /// batch-norm layers synchronize (said on rank 0 unless `quiet`), and every rank but 0
    /// reseeds the global generator from `seed` and its rank, so that dropout masks and
    /// sampled noise differ between the processes' shares of a batch as they would within one
    /// process's batch. Rank 0 keeps the seed's stream, so one process runs as without MPI.
    func prepare(_ model: Module, seed: UInt64, options: DistributedOptions, quiet: Bool) {
        if rank != 0 { GlobalRandom.seed(seed ^ (UInt64(rank) &* 0x9E37_79B9_7F4A_7C15)) }
        guard options.syncBatchNorm else { return }
        let layers = SyncBatchNorm.convert(model, group: self)
        if !quiet { print("synchronizing \(layers) batch-norm layer\(layers == 1 ? "" : "s") across \(size) processes") }
    }
}

/// For --json under --distributed: the seconds rank 0 spent communicating during training
/// and their share of the training time; empty otherwise.
func communicationFields(_ history: [EpochLog]) -> [String: Any] {
    let communication = history.compactMap(\.communicationSeconds)
    guard !communication.isEmpty else { return [:] }
    let seconds = history.map(\.seconds).reduce(0, +), total = communication.reduce(0, +)
    return ["communication_seconds": total, "communication_share": seconds > 0 ? total / seconds : 0]
}
