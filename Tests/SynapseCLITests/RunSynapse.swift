import Foundation
import XCTest

/// Runs the built `synapse` binary with `arguments`, returning its exit status and its
/// standard output and error together.
func runSynapse(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    // The binary sits beside the test executable (Linux) or bundle (macOS) in the build folder.
    let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                      Bundle(for: MisuseTests.self).bundleURL.deletingLastPathComponent()].map { $0.appendingPathComponent("synapse") }
    guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: candidates.map(\.path).joined(separator: ", ")])
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
