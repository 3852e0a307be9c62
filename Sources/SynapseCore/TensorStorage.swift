// The buffer behind a tensor.

import CSynapse
import Foundation
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
        _ = synapse_atomic_add(TensorMemory.counter, byteCount)
        _ = synapse_atomic_add(TensorMemory.liveCounter, byteCount)
        pointer = BufferCache.shared.take(byteCount: byteCount).bindMemory(to: Float.self, capacity: max(count, 1))
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
        _ = synapse_atomic_add(TensorMemory.liveCounter, -(max(count, 1) * MemoryLayout<Float>.stride))
        BufferCache.shared.release(pointer, byteCount: max(count, 1) * MemoryLayout<Float>.stride)
    }
}

/// Counts the tensor memory a computation allocates, for tests and profiling.
public enum TensorMemory {
    fileprivate static let counter: UnsafeMutablePointer<Int> = {
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.initialize(to: 0)
        return counter
    }()

    /// Bytes of tensor storage allocated by this process so far (whether or not freed since,
    /// and whether or not served from the reuse cache). The difference across a block of code
    /// is the memory traffic it caused.
    public static var allocatedBytes: Int { synapse_atomic_load(counter) }

    fileprivate static let liveCounter: UnsafeMutablePointer<Int> = {
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.initialize(to: 0)
        return counter
    }()

    /// Bytes of tensor storage alive now. The growth across a forward pass that records the
    /// autodiff graph is the activation memory backward will need.
    public static var liveBytes: Int { synapse_atomic_load(liveCounter) }
}

/// Keeps recently freed large buffers for reuse, keyed by exact size. A training step frees
/// and reallocates the same activation sizes every step; reusing them skips the system's
/// page zeroing and mapping, which otherwise costs several percent of a CNN epoch. Holds at
/// most `limit` bytes; buffers below `threshold` go straight back to malloc.
final class BufferCache: @unchecked Sendable {
    static let shared = BufferCache()
    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var heldBytes = 0
    private let threshold = 1 << 20
    private let limit = 256 << 20

    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        if byteCount >= threshold {
            let reused: UnsafeMutableRawPointer? = lock.withLock {
                guard let pointer = free[byteCount]?.popLast() else { return nil }
                heldBytes -= byteCount
                return pointer
            }
            if let reused { return reused }
        }
        return allocateFloats(byteCount: byteCount)
    }

    /// Returns every held buffer to the system, as `torch.cuda.empty_cache()` does for its cache.
    func empty() {
        let held: [UnsafeMutableRawPointer] = lock.withLock {
            defer { free = [:]; heldBytes = 0 }
            return free.values.flatMap { $0 }
        }
        held.forEach { Foundation.free($0) }
    }

    func release(_ pointer: UnsafeMutablePointer<Float>, byteCount: Int) {
        let raw = UnsafeMutableRawPointer(pointer)
        if byteCount >= threshold {
            let kept: Bool = lock.withLock {
                guard heldBytes + byteCount <= limit else { return false }
                free[byteCount, default: []].append(raw)
                heldBytes += byteCount
                return true
            }
            if kept { return }
        }
        Foundation.free(raw)
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
