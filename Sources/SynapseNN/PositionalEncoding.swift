// Position information for attention, which by itself is blind to order.

import Foundation
import SynapseCore

/// Adds fixed sinusoidal position vectors (Vaswani et al.): for position p and pair i,
/// pe[p, 2i] = sin(p / 10000^(2i/E)) and pe[p, 2i+1] = cos(p / 10000^(2i/E)). The table is a
/// buffer (`pe` [maximumLength, E]), so it is saved but never trained.
public final class SinusoidalPositionalEncoding: Module, UnaryLayer {
    @Buffer public var table: Tensor
    public let maximumLength: Int, dimension: Int

    public init(dimension: Int, maximumLength: Int = 5000) {
        require(dimension > 0 && maximumLength > 0,
                "SinusoidalPositionalEncoding: dimension and maximumLength must be positive, got \(dimension) and \(maximumLength)")
        self.dimension = dimension
        self.maximumLength = maximumLength
        var values = [Float](repeating: 0, count: maximumLength * dimension)
        for position in 0..<maximumLength {
            for pair in stride(from: 0, to: dimension, by: 2) {
                let angle = Double(position) / pow(10_000, Double(pair) / Double(dimension))
                values[position * dimension + pair] = Float(sin(angle))
                if pair + 1 < dimension { values[position * dimension + pair + 1] = Float(cos(angle)) }
            }
        }
        _table = Buffer(wrappedValue: Tensor(values, shape: [maximumLength, dimension]), name: "pe")
    }

    /// `x` [B, T, E] (or [T, E]) plus the vectors of positions `offset ..< offset + T`.
    public func callAsFunction(_ x: Tensor, offset: Int) -> Tensor {
        x + positions(offset..<(offset + sequenceLength(x)), of: table, maximumLength: maximumLength,
                      dimension: dimension, x: x, layer: "SinusoidalPositionalEncoding")
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { self(x, offset: 0) }
}

/// Adds a learned vector per position (`weight` [maximumLength, E], initialised N(0, 1) like
/// an `Embedding`; GPT-2 and nanoGPT call it `wpe`).
public final class LearnedPositionalEmbedding: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    public let maximumLength: Int, dimension: Int

    public init(maximumLength: Int, dimension: Int, standardDeviation: Float = 1) {
        require(dimension > 0 && maximumLength > 0,
                "LearnedPositionalEmbedding: dimension and maximumLength must be positive, got \(dimension) and \(maximumLength)")
        self.maximumLength = maximumLength
        self.dimension = dimension
        _weight = Parameter(Tensor.randn([maximumLength, dimension]) * standardDeviation)
    }

    /// `x` [B, T, E] (or [T, E]) plus the vectors of positions `offset ..< offset + T`.
    public func callAsFunction(_ x: Tensor, offset: Int) -> Tensor {
        traced(x + positions(offset..<(offset + sequenceLength(x)), of: weight, maximumLength: maximumLength,
                             dimension: dimension, x: x, layer: "LearnedPositionalEmbedding"))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { self(x, offset: 0) }
}

private func sequenceLength(_ x: Tensor) -> Int { x.rank >= 2 ? x.shape[x.rank - 2] : 0 }

private func positions(_ range: Range<Int>, of table: Tensor, maximumLength: Int, dimension: Int, x: Tensor,
                       layer: String) -> Tensor {
    require(x.rank >= 2 && x.shape[x.rank - 1] == dimension,
            "\(layer): expected input [..., T, \(dimension)], got \(x.shape)")
    require(range.lowerBound >= 0 && range.upperBound <= maximumLength,
            "\(layer): positions \(range.lowerBound)..<\(range.upperBound) go past the table's \(maximumLength) positions; "
                + "build it with a larger maximumLength or shorten the context")
    return table.slice(axis: 0, start: range.lowerBound, end: range.upperBound)
}
