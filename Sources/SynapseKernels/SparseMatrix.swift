// A sparse matrix in compressed sparse row form, and its product with a dense batch.
//
// A pruned `Linear` weight [out, in] keeps only its nonzeros, and its product with a batch
// (`Kernels.sparseLinear`) costs one broadcast and one vector multiply-add per nonzero and
// block of 16 examples.

/// A rows × columns matrix that stores only its nonzeros, row by row (CSR): the nonzeros of
/// row r are `values[rowOffsets[r]..<rowOffsets[r + 1]]`, in increasing column order, at
/// columns `columnIndices[…]`.
public struct SparseMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let rowOffsets: [Int]
    public let columnIndices: [Int32]
    public let values: [Float]

    /// The nonzeros of a dense row-major rows × columns matrix (exact zeros are dropped).
    public init(dense: UnsafePointer<Float>, rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0 && columns <= Int(Int32.max), "SparseMatrix: bad size \(rows)×\(columns)")
        var offsets = [0], indices: [Int32] = [], values: [Float] = []
        offsets.reserveCapacity(rows + 1)
        for r in 0..<rows {
            let row = dense + r * columns
            for c in 0..<columns where row[c] != 0 {
                indices.append(Int32(c))
                values.append(row[c])
            }
            offsets.append(values.count)
        }
        self.init(validated: rows, columns, offsets, indices, values)
    }

    /// A matrix from its CSR arrays, or the reason they do not form one: `rowOffsets` has
    /// rows + 1 entries rising from 0 to the nonzero count, and each row's column indices are
    /// strictly increasing and within 0..<columns.
    public static func make(rows: Int, columns: Int, rowOffsets: [Int], columnIndices: [Int32],
                            values: [Float]) -> Result<SparseMatrix, SparseMatrixError> {
        guard rows >= 0, columns >= 0, columns <= Int(Int32.max) else {
            return .failure(SparseMatrixError("size \(rows)×\(columns) is not a matrix size"))
        }
        guard rowOffsets.count == rows + 1 else {
            return .failure(SparseMatrixError("\(rowOffsets.count) row offsets for \(rows) rows (expected \(rows + 1))"))
        }
        guard columnIndices.count == values.count else {
            return .failure(SparseMatrixError("\(columnIndices.count) column indices for \(values.count) values"))
        }
        guard rowOffsets.first == 0, rowOffsets.last == values.count else {
            return .failure(SparseMatrixError("row offsets must run from 0 to the \(values.count) nonzeros"))
        }
        for r in 0..<rows {
            let (start, end) = (rowOffsets[r], rowOffsets[r + 1])
            guard start <= end else { return .failure(SparseMatrixError("row offsets fall at row \(r)")) }
            var previous = -1
            for index in start..<end {
                let column = Int(columnIndices[index])
                guard column >= 0, column < columns else {
                    return .failure(SparseMatrixError("row \(r) has column index \(column), outside 0..<\(columns)"))
                }
                guard column > previous else {
                    return .failure(SparseMatrixError("row \(r)'s column indices are not strictly increasing (\(previous), then \(column))"))
                }
                previous = column
            }
        }
        return .success(SparseMatrix(validated: rows, columns, rowOffsets, columnIndices, values))
    }

    private init(validated rows: Int, _ columns: Int, _ rowOffsets: [Int], _ columnIndices: [Int32], _ values: [Float]) {
        self.rows = rows
        self.columns = columns
        self.rowOffsets = rowOffsets
        self.columnIndices = columnIndices
        self.values = values
    }

    /// The number of stored nonzeros.
    public var nonzeroCount: Int { values.count }

    /// The share of elements that are zero.
    public var sparsity: Double {
        rows * columns == 0 ? 0 : 1 - Double(nonzeroCount) / Double(rows * columns)
    }

    /// Writes the matrix densely, row-major, into `dense` (rows × columns floats).
    public func densify(into dense: UnsafeMutablePointer<Float>) {
        dense.update(repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for index in rowOffsets[r]..<rowOffsets[r + 1] { dense[r * columns + Int(columnIndices[index])] = values[index] }
        }
    }
}

/// Why a set of arrays is not a valid `SparseMatrix`.
public struct SparseMatrixError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

private typealias ExampleVector = SIMD16<Float>
private let examplesPerBlock = ExampleVector.scalarCount
/// Input features per chunk: a chunk of a packed block (32 KiB) stays in the L1 cache while
/// every output row reads the columns it needs from it (256 was slower, as was 1,024).
private let inputsPerChunk = 512

extension Kernels {
    /// output[b, o] = Σᵢ input[b, i] · weight[o, i] (+ bias[o]) for a batch of `batch` rows of
    /// `weight.columns` inputs: the fully connected layer with a sparse weight [out, in].
    /// `output` is batch × weight.rows, row-major.
    ///
    /// Blocks of 16 examples are packed, 512 input features at a time, so that one feature
    /// of all 16 examples is one vector and the chunk stays in the L1 cache; each output row
    /// then takes the nonzeros that fall in the chunk, one broadcast and one vector
    /// multiply-add each, into four partial sums held in registers. Threads split the
    /// blocks (or, for a single block, the output rows); each output is summed in the same
    /// order at any thread count.
    public static func sparseLinear(input: UnsafePointer<Float>, batch: Int, weight: SparseMatrix,
                                    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let (inputs, outputs) = (weight.columns, weight.rows)
        guard batch > 0, outputs > 0 else { return }
        let blocks = (batch + examplesPerBlock - 1) / examplesPerBlock
        let work = weight.nonzeroCount * blocks * examplesPerBlock + batch * inputs
        let threads = work < gemmThreadingWork ? 1 : threadCount
        // Split the blocks when there are enough to go round; else each thread takes a share
        // of the output rows of every block (and packs the block itself).
        let rowShares = blocks >= threads ? 1 : threads
        let rowsPerShare = (outputs + rowShares - 1) / rowShares
        let tasks = min(threads, blocks * rowShares)
        weight.rowOffsets.withUnsafeBufferPointer { offsets in
            weight.columnIndices.withUnsafeBufferPointer { indices in
                weight.values.withUnsafeBufferPointer { values in
                    let matrix = CSRPointers(offsets: offsets.baseAddress!, indices: indices.baseAddress!, values: values.baseAddress!)
                    func run(_ task: Int) {
                        let share = task % rowShares
                        let rows = (share * rowsPerShare)..<min(outputs, (share + 1) * rowsPerShare)
                        guard !rows.isEmpty else { return }
                        let packed = scratch(.packedB, count: inputsPerChunk * examplesPerBlock)
                        let sums = scratch(.packedA, count: rows.count * examplesPerBlock)
                        let cursors = UnsafeMutablePointer<Int>.allocate(capacity: rows.count)
                        defer { cursors.deallocate() }
                        var block = task / rowShares
                        while block < blocks {
                            let first = block * examplesPerBlock, count = min(examplesPerBlock, batch - first)
                            for (slot, row) in rows.enumerated() {
                                let start = bias.map { ExampleVector(repeating: $0[row]) } ?? ExampleVector()
                                UnsafeMutableRawPointer(sums).storeBytes(of: start, toByteOffset: slot * MemoryLayout<ExampleVector>.stride,
                                                                         as: ExampleVector.self)
                                cursors[slot] = matrix.offsets[row]
                            }
                            var chunk = 0
                            while chunk < inputs {
                                let width = min(inputsPerChunk, inputs - chunk)
                                if count < examplesPerBlock { packed.update(repeating: 0, count: width * examplesPerBlock) }
                                transpose(input + first * inputs + chunk, sourceStride: inputs, rows: count, columns: width,
                                          into: packed, destinationStride: examplesPerBlock)
                                sparseChunk(matrix, rows: rows, chunk: chunk, end: chunk + width, packed: packed, sums: sums,
                                            cursors: cursors)
                                chunk += width
                            }
                            transpose(sums, sourceStride: examplesPerBlock, rows: rows.count, columns: count,
                                      into: output + first * outputs + rows.lowerBound, destinationStride: outputs)
                            block += (tasks + rowShares - 1) / rowShares
                        }
                    }
                    if tasks <= 1 { run(0) } else { parallelFor(tasks, run) }
                }
            }
        }
    }
}

private struct CSRPointers {
    let offsets: UnsafePointer<Int>
    let indices: UnsafePointer<Int32>
    let values: UnsafePointer<Float>
}

/// Adds to each row's sums the products of its nonzeros in columns chunk..<end with the packed
/// chunk (feature chunk + j of the 16 examples at packed[16 · j]). `cursors[slot]` is where
/// row rows.lowerBound + slot's nonzeros at or past `chunk` begin; it is moved past `end`.
/// Four partial sums keep four multiply-adds in flight; they are added in a fixed order.
private func sparseChunk(_ matrix: CSRPointers, rows: Range<Int>, chunk: Int, end: Int, packed: UnsafePointer<Float>,
                         sums: UnsafeMutablePointer<Float>, cursors: UnsafeMutablePointer<Int>) {
    let base = UnsafeRawPointer(packed) - chunk * MemoryLayout<ExampleVector>.stride
    let limit = Int32(end)
    @inline(__always) func column(_ index: Int) -> ExampleVector {
        base.load(fromByteOffset: Int(matrix.indices[index]) &* MemoryLayout<ExampleVector>.stride, as: ExampleVector.self)
    }
    let sumBase = UnsafeMutableRawPointer(sums)
    for (slot, row) in rows.enumerated() {
        var index = cursors[slot]
        let rowEnd = matrix.offsets[row + 1]
        guard index < rowEnd, matrix.indices[index] < limit else { continue }
        let offset = slot * MemoryLayout<ExampleVector>.stride
        var sum0 = sumBase.load(fromByteOffset: offset, as: ExampleVector.self)
        var sum1 = ExampleVector(), sum2 = ExampleVector(), sum3 = ExampleVector()
        while index + 4 <= rowEnd && matrix.indices[index + 3] < limit {
            sum0 = multiplyAdd(sum0, ExampleVector(repeating: matrix.values[index]), column(index))
            sum1 = multiplyAdd(sum1, ExampleVector(repeating: matrix.values[index + 1]), column(index + 1))
            sum2 = multiplyAdd(sum2, ExampleVector(repeating: matrix.values[index + 2]), column(index + 2))
            sum3 = multiplyAdd(sum3, ExampleVector(repeating: matrix.values[index + 3]), column(index + 3))
            index += 4
        }
        while index < rowEnd && matrix.indices[index] < limit {
            sum0 = multiplyAdd(sum0, ExampleVector(repeating: matrix.values[index]), column(index))
            index += 1
        }
        sumBase.storeBytes(of: (sum0 + sum1) + (sum2 + sum3), toByteOffset: offset, as: ExampleVector.self)
        cursors[slot] = index
    }
}
