// Drawing the next token from a model's logits.

import Foundation
import SynapseCore

/// Draws token ids from logits with temperature, top-k and nucleus (top-p) filtering, from
/// its own seeded generator, so the same seed and logits give the same tokens.
///
/// The order of filters is Hugging Face's: scale by 1 / temperature, keep the `topK` largest,
/// then keep the smallest set of most likely tokens whose probability reaches `topP`.
/// Temperature 0 is greedy decoding.
///
/// ```swift
/// var sampler = TokenSampler(temperature: 0.8, topK: 40, topP: 0.95, seed: 0)
/// let next = sampler.sample(logits.scalars)
/// ```
public struct TokenSampler: Sendable {
    public let temperature: Float
    public let topK: Int?
    public let topP: Float?
    private var generator: RandomGenerator
    private var order: [Int] = []
    private var weights: [Double] = []

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float? = nil, seed: UInt64 = 0) throws {
        guard temperature >= 0, temperature.isFinite else {
            throw TextError("temperature must be a finite number ≥ 0 (0 is greedy), got \(temperature)")
        }
        if let topK, topK < 1 { throw TextError("top-k must be at least 1, got \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw TextError("top-p must be in (0, 1], got \(topP)") }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        generator = RandomGenerator(seed: seed)
    }

    /// A token id drawn from `logits` (one per vocabulary entry).
    public mutating func sample(_ logits: [Float]) -> Int {
        precondition(!logits.isEmpty, "TokenSampler.sample: no logits")
        if temperature == 0 { return logits.indices.max { logits[$0] < logits[$1] }! }
        // Highest logit first; ties keep the lower id first so results do not depend on the sort.
        order = Array(logits.indices)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        var kept = min(topK ?? order.count, order.count)
        let top = Double(logits[order[0]])
        weights = order.prefix(kept).map { exp((Double(logits[$0]) - top) / Double(temperature)) }
        var total = weights.reduce(0, +)
        if let topP, topP < 1 {
            var cumulative = 0.0
            for (rank, weight) in weights.enumerated() {
                cumulative += weight
                if cumulative / total >= Double(topP) {
                    kept = rank + 1
                    break
                }
            }
            weights.removeLast(weights.count - kept)
            total = weights.reduce(0, +)
        }
        var threshold = Double(generator.next() >> 11) * 0x1p-53 * total
        for (rank, weight) in weights.enumerated() {
            threshold -= weight
            if threshold < 0 { return order[rank] }
        }
        return order[kept - 1]
    }
}
