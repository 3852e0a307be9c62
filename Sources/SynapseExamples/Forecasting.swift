// Time-series forecasting with a recurrent network: windows of past values → the next value.

import Foundation
import Synapse

/// An LSTM or GRU over a window of past values [N, W, 1] whose last output, through a linear
/// layer, predicts the next value [N, 1]: the anchor's `SeriesLSTM`, named as PyTorch's.
public final class SeriesForecaster: Module, UnaryLayer {
    public let kind: RecurrentModelName
    public let rnn: RecurrentNetwork
    public let head: Linear

    public init(kind: RecurrentModelName, hidden: Int = 32, layers: Int = 1) {
        self.kind = kind
        switch kind {
        case .lstm: rnn = LSTM(1, hidden, layers: layers, batchFirst: true)
        case .gru: rnn = GRU(1, hidden, layers: layers, batchFirst: true)
        }
        head = Linear(hidden, 1)
    }

    public override var namedChildren: [(String, Module)] { [(kind.rawValue, rnn), ("head", head)] }

    public func callAsFunction(_ windows: Tensor) -> Tensor {
        let (_, state) = rnn(windows, state: nil)
        return head(state.hidden[rnn.layers - 1])
    }
}

/// How a forecaster sees the series.
public enum SeriesScaling: String, CaseIterable, Sendable {
    /// Values scaled to [0, 1] by the training part's minimum and maximum, predicting the next
    /// value itself: the common tutorial setup and the PyTorch anchor's. Forecasts cannot
    /// easily leave the training range, which a trending series does.
    case minmax
    /// Logarithms taken relative to the window's last value, predicting the next log change
    /// (scaled by the training changes' standard deviation): trend and growing seasonal swings
    /// become level patterns the network has seen. Needs positive values.
    case logChange = "log-change"
}

/// How a forecast experiment is set up.
public struct ForecastConfiguration: Sendable {
    public var kind: RecurrentModelName = .lstm
    public var scaling: SeriesScaling = .logChange
    /// Past values each prediction sees.
    public var window = 12
    /// The last `horizon` values are held out and forecast.
    public var horizon = 24
    /// The seasonal period of the naive baseline (the value one season earlier).
    public var season = 12
    public var hidden = 32
    public var epochs = 300
    public var lr: Float = 1e-2
    public var seed: UInt64 = 0
    /// Chunks of each step's batch (the whole series), summed in chunk order whichever process
    /// computed them (see `DataShard.chunks`); nil: one per process. A multiple of the
    /// process count.
    public var chunks: Int?

    public init() {}
}

/// A forecast of the held-out end of a series, with its errors and the seasonal-naive
/// baseline's, all in the series' own units.
public struct Forecast: Sendable {
    /// The held-out values.
    public let actual: [Float]
    /// Each held-out value predicted from the true `window` values before it.
    public let oneStep: [Float]
    /// Predicted from the training values alone, each prediction fed back as the next input.
    public let recursive: [Float]
    /// The value one season earlier.
    public let seasonalNaive: [Float]
    public let trainingSeconds: Double
    public let finalTrainingLoss: Float

    public var rmse: Float { Self.rmse(oneStep, actual) }
    public var mae: Float { zip(oneStep, actual).map { abs($0 - $1) }.reduce(0, +) / Float(actual.count) }
    public var recursiveRMSE: Float { Self.rmse(recursive, actual) }
    public var seasonalNaiveRMSE: Float { Self.rmse(seasonalNaive, actual) }

    static func rmse(_ prediction: [Float], _ actual: [Float]) -> Float {
        (zip(prediction, actual).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(actual.count)).squareRoot()
    }
}

public enum Forecasting {
    /// Trains a `SeriesForecaster` on everything before the last `horizon` values of `series`
    /// (scaled to [0, 1] with the training part's minimum and maximum; one full batch of all
    /// training windows per epoch, MSE, Adam) and forecasts the held-out values. With a
    /// `processGroup`, each process trains on its share of the windows.
    public static func run(_ series: [Float], configuration c: ForecastConfiguration,
                           callbacks: [TrainingCallback] = [], processGroup: (any ProcessGroup)? = nil) throws -> (model: SeriesForecaster, forecast: Forecast) {
        guard c.window > 0, c.horizon > 0, c.season > 0, c.hidden > 0, c.epochs > 0 else {
            throw ModelError("forecast: window, horizon, season, hidden size and epochs must all be positive")
        }
        let trainCount = series.count - c.horizon
        guard trainCount > c.window, trainCount >= c.season else {
            throw ModelError("forecast: a series of \(series.count) values leaves \(max(trainCount, 0)) for training after a horizon of "
                             + "\(c.horizon); it needs more than the window (\(c.window)) and at least one season (\(c.season))")
        }
        let codec = try SeriesCodec(scaling: c.scaling, series: series, trainCount: trainCount)
        let encoded = codec.encode(series)
        func windows(_ ends: [Int], from values: [Float]) -> Tensor {
            Tensor(ends.flatMap { codec.window(values[($0 - c.window)..<$0]) }, shape: [ends.count, c.window, 1])
        }
        let trainEnds = Array(c.window..<trainCount)
        let data = RegressionDataset(inputs: windows(trainEnds, from: encoded),
                                     targets: Tensor(trainEnds.map { codec.target(encoded[$0], after: encoded[$0 - 1]) },
                                                     shape: [trainEnds.count, 1]))
        GlobalRandom.seed(c.seed)
        let model = SeriesForecaster(kind: c.kind, hidden: c.hidden)
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters, lr: c.lr), callbacks: callbacks)
        trainer.processGroup = processGroup
        let size = processGroup?.size ?? 1, chunks = c.chunks ?? size
        require(chunks > 0 && chunks % size == 0, "Forecasting: \(chunks) chunks cannot be shared equally by \(size) processes")
        // One step per epoch: each process's padded share of the windows.
        let loader = DataLoader(data, batchSize: (data.count + chunks - 1) / chunks * (chunks / size))
        if processGroup != nil || chunks > 1 {
            loader.shard = DataShard(rank: processGroup?.rank ?? 0, count: size, padded: true, chunks: chunks / size)
        }
        let history = try trainer.fit(RegressionTask(forward: model.callAsFunction), on: loader, epochs: c.epochs)
        model.eval()
        let testEnds = Array(trainCount..<series.count)
        let oneStep = withoutGradients {
            zip(model(windows(testEnds, from: encoded)).scalars, testEnds).map { codec.decode(codec.value($0, after: encoded[$1 - 1])) }
        }
        var rolled = Array(encoded[..<trainCount])
        withoutGradients {
            for _ in 0..<c.horizon { rolled.append(codec.value(model(windows([rolled.count], from: rolled)).item, after: rolled.last!)) }
        }
        let forecast = Forecast(actual: Array(series[trainCount...]), oneStep: oneStep,
                                recursive: rolled[trainCount...].map(codec.decode), seasonalNaive: testEnds.map { series[$0 - c.season] },
                                trainingSeconds: history.map(\.seconds).reduce(0, +), finalTrainingLoss: history.last?.trainLoss ?? .nan)
        return (model, forecast)
    }
}

/// The map between a series' values and what the network reads and predicts.
struct SeriesCodec {
    let scaling: SeriesScaling
    private let offset: Float, scale: Float

    init(scaling: SeriesScaling, series: [Float], trainCount: Int) throws {
        let training = Array(series[..<trainCount])
        self.scaling = scaling
        switch scaling {
        case .minmax:
            let (low, high) = (training.min()!, training.max()!)
            guard high > low else { throw ModelError("forecast: the training values are all \(low); there is nothing to learn") }
            (offset, scale) = (low, high - low)
        case .logChange:
            if let bad = series.firstIndex(where: { !($0 > 0) }) {
                throw ModelError("forecast: --scaling log-change needs positive values, and value \(bad + 1) is \(series[bad]); "
                                 + "use --scaling minmax")
            }
            let logs = training.map { Foundation.log($0) }
            let changes = zip(logs.dropFirst(), logs).map { $0 - $1 }
            let mean = changes.reduce(0, +) / Float(changes.count)
            let deviation = (changes.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(changes.count)).squareRoot()
            (offset, scale) = (0, deviation > 0 ? deviation : 1)
        }
    }

    /// The series in the codec's space: scaled values (minmax) or logarithms (log-change).
    func encode(_ series: [Float]) -> [Float] {
        scaling == .minmax ? series.map { ($0 - offset) / scale } : series.map { Foundation.log($0) }
    }

    func decode(_ value: Float) -> Float {
        scaling == .minmax ? value * scale + offset : Foundation.exp(value)
    }

    /// A window of encoded values as the network reads it.
    func window(_ values: ArraySlice<Float>) -> [Float] {
        guard scaling == .logChange, let last = values.last else { return Array(values) }
        return values.map { ($0 - last) / scale }
    }

    /// The network's target for encoded `value` following encoded `previous`.
    func target(_ value: Float, after previous: Float) -> Float {
        scaling == .minmax ? value : (value - previous) / scale
    }

    /// The encoded value the network's `prediction` stands for, following encoded `previous`.
    func value(_ prediction: Float, after previous: Float) -> Float {
        scaling == .minmax ? prediction : previous + prediction * scale
    }
}
