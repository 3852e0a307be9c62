// Elementwise kernels of two inputs, with NumPy broadcasting expressed as element strides.

/// The elementwise functions of two arguments that the kernels provide.
///
/// The `…Backward` cases fuse a gradient with the saved forward value in one pass:
/// `a` is the incoming gradient and `b` the saved input (or output, where noted).
public enum BinaryOperation: Sendable, Equatable {
    case add, subtract, multiply, divide, power, maximum, minimum
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    /// grad · (x > 0), with b = x.
    case reluBackward
    /// grad · (x > 0 ? 1 : slope), with b = x.
    case leakyReluBackward(slope: Float)
    /// grad · y · (1 − y), with b = y = sigmoid(x).
    case sigmoidBackward
    /// grad · (1 − y²), with b = y = tanh(x).
    case tanhBackward
    /// grad · gelu′(x), with b = x.
    case geluBackward
    /// grad · (lower ≤ x ≤ upper), with b = x.
    case clampBackward(lower: Float, upper: Float)
    /// grad · sign(x), with b = x.
    case absBackward
}

protocol BinaryFunction {
    func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector
}

@inline(__always) private func mask(_ m: SIMDMask<SIMD8<Int32>>) -> FloatVector {
    FloatVector(repeating: 0).replacing(with: 1, where: m)
}

struct Add: BinaryFunction { @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a + b } }
struct Subtract: BinaryFunction { @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a - b } }
struct Multiply: BinaryFunction { @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a * b } }
struct Divide: BinaryFunction { @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a / b } }
/// NaN in either input gives NaN, as torch.maximum does (the standard library's
/// `pointwiseMax` would drop it, and compiles to a call per vector).
struct Maximum: BinaryFunction {
    @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
        a.replacing(with: b, where: (b .> a) .| (b .!= b))
    }
}
/// NaN in either input gives NaN, as torch.minimum does.
struct Minimum: BinaryFunction {
    @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
        a.replacing(with: b, where: (b .< a) .| (b .!= b))
    }
}
/// a^b lane by lane; negative bases give real results only for integer exponents.
struct PowerOf: BinaryFunction {
    @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
        let magnitude = VectorMath.exp(b * VectorMath.log(Absolute()(a)))
        var result = magnitude
        let integral = b .== (b + roundingMagic - roundingMagic)
        let halfB = b * 0.5
        let odd = integral .& (halfB .!= (halfB + roundingMagic - roundingMagic))
        result.replace(with: -magnitude, where: odd .& (a .< 0))
        result.replace(with: Float.nan, where: .!integral .& (a .< 0))
        result.replace(with: 1, where: b .== 0)
        return result
    }
}
struct Compare: BinaryFunction {
    enum Kind { case equal, notEqual, less, lessEqual, greater, greaterEqual }
    let kind: Kind
    @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
        switch kind {
        case .equal: return mask(a .== b)
        case .notEqual: return mask(a .!= b)
        case .less: return mask(a .< b)
        case .lessEqual: return mask(a .<= b)
        case .greater: return mask(a .> b)
        case .greaterEqual: return mask(a .>= b)
        }
    }
}
struct ReluBackward: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
        g.replacing(with: 0, where: x .<= 0)
    }
}
struct LeakyReluBackward: BinaryFunction {
    let slope: Float
    @inline(__always) func callAsFunction(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
        g.replacing(with: g * slope, where: x .<= 0)
    }
}
struct SigmoidBackward: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: FloatVector, _ y: FloatVector) -> FloatVector { g * y * (1 - y) }
}
struct TanhBackward: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: FloatVector, _ y: FloatVector) -> FloatVector { g * (1 - y * y) }
}
struct GeluBackward: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
        g * VectorMath.geluDerivative(x)
    }
}
struct ClampBackward: BinaryFunction {
    let lower: Float, upper: Float
    @inline(__always) func callAsFunction(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
        g.replacing(with: 0, where: (x .< lower) .| (x .> upper))
    }
}
struct AbsBackward: BinaryFunction {
    @inline(__always) func callAsFunction(_ g: FloatVector, _ x: FloatVector) -> FloatVector { g * Sign()(x) }
}

/// One innermost run of a broadcast binary op: `count` outputs, operands advancing by
/// `strideA` / `strideB` elements (0 = broadcast, 1 = contiguous).
@inline(__always)
func binaryRun<F: BinaryFunction>(_ f: F, _ a: UnsafePointer<Float>, _ strideA: Int,
                                  _ b: UnsafePointer<Float>, _ strideB: Int,
                                  _ out: UnsafeMutablePointer<Float>, _ count: Int) {
    let width = FloatVector.scalarCount
    var i = 0
    if strideA == 1 && strideB == 1 {
        while i + width <= count {
            storeVector(f(loadVector(a + i), loadVector(b + i)), out + i)
            i += width
        }
        if i < count {
            let n = count - i
            storePartial(f(loadPartial(a + i, count: n, padding: 1), loadPartial(b + i, count: n, padding: 1)), out + i, count: n)
        }
    } else if strideA == 1 && strideB == 0 {
        let splat = FloatVector(repeating: b.pointee)
        while i + width <= count {
            storeVector(f(loadVector(a + i), splat), out + i)
            i += width
        }
        if i < count {
            let n = count - i
            storePartial(f(loadPartial(a + i, count: n, padding: 1), splat), out + i, count: n)
        }
    } else if strideA == 0 && strideB == 1 {
        let splat = FloatVector(repeating: a.pointee)
        while i + width <= count {
            storeVector(f(splat, loadVector(b + i)), out + i)
            i += width
        }
        if i < count {
            let n = count - i
            storePartial(f(splat, loadPartial(b + i, count: n, padding: 1)), out + i, count: n)
        }
    } else {
        while i < count {
            let n = min(width, count - i)
            let va = loadStrided(a + i * strideA, stride: strideA, count: n)
            let vb = loadStrided(b + i * strideB, stride: strideB, count: n)
            storePartial(f(va, vb), out + i, count: n)
            i += n
        }
    }
}

/// Walks every output element of `shape` in row-major order, calling `binaryRun` on the innermost dimension.
@inline(__always)
func binaryBroadcast<F: BinaryFunction>(_ f: F, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                        _ out: UnsafeMutablePointer<Float>, _ layout: BroadcastLayout) {
    let rank = layout.shape.count
    if rank == 0 {
        binaryRun(f, a, 0, b, 0, out, 1)
        return
    }
    let inner = layout.shape[rank - 1]
    let innerStrideA = layout.stridesA[rank - 1], innerStrideB = layout.stridesB[rank - 1]
    let rows = layout.shape.dropLast().reduce(1, *)
    if rows == 1 {
        Kernels.parallelChunks(count: inner, costPerElement: 1) { start, length in
            binaryRun(f, a + start * innerStrideA, innerStrideA, b + start * innerStrideB, innerStrideB, out + start, length)
        }
        return
    }
    // Rows are split across threads; each task finds its first row's operand offsets by division.
    let tasks = rows * inner >= 1 << 16 ? min(Kernels.threadCount * 4, rows) : 1
    Kernels.parallelFor(tasks) { task in
        let firstRow = rows * task / tasks, endRow = rows * (task + 1) / tasks
        var index = [Int](repeating: 0, count: rank - 1)
        var offsetA = 0, offsetB = 0, remainder = firstRow
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            index[axis] = remainder % layout.shape[axis]
            remainder /= layout.shape[axis]
            offsetA += index[axis] * layout.stridesA[axis]
            offsetB += index[axis] * layout.stridesB[axis]
        }
        for row in firstRow..<endRow {
            binaryRun(f, a + offsetA, innerStrideA, b + offsetB, innerStrideB, out + row * inner, inner)
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                offsetA += layout.stridesA[axis]
                offsetB += layout.stridesB[axis]
                if index[axis] < layout.shape[axis] { break }
                offsetA -= layout.stridesA[axis] * layout.shape[axis]
                offsetB -= layout.stridesB[axis] * layout.shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

/// The output shape of a broadcast binary op and each operand's element strides over it
/// (0 along broadcast dimensions), with adjacent dimensions merged where both operands allow.
public struct BroadcastLayout: Sendable {
    public private(set) var shape: [Int]
    public private(set) var stridesA: [Int]
    public private(set) var stridesB: [Int]

    /// `stridesA` / `stridesB` give, for each dimension of `shape`, the element step in that operand.
    public init(shape: [Int], stridesA: [Int], stridesB: [Int]) {
        var mergedShape: [Int] = [], mergedA: [Int] = [], mergedB: [Int] = []
        for axis in shape.indices where shape[axis] != 1 {
            if let last = mergedShape.last,
               mergedA.last! == stridesA[axis] * shape[axis],
               mergedB.last! == stridesB[axis] * shape[axis] {
                mergedShape[mergedShape.count - 1] = last * shape[axis]
                mergedA[mergedA.count - 1] = stridesA[axis]
                mergedB[mergedB.count - 1] = stridesB[axis]
            } else {
                mergedShape.append(shape[axis])
                mergedA.append(stridesA[axis])
                mergedB.append(stridesB[axis])
            }
        }
        self.shape = mergedShape
        self.stridesA = mergedA
        self.stridesB = mergedB
    }
}

extension Kernels {
    /// out = op(a, b) over `layout`, writing the output contiguously. `out` may alias a same-shaped operand.
    public static func binary(_ operation: BinaryOperation, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                              _ out: UnsafeMutablePointer<Float>, layout: BroadcastLayout) {
        switch operation {
        case .add: binaryBroadcast(Add(), a, b, out, layout)
        case .subtract: binaryBroadcast(Subtract(), a, b, out, layout)
        case .multiply: binaryBroadcast(Multiply(), a, b, out, layout)
        case .divide: binaryBroadcast(Divide(), a, b, out, layout)
        case .power: binaryBroadcast(PowerOf(), a, b, out, layout)
        case .maximum: binaryBroadcast(Maximum(), a, b, out, layout)
        case .minimum: binaryBroadcast(Minimum(), a, b, out, layout)
        case .equal: binaryBroadcast(Compare(kind: .equal), a, b, out, layout)
        case .notEqual: binaryBroadcast(Compare(kind: .notEqual), a, b, out, layout)
        case .less: binaryBroadcast(Compare(kind: .less), a, b, out, layout)
        case .lessEqual: binaryBroadcast(Compare(kind: .lessEqual), a, b, out, layout)
        case .greater: binaryBroadcast(Compare(kind: .greater), a, b, out, layout)
        case .greaterEqual: binaryBroadcast(Compare(kind: .greaterEqual), a, b, out, layout)
        case .reluBackward: binaryBroadcast(ReluBackward(), a, b, out, layout)
        case .leakyReluBackward(let slope): binaryBroadcast(LeakyReluBackward(slope: slope), a, b, out, layout)
        case .sigmoidBackward: binaryBroadcast(SigmoidBackward(), a, b, out, layout)
        case .tanhBackward: binaryBroadcast(TanhBackward(), a, b, out, layout)
        case .geluBackward: binaryBroadcast(GeluBackward(), a, b, out, layout)
        case .clampBackward(let lower, let upper): binaryBroadcast(ClampBackward(lower: lower, upper: upper), a, b, out, layout)
        case .absBackward: binaryBroadcast(AbsBackward(), a, b, out, layout)
        }
    }

    /// out[i] = condition[i] != 0 ? a[i] : b[i] over `count` contiguous elements.
    public static func select(_ condition: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                              _ out: UnsafeMutablePointer<Float>, count: Int) {
        let width = FloatVector.scalarCount
        var i = 0
        while i + width <= count {
            let picked = loadVector(b + i).replacing(with: loadVector(a + i), where: loadVector(condition + i) .!= 0)
            storeVector(picked, out + i)
            i += width
        }
        while i < count {
            out[i] = condition[i] != 0 ? a[i] : b[i]
            i += 1
        }
    }
}
