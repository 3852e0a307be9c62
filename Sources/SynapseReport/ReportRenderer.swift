// Renders a ReportDocument as one self-contained HTML page.

import Foundation
import SynapseNN
import SynapseTrain

extension ReportDocument {
    /// The report as a self-contained page: inline CSS and SVG, images as data URIs, no
    /// scripts, fonts or other files, well-formed as XML.
    public func html() -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>
            <meta name="generator" content="Synapse \(HTML.escape(synapseVersionText))"/>
            <title>\(HTML.escape(title))</title><style>\(ReportDocument.style)</style></head><body>
            """
        page += "<header><h1>\(HTML.escape(title))</h1><p class=\"status\">" + HTML.escape(statusLine) + "</p></header>"
        if !results.isEmpty { page += "<section id=\"results\"><h2>Results</h2>" + ReportDocument.fieldTable("", results) + "</section>" }
        page += "<section id=\"run\"><h2>Run</h2><pre class=\"command\">\(HTML.escape(command))</pre><div class=\"tables\">"
        page += ReportDocument.fieldTable("Configuration", configuration)
        page += ReportDocument.fieldTable("Environment", environment)
        page += ReportDocument.fieldTable("Data", datasets)
        page += "</div></section>"
        if let summary { page += ReportDocument.summaryHTML(summary) }
        page += curvesHTML()
        for section in sections { page += ReportDocument.sectionHTML(section) }
        page += "<footer>Written by Synapse \(HTML.escape(synapseVersionText)); "
            + "rewritten after every epoch, so reloading shows the latest.</footer></body></html>\n"
        return page
    }

    private var synapseVersionText: String { environment.first { $0.name == "Synapse" }?.value ?? "" }

    private var statusLine: String {
        let formatter = ISO8601DateFormatter()
        let epochsDone = epochs.last.map { "epoch \($0.epoch)" } ?? "no epoch yet"
        return "\(status) · \(epochsDone) · started \(formatter.string(from: startedAt)) · wall time "
            + ReportDocument.duration(wallSeconds)
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        return whole < 3600 ? String(format: "%d min %02d s", whole / 60, whole % 60)
            : String(format: "%d h %02d min", whole / 3600, whole / 60 % 60)
    }

    static func fieldTable(_ caption: String, _ fields: [ReportField]) -> String {
        guard !fields.isEmpty else { return "" }
        var html = "<table class=\"fields\">" + (caption.isEmpty ? "" : "<caption>\(HTML.escape(caption))</caption>") + "<tbody>"
        for field in fields { html += "<tr><th>\(HTML.escape(field.name))</th><td>\(HTML.escape(field.value))</td></tr>" }
        return html + "</tbody></table>"
    }

    static func summaryHTML(_ summary: ModelSummary) -> String {
        var html = "<section id=\"model\"><h2>Model</h2><table class=\"summary\"><thead><tr><th>Layer</th><th>Type</th>"
            + "<th>Output shape</th><th class=\"number\">Parameters</th></tr></thead><tbody>"
        for row in summary.rows {
            let indent = "padding-left:\(HTML.coordinate(0.4 + Double(row.depth) * 1.2))em"
            html += "<tr><td style=\"\(indent)\">\(HTML.escape(row.name.isEmpty ? "(model)" : row.name))</td>"
                + "<td>\(HTML.escape(row.type))</td><td>\(ModelSummary.formatted(shape: row.outputShape))</td>"
                + "<td class=\"number\">\(ModelSummary.formatted(count: row.parameters))</td></tr>"
        }
        html += "</tbody></table><table class=\"fields\"><tbody>"
        var totals = [("Total parameters", ModelSummary.formatted(count: summary.parameterCount)),
                      ("Trainable parameters", ModelSummary.formatted(count: summary.trainableParameterCount)),
                      ("Parameter memory", ModelSummary.formatted(bytes: summary.parameterBytes))]
        if let activations = summary.activationBytes {
            let input = summary.inputShape.map { " (input \(ModelSummary.formatted(shape: $0)))" } ?? ""
            totals.append(("Activation memory, one batch" + input, ModelSummary.formatted(bytes: activations)))
        }
        for (name, value) in totals { html += "<tr><th>\(HTML.escape(name))</th><td>\(HTML.escape(value))</td></tr>" }
        return html + "</tbody></table></section>"
    }

    /// Exponential smoothing with bias correction, as TensorBoard smooths scalars.
    static func smoothed(_ values: [Double], weight: Double = 0.85) -> [Double] {
        var average = 0.0, correction = 1.0
        return values.map { value in
            guard value.isFinite else { return value }
            average = weight * average + (1 - weight) * value
            correction *= weight
            return average / (1 - correction)
        }
    }

    private func curvesHTML() -> String {
        var charts: [LineChart] = []
        let stepPoints = steps.allPoints
        // A run of one or two long epochs (a language model's steps) is plotted by step.
        let byStep = epochs.count < 3 && stepPoints.count > 1
        let axis = byStep ? "optimizer step" : "epoch"
        let perEpoch = Double(max(batchesPerEpoch, 1))
        func stepX(_ step: Double) -> Double { byStep ? step : step / perEpoch }
        func epochX(_ log: EpochLog) -> Double { byStep ? Double(log.steps) : Double(log.epoch) }
        var lossSeries: [LineChart.Series] = []
        if stepPoints.count > 1 {
            let x = stepPoints.map { stepX($0[0]) }
            lossSeries.append(.init(name: "train, per step", points: Array(zip(x, stepPoints.map { $0[1] })).map { ($0.0, $0.1) },
                                    style: .faint, colorIndex: 0))
            lossSeries.append(.init(name: "train, smoothed", points: Array(zip(x, ReportDocument.smoothed(stepPoints.map { $0[1] })))
                                    .map { ($0.0, $0.1) }, style: .dashed, colorIndex: 0))
        }
        lossSeries.append(.init(name: "train, epoch mean", points: epochs.map { (epochX($0), Double($0.trainLoss)) }, colorIndex: 0))
        if epochs.contains(where: { $0.validationLoss != nil }) {
            lossSeries.append(.init(name: "validation", points: epochs.compactMap { log in log.validationLoss.map { (epochX(log), Double($0)) } },
                                    colorIndex: 1))
        }
        charts.append(LineChart(title: "Loss", xLabel: axis, yLabel: "loss", series: lossSeries))
        let metricNames = Set(epochs.flatMap { $0.trainMetrics.keys }).union(epochs.flatMap { $0.validationMetrics.keys }).sorted()
        for name in metricNames {
            var series: [LineChart.Series] = []
            if let curve = stepMetrics[name]?.allPoints, curve.count > 1 {
                let x = curve.map { stepX($0[0]) }
                series.append(.init(name: "train, per step", points: zip(x, curve.map { $0[1] }).map { ($0.0, $0.1) }, style: .faint, colorIndex: 0))
                series.append(.init(name: "train, smoothed", points: zip(x, ReportDocument.smoothed(curve.map { $0[1] })).map { ($0.0, $0.1) },
                                    style: .dashed, colorIndex: 0))
            }
            let train = epochs.compactMap { log in log.trainMetrics[name].map { (epochX(log), Double($0)) } }
            let validation = epochs.compactMap { log in log.validationMetrics[name].map { (epochX(log), Double($0)) } }
            if !train.isEmpty { series.append(.init(name: "train", points: train, colorIndex: 0)) }
            if !validation.isEmpty { series.append(.init(name: "validation", points: validation, colorIndex: 1)) }
            charts.append(LineChart(title: ReportDocument.metricTitle(name), xLabel: axis,
                                    yLabel: ReportDocument.metricUnit(name), series: series))
        }
        let rates: [(x: Double, y: Double)] = stepPoints.count > 1
            ? stepPoints.map { (stepX($0[0]), $0[2]) } : epochs.map { (epochX($0), Double($0.learningRate)) }
        var rate = LineChart(title: "Learning rate", xLabel: axis, yLabel: "learning rate",
                             series: [.init(name: "learning rate", points: rates, colorIndex: 2)])
        rate.includesZero = true
        var speed = LineChart(title: "Throughput", xLabel: axis, yLabel: "examples (or tokens) per second",
                              series: [.init(name: "training", points: zip(epochs, throughput).map { (epochX($0.0), $0.1) },
                                             colorIndex: 3)])
        speed.includesZero = true
        charts += [rate, speed]
        var html = "<section id=\"curves\"><h2>Training curves</h2><div class=\"charts\">"
        for chart in charts { html += "<figure>\(chart.svg())</figure>" }
        html += "</div>" + epochTable() + "</section>"
        return html
    }

    static func metricTitle(_ name: String) -> String {
        switch name {
        case "accuracy": return "Accuracy"
        case "rmse": return "Root mean squared error"
        default: return name.replacingOccurrences(of: "_", with: " ").capitalized
        }
    }

    static func metricUnit(_ name: String) -> String {
        switch name {
        case "accuracy": return "accuracy (fraction correct)"
        case "rmse": return "RMSE (target units)"
        case _ where name.hasSuffix("_loss"): return "loss"
        case _ where name.hasSuffix("accuracy"): return "accuracy (fraction)"
        default: return name
        }
    }

    private func epochTable() -> String {
        guard !epochs.isEmpty else { return "" }
        let metricNames = Set(epochs.flatMap { $0.trainMetrics.keys }).union(epochs.flatMap { $0.validationMetrics.keys }).sorted()
        let hasValidation = epochs.contains { $0.validationLoss != nil }
        var header = ["epoch", "steps", "train loss"] + metricNames.map { "train \($0)" }
        if hasValidation { header += ["validation loss"] + metricNames.map { "validation \($0)" } }
        header += ["learning rate", "seconds", "examples/s"]
        var html = "<details><summary>Every epoch</summary><table class=\"epochs\"><thead><tr>"
            + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for (index, log) in epochs.enumerated() {
            func cell(_ value: Float?) -> String { value.map { HTML.number(Double($0)) } ?? "" }
            var cells = [String(log.epoch), String(log.steps), cell(log.trainLoss)] + metricNames.map { cell(log.trainMetrics[$0]) }
            if hasValidation { cells += [cell(log.validationLoss)] + metricNames.map { cell(log.validationMetrics[$0]) } }
            cells += [cell(log.learningRate), String(format: "%.2f", log.seconds),
                      index < throughput.count ? String(format: "%.0f", throughput[index]) : ""]
            html += "<tr>" + cells.map { "<td class=\"number\">\($0)</td>" }.joined() + "</tr>"
        }
        return html + "</tbody></table></details>"
    }

    static func sectionHTML(_ section: ReportSection) -> String {
        var html = "<section><h2>\(HTML.escape(section.title))</h2>"
        switch section {
        case .classification(let data):
            html += classificationHTML(data)
        case .gallery(_, let entries):
            html += "<div class=\"gallery\">"
            for entry in entries {
                html += "<figure>"
                if let png = entry.png {
                    // Small images (sample grids drawn at one pixel per pixel) show at twice their size.
                    let width = ReportDocument.pngWidth(png).map { $0 < 400 ? " width=\"\($0 * 2)\" class=\"pixels\"" : "" } ?? ""
                    html += "<img alt=\"\(HTML.escape(entry.label))\"\(width) src=\"data:image/png;base64,\(png.base64EncodedString())\"/>"
                }
                if let text = entry.text { html += "<pre class=\"sample\">\(HTML.escape(text))</pre>" }
                html += "<figcaption>\(HTML.escape(entry.label))</figcaption></figure>"
            }
            html += "</div>"
        case .table(_, let header, let rows):
            html += "<table class=\"data\"><thead><tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
            for row in rows { html += "<tr>" + row.map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>" }
            html += "</tbody></table>"
        case .chart(let data):
            let chart = LineChart(title: data.title, xLabel: data.xLabel, yLabel: data.yLabel, series: data.series)
            var wide = chart
            wide.width = 900
            html += "<figure>\(wide.svg())</figure>"
        }
        return html + "</section>"
    }

    /// The width in a PNG's header, if `data` starts like a PNG.
    static func pngWidth(_ data: Data) -> Int? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { return nil }
        return bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
    }

    static func classificationHTML(_ data: ClassificationSection) -> String {
        let metrics = ClassificationMetrics(confusion: data.confusion, loss: 0)
        let names = data.confusion.indices.map { $0 < data.classNames.count ? data.classNames[$0] : String($0) }
        var html = "<p>Accuracy \(String(format: "%.4f", metrics.accuracy)) on \(metrics.count) examples.</p>"
        html += "<div class=\"scroll\">" + ConfusionHeatMap(confusion: data.confusion, classNames: names).svg() + "</div>"
        html += "<details open=\"open\"><summary>Per-class precision, recall and F1</summary><table class=\"data\"><thead><tr>"
            + "<th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead><tbody>"
        let (precision, recall, f1) = (metrics.precision, metrics.recall, metrics.f1)
        for c in data.confusion.indices {
            html += "<tr><td>\(HTML.escape(names[c]))</td>"
                + [precision[c], recall[c], f1[c]].map { "<td class=\"number\">\(String(format: "%.3f", $0))</td>" }.joined()
                + "<td class=\"number\">\(data.confusion[c].reduce(0, +))</td></tr>"
        }
        html += "</tbody></table></details>"
        guard !data.misclassified.isEmpty else { return html }
        html += "<h3>Misclassified examples (first \(data.misclassified.count))</h3>"
        if data.misclassified.contains(where: { $0.png != nil }) {
            html += "<div class=\"gallery\">"
            for example in data.misclassified {
                html += "<figure class=\"example\">"
                if let png = example.png {
                    html += "<img class=\"pixels\" alt=\"\(HTML.escape(example.truth))\" src=\"data:image/png;base64,\(png.base64EncodedString())\"/>"
                }
                html += "<figcaption><span class=\"truth\">\(HTML.escape(example.truth))</span><br/>"
                    + "<span class=\"wrong\">as \(HTML.escape(example.predicted))</span></figcaption></figure>"
            }
            html += "</div>"
        } else {
            html += "<table class=\"data\"><thead><tr><th>text</th><th>true</th><th>predicted</th></tr></thead><tbody>"
            for example in data.misclassified {
                html += "<tr><td>\(HTML.escape(example.text ?? ""))</td><td class=\"truth\">\(HTML.escape(example.truth))</td>"
                    + "<td class=\"wrong\">\(HTML.escape(example.predicted))</td></tr>"
            }
            html += "</tbody></table>"
        }
        return html
    }

    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1180px;\
        padding:16px 24px;color:#1a1a1a;background:#fafafa}\
        h1{font-size:1.6em;margin:0.2em 0}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:4px}\
        h3{font-size:1.05em}section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:4px 16px 14px;margin:14px 0}\
        .status{color:#555;margin:0}pre.command{background:#f3f3f3;padding:8px;white-space:pre-wrap;word-break:break-all}\
        .tables{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}\
        table{border-collapse:collapse;font-size:0.9em}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;\
        vertical-align:top}caption{text-align:left;font-weight:600;padding:4px 0}table.fields th{color:#444;font-weight:500}\
        .number{text-align:right;font-variant-numeric:tabular-nums}table.summary{margin-bottom:10px}\
        .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:8px}\
        figure{margin:4px}svg{max-width:100%;height:auto;font-size:11px;font-family:inherit}\
        svg .title{font-size:13px;font-weight:600}svg .label{font-size:12px;fill:#333}svg .legend{font-size:11px;fill:#333}\
        svg .grid line{stroke:#e6e6e6}svg .axis line{stroke:#666}svg .axis text{fill:#444}svg .tick{fill:#333}\
        svg .empty{fill:#888}.scroll{overflow-x:auto}.gallery{display:flex;flex-wrap:wrap;gap:10px}\
        .gallery figure{margin:0;text-align:center;font-size:0.85em}img.pixels{image-rendering:pixelated}figure.example img.pixels{width:84px;height:auto}\
        .gallery img{max-width:100%}pre.sample{background:#f6f6f6;padding:8px;max-width:540px;white-space:pre-wrap;\
        text-align:left;font-size:0.85em}.truth{color:#005a8c}.wrong{color:#b34700}\
        details{margin:8px 0}summary{cursor:pointer;font-weight:500}footer{color:#777;font-size:0.8em;margin:12px 0}
        """
}
