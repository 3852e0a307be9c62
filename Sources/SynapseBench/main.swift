// synapse-bench: Synapse kernels side by side with references on the same machine.
//
// Usage: swift run -c release -Xcc -march=native synapse-bench [elementwise|gemm|conv|lstm|attention|tokenize|sparse|allreduce|all]
//        [--count N] [--repeats R] [--rounds R] [--python PATH]
// The numpy column comes from Benchmarks/numpy_elementwise.py run through the given Python
// (default python3); the OpenBLAS column from libopenblas.so.0 loaded at run time. A column
// is left blank when its reference is missing.

import Foundation
import SynapseKernels

let usage = """
    usage: synapse-bench [elementwise|gemm|conv|lstm|attention|tokenize|sparse|allreduce|all …] [--count N] [--repeats R] [--rounds R] [--python PATH] [--only TEXT] [--passes]
      --only TEXT  run only the rows whose name contains TEXT (e.g. --only 2048)
      --passes     conv: also time the input and weight gradients on their own (Synapse only)
      elementwise  16M-element add, multiply, exp, sum vs numpy and memcpy (--count elements, --repeats)
      gemm         GEMM GFLOP/s and the NN shapes vs OpenBLAS (libopenblas.so.0, if present)
      conv         Conv2d and ConvTranspose2d forward and backward vs PyTorch (--python with torch; --rounds)
      lstm         LSTM layers forward and forward+backward vs PyTorch's nn.LSTM (--python with torch; --rounds)
      attention    fused scaled dot-product attention forward and forward+backward vs PyTorch's
                   F.scaled_dot_product_attention, T 64/256/1024, D 32/64, causal or not (--python; --rounds)
      tokenize     byte-level BPE training (vocabulary 1,024) and encoding of tinyshakespeare vs Hugging Face
                   tokenizers on one thread (--python with tokenizers; --rounds)
      sparse       pruned Linear forward: the CSR sparse × dense kernel vs the dense GEMM at sparsity 0.5–0.95,
                   and the crossover (--rounds)
      allreduce    under mpirun: the rank-ordered gradient sum (shared memory, and MPI messages) vs
                   MPI_Allreduce and memcpy at 1, 4, 25 and 100 MB (--rounds; --only 25MB)
    """

/// Prints `message` and the usage on stderr and exits with status 2, as a command-line tool
/// does for misuse (a crash report would bury the message).
func exitWithUsage(_ message: String) -> Never {
    FileHandle.standardError.write(Data("synapse-bench: \(message)\n\(usage)\n".utf8))
    exit(2)
}

struct Options {
    func includes(_ row: String) -> Bool { only.map { row.contains($0) } ?? true }

    var count = 16 * 1024 * 1024
    var repeats = 10
    var rounds = 15
    var python = "python3"
    /// Runs only the rows whose name contains this text.
    var only: String?
    /// Also times each convolution backward pass on its own (Synapse only).
    var passes = false

    var sections: [String] = []

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            if flag == "--help" || flag == "-h" {
                print(usage)
                exit(0)
            }
            if flag == "--passes" {
                passes = true
                continue
            }
            if !flag.hasPrefix("--") {
                sections.append(flag)
                continue
            }
            guard let value = iterator.next() else { exitWithUsage("\(flag) needs a value") }
            func positive() -> Int {
                guard let number = Int(value), number > 0 else { exitWithUsage("\(flag) needs a positive integer, got \(value)") }
                return number
            }
            switch flag {
            case "--count": count = positive()
            case "--repeats": repeats = positive()
            case "--rounds": rounds = positive()
            case "--python": python = value
            case "--only": only = value
            default: exitWithUsage("unknown option \(flag)")
            }
        }
    }
}


let options = Options(arguments: CommandLine.arguments)
let sections = options.sections.isEmpty || options.sections == ["all"] ? ["elementwise", "gemm", "conv", "lstm", "attention", "tokenize", "sparse"] : options.sections
for section in sections where !["elementwise", "gemm", "conv", "lstm", "attention", "tokenize", "sparse", "allreduce"].contains(section) {
    exitWithUsage("unknown section \(section)")
}
print("threads available: \(Kernels.threadCount); fast build: \(Kernels.isNativeBuild ? "yes" : "no")")
for section in sections {
    switch section {
    case "elementwise": elementwiseBenchmark(options: options)
    case "gemm": gemmBenchmark(options: options)
    case "conv": convolutionBenchmark(options: options)
    case "lstm": lstmBenchmark(options: options)
    case "attention": attentionBenchmark(options: options)
    case "tokenize": tokenizeBenchmark(options: options)
    case "sparse": sparseBenchmark(options: options)
    case "allreduce": allReduceBenchmark(options: options)
    default: break
    }
    print("")
}
