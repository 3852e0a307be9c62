// A character-level Transformer encoder–decoder that maps a word form and its UPOS tag to
// the word's lemma (UD English EWT: "running" VERB → "run").

import Foundation
import Synapse

/// The symbols of a lemmatizer: padding, start, end and unknown, the characters of the
/// training forms and lemmas, then one symbol per UPOS tag (source side only).
public struct LemmaVocabulary: Equatable, Sendable {
    public static let padding = 0, start = 1, end = 2, unknown = 3
    public let characters: [Unicode.Scalar]
    public let tags: [String]
    private let characterIDs: [Unicode.Scalar: Int]
    private let tagIDs: [String: Int]

    public init(characters: [Unicode.Scalar], tags: [String]) {
        self.characters = characters
        self.tags = tags
        characterIDs = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($1, $0 + 4) })
        tagIDs = Dictionary(uniqueKeysWithValues: tags.enumerated().map { ($1, $0 + 4 + characters.count) })
    }

    /// The sorted characters of every form and lemma and the sorted tags of `words`.
    public init(fitting words: [CoNLLU.Word]) {
        var scalars = Set<Unicode.Scalar>(), tags = Set<String>()
        for word in words {
            scalars.formUnion(word.form.unicodeScalars)
            scalars.formUnion(word.lemma.unicodeScalars)
            tags.insert(word.upos)
        }
        self.init(characters: scalars.sorted(), tags: tags.sorted())
    }

    public var count: Int { 4 + characters.count + tags.count }

    /// The tag symbol, then the form's characters (unknown ones as `unknown`).
    public func source(form: String, upos: String) -> [Int] {
        [tagIDs[upos] ?? Self.unknown] + form.unicodeScalars.map { characterIDs[$0] ?? Self.unknown }
    }

    /// The lemma's characters (unknown ones as `unknown`).
    public func target(_ lemma: String) -> [Int] { lemma.unicodeScalars.map { characterIDs[$0] ?? Self.unknown } }

    /// The text of character symbols; other symbols are skipped.
    public func text(_ ids: [Int]) -> String {
        var text = ""
        for id in ids where id >= 4 && id < 4 + characters.count { text.unicodeScalars.append(characters[id - 4]) }
        return text
    }

    /// As JSON metadata: {"characters": "...", "tags": [...]}.
    public var serialized: String {
        var text = ""
        text.unicodeScalars.append(contentsOf: characters)
        let data = try! JSONSerialization.data(withJSONObject: ["characters": text, "tags": tags], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    public init(serialized: String, source: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(serialized.utf8)) as? [String: Any],
              let characters = object["characters"] as? String, let tags = object["tags"] as? [String],
              Set(characters.unicodeScalars).count == characters.unicodeScalars.count, Set(tags).count == tags.count else {
            throw ModelError("\(source): the lemma vocabulary is not JSON with distinct \"characters\" and \"tags\"")
        }
        self.init(characters: Array(characters.unicodeScalars), tags: tags)
    }
}

/// Source and target symbol sequences of a batch of words, right-padded with `padding`.
public struct LemmaBatch: Sendable {
    /// [N, S]: the tag symbol and the form's characters.
    public let source: IndexTensor
    public let sourceLengths: [Int]
    /// [N, T]: `start` and the lemma's characters (the decoder's input).
    public let targetInput: IndexTensor
    /// [N, T]: the lemma's characters and `end`, −100 at padding (what the decoder predicts).
    public let targetOutput: IndexTensor
    public let targetLengths: [Int]
}

/// (form, UPOS) → lemma pairs as a dataset.
public struct LemmaPairs: Dataset {
    public let pairs: [(source: [Int], target: [Int])]

    public init(_ words: [(form: String, upos: String, lemma: String)], vocabulary: LemmaVocabulary) {
        pairs = words.map { (vocabulary.source(form: $0.form, upos: $0.upos), vocabulary.target($0.lemma)) }
    }

    public var count: Int { pairs.count }

    public func batch(_ indices: [Int]) -> LemmaBatch {
        let chosen = indices.map { pairs[$0] }
        let sourceLength = chosen.map(\.source.count).max() ?? 1, targetLength = (chosen.map(\.target.count).max() ?? 0) + 1
        var source = [Int](), input = [Int](), output = [Int]()
        for (s, t) in chosen {
            source += s + Array(repeating: LemmaVocabulary.padding, count: sourceLength - s.count)
            input += [LemmaVocabulary.start] + t + Array(repeating: LemmaVocabulary.padding, count: targetLength - t.count - 1)
            output += t + [LemmaVocabulary.end] + Array(repeating: -100, count: targetLength - t.count - 1)
        }
        let n = chosen.count
        return LemmaBatch(source: IndexTensor(source, shape: [n, sourceLength]), sourceLengths: chosen.map(\.source.count),
                          targetInput: IndexTensor(input, shape: [n, targetLength]),
                          targetOutput: IndexTensor(output, shape: [n, targetLength]),
                          targetLengths: chosen.map { $0.target.count + 1 })
    }
}

/// The encoder–decoder: one symbol embedding (`emb`) scaled by √E plus sinusoidal positions,
/// a pre-LN `encoder` over the source, a pre-LN `decoder` with causal self-attention and
/// cross-attention over the encoded source, and a linear `out` to the symbols.
public final class Lemmatizer: Module {
    public let vocabulary: LemmaVocabulary
    public let emb: Embedding
    public let positions: SinusoidalPositionalEncoding
    public let encoder: TransformerEncoder
    public let decoder: TransformerDecoder
    public let out: Linear
    /// The longest source or target the position table covers.
    public let maximumLength: Int

    public init(vocabulary: LemmaVocabulary, width: Int = 128, heads: Int = 4, layers: Int = 2, feedForward: Int = 256,
                dropout: Float = 0.1, maximumLength: Int = 128) {
        self.vocabulary = vocabulary
        self.maximumLength = maximumLength
        emb = Embedding(vocabulary.count, width, paddingIndex: LemmaVocabulary.padding)
        positions = SinusoidalPositionalEncoding(dimension: width, maximumLength: maximumLength)
        encoder = TransformerEncoder(count: layers, norm: LayerNorm(width)) {
            TransformerEncoderLayer(modelDimension: width, heads: heads, feedForwardDimension: feedForward, dropout: dropout,
                                    activation: .gelu, batchFirst: true, normFirst: true)
        }
        decoder = TransformerDecoder(count: layers, norm: LayerNorm(width)) {
            TransformerDecoderLayer(modelDimension: width, heads: heads, feedForwardDimension: feedForward, dropout: dropout,
                                    activation: .gelu, batchFirst: true, normFirst: true)
        }
        out = Linear(width, vocabulary.count)
    }

    private func embed(_ ids: IndexTensor) -> Tensor {
        positions(emb(ids) * Float(emb.dimension).squareRoot())
    }

    private static func paddingMask(_ lengths: [Int], steps: Int) -> Tensor? {
        guard lengths.contains(where: { $0 < steps }) else { return nil }
        return Tensor(lengths.flatMap { length in (0..<steps).map { $0 < length ? Float(0) : 1 } }, shape: [lengths.count, steps])
    }

    /// The encoded sources [N, S, E] and their padding mask.
    func encode(_ source: IndexTensor, lengths: [Int]) throws -> (memory: Tensor, mask: Tensor?) {
        guard source.shape[1] <= maximumLength else {
            throw ModelError("Lemmatizer: a form of \(source.shape[1] - 1) characters is longer than the \(maximumLength - 1) it encodes")
        }
        let mask = Self.paddingMask(lengths, steps: source.shape[1])
        return (encoder(embed(source), keyPaddingMask: mask), mask)
    }

    /// Next-symbol logits [N·T, V] for decoder inputs [N, T] given the encoded sources.
    func decode(_ input: IndexTensor, memory: Tensor, memoryMask: Tensor?) throws -> Tensor {
        guard input.shape[1] <= maximumLength else {
            throw ModelError("Lemmatizer: a lemma of \(input.shape[1]) symbols is longer than the \(maximumLength) it decodes")
        }
        let decoded = decoder(embed(input), memory: memory, memoryKeyPaddingMask: memoryMask, targetCausal: true)
        return out(decoded.reshaped([-1, emb.dimension]))
    }

    /// Teacher-forced cross-entropy over the lemma characters and the end symbol.
    public func trainingTask() -> TokenPredictionTask<LemmaBatch> {
        TokenPredictionTask { [unowned self] batch in
            let (memory, mask) = try encode(batch.source, lengths: batch.sourceLengths)
            return (try decode(batch.targetInput, memory: memory, memoryMask: mask),
                    batch.targetOutput.reshaped([batch.targetOutput.count]))
        }
    }

    /// The lemmas of `words` (form, UPOS), decoded greedily in batches of similar length, or
    /// with a beam of `beamWidth` hypotheses per word (length-normalised log-probability). A
    /// form too long for the position table (a URL, say) is returned unchanged.
    public func lemmatize(_ words: [(form: String, upos: String)], beamWidth: Int = 1, batchSize: Int = 256) throws -> [String] {
        precondition(beamWidth >= 1, "Lemmatizer.lemmatize: beamWidth must be at least 1")
        return try inference {
            var lemmas = words.map(\.form)
            let sources = words.map { vocabulary.source(form: $0.form, upos: $0.upos) }
            // Lemmas may outgrow their forms by a few characters; both must fit the table.
            let order = sources.indices.filter { sources[$0].count + 8 <= maximumLength }.sorted { sources[$0].count < sources[$1].count }
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let chunk = Array(order[start..<min(order.count, start + batchSize)])
                let decoded = beamWidth == 1 ? try greedy(chunk.map { sources[$0] })
                    : try chunk.map { try beam(sources[$0], width: beamWidth) }
                for (index, lemma) in zip(chunk, decoded) { lemmas[index] = lemma }
            }
            return lemmas
        }
    }

    /// Source batch [N, S] from symbol lists, right-padded.
    private func batch(_ sources: [[Int]]) -> (IndexTensor, [Int]) {
        let length = sources.map(\.count).max() ?? 1
        let ids = sources.flatMap { $0 + Array(repeating: LemmaVocabulary.padding, count: length - $0.count) }
        return (IndexTensor(ids, shape: [sources.count, length]), sources.map(\.count))
    }

    private func greedy(_ sources: [[Int]]) throws -> [String] {
        let (source, lengths) = batch(sources)
        let (memory, mask) = try encode(source, lengths: lengths)
        let n = sources.count, v = vocabulary.count
        var outputs = Array(repeating: [LemmaVocabulary.start], count: n)
        var finished = Array(repeating: false, count: n)
        // A lemma rarely outgrows its form by more than a few characters.
        let limit = min(maximumLength, (sources.map(\.count).max() ?? 1) + 8)
        for step in 1..<limit where finished.contains(false) {
            let input = IndexTensor(outputs.flatMap { $0 }, shape: [n, step])
            let logits = try decode(input, memory: memory, memoryMask: mask).scalars
            for row in 0..<n where !finished[row] {
                let base = (row * step + step - 1) * v
                var best = 0
                for symbol in 1..<v where logits[base + symbol] > logits[base + best] { best = symbol }
                outputs[row].append(best)
                if best == LemmaVocabulary.end { finished[row] = true }
            }
            for row in 0..<n where finished[row] && outputs[row].count < step + 1 { outputs[row].append(LemmaVocabulary.padding) }
        }
        return outputs.map { vocabulary.text(Array($0.dropFirst().prefix { $0 != LemmaVocabulary.end })) }
    }

    private func beam(_ source: [Int], width: Int) throws -> String {
        // One unpadded source needs no memory mask.
        let memory = try encode(IndexTensor(source, shape: [1, source.count]), lengths: [source.count]).memory
        let v = vocabulary.count
        var hypotheses: [(ids: [Int], score: Double)] = [([LemmaVocabulary.start], 0)]
        var complete: [(ids: [Int], score: Double)] = []
        let limit = min(maximumLength, source.count + 8)
        for step in 1..<limit where !hypotheses.isEmpty {
            let k = hypotheses.count
            let expanded = Tensor.concatenate(Array(repeating: memory, count: k), axis: 0)
            let input = IndexTensor(hypotheses.flatMap(\.ids), shape: [k, step])
            let logProbabilities = try decode(input, memory: expanded, memoryMask: nil).logSoftmax(axis: 1).scalars
            var candidates: [(ids: [Int], score: Double)] = []
            for (index, hypothesis) in hypotheses.enumerated() {
                let base = (index * step + step - 1) * v
                for symbol in 1..<v {
                    candidates.append((hypothesis.ids + [symbol], hypothesis.score + Double(logProbabilities[base + symbol])))
                }
            }
            candidates.sort { $0.score > $1.score }
            hypotheses = []
            for candidate in candidates.prefix(width) {
                if candidate.ids.last == LemmaVocabulary.end { complete.append(candidate) } else { hypotheses.append(candidate) }
            }
            if complete.count >= width { break }
        }
        let pool = complete.isEmpty ? hypotheses : complete
        let best = pool.max { $0.score / Double($0.ids.count) < $1.score / Double($1.ids.count) }!
        return vocabulary.text(Array(best.ids.dropFirst().prefix { $0 != LemmaVocabulary.end }))
    }
}
