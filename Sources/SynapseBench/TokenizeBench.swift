// Byte-level BPE training and encoding against Hugging Face tokenizers.

import Foundation
import Synapse

/// Times BPE training at vocabulary 1,024 and the encoding of the whole text with the result,
/// beside Hugging Face `tokenizers` on one thread, alternating turns. Both sides train the same
/// merges, so the ids are compared too.
func tokenizeBenchmark(options: Options) {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/data/tinyshakespeare/input.txt").standardized.path
    guard let text = try? UTF8Text.read(path) else {
        print("tokenize: \(path) not found (the shared data sits beside the repository)")
        return
    }
    let turns = 3, roundsPerTurn = max(1, options.rounds / 5)
    var reference: [String: [Double]] = [:]
    var bestTrain = Double.infinity, bestEncode = Double.infinity
    var tokenizer: BPETokenizer?
    var ids: [Int] = []
    for _ in 0..<turns {
        let times = referenceTimes(python: options.python, script: "hf_tokenize.py", arguments: [path, String(roundsPerTurn)])
        for (key, values) in times { reference[key] = zip(reference[key] ?? values, values).map { Swift.min($0, $1) } }
        for _ in 0..<roundsPerTurn {
            var start = DispatchTime.now().uptimeNanoseconds
            tokenizer = try! BPETokenizer.train(on: [text], vocabularySize: 1024)
            bestTrain = min(bestTrain, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            start = DispatchTime.now().uptimeNanoseconds
            ids = tokenizer!.encode(text)
            bestEncode = min(bestEncode, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
    }
    let checksum = ids.enumerated().reduce(0) { $0 + $1.element * ($1.offset % 1000 + 1) }
    print("Byte-level BPE on tinyshakespeare (\(text.utf8.count) bytes), seconds, best of \(turns * roundsPerTurn) in \(turns) turns; "
          + (reference.isEmpty ? "Hugging Face tokenizers not found (pass --python with tokenizers installed)"
                               : "Hugging Face tokenizers on one thread in the same run"))
    print("task                 synapse    tokenizers   tokenizers/synapse")
    for (key, name, mine) in [("bpe_train_1024", "train, vocab 1024", bestTrain), ("bpe_encode", "encode", bestEncode)] {
        var line = name.padding(toLength: 19, withPad: " ", startingAt: 0) + String(format: "%9.3f", mine)
        if let theirs = reference[key]?.first { line += String(format: "   %9.3f      %.2fx", theirs, theirs / mine) }
        print(line)
    }
    if let theirs = reference["ids_checksum"]?.first, let count = reference["ids_count"]?.first {
        let same = Double(checksum) == theirs && Double(ids.count) == count
        print("ids: \(ids.count) tokens, \(same ? "identical to" : "DIFFERENT from") Hugging Face's")
    }
}
