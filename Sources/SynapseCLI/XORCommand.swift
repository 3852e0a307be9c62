// `synapse xor`: the 2-3-1 XOR network, by hand-derived equations and by autodiff.

import ArgumentParser
import Foundation
import SynapseExamples

struct XORCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xor",
        abstract: "Train a 2-3-1 network on XOR two ways: explicit backprop equations and autodiff.")

    @Option(help: "Training epochs (full-batch gradient descent).")
    var epochs = 5000

    @Option(help: "Learning rate.")
    var lr: Float = 0.5

    @Option(help: "Seed for the initial weights, shared by both methods.")
    var seed: UInt64 = 0

    @Option(help: "Print the loss every N epochs.")
    var logEvery = 500

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard logEvery > 0 else { throw ValidationError("--log-every must be positive") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    }

    func run() throws {
        print("XOR, 2-3-1 network (sigmoid hidden layer, linear output, MSE), lr \(lr), seed \(seed)")
        let report = XORExample.train(epochs: epochs, learningRate: lr, seed: seed, logEvery: logEvery) { print($0) }
        print("")
        print("max |gradient difference| equations vs autodiff over all epochs: \(String(format: "%.2e", Double(report.maxGradientDifference)))")
        print(" x1 x2  target  equations  autodiff")
        let inputs = XORExample.inputs.scalars, targets = XORExample.targets.scalars
        for row in 0..<4 {
            print(String(format: "  %.0f  %.0f    %.0f     %7.4f    %7.4f", inputs[2 * row], inputs[2 * row + 1], targets[row],
                         report.manualOutputs[row], report.autodiffOutputs[row]))
        }
        let agree = report.maxGradientDifference <= 1e-5
        let solved = report.solved(tolerance: 0.1)
        print("gradients agree to 1e-5: \(agree ? "yes" : "NO"); all outputs within 0.1 of targets: \(solved ? "yes" : "NO")")
        if !agree || !solved { throw ExitCode.failure }
    }
}
