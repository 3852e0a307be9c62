// Batching, shuffling and background prefetch.

import Dispatch
import SynapseCore

/// Where every loader assembles its next batch.
private let prefetchQueue = DispatchQueue(label: "synapse.dataloader.prefetch")

/// Iterates over a dataset in mini-batches of whatever kind it assembles: images and labels,
/// padded token sequences with their lengths, regression inputs and targets. Each pass
/// (`for batch in loader`) is one epoch; with `shuffle`, epoch e visits the examples in an
/// order drawn from `seed` and e, so runs are reproducible. While the caller works on one
/// batch, the next is assembled on a background queue.
public final class DataLoader<Source: Dataset>: Sequence, @unchecked Sendable {
    public typealias Batch = Source.Batch
    /// A random map applied to each assembled batch with a generator seeded per batch.
    public typealias BatchTransform = @Sendable (Batch, inout RandomGenerator) -> Batch

    public let dataset: Source
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool
    /// At most this many batches per epoch, if set: a fixed number of random windows of a long
    /// text per validation pass, say.
    public let batchLimit: Int?
    private let batchTransform: BatchTransform?
    /// Each example's length, when batches are bucketed by length.
    public let bucketLengths: [Int]?
    /// How many batches' worth of shuffled examples are sorted by length together.
    public let batchesPerBucket: Int
    /// This process's part of every epoch in a data-parallel job, or nil to read all of it.
    /// Set it before the first epoch.
    public var shard: DataShard?
    /// Epochs started so far: the next pass is epoch `epoch`, with that epoch's order and
    /// transforms. Set it to resume a run at the epoch it had reached.
    public var epoch = 0

    /// A loader over `dataset`. `transform` maps each assembled batch (augmentation of token
    /// sequences, noise on regression inputs); image batches take an input `Transform` instead.
    ///
    /// With `bucketLengths` (each example's length, e.g. its token count) and `shuffle`, each
    /// epoch's shuffled order is cut into buckets of `batchesPerBucket` batches, each bucket is
    /// sorted by length, and the resulting batches are visited in a shuffled order: batches
    /// hold sequences of similar length, so little compute goes to padding, while every epoch
    /// still sees different batches in a different order.
    public init(_ dataset: Source, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0,
                dropLast: Bool = false, batchLimit: Int? = nil, transform: BatchTransform? = nil,
                bucketLengths: [Int]? = nil, batchesPerBucket: Int = 50) {
        require(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        require(bucketLengths.map { $0.count == dataset.count } ?? true,
                "DataLoader: \(bucketLengths?.count ?? 0) bucket lengths for \(dataset.count) examples")
        require(batchesPerBucket > 0, "DataLoader: batchesPerBucket must be positive, got \(batchesPerBucket)")
        require(batchLimit.map { $0 > 0 } ?? true, "DataLoader: batchLimit must be positive, got \(batchLimit ?? 0)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.batchLimit = batchLimit
        batchTransform = transform
        self.bucketLengths = bucketLengths
        self.batchesPerBucket = batchesPerBucket
    }

    /// The examples this process visits per epoch.
    public var exampleCount: Int {
        guard let shard else { return dataset.count }
        let n = dataset.count, multiple = shard.chunkCount
        if shard.padded { return (dropLast ? n / multiple : (n + multiple - 1) / multiple) * shard.chunks }
        return n / shard.count + (shard.rank < n % shard.count ? 1 : 0)
    }

    /// Batches per epoch (of this process's shard, if it has one). With chunks, each batch
    /// arrives as `shard.chunks` consecutive smaller batches.
    public var batchCount: Int {
        let full = dropLast ? exampleCount / batchSize : (exampleCount + batchSize - 1) / batchSize
        return Swift.min(full, batchLimit ?? full)
    }

    /// The examples this process visits in epoch `epoch`, in order. With a shard, every
    /// process draws the same order of the whole dataset (and buckets it by whole global
    /// batches); rank r then takes positions r, r + N, r + 2N, …, so batch k of the N
    /// processes together holds exactly batch k of one process with N times the batch size.
    /// A padded shard pads to a multiple of its chunk count (`DataShard.chunkCount`).
    public func order(forEpoch epoch: Int) -> [Int] {
        let whole = wholeOrder(forEpoch: epoch, batchSize: batchSize * (shard?.count ?? 1))
        guard let shard else { return whole }
        var positions = whole
        if shard.padded {
            // As torch's DistributedSampler: pad by repeating the first examples so every
            // process gets as many (or, with dropLast, cut the remainder).
            let remainder = whole.count % shard.chunkCount
            if dropLast {
                positions.removeLast(remainder)
            } else if remainder > 0 {
                positions += (0..<(shard.chunkCount - remainder)).map { whole[$0 % whole.count] }
            }
        }
        return stride(from: shard.rank, to: positions.count, by: shard.count).map { positions[$0] }
    }

    private func wholeOrder(forEpoch epoch: Int, batchSize: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var generator = RandomGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        let shuffled = Array(0..<dataset.count).shuffled(using: &generator)
        guard let lengths = bucketLengths else { return shuffled }
        var sorted: [Int] = []
        sorted.reserveCapacity(shuffled.count)
        let bucket = batchSize * batchesPerBucket
        for start in stride(from: 0, to: shuffled.count, by: bucket) {
            // Ties keep their shuffled order, so the sort adds no bias of its own.
            let chunk = shuffled[start..<Swift.min(start + bucket, shuffled.count)].enumerated()
                .sorted { (lengths[$0.element], $0.offset) < (lengths[$1.element], $1.offset) }
            sorted += chunk.map(\.element)
        }
        // Whole batches in a shuffled order; a last partial batch stays last.
        let full = sorted.count / batchSize
        var result: [Int] = []
        result.reserveCapacity(sorted.count)
        for batch in Array(0..<full).shuffled(using: &generator) {
            result += sorted[batch * batchSize..<(batch + 1) * batchSize]
        }
        return result + sorted[(full * batchSize)...]
    }

    public func makeIterator() -> Iterator {
        require(batchSize % (shard?.chunks ?? 1) == 0,
                "DataLoader: a batch of \(batchSize) cannot be split into \(shard?.chunks ?? 1) equal chunks")
        defer { epoch += 1 }
        return Iterator(loader: self, epoch: epoch, order: order(forEpoch: epoch))
    }

    /// Assembles batch `index` of epoch `epoch`; random transforms draw from a generator seeded
    /// by the loader's seed, the epoch and the batch index only, so prefetching cannot change them.
    /// With chunks, `chunk` is the chunk's place among all the processes' chunks of the batch,
    /// so each draws what it would in any other process.
    fileprivate func makeBatch(_ indices: [Int], epoch: Int, index: Int, chunk: Int) -> Batch {
        let batch = dataset.batch(indices)
        guard let batchTransform else { return batch }
        let rank = UInt64(chunk) &* 0x94D0_49BB_1331_11EB
        var generator = RandomGenerator(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(index) &* 0x8CB9_2BA7_2F3D_8DD7) ^ rank)
        return batchTransform(batch, &generator)
    }

    public struct Iterator: IteratorProtocol {
        private let loader: DataLoader
        private let epoch: Int
        private let order: [Int]
        private var position = 0
        private var batchIndex = 0
        /// The current batch's chunks not yet scheduled: their examples and chunk numbers.
        private var chunks: [(indices: [Int], chunk: Int)] = []
        private var pending: Pending?

        fileprivate init(loader: DataLoader, epoch: Int, order: [Int]) {
            self.loader = loader
            self.epoch = epoch
            self.order = order
            pending = schedule()
        }

        /// Starts assembling the batch at `position` (or the current batch's next chunk) in
        /// the background.
        private mutating func schedule() -> Pending? {
            if chunks.isEmpty {
                let remaining = order.count - position
                guard remaining > 0, !(loader.dropLast && remaining < loader.batchSize),
                      batchIndex < loader.batchLimit ?? Int.max else { return nil }
                let indices = Array(order[position..<Swift.min(position + loader.batchSize, order.count)])
                position += indices.count
                batchIndex += 1
                // Chunk i takes the batch's positions i, i + m, i + 2m, …: chunk r + iN of the
                // whole batch, as one process of N × m would take it.
                let shard = loader.shard ?? DataShard(rank: 0, count: 1, padded: false)
                chunks = (0..<shard.chunks).map { chunk in
                    (stride(from: chunk, to: indices.count, by: shard.chunks).map { indices[$0] }, shard.rank + chunk * shard.count)
                }
            }
            let (indices, chunk) = chunks.removeFirst()
            let pending = Pending()
            let (loader, epoch, index) = (loader, epoch, batchIndex - 1)
            prefetchQueue.async {
                pending.batch = loader.makeBatch(indices, epoch: epoch, index: index, chunk: chunk)
                pending.ready.signal()
            }
            return pending
        }

        public mutating func next() -> Batch? {
            guard let current = pending else { return nil }
            current.ready.wait()
            pending = schedule()
            return current.batch
        }
    }

    /// A batch being assembled on the prefetch queue.
    private final class Pending: @unchecked Sendable {
        var batch: Batch?
        let ready = DispatchSemaphore(value: 0)
    }
}

/// One process's part of each epoch: rank `rank` of `count` processes.
public struct DataShard: Sendable, Equatable {
    public let rank: Int
    public let count: Int
    /// Whether every process gets the same number of examples (the last ones repeat the
    /// epoch's first), as training needs: every process then takes the same number of steps
    /// and reaches every gradient average. Evaluation leaves it off, so each example counts once.
    public let padded: Bool

    /// How many chunks this process splits each of its batches into (see `Trainer`): chunk i
    /// of rank r is chunk r + i·count of the whole batch, whose gradients are summed in that
    /// order whichever process computed them.
    public let chunks: Int

    /// All the processes' chunks of one batch: `count × chunks`. A padded shard pads each
    /// epoch to a multiple of it, so every chunk of the last batch has as many examples too.
    public var chunkCount: Int { count * chunks }

    public init(rank: Int, count: Int, padded: Bool, chunks: Int = 1) {
        require(count > 0 && (0..<count).contains(rank), "DataShard: rank \(rank) is not in 0..<\(count)")
        require(chunks > 0, "DataShard: chunks must be positive, got \(chunks)")
        self.rank = rank
        self.count = count
        self.padded = padded
        self.chunks = chunks
    }
}

extension DataLoader where Source.Batch == LabeledBatch {
    /// A loader of labelled examples whose inputs pass through `transform` (normalization,
    /// augmentation) as each batch is assembled; nil leaves them as they are.
    public convenience init(_ dataset: Source, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0,
                            dropLast: Bool = false, batchLimit: Int? = nil, transform: (any Transform)?) {
        let map: BatchTransform? = transform.map { transform in
            { @Sendable batch, generator in LabeledBatch(inputs: transform(batch.inputs, using: &generator), labels: batch.labels) }
        }
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, seed: seed, dropLast: dropLast,
                  batchLimit: batchLimit, transform: map)
    }
}
