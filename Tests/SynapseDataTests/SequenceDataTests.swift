import XCTest
import Synapse

final class SequenceDataTests: XCTestCase {
    func testSequencesArePaddedWithLengthsAndIgnoredTargets() {
        let dataset = SequenceDataset(sequences: [[5, 6, 7], [8], [9, 10]], targets: .perToken([[1, 2, 3], [4], [5, 6]]),
                                      paddingIndex: 0, ignoreIndex: -100)
        let batch = dataset.batch([1, 0])
        XCTAssertEqual(batch.tokens, IndexTensor([[8, 0, 0], [5, 6, 7]]))
        XCTAssertEqual(batch.targets, IndexTensor([[4, -100, -100], [1, 2, 3]]))
        XCTAssertEqual(batch.lengths, [1, 3])
        XCTAssertEqual(batch.tokenCount, 4)
        XCTAssertFalse(batch.isFull)
        XCTAssertEqual(batch.mask.scalars, [1, 0, 0, 1, 1, 1])
        let labelled = SequenceDataset(sequences: [[1, 2], [3]], targets: .perSequence([1, 0]))
        XCTAssertEqual(labelled.batch([0, 1]).targets, IndexTensor([1, 0]))
    }

    func testTokenWindowsShiftTargetsByOneAndShuffleReproducibly() {
        let windows = TokenWindows(tokens: Array(0..<20), context: 4)
        XCTAssertEqual(windows.count, 16)
        let batch = windows.batch([3, 0])
        XCTAssertEqual(batch.tokens, IndexTensor([[3, 4, 5, 6], [0, 1, 2, 3]]))
        XCTAssertEqual(batch.targets, IndexTensor([[4, 5, 6, 7], [1, 2, 3, 4]]))
        XCTAssertTrue(batch.isFull)
        let loader = DataLoader(windows, batchSize: 3, shuffle: true, seed: 5, batchLimit: 2)
        XCTAssertEqual(loader.batchCount, 2)
        let first = loader.map { $0.tokens.scalars }
        XCTAssertEqual(first.count, 2)
        XCTAssertEqual(DataLoader(windows, batchSize: 3, shuffle: true, seed: 5, batchLimit: 2).map { $0.tokens.scalars }, first)
    }

    func testRegressionBatchesAndBatchTransforms() {
        let dataset = RegressionDataset(inputs: Tensor.arange(0, 6).reshaped([3, 2]), targets: Tensor([10, 20, 30]).reshaped([3, 1]))
        let loader = DataLoader(dataset, batchSize: 2) { batch, _ in
            RegressionBatch(inputs: batch.inputs * 2, targets: batch.targets)
        }
        let batches = Array(loader)
        XCTAssertEqual(batches.map(\.count), [2, 1])
        XCTAssertEqual(batches[0].inputs.scalars, [0, 2, 4, 6])
        XCTAssertEqual(batches[1].targets.scalars, [30])
    }
}
