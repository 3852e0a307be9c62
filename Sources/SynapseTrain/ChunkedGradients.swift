// Gradients of a batch computed chunk by chunk, summed in an order fixed by the chunks alone.

import SynapseCore
import SynapseKernels
import SynapseNN

/// The arithmetic of chunked steps in one process (see `DataShard.chunks`): a batch split into
/// m chunks whose gradients are summed in chunk order and divided by m, with the same float
/// operations, in the same order, as a data-parallel job's gradient averaging over the same
/// chunks. A process count that divides m then trains to the same bits as one process.
public enum ChunkedGradients {
    /// Sets each parameter's gradient to ((g₀ + g₁) + g₂ + …) / `chunkCount` over
    /// `chunks[i]`, chunk i's gradients (nil counts as zeros, and a parameter that no chunk
    /// reached gets zeros, as in a data-parallel job).
    public static func average(_ parameters: [Parameter], chunks: [[Tensor?]], chunkCount: Int) {
        for (index, parameter) in parameters.enumerated() where !parameter.isFrozen {
            let zeros = Tensor.zeros(parameter.shape)
            let gradients = chunks.map { $0[index] ?? zeros }
            var sum = [Float](repeating: 0, count: parameter.value.count)
            withPointers(gradients) { vectors in
                sum.withUnsafeMutableBufferPointer {
                    Kernels.orderedSum(of: vectors, into: $0.baseAddress!, count: $0.count, dividingBy: Float(chunkCount))
                }
            }
            parameter.setGradient(Tensor(sum, shape: parameter.shape))
        }
    }

    /// Calls `body` with the element pointers of all of `tensors`, valid together.
    private static func withPointers(_ tensors: ArraySlice<Tensor>, _ pointers: [UnsafePointer<Float>] = [],
                                     _ body: ([UnsafePointer<Float>]) -> Void) {
        guard let first = tensors.first else { return body(pointers) }
        first.withUnsafeBufferPointer { withPointers(tensors.dropFirst(), pointers + [$0.baseAddress!], body) }
    }

    private static func withPointers(_ tensors: [Tensor], _ body: ([UnsafePointer<Float>]) -> Void) {
        withPointers(tensors[...], [], body)
    }

    /// One output for a batch run as chunks: the chunks' losses and metrics averaged with
    /// their counts as weights, and the counts summed.
    static func combine(_ outputs: [(output: TaskOutput, loss: Float)]) -> (output: TaskOutput, loss: Float) {
        let count = outputs.reduce(0) { $0 + $1.output.count }
        let weight = Double(max(count, 1))
        var loss = 0.0
        var metrics: [String: Double] = [:]
        for (output, value) in outputs {
            loss += Double(value) * Double(output.count)
            for (name, metric) in output.metrics { metrics[name, default: 0] += Double(metric) * Double(output.count) }
        }
        let mean = Float(loss / weight)
        return (TaskOutput(loss: Tensor(mean), count: count, metrics: metrics.mapValues { Float($0 / weight) }), mean)
    }
}
