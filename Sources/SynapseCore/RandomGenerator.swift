// A seeded, platform-independent random number generator.

import Foundation

/// xoshiro256** seeded through SplitMix64: the same seed yields the same sequence on every
/// platform and Swift version (unlike `SystemRandomNumberGenerator`, which cannot be seeded).
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        words = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The generator's four state words, to save with a checkpoint and restore with
    /// `init(state:)`, so a resumed run draws the same numbers.
    public var state: [UInt64] { [words.0, words.1, words.2, words.3] }

    /// A generator continuing from `state`, as `state` returned it. Nil unless it holds four
    /// words, not all zero (a state the generator never reaches).
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        words = (state[0], state[1], state[2], state[3])
    }

    public mutating func next() -> UInt64 {
        let result = ((words.1 &* 5) << 7 | (words.1 &* 5) >> 57) &* 9
        let t = words.1 << 17
        words.2 ^= words.0
        words.3 ^= words.1
        words.1 ^= words.2
        words.0 ^= words.3
        words.2 ^= t
        words.3 = words.3 << 45 | words.3 >> 19
        return result
    }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A standard normal sample (Box–Muller in Double, so rounding to Float hides libm differences).
    public mutating func nextNormal() -> Float {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53  // (0, 1]: log never sees 0
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }
}

/// The process-wide generator behind `randn`/`uniform` calls that pass no seed or generator.
public enum GlobalRandom {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var generator = RandomGenerator(seed: 0)

    /// Reseeds the global generator, like `torch.manual_seed`.
    public static func seed(_ seed: UInt64) {
        lock.withLock { generator = RandomGenerator(seed: seed) }
    }

    /// Runs `body` with exclusive access to the global generator.
    public static func withGenerator<R>(_ body: (inout RandomGenerator) -> R) -> R {
        lock.withLock { body(&generator) }
    }

    /// The global generator's state (see `RandomGenerator.state`); setting it continues a
    /// saved run's random sequence. A state `RandomGenerator(state:)` rejects is ignored.
    public static var state: [UInt64] {
        get { lock.withLock { generator.state } }
        set { if let restored = RandomGenerator(state: newValue) { lock.withLock { generator = restored } } }
    }
}
