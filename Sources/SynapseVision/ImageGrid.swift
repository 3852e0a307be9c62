// Contact sheets: many small images with captions in one picture.

import SynapseCore

/// An RGB colour for captions.
public struct Color: Sendable, Equatable {
    public var red: UInt8, green: UInt8, blue: UInt8
    public init(red: UInt8, green: UInt8, blue: UInt8) { (self.red, self.green, self.blue) = (red, green, blue) }

    public static let white = Color(red: 255, green: 255, blue: 255)
    public static let green = Color(red: 90, green: 220, blue: 90)
    public static let red = Color(red: 255, green: 90, blue: 80)
}

/// One cell of an image grid: an image and caption lines under it.
public struct GridTile: Sendable {
    public var image: Image
    public var captions: [(text: String, color: Color)]

    public init(image: Image, captions: [(text: String, color: Color)] = []) {
        self.image = image
        self.captions = captions
    }
}

extension Image {
    /// Lays `tiles` out `columns` to a row on a dark background, each image enlarged `scale`
    /// times (nearest neighbour, so pixels stay sharp) with its captions below in a 5×7 font.
    /// Cells share the size of the largest tile. The result is RGB.
    public static func grid(_ tiles: [GridTile], columns: Int, scale: Int = 2) -> Image {
        require(!tiles.isEmpty && columns > 0 && scale > 0, "Image.grid: needs tiles, columns > 0 and scale > 0")
        let margin = 4, lineHeight = BitmapFont.glyphHeight + 3
        let captionWidth = tiles.flatMap { $0.captions.map { BitmapFont.width(of: $0.text) } }.max() ?? 0
        let lines = tiles.map(\.captions.count).max() ?? 0
        let cellWidth = max(tiles.map { $0.image.width * scale }.max()!, captionWidth) + 2 * margin
        let cellHeight = tiles.map { $0.image.height * scale }.max()! + lines * lineHeight + 2 * margin
        let rows = (tiles.count + columns - 1) / columns
        let gridColumns = min(columns, tiles.count)
        var canvas = Image(width: gridColumns * cellWidth, height: rows * cellHeight, channels: 3, value: 24)
        for (index, tile) in tiles.enumerated() {
            let (left, top) = ((index % columns) * cellWidth + margin, (index / columns) * cellHeight + margin)
            let image = tile.image.converted(toChannels: 3)
            let imageLeft = left + (cellWidth - 2 * margin - image.width * scale) / 2
            for y in 0..<(image.height * scale) {
                for x in 0..<(image.width * scale) {
                    let source = ((y / scale) * image.width + x / scale) * 3
                    let target = ((top + y) * canvas.width + imageLeft + x) * 3
                    canvas.pixels[target..<(target + 3)] = image.pixels[source..<(source + 3)]
                }
            }
            for (line, caption) in tile.captions.enumerated() {
                canvas.draw(caption.text, left: left, top: top + image.height * scale + 3 + line * lineHeight, color: caption.color)
            }
        }
        return canvas
    }

    /// Draws `text` in the 5×7 font with its top-left corner at (left, top), clipped to the image.
    public mutating func draw(_ text: String, left: Int, top: Int, color: Color) {
        let ink: [UInt8]
        if channels == 3 {
            ink = [color.red, color.green, color.blue]
        } else {
            ink = Image(width: 1, height: 1, channels: 3, pixels: [color.red, color.green, color.blue]).converted(toChannels: 1).pixels
        }
        for (position, character) in text.enumerated() {
            for (row, bits) in BitmapFont.rows(of: character).enumerated() {
                for column in 0..<BitmapFont.glyphWidth where bits >> (BitmapFont.glyphWidth - 1 - column) & 1 == 1 {
                    let (x, y) = (left + position * BitmapFont.advance + column, top + row)
                    guard x >= 0 && x < width && y >= 0 && y < height else { continue }
                    for channel in 0..<channels { pixels[(y * width + x) * channels + channel] = ink[channel] }
                }
            }
        }
    }
}
