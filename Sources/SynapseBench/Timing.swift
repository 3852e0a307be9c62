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
