// Loss functions, with PyTorch's definitions and reductions.

import SynapseCore

/// How per-element losses are combined.
public enum Reduction: Sendable {
    /// The average (for weighted classification losses, the weighted average).
    case mean
    case sum
    /// No reduction: one loss per element (or per sample).
    case none
}

private func reduce(_ losses: Tensor, _ reduction: Reduction) -> Tensor {
    switch reduction {
    case .mean: return losses.mean()
    case .sum: return losses.sum()
    case .none: return losses
    }
}

private func requireSameShape(_ op: String, _ a: Tensor, _ b: Tensor) {
    require(a.shape == b.shape, "\(op): prediction \(a.shape) and target \(b.shape) must have the same shape")
}

/// Mean squared error: (prediction − target)².
public func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    requireSameShape("mseLoss", prediction, target)
    return reduce((prediction - target).square(), reduction)
}

/// Mean absolute error: |prediction − target|.
public func l1Loss(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    requireSameShape("l1Loss", prediction, target)
    return reduce((prediction - target).abs(), reduction)
}

/// Negative log-likelihood of class `targets` [N] under `logProbabilities` [N, C], as
/// `torch.nn.functional.nll_loss`: samples whose target is `ignoreIndex` contribute nothing,
/// class `weight`s [C] scale each sample, and `.mean` divides by the total weight of the
/// samples that count.
public func nllLoss(_ logProbabilities: Tensor, _ targets: IndexTensor, weight: Tensor? = nil,
                    ignoreIndex: Int? = nil, reduction: Reduction = .mean) -> Tensor {
    let (picked, sampleWeights) = pickTargets("nllLoss", logProbabilities, targets, weight: weight, ignoreIndex: ignoreIndex)
    let losses = -(picked * sampleWeights)
    return reduction == .mean ? losses.sum() / sampleWeights.sum() : reduce(losses, reduction)
}

/// Cross-entropy between `logits` [N, C] and class `targets` [N], as
/// `torch.nn.functional.cross_entropy`, computed through a numerically stable log-softmax.
/// `labelSmoothing` ε mixes the one-hot target with the uniform distribution:
/// loss = (1 − ε) · nll + ε / C · Σ_c −w_c · log p_c.
public func crossEntropy(_ logits: Tensor, _ targets: IndexTensor, weight: Tensor? = nil, ignoreIndex: Int? = nil,
                         labelSmoothing: Float = 0, reduction: Reduction = .mean) -> Tensor {
    require(labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropy: labelSmoothing must be in [0, 1], got \(labelSmoothing)")
    require(logits.rank == 2, "crossEntropy: logits must be [N, C], got \(logits.shape)")
    let logProbabilities = logits.logSoftmax(axis: 1)
    let (picked, sampleWeights) = pickTargets("crossEntropy", logProbabilities, targets, weight: weight, ignoreIndex: ignoreIndex)
    var losses = -(picked * sampleWeights)
    if labelSmoothing > 0 {
        let classes = Float(logits.shape[1])
        let counted = sampleWeights .!= 0
        let weighted = weight.map { logProbabilities * $0 } ?? logProbabilities
        let smooth = -weighted.sum(axis: 1) * counted
        losses = (1 - labelSmoothing) * losses + (labelSmoothing / classes) * smooth
    }
    return reduction == .mean ? losses.sum() / sampleWeights.sum() : reduce(losses, reduction)
}

/// The log-probability of each sample's target, [N], and each sample's weight, [N]
/// (the class weight, or 1; 0 for ignored samples).
private func pickTargets(_ op: String, _ logProbabilities: Tensor, _ targets: IndexTensor, weight: Tensor?,
                         ignoreIndex: Int?) -> (Tensor, Tensor) {
    require(logProbabilities.rank == 2, "\(op): input must be [N, C], got \(logProbabilities.shape)")
    let (samples, classes) = (logProbabilities.shape[0], logProbabilities.shape[1])
    require(targets.shape == [samples], "\(op): targets must be [\(samples)], got \(targets.shape)")
    if let weight { require(weight.shape == [classes], "\(op): weight must be [\(classes)], got \(weight.shape)") }
    var kept = [Float](repeating: 1, count: samples)
    var safeTargets = targets.scalars
    for (i, target) in targets.scalars.enumerated() {
        if target == ignoreIndex {
            kept[i] = 0
            safeTargets[i] = 0
        } else {
            require(target >= 0 && target < classes, "\(op): target \(target) of sample \(i) is out of range for \(classes) classes")
        }
    }
    let index = IndexTensor(safeTargets, shape: [samples])
    let picked = logProbabilities.gather(axis: 1, indices: index.reshaped([samples, 1])).reshaped([samples])
    let classWeights = weight.map { $0.detached().indexSelect(axis: 0, indices: index) } ?? Tensor.ones([samples])
    return (picked, classWeights * Tensor(kept))
}

/// Binary cross-entropy on probabilities: −w · (t · log p + (1 − t) · log(1 − p)), with the
/// logarithms clamped at −100 as PyTorch does, so p = 0 or 1 gives a finite loss.
public func binaryCrossEntropy(_ probabilities: Tensor, _ targets: Tensor, weight: Tensor? = nil,
                               reduction: Reduction = .mean) -> Tensor {
    requireSameShape("binaryCrossEntropy", probabilities, targets)
    let logP = probabilities.log().clamped(min: -100)
    let logNotP = (1 - probabilities).log().clamped(min: -100)
    var losses = -(targets * logP + (1 - targets) * logNotP)
    if let weight { losses = losses * weight }
    return reduce(losses, reduction)
}

/// Binary cross-entropy on logits, stable for any magnitude:
/// max(x, 0) − x · t + log(1 + e^−|x|), with gradient σ(x) − t.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ targets: Tensor, weight: Tensor? = nil,
                                         reduction: Reduction = .mean) -> Tensor {
    requireSameShape("binaryCrossEntropyWithLogits", logits, targets)
    let x = logits.detached(), t = targets.detached()
    let values = withoutGradients { x.relu() - x * t + ((-x.abs()).exp() + 1).log() }
    var losses = Tensor.custom("binaryCrossEntropyWithLogits", values, inputs: [logits, targets]) { g in
        [g * (x.sigmoid() - t), g * -x]
    }
    if let weight { losses = losses * weight }
    return reduce(losses, reduction)
}
