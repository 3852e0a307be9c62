// What the `synapse` commands share: thread and output options, user-facing errors, JSON output.

import ArgumentParser
import Foundation
import Synapse
import SynapseKernels

/// `--threads` and `--json`, shared by the commands that run models.
struct CommonOptions: ParsableArguments {
    @Option(help: "Threads for the kernels (default: all cores, or SYNAPSE_NUM_THREADS).")
    var threads: Int?
    @Flag(help: "Print JSON results instead of text.")
    var json = false

    func validate() throws {
        let maximum = Kernels.maximumThreadCount
        guard (1...maximum).contains(threads ?? 1) else {
            throw ValidationError("--threads must be from 1 to \(maximum) (4 × the \(maximum / 4) cores)")
        }
        if threads == nil, let problem = Kernels.threadEnvironmentProblem { throw ValidationError(problem) }
    }

    /// Applies `--threads`, if given, to the kernels.
    func applyThreadCount() {
        if let threads { Kernels.threadCount = threads }
    }
}

/// A user-facing failure: printed as "Error: message" with exit code 1, no stack trace.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`, turning any error it throws into a `CLIError` with the error's message (which
/// names the file or input at fault), so users see that message rather than a type dump.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CLIError {
        throw error
    } catch {
        throw CLIError("\(error)")
    }
}

/// Checks, before any work, that `path` (given to `flag`) can be written: its folder exists
/// and is writable. A long run should not end by failing to save.
func checkWritable(_ path: String?, flag: String) throws {
    guard let path else { return }
    let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw CLIError("\(flag) \(path): the folder \(folder) does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: folder) else {
        throw CLIError("\(flag) \(path): the folder \(folder) is not writable")
    }
}

/// Prints `object` as one line of JSON with sorted keys.
func printJSON(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}

/// The training position of the checkpoint `file` (at `path`, given to --resume), after
/// checking that it was saved by a run with the same `configuration` (its "train.<flag>"
/// metadata) and has fewer than `epochs` epochs. `olderDefaults` gives the value a setting
/// had in checkpoints written before it was recorded. Loading its weights is the caller's.
func resumablePosition(_ file: CheckpointFile, path: String, configuration: [String: String],
                       olderDefaults: [String: String] = [:], epochs: Int) throws -> TrainingPosition {
    let differences = configuration.sorted { $0.key < $1.key }.compactMap { key, value -> String? in
        let saved = file.metadata[key] ?? olderDefaults[key] ?? "unknown"
        return saved == value ? nil : "--\(key.dropFirst("train.".count)) \(saved) (this run: \(value))"
    }
    guard differences.isEmpty else {
        throw CLIError("--resume \(path): the saved run had " + differences.joined(separator: ", ")
                       + "; give the same flags to continue it")
    }
    let position = try TrainingPosition(metadata: file.metadata, source: path)
    guard position.epochs < epochs else {
        throw CLIError("--resume \(path): the saved run has already completed \(position.epochs) epochs; ask for more with --epochs")
    }
    return position
}
