import Foundation
import XCTest
import Synapse
import SynapseExamples

/// `--report`, `synapse summary` and `synapse report` as a user runs them.
final class ReportCommandTests: XCTestCase {
    private func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "report-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func testTrainWritesAReportAndItsHistoryRebuildsOne() throws {
        let folder = try temporaryFolder()
        let (report, history) = (folder + "/run.html", folder + "/run.json")
        let run = try runSynapse(["train", "--epochs", "2", "--validation-split", "0.1", "--report", report, "--history", history])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("report \(report)"), run.output)
        let html = try String(contentsOfFile: report, encoding: .utf8)
        for needle in ["<h2>Results</h2>", "Test accuracy", "<th>--epochs</th><td>2</td>", "<th>--validation-split</th><td>0.1</td>",
                       "<h2>Model</h2>", "50,826", "<h2>Training curves</h2>", "<h2>Test set</h2>", "<h2>Validation, last epoch</h2>",
                       "Misclassified examples", "finished · epoch 2"] {
            XCTAssertTrue(html.contains(needle), "the report lacks \(needle)")
        }
        let rebuilt = folder + "/rebuilt.html"
        let again = try runSynapse(["report", "--history", history, "--output", rebuilt])
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("(2 epochs)"), again.output)
        let page = try String(contentsOfFile: rebuilt, encoding: .utf8)
        XCTAssertTrue(page.contains("<h2>Training curves</h2>") && page.contains("rebuilt from the history"), page)
    }

    func testMisuseGetsClearErrors() throws {
        let folder = try temporaryFolder()
        let text = try runSynapse(["train", "--epochs", "1", "--report", folder + "/run.txt"])
        XCTAssertEqual(text.status, 64, text.output)
        XCTAssertTrue(text.output.contains("the report is an HTML page; name it .html"), text.output)
        let missingFolder = try runSynapse(["train", "--epochs", "1", "--report", folder + "/no/run.html"])
        XCTAssertEqual(missingFolder.status, 1, missingFolder.output)
        XCTAssertTrue(missingFolder.output.contains("does not exist"), missingFolder.output)
        let csv = folder + "/run.csv"
        try "epoch,steps\n1,10\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let fromCSV = try runSynapse(["report", "--history", csv])
        XCTAssertEqual(fromCSV.status, 1, fromCSV.output)
        XCTAssertTrue(fromCSV.output.contains("give the JSON history"), fromCSV.output)
        let absent = try runSynapse(["report", "--history", folder + "/none.json"])
        XCTAssertTrue(absent.output.contains("no such file"), absent.output)
        let bothModels = try runSynapse(["summary"])
        XCTAssertEqual(bothModels.status, 64, bothModels.output)
        XCTAssertTrue(bothModels.output.contains("give either --model or --checkpoint"), bothModels.output)
        let badShape = try runSynapse(["summary", "--model", "mlp", "--input", "2,-3"])
        XCTAssertTrue(badShape.output.contains("give positive sizes separated by commas"), badShape.output)
        let folds = try runSynapse(["text", "train", "--data", folder + "/x.tsv", "--folds", "3", "--report", folder + "/r.html"])
        XCTAssertTrue(folds.output.contains("--report describes one training run"), folds.output)
    }

    func testSummaryPrintsLayersAndTotals() throws {
        let summary = try runSynapse(["summary", "--model", "seed-cnn", "--input", "8,1,28,28"])
        XCTAssertEqual(summary.status, 0, summary.output)
        GlobalRandom.seed(0)
        let model = try ModelName.seedCNN.build(inputShape: [1, 28, 28], classes: 10)
        XCTAssertTrue(summary.output.contains("Total parameters: \(ModelSummary.formatted(count: model.parameterCount))"), summary.output)
        XCTAssertTrue(summary.output.contains("(Conv2d)"), summary.output)
        XCTAssertTrue(summary.output.contains("[8, 10]"), summary.output)
        XCTAssertTrue(summary.output.contains("Activation memory, one batch (input [8, 1, 28, 28])"), summary.output)
    }
}
