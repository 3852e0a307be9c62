import XCTest
import Synapse

/// DataLoader shards for data-parallel training, with DistributedSampler's semantics.
final class ShardTests: XCTestCase {
    /// A dataset whose example i has the single input value i, so batches show their indices.
    private func dataset(_ count: Int) -> RegressionDataset {
        RegressionDataset(inputs: Tensor((0..<count).map(Float.init), shape: [count, 1]), targets: Tensor.zeros([count, 1]))
    }

    private func indices(_ loader: DataLoader<RegressionDataset>) -> [[Int]] {
        loader.map { $0.inputs.scalars.map { Int($0) } }
    }

    func testShardsAreDisjointCoverTheEpochAndTogetherFormTheSingleProcessBatches() {
        for (count, ranks) in [(100, 2), (103, 4), (64, 8), (7, 3)] {
            let whole = DataLoader(dataset(count), batchSize: 4 * ranks, shuffle: true, seed: 5)
            whole.epoch = 2
            let expected = indices(whole)
            var perRank: [[[Int]]] = []
            for rank in 0..<ranks {
                let loader = DataLoader(dataset(count), batchSize: 4, shuffle: true, seed: 5)
                loader.shard = DataShard(rank: rank, count: ranks, padded: false)
                loader.epoch = 2
                perRank.append(indices(loader))
            }
            let all = perRank.flatMap { $0.flatMap { $0 } }
            XCTAssertEqual(all.count, count, "every example once: \(count) over \(ranks)")
            XCTAssertEqual(Set(all), Set(0..<count))
            // Batch k of the ranks together holds batch k of one process with ranks × the batch.
            for (k, batch) in expected.enumerated() {
                let together = perRank.compactMap { k < $0.count ? $0[k] : nil }.flatMap { $0 }
                XCTAssertEqual(Set(together), Set(batch), "batch \(k) of \(count) over \(ranks)")
            }
        }
    }

    func testPaddedShardsGiveEveryRankTheSameBatchesSoNoCollectiveIsSkipped() {
        for count in [1, 5, 97, 100, 101] {
            for ranks in [2, 3, 4] {
                var batchCounts: [Int] = [], sizes: [[Int]] = [], seen: [Int] = []
                for rank in 0..<ranks {
                    let loader = DataLoader(dataset(count), batchSize: 8, shuffle: true, seed: 1)
                    loader.shard = DataShard(rank: rank, count: ranks, padded: true)
                    let batches = indices(loader)
                    XCTAssertEqual(batches.count, loader.batchCount)
                    batchCounts.append(batches.count)
                    sizes.append(batches.map(\.count))
                    seen += batches.flatMap { $0 }
                }
                XCTAssertEqual(Set(batchCounts).count, 1, "\(count) examples over \(ranks) ranks: \(batchCounts)")
                XCTAssertEqual(Set(sizes.map { $0.description }).count, 1, "equal batch sizes: \(sizes)")
                XCTAssertEqual(Set(seen), Set(0..<count), "the epoch is covered")
                XCTAssertEqual(seen.count, (count + ranks - 1) / ranks * ranks, "padding only to a multiple of the ranks")
            }
        }
    }

    /// Chunk i of rank r holds the examples of chunk r + iN of one process that splits the
    /// same global batch into N·m chunks, and the chunks of a batch (the last one too) are the
    /// same size.
    func testChunksAreTheSameWhicheverProcessTakesThem() {
        for (count, ranks, perRank) in [(100, 2, 2), (103, 4, 1), (50, 1, 4), (37, 3, 2)] {
            let total = ranks * perRank
            let single = DataLoader(dataset(count), batchSize: 2 * total, shuffle: true, seed: 9)
            single.shard = DataShard(rank: 0, count: 1, padded: true, chunks: total)
            let expected = indices(single)  // batch k's chunks are batches k·total ..< (k + 1)·total
            XCTAssertEqual(expected.count, single.batchCount * total)
            for step in 0..<single.batchCount {
                let sizes = expected[step * total..<(step + 1) * total].map(\.count)
                XCTAssertEqual(Set(sizes).count, 1, "equal chunks in batch \(step): \(sizes)")
            }
            XCTAssertEqual(Set(expected.flatMap { $0 }), Set(0..<count), "the epoch is covered")
            for rank in 0..<ranks {
                let loader = DataLoader(dataset(count), batchSize: 2 * perRank, shuffle: true, seed: 9)
                loader.shard = DataShard(rank: rank, count: ranks, padded: true, chunks: perRank)
                for (position, chunk) in indices(loader).enumerated() {
                    let (step, local) = position.quotientAndRemainder(dividingBy: perRank)
                    XCTAssertEqual(chunk, expected[step * total + rank + local * ranks], "\(count) over \(ranks)×\(perRank): rank \(rank)")
                }
            }
        }
    }

    func testBucketedShardsKeepSimilarLengthsTogether() {
        let lengths = (0..<200).map { ($0 * 37) % 50 + 1 }
        for rank in 0..<2 {
            let loader = DataLoader(dataset(200), batchSize: 10, shuffle: true, seed: 3, bucketLengths: lengths, batchesPerBucket: 5)
            loader.shard = DataShard(rank: rank, count: 2, padded: true)
            let spreads = indices(loader).map { batch in batch.map { lengths[$0] }.max()! - batch.map { lengths[$0] }.min()! }
            // Unbucketed batches of 10 from lengths 1…50 spread over about 40.
            XCTAssertLessThan(Double(spreads.reduce(0, +)) / Double(spreads.count), 15, "\(spreads)")
        }
    }
}
