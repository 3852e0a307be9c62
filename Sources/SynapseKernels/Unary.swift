// Elementwise kernels of one input over contiguous buffers.

/// The elementwise functions of one argument that the kernels provide.
public enum UnaryOperation: Sendable, Equatable {
    case negate, exp, log, sqrt, abs, square, reciprocal, sign
    case tanh, sigmoid, relu, gelu
    case leakyRelu(slope: Float)
    case clamp(lower: Float, upper: Float)
    case power(Float)
    case scale(Float)
    case fill(Float)
}

protocol UnaryFunction {
    func callAsFunction(_ x: FloatVector) -> FloatVector
}

struct Negate: UnaryFunction { @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { -x } }
struct Exp: UnaryFunction { @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { VectorMath.exp(x) } }
struct Log: UnaryFunction { @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { VectorMath.log(x) } }
struct SquareRoot: UnaryFunction { @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { x.squareRoot() } }
struct Absolute: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector {
        VectorMath.abs(x)
    }
}
struct Square: UnaryFunction { @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { x * x } }
struct Reciprocal: UnaryFunction { @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { 1 / x } }
struct Sign: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector {
        var s = FloatVector(repeating: 0)
        s.replace(with: 1, where: x .> 0)
        s.replace(with: -1, where: x .< 0)
        return s
    }
}
struct Tanh: UnaryFunction { @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { VectorMath.tanh(x) } }
struct Sigmoid: UnaryFunction { @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { VectorMath.sigmoid(x) } }
struct Relu: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { x.replacing(with: 0, where: x .< 0) }
}
struct Gelu: UnaryFunction { @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { VectorMath.gelu(x) } }
struct LeakyRelu: UnaryFunction {
    let slope: Float
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector {
        x.replacing(with: x * slope, where: x .< 0)
    }
}
struct Clamp: UnaryFunction {
    let lower: Float, upper: Float
    /// NaN stays NaN, as in torch.clamp (the standard library's `clamped` turns it into the lower bound).
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector {
        x.replacing(with: lower, where: x .< FloatVector(repeating: lower)).replacing(with: upper, where: x .> FloatVector(repeating: upper))
    }
}
/// x^p for a scalar exponent. Integer exponents keep the sign of negative bases; others give NaN there.
struct Power: UnaryFunction {
    let exponent: Float
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector {
        let magnitude = VectorMath.exp(exponent * VectorMath.log(Absolute()(x)))
        var result = magnitude
        let isInteger = exponent.rounded() == exponent
        if isInteger {
            let isOdd = Int(exponent) & 1 == 1
            if isOdd { result.replace(with: -magnitude, where: x .< 0) }
        } else {
            result.replace(with: Float.nan, where: x .< 0)
        }
        result.replace(with: exponent > 0 ? 0 : Float.infinity, where: x .== 0)
        if exponent == 0 { result = FloatVector(repeating: 1) }
        return result
    }
}
struct Scale: UnaryFunction {
    let factor: Float
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { x * factor }
}
struct Fill: UnaryFunction {
    let value: Float
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { FloatVector(repeating: value) }
}

@inline(__always)
func mapContiguous<F: UnaryFunction>(_ f: F, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
    let width = FloatVector.scalarCount
    var i = 0
    while i + 2 * width <= count {
        storeVector(f(loadVector(x + i)), out + i)
        storeVector(f(loadVector(x + i + width)), out + i + width)
        i += 2 * width
    }
    while i + width <= count {
        storeVector(f(loadVector(x + i)), out + i)
        i += width
    }
    if i < count {
        storePartial(f(loadPartial(x + i, count: count - i, padding: 1)), out + i, count: count - i)
    }
}

extension Kernels {
    /// out[i] = op(x[i]) for `count` contiguous elements. `out` may equal `x`.
    public static func unary(_ operation: UnaryOperation, _ x: UnsafePointer<Float>,
                             _ out: UnsafeMutablePointer<Float>, count: Int) {
        parallelChunks(count: count, costPerElement: operation.costPerElement) { start, length in
            let x = x + start, out = out + start
            switch operation {
            case .negate: mapContiguous(Negate(), x, out, length)
            case .exp: mapContiguous(Exp(), x, out, length)
            case .log: mapContiguous(Log(), x, out, length)
            case .sqrt: mapContiguous(SquareRoot(), x, out, length)
            case .abs: mapContiguous(Absolute(), x, out, length)
            case .square: mapContiguous(Square(), x, out, length)
            case .reciprocal: mapContiguous(Reciprocal(), x, out, length)
            case .sign: mapContiguous(Sign(), x, out, length)
            case .tanh: mapContiguous(Tanh(), x, out, length)
            case .sigmoid: mapContiguous(Sigmoid(), x, out, length)
            case .relu: mapContiguous(Relu(), x, out, length)
            case .gelu: mapContiguous(Gelu(), x, out, length)
            case .leakyRelu(let slope): mapContiguous(LeakyRelu(slope: slope), x, out, length)
            case .clamp(let lower, let upper): mapContiguous(Clamp(lower: lower, upper: upper), x, out, length)
            case .power(let p):
                switch p {
                case 1: mapContiguous(Scale(factor: 1), x, out, length)
                case 2: mapContiguous(Square(), x, out, length)
                case 0.5: mapContiguous(SquareRoot(), x, out, length)
                case -1: mapContiguous(Reciprocal(), x, out, length)
                default: mapContiguous(Power(exponent: p), x, out, length)
                }
            case .scale(let factor): mapContiguous(Scale(factor: factor), x, out, length)
            case .fill(let value): mapContiguous(Fill(value: value), x, out, length)
            }
        }
    }
}

extension UnaryOperation {
    /// Rough relative cost, used only to decide when splitting across threads pays off.
    var costPerElement: Int {
        switch self {
        case .exp, .log, .tanh, .sigmoid, .gelu, .power: return 8
        default: return 1
        }
    }
}
