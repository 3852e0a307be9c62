// Structured pruning: removing whole output channels and units, for a smaller dense model.

import Foundation
import SynapseCore

/// The norm that ranks a channel's weights in structured pruning.
public enum ChannelNorm: String, Sendable, CaseIterable {
    case l1, l2
}

/// A model made smaller by `Pruning.structured`.
public struct StructuredPruningResult {
    /// The smaller model. Layers it leaves unchanged (activations, pooling, the layers no
    /// pruned channel touches) are shared with the original.
    public let model: Sequential
    /// For each pruned layer (by position in the `Sequential`), the original output channels
    /// it keeps, in order.
    public let keptChannels: [(layer: Int, channels: [Int])]
    /// The output width of every `Conv2d` and `Linear` in order, after pruning.
    public let widths: [Int]
}

extension Pruning {
    /// Removes the share `fraction` of the output channels of every `Conv2d` and the output
    /// units of every `Linear` whose outputs feed another such layer, those with the
    /// smallest weight norm, together with the matching inputs of the next layer (and the
    /// channels of a `BatchNorm` between): the result is a smaller dense model whose remaining
    /// channels compute exactly what they did. The last layer keeps its outputs. Between a
    /// pruned layer and its consumer only channel-wise layers may stand (activations,
    /// dropout, pooling, batch norm, and `Flatten` before a `Linear`); a layer followed by
    /// anything else is left whole.
    public static func structured(_ model: Sequential, fraction: Double, norm: ChannelNorm = .l1) throws -> StructuredPruningResult {
        guard fraction >= 0, fraction < 1 else { throw PruningError("the share of channels to prune must lie in [0, 1), got \(fraction)") }
        var layers = model.layers
        let producers = layers.indices.filter { layers[$0] is Conv2d || layers[$0] is Linear }
        var kept: [(layer: Int, channels: [Int])] = []
        for (position, producer) in producers.enumerated() where position + 1 < producers.count {
            let consumer = producers[position + 1]
            let between = layers[(producer + 1)..<consumer]
            guard between.allSatisfy(isChannelWise), (layers[producer] as? Conv2d)?.groups ?? 1 == 1,
                  (layers[consumer] as? Conv2d)?.groups ?? 1 == 1 else { continue }
            let flattens = between.contains { $0 is Flatten }
            if flattens && !(layers[producer] is Conv2d && layers[consumer] is Linear) { continue }
            let weight = (layers[producer] as! PrunableLayer).prunableWeight.value
            let outputs = weight.shape[0]
            let keep = max(1, Int((Double(outputs) * (1 - fraction)).rounded()))
            guard keep < outputs else { continue }
            let channels = strongest(keep, of: weight, norm: norm)
            // Each input channel of the consumer spans this many of its input columns (H·W after Flatten).
            let span: Int
            if let linear = layers[consumer] as? Linear {
                guard linear.inFeatures % outputs == 0 else { continue }
                span = linear.inFeatures / outputs
            } else {
                span = 1
            }
            layers[producer] = keepingOutputs(channels, of: layers[producer])
            for index in (producer + 1)..<consumer {
                if let batchNorm = layers[index] as? BatchNorm { layers[index] = keepingChannels(channels, of: batchNorm) }
            }
            layers[consumer] = keepingInputs(channels, span: span, of: layers[consumer])
            kept.append((producer, channels))
        }
        guard !kept.isEmpty || fraction == 0 else {
            throw PruningError("no layer of this model can be pruned structurally: it needs a Conv2d or Linear whose outputs feed "
                               + "another through channel-wise layers only")
        }
        let widths = layers.compactMap { ($0 as? PrunableLayer)?.prunableWeight.shape[0] }
        return StructuredPruningResult(model: Sequential(layers), keptChannels: kept, widths: widths)
    }

    private static func isChannelWise(_ layer: any UnaryLayer) -> Bool {
        layer is ReLU || layer is LeakyReLU || layer is Sigmoid || layer is Tanh || layer is GELU || layer is Identity
            || layer is Dropout || layer is Dropout2d || layer is MaxPool2d || layer is AvgPool2d || layer is BatchNorm
            || layer is Flatten
    }

    /// The `count` output channels (first axis of `weight`) of largest norm, in increasing order.
    private static func strongest(_ count: Int, of weight: Tensor, norm: ChannelNorm) -> [Int] {
        let channels = weight.shape[0], size = weight.count / channels, values = weight.scalars
        let norms = (0..<channels).map { channel -> Double in
            let row = values[(channel * size)..<((channel + 1) * size)]
            switch norm {
            case .l1: return row.reduce(0) { $0 + Double(abs($1)) }
            case .l2: return row.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            }
        }
        // Stable: of equal norms the earlier channel stays.
        let ranked = norms.indices.sorted { norms[$0] > norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }
        return ranked.prefix(count).sorted()
    }

    /// Rows `rows` of `tensor` along its first axis.
    private static func rows(_ rows: [Int], of tensor: Tensor) -> Tensor {
        let size = tensor.count / tensor.shape[0], values = tensor.scalars
        return Tensor(rows.flatMap { values[($0 * size)..<(($0 + 1) * size)] }, shape: [rows.count] + tensor.shape.dropFirst())
    }

    /// Channels `channels` (each `span` wide) of `tensor`'s second axis.
    private static func columns(_ channels: [Int], span: Int, of tensor: Tensor) -> Tensor {
        let outer = tensor.shape[0], inner = tensor.count / (outer * tensor.shape[1])
        let width = tensor.shape[1], values = tensor.scalars
        var result: [Float] = []
        result.reserveCapacity(outer * channels.count * span * inner)
        for row in 0..<outer {
            for channel in channels {
                let start = (row * width + channel * span) * inner
                result += values[start..<(start + span * inner)]
            }
        }
        var shape = tensor.shape
        shape[1] = channels.count * span
        return Tensor(result, shape: shape)
    }

    private static func keepingOutputs(_ channels: [Int], of layer: any UnaryLayer) -> any UnaryLayer {
        if let linear = layer as? Linear {
            let smaller = Linear(linear.inFeatures, channels.count, bias: linear.bias != nil)
            smaller.weight = rows(channels, of: linear.weight)
            if let bias = linear.bias { smaller.bias!.assign(rows(channels, of: bias.value)) }
            return smaller
        }
        let conv = layer as! Conv2d
        let shape = conv.weight.shape
        let smaller = Conv2d(shape[1], channels.count, kernelSize: (shape[2], shape[3]), stride: conv.stride,
                             padding: .explicit(conv.padding.0, conv.padding.1), dilation: conv.dilation, bias: conv.bias != nil)
        smaller.weight = rows(channels, of: conv.weight)
        if let bias = conv.bias { smaller.bias!.assign(rows(channels, of: bias.value)) }
        return smaller
    }

    private static func keepingInputs(_ channels: [Int], span: Int, of layer: any UnaryLayer) -> any UnaryLayer {
        if let linear = layer as? Linear {
            let smaller = Linear(channels.count * span, linear.outFeatures, bias: linear.bias != nil)
            smaller.weight = columns(channels, span: span, of: linear.weight)
            if let bias = linear.bias { smaller.bias!.assign(bias.value) }
            return smaller
        }
        let conv = layer as! Conv2d
        let shape = conv.weight.shape
        let smaller = Conv2d(channels.count, shape[0], kernelSize: (shape[2], shape[3]), stride: conv.stride,
                             padding: .explicit(conv.padding.0, conv.padding.1), dilation: conv.dilation, bias: conv.bias != nil)
        smaller.weight = columns(channels, span: 1, of: conv.weight)
        if let bias = conv.bias { smaller.bias!.assign(bias.value) }
        return smaller
    }

    private static func keepingChannels(_ channels: [Int], of batchNorm: BatchNorm) -> any UnaryLayer {
        let smaller: BatchNorm = batchNorm is BatchNorm2d
            ? BatchNorm2d(channels.count, epsilon: batchNorm.epsilon, momentum: batchNorm.momentum)
            : BatchNorm1d(channels.count, epsilon: batchNorm.epsilon, momentum: batchNorm.momentum)
        smaller.weight = rows(channels, of: batchNorm.weight)
        smaller.bias = rows(channels, of: batchNorm.bias)
        smaller.runningMean = rows(channels, of: batchNorm.runningMean)
        smaller.runningVariance = rows(channels, of: batchNorm.runningVariance)
        smaller.batchesTracked = batchNorm.batchesTracked
        return smaller as! any UnaryLayer
    }
}
