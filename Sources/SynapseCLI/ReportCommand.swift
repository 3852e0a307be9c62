// `synapse report`: an HTML report built again from a saved training history.

import ArgumentParser
import Foundation
import Synapse

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Build the HTML report of a run from the history it saved with --history run.json.",
        discussion: "Example: synapse report --history run.json --output run.html")

    @Option(help: "A JSON history written by a training command's --history.")
    var history: String
    @Option(name: .shortAndLong, help: "Where to write the report (default: the history's path with .html).")
    var output: String?
    @Option(help: "The report's title (default: the history's file name).")
    var title: String?

    func run() throws {
        let destination = output ?? ((history as NSString).deletingPathExtension + ".html")
        guard destination != history else { throw CLIError("--output \(destination) would overwrite the history") }
        try checkWritable(destination, flag: "--output")
        guard let data = FileManager.default.contents(atPath: history) else {
            throw CLIError("--history \(history): " + (FileManager.default.fileExists(atPath: history) ? "cannot be read" : "no such file"))
        }
        let epochs: [EpochLog]
        do {
            epochs = try JSONDecoder().decode([EpochLog].self, from: data)
        } catch {
            let hint = history.lowercased().hasSuffix(".csv") ? "; give the JSON history (--history run.json when training)" : ""
            throw CLIError("--history \(history): not a training history in JSON (\(ReportCommand.reason(error)))\(hint)")
        }
        guard !epochs.isEmpty else { throw CLIError("--history \(history): the history has no epochs") }
        var document = ReportDocument(title: title ?? (history as NSString).lastPathComponent, command: TrainingReport.commandLine(),
                                      configuration: [ReportField("History", history)], environment: TrainingReport.environment(),
                                      datasets: [], summary: nil)
        document.epochs = epochs
        document.status = "rebuilt from the history"
        document.wallSeconds = epochs.map(\.seconds).reduce(0, +)
        try reportingErrors { try AtomicFile.write(Data(document.html().utf8), to: destination) }
        print("report \(destination) (\(epochs.count) epochs)")
    }

    private static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \"\(key.stringValue)\" in an epoch"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
             DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default: return "\(error)"
        }
    }
}
