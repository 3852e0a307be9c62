// The buffer behind a tensor.

/// A contiguous, 64-byte aligned Float32 buffer, shared between tensor values until one of
/// them mutates it (copy-on-write).
final class TensorStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// Allocates uninitialized storage for `count` floats; the caller must write all of them.
    init(uninitializedCount count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
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
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
