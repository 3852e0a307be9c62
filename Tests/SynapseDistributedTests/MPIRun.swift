import Foundation
import XCTest

/// Open MPI's `mpirun`, with the flags a container needs: root allowed, more ranks than
/// cores, and no binding, so a rank's kernel threads are not pinned to one core.
struct MPIRun {
    let executable: URL

    /// The `mpirun` on PATH, or a skip that says MPI is not installed.
    static func find() throws -> MPIRun {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        guard let url = folders.map({ URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("mpirun not found: MPI tests skipped (apt-get install -y openmpi-bin libopenmpi-dev)")
        }
        return MPIRun(executable: url)
    }

    static let environment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                              "OMPI_MCA_btl_vader_single_copy_mechanism": "none", "SYNAPSE_NUM_THREADS": "1"]
    static let flags = ["--oversubscribe", "--bind-to", "none"]

    /// `synapse arguments` on `ranks` ranks (or, `direct`, `arguments` as the program itself).
    func run(ranks: Int, _ arguments: [String], direct: Bool = false, environment: [String: String] = [:],
             timeout: TimeInterval = 240) throws -> (status: Int32, output: String) {
        let program = direct ? arguments : [try MPIRun.synapseBinary().path] + arguments
        return try MPIRun.execute(executable, Self.flags + ["-np", String(ranks)] + program,
                                  environment: Self.environment.merging(environment) { $1 }, timeout: timeout)
    }

    /// One rank per entry, each running `synapse arguments` in its own working folder.
    func run(programs: [(folder: String, arguments: [String])], timeout: TimeInterval = 240) throws -> (status: Int32, output: String) {
        let binary = try MPIRun.synapseBinary().path
        var arguments = Self.flags
        for (index, program) in programs.enumerated() {
            if index > 0 { arguments.append(":") }
            arguments += ["-np", "1", "--wdir", program.folder, binary] + program.arguments
        }
        return try MPIRun.execute(executable, arguments, environment: Self.environment, timeout: timeout)
    }

    /// The built `synapse` binary, beside the test executable (Linux) or bundle (macOS).
    static func synapseBinary() throws -> URL {
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle(for: MPIRunTests.self).bundleURL.deletingLastPathComponent()].map { $0.appendingPathComponent("synapse") }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: candidates.map(\.path).joined(separator: ", ")])
        }
        return binary
    }

    /// `synapse arguments` as one ordinary process.
    static func synapse(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try execute(try synapseBinary(), arguments, environment: environment.merging(["SYNAPSE_NUM_THREADS": "2"]) { old, _ in old },
                    timeout: 240)
    }

    /// Runs `executable` and returns its status and output (standard output and error); a run
    /// past `timeout` seconds is terminated and fails the test rather than hanging it.
    static func execute(_ executable: URL, _ arguments: [String], environment: [String: String],
                        timeout: TimeInterval) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        let output = String(decoding: data, as: UTF8.self)
        if process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM {
            XCTFail("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) ran past \(timeout) s: \(output)")
        }
        return (process.terminationStatus, output)
    }
}
