import XCTest
@testable import SynapseTrain

final class ProgressBarTests: XCTestCase {
    /// A redraw wider than the terminal would wrap and stack bars: the line always fits.
    func testTheLineFitsTheTerminal() {
        let line = { (bar: String) in "epoch 1/3 \(bar) 5/10  loss 0.1234" }  // 28 characters without the bar
        XCTAssertEqual(ProgressBar.fitted(line, done: 5, of: 10, columns: 120),
                       "epoch 1/3 " + String(repeating: "█", count: 12) + String(repeating: "·", count: 12) + " 5/10  loss 0.1234")
        let narrow = ProgressBar.fitted(line, done: 5, of: 10, columns: 45)
        XCTAssertEqual(narrow, "epoch 1/3 " + String(repeating: "█", count: 8) + String(repeating: "·", count: 9) + " 5/10  loss 0.1234")
        XCTAssertEqual(narrow.count, 45)
        let tiny = ProgressBar.fitted(line, done: 10, of: 10, columns: 20)
        XCTAssertEqual(tiny, "epoch 1/3  5/10  los")
        XCTAssertEqual(ProgressBar.fitted(line, done: 0, of: 0, columns: 0), "")
    }
}
