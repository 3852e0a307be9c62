// `--report run.html`, shared by the training commands.

import ArgumentParser
import Foundation
import Synapse

/// `--report`: the self-contained HTML report a training command writes and rewrites after
/// every epoch.
struct ReportOptions: ParsableArguments {
    @Option(help: "Write an HTML report of the run here (curves, model summary, evaluation), rewritten after every epoch.")
    var report: String?

    func validate() throws {
        guard let report else { return }
        guard report.lowercased().hasSuffix(".html") || report.lowercased().hasSuffix(".htm") else {
            throw ValidationError("--report \(report): the report is an HTML page; name it .html")
        }
    }

    /// The report callback for `command`'s run, or nil without `--report`. The configuration
    /// lists every option of `command` with its value, defaults included.
    func makeReport(title: String, command: Any, datasets: [ReportField], summary: ModelSummary?) throws -> TrainingReport? {
        guard let report else { return nil }
        try checkWritable(report, flag: "--report")
        let document = ReportDocument(title: title, command: TrainingReport.commandLine(), configuration: configurationFields(of: command),
                                      environment: TrainingReport.environment(), datasets: datasets, summary: summary)
        let callback = TrainingReport(path: report, document: document)
        try reportingErrors { try callback.write() }
        return callback
    }
}

/// Each parsed option and flag of `command` (an argument-parser command) as `--name` and its
/// value, read by reflection so that a new flag shows without being listed here.
func configurationFields(of command: Any) -> [ReportField] {
    var fields: [ReportField] = []
    for child in Mirror(reflecting: command).children {
        guard let label = child.label else { continue }
        let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
        let typeName = String(describing: type(of: child.value))
        if typeName.hasPrefix("OptionGroup<") {
            if let group = parsedValue(child.value) { fields += configurationFields(of: group) }
            continue
        }
        guard typeName.hasPrefix("Option<") || typeName.hasPrefix("Flag<"), name != "report" else { continue }
        let flag = "--" + name.reduce(into: "") { text, character in
            if character.isUppercase { text += "-" + character.lowercased() } else { text.append(character) }
        }
        fields.append(ReportField(flag, parsedValue(child.value).map(describe) ?? "?"))
    }
    return fields
}

/// The value inside an argument-parser property wrapper once parsed.
private func parsedValue(_ wrapper: Any) -> Any? {
    var value = wrapper
    for _ in 0..<4 {
        let mirror = Mirror(reflecting: value)
        let typeName = String(describing: type(of: value))
        guard typeName.hasPrefix("Option<") || typeName.hasPrefix("Flag<") || typeName.hasPrefix("OptionGroup<")
                || typeName.hasPrefix("Parsed<"), let first = mirror.children.first else { return value }
        value = first.value
    }
    return value
}

private func describe(_ value: Any) -> String {
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional { return mirror.children.first.map { describe($0.value) } ?? "none" }
    if mirror.displayStyle == .collection { return mirror.children.map { describe($0.value) }.joined(separator: ", ") }
    if let raw = value as? any RawRepresentable { return "\(raw.rawValue)" }
    if let list = value as? AugmentationList { return list.kinds.map(\.rawValue).joined(separator: ",") }
    return "\(value)"
}
