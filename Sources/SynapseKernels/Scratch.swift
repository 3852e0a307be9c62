// Per-thread scratch buffers, so small kernels do not pay for malloc on every call.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The scratch buffers of one thread, one per `ScratchSlot`, grown on demand and kept.
private final class ScratchBuffers {
    var buffers: [UnsafeMutableRawPointer?]
    var capacities: [Int]

    init() {
        buffers = Array(repeating: nil, count: ScratchSlot.allCases.count)
        capacities = Array(repeating: 0, count: ScratchSlot.allCases.count)
    }

    deinit {
        for buffer in buffers { free(buffer) }
    }
}

/// Separate slots let a kernel hold one buffer while calling another kernel that uses a different one.
enum ScratchSlot: Int, CaseIterable {
    case packedB, packedA, convolution, convolutionOutput, convolutionGroup
    case winogradTiles, winogradProducts, winogradFilters
}

private let scratchKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { pointer in
        if let pointer { Unmanaged<ScratchBuffers>.fromOpaque(pointer).release() }
    }
    return key
}()

/// A 64-byte aligned buffer of at least `count` floats, private to the calling thread and
/// valid until the same thread asks for the same slot again.
func scratch(_ slot: ScratchSlot, count: Int) -> UnsafeMutablePointer<Float> {
    let buffers: ScratchBuffers
    if let existing = pthread_getspecific(scratchKey) {
        buffers = Unmanaged<ScratchBuffers>.fromOpaque(existing).takeUnretainedValue()
    } else {
        buffers = ScratchBuffers()
        pthread_setspecific(scratchKey, Unmanaged.passRetained(buffers).toOpaque())
    }
    let bytes = max(count, 1) * MemoryLayout<Float>.stride
    if buffers.capacities[slot.rawValue] < bytes {
        free(buffers.buffers[slot.rawValue])
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, 64, bytes) == 0, let memory else {
            fatalError("synapse: cannot allocate \(bytes) bytes of scratch memory")
        }
        buffers.buffers[slot.rawValue] = memory
        buffers.capacities[slot.rawValue] = bytes
    }
    return buffers.buffers[slot.rawValue]!.assumingMemoryBound(to: Float.self)
}
