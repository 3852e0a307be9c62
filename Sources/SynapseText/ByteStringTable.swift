// An open-addressing hash set of byte strings with dense indices.

import Foundation

/// Byte strings (words, pre-tokens) interned to dense indices 0, 1, 2, … in insertion order.
///
/// Swift's `Dictionary<String, _>` hashes and compares strings under Unicode canonical
/// equivalence, which is both slower than a byte hash and wrong for tokenizers: "é" and
/// "e\u{301}" are different byte sequences and must stay different words.
struct ByteStringTable: Sendable {
    /// The keys, back to back; key `i` is `storage[starts[i]..<starts[i + 1]]`.
    private(set) var storage: [UInt8] = []
    private(set) var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Key index + 1 per slot; 0 is empty.
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { starts.count - 1 }

    /// The bytes of key `index`.
    func key(_ index: Int) -> ArraySlice<UInt8> { storage[starts[index]..<starts[index + 1]] }

    /// The index of `key`, inserting it if new.
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> (index: Int, inserted: Bool) {
        let hash = Self.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { break }
            if hashes[entry - 1] == hash && matches(entry - 1, key) { return (entry - 1, false) }
            slot = (slot + 1) & mask
        }
        let index = count
        storage.append(contentsOf: key)
        starts.append(storage.count)
        hashes.append(hash)
        slots[slot] = Int32(index + 1)
        if count * 2 > slots.count { grow() }
        return (index, true)
    }

    /// The index of `key`, or nil.
    func index(of key: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = Self.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if hashes[entry - 1] == hash && matches(entry - 1, key) { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    mutating func insert(_ key: [UInt8]) -> (index: Int, inserted: Bool) {
        key.withUnsafeBufferPointer { insert($0) }
    }

    func index(of key: [UInt8]) -> Int? { key.withUnsafeBufferPointer { index(of: $0) } }

    private func matches(_ index: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[index], length = starts[index + 1] - start
        guard length == key.count else { return false }
        return storage.withUnsafeBufferPointer { stored in
            guard length > 0 else { return true }
            return memcmp(stored.baseAddress! + start, key.baseAddress!, length) == 0
        }
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for index in 0..<count {
            var slot = Int(truncatingIfNeeded: hashes[index]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
    }

    /// A multiply-mix hash over 8-byte words; word boundaries and pre-tokens are short, so
    /// this is a handful of instructions per key.
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        guard let base = key.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        while offset + 8 <= key.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            offset += 8
        }
        if offset < key.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < key.count {
                tail |= UInt64(base[offset]) << shift
                shift += 8
                offset += 1
            }
            h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        }
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }
}
