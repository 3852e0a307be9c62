// `synapse predict`: classify image files with a saved model.

import ArgumentParser
import Foundation
import Synapse
import SynapseExamples
import SynapseKernels

extension TrainedClassifier.Background: ExpressibleByArgument {}

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify PNG or PGM images with a saved model and print the most likely classes.",
        discussion: """
            Images of any size are converted to the model's channels and scaled to fit its input. The \
            training images show light objects on black, so by default an image with a light border \
            (a photo on a light surface) is inverted first; --background dark or light decides instead.
            Example: synapse predict --checkpoint cnn.safetensors shirt.png boot.pgm
            """)

    @Option(help: "A model saved by `synapse train --save`.")
    var checkpoint: String
    @Argument(help: "PNG (8-bit gray or RGB, any size) or PGM files.")
    var images: [String]
    @Option(help: "How many classes to list per image.")
    var top = 3
    @Option(help: "Image background: \(TrainedClassifier.Background.allCases.map(\.rawValue).joined(separator: ", ")).")
    var background: TrainedClassifier.Background = .auto
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image file") }
        guard top > 0 else { throw ValidationError("--top must be positive") }
    }

    func run() throws {
        common.applyThreadCount()
        let classifier = try reportingErrors { try TrainedClassifier(checkpoint: checkpoint) }
        guard classifier.takesImages else {
            throw CLIError("\(checkpoint): this \(classifier.modelName.rawValue) model takes inputs of shape \(classifier.inputShape), "
                           + "not images; train one on mnist or fashion-mnist to classify image files")
        }
        // Read every file first so one bad file costs only its own line, then classify all at once.
        var inputs: [(path: String, input: Tensor, inverted: Bool)] = []
        var failures = 0
        for path in images {
            do {
                let image = try Image(contentsOf: path)
                let (input, inverted) = try classifier.input(from: image, background: background)
                inputs.append((path, input, inverted))
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
        if !inputs.isEmpty {
            let rankings = classifier.top(min(top, classifier.classNames.count), for: Tensor.stack(inputs.map(\.input)))
            for ((path, _, inverted), ranking) in zip(inputs, rankings) {
                if common.json {
                    printJSON(["file": path, "inverted": inverted,
                               "top": ranking.map { ["class": $0.className, "probability": Double($0.probability)] }])
                } else {
                    print("\(path)\(inverted ? " (light background, inverted)" : "")")
                    let width = ranking.map(\.className.count).max() ?? 0
                    for (className, probability) in ranking {
                        print("  " + className.padding(toLength: width, withPad: " ", startingAt: 0)
                              + String(format: "  %5.1f%%", probability * 100))
                    }
                }
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
