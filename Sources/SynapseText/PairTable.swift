// An open-addressing map from token-id pairs to 64-bit values.

/// A map from a pair of token ids to a 64-bit value (a merge's rank and result, or a pair's
/// slot in the trainer's statistics), probed linearly with a multiplicative hash. BPE looks up
/// every adjacent pair of every new word, so this is the encoder's innermost table.
struct PairTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var mask: Int
    private var shift: UInt64
    private(set) var count = 0

    private static let empty = UInt64.max

    init(capacity: Int = 1024) {
        var size = 16, bits: UInt64 = 4
        while size < capacity * 2 {
            size <<= 1
            bits += 1
        }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
        shift = 64 - bits
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 { UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right)) }

    @inline(__always)
    private func slot(for key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The value stored for the pair, or nil.
    @inline(__always)
    func value(_ left: Int32, _ right: Int32) -> UInt64? {
        let key = Self.key(left, right)
        var slot = slot(for: key)
        while true {
            let stored = keys[slot]
            if stored == key { return values[slot] }
            if stored == Self.empty { return nil }
            slot = (slot + 1) & mask
        }
    }

    /// Stores `value` for the pair; returns false (and changes nothing) if it was present.
    @discardableResult
    mutating func insert(_ left: Int32, _ right: Int32, value: UInt64) -> Bool {
        let key = Self.key(left, right)
        var slot = slot(for: key)
        while keys[slot] != Self.empty {
            if keys[slot] == key { return false }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = value
        count += 1
        if count * 2 > keys.count { grow() }
        return true
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: Self.empty, count: oldKeys.count * 2)
        values = [UInt64](repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        shift -= 1
        for (key, value) in zip(oldKeys, oldValues) where key != Self.empty {
            var slot = slot(for: key)
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] = value
        }
    }
}
