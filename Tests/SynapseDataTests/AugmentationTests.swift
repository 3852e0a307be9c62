import XCTest
import Synapse

final class AugmentationTests: XCTestCase {
    /// Two 1-channel 5×5 images and one 2-channel one, with all-distinct positive pixels.
    private func images(count: Int = 3, channels: Int = 1, side: Int = 5) -> Tensor {
        Tensor((0..<(count * channels * side * side)).map { Float($0 + 1) }, shape: [count, channels, side, side])
    }

    /// Image `image` of `batch` shifted so that output (y, x) = input (y + dy, x + dx), zero outside.
    private func shifted(_ batch: Tensor, image: Int, dy: Int, dx: Int) -> [Float] {
        let (channels, height, width) = (batch.shape[1], batch.shape[2], batch.shape[3])
        let values = batch.scalars
        var result: [Float] = []
        for channel in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let (sy, sx) = (y + dy, x + dx)
                    let inside = sy >= 0 && sy < height && sx >= 0 && sx < width
                    result.append(inside ? values[((image * channels + channel) * height + sy) * width + sx] : 0)
                }
            }
        }
        return result
    }

    private func image(_ batch: Tensor, _ index: Int) -> [Float] {
        let size = batch.count / batch.shape[0]
        return Array(batch.scalars[(index * size)..<((index + 1) * size)])
    }

    /// The shift (within ±limit) that turns input image `index` into the output one, if any.
    private func shift(from input: Tensor, to output: Tensor, image index: Int, limit: Int) -> (Int, Int)? {
        for dy in -limit...limit {
            for dx in -limit...limit where shifted(input, image: index, dy: dy, dx: dx) == image(output, index) {
                return (dy, dx)
            }
        }
        return nil
    }

    func testHorizontalFlipMirrorsRowsAndIsItsOwnInverse() {
        let batch = images(count: 2, channels: 2, side: 3)
        let flipped = RandomHorizontalFlip(probability: 1)(batch)
        XCTAssertEqual(Array(flipped.scalars.prefix(6)), [3, 2, 1, 6, 5, 4])
        XCTAssertEqual(RandomHorizontalFlip(probability: 1)(flipped).scalars, batch.scalars)
        XCTAssertEqual(RandomHorizontalFlip(probability: 0)(batch).scalars, batch.scalars)
        // With p = 0.5 over many images, some but not all flip.
        let many = images(count: 200, side: 3)
        let result = RandomHorizontalFlip()(many, seed: 3)
        let flippedCount = (0..<200).filter { image(result, $0) != image(many, $0) }.count
        XCTAssertTrue((70...130).contains(flippedCount), "\(flippedCount) of 200 flipped")
    }

    func testRandomCropIsAShiftWithZeroFillWithinThePadding() {
        let batch = images(count: 40, channels: 2, side: 5)
        let cropped = RandomCrop(5, padding: 2)(batch, seed: 7)
        XCTAssertEqual(cropped.shape, [40, 2, 5, 5])
        var shifts = Set<[Int]>()
        for index in 0..<40 {
            guard let (dy, dx) = shift(from: batch, to: cropped, image: index, limit: 2) else {
                return XCTFail("image \(index) is not a shift of its input by at most 2 pixels")
            }
            shifts.insert([dy, dx])
        }
        XCTAssertGreaterThan(shifts.count, 8, "40 crops should land on many of the 25 possible shifts")
        XCTAssertEqual(RandomCrop(5)(batch).scalars, batch.scalars, "no padding and full size is the identity")
        let smaller = RandomCrop(height: 3, width: 4)(batch, seed: 1)
        XCTAssertEqual(smaller.shape, [40, 2, 3, 4])
    }

    func testRandomAffineShiftIsExactAndRotationByNinetyDegreesRotates() {
        let batch = images(count: 30, side: 5)
        let moved = RandomAffine(translate: (0.4, 0.4))(batch, seed: 11)
        for index in 0..<30 {
            XCTAssertNotNil(shift(from: batch, to: moved, image: index, limit: 2), "image \(index)")
        }
        let single = images(count: 1, side: 3)  // rows 1 2 3 / 4 5 6 / 7 8 9
        let turned = AffineWarp.apply([AffineWarp(degrees: 90)], to: single)
        XCTAssertEqual(turned.scalars.map { $0.rounded() }, [3, 6, 9, 2, 5, 8, 1, 4, 7], "a quarter turn counter-clockwise")
        let right = AffineWarp.apply([AffineWarp(shift: (1, 0))], to: single)
        XCTAssertEqual(right.scalars, [0, 1, 2, 0, 4, 5, 0, 7, 8])
        let zoomed = AffineWarp.apply([AffineWarp(scale: 2)], to: single)
        XCTAssertEqual(zoomed.scalars[4], 5, accuracy: 1e-5, "the centre stays put when zooming")
        XCTAssertEqual(zoomed.scalars[0], (1 + 2 + 4 + 5) / 4, accuracy: 1e-5, "zooming ×2 samples between pixels")
    }

    func testTransformsAreReproducibleThroughTheDataLoader() {
        let inputs = images(count: 16, side: 5)
        let dataset = TensorDataset(inputs: inputs, labels: IndexTensor(Array(0..<16)))
        let augment = Compose {
            RandomHorizontalFlip()
            RandomCrop(5, padding: 1)
            RandomAffine()
        }
        func epochs(seed: UInt64) -> [[Float]] {
            let loader = DataLoader(dataset, batchSize: 4, shuffle: true, seed: seed, transform: augment)
            return (0..<2).flatMap { _ in loader.map(\.inputs.scalars) }
        }
        let first = epochs(seed: 5), second = epochs(seed: 5)
        XCTAssertEqual(first, second, "same seed, same augmented batches")
        XCTAssertNotEqual(first, epochs(seed: 6))
        XCTAssertNotEqual(Array(first[0..<4]), Array(first[4..<8]), "epochs draw different augmentations")
    }

    func testNormalizeUsesOneMeanAndDeviationPerChannel() {
        let batch = Tensor([1, 3, 10, 30, 5, 7, 50, 70], shape: [2, 2, 1, 2])
        let normalized = Normalize(mean: [2, 20], standardDeviation: [1, 10])(batch)
        XCTAssertEqual(normalized.scalars, [-1, 1, -1, 1, 3, 5, 3, 5])
        let statistics = TensorDataset(inputs: batch, labels: IndexTensor([0, 1])).channelStatistics()
        XCTAssertEqual(statistics.mean.shape, [1, 2, 1, 1])
        XCTAssertEqual(statistics.mean.scalars, [4, 40])
        XCTAssertEqual(statistics.standardDeviation.scalars[0], (5 as Float).squareRoot(), accuracy: 1e-5)
    }
}
