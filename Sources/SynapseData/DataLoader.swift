// Batching, shuffling and background prefetch.

import Dispatch
import SynapseCore

/// One mini-batch.
public struct Batch: Sendable {
    public let inputs: Tensor
    public let labels: IndexTensor
}

/// Iterates over a dataset in mini-batches. Each pass (`for batch in loader`) is one epoch;
/// with `shuffle`, epoch e visits the examples in an order drawn from `seed` and e, so runs
/// are reproducible. While the caller works on one batch, the next is assembled on a
/// background queue.
public final class DataLoader: Sequence, @unchecked Sendable {
    public let dataset: any Dataset
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool
    /// Applied to each batch's inputs (normalization, augmentation).
    public let transform: (any Transform)?
    /// Epochs started so far.
    public private(set) var epoch = 0

    public init(_ dataset: any Dataset, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0,
                dropLast: Bool = false, transform: (any Transform)? = nil) {
        require(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.transform = transform
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The example order of epoch `epoch`.
    public func order(forEpoch epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var generator = RandomGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        return Array(0..<dataset.count).shuffled(using: &generator)
    }

    public func makeIterator() -> Iterator {
        defer { epoch += 1 }
        return Iterator(loader: self, epoch: epoch, order: order(forEpoch: epoch))
    }

    /// Assembles batch `index` of epoch `epoch`; random transforms draw from a generator seeded
    /// by the loader's seed, the epoch and the batch index only, so prefetching cannot change them.
    fileprivate func makeBatch(_ indices: [Int], epoch: Int, index: Int) -> Batch {
        let (inputs, labels) = dataset.batch(indices)
        guard let transform else { return Batch(inputs: inputs, labels: labels) }
        var generator = RandomGenerator(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(index) &* 0x8CB9_2BA7_2F3D_8DD7))
        return Batch(inputs: transform(inputs, using: &generator), labels: labels)
    }

    public struct Iterator: IteratorProtocol {
        private let loader: DataLoader
        private let epoch: Int
        private let order: [Int]
        private var position = 0
        private var batchIndex = 0
        private var pending: Pending?
        private static let queue = DispatchQueue(label: "synapse.dataloader.prefetch")

        fileprivate init(loader: DataLoader, epoch: Int, order: [Int]) {
            self.loader = loader
            self.epoch = epoch
            self.order = order
            pending = schedule()
        }

        /// Starts assembling the batch at `position` in the background.
        private mutating func schedule() -> Pending? {
            let remaining = order.count - position
            guard remaining > 0, !(loader.dropLast && remaining < loader.batchSize) else { return nil }
            let indices = Array(order[position..<Swift.min(position + loader.batchSize, order.count)])
            position += indices.count
            batchIndex += 1
            let pending = Pending()
            let (loader, epoch, index) = (loader, epoch, batchIndex - 1)
            Iterator.queue.async {
                pending.batch = loader.makeBatch(indices, epoch: epoch, index: index)
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
}

/// A batch being assembled on the prefetch queue.
private final class Pending: @unchecked Sendable {
    var batch: Batch?
    let ready = DispatchSemaphore(value: 0)
}
