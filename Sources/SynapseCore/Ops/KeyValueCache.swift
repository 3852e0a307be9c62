// A per-layer key-value cache for autoregressive generation: each new token's keys and values
// are appended once, so a token costs attention over the cache, O(context), instead of a
// forward pass over the whole context, O(context²).

import SynapseKernels

/// Why a key-value cache cannot take more tokens.
public struct KeyValueCacheError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// The keys and values of one attention layer for the tokens seen so far, [batch, length,
/// width] each, stored side by side in rows of 2 · width. Storage grows in chunks of
/// `chunkLength` rows up to `capacity`; appending past the capacity is an error, not a trap.
public final class KeyValueCache {
    public let batch: Int, width: Int, heads: Int
    /// The most tokens the cache holds (the model's context length).
    public let capacity: Int
    /// Tokens cached so far.
    public private(set) var length = 0
    private let chunkLength: Int
    private var rows = 0
    private var storage: UnsafeMutablePointer<Float>?

    public init(batch: Int = 1, width: Int, heads: Int, capacity: Int, chunkLength: Int = 256) {
        require(batch > 0 && width > 0 && heads > 0 && width % heads == 0 && capacity > 0 && chunkLength > 0,
                "KeyValueCache: needs positive sizes with width \(width) divisible by heads \(heads)")
        self.batch = batch
        self.width = width
        self.heads = heads
        self.capacity = capacity
        self.chunkLength = chunkLength
    }

    deinit { storage?.deallocate() }

    /// Forgets every cached token (the storage is kept).
    public func reset() { length = 0 }

    /// Appends the keys in columns `keyColumn ..< keyColumn + width` and the values in columns
    /// `valueColumn ..< valueColumn + width` of `projection` [batch, T, C] (for example a
    /// fused q, k, v projection).
    public func append(_ projection: Tensor, keyColumn: Int, valueColumn: Int) throws(KeyValueCacheError) {
        require(projection.rank == 3 && projection.shape[0] == batch
                    && max(keyColumn, valueColumn) + width <= projection.shape[2] && min(keyColumn, valueColumn) >= 0,
                "KeyValueCache.append: expected [\(batch), T, C] holding \(width) key and value columns, got \(Shape.describe(projection.shape))")
        let added = projection.shape[1]
        guard length + added <= capacity else {
            throw KeyValueCacheError(description: "the key-value cache holds \(capacity) tokens; \(length) are cached and "
                                     + "\(added) more do not fit (slide the window or start again)")
        }
        reserve(length + added)
        let columns = projection.shape[2]
        for b in 0..<batch {
            for t in 0..<added {
                let source = projection.pointer + (b * added + t) * columns
                let row = storage! + (b * rows + length + t) * 2 * width
                row.update(from: source + keyColumn, count: width)
                (row + width).update(from: source + valueColumn, count: width)
            }
        }
        length += added
    }

    /// Attention of the queries in columns `queryColumn ..< queryColumn + width` of `query`
    /// [batch, T, C] over every cached token, the last T of which are these queries' own
    /// tokens: query i sees the cached tokens up to its own position. Returns [batch, T, width].
    /// Inference only: it records no gradient.
    public func attend(_ query: Tensor, queryColumn: Int = 0, scale: Float? = nil) -> Tensor {
        require(query.rank == 3 && query.shape[0] == batch && queryColumn >= 0 && queryColumn + width <= query.shape[2],
                "KeyValueCache.attend: expected queries [\(batch), T, C] holding \(width) columns, got \(Shape.describe(query.shape))")
        let tq = query.shape[1], depth = width / heads
        require(tq <= length, "KeyValueCache.attend: \(tq) queries but only \(length) cached tokens; append their keys first")
        let output = Tensor(uninitializedShape: [batch, tq, width])
        let logSumExp = Tensor(uninitializedShape: [batch * heads * tq])
        let problem = AttentionProblem(batch: batch, heads: heads, queryLength: tq, keyLength: length, depth: depth,
                                       valueDepth: depth, scale: scale ?? 1 / Float(depth).squareRoot(),
                                       causalOffset: length - tq)
        let cacheRow = 2 * width
        Kernels.attentionForward(problem,
                                 query: StridedHeads(base: query.pointer + queryColumn, batchStride: tq * query.shape[2],
                                                     headStride: depth, rowStride: query.shape[2]),
                                 key: StridedHeads(base: storage!, batchStride: rows * cacheRow, headStride: depth,
                                                   rowStride: cacheRow),
                                 value: StridedHeads(base: storage! + width, batchStride: rows * cacheRow, headStride: depth,
                                                     rowStride: cacheRow),
                                 output: StridedHeads(base: output.pointer, batchStride: tq * width, headStride: depth,
                                                      rowStride: width),
                                 logSumExp: logSumExp.pointer)
        return withExtendedLifetime(query) { output }
    }

    /// Grows the storage to hold `needed` rows per batch entry, a whole chunk at a time.
    private func reserve(_ needed: Int) {
        guard needed > rows else { return }
        let newRows = min(capacity, (needed + chunkLength - 1) / chunkLength * chunkLength)
        let grown = UnsafeMutablePointer<Float>.allocate(capacity: batch * newRows * 2 * width)
        if let storage {
            for b in 0..<batch {
                (grown + b * newRows * 2 * width).update(from: storage + b * rows * 2 * width, count: length * 2 * width)
            }
            storage.deallocate()
        }
        storage = grown
        rows = newRows
    }
}
