// Writing JSON strings by hand, where key order matters.

/// JSON string literals for files Synapse writes itself, so that keys keep a meaningful order
/// (a vocabulary by id) that `JSONSerialization` would scramble; also a safe way to show a
/// token with newlines or control characters on a terminal.
public enum JSONText {
    /// `text` as a quoted JSON string: quotes, backslashes and control characters escaped,
    /// everything else left as UTF-8.
    public static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
