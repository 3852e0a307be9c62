// Pruned weights in a checkpoint, stored as their nonzeros.

import Foundation
import SynapseCore
import SynapseKernels

/// The sparse form of a tensor in a Synapse checkpoint. A tensor `W` of shape [rows, …] is
/// stored row by row (the first axis; the others flattened into columns) as three tensors
/// and one metadata entry:
/// - `W.sparse_values`, F32 [nonzeros]: the nonzeros in row-major order;
/// - `W.sparse_columns`, U16 (I32 past 65,535 columns) [nonzeros]: each one's column, strictly
///   increasing within a row;
/// - `W.sparse_row_counts`, same dtype, [rows]: the nonzeros of each row;
/// - metadata `sparse.W`: the dense shape, comma-separated (`128,6272`).
///
/// Readers that do not know the format (PyTorch's `load_file`) see three unfamiliar tensors;
/// `synapse prune --dense` writes a plain checkpoint for them.
public enum SparseTensors {
    static let metadataPrefix = "sparse."
    static let suffixes = (values: ".sparse_values", columns: ".sparse_columns", rowCounts: ".sparse_row_counts")
    /// The most elements a sparse tensor may expand to: a file declares the dense shape, and
    /// this bounds the memory a hostile one can make a reader allocate (256 MiB).
    public static let maximumDenseElements = 1 << 26

    /// The stored entries for `tensor` under `name`, or nil when the sparse form would not be
    /// smaller than the dense one (or the tensor has fewer than two axes).
    static func encode(_ name: String, _ tensor: Tensor) -> (entries: [(String, SafeTensors.StoredTensor)], shape: String)? {
        guard tensor.rank >= 2, tensor.count > 0, tensor.count <= maximumDenseElements else { return nil }
        let rows = tensor.shape[0], columns = tensor.count / rows
        let matrix = tensor.withUnsafeBufferPointer { SparseMatrix(dense: $0.baseAddress!, rows: rows, columns: columns) }
        let narrow = columns <= Int(UInt16.max)
        let indexBytes = narrow ? 2 : 4
        guard matrix.nonzeroCount * (4 + indexBytes) + rows * indexBytes < tensor.count * 4 else { return nil }
        let counts = (0..<rows).map { matrix.rowOffsets[$0 + 1] - matrix.rowOffsets[$0] }
        let indices: (columns: SafeTensors.StoredTensor, counts: SafeTensors.StoredTensor) = narrow
            ? (.uint16(matrix.columnIndices.map { UInt16($0) }, shape: [matrix.nonzeroCount]), .uint16(counts.map { UInt16($0) }, shape: [rows]))
            : (.int32(matrix.columnIndices, shape: [matrix.nonzeroCount]), .int32(counts.map { Int32($0) }, shape: [rows]))
        return ([(name + suffixes.values, .float32(Tensor(matrix.values, shape: [matrix.nonzeroCount]))),
                 (name + suffixes.columns, indices.columns), (name + suffixes.rowCounts, indices.counts)],
                tensor.shape.map(String.init).joined(separator: ","))
    }

    /// Replaces every sparse tensor the metadata declares by its dense form, checking it
    /// first; returns the names of the tensors that were sparse.
    static func decode(_ tensors: inout [String: Tensor], dtypes: inout [String: String], metadata: [String: String],
                       path: String) throws -> Set<String> {
        var names = Set<String>()
        for (key, shapeText) in metadata where key.hasPrefix(metadataPrefix) {
            let name = String(key.dropFirst(metadataPrefix.count))
            func fail(_ problem: String) -> CheckpointError { CheckpointError("\(path): sparse tensor \(name): \(problem)") }
            let shape = shapeText.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) ?? -1 }
            guard shape.count >= 2, shape.allSatisfy({ $0 > 0 && $0 <= maximumDenseElements }),
                  shape.reduce(1, { $0 * $1 > maximumDenseElements ? maximumDenseElements + 1 : $0 * $1 }) <= maximumDenseElements else {
                throw fail("shape \"\(shapeText)\" must be at least two positive sizes with at most \(maximumDenseElements) elements")
            }
            guard tensors[name] == nil else { throw fail("the file holds it both dense and sparse") }
            let parts = [suffixes.values, suffixes.columns, suffixes.rowCounts].map { name + $0 }
            guard let values = tensors[parts[0]], let columnTensor = tensors[parts[1]], let countTensor = tensors[parts[2]] else {
                throw fail("needs the tensors \(parts.joined(separator: ", "))")
            }
            guard dtypes[parts[0]] == "F32" else { throw fail("values must be F32, not \(dtypes[parts[0]] ?? "?")") }
            for part in parts.dropFirst() where !["U16", "I32"].contains(dtypes[part] ?? "") {
                throw fail("\(part) must be U16 or I32, not \(dtypes[part] ?? "?")")
            }
            let rows = shape[0], columns = shape.dropFirst().reduce(1, *)
            guard values.rank == 1, columnTensor.shape == values.shape, countTensor.shape == [rows] else {
                throw fail("values \(values.shape), columns \(columnTensor.shape) and row counts \(countTensor.shape) must be "
                           + "[nonzeros], [nonzeros] and [\(rows)]")
            }
            var offsets = [0]
            offsets.reserveCapacity(rows + 1)
            for count in countTensor.scalars {
                guard count >= 0 else { throw fail("a row count is negative") }
                offsets.append(offsets.last! + Int(count))
            }
            // I32 indices are read through Float, exact below 2^24; a larger one is not a column here.
            let columnIndices = try columnTensor.scalars.map { value -> Int32 in
                guard value >= 0, value < Float(columns) else { throw fail("column index \(value) is outside 0..<\(columns)") }
                return Int32(value)
            }
            let matrix: SparseMatrix
            switch SparseMatrix.make(rows: rows, columns: columns, rowOffsets: offsets, columnIndices: columnIndices,
                                     values: values.scalars) {
            case .success(let valid): matrix = valid
            case .failure(let problem): throw fail(problem.description)
            }
            var dense = [Float](repeating: 0, count: rows * columns)
            dense.withUnsafeMutableBufferPointer { matrix.densify(into: $0.baseAddress!) }
            for part in parts {
                tensors[part] = nil
                dtypes[part] = nil
            }
            tensors[name] = Tensor(dense, shape: shape)
            dtypes[name] = "F32"
            names.insert(name)
        }
        return names
    }
}
