// Escaping and number formatting for the report's HTML and SVG.

import Foundation

/// Helpers for writing HTML that is also well-formed XML, so that a test can parse it.
public enum HTML {
    /// `text` with the five characters HTML and XML treat specially replaced by entities,
    /// so that data (a class name, a sentence holding `<script>`) shows as text. Control
    /// characters other than tab and newline, which XML forbids, become U+FFFD.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                result += "\u{FFFD}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A number for an axis tick or a table cell: at most `digits` significant digits, no
    /// exponent between 1e-4 and 1e6.
    static func number(_ value: Double, digits: Int = 4) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e6 || magnitude < 1e-4 {
            // 5e-05 rather than 5.000e-05: the mantissa without trailing zeros.
            let parts = String(format: "%.\(max(digits - 1, 0))e", value).split(separator: "e")
            var mantissa = String(parts[0])
            if mantissa.contains(".") {
                while mantissa.hasSuffix("0") { mantissa.removeLast() }
                if mantissa.hasSuffix(".") { mantissa.removeLast() }
            }
            return mantissa + "e" + parts[1]
        }
        var text = String(format: "%.\(digits)g", value)
        if text.contains("e") { text = String(format: "%.\(max(0, digits - 1 - Int(floor(log10(magnitude)))))f", value) }
        return text
    }

    /// A coordinate in SVG: two decimals, no trailing zeros.
    static func coordinate(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}

/// The Okabe–Ito palette: eight colours told apart under every common colour-vision
/// deficiency; curves take them in order.
enum Palette {
    static let colors = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]

    static func color(_ index: Int) -> String { colors[index % colors.count] }
}
