// Reversing padded sequences in time, each within its own length.

extension Tensor {
    /// Reverses each sequence of a time-major batch [T, N, …] within its own length: step t of
    /// sequence n moves to length[n] − 1 − t, and padding steps stay where they are. Without
    /// `lengths` it flips the whole time axis. A bidirectional recurrent layer runs its reverse
    /// direction on this, so that direction starts at each sequence's own last token.
    public func reversingSequences(lengths: [Int]? = nil) -> Tensor {
        require(rank >= 2, "reversingSequences: needs [T, N, …], got \(Shape.describe(shape))")
        let (steps, batch) = (shape[0], shape[1])
        let lengths = lengths ?? [Int](repeating: steps, count: batch)
        require(lengths.count == batch, "reversingSequences: \(lengths.count) lengths for a batch of \(batch)")
        for length in lengths {
            require(length >= 0 && length <= steps, "reversingSequences: length \(length) is not in 0...\(steps)")
        }
        var order = [Int](repeating: 0, count: steps * batch)
        for t in 0..<steps {
            for n in 0..<batch {
                let length = lengths[n]
                order[t * batch + n] = (t < length ? length - 1 - t : t) * batch + n
            }
        }
        let inner = Array(shape.dropFirst(2))
        return reshaped([steps * batch] + inner).indexSelect(axis: 0, indices: IndexTensor(order)).reshaped(shape)
    }
}
