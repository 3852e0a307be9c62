// synapse-bench: Synapse kernels side by side with references on the same machine.
//
// Usage: swift run -c release -Xcc -march=native synapse-bench [elementwise|gemm|conv|all]
//        [--count N] [--repeats R] [--rounds R] [--python PATH]
// The numpy column comes from Benchmarks/numpy_elementwise.py run through the given Python
// (default python3); the OpenBLAS column from libopenblas.so.0 loaded at run time. A column
// is left blank when its reference is missing.

import Foundation
import SynapseKernels

struct Options {
    var count = 16 * 1024 * 1024
    var repeats = 10
    var rounds = 15
    var python = "python3"

    var sections: [String] = []

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            if !flag.hasPrefix("--") {
                sections.append(flag)
                continue
            }
            guard let value = iterator.next() else { fatalError("synapse-bench: \(flag) needs a value") }
            switch flag {
            case "--count": count = Int(value) ?? count
            case "--repeats": repeats = Int(value) ?? repeats
            case "--rounds": rounds = Int(value) ?? rounds
            case "--python": python = value
            default: fatalError("synapse-bench: unknown option \(flag); use --count, --repeats, --rounds or --python")
            }
        }
    }
}


let options = Options(arguments: CommandLine.arguments)
let sections = options.sections.isEmpty || options.sections == ["all"] ? ["elementwise", "gemm", "conv"] : options.sections
print("threads available: \(Kernels.threadCount); fast build: \(Kernels.isNativeBuild ? "yes" : "no")")
for section in sections {
    switch section {
    case "elementwise": elementwiseBenchmark(options: options)
    case "gemm": gemmBenchmark(options: options)
    case "conv": convolutionBenchmark(options: options)
    default: fatalError("synapse-bench: unknown section \(section); use elementwise, gemm, conv or all")
    }
    print("")
}
