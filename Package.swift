// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Synapse",
    products: [
        .library(name: "Synapse", targets: ["Synapse"]),
        .executable(name: "synapse", targets: ["SynapseCLI"]),
        .executable(name: "synapse-bench", targets: ["SynapseBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Compile-target queries and atomics that Swift cannot express directly.
        .target(name: "CSynapse"),
        // Layer 1: CPU kernels over raw Float32 buffers. No tensors, no autodiff.
        .target(name: "SynapseKernels", dependencies: ["CSynapse"]),
        // Layer 2: N-d tensors, broadcasting and reverse-mode autodiff.
        .target(name: "SynapseCore", dependencies: ["SynapseKernels"]),
        // Layer 3: modules, layers, initializers and losses.
        .target(name: "SynapseNN", dependencies: ["SynapseCore", "SynapseKernels"]),
        // Layer 4: optimizers.
        .target(name: "SynapseOptim", dependencies: ["SynapseCore", "SynapseKernels", "SynapseNN"]),
        // zlib, present on every machine as zlib1g-dev, for .gz datasets.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Layer 5: datasets, loaders and file formats for data.
        .target(name: "SynapseData", dependencies: ["SynapseCore", "CZlib"],
                resources: [.copy("Resources/digits.csv.gz"), .copy("Resources/DIGITS-LICENSE.md"),
                            .copy("Resources/airline-passengers.csv"), .copy("Resources/AIRLINE-LICENSE.md")]),
        // libpng, present on every machine as libpng-dev, for image files.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        // Image files (PNG, PGM), resizing and labelled image grids.
        .target(name: "SynapseVision", dependencies: ["SynapseCore", "SynapseIO", "CPNG"]),
        // Text beside data: tokenizers, strict UTF-8 reading and sampling from logits.
        .target(name: "SynapseText", dependencies: ["SynapseCore"]),
        // Layer 6: checkpoints (safetensors).
        .target(name: "SynapseIO", dependencies: ["SynapseCore", "SynapseKernels", "SynapseNN", "SynapseOptim"]),
        // Layer 7: the training loop, callbacks and metrics.
        .target(name: "SynapseTrain", dependencies: ["SynapseKernels", "SynapseNN", "SynapseOptim", "SynapseData", "SynapseIO"]),
        // Beside the loop: self-contained HTML reports of training runs (inline SVG, no scripts).
        .target(name: "SynapseReport", dependencies: ["SynapseCore", "SynapseKernels", "SynapseNN", "SynapseData", "SynapseIO", "SynapseTrain",
                                                      "SynapseVision"]),
        // Open MPI behind a C shim that loads libmpi at run time (dlopen), so no build needs MPI.
        .target(name: "CSynapseMPI"),
        // Beside the loop: data-parallel training across processes on MPI.
        .target(name: "SynapseDistributed", dependencies: ["CSynapseMPI", "SynapseKernels", "SynapseCore", "SynapseNN", "SynapseTrain"]),
        // The public umbrella users import.
        .target(name: "Synapse", dependencies: ["SynapseCore", "SynapseNN", "SynapseOptim", "SynapseData", "SynapseIO", "SynapseTrain",
                                                "SynapseVision", "SynapseText", "SynapseReport"]),
        // Worked examples shared by the CLI and the tests.
        .target(name: "SynapseExamples", dependencies: ["Synapse"]),
        .executableTarget(
            name: "SynapseCLI",
            dependencies: ["Synapse", "SynapseExamples", "SynapseKernels", "SynapseDistributed",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "SynapseBench", dependencies: ["Synapse", "SynapseKernels", "SynapseDistributed"]),
        .testTarget(name: "SynapseKernelsTests", dependencies: ["SynapseKernels"]),
        .testTarget(name: "SynapseCoreTests", dependencies: ["SynapseCore"]),
        .testTarget(name: "SynapseNNTests", dependencies: ["Synapse"], exclude: ["Fixtures"]),
        .testTarget(name: "SynapseDataTests", dependencies: ["Synapse", "CZlib"]),
        .testTarget(name: "SynapseIOTests", dependencies: ["Synapse"], exclude: ["Fixtures"]),
        .testTarget(name: "SynapseTextTests", dependencies: ["Synapse"], exclude: ["make_fixtures.py"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SynapseTrainTests", dependencies: ["Synapse"]),
        .testTarget(name: "SynapseDistributedTests", dependencies: ["SynapseCLI", "Synapse", "SynapseDistributed"]),
        .testTarget(name: "SynapseReportTests", dependencies: ["Synapse", "SynapseExamples"]),
        .testTarget(name: "SynapseVisionTests", dependencies: ["Synapse"], exclude: ["make_fixtures.py"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SynapseExamplesTests", dependencies: ["SynapseExamples"], exclude: ["Fixtures"]),
        // Runs the built `synapse` binary: exit codes and messages as a user sees them.
        .testTarget(name: "SynapseCLITests", dependencies: ["SynapseCLI", "Synapse", "SynapseExamples"]),
    ],
    swiftLanguageModes: [.v5]
)
