import Foundation
import Synapse
import SynapseDistributed
import XCTest

/// Runs `synapse` under `mpirun` as users do, on the embedded digits (so no dataset is needed).
/// Skipped, saying so, where Open MPI's `mpirun` is not installed; the test of the message
/// for a missing MPI runs everywhere.
final class MPIRunTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-mpi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Fails unless the two checkpoints in the test folder hold the same tensors, bit for bit.
    private func assertSameBits(_ first: String, _ second: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try CheckpointFile(path: path(first)), b = try CheckpointFile(path: path(second))
        XCTAssertFalse(a.tensors.isEmpty, file: file, line: line)
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys), file: file, line: line)
        for (name, tensor) in a.tensors {
            XCTAssertEqual(tensor.scalars, b.tensors[name]?.scalars, "\(first) and \(second): \(name)", file: file, line: line)
        }
    }

    /// The MLP on the digits for `epochs` epochs (23 steps each at a global batch of 64), saved.
    private func trainArguments(batchSize: Int, epochs: Int = 5, save: String) -> [String] {
        ["train", "--epochs", String(epochs), "--batch-size", String(batchSize), "--lr", "0.05", "--save", save]
    }

    func testTwoRanksMatchOneProcessWithTheirCombinedBatch() throws {
        let mpirun = try MPIRun.find()
        let single = try MPIRun.synapse(trainArguments(batchSize: 64, save: path("one.safetensors")))
        XCTAssertEqual(single.status, 0, single.output)
        let pair = try mpirun.run(ranks: 2, trainArguments(batchSize: 32, save: path("two.safetensors")) + ["--distributed"])
        XCTAssertEqual(pair.status, 0, pair.output)
        let one = try CheckpointFile(path: path("one.safetensors")), two = try CheckpointFile(path: path("two.safetensors"))
        XCTAssertEqual(Set(one.tensors.keys), Set(two.tensors.keys))
        // 115 steps: the sums of a batch split in two differ in the last bits only.
        for (name, tensor) in one.tensors where name.contains("weight") || name.contains("bias") {
            let other = two.tensors[name]!
            let difference = (tensor - other).square().sum().item.squareRoot(), norm = tensor.square().sum().item.squareRoot()
            XCTAssertLessThan(difference / norm, 1e-5, name)
        }
        XCTAssertTrue(pair.output.contains("test accuracy"), pair.output)
    }

    /// With --chunks 4, one, two and four processes train to the same bits (weights and
    /// optimizer state), through shared memory and through MPI's messages alike, the messages
    /// over TCP (Open MPI's `btl self,tcp`, the transport between machines) on loopback.
    func testChunkedRunsAreBitwiseTheSameAtEveryProcessCountThatDividesTheChunks() throws {
        let mpirun = try MPIRun.find()
        let arguments = ["train", "--epochs", "3", "--lr", "0.05", "--momentum", "0.9", "--chunks", "4"]
        let single = try MPIRun.synapse(arguments + ["--batch-size", "64", "--save", path("1.safetensors")])
        XCTAssertEqual(single.status, 0, single.output)
        for (ranks, shared) in [(2, "1"), (4, "1"), (4, "0")] {
            let transport = shared == "1" ? [:] : ["OMPI_MCA_btl": "self,tcp"]
            let result = try mpirun.run(ranks: ranks, arguments + ["--batch-size", String(64 / ranks), "--distributed",
                                                                   "--save", path("\(ranks)-\(shared).safetensors")],
                                        environment: transport.merging(["SYNAPSE_MPI_SHARED_MEMORY": shared]) { $1 })
            XCTAssertEqual(result.status, 0, result.output)
            try assertSameBits("1.safetensors", "\(ranks)-\(shared).safetensors")
        }
        // The forecaster's one whole-series batch per step splits the same way.
        let forecast = ["forecast", "--epochs", "20", "--chunks", "2", "--json"]
        let alone = try MPIRun.synapse(forecast), pair = try mpirun.run(ranks: 2, forecast + ["--distributed"])
        XCTAssertEqual(alone.status, 0, alone.output)
        XCTAssertEqual(pair.status, 0, pair.output)
        func rmse(_ output: String) -> String? { output.range(of: #""rmse":[0-9.e+-]+"#, options: .regularExpression).map { String(output[$0]) } }
        XCTAssertNotNil(rmse(alone.output), alone.output)
        XCTAssertEqual(rmse(alone.output), rmse(pair.output))
        let uneven = try mpirun.run(ranks: 3, arguments + ["--batch-size", "16", "--distributed"])
        XCTAssertNotEqual(uneven.status, 0)
        XCTAssertTrue(uneven.output.contains("--chunks 4 is not a multiple of the 3 processes"), uneven.output)
        let indivisible = try MPIRun.synapse(["train", "--epochs", "1", "--chunks", "3", "--batch-size", "64"])
        XCTAssertNotEqual(indivisible.status, 0)
        XCTAssertTrue(indivisible.output.contains("cannot be split into 3 equal chunks"), indivisible.output)
    }

    func testARunAtTwoRanksRepeatsBitForBit() throws {
        let mpirun = try MPIRun.find()
        for name in ["a", "b"] {
            let result = try mpirun.run(ranks: 2, trainArguments(batchSize: 16, epochs: 2, save: path("\(name).safetensors")) + ["--distributed"])
            XCTAssertEqual(result.status, 0, result.output)
        }
        try assertSameBits("a.safetensors", "b.safetensors")
    }

    /// Shared memory, messages after backward, and messages started during backward (over
    /// Open MPI's shared-memory transport and over TCP) average to the same bits.
    func testSharedMemoryAndMessagesWithAndWithoutOverlapTrainTheSameBits() throws {
        let mpirun = try MPIRun.find()
        let configurations = [("shared", ["SYNAPSE_MPI_SHARED_MEMORY": "1"]),
                              ("after-backward", ["SYNAPSE_MPI_SHARED_MEMORY": "0", "SYNAPSE_MPI_OVERLAP": "0"]),
                              ("overlapped", ["SYNAPSE_MPI_SHARED_MEMORY": "0", "SYNAPSE_MPI_OVERLAP": "1"]),
                              ("overlapped-tcp", ["SYNAPSE_MPI_SHARED_MEMORY": "0", "SYNAPSE_MPI_OVERLAP": "1", "OMPI_MCA_btl": "self,tcp"])]
        for (name, environment) in configurations {
            let result = try mpirun.run(ranks: 3, trainArguments(batchSize: 16, epochs: 1, save: path("\(name).safetensors")) + ["--distributed"],
                                        environment: environment)
            XCTAssertEqual(result.status, 0, result.output)
        }
        for (name, _) in configurations.dropFirst() { try assertSameBits("shared.safetensors", "\(name).safetensors") }
    }

    func testResumingUnderMPIContinuesTheSameRun() throws {
        let mpirun = try MPIRun.find()
        let straight = try mpirun.run(ranks: 2, trainArguments(batchSize: 16, epochs: 2, save: path("straight.safetensors")) + ["--distributed"])
        XCTAssertEqual(straight.status, 0, straight.output)
        let first = try mpirun.run(ranks: 2, trainArguments(batchSize: 16, epochs: 1, save: path("half.safetensors")) + ["--distributed"])
        XCTAssertEqual(first.status, 0, first.output)
        let second = try mpirun.run(ranks: 2, trainArguments(batchSize: 16, epochs: 2, save: path("resumed.safetensors"))
                                    + ["--distributed", "--resume", path("half.safetensors")])
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("resuming"), second.output)
        try assertSameBits("straight.safetensors", "resumed.safetensors")
    }

    func testOnlyRankZeroPrintsAndWritesFiles() throws {
        let mpirun = try MPIRun.find()
        // Each rank runs in a folder of its own, with the same relative paths.
        let zero = folder.appendingPathComponent("zero"), one = folder.appendingPathComponent("one")
        for url in [zero, one] { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        let arguments = ["train", "--epochs", "2", "--distributed", "--save", "model.safetensors", "--history", "run.json",
                         "--report", "run.html"]
        let result = try mpirun.run(programs: [(zero.path, arguments), (one.path, arguments)])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: zero.path)), ["model.safetensors", "run.json", "run.html"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: one.path), [])
        XCTAssertEqual(result.output.components(separatedBy: "test accuracy").count, 2, "one rank reports: \(result.output)")
    }

    func testRanksStartedWithDifferentFlagsStopWithAClearMessage() throws {
        let mpirun = try MPIRun.find()
        let result = try mpirun.run(programs: [(folder.path, ["train", "--epochs", "1", "--lr", "0.01", "--distributed"]),
                                               (folder.path, ["train", "--epochs", "1", "--lr", "0.02", "--distributed"])])
        XCTAssertNotEqual(result.status, 0)
        // One message, from rank 0, with both configurations: two processes writing it would
        // interleave on mpirun's standard error.
        XCTAssertEqual(result.output.components(separatedBy: "started with a different configuration").count, 2, result.output)
        XCTAssertTrue(result.output.contains("rank 1 started with a different configuration from rank 0"), result.output)
        XCTAssertTrue(result.output.contains("--lr 0.01"), result.output)
        XCTAssertTrue(result.output.contains("--lr 0.02"), result.output)
    }

    func testAKilledRankEndsTheJobWithinSeconds() throws {
        let mpirun = try MPIRun.find()
        // Rank 1 trains for two seconds, then is killed; rank 0 would otherwise wait for it forever.
        let script = #"if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then "$0" "$@" & p=$!; sleep 2; kill -9 $p; exit 9; else exec "$0" "$@"; fi"#
        let start = Date()
        let result = try mpirun.run(ranks: 2, ["sh", "-c", script, MPIRun.synapseBinary().path, "train", "--epochs", "1000000", "--distributed"],
                                    direct: true, timeout: 60)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertLessThan(seconds, 30, "the job ended \(seconds) s after starting: \(result.output)")
        XCTAssertTrue(result.output.contains(",1]"), "mpirun names rank 1: \(result.output)")
    }

    func testSyncBatchNormMatchesBatchNormOverTheGlobalBatch() throws {
        try runWorker("testSyncBatchNormMatchesBatchNormOverTheGlobalBatch", ranks: 2)
        try runWorker("testSyncBatchNormMatchesBatchNormOverTheGlobalBatch", ranks: 3)
    }

    func testAveragedGradientsAreIdenticalOnEveryRank() throws {
        try runWorker("testAveragedGradientsAreIdenticalOnEveryRank", ranks: 3)
    }

    /// Runs `MPIWorkerTests/test` in every rank of a job of `ranks` processes.
    private func runWorker(_ test: String, ranks: Int) throws {
        let mpirun = try MPIRun.find()
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
        #if os(Linux)
        let result = try MPIRun.execute(mpirun.executable, MPIRun.flags + ["-np", String(ranks), bundle.path, "SynapseDistributedTests.MPIWorkerTests/\(test)"],
                                        environment: MPIRun.environment.merging(["SYNAPSE_MPI_WORKER": "1"]) { $1 }, timeout: 120)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("Executed 1 test, with 0 failures"), result.output)
        #else
        throw XCTSkip("the worker tests start the test bundle as an executable, as on Linux")
        #endif
    }

    func testWithoutMPIDistributedSaysWhatToInstall() throws {
        let result = try MPIRun.synapse(["train", "--epochs", "1", "--distributed"],
                                        environment: ["SYNAPSE_MPI_LIBRARY": path("no-such-libmpi.so")])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("MPI is not installed"), result.output)
        XCTAssertTrue(result.output.contains("apt-get install -y openmpi-bin libopenmpi-dev"), result.output)
    }
}
