// Line charts as inline SVG.

import Foundation

/// A line chart with labelled axes, ticks and a legend, rendered as inline SVG.
public struct LineChart: Sendable {
    /// One curve.
    public struct Series: Sendable, Codable {
        public enum Style: String, Sendable, Codable {
            /// A solid line, with markers when it has few points.
            case solid
            /// A dashed line.
            case dashed
            /// A thin, pale line under the others (raw per-step values under their smoothing).
            case faint
        }
        public var name: String
        public var points: [[Double]]
        public var style: Style
        /// The palette colour; series sharing one (raw and smoothed) pass the same index.
        public var colorIndex: Int

        public init(name: String, points: [(x: Double, y: Double)], style: Style = .solid, colorIndex: Int) {
            self.name = name
            self.points = points.map { [$0.x, $0.y] }
            self.style = style
            self.colorIndex = colorIndex
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Whether the y axis starts at zero (for quantities such as throughput or a learning
    /// rate, whose size matters more than their changes).
    public var includesZero = false
    public var width = 520.0, height = 300.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// About `count` round tick values (steps of 1, 2 or 5 × 10ⁿ) covering `low...high`.
    public static func ticks(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
        guard high > low else { return [low] }
        let rough = (high - low) / Double(count)
        let power = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
        // Multiples of the step, divided by a power of ten rather than multiplied by its
        // inverse, print as 0.6 instead of 0.6000000000000001.
        let scale = power < 1 ? (1 / power).rounded() : 1
        var values: [Double] = []
        var index = ceil(low / step - 1e-9)
        while index * step <= high + step * 1e-9 {
            values.append((index * step * scale).rounded() / scale)
            index += 1
        }
        return values
    }

    /// The chart as an `<svg>` element.
    public func svg() -> String {
        let left = 74.0, right = 14.0, top = 46.0, bottom = 46.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let finite = series.flatMap(\.points).filter { $0[0].isFinite && $0[1].isFinite }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
            + "width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">"
        svg += "<text class=\"title\" x=\"\(HTML.coordinate(left))\" y=\"16\">\(HTML.escape(title))</text>"
        guard !finite.isEmpty else {
            svg += "<text class=\"empty\" x=\"\(HTML.coordinate(width / 2))\" y=\"\(HTML.coordinate(height / 2))\" "
                + "text-anchor=\"middle\">no finite values yet</text></svg>"
            return svg
        }
        var (xLow, xHigh) = (finite.map { $0[0] }.min()!, finite.map { $0[0] }.max()!)
        var (yLow, yHigh) = (finite.map { $0[1] }.min()!, finite.map { $0[1] }.max()!)
        if xHigh <= xLow { (xLow, xHigh) = (xLow - 0.5, xHigh + 0.5) }
        if includesZero { (yLow, yHigh) = (min(yLow, 0), max(yHigh, 0)) }
        if yHigh <= yLow {
            let spread = yLow == 0 ? 1 : abs(yLow) * 0.1
            (yLow, yHigh) = includesZero && yLow >= 0 ? (0, yHigh + spread) : (yLow - spread, yHigh + spread)
        }
        let margin = (yHigh - yLow) * 0.05
        if !(includesZero && yLow == 0) { yLow -= margin }
        yHigh += margin
        let xTicks = LineChart.ticks(xLow, xHigh), yTicks = LineChart.ticks(yLow, yHigh)
        func px(_ x: Double) -> Double { left + (x - xLow) / (xHigh - xLow) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yLow) / (yHigh - yLow)) * plotHeight }
        svg += "<g class=\"grid\">"
        for y in yTicks {
            svg += "<line x1=\"\(HTML.coordinate(left))\" x2=\"\(HTML.coordinate(left + plotWidth))\" y1=\"\(HTML.coordinate(py(y)))\" "
                + "y2=\"\(HTML.coordinate(py(y)))\"/>"
        }
        svg += "</g><g class=\"axis\">"
        svg += "<line x1=\"\(HTML.coordinate(left))\" x2=\"\(HTML.coordinate(left))\" y1=\"\(HTML.coordinate(top))\" "
            + "y2=\"\(HTML.coordinate(top + plotHeight))\"/>"
        svg += "<line x1=\"\(HTML.coordinate(left))\" x2=\"\(HTML.coordinate(left + plotWidth))\" "
            + "y1=\"\(HTML.coordinate(top + plotHeight))\" y2=\"\(HTML.coordinate(top + plotHeight))\"/>"
        for y in yTicks {
            svg += "<text x=\"\(HTML.coordinate(left - 6))\" y=\"\(HTML.coordinate(py(y) + 4))\" text-anchor=\"end\">\(HTML.number(y))</text>"
        }
        for x in xTicks {
            svg += "<line x1=\"\(HTML.coordinate(px(x)))\" x2=\"\(HTML.coordinate(px(x)))\" y1=\"\(HTML.coordinate(top + plotHeight))\" "
                + "y2=\"\(HTML.coordinate(top + plotHeight + 4))\"/>"
            svg += "<text x=\"\(HTML.coordinate(px(x)))\" y=\"\(HTML.coordinate(top + plotHeight + 17))\" text-anchor=\"middle\">\(HTML.number(x))</text>"
        }
        svg += "<text class=\"label\" x=\"\(HTML.coordinate(left + plotWidth / 2))\" y=\"\(HTML.coordinate(height - 8))\" "
            + "text-anchor=\"middle\">\(HTML.escape(xLabel))</text>"
        svg += "<text class=\"label\" transform=\"translate(13 \(HTML.coordinate(top + plotHeight / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\">\(HTML.escape(yLabel))</text></g>"
        let ordered = series.filter { $0.style == .faint } + series.filter { $0.style != .faint }
        for line in ordered {
            let color = Palette.color(line.colorIndex)
            var path = "", pen = false, markers = ""
            for point in line.points {
                guard point[0].isFinite, point[1].isFinite else {
                    pen = false
                    continue
                }
                path += (pen ? "L" : "M") + HTML.coordinate(px(point[0])) + " " + HTML.coordinate(py(point[1]))
                pen = true
                if line.style == .solid && line.points.count <= 60 {
                    markers += "<circle cx=\"\(HTML.coordinate(px(point[0])))\" cy=\"\(HTML.coordinate(py(point[1])))\" r=\"2.5\"/>"
                }
            }
            let stroke: String
            switch line.style {
            case .solid: stroke = "stroke-width=\"2\""
            case .dashed: stroke = "stroke-width=\"2\" stroke-dasharray=\"6 4\""
            case .faint: stroke = "stroke-width=\"1\" stroke-opacity=\"0.3\""
            }
            svg += "<g class=\"series\"><title>\(HTML.escape(line.name))</title>"
            if !path.isEmpty { svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" \(stroke)/>" }
            if !markers.isEmpty { svg += "<g fill=\"\(color)\">\(markers)</g>" }
            svg += "</g>"
        }
        // The legend sits between the title and the plot, one entry after another.
        var x = left
        for line in series where line.style != .faint || series.count == 1 {
            let color = Palette.color(line.colorIndex)
            let dash = line.style == .dashed ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<line x1=\"\(HTML.coordinate(x))\" x2=\"\(HTML.coordinate(x + 20))\" y1=\"32\" y2=\"32\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>"
            svg += "<text class=\"legend\" x=\"\(HTML.coordinate(x + 25))\" y=\"36\">\(HTML.escape(line.name))</text>"
            x += 35 + Double(line.name.count) * 6.5
        }
        return svg + "</svg>"
    }
}
