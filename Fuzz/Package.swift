// swift-tools-version:6.0
// libFuzzer entry points for Synapse's file readers, in their own package so the main build
// never needs the fuzzer runtime. Build and run them with `Fuzz/run.sh SECONDS`.
import PackageDescription

let targets = ["FuzzSafeTensors", "FuzzSparseCheckpoint", "FuzzIDX", "FuzzCSV", "FuzzImage"]

let package = Package(
    name: "SynapseFuzz",
    dependencies: [.package(name: "Synapse", path: "..")],
    targets: [.target(name: "FuzzSupport", dependencies: [.product(name: "Synapse", package: "Synapse")])]
        + targets.map {
            // gold fails with an internal error on the sanitized objects; lld links them. These
            // executables are never built as a dependency of anything else.
            .executableTarget(name: $0, dependencies: ["FuzzSupport", .product(name: "Synapse", package: "Synapse")],
                              linkerSettings: [.unsafeFlags(["-use-ld=lld"])])
        },
    swiftLanguageModes: [.v5]
)
