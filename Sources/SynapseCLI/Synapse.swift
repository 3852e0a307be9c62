// The `synapse` command-line tool.

import ArgumentParser

@main
struct SynapseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synapse",
        abstract: "Define, train and run neural networks in Swift.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, PredictCommand.self, LanguageModelCommand.self, GenerateCommand.self, LemmaCommand.self, GANCommand.self, PruneCommand.self,
                      SummaryCommand.self, ReportCommand.self,
                      ForecastCommand.self, TextCommand.self, TagCommand.self, TokenizeCommand.self, XORCommand.self])

    static func main() {
        main(Self.joiningNegativeValues(Array(CommandLine.arguments.dropFirst())))
    }

    /// `--lr -1` as `--lr=-1`: the argument parser reads a lone "-1" as a flag and would
    /// report a missing value instead of the real problem with the number.
    static func joiningNegativeValues(_ arguments: [String]) -> [String] {
        var result: [String] = [], index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--"), !argument.contains("="), index + 1 < arguments.count,
               arguments[index + 1].hasPrefix("-"), Double(arguments[index + 1]) != nil {
                result.append(argument + "=" + arguments[index + 1])
                index += 2
            } else {
                result.append(argument)
                index += 1
            }
        }
        return result
    }
}
