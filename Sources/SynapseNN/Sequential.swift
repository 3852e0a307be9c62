// A chain of modules.

import SynapseCore

/// Builds the layer list of a `Sequential` from a block of modules.
@resultBuilder
public enum ModuleBuilder {
    public static func buildExpression(_ module: any UnaryLayer) -> [any UnaryLayer] { [module] }
    public static func buildBlock(_ parts: [any UnaryLayer]...) -> [any UnaryLayer] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any UnaryLayer]?) -> [any UnaryLayer] { part ?? [] }
    public static func buildEither(first part: [any UnaryLayer]) -> [any UnaryLayer] { part }
    public static func buildEither(second part: [any UnaryLayer]) -> [any UnaryLayer] { part }
    public static func buildArray(_ parts: [[any UnaryLayer]]) -> [any UnaryLayer] { parts.flatMap { $0 } }
}

/// Applies its layers in order. Children are named by position (`0.weight`, `2.bias`), as in
/// PyTorch's `nn.Sequential`.
///
/// ```swift
/// let model = Sequential {
///     Flatten()
///     Linear(784, 128)
///     ReLU()
///     Linear(128, 10)
/// }
/// ```
public final class Sequential: Module, UnaryLayer {
    public let layers: [any UnaryLayer]

    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
    }

    public convenience init(@ModuleBuilder _ build: () -> [any UnaryLayer]) {
        self.init(build())
    }

    public override var namedChildren: [(String, Module)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    /// Applies the layers in order. At inference (no gradient recorded), a ReLU right after a
    /// `ReLUFusing` layer runs inside that layer's kernel, and so does a `MaxPool2d` after
    /// that ReLU (or right after the layer) when the layer is `MaxPoolFusing`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        if ModuleTrace.isRecording { return layers.reduce(input) { output, layer in layer.traced(layer(output)) } }
        guard !GradientMode.isEnabled else { return layers.reduce(input) { $1($0) } }
        var output = input, index = 0
        while index < layers.count {
            let rectified = index + 1 < layers.count && layers[index + 1] is ReLU
            let poolIndex = index + (rectified ? 2 : 1)
            if poolIndex < layers.count, let pool = layers[poolIndex] as? MaxPool2d, let fusing = layers[index] as? MaxPoolFusing {
                output = fusing(output, fusingReLU: rectified, thenPooling: pool)
                index = poolIndex + 1
            } else if rectified, let fusing = layers[index] as? ReLUFusing {
                output = fusing(output, fusingReLU: true)
                index += 2
            } else {
                output = layers[index](output)
                index += 1
            }
        }
        return output
    }
}
