// What a training report holds: everything the HTML is rendered from, as Codable data.

import Foundation
import SynapseNN
import SynapseTrain

/// A name and a value shown in a report's tables (a flag and its value, a dataset and its size).
public struct ReportField: Sendable, Codable, Equatable {
    public let name: String
    public let value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One example the model got wrong: an image (PNG bytes) or a text, its true and predicted labels.
public struct MisclassifiedExample: Sendable, Codable {
    public let truth: String
    public let predicted: String
    public let png: Data?
    public let text: String?

    public init(truth: String, predicted: String, png: Data? = nil, text: String? = nil) {
        self.truth = truth
        self.predicted = predicted
        self.png = png
        self.text = text
    }
}

/// A classifier's evaluation: the confusion matrix with class names (per-class precision,
/// recall and F1 follow from it) and some of the examples it got wrong.
public struct ClassificationSection: Sendable, Codable {
    public let title: String
    public let classNames: [String]
    public let confusion: [[Int]]
    public let misclassified: [MisclassifiedExample]

    /// At most this many misclassified examples are kept, so reports stay small.
    public static let exampleLimit = 48

    public init(title: String, classNames: [String], confusion: [[Int]], misclassified: [MisclassifiedExample] = []) {
        self.title = title
        self.classNames = classNames
        self.confusion = confusion
        self.misclassified = Array(misclassified.prefix(ClassificationSection.exampleLimit))
    }
}

/// A labelled entry of a gallery: a text sample or an image (PNG bytes).
public struct GalleryEntry: Sendable, Codable {
    public let label: String
    public let text: String?
    public let png: Data?

    public init(label: String, text: String? = nil, png: Data? = nil) {
        self.label = label
        self.text = text
        self.png = png
    }
}

/// A part of a report beyond the standard curves, made by the task.
public enum ReportSection: Sendable, Codable {
    /// A confusion matrix, per-class figures and misclassified examples.
    case classification(ClassificationSection)
    /// Texts or images added over training (generated samples at each epoch), capped.
    case gallery(title: String, entries: [GalleryEntry])
    /// A table (a tagger's most frequent confusions with example sentences).
    case table(title: String, header: [String], rows: [[String]])
    /// A chart (a forecast against the truth).
    case chart(LineChartData)

    /// The section's heading; a section replaces an earlier one with the same title.
    public var title: String {
        switch self {
        case .classification(let section): return section.title
        case .gallery(let title, _), .table(let title, _, _): return title
        case .chart(let chart): return chart.title
        }
    }
}

/// A `LineChart`'s content, storable in a report.
public struct LineChartData: Sendable, Codable {
    public let title: String
    public let xLabel: String
    public let yLabel: String
    public let series: [LineChart.Series]

    public init(title: String, xLabel: String, yLabel: String, series: [LineChart.Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    var chart: LineChart { LineChart(title: title, xLabel: xLabel, yLabel: yLabel, series: series) }
}

/// The loss of training steps, averaged over buckets of consecutive steps so that a curve of
/// any length keeps at most `limit` points; buckets double in size when it fills.
public struct StepCurve: Sendable, Codable {
    /// (step of the bucket's last batch, mean loss, learning rate of its last batch).
    public private(set) var points: [[Double]] = []
    public private(set) var bucketSize = 1
    public let limit: Int
    private var pending: (sum: Double, count: Int, step: Int, rate: Double) = (0, 0, 0, 0)

    enum CodingKeys: String, CodingKey { case points, bucketSize, limit }

    public init(limit: Int = 800) {
        precondition(limit >= 2, "StepCurve: limit must be at least 2")
        self.limit = limit
    }

    public mutating func add(step: Int, loss: Float, learningRate: Float) {
        pending.sum += Double(loss)
        pending.count += 1
        pending.step = step
        pending.rate = Double(learningRate)
        guard pending.count == bucketSize else { return }
        points.append([Double(step), pending.sum / Double(bucketSize), pending.rate])
        pending = (0, 0, 0, 0)
        if points.count >= limit {
            var merged: [[Double]] = []
            var index = 0
            while index + 1 < points.count {
                let (first, second) = (points[index], points[index + 1])
                merged.append([second[0], (first[1] + second[1]) / 2, second[2]])
                index += 2
            }
            if index < points.count { merged.append(points[index]) }
            points = merged
            bucketSize *= 2
        }
    }

    /// The points, with the incomplete last bucket.
    public var allPoints: [[Double]] {
        pending.count == 0 ? points : points + [[Double(pending.step), pending.sum / Double(pending.count), pending.rate]]
    }
}

/// Everything a training report shows.
public struct ReportDocument: Sendable, Codable {
    public var title: String
    /// The command line that started the run.
    public var command: String
    /// The run's settings: flags and their values, the seed.
    public var configuration: [ReportField]
    /// Where it ran: Synapse version, threads, CPU features of the build, host.
    public var environment: [ReportField]
    /// The data: each split and its size.
    public var datasets: [ReportField]
    public var summary: ModelSummary?
    /// The run's headline figures (test accuracy, validation loss), shown first.
    public var results: [ReportField] = []
    public var epochs: [EpochLog] = []
    /// Batches in one epoch, to place steps on the epoch axis.
    public var batchesPerEpoch = 0
    public var steps = StepCurve()
    /// Per-step curves of the tasks' loss metrics ("d_loss" and "g_loss" of a GAN's stages).
    public var stepMetrics: [String: StepCurve] = [:]
    /// Examples (or tokens) per second of each epoch.
    public var throughput: [Double] = []
    public var sections: [ReportSection] = []
    public var startedAt = Date()
    public var wallSeconds = 0.0
    /// "running", "finished" or why training stopped.
    public var status = "running"

    public init(title: String, command: String, configuration: [ReportField], environment: [ReportField],
                datasets: [ReportField], summary: ModelSummary?) {
        self.title = title
        self.command = command
        self.configuration = configuration
        self.environment = environment
        self.datasets = datasets
        self.summary = summary
    }

    /// Adds `section`, replacing any with the same title in place.
    public mutating func setSection(_ section: ReportSection) {
        if let index = sections.firstIndex(where: { $0.title == section.title }) {
            sections[index] = section
        } else {
            sections.append(section)
        }
    }

    /// Most entries a gallery keeps: past it, every other older entry is dropped, so the
    /// gallery spans the whole run at an even spacing and the file stays small.
    public static let galleryLimit = 12

    /// Appends `entry` to the gallery titled `title`, creating it.
    public mutating func append(_ entry: GalleryEntry, toGallery title: String) {
        var entries: [GalleryEntry] = []
        if case .gallery(_, let existing)? = sections.first(where: { $0.title == title }) { entries = existing }
        entries.append(entry)
        if entries.count > ReportDocument.galleryLimit {
            let last = entries.removeLast()
            entries = entries.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) + [last]
        }
        setSection(.gallery(title: title, entries: entries))
    }
}
