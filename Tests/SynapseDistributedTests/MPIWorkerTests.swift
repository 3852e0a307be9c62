import Foundation
import Synapse
import SynapseDistributed
import XCTest

/// Tests that run inside every rank of an MPI job: `MPIRunTests` starts this test bundle under
/// `mpirun` with one of these names and SYNAPSE_MPI_WORKER=1. Run on their own, they skip.
final class MPIWorkerTests: XCTestCase {
    private func startGroup() throws -> MPIProcessGroup {
        guard ProcessInfo.processInfo.environment["SYNAPSE_MPI_WORKER"] == "1" else {
            throw XCTSkip("runs inside an MPI job that MPIRunTests starts")
        }
        return try MPIProcessGroup.start()
    }

    /// Each rank normalizes its rows of one global batch with SyncBatchNorm; the outputs, the
    /// input gradients, the summed parameter gradients and the running statistics equal those
    /// of BatchNorm2d over the whole batch in one process.
    func testSyncBatchNormMatchesBatchNormOverTheGlobalBatch() throws {
        let group = try startGroup()
        let rows = 3, size = group.size, rank = group.rank
        let x = Tensor.uniform([rows * size, 4, 3, 5], low: -2, high: 3, seed: 7)
        let probe = Tensor.uniform([rows * size, 4, 3, 5], low: -1, high: 1, seed: 8)

        let reference = BatchNorm2d(4)
        let wholeInput = x.requiringGrad()
        let wholeOutput = reference(wholeInput)
        (wholeOutput * probe).sum().backward()

        let synced = BatchNorm2d(4)
        XCTAssertEqual(SyncBatchNorm.convert(Sequential([Linear(2, 2), synced]), group: group), 1)
        let mine = rank * rows..<(rank + 1) * rows
        let input = x[mine].requiringGrad()
        let output = synced(input)
        (output * probe[mine]).sum().backward()

        func assertClose(_ a: [Float], _ b: [Float], _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v)), "rank \(rank): \(what)") }
        }
        assertClose(output.scalars, wholeOutput[mine].scalars, "output")
        assertClose(input.grad!.scalars, wholeInput.grad![mine].scalars, "input gradient")
        for (name, local, whole) in [("weight", synced.$weight, reference.$weight), ("bias", synced.$bias, reference.$bias)] {
            assertClose(try group.sum(local.grad!.scalars.map(Double.init)).map(Float.init), whole.grad!.scalars, "\(name) gradient")
        }
        assertClose(synced.runningMean.scalars, reference.runningMean.scalars, "running mean")
        assertClose(synced.runningVariance.scalars, reference.runningVariance.scalars, "running variance")
        try group.finish()
    }

    /// Averaged gradients are bitwise the same on every rank, through shared memory and through
    /// MPI's messages alike, and equal the mean of the ranks' gradients; a parameter that got no
    /// gradient on some rank counts as zero there, and gradients that share one buffer are
    /// averaged without writing through to each other.
    func testAveragedGradientsAreIdenticalOnEveryRank() throws {
        let group = try startGroup()
        group.bucketBytes = 64  // many buckets, each split unevenly over the ranks
        XCTAssertTrue(group.usesSharedMemory, "every rank of the test job runs on this machine")
        var results: [[[Float]]] = []
        for shared in [true, false] {
            group.usesSharedMemory = shared
            GlobalRandom.seed(1)
            let model = Linear(7, 5), unused = Linear(3, 1), twins = [Parameter(Tensor.zeros([6])), Parameter(Tensor.zeros([6]))]
            let x = Tensor.uniform([4, 7], seed: UInt64(10 + group.rank))
            model(x).square().sum().backward()
            if group.rank == 0 { unused(Tensor.ones([1, 3])).sum().backward() }
            let common = Tensor.uniform([6], seed: UInt64(20 + group.rank))
            for twin in twins { twin.setGradient(common) }
            let parameters = model.parameters + unused.parameters + twins
            let local = parameters.map { $0.grad?.scalars ?? [Float](repeating: 0, count: $0.value.count) }
            try group.averageGradients(parameters)
            for (parameter, mine) in zip(parameters, local) {
                let averaged = parameter.grad!.scalars
                let expected = try group.sum(mine.map(Double.init)).map { Float($0 / Double(group.size)) }
                for (a, e) in zip(averaged, expected) { XCTAssertEqual(a, e, accuracy: 1e-5 * max(1, abs(e))) }
                // Every rank ends with the same bits: the maximum and the minimum over ranks agree.
                let bits = averaged.map { Double($0.bitPattern) }
                XCTAssertEqual(try group.maximum(bits), try group.maximum(bits.map { -$0 }).map { -$0 })
            }
            XCTAssertEqual(common.scalars, local.last!, "the shared buffer itself is left alone")
            results.append(parameters.map(\.grad!.scalars))
        }
        XCTAssertEqual(results[0], results[1], "shared memory and messages give the same bits")
        try group.finish()
    }
}
