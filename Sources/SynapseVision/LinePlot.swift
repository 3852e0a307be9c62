// Line charts rendered to images: series over a shared x axis, with axes, ticks and a legend.

import Foundation
import SynapseCore

/// One line of a `LinePlot`: (x, y) points joined in order.
public struct PlotSeries: Sendable {
    public let name: String
    public let color: Color
    public let points: [(x: Double, y: Double)]

    public init(name: String, color: Color, points: [(x: Double, y: Double)]) {
        self.name = name
        self.color = color
        self.points = points
    }

    /// A series whose x values are `start`, `start + 1`, …
    public init(name: String, color: Color, values: [Float], start: Int = 0) {
        self.init(name: name, color: color, points: values.enumerated().map { (Double(start + $0.offset), Double($0.element)) })
    }
}

/// A line chart drawn on white with the 5×7 font: y ticks at round values, x ticks at the
/// positions given (labelled, e.g., with years), and a legend naming each series' color.
///
/// ```swift
/// let plot = LinePlot(title: "Passengers", series: [history, forecast], xTicks: [(0, "1949"), (12, "1950")])
/// try plot.render().write(to: "forecast.png")
/// ```
public struct LinePlot: Sendable {
    public var title: String
    public var series: [PlotSeries]
    public var xTicks: [(x: Double, label: String)]

    public init(title: String = "", series: [PlotSeries], xTicks: [(x: Double, label: String)] = []) {
        self.title = title
        self.series = series
        self.xTicks = xTicks
    }

    /// The chart as a `width`×`height` RGB image.
    public func render(width: Int = 900, height: Int = 420) -> Image {
        require(width >= 200 && height >= 150, "LinePlot.render: needs at least 200×150 pixels, got \(width)×\(height)")
        let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        var canvas = Image(width: width, height: height, channels: 3, value: 255)
        guard !points.isEmpty else { return canvas }
        let ticks = Self.niceTicks(low: points.map(\.y).min()!, high: points.map(\.y).max()!)
        let (yLow, yHigh) = (ticks.first!, ticks.last!)
        let (xLow, xHigh) = (points.map(\.x).min()!, points.map(\.x).max()!)
        let tickLabels = ticks.map { Self.format($0) }
        let left = 12 + (tickLabels.map(BitmapFont.width(of:)).max() ?? 0), right = width - 16
        let top = 40, bottom = height - 28
        func px(_ x: Double) -> Int { left + Int(((x - xLow) / max(xHigh - xLow, 1e-12) * Double(right - left)).rounded()) }
        func py(_ y: Double) -> Int { bottom - Int(((y - yLow) / max(yHigh - yLow, 1e-12) * Double(bottom - top)).rounded()) }
        let grid = Color(red: 228, green: 228, blue: 228), axis = Color(red: 90, green: 90, blue: 90)
        let ink = Color(red: 40, green: 40, blue: 40)
        for (tick, label) in zip(ticks, tickLabels) {
            canvas.line(from: (left, py(tick)), to: (right, py(tick)), color: grid)
            canvas.draw(label, left: left - 6 - BitmapFont.width(of: label), top: py(tick) - 3, color: ink)
        }
        for tick in xTicks where tick.x >= xLow && tick.x <= xHigh {
            canvas.line(from: (px(tick.x), top), to: (px(tick.x), bottom), color: grid)
            canvas.draw(tick.label, left: px(tick.x) - BitmapFont.width(of: tick.label) / 2, top: bottom + 8, color: ink)
        }
        canvas.line(from: (left, bottom), to: (right, bottom), color: axis)
        canvas.line(from: (left, top), to: (left, bottom), color: axis)
        for line in series {
            let visible = line.points.filter { $0.x.isFinite && $0.y.isFinite }
            for (a, b) in zip(visible, visible.dropFirst()) {
                canvas.line(from: (px(a.x), py(a.y)), to: (px(b.x), py(b.y)), color: line.color, thickness: 2)
            }
            if visible.count == 1 { canvas.line(from: (px(visible[0].x), py(visible[0].y)), to: (px(visible[0].x), py(visible[0].y)),
                                                color: line.color, thickness: 3) }
        }
        canvas.draw(title, left: left, top: 8, color: ink)
        var legendRight = right
        for line in series.reversed() {
            let textWidth = BitmapFont.width(of: line.name)
            let start = legendRight - textWidth - 22
            canvas.line(from: (start, 24), to: (start + 14, 24), color: line.color, thickness: 3)
            canvas.draw(line.name, left: start + 18, top: 21, color: ink)
            legendRight = start - 16
        }
        return canvas
    }

    /// Round tick values covering [low, high]: steps of 1, 2 or 5 × 10ⁿ, about five of them.
    static func niceTicks(low: Double, high: Double) -> [Double] {
        let span = high > low ? high - low : max(abs(low), 1)
        let raw = span / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = floor(low / step) * step
        var ticks: [Double] = []
        var value = first
        while ticks.count < 2 || ticks.last! < high - step * 1e-9 {
            ticks.append(value)
            value += step
        }
        return ticks
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%.3g", value)
    }
}

extension Image {
    /// Draws a straight line (Bresenham) `thickness` pixels wide, clipped to the image.
    mutating func line(from start: (Int, Int), to end: (Int, Int), color: Color, thickness: Int = 1) {
        let luma = (299 * Int(color.red) + 587 * Int(color.green) + 114 * Int(color.blue)) / 1000
        let ink: [UInt8] = channels == 3 ? [color.red, color.green, color.blue] : [UInt8(luma)]
        var (x, y) = start
        let (dx, dy) = (abs(end.0 - x), -abs(end.1 - y))
        let (sx, sy) = (x < end.0 ? 1 : -1, y < end.1 ? 1 : -1)
        var error = dx + dy
        let offset = (thickness - 1) / 2
        while true {
            for ty in 0..<thickness {
                for tx in 0..<thickness {
                    let (cx, cy) = (x + tx - offset, y + ty - offset)
                    guard cx >= 0 && cx < width && cy >= 0 && cy < height else { continue }
                    for channel in 0..<channels { pixels[(cy * width + cx) * channels + channel] = ink[channel] }
                }
            }
            if x == end.0 && y == end.1 { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x += sx }
            if doubled <= dx { error += dx; y += sy }
        }
    }
}
