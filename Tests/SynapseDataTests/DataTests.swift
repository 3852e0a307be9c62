import CZlib
import Foundation
import XCTest
import Synapse

final class DataTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ bytes: [UInt8], to name: String, gzip: Bool = false) -> String {
        let path = directory.appendingPathComponent(name).path
        if gzip {
            let file = gzopen(path, "wb")!
            _ = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
            gzclose(file)
        } else {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), path)
        }
        return path
    }

    /// A 3-image, 2×2 IDX image file.
    private let idxImages: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2] + Array(0..<12)

    func testIDXPlainAndGzipped() throws {
        for gzip in [false, true] {
            let array = try IDXArray(contentsOf: write(idxImages, to: "images\(gzip).idx", gzip: gzip))
            XCTAssertEqual(array.shape, [3, 2, 2])
            XCTAssertEqual(array.values, Array(0..<12))
            XCTAssertEqual(array.tensor(scale: 0.5).scalars[11], 5.5)
        }
    }

    /// Written IDX files hold MNIST's bytes exactly, big-endian sizes included, and read back.
    func testIDXWritesTheFormatItReads() throws {
        let path = directory.appendingPathComponent("written.idx").path
        try IDXArray(shape: [3, 2, 2], values: Array(0..<12)).write(to: path)
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), idxImages)
        let large = IDXArray(shape: [300, 1], values: [UInt8](repeating: 7, count: 300))
        try large.write(to: path)
        XCTAssertEqual(try IDXArray(contentsOf: path).shape, [300, 1])
        XCTAssertThrowsError(try IDXArray(shape: [2], values: [1, 2]).write(to: directory.appendingPathComponent("no/such/folder.idx").path)) {
            XCTAssertTrue("\($0)".contains("folder.idx: cannot write the IDX file"), "\($0)")
        }
    }

    func testCorruptFilesGiveClearErrors() {
        let truncated = write(Array(idxImages.dropLast(3)), to: "truncated.idx")
        XCTAssertThrowsError(try IDXArray(contentsOf: truncated)) { error in
            XCTAssertEqual("\(error)", "\(truncated): IDX header promises 12 values for shape [3, 2, 2], the file holds 9")
        }
        let garbage = write([1, 2, 3, 4, 5], to: "garbage.idx")
        XCTAssertThrowsError(try IDXArray(contentsOf: garbage)) { XCTAssertTrue("\($0)".contains("not an IDX file")) }
        let badGzip = write([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7], to: "bad.gz")
        XCTAssertThrowsError(try readPossiblyCompressedFile(badGzip)) { XCTAssertTrue("\($0)".contains("bad.gz")) }
        XCTAssertThrowsError(try IDXArray(contentsOf: directory.appendingPathComponent("missing").path)) {
            XCTAssertTrue("\($0)".hasSuffix("missing: no such file"))
        }
        XCTAssertThrowsError(try Datasets.fashionMNIST(directory: directory.path)) {
            XCTAssertTrue("\($0)".contains("apt-get install dataset-fashion-mnist"), "\($0)")
        }
    }

    func testHostileIDXFilesAreRejectedBeforeTheyAreRead() throws {
        // Dimensions whose product overflows, and a product past the limit.
        let overflow = write([0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], to: "overflow.idx")
        XCTAssertThrowsError(try IDXArray(contentsOf: overflow)) { XCTAssertTrue("\($0)".contains("declares more than the"), "\($0)") }
        // A small gzip file that expands far past what its header promises stops at the promise.
        let bomb = write([0, 0, 8, 1, 0, 0, 0, 4] + [UInt8](repeating: 7, count: 50_000_000), to: "bomb.idx.gz", gzip: true)
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: bomb)[.size] as! Int, 1_000_000)
        XCTAssertThrowsError(try IDXArray(contentsOf: bomb)) {
            XCTAssertEqual("\($0)", "\(bomb): the file holds more than the 4 values its IDX header promises for shape [4]")
        }
        XCTAssertThrowsError(try readPossiblyCompressedFile(bomb, limit: 1000)) {
            XCTAssertEqual("\($0)", "\(bomb): holds more than the 1000 bytes allowed once decompressed")
        }
        let noRank = write([0, 0, 8, 0], to: "norank.idx")
        XCTAssertThrowsError(try IDXArray(contentsOf: noRank)) { XCTAssertTrue("\($0)".contains("truncated IDX header")) }
    }

    func testMNISTStyleFoldersAreCheckedBeforeTraining() throws {
        func folder(_ name: String, trainImages: [UInt8], trainLabels: [UInt8], testImages: [UInt8], testLabels: [UInt8]) -> String {
            let path = directory.appendingPathComponent(name).path
            try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for (file, bytes) in [("train-images-idx3-ubyte", trainImages), ("train-labels-idx1-ubyte", trainLabels),
                                  ("t10k-images-idx3-ubyte", testImages), ("t10k-labels-idx1-ubyte", testLabels)] {
                XCTAssertTrue(FileManager.default.createFile(atPath: path + "/" + file, contents: Data(bytes)), file)
            }
            return path
        }
        let labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]
        let smaller: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2] + Array(0..<6)
        let mismatched = folder("mismatch", trainImages: idxImages, trainLabels: labels, testImages: smaller, testLabels: labels)
        XCTAssertThrowsError(try Datasets.mnist(directory: mismatched)) {
            XCTAssertEqual("\($0)", "mnist: training images are [1, 2, 2] but test images are [1, 1, 2]; they must match")
        }
        let badLabel = folder("label", trainImages: idxImages, trainLabels: [0, 0, 8, 1, 0, 0, 0, 3, 1, 12, 3],
                              testImages: idxImages, testLabels: labels)
        XCTAssertThrowsError(try Datasets.mnist(directory: badLabel)) {
            XCTAssertEqual("\($0)", "mnist: label 12 of example 1 in train-labels-idx1-ubyte is not one of the 10 classes")
        }
        let empty = folder("empty", trainImages: [0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2], trainLabels: [0, 0, 8, 1, 0, 0, 0, 0],
                           testImages: idxImages, testLabels: labels)
        XCTAssertThrowsError(try Datasets.mnist(directory: empty)) {
            XCTAssertEqual("\($0)", "mnist: train-images-idx3-ubyte holds no images (shape [0, 2, 2])")
        }
        XCTAssertNoThrow(try Datasets.mnist(directory: folder("good", trainImages: idxImages, trainLabels: labels,
                                                               testImages: idxImages, testLabels: labels)))
    }

    func testCSV() throws {
        let table = try NumericCSV(text: "a,b\n1,2.5\n-3, 4\n", hasHeader: true)
        XCTAssertEqual(table.header, ["a", "b"])
        XCTAssertEqual(table.rows, [[1, 2.5], [-3, 4]])
        XCTAssertThrowsError(try NumericCSV(text: "1,2\n3,x\n")) {
            XCTAssertEqual("\($0)", "CSV: line 2, column 2: \"x\" is not a number")
        }
        XCTAssertThrowsError(try NumericCSV(text: "1,2\n3\n")) { XCTAssertTrue("\($0)".contains("line 2 has 1 columns")) }
    }

    func testEmbeddedDigits() throws {
        let (train, test) = try Datasets.digits()
        XCTAssertEqual(train.count, 1438)
        XCTAssertEqual(test.count, 359)
        XCTAssertEqual(train.inputs.shape, [1438, 64])
        XCTAssertEqual(train.classCount, 10)
        XCTAssertEqual(try Datasets.digits().test.labels, test.labels, "the split is fixed")
        let (first, second) = try Datasets.digits(sequentialSplit: true)
        XCTAssertEqual(first.count, 898)
        XCTAssertEqual(second.count, 899)
        XCTAssertEqual(first.labels.scalars.prefix(3), [0, 1, 2])
        XCTAssertEqual(first.inputs[scalarAt: 0, 2], 5 / 16)
    }

    func testLoaderVisitsEverySampleOncePerEpochAndShufflesReproducibly() {
        let dataset = TensorDataset(inputs: Tensor.arange(0, 10).reshaped([10, 1]), labels: IndexTensor(Array(0..<10)))
        let loader = DataLoader(dataset, batchSize: 4, shuffle: true, seed: 7)
        XCTAssertEqual(loader.batchCount, 3)
        var epochs: [[Int]] = []
        for _ in 0..<2 {
            var seen: [Int] = []
            for batch in loader {
                XCTAssertEqual(batch.inputs.scalars.map { Int($0) }, batch.labels.scalars)
                seen += batch.labels.scalars
            }
            XCTAssertEqual(seen.sorted(), Array(0..<10))
            epochs.append(seen)
        }
        XCTAssertNotEqual(epochs[0], epochs[1], "each epoch has its own order")
        let again = DataLoader(dataset, batchSize: 4, shuffle: true, seed: 7)
        XCTAssertEqual(again.flatMap(\.labels.scalars), epochs[0])
        let dropping = DataLoader(dataset, batchSize: 4, dropLast: true, transform: Lambda { $0 * 2 })
        XCTAssertEqual(dropping.map(\.labels.count), [4, 4])
        XCTAssertEqual(dropping.first { _ in true }!.inputs.scalars, [0, 2, 4, 6])
    }

    func testTrainValidationSplit() {
        let dataset = TensorDataset(inputs: Tensor.arange(0, 20).reshaped([20, 1]), labels: IndexTensor(Array(0..<20)))
        let (train, validation) = dataset.split(validationFraction: 0.25, seed: 1)
        XCTAssertEqual(train.count, 15)
        XCTAssertEqual(validation.count, 5)
        XCTAssertEqual(Set(train.labels.scalars + validation.labels.scalars), Set(0..<20))
        XCTAssertEqual(dataset.split(validationFraction: 0.25, seed: 1).validation.labels, validation.labels)
    }
}

final class CSVTableTests: XCTestCase {
    func testQuotedFieldsCRLFAndNamedColumns() throws {
        let table = try CSVTable(text: "\"Month\",\"Passengers\"\r\n\"1949-01\",112\r\n\"1949, \"\"Feb\"\"\",118", source: "t.csv")
        XCTAssertEqual(table.header, ["Month", "Passengers"])
        XCTAssertEqual(table.strings(inColumn: 0), ["1949-01", "1949, \"Feb\""])
        XCTAssertEqual(try table.numbers(inColumn: try table.columnIndex(named: "Passengers")), [112, 118])
        XCTAssertThrowsError(try table.columnIndex(named: "passengers")) { XCTAssertTrue("\($0)".contains("\"Month\", \"Passengers\"")) }
    }

    func testMissingAndNonNumericValuesNameLineAndColumn() throws {
        let table = try CSVTable(text: "m,v\na,1\nb,\nc,x1\n", source: "t.csv")
        XCTAssertThrowsError(try table.numbers(inColumn: 1)) { error in
            XCTAssertEqual("\(error)", "t.csv: line 3, column \"v\": the value is missing")
        }
        let other = try CSVTable(text: "m,v\na,1\nc,x1\n", source: "t.csv")
        XCTAssertThrowsError(try other.numbers(inColumn: 1)) { error in
            XCTAssertEqual("\(error)", "t.csv: line 3, column \"v\": \"x1\" is not a number")
        }
        XCTAssertThrowsError(try CSVTable(text: "m,v\na,1,2\n", source: "t.csv")) { XCTAssertTrue("\($0)".contains("line 2 has 3 fields")) }
    }

    func testEmbeddedAirlinePassengers() throws {
        let table = try Datasets.airlinePassengers()
        let values = try table.numbers(inColumn: try table.columnIndex(named: "Passengers"))
        XCTAssertEqual(values.count, 144)
        XCTAssertEqual(values.reduce(0, +), 40_363)
        XCTAssertEqual(Array(values.prefix(3)), [112, 118, 132])
        XCTAssertEqual(table.strings(inColumn: 0).last, "1960-12")
    }
}
