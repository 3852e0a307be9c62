// GPT-2's byte-level alphabet: every byte as a printable scalar.

/// GPT-2's reversible map between the 256 byte values and 256 printable Unicode scalars, which
/// byte-level BPE vocabularies (GPT-2's `vocab.json`, Hugging Face's `ByteLevel`) spell their
/// tokens in: printable Latin-1 bytes stand for themselves, and the other 68 (controls, space,
/// DEL, NBSP, soft hyphen) become U+0100 onwards, so a space is "Ġ" and a newline "Ċ".
public enum ByteLevel {
    /// The scalar that stands for each byte.
    public static let scalars: [Unicode.Scalar] = {
        var result = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(byte) {
                result[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                result[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return result
    }()

    /// The bytes in the order of their scalars: the order of ids 0–255 in GPT-2's vocabulary
    /// and in a Hugging Face BPE trained with `ByteLevel.alphabet()`.
    public static let bytesInScalarOrder: [UInt8] =
        (0..<256).filter { isPrintable($0) }.map(UInt8.init) + (0..<256).filter { !isPrintable($0) }.map(UInt8.init)

    /// The byte a scalar stands for, or nil for a scalar outside the alphabet.
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < inverse.count, inverse[value] >= 0 else { return nil }
        return UInt8(inverse[value])
    }

    /// `bytes` spelled in the alphabet.
    public static func spelling(_ bytes: some Sequence<UInt8>) -> String {
        var view = String.UnicodeScalarView()
        for byte in bytes { view.append(scalars[Int(byte)]) }
        return String(view)
    }

    /// The bytes `token` spells, or nil when one of its scalars is outside the alphabet.
    public static func bytes(spelledBy token: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            result.append(byte)
        }
        return result
    }

    private static func isPrintable(_ byte: Int) -> Bool {
        (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
    }

    private static let inverse: [Int16] = {
        var result = [Int16](repeating: -1, count: 256 + 68)
        for (byte, scalar) in scalars.enumerated() { result[Int(scalar.value)] = Int16(byte) }
        return result
    }()
}
