import Foundation
import XCTest
import Synapse

/// Safetensors files crafted to break a reader: each must be rejected with a message naming
/// the fault, before anything is allocated from it, and never by a trap.
final class HostileSafeTensorsTests: TemporaryDirectoryTestCase {
    /// A file with this JSON header and `dataBytes` zero bytes of data.
    private func file(_ header: String, dataBytes: Int) -> String {
        let path = directory.appendingPathComponent("f\(UUID().uuidString).safetensors").path
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { [UInt8]($0) }
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: dataBytes)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    private func assertRejected(_ header: String, dataBytes: Int, _ expected: String, line: UInt = #line) {
        let path = file(header, dataBytes: dataBytes)
        XCTAssertThrowsError(try SafeTensors.read(path), line: line) { error in
            XCTAssertTrue(error is CheckpointError, "\(error)", line: line)
            XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)", line: line)
            XCTAssertTrue("\(error)".contains(expected), "\(error)", line: line)
        }
    }

    func testShapesAndRangesThatOverflowAreErrors() {
        assertRejected(#"{"w":{"dtype":"F32","shape":[2147483648,2147483648],"data_offsets":[0,4]}}"#, dataBytes: 4,
                       "does not fill its byte range 0..<4")
        assertRejected(#"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, dataBytes: 4,
                       "does not fill its byte range")
        assertRejected(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,9223372036854775807]}}"#, dataBytes: 4,
                       "outside the 4 data bytes")
        assertRejected(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775800,9223372036854775804]}}"#, dataBytes: 4,
                       "outside the 4 data bytes")
        assertRejected(#"{"w":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}"#, dataBytes: 16, "negative dimension")
        assertRejected(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, dataBytes: 4, "outside")
    }

    func testDuplicateNamesOverlapsAndHolesAreErrors() {
        let entry = #"{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        assertRejected(#"{"w":\#(entry),"w":\#(entry)}"#, dataBytes: 4, "names \"w\" more than once")
        assertRejected(#"{"a":\#(entry),"\u0061":\#(entry)}"#, dataBytes: 4, "names \"a\" more than once")
        assertRejected(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                       dataBytes: 12, "overlaps another tensor's bytes at 4")
        assertRejected(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                       dataBytes: 12, "data bytes 4..<8 belong to no tensor")
        assertRejected(#"{"a":\#(entry)}"#, dataBytes: 12, "data bytes 4..<12 belong to no tensor")
    }

    func testMalformedEntriesAndMetadataAreErrors() {
        assertRejected(#"{"__metadata__":{"classes":10},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4,
                       "__metadata__ must map names to strings")
        assertRejected(#"{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, dataBytes: 8, "unsupported dtype C64")
        assertRejected(#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, dataBytes: 4, "malformed header entry")
        assertRejected(#"[1,2,3]"#, dataBytes: 0, "not a valid JSON object")
    }

    func testNestedValuesAndEscapedQuotesDoNotConfuseTheDuplicateCheck() throws {
        let header = #"{"__metadata__":{"note":"a \"w\": {x}, y","w":"z"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let read = try SafeTensors.read(file(header, dataBytes: 4))
        XCTAssertEqual(read.metadata["note"], #"a "w": {x}, y"#)
        XCTAssertEqual(read.tensors["w"]?.scalars, [0])
    }

    func testTemporaryFilesOfDeadProcessesAreRemovedOnTheNextSave() throws {
        let target = directory.appendingPathComponent("model.safetensors").path
        // No process has this id (above Linux's pid_max of 2^22).
        let stale = target + ".tmp-99999999", unrelated = directory.appendingPathComponent("other.tmp-99999999").path
        for path in [stale, unrelated] { XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))) }
        try SafeTensors.write([("w", Tensor([1]))], to: target)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        XCTAssertTrue(FileManager.default.fileExists(atPath: unrelated), "only this file's temporaries are touched")
    }
}
