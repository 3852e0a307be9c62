// Gradients of a batch computed chunk by chunk, summed in an order fixed by the chunks alone.

import SynapseCore
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
        let divisor = Float(chunkCount)
        for (index, parameter) in parameters.enumerated() where !parameter.isFrozen {
            let gradients = chunks.map { $0[index] }
            var sum = [Float](repeating: 0, count: parameter.value.count)
            sum.withUnsafeMutableBufferPointer { total in
                if let first = gradients[0] { first.withUnsafeBufferPointer { _ = total.update(fromContentsOf: $0) } }
                for gradient in gradients.dropFirst() {
                    if let gradient {
                        gradient.withUnsafeBufferPointer { addend in
                            for element in 0..<total.count { total[element] += addend[element] }
                        }
                    } else {
                        // Adding zero keeps every value, -0 aside, as the all-process sum does.
                        for element in 0..<total.count { total[element] += 0 }
                    }
                }
                for element in 0..<total.count { total[element] /= divisor }
            }
            parameter.setGradient(Tensor(sum, shape: parameter.shape))
        }
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
