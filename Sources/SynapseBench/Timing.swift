// Timing helpers shared by the benchmark sections.

import Foundation

/// The best wall-clock seconds of `repeats` runs of `body`, after one warm-up run.
func bestTime(repeats: Int, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}


/// Best seconds per call of `ours` and of `theirs` (if given) over `rounds` rounds of
/// `repeats` calls each, alternating the two so that both see the same machine load.
func interleavedBestTimes(rounds: Int, repeats: Int, _ ours: () -> Void, _ theirs: (() -> Void)?) -> (Double, Double?) {
    func timeBatch(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats)
    }
    ours()
    theirs?()
    var best = Double.infinity, bestReference = Double.infinity
    for _ in 0..<rounds {
        best = min(best, timeBatch(ours))
        if let theirs { bestReference = min(bestReference, timeBatch(theirs)) }
    }
    return (best, theirs == nil ? nil : bestReference)
}

/// Runs `Benchmarks/<script>` through `python` and parses its "name value value …" lines,
/// or returns [:] when Python or the script's imports are unavailable.
func referenceTimes(python: String, script: String, arguments: [String]) -> [String: [Double]] {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Benchmarks/\(script)").standardized.path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, path] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return [:] }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return [:] }
    var times: [String: [Double]] = [:]
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        let parts = line.split(separator: " ")
        let values = parts.dropFirst().compactMap { Double($0) }
        if parts.count >= 2, values.count == parts.count - 1 { times[String(parts[0])] = values }
    }
    return times
}
