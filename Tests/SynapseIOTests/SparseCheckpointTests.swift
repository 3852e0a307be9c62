import Foundation
import XCTest
import Synapse

/// Pruned weights saved as their nonzeros: a bit-exact round trip, files that really are
/// smaller, and malformed sparse entries rejected with the reason.
final class SparseCheckpointTests: TemporaryDirectoryTestCase {
    private func prunedModel(seed: UInt64 = 1) throws -> Sequential {
        GlobalRandom.seed(seed)
        let model = Sequential { Linear(300, 64); ReLU(); Linear(64, 10) }
        try Pruning.magnitude(model, sparsity: 0.9)
        return model
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testSparseCheckpointRoundTripsBitForBitWithItsMasks() throws {
        let model = try prunedModel()
        let sparse = path("sparse.safetensors"), dense = path("dense.safetensors")
        try Checkpoint.save(modules: [("", model)], sparse: true, to: sparse)
        try Checkpoint.save(model, to: dense)
        let file = try CheckpointFile(path: sparse)
        XCTAssertEqual(file.sparseTensors, ["0.weight", "2.weight"])
        XCTAssertEqual(file.metadata["sparse.0.weight"], "64,300")
        let sizes = try [sparse, dense].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
        XCTAssertLessThan(Double(sizes[0]), Double(sizes[1]) / 5, "\(sizes)")

        let restored = try prunedModel(seed: 2)
        Pruning.removeMasks(restored)
        try Checkpoint.load(into: restored, from: sparse)
        for ((name, a), (_, b)) in zip(model.namedParameters, restored.namedParameters) {
            XCTAssertEqual(a.value.scalars.map(\.bitPattern), b.value.scalars.map(\.bitPattern), name)
            XCTAssertEqual(a.mask?.scalars, b.mask?.scalars, name)
        }
        let x = Tensor.randn([8, 300], seed: 3)
        XCTAssertEqual(withoutGradients { model(x) }.scalars, withoutGradients { restored(x) }.scalars)
        // The dense file holds the same weights under the plain names PyTorch reads.
        let plain = try SafeTensors.read(dense).tensors
        XCTAssertEqual(plain["0.weight"]?.scalars, model.layers[0].namedParameters[0].1.value.scalars)
        XCTAssertNil(plain["0.weight.sparse_values"])
    }

    /// A file with one sparse 2 × 4 tensor "w" whose parts are given (values F32; columns and
    /// row counts U16 unless given as I32).
    private func sparseFile(values: [Float], columns: [Int], counts: [Int], shape: String = "2,4", indexType: String = "U16") throws -> String {
        let file = path("w\(UUID().uuidString).safetensors")
        let index: ([Int], [Int]) -> SafeTensors.StoredTensor = { values, shape in
            indexType == "U16" ? .uint16(values.map { UInt16($0) }, shape: shape) : .int32(values.map { Int32($0) }, shape: shape)
        }
        try SafeTensors.write(entries: [("w.sparse_values", .float32(Tensor(values, shape: [values.count]))),
                                        ("w.sparse_columns", index(columns, [columns.count])),
                                        ("w.sparse_row_counts", index(counts, [counts.count]))],
                              metadata: ["sparse.w": shape], to: file)
        return file
    }

    private func assertRejected(_ file: String, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try CheckpointFile(path: file), line: line) { error in
            XCTAssertTrue(error is CheckpointError, "\(error)", line: line)
            XCTAssertEqual("\(error)", "\(file): sparse tensor w: \(expected)", line: line)
        }
    }

    func testMalformedSparseTensorsAreRejected() throws {
        let good = try sparseFile(values: [1, 2, 3], columns: [1, 3, 0], counts: [2, 1], indexType: "I32")
        XCTAssertEqual(try CheckpointFile(path: good).tensors["w"]?.scalars, [0, 1, 0, 2, 3, 0, 0, 0])
        assertRejected(try sparseFile(values: [1, 2, 3], columns: [1, 4, 0], counts: [2, 1]), "column index 4.0 is outside 0..<4")
        assertRejected(try sparseFile(values: [1, 2, 3], columns: [3, 1, 0], counts: [2, 1]),
                       "row 0's column indices are not strictly increasing (3, then 1)")
        assertRejected(try sparseFile(values: [1, 2, 3], columns: [1, 3, 0], counts: [2, 2]), "row offsets must run from 0 to the 3 nonzeros")
        assertRejected(try sparseFile(values: [1, 2, 3], columns: [1, 3, 0], counts: [2, 1, 0]),
                       "values [3], columns [3] and row counts [3] must be [nonzeros], [nonzeros] and [2]")
        assertRejected(try sparseFile(values: [1, 2], columns: [1, 3, 0], counts: [2, 1]),
                       "values [2], columns [3] and row counts [2] must be [nonzeros], [nonzeros] and [2]")
        assertRejected(try sparseFile(values: [1], columns: [1], counts: [1, -1], indexType: "I32"), "a row count is negative")
        assertRejected(try sparseFile(values: [], columns: [], counts: [0, 0], shape: "100000,100000"),
                       "shape \"100000,100000\" must be at least two positive sizes with at most 67108864 elements")
        assertRejected(try sparseFile(values: [], columns: [], counts: [0, 0], shape: "8"),
                       "shape \"8\" must be at least two positive sizes with at most 67108864 elements")
        let missing = path("missing.safetensors")
        try SafeTensors.write([("w.sparse_values", Tensor([1]))], metadata: ["sparse.w": "2,4"], to: missing)
        assertRejected(missing, "needs the tensors w.sparse_values, w.sparse_columns, w.sparse_row_counts")
        let floatIndices = path("float.safetensors")
        try SafeTensors.write([("w.sparse_values", Tensor([1])), ("w.sparse_columns", Tensor([0])), ("w.sparse_row_counts", Tensor([1, 0]))],
                              metadata: ["sparse.w": "2,4"], to: floatIndices)
        assertRejected(floatIndices, "w.sparse_columns must be U16 or I32, not F32")
    }
}
