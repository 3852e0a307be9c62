// Ops with more than one result (a recurrent layer's outputs and final states).

extension Tensor {
    /// Splits the flat result of a multi-output op into its outputs. `packed` is the op's
    /// single recorded result, holding every output's elements one after another; each
    /// output is a slice of it, so gradients from any subset of the outputs land in one
    /// gradient of `packed` (zeros where an output was not used) without extra copies.
    static func unpack(_ packed: Tensor, shapes: [[Int]]) -> [Tensor] {
        var start = 0
        return shapes.map { shape in
            let count = shape.reduce(1, *)
            defer { start += count }
            return packed.slice(axis: 0, start: start, end: start + count).reshaped(shape)
        }
    }
}
