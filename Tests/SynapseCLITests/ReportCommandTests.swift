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

    /// One bounded run of each other training command: each report holds the run, the model,
    /// the curves and the task's own sections.
    func testEveryTrainingCommandReportsItsTask() throws {
        let folder = try temporaryFolder()
        func check(_ name: String, _ arguments: [String], _ needles: [String]) throws {
            let path = folder + "/\(name).html"
            let run = try runSynapse(arguments + ["--report", path])
            XCTAssertEqual(run.status, 0, run.output)
            let html = try String(contentsOfFile: path, encoding: .utf8)
            for needle in ["<h2>Results</h2>", "<h2>Run</h2>", "<h2>Model</h2>", "<h2>Training curves</h2>", "finished"] + needles {
                XCTAssertTrue(html.contains(needle), "the \(name) report lacks \(needle)")
            }
        }
        let text = folder + "/text.txt"
        try String(repeating: "the cat sat on the mat.\n", count: 100).write(toFile: text, atomically: true, encoding: .utf8)
        try check("lm", ["lm", "train", "--text", text, "--model", "gpt", "--layers", "1", "--heads", "2", "--embedding", "16",
                         "--context", "16", "--batch-size", "4", "--steps", "16"],
                  ["<h2>Generated text</h2>", "step 16", "Validation loss", "optimizer step", "[4, 16, 16]"])

        let sentences = folder + "/sentences.tsv"
        let lines = (0..<40).map { $0 % 2 == 0 ? "a good fine film \($0)\t1" : "a bad dull film \($0)\t0" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: sentences, atomically: true, encoding: .utf8)
        try check("text", ["text", "train", "--data", sentences, "--model", "bag", "--epochs", "2"],
                  ["<h2>Test set</h2>", "Test accuracy", "Per-class precision"])

        let word = { (index: Int, form: String, tag: String) in "\(index)\t\(form)\t_\t\(tag)\t_\t_\t0\tdep\t_\t_" }
        let treebank = folder + "/train.conllu"
        let conllu = (0..<12).map { n in
            [word(1, "They", "PRON"), word(2, "run", n % 3 == 0 ? "NOUN" : "VERB"), word(3, ".", "PUNCT")].joined(separator: "\n")
        }.joined(separator: "\n\n") + "\n\n"
        try conllu.write(toFile: treebank, atomically: true, encoding: .utf8)
        try check("tag", ["tag", "train", "--train", treebank, "--dev", treebank, "--epochs", "2", "--hidden", "8", "--embedding", "8",
                          "--character-filters", "4", "--character-embedding", "4", "--batch-size", "4"],
                  ["<h2>Dev set, per tag</h2>", "<h2>Most frequent confusions (dev)</h2>", "Dev accuracy"])

        try check("forecast", ["forecast", "--epochs", "5", "--hidden", "8"],
                  ["<h2>Forecast of the last 24 values (from 1959-01)</h2>", "RMSE, seasonal naive", "one-step forecast"])

        try check("gan", ["gan", "train", "--epochs", "1", "--train-images", "64", "--batch-size", "32", "--no-score"],
                  ["<h2>Samples from fixed noise</h2>", "data:image/png;base64,", "G Loss", "discriminator.net.0"])
    }
}
