// What every fuzz target shares: libFuzzer's driver, started from the target's own main (a
// Swift executable always has one, so libFuzzer's is not used), and a scratch file per
// process, since the readers take paths.

import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                                 _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                 _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

nonisolated(unsafe) private var currentTarget: ((String) -> Void)?

/// Runs libFuzzer with the process's arguments, calling `target` with the path of a file that
/// holds each input. Reading errors are expected; a crash, a leak or an allocation past
/// `-malloc_limit_mb` is what libFuzzer reports.
public func fuzz(_ target: @escaping (String) -> Void) -> Never {
    currentTarget = target
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        let path = NSTemporaryDirectory() + "synapse-fuzz-\(getpid())"
        _ = FileManager.default.createFile(atPath: path, contents: data.map { Data(bytes: $0, count: size) } ?? Data())
        currentTarget?(path)
        return 0
    })
}
