// The optimizer base class.

import SynapseCore
import SynapseNN

/// Updates parameters from their gradients. Subclasses implement `update(_:gradient:state:)`
/// for one parameter; the base class handles frozen parameters, missing gradients, L1
/// regularization, pruning masks and per-parameter state.
open class Optimizer {
    /// The parameters this optimizer updates, in order.
    public let parameters: [Parameter]
    /// The step size; learning-rate schedules change it between steps.
    public var learningRate: Float
    /// Coefficient of an L1 penalty λ·Σ|w|: adds λ·sign(w) to each gradient before the update.
    public var l1: Float
    /// Steps taken so far.
    public private(set) var stepCount = 0
    /// Per-parameter buffers (momentum, moment estimates), keyed by parameter position.
    public var state: [[String: Tensor]]

    public init(parameters: [Parameter], learningRate: Float, l1: Float = 0) {
        require(learningRate >= 0 && learningRate.isFinite, "\(Self.self): learning rate must be a non-negative number, got \(learningRate)")
        require(l1 >= 0, "\(Self.self): l1 must be non-negative, got \(l1)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.l1 = l1
        state = Array(repeating: [:], count: parameters.count)
    }

    /// Restores a saved step count, learning rate and per-parameter state (checkpoint resume).
    public func restore(stepCount: Int, learningRate: Float, state: [[String: Tensor]]) {
        require(state.count == parameters.count, "\(Self.self).restore: state for \(state.count) parameters, optimizer has \(parameters.count)")
        self.stepCount = stepCount
        self.learningRate = learningRate
        self.state = state
    }

    /// Clears every parameter's gradient; call before each backward pass.
    public func zeroGrad() {
        parameters.forEach { $0.value.zeroGrad() }
    }

    /// Applies one update to every trainable parameter that has a gradient.
    public func step() {
        stepCount += 1
        withoutGradients {
            for (index, parameter) in parameters.enumerated() where !parameter.isFrozen {
                guard var gradient = parameter.grad else { continue }
                if l1 > 0 { gradient = gradient + l1 * parameter.value.sign() }
                // A pruned element's gradient is dropped, so no momentum or moment estimate builds up for it.
                if let mask = parameter.mask { gradient = gradient * mask }
                update(parameter, gradient: gradient, state: &state[index])
            }
        }
    }

    /// Updates one parameter in place. `state` persists between steps for this parameter.
    open func update(_ parameter: Parameter, gradient: Tensor, state: inout [String: Tensor]) {
        fatalError("\(type(of: self)) must override update(_:gradient:state:)")
    }

    /// Removes and returns the state tensor `key` (zeros of `shape` the first time), so the
    /// caller holds its only reference and can update it in place; store it back afterwards.
    public func takeState(_ key: String, shape: [Int], from state: inout [String: Tensor]) -> Tensor {
        state.removeValue(forKey: key) ?? Tensor.zeros(shape)
    }
}
