// The `synapse` command-line tool.

import ArgumentParser

@main
struct SynapseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synapse",
        abstract: "Define, train and run neural networks in Swift.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, PredictCommand.self, LanguageModelCommand.self, GenerateCommand.self,
                      ForecastCommand.self, XORCommand.self])
}
