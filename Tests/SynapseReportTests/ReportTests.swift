import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import Synapse
import SynapseExamples

/// The HTML report and the model summary: content, escaping, well-formedness, size, and the
/// atomic rewrite a reader relies on while training runs.
final class ReportTests: XCTestCase {
    private func temporaryPath(_ name: String) -> String {
        let folder = NSTemporaryDirectory() + "synapse-report-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder + "/" + name
    }

    private func document(title: String = "test run") -> ReportDocument {
        ReportDocument(title: title, command: "synapse train", configuration: [ReportField("--epochs", "2")],
                       environment: TrainingReport.environment(), datasets: [ReportField("Train", "10 examples")], summary: nil)
    }

    /// Parses `html` as XML; returns the parser's error, if any.
    private func wellFormednessError(_ html: String) -> String? {
        let parser = XMLParser(data: Data(html.utf8))
        return parser.parse() ? nil : "\(parser.parserError.map { "\($0)" } ?? "unknown") at line \(parser.lineNumber)"
    }

    func testSummaryCountsEqualParameterCountAndShapesAreTraced() throws {
        GlobalRandom.seed(0)
        let model = Sequential { Linear(64, 32); ReLU(); Dropout(p: 0.5); Linear(32, 10) }
        let summary = ModelSummary(model, input: Tensor.zeros([8, 64]))
        XCTAssertEqual(summary.parameterCount, model.parameterCount)
        XCTAssertEqual(summary.rows.first?.parameters, model.parameterCount)
        XCTAssertEqual(summary.rows.filter { $0.depth == 1 }.map(\.parameters).reduce(0, +), model.parameterCount)
        XCTAssertEqual(summary.rows.map(\.outputShape), [[8, 10], [8, 32], [8, 32], [8, 32], [8, 10]])
        XCTAssertEqual(summary.rows.map(\.type), ["Sequential", "Linear", "ReLU", "Dropout", "Linear"])
        XCTAssertTrue(model.isTraining, "the summary must put the model back in training mode")
        let text = summary.description
        XCTAssertTrue(text.contains("Total parameters: 2,410"), text)
        XCTAssertTrue(text.contains("1 (ReLU)"), text)

        // A model that is not Sequential: its embedding, LSTM and head record themselves.
        let lm = CharacterLanguageModel(vocabularySize: 20, kind: .lstm, embedding: 8, hidden: 16, layers: 2)
        let tokens = IndexTensor(Array(repeating: 1, count: 3 * 5), shape: [3, 5])
        let task = lm.trainingTask()
        let batch = SequenceBatch(tokens: tokens, targets: tokens, lengths: [5, 5, 5])
        let traced = try ModelSummary(lm, inputShape: [3, 5]) { try task.forward(batch).logits }
        XCTAssertEqual(traced.rows.map(\.name), ["", "emb", "lstm", "head"])
        XCTAssertEqual(traced.rows.map(\.outputShape), [[15, 20], [5, 3, 8], [5, 3, 16], [15, 20]])
        XCTAssertEqual(traced.rows.dropFirst().map(\.parameters).reduce(0, +), lm.parameterCount)
        XCTAssertEqual(traced.parameterBytes, lm.parameterCount * 4)
    }

    func testActivationMemoryIsMeasuredAndGrowsWithTheBatch() {
        GlobalRandom.seed(0)
        let model = Sequential { Linear(100, 200); ReLU(); Linear(200, 10) }
        let small = ModelSummary(model, input: Tensor.zeros([16, 100])).activationBytes!
        let large = ModelSummary(model, input: Tensor.zeros([64, 100])).activationBytes!
        // At least the outputs backward keeps: 200 + 200 + 10 floats per example.
        XCTAssertGreaterThanOrEqual(small, 16 * 410 * 4)
        XCTAssertEqual(Double(large) / Double(small), 4, accuracy: 0.8)
        XCTAssertEqual(ModelSummary.formatted(bytes: 512), "512 B")
        XCTAssertEqual(ModelSummary.formatted(bytes: 3 * 1024 * 1024 + 512 * 1024), "3.50 MiB")
        XCTAssertEqual(ModelSummary.formatted(count: 1_234_567), "1,234,567")
    }

    func testHostileStringsAreEscaped() throws {
        let hostile = "<script>alert('x')</script> & \"quotes\" \u{7}"
        var page = document(title: hostile)
        page.configuration.append(ReportField("--text", hostile))
        page.setSection(.classification(ClassificationSection(
            title: "Test <set>", classNames: [hostile, "b&c"], confusion: [[3, 1], [0, 4]],
            misclassified: [MisclassifiedExample(truth: hostile, predicted: "b&c", text: "a <b>bold</b> sentence")])))
        page.setSection(.table(title: "Confusions", header: ["<th>"], rows: [["</td></tr></table><script>"]]))
        page.append(GalleryEntry(label: "epoch 1", text: "<img src=x onerror=alert(1)>"), toGallery: "Samples")
        let html = page.html()
        XCTAssertFalse(html.lowercased().contains("<script"), "a data string reached the page as markup")
        XCTAssertFalse(html.contains("<b>bold"))
        XCTAssertFalse(html.contains("<img src=x"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot; \u{FFFD}"))
        XCTAssertNil(wellFormednessError(html))
        XCTAssertEqual(HTML.escape("a<b>&'\""), "a&lt;b&gt;&amp;&#39;&quot;")
    }

    func testReportOfABoundedRunHasEverySectionAndIsWellFormed() throws {
        GlobalRandom.seed(0)
        let (full, test) = try Datasets.digits()
        let (train, validation) = full.split(validationFraction: 0.1, seed: 0)
        let (mean, deviation) = train.featureStatistics()
        let normalize = Normalize(mean: mean, standardDeviation: deviation)
        let model = Sequential { Linear(64, 32); ReLU(); Linear(32, 10) }
        let path = temporaryPath("run.html")
        var page = document()
        page.summary = ModelSummary(model, input: Tensor.zeros([32, 64]))
        let report = TrainingReport(path: path, document: page)
        var epochsSeen: [Int] = []
        report.epochDidEnd = { _, log, document in
            epochsSeen.append(log.epoch)
            document.append(GalleryEntry(label: "epoch \(log.epoch)", text: "sample of epoch \(log.epoch)"), toGallery: "Samples")
        }
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters, lr: 0.05, momentum: 0.9), callbacks: [report])
        try trainer.fit(DataLoader(train, batchSize: 32, shuffle: true, seed: 0, transform: normalize),
                        validation: DataLoader(validation, batchSize: 100, transform: normalize), epochs: 3, classCount: 10)
        XCTAssertEqual(epochsSeen, [1, 2, 3])
        let metrics = evaluate(model, on: DataLoader(test, batchSize: 100, transform: normalize), classCount: 10)
        report.document.setSection(.classification(ClassificationSection(title: "Test set", metrics: metrics, dataset: test,
                                                                         classNames: (0...9).map(String.init))))
        try report.finish()
        let html = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertNil(wellFormednessError(html))
        for needle in ["<h2>Run</h2>", "<h2>Model</h2>", "<h2>Training curves</h2>", "<h2>Test set</h2>", "<h2>Samples</h2>",
                       "Total parameters", "Activation memory", ">Loss<", ">Accuracy<", ">Learning rate<", ">Throughput<",
                       "train, smoothed", "validation", "predicted class", "true class", "Misclassified examples",
                       "data:image/png;base64,", "sample of epoch 3", "finished", "Kernel threads", "Build targets"] {
            XCTAssertTrue(html.contains(needle), "the report lacks \(needle)")
        }
        let wrong = metrics.predictions.enumerated().filter { $0.element != test.labels.scalars[$0.offset] }.count
        XCTAssertEqual(html.components(separatedBy: "<figure class=\"example\">").count - 1, min(wrong, ClassificationSection.exampleLimit))
        XCTAssertEqual(report.document.epochs.count, 3)
        XCTAssertEqual(report.document.throughput.count, 3)
        XCTAssertTrue(report.document.throughput.allSatisfy { $0 > 0 })
        XCTAssertEqual(Int(report.document.steps.allPoints.last![0]), trainer.stepCount)
    }

    func testStepCurveStaysWithinItsLimitAndKeepsTheMean() {
        var curve = StepCurve(limit: 100)
        var sum = 0.0
        for step in 1...10_000 {
            let loss = Float(step % 7)
            sum += Double(loss)
            curve.add(step: step, loss: loss, learningRate: 0.1)
        }
        XCTAssertLessThanOrEqual(curve.allPoints.count, 100)
        XCTAssertGreaterThanOrEqual(curve.allPoints.count, 50)
        XCTAssertEqual(curve.allPoints.last![0], 10_000)
        // Full buckets hold equal counts, so their mean is the mean of the steps they cover.
        let covered = curve.points.count * curve.bucketSize
        let bucketMean = curve.points.map { $0[1] }.reduce(0, +) / Double(curve.points.count)
        let exactMean = (1...covered).map { Double($0 % 7) }.reduce(0, +) / Double(covered)
        XCTAssertEqual(bucketMean, exactMean, accuracy: 1e-9)
        XCTAssertEqual(sum / 10_000, 3, accuracy: 0.01)
    }

    func testFiftyEpochReportWithImagesStaysUnderTwoMegabytes() throws {
        var page = document()
        page.batchesPerEpoch = 900
        var generator = RandomGenerator(seed: 1)
        for epoch in 1...50 {
            for batch in 1...900 { page.steps.add(step: (epoch - 1) * 900 + batch, loss: Float(generator.next() % 1000) / 500, learningRate: 0.01) }
            page.epochs.append(EpochLog(epoch: epoch, steps: epoch * 900, trainLoss: 1 / Float(epoch), trainMetrics: ["accuracy": 0.5],
                                        validationLoss: 1.1 / Float(epoch), validationMetrics: ["accuracy": 0.5], learningRate: 0.01,
                                        seconds: 10))
            page.throughput.append(5000)
            // A noisy 8×8 grid of 28×28 tiles compresses as badly as real samples.
            let pixels = (0..<(224 * 224)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let grid = try Image(width: 224, height: 224, channels: 1, pixels: pixels).pngData()
            page.append(GalleryEntry(label: "epoch \(epoch)", png: grid), toGallery: "Samples")
        }
        let classes = 100
        // Each class confused with a few others, as a trained classifier's are.
        let confusion = (0..<classes).map { row in (0..<classes).map { $0 == row ? 90 : ($0 * 7 + row) % 19 == 0 ? 2 : 0 } }
        page.setSection(.classification(ClassificationSection(title: "Test set", classNames: (0..<classes).map { "class \($0)" },
                                                              confusion: confusion)))
        let html = page.html()
        XCTAssertLessThan(html.utf8.count, 2_000_000)
        XCTAssertLessThanOrEqual(html.components(separatedBy: "data:image/png").count - 1, ReportDocument.galleryLimit)
        XCTAssertTrue(html.contains("epoch 50"), "the gallery must keep the last epoch")
        XCTAssertTrue(html.contains("epoch 1<"), "the gallery must keep the first epoch")
        XCTAssertNil(wellFormednessError(html))
    }

    func testRewritesAreAtomicForAConcurrentReader() throws {
        let path = temporaryPath("live.html")
        let report = TrainingReport(path: path, document: document())
        try report.write()
        final class Reader: @unchecked Sendable {
            let lock = NSLock()
            var done = false, reads = 0, partial = 0
        }
        let state = Reader()
        let reader = Thread {
            while !state.lock.withLock({ state.done }) {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                let complete = String(decoding: data, as: UTF8.self).hasSuffix("</html>\n")
                state.lock.withLock {
                    state.reads += 1
                    if !complete { state.partial += 1 }
                }
            }
        }
        reader.start()
        for epoch in 1...60 {
            report.document.epochs.append(EpochLog(epoch: epoch, steps: epoch, trainLoss: 1, trainMetrics: [:], validationLoss: nil,
                                                   validationMetrics: [:], learningRate: 0.1, seconds: 1))
            report.document.append(GalleryEntry(label: "epoch \(epoch)", text: String(repeating: "long sample ", count: 4000)),
                                   toGallery: "Samples")
            try report.write()
        }
        state.lock.withLock { state.done = true }
        while !reader.isFinished { usleep(1000) }
        XCTAssertGreaterThan(state.reads, 0)
        XCTAssertEqual(state.partial, 0, "a reader saw a partly written report")
    }

    func testChartTicksAreRoundAndCoverTheRange() {
        XCTAssertEqual(LineChart.ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(LineChart.ticks(3, 47), [10, 20, 30, 40])
        let chart = LineChart(title: "t", xLabel: "epoch", yLabel: "loss", series: [.init(name: "a", points: [(1, .nan), (2, 1)], colorIndex: 0)])
        XCTAssertNil(wellFormednessError(chart.svg()))
        XCTAssertTrue(chart.svg().contains(">epoch<"))
    }
}
