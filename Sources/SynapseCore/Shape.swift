// Shape arithmetic and the validation behind every op's error messages.

/// A bad shape, axis or index passed to a tensor op. Its description names the op and the
/// shapes involved, e.g. `matmul: shapes [2, 3] and [4, 5] are incompatible (3 ≠ 4)`.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Misuse of a tensor op is a programming error, like an out-of-range array index: it stops
/// the program with `fatalError`, whose message (unlike `precondition`'s) is printed in
/// release builds too. Validation that tests check message by message is written as
/// throwing functions and run through `check`.
@inline(__always)
func check<T>(_ validation: () throws(ShapeError) -> T) -> T {
    do {
        return try validation()
    } catch {
        fatalError(error.description)
    }
}

/// Stops with `message` when `condition` is false; see `check`.
@inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #file, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}

enum Shape {
    static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ",") + "]"
    }

    static func validate(_ shape: [Int], op: String) {
        require(shape.allSatisfy { $0 >= 0 }, "\(op): shape \(describe(shape)) has a negative dimension")
    }

    /// Row-major element strides of a contiguous tensor.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// Resolves a possibly negative axis against `rank`.
    static func normalize(axis: Int, rank: Int, op: String) throws(ShapeError) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < rank else {
            throw ShapeError("\(op): axis \(axis) is out of range for a tensor of rank \(rank)")
        }
        return resolved
    }

    /// Resolves a list of axes, rejecting duplicates, and returns them sorted.
    static func normalize(axes: [Int], rank: Int, op: String) throws(ShapeError) -> [Int] {
        var resolved: [Int] = []
        for axis in axes {
            let a = try normalize(axis: axis, rank: rank, op: op)
            guard !resolved.contains(a) else { throw ShapeError("\(op): axis \(axis) is repeated in \(axes)") }
            resolved.append(a)
        }
        return resolved.sorted()
    }

    /// The NumPy broadcast of two shapes: aligned from the right, each pair equal or one of them 1.
    static func broadcast(_ a: [Int], _ b: [Int], op: String) throws(ShapeError) -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw ShapeError("\(op): shapes \(describe(a)) and \(describe(b)) cannot be broadcast together (\(da) ≠ \(db) at dimension \(i))")
            }
            result[i] = da == 1 ? db : da
        }
        return result
    }

    /// Element strides for reading a contiguous tensor of `shape` as if it had `target` shape
    /// (0 along broadcast dimensions). `shape` must broadcast to `target`.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return target.indices.map { axis in
            axis < offset || shape[axis - offset] == 1 ? 0 : own[axis - offset]
        }
    }

    /// The flat offset of a full index, with negative indices counting from the end.
    static func offset(of indices: [Int], in shape: [Int], op: String) -> Int {
        require(indices.count == shape.count,
                     "\(op): \(indices.count) indices given for a tensor of rank \(shape.count)")
        var offset = 0
        for (axis, (index, size)) in zip(indices, shape).enumerated() {
            let resolved = index < 0 ? index + size : index
            require(resolved >= 0 && resolved < size,
                         "\(op): index \(index) is out of range for dimension \(axis) of size \(size)")
            offset = offset * size + resolved
        }
        return offset
    }

    /// The [outer, size, inner] split of `shape` around `axis`.
    static func split(_ shape: [Int], at axis: Int) -> (outer: Int, size: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }
}
