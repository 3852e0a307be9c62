// Classification metrics.

import Foundation
import SynapseCore
import SynapseData
import SynapseNN

/// Accuracy, per-class precision, recall and F1, and the confusion matrix of a classifier.
public struct ClassificationMetrics: Sendable {
    /// confusion[t][p]: examples of true class t predicted as p.
    public let confusion: [[Int]]
    /// The mean loss per example.
    public let loss: Float
    /// The predicted class of every example, in the order they were seen (empty if not kept).
    public let predictions: [Int]

    public init(confusion: [[Int]], loss: Float, predictions: [Int] = []) {
        self.confusion = confusion
        self.loss = loss
        self.predictions = predictions
    }

    public var count: Int { confusion.joined().reduce(0, +) }
    public var accuracy: Float {
        count == 0 ? 0 : Float(confusion.indices.reduce(0) { $0 + confusion[$1][$1] }) / Float(count)
    }
    /// Per class: correct predictions of it over all predictions of it (0 when never predicted).
    public var precision: [Float] {
        confusion.indices.map { c in
            let predicted = confusion.reduce(0) { $0 + $1[c] }
            return predicted == 0 ? 0 : Float(confusion[c][c]) / Float(predicted)
        }
    }
    /// Per class: correct predictions of it over its examples (0 when absent).
    public var recall: [Float] {
        confusion.indices.map { c in
            let actual = confusion[c].reduce(0, +)
            return actual == 0 ? 0 : Float(confusion[c][c]) / Float(actual)
        }
    }
    public var f1: [Float] {
        zip(precision, recall).map { p, r in p + r == 0 ? 0 : 2 * p * r / (p + r) }
    }

    /// A table of per-class precision, recall, F1 and support, then (unless
    /// `confusionMatrix` is false, for many classes) the confusion matrix.
    public func report(classNames: [String], confusionMatrix: Bool = true) -> String {
        let names = confusion.indices.map { $0 < classNames.count ? classNames[$0] : String($0) }
        let width = max(12, (names.map(\.count).max() ?? 0) + 2)
        func pad(_ text: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - text.count)) + text }
        var lines = [pad("class", width) + pad("precision", 11) + pad("recall", 9) + pad("f1", 8) + pad("support", 9)]
        for c in confusion.indices {
            lines.append(pad(names[c], width) + pad(format(precision[c]), 11) + pad(format(recall[c]), 9)
                         + pad(format(f1[c]), 8) + pad(String(confusion[c].reduce(0, +)), 9))
        }
        guard confusionMatrix else { return lines.joined(separator: "\n") }
        lines.append("")
        lines.append("confusion matrix (rows: true class, columns: predicted)")
        for row in confusion { lines.append(row.map { pad(String($0), 6) }.joined()) }
        return lines.joined(separator: "\n")
    }

    private func format(_ value: Float) -> String { String(format: "%.3f", value) }
}

/// Runs `model` over `loader` in evaluation mode without gradients and measures it.
public func evaluate<Source: Dataset>(_ model: any UnaryLayer, on loader: DataLoader<Source>, classCount: Int,
                                      loss lossFunction: (Tensor, IndexTensor) -> Tensor = { crossEntropy($0, $1) })
    -> ClassificationMetrics where Source.Batch == LabeledBatch {
    var confusion = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
    var totalLoss = 0.0
    var seen = 0
    var predictions: [Int] = []
    model.inference {
        for batch in loader {
            let output = model(batch.inputs)
            totalLoss += Double(lossFunction(output, batch.labels).item) * Double(batch.labels.count)
            let predicted = output.argmax(axis: 1).scalars
            predictions += predicted
            for (truth, prediction) in zip(batch.labels.scalars, predicted) where truth < classCount && prediction < classCount {
                confusion[truth][prediction] += 1
            }
            seen += batch.labels.count
        }
    }
    return ClassificationMetrics(confusion: confusion, loss: seen == 0 ? 0 : Float(totalLoss / Double(seen)), predictions: predictions)
}
