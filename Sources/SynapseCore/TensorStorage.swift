// The buffer behind a tensor.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A contiguous, 64-byte aligned Float32 buffer, shared between tensor values until one of
/// them mutates it (copy-on-write).
final class TensorStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// Allocates uninitialized storage for `count` floats; the caller must write all of them.
    init(uninitializedCount count: Int) {
        self.count = count
        let byteCount = max(count, 1) * MemoryLayout<Float>.stride
        pointer = allocateFloats(byteCount: byteCount).bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    convenience init<C: Collection>(copying scalars: C) where C.Element == Float {
        self.init(uninitializedCount: scalars.count)
        var i = 0
        for value in scalars {
            pointer[i] = value
            i += 1
        }
    }

    func copy() -> TensorStorage {
        let storage = TensorStorage(uninitializedCount: count)
        storage.pointer.update(from: pointer, count: count)
        return storage
    }

    deinit {
        free(pointer)
    }
}

/// Large buffers are 2 MiB aligned and, on Linux, marked for transparent huge pages, as numpy
/// does: a fresh 64 MB tensor then takes 32 page faults instead of 16,384, which otherwise
/// dominate the cost of ops that allocate their result.
private func allocateFloats(byteCount: Int) -> UnsafeMutableRawPointer {
    let hugePage = 2 << 20
    let large = byteCount >= 2 * hugePage
    var memory: UnsafeMutableRawPointer?
    let status = posix_memalign(&memory, large ? hugePage : 64, byteCount)
    guard status == 0, let memory else { fatalError("Tensor: cannot allocate \(byteCount) bytes") }
    #if os(Linux)
    if large { _ = madvise(memory, byteCount, MADV_HUGEPAGE) }
    #endif
    return memory
}
