// Classification sections built from a model's evaluation.

import Foundation
import SynapseCore
import SynapseData
import SynapseTrain
import SynapseVision

extension ClassificationSection {
    /// The section for an image (or square feature-vector) dataset: `metrics` must come from
    /// `evaluate` over `dataset` in order (so `metrics.predictions[i]` is example i's), and
    /// the first misclassified examples are shown as images, each scaled to its own range.
    public init(title: String, metrics: ClassificationMetrics, dataset: TensorDataset, classNames: [String]) {
        var examples: [MisclassifiedExample] = []
        let labels = dataset.labels.scalars
        func name(_ c: Int) -> String { c < classNames.count ? classNames[c] : String(c) }
        for (index, predicted) in metrics.predictions.enumerated() where index < labels.count && labels[index] != predicted {
            let png = ClassificationSection.picture(of: dataset.inputs[index]).flatMap { try? $0.pngData() }
            examples.append(MisclassifiedExample(truth: name(labels[index]), predicted: name(predicted), png: png))
            if examples.count == ClassificationSection.exampleLimit { break }
        }
        self.init(title: title, classNames: classNames, confusion: metrics.confusion, misclassified: examples)
    }

    /// The section for a text classifier: `texts[i]` is example i, whose true class is
    /// `labels[i]` and predicted class `metrics.predictions[i]`.
    public init(title: String, metrics: ClassificationMetrics, texts: [String], labels: [Int], classNames: [String]) {
        var examples: [MisclassifiedExample] = []
        func name(_ c: Int) -> String { c < classNames.count ? classNames[c] : String(c) }
        for (index, predicted) in metrics.predictions.enumerated() where index < labels.count && labels[index] != predicted {
            examples.append(MisclassifiedExample(truth: name(labels[index]), predicted: name(predicted),
                                                 text: index < texts.count ? texts[index] : ""))
            if examples.count == ClassificationSection.exampleLimit { break }
        }
        self.init(title: title, classNames: classNames, confusion: metrics.confusion, misclassified: examples)
    }

    /// An example as a picture: [C, H, W] images as they are, a flat vector of a square
    /// length (8×8 digits) as a square; values stretched to the example's own range.
    static func picture(of example: Tensor) -> Image? {
        var planes = example
        if example.rank == 1 {
            let side = Int(Double(example.count).squareRoot().rounded())
            guard side * side == example.count, side > 1 else { return nil }
            planes = example.reshaped([1, side, side])
        }
        guard planes.rank == 3, planes.shape[0] == 1 || planes.shape[0] == 3 else { return nil }
        let values = planes.scalars
        let (low, high) = (values.min() ?? 0, values.max() ?? 1)
        let scaled = high > low ? values.map { ($0 - low) / (high - low) } : values.map { _ in 0 }
        return Image(Tensor(scaled, shape: planes.shape))
    }
}
