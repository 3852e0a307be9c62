// A confusion matrix as an SVG heat map.

import Foundation

/// A confusion matrix drawn as a heat map: rows are the true classes, columns the predicted
/// ones, each cell shaded by its share of the row (the recall of the diagonal) on a
/// single-hue scale, which stays ordered under any colour-vision deficiency. Every cell
/// carries a tooltip with its count; counts are printed in cells when there are few classes,
/// and class names label the axes at any size (a 100-class matrix gets 9-pixel cells).
public struct ConfusionHeatMap: Sendable {
    public let confusion: [[Int]]
    public let classNames: [String]

    public init(confusion: [[Int]], classNames: [String]) {
        self.confusion = confusion
        self.classNames = classNames
    }

    /// The colour of a cell holding `share` (0...1) of its row: white to dark blue.
    static func color(_ share: Double) -> String {
        let light = (247.0, 251.0, 255.0), dark = (8.0, 48.0, 107.0)
        let t = min(max(share, 0), 1).squareRoot()
        func channel(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * t).rounded()) }
        return String(format: "#%02x%02x%02x", channel(light.0, dark.0), channel(light.1, dark.1), channel(light.2, dark.2))
    }

    public func svg() -> String {
        let n = confusion.count
        let cell = n <= 10 ? 40.0 : n <= 20 ? 26.0 : n <= 40 ? 16.0 : 9.0
        let fontSize = min(12.0, max(7.0, cell * 0.8))
        let names = (0..<n).map { $0 < classNames.count ? classNames[$0] : String($0) }
        let longest = Double(names.map(\.count).max() ?? 1)
        let labelSpace = min(160.0, longest * fontSize * 0.6 + 10)
        let left = labelSpace + 24, top = labelSpace + 24
        let width = left + cell * Double(n) + 10, height = top + cell * Double(n) + 10
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
            + "width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"confusion matrix\">"
        svg += "<text class=\"label\" x=\"\(HTML.coordinate(left + cell * Double(n) / 2))\" y=\"14\" text-anchor=\"middle\">predicted class</text>"
        svg += "<text class=\"label\" transform=\"translate(14 \(HTML.coordinate(top + cell * Double(n) / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\">true class</text>"
        for (index, name) in names.enumerated() {
            let center = Double(index) * cell + cell / 2
            svg += "<text class=\"tick\" style=\"font-size:\(HTML.coordinate(fontSize))px\" x=\"\(HTML.coordinate(left - 4))\" "
                + "y=\"\(HTML.coordinate(top + center + fontSize * 0.35))\" text-anchor=\"end\">\(HTML.escape(name))</text>"
            svg += "<text class=\"tick\" style=\"font-size:\(HTML.coordinate(fontSize))px\" text-anchor=\"start\" "
                + "transform=\"translate(\(HTML.coordinate(left + center + fontSize * 0.35)) \(HTML.coordinate(top - 4))) rotate(-90)\">"
                + "\(HTML.escape(name))</text>"
        }
        // Empty cells are the background; the others are unit squares in a scaled group,
        // which keeps a 100-class matrix to a few hundred kilobytes.
        svg += "<rect x=\"\(HTML.coordinate(left))\" y=\"\(HTML.coordinate(top))\" width=\"\(HTML.coordinate(cell * Double(n)))\" "
            + "height=\"\(HTML.coordinate(cell * Double(n)))\" fill=\"\(ConfusionHeatMap.color(0))\"/>"
        svg += "<g transform=\"translate(\(HTML.coordinate(left)) \(HTML.coordinate(top))) scale(\(HTML.coordinate(cell)))\">"
        var counts = ""
        for (row, values) in confusion.enumerated() {
            let total = max(values.reduce(0, +), 1)
            for (column, count) in values.enumerated() where count > 0 {
                let share = Double(count) / Double(total)
                svg += "<rect x=\"\(column)\" y=\"\(row)\" width=\"1\" height=\"1\" fill=\"\(ConfusionHeatMap.color(share))\">"
                    + "<title>true \(HTML.escape(names[row])), predicted \(HTML.escape(names[column])): \(count) "
                    + "(\(String(format: "%.1f", share * 100))% of the row)</title></rect>"
                if n <= 20 {
                    let ink = share > 0.45 ? "#ffffff" : "#1a1a1a"
                    counts += "<text class=\"count\" x=\"\(HTML.coordinate(left + (Double(column) + 0.5) * cell))\" "
                        + "y=\"\(HTML.coordinate(top + (Double(row) + 0.5) * cell + 4))\" text-anchor=\"middle\" fill=\"\(ink)\" "
                        + "style=\"font-size:\(HTML.coordinate(min(11, cell * 0.4)))px\">\(count)</text>"
                }
            }
        }
        svg += "</g>" + counts
        svg += "<rect x=\"\(HTML.coordinate(left))\" y=\"\(HTML.coordinate(top))\" width=\"\(HTML.coordinate(cell * Double(n)))\" "
            + "height=\"\(HTML.coordinate(cell * Double(n)))\" fill=\"none\" stroke=\"#888888\"/>"
        return svg + "</svg>"
    }
}
