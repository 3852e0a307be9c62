import Foundation
import XCTest
import Synapse
@testable import SynapseVision

final class ImageTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-vision-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!.path
    }

    private func temporary(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Fashion-MNIST test image `index` as bytes, when the dataset is installed.
    private func fashionTestImage(_ index: Int) throws -> [UInt8] {
        let path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("Fashion-MNIST is not installed") }
        let values: [UInt8] = try IDXArray(contentsOf: path).values
        return Array(values[(index * 784)..<((index + 1) * 784)])
    }

    func testPNGAndPGMRoundTripsAreExact() throws {
        var generator = RandomGenerator(seed: 1)
        for (channels, name) in [(1, "gray.png"), (3, "color.png"), (1, "gray.pgm")] {
            let pixels = (0..<(13 * 7 * channels)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let image = Image(width: 13, height: 7, channels: channels, pixels: pixels)
            try image.write(to: temporary(name))
            XCTAssertEqual(try Image(contentsOf: temporary(name)), image, name)
        }
        XCTAssertThrowsError(try Image(width: 2, height: 2, channels: 3).write(to: temporary("color.pgm")))
    }

    func testCommittedFixturesDecodeToTheDatasetImages() throws {
        let boot = try Image(contentsOf: fixture("ankle-boot.png"))
        XCTAssertEqual([boot.width, boot.height, boot.channels], [28, 28, 1])
        let pullover = try Image(contentsOf: fixture("pullover.pgm"))
        XCTAssertEqual([pullover.width, pullover.height, pullover.channels], [28, 28, 1])
        let trouser = try Image(contentsOf: fixture("trouser.png"))
        XCTAssertEqual([trouser.width, trouser.height, trouser.channels], [84, 84, 3])
        let gray = try Image(contentsOf: fixture("trouser.png"), channels: 1)
        XCTAssertEqual(gray.channels, 1)
        XCTAssertGreaterThan(gray.borderMean, 200, "a light background")

        // Read outside the assertions, so that a missing dataset skips the test instead of
        // failing inside XCTAssertEqual.
        let (bootImage, pulloverImage) = (try fashionTestImage(0), try fashionTestImage(1))
        XCTAssertEqual(boot.pixels, bootImage)
        XCTAssertEqual(pullover.pixels, pulloverImage)
        // Shrinking the 3× enlarged, inverted, tinted trouser back gives the original closely.
        let restored = gray.inverted().resized(width: 28, height: 28).pixels
        let original = try fashionTestImage(2)
        let meanError = zip(restored, original).map { abs(Double($0) - Double($1)) }.reduce(0, +) / 784
        XCTAssertLessThan(meanError, 25, "mean absolute difference \(meanError)")
    }

    func testBadFilesGiveErrorsNamingTheFile() throws {
        let truncatedPath = temporary("truncated.png")
        let whole = try Data(contentsOf: URL(fileURLWithPath: fixture("trouser.png")))
        try whole.prefix(60).write(to: URL(fileURLWithPath: truncatedPath))
        let badPGM = temporary("bad.pgm")
        try Data("P5\n28 x\n255\n".utf8).write(to: URL(fileURLWithPath: badPGM))
        let shortPGM = temporary("short.pgm")
        try Data("P5\n4 4\n255\nabc".utf8).write(to: URL(fileURLWithPath: shortPGM))
        let cases = [(fixture("not-an-image.png"), "not a PNG or PGM image"), (temporary("missing.png"), "no such file"),
                     (directory.path, "is a directory"), (truncatedPath, "PNG"), (badPGM, "malformed PGM"),
                     (shortPGM, "PGM of 4×4 with maximum value 255 needs 16 bytes of pixels, the file holds 3")]
        for (path, expected) in cases {
            XCTAssertThrowsError(try Image(contentsOf: path)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix(path + ":"), message)
                XCTAssertTrue(message.contains(expected), message)
            }
        }
    }

    func testHeadersThatLieAboutTheirSizeAreRejectedBeforeAllocating() throws {
        /// A PNG chunk: length, type, data and the CRC-32 of type and data.
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in body {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            crc = ~crc
            func bigEndian(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
            return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
        }
        func ihdr(_ width: UInt32, _ height: UInt32) -> [UInt8] {
            [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: width >> $0) } + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: height >> $0) }
                + [8, 0, 0, 0, 0]
        }
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let cases: [([UInt8], String)] = [
            (signature + chunk("IHDR", ihdr(8000, 8000)) + chunk("IDAT", [120, 156, 1, 2, 3]) + chunk("IEND", []),
             "PNG header claims 8000×8000 pixels, more than its"),
            (signature + chunk("IHDR", ihdr(16384, 16384)) + chunk("IDAT", [120, 156]) + chunk("IEND", []),
             "PNG of 16384×16384 pixels is empty or larger than the 67108864 allowed"),
            (Array("P5\n2 2 28\n".utf8) + [0, 100, 200, 28], "PGM sample 100 at pixel 1 exceeds the maximum value 28"),
            (Array("P5\n1234567890 1\n255\n".utf8), "the width has more than 9 digits"),
            (Array("P5\n2 2 255".utf8) + [48, 1, 2, 3], "no whitespace after the maximum value"),
            (Array("P2\n100 100\n255\n1 2 3\n".utf8), "truncated PGM (100×100 samples cannot fit in"),
            (Array("P2\n2 1\n255\n1 2\n".utf8), ""),
        ]
        for (index, (bytes, expected)) in cases.enumerated() {
            let path = temporary("hostile\(index)")
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            if expected.isEmpty {
                XCTAssertEqual(try Image(contentsOf: path).pixels, [1, 2])
                continue
            }
            XCTAssertThrowsError(try Image(contentsOf: path)) { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testColorConversionAndTensorRoundTrip() {
        let color = Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 20, 30])
        XCTAssertEqual(color.converted(toChannels: 1).pixels, [76, 18])  // 0.299·255; 0.299·10 + 0.587·20 + 0.114·30
        XCTAssertEqual(color.converted(toChannels: 1).converted(toChannels: 3).pixels, [76, 76, 76, 18, 18, 18])
        let tensor = color.tensor()
        XCTAssertEqual(tensor.shape, [3, 1, 2])
        XCTAssertEqual(tensor.scalars, [255, 10, 0, 20, 0, 30].map { Float($0) / 255 })
        XCTAssertEqual(Image(tensor), color)
    }

    func testResizeKeepsConstantsAndAveragesWhenShrinking() {
        let flat = Image(width: 30, height: 20, channels: 3, value: 77)
        XCTAssertEqual(flat.resized(width: 7, height: 11), Image(width: 7, height: 11, channels: 3, value: 77))
        // A 1-pixel checkerboard shrunk 4× becomes mid-gray rather than aliasing to black or white.
        let checker = Image(width: 16, height: 16, channels: 1, pixels: (0..<256).map { ($0 / 16 + $0 % 16) % 2 == 0 ? 0 : 255 })
        let small = checker.resized(width: 4, height: 4)
        XCTAssertTrue(small.pixels.allSatisfy { (112...143).contains($0) }, "\(small.pixels)")
        // Enlarging interpolates between neighbours.
        let ramp = Image(width: 2, height: 1, channels: 1, pixels: [0, 200]).resized(width: 4, height: 1)
        XCTAssertEqual(ramp.pixels, [0, 50, 150, 200])
    }

    func testGridPlacesTilesAndDrawsCaptions() throws {
        let white = Image(width: 3, height: 2, channels: 1, value: 255)
        let tiles = (0..<5).map { _ in GridTile(image: white, captions: [("AB", .green), ("C", .red)]) }
        let grid = Image.grid(tiles, columns: 3, scale: 2)
        // Cells: width max(3·2, 11) + 8 = 19, height 2·2 + 2·10 + 8 = 32; 3 columns, 2 rows.
        XCTAssertEqual([grid.width, grid.height, grid.channels], [57, 64, 3])
        func pixel(_ x: Int, _ y: Int) -> [UInt8] {
            let start = (y * grid.width + x) * 3
            return Array(grid.pixels[start..<(start + 3)])
        }
        XCTAssertEqual(pixel(4 + 2, 4), [255, 255, 255], "first image, centred in its cell")
        XCTAssertEqual(pixel(0, 0), [24, 24, 24], "background")
        // "A" starts with .###. so its top row has ink at x = 1…3 of the glyph.
        let captionTop = 4 + 4 + 3
        XCTAssertEqual(pixel(4 + 1, captionTop), [90, 220, 90])
        XCTAssertEqual(pixel(4, captionTop), [24, 24, 24])
        XCTAssertEqual(pixel(19 + 4 + 1, captionTop + 10), [255, 90, 80], "the second tile's red C")
        try grid.write(to: temporary("grid.png"))
        XCTAssertEqual(try Image(contentsOf: temporary("grid.png")), grid)
    }
}

final class LinePlotTests: XCTestCase {
    func testSeriesAreDrawnInTheirColors() {
        let red = Color(red: 220, green: 10, blue: 10), blue = Color(red: 10, green: 10, blue: 220)
        let plot = LinePlot(title: "t", series: [PlotSeries(name: "a", color: red, values: [1, 3, 2, 5]),
                                                 PlotSeries(name: "b", color: blue, values: [4, 4], start: 2)],
                            xTicks: [(0, "0"), (3, "3")])
        let image = plot.render(width: 300, height: 200)
        XCTAssertEqual(image.width, 300)
        XCTAssertEqual(image.channels, 3)
        func count(_ color: Color) -> Int {
            stride(from: 0, to: image.pixels.count, by: 3).filter {
                image.pixels[$0] == color.red && image.pixels[$0 + 1] == color.green && image.pixels[$0 + 2] == color.blue
            }.count
        }
        XCTAssertGreaterThan(count(red), 200)
        XCTAssertGreaterThan(count(blue), 100)
        XCTAssertEqual(LinePlot.niceTicks(low: 1, high: 5), [1, 2, 3, 4, 5])
        XCTAssertEqual(LinePlot.niceTicks(low: 104, high: 622), [0, 200, 400, 600, 800])
    }
}
