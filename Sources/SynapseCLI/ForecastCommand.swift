// `synapse forecast`: train a recurrent forecaster on a time series and forecast its end.

import ArgumentParser
import Foundation
import Synapse
import SynapseDistributed
import SynapseExamples
import SynapseKernels

extension SeriesScaling: ExpressibleByArgument {}

extension RecurrentModelName: ExpressibleByArgument {}

struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Forecast the last values of a time series with an LSTM or GRU, against the seasonal-naive baseline.",
        discussion: """
            Without --data it uses the embedded monthly airline passengers, 1949-1960 (Box & Jenkins Series G). \
            The last --horizon values are held out; the model trains on the rest and forecasts them one step ahead \
            (from the true previous --window values) and recursively (feeding its own forecasts back).
            Example: synapse forecast --model lstm --plot forecast.png
            """)

    @Option(help: "A CSV file with a header row (default: the embedded airline passengers).")
    var data: String?
    @Option(help: "The CSV column holding the series (default: the last column).")
    var column: String?
    @Option(help: "Recurrent network: \(RecurrentModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: RecurrentModelName = .lstm
    @Option(help: "How the network sees the series: \(SeriesScaling.allCases.map(\.rawValue).joined(separator: ", ")) (minmax is the common tutorial setup).")
    var scaling: SeriesScaling = .logChange
    @Option(help: "Past values each forecast sees.")
    var window = 12
    @Option(help: "Values held out at the end and forecast.")
    var horizon = 24
    @Option(help: "Seasonal period of the naive baseline (the value one season earlier).")
    var season = 12
    @Option(help: "Hidden units.")
    var hidden = 32
    @Option(help: "Training epochs (each one full batch of every training window).")
    var epochs = 300
    @Option(help: "Learning rate (Adam).")
    var lr: Float = 1e-2
    @Option(help: "Seed for initialization.")
    var seed: UInt64 = 0
    @Option(help: "Write a PNG plot of the history, the forecasts and the actual values here.")
    var plot: String?
    @OptionGroup var reporting: ReportOptions
    @OptionGroup var distribution: DistributedOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        for (name, value) in [("--window", window), ("--horizon", horizon), ("--season", season), ("--hidden", hidden),
                              ("--epochs", epochs)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    }

    mutating func run() throws {
        try checkWritable(plot, flag: "--plot")
        let group = try distribution.start(common, command: self)
        if let group, group.rank != 0 { (plot, reporting.report) = (nil, nil) }
        try forecast(group: group)
        try reportingErrors { try group?.finish() }
    }

    private func forecast(group: MPIProcessGroup?) throws {
        common.applyThreadCount()
        let table = try reportingErrors { try data.map(CSVTable.init(contentsOf:)) ?? Datasets.airlinePassengers() }
        let valueColumn = try reportingErrors { try column.map(table.columnIndex(named:)) ?? table.header.count - 1 }
        let series = try reportingErrors { try table.numbers(inColumn: valueColumn) }
        // The first other column labels the rows (the month), when there is one.
        let labels = table.header.count > 1 ? table.strings(inColumn: valueColumn == 0 ? 1 : 0) : series.indices.map(String.init)
        var configuration = ForecastConfiguration()
        configuration.kind = model
        configuration.scaling = scaling
        (configuration.window, configuration.horizon, configuration.season) = (window, horizon, season)
        (configuration.hidden, configuration.epochs, configuration.lr, configuration.seed) = (hidden, epochs, lr, seed)
        configuration.chunks = try distribution.chunkCount(group)
        let name = data ?? "airline passengers (embedded)"
        if !common.json {
            print("forecasting the last \(horizon) of \(series.count) values of \"\(table.header[valueColumn])\" in \(name) with \(model.rawValue) "
                  + "(\(scaling.rawValue) scaling, window \(window), hidden \(hidden), \(epochs) epochs, Adam lr \(lr))")
        }
        var callbacks: [TrainingCallback] = [ProgressBar(quiet: common.json, summaryInterval: max(1, epochs / 5))]
        let trainWindows = series.count - horizon - window
        let datasets = [ReportField("Series", "\"\(table.header[valueColumn])\" in \(name)"), ReportField("Values", String(series.count)),
                        ReportField("Training windows", String(max(trainWindows, 0))), ReportField("Held out", String(horizon))]
        let report = try reporting.makeReport(title: "\(model.rawValue) forecast of \(table.header[valueColumn])", command: self,
                                              datasets: datasets, summary: nil)
        if let report {
            report.summaryInput = Tensor.zeros([max(trainWindows, 1), window, 1])
            callbacks.append(report)
        }
        let (_, forecast) = try reportingErrors { try Forecasting.run(series, configuration: configuration, callbacks: callbacks, processGroup: group) }
        let start = series.count - horizon
        if let report {
            report.document.results = [ReportField("RMSE, one step ahead", String(format: "%.2f (MAE %.2f)", forecast.rmse, forecast.mae)),
                                       ReportField("RMSE, recursive", String(format: "%.2f", forecast.recursiveRMSE)),
                                       ReportField("RMSE, seasonal naive", String(format: "%.2f", forecast.seasonalNaiveRMSE))]
            func points(_ values: [Float], from first: Int) -> [(x: Double, y: Double)] {
                values.enumerated().map { (Double(first + $0.offset), Double($0.element)) }
            }
            let unit = table.header.count > 1 ? table.header[valueColumn == 0 ? 1 : 0] : "index"
            report.document.setSection(.chart(LineChartData(
                title: "Forecast of the last \(horizon) values (from \(labels[start]))", xLabel: "time step (\(unit), from \(labels[0]))",
                yLabel: table.header[valueColumn],
                series: [.init(name: "history", points: points(Array(series[..<(start + 1)]), from: 0), colorIndex: 6),
                         .init(name: "actual", points: points(forecast.actual, from: start), colorIndex: 6),
                         .init(name: "one-step forecast", points: points(forecast.oneStep, from: start), colorIndex: 3),
                         .init(name: "recursive forecast", points: points(forecast.recursive, from: start), style: .dashed, colorIndex: 0),
                         .init(name: "seasonal naive", points: points(forecast.seasonalNaive, from: start), style: .dashed, colorIndex: 1)])))
            try reportingErrors { try report.finish() }
        }
        if let plot {
            let history = PlotSeries(name: "history", color: Color(red: 120, green: 120, blue: 120), values: Array(series[..<(start + 1)]))
            let actual = PlotSeries(name: "actual", color: Color(red: 30, green: 30, blue: 30), values: forecast.actual, start: start)
            let oneStep = PlotSeries(name: "one-step forecast", color: Color(red: 220, green: 60, blue: 40), values: forecast.oneStep,
                                     start: start)
            let recursive = PlotSeries(name: "recursive forecast", color: Color(red: 40, green: 110, blue: 220),
                                       values: forecast.recursive, start: start)
            let tickEvery = max(1, season)
            let ticks = stride(from: 0, to: series.count, by: tickEvery).map { (Double($0), String(labels[$0].prefix(4))) }
            let chart = LinePlot(title: "\(table.header[valueColumn]): \(model.rawValue) forecast of the last \(horizon)",
                                 series: [history, actual, oneStep, recursive], xTicks: ticks)
            try reportingErrors { try chart.render().write(to: plot) }
        }
        if common.json {
            printJSON(["model": model.rawValue, "rmse": Double(forecast.rmse), "mae": Double(forecast.mae),
                       "recursive_rmse": Double(forecast.recursiveRMSE), "seasonal_naive_rmse": Double(forecast.seasonalNaiveRMSE),
                       "horizon": horizon, "window": window, "epochs": epochs, "seconds": forecast.trainingSeconds,
                       "train_mse_scaled": Double(forecast.finalTrainingLoss)])
            return
        }
        let labelWidth = max(8, labels[start...].map(\.count).max() ?? 0)
        func padded(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        print(padded("", labelWidth) + ["actual", "one-step", "recursive", "seasonal"].map { padded($0, 11) }.joined())
        for i in 0..<horizon {
            let values = [forecast.actual[i], forecast.oneStep[i], forecast.recursive[i], forecast.seasonalNaive[i]]
            print(padded(labels[start + i], labelWidth) + values.map { padded(String(format: "%.1f", $0), 11) }.joined())
        }
        print(String(format: "RMSE one-step %.2f (MAE %.2f), recursive %.2f, seasonal naive %.2f; trained in %.2f s",
                     forecast.rmse, forecast.mae, forecast.recursiveRMSE, forecast.seasonalNaiveRMSE, forecast.trainingSeconds))
        if let plot { print("wrote \(plot)") }
    }
}
