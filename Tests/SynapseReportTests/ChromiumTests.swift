import Foundation
import XCTest
import Synapse

/// Loads reports in headless Chromium, as a person would open them: the page must load with
/// no console errors, its DOM must hold every section, and its screenshot must not be blank.
/// `.ci/run` installs Debian's chromium; without it these tests are skipped and say so.
final class ChromiumTests: XCTestCase {
    static let browser: String? = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap { name -> String? in
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/\(name)" }
        return paths.first { FileManager.default.isExecutableFile(atPath: $0) }
    }.first

    /// Runs the browser headless on `arguments`; returns its standard output and error.
    private func runBrowser(_ arguments: [String]) throws -> (output: String, log: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ChromiumTests.browser!)
        // Root in a container has no user namespace for Chromium's sandbox; the page is ours.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                             "--enable-logging=stderr", "--v=0",
                             "--user-data-dir=" + NSTemporaryDirectory() + "synapse-chromium-\(UUID().uuidString)"] + arguments
        let output = Pipe(), log = Pipe()
        process.standardOutput = output
        process.standardError = log
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let logData = log.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: logData, as: UTF8.self))
        return (String(decoding: outputData, as: UTF8.self), String(decoding: logData, as: UTF8.self))
    }

    private func sampleReport() throws -> String {
        var page = ReportDocument(title: "Chromium check <&>", command: "synapse train --report run.html",
                                  configuration: [ReportField("--epochs", "3")], environment: TrainingReport.environment(),
                                  datasets: [ReportField("Train", "100 examples")],
                                  summary: ModelSummary(Sequential { Linear(4, 3); ReLU(); Linear(3, 2) }, input: Tensor.zeros([2, 4])))
        page.batchesPerEpoch = 10
        for epoch in 1...3 {
            for batch in 1...10 { page.steps.add(step: (epoch - 1) * 10 + batch, loss: 2 / Float(epoch * 10 + batch), learningRate: 0.1) }
            page.epochs.append(EpochLog(epoch: epoch, steps: epoch * 10, trainLoss: 1 / Float(epoch), trainMetrics: ["accuracy": 0.3 * Float(epoch)],
                                        validationLoss: 1.2 / Float(epoch), validationMetrics: ["accuracy": 0.25 * Float(epoch)],
                                        learningRate: 0.1, seconds: 1))
            page.throughput.append(1000)
            let tile = Image(width: 8, height: 8, channels: 1, pixels: (0..<64).map { UInt8($0 * 4) })
            page.append(GalleryEntry(label: "epoch \(epoch)", png: try tile.pngData()), toGallery: "Samples")
        }
        page.setSection(.classification(ClassificationSection(
            title: "Test set", classNames: ["cat", "dog <b>"], confusion: [[5, 1], [2, 7]],
            misclassified: [MisclassifiedExample(truth: "cat", predicted: "dog <b>", text: "<script>alert(1)</script>")])))
        page.setSection(.table(title: "Frequent confusions", header: ["true", "predicted", "count"], rows: [["NOUN", "PROPN", "12"]]))
        page.setSection(.chart(LineChartData(title: "Forecast", xLabel: "month", yLabel: "passengers (thousands)",
                                             series: [.init(name: "actual", points: [(1, 100), (2, 120)], colorIndex: 0)])))
        let path = NSTemporaryDirectory() + "synapse-chromium-\(UUID().uuidString).html"
        try page.html().write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testReportLoadsWithoutConsoleErrorsAndHoldsEverySection() throws {
        guard ChromiumTests.browser != nil else { throw XCTSkip("chromium is not installed (.ci/run installs it); report not checked in a browser") }
        let path = try sampleReport()
        let (dom, log) = try runBrowser(["--dump-dom", "file://" + path])
        let consoleLines = log.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
        XCTAssertTrue(consoleLines.isEmpty, "console messages: \(consoleLines)")
        for needle in ["<h1>Chromium check &lt;&amp;&gt;</h1>", "<h2>Run</h2>", "<h2>Model</h2>", "<h2>Training curves</h2>",
                       "<h2>Test set</h2>", "<h2>Samples</h2>", "<h2>Frequent confusions</h2>", "<h2>Forecast</h2>",
                       "&lt;script&gt;alert(1)&lt;/script&gt;", "<svg"] {
            XCTAssertTrue(dom.contains(needle), "the rendered DOM lacks \(needle)")
        }
        XCTAssertFalse(dom.contains("<script>alert"), "escaped text became a script in the browser")
    }

    func testScreenshotShowsThePage() throws {
        guard ChromiumTests.browser != nil else { throw XCTSkip("chromium is not installed (.ci/run installs it); no screenshot taken") }
        let path = try sampleReport()
        let screenshot = NSTemporaryDirectory() + "synapse-chromium-\(UUID().uuidString).png"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: screenshot) }
        _ = try runBrowser(["--window-size=1200,1600", "--screenshot=" + screenshot, "file://" + path])
        let image = try Image(contentsOf: screenshot, channels: 3)
        XCTAssertEqual(image.width, 1200)
        XCTAssertEqual(image.height, 1600)
        // Curves, heat-map cells and text: far more than a few distinct colours, and plenty of
        // dark (text) pixels on the light background.
        var colors = Set<Int>(), dark = 0
        for index in stride(from: 0, to: image.pixels.count, by: 3) {
            let (r, g, b) = (Int(image.pixels[index]), Int(image.pixels[index + 1]), Int(image.pixels[index + 2]))
            colors.insert(r << 16 | g << 8 | b)
            if r + g + b < 200 { dark += 1 }
        }
        XCTAssertGreaterThan(colors.count, 50)
        XCTAssertGreaterThan(dark, 5000)
    }
}
