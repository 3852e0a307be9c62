// Gradient clipping.

import Foundation
import SynapseCore
import SynapseNN

/// Scales all gradients together so their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`. Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    require(maxNorm > 0, "clipGradientNorm: maxNorm must be positive, got \(maxNorm)")
    let gradients = parameters.compactMap(\.grad)
    let squares = gradients.reduce(0.0) { $0 + Double($1.square().sum().item) }
    let norm = Float(squares.squareRoot())
    let scale = maxNorm / (norm + 1e-6)
    if scale < 1 {
        for parameter in parameters { parameter.scaleGradient(by: scale) }
    }
    return norm
}

/// Clamps every gradient element to [−maxValue, maxValue], as `torch.nn.utils.clip_grad_value_`.
public func clipGradientValue(_ parameters: [Parameter], maxValue: Float) {
    require(maxValue > 0, "clipGradientValue: maxValue must be positive, got \(maxValue)")
    for parameter in parameters { parameter.clampGradient(to: maxValue) }
}
