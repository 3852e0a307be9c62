import XCTest
import Synapse

/// Magnitude and structured pruning, masks through training, and the sparse inference path.
final class PruningTests: XCTestCase {
    override func tearDown() { SparseExecution.policy = .automatic }

    private func mlp() -> Sequential {
        GlobalRandom.seed(3)
        return Sequential { Linear(20, 30); ReLU(); Linear(30, 8); ReLU(); Linear(8, 4) }
    }

    func testGlobalAndPerLayerMagnitudePruningPruneExactlyTheSmallest() throws {
        let model = mlp()
        let weights = model.prunableWeights
        XCTAssertEqual(weights.map(\.0), ["0.weight", "2.weight", "4.weight"])
        let all = weights.flatMap { $0.1.value.scalars.map(abs) }.sorted()
        let report = try Pruning.magnitude(model, sparsity: 0.75)
        let pruned = Int((0.75 * Double(all.count)).rounded())
        XCTAssertEqual(report.layers.reduce(0) { $0 + $1.zeros }, pruned)
        XCTAssertEqual(report.sparsity, Double(pruned) / Double(all.count), accuracy: 1e-12)
        // Every kept weight is at least as large as every pruned one.
        let threshold = all[pruned - 1]
        for (_, parameter) in weights {
            for (value, keep) in zip(parameter.value.scalars, parameter.mask!.scalars) {
                XCTAssertEqual(keep == 0, value == 0)
                if keep == 1 { XCTAssertGreaterThanOrEqual(abs(value), threshold) }
            }
        }
        XCTAssertTrue(report.description.contains("total"), report.description)

        let layered = mlp()
        let perLayer = try Pruning.magnitude(layered, sparsity: 0.5, scope: .perLayer)
        for layer in perLayer.layers { XCTAssertEqual(layer.zeros, Int((0.5 * Double(layer.count)).rounded()), layer.name) }
        // Raising the sparsity keeps what was pruned before.
        let before = layered.prunableWeights.map { $0.1.mask!.scalars }
        try Pruning.magnitude(layered, sparsity: 0.8, scope: .perLayer)
        for (old, (_, parameter)) in zip(before, layered.prunableWeights) {
            for (wasKept, keep) in zip(old, parameter.mask!.scalars) where wasKept == 0 { XCTAssertEqual(keep, 0) }
        }
    }

    func testBadPruningRequestsAreClearErrors() {
        XCTAssertThrowsError(try Pruning.magnitude(mlp(), sparsity: 1)) { error in
            XCTAssertEqual("\(error)", "sparsity must lie in [0, 1), got 1.0")
        }
        XCTAssertThrowsError(try Pruning.magnitude(mlp(), sparsity: -0.1)) { error in
            XCTAssertEqual("\(error)", "sparsity must lie in [0, 1), got -0.1")
        }
        XCTAssertThrowsError(try Pruning.magnitude(Sequential { ReLU(); Flatten() }, sparsity: 0.5)) { error in
            XCTAssertEqual("\(error)", "Sequential has no prunable layers (Linear, Conv1d, Conv2d or ConvTranspose2d)")
        }
        XCTAssertThrowsError(try Pruning.structured(Sequential { Linear(3, 2) }, fraction: 0.5)) { error in
            XCTAssertTrue("\(error)".hasPrefix("no layer of this model can be pruned structurally"), "\(error)")
        }
        XCTAssertThrowsError(try Pruning.structured(mlp(), fraction: 1)) { error in
            XCTAssertEqual("\(error)", "the share of channels to prune must lie in [0, 1), got 1.0")
        }
    }

    /// Pruned weights stay zero through every optimizer's steps, with momentum, weight decay
    /// and L1, while the kept ones train.
    func testMasksHoldThroughOptimizerSteps() throws {
        let makers: [(String, ([Parameter]) -> Optimizer)] = [
            ("sgd", { SGD(parameters: $0, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01, l1: 0.01) }),
            ("adam", { Adam(parameters: $0, lr: 0.01, weightDecay: 0.01) }),
            ("adamw", { AdamW(parameters: $0, lr: 0.01, weightDecay: 0.1) }),
            ("rmsprop", { RMSProp(parameters: $0, lr: 0.01, momentum: 0.9, weightDecay: 0.01) }),
            ("adagrad", { Adagrad(parameters: $0, lr: 0.1, weightDecay: 0.01) }),
        ]
        for (name, make) in makers {
            let model = mlp()
            // A few steps first, so momentum and moment estimates hold values for weights pruned afterwards.
            let optimizer = make(model.parameters)
            let x = Tensor.randn([16, 20], seed: 1), target = Tensor.randn([16, 4], seed: 2)
            func train(_ steps: Int) {
                for _ in 0..<steps {
                    optimizer.zeroGrad()
                    mseLoss(model(x), target).backward()
                    optimizer.step()
                }
            }
            train(3)
            try Pruning.magnitude(model, sparsity: 0.6)
            let masks = model.prunableWeights.map { $0.1.mask!.scalars }
            let kept = model.prunableWeights.map { $0.1.value.scalars }
            train(5)
            for ((layer, parameter), (mask, old)) in zip(model.prunableWeights, zip(masks, kept)) {
                let values = parameter.value.scalars
                XCTAssertTrue(zip(values, mask).allSatisfy { $1 == 1 || $0 == 0 }, "\(name): \(layer) lost a pruned zero")
                XCTAssertTrue(zip(zip(values, old), mask).contains { $1 == 1 && $0.0 != $0.1 }, "\(name): \(layer) stopped training")
            }
        }
    }

    /// A pruned Linear runs its sparse kernel in inference and matches the dense product;
    /// training still sees the dense weight and its gradient.
    func testPrunedLinearRunsSparseInInferenceWithTheSameResult() throws {
        GlobalRandom.seed(5)
        let layer = Linear(300, 40)
        try Pruning.magnitude(layer, sparsity: 0.9)
        let x = Tensor.randn([37, 300], seed: 4)
        let dense = x.linear(weight: layer.weight, bias: layer.bias?.value).scalars
        for policy in SparseExecution.Policy.allCases {
            SparseExecution.policy = policy
            let output = withoutGradients { layer(x) }.scalars
            for (a, b) in zip(output, dense) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(policy)") }
        }
        SparseExecution.policy = .automatic
        // With gradients recorded the dense path runs, so the weight gets its gradient.
        layer(x).sum().backward()
        XCTAssertEqual(layer.weight.grad?.shape, [40, 300])
        // A change to the weight is seen by the next inference (the sparse copy is rebuilt).
        layer.$weight.updateInPlace { $0[$0.indices.first { $0 % 300 == 0 && layer.$weight.mask!.scalars[$0] == 1 }!] += 1 }
        let updated = x.linear(weight: layer.weight, bias: layer.bias?.value).scalars
        for (a, b) in zip(withoutGradients { layer(x) }.scalars, updated) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    private func convolutionModel() -> Sequential {
        GlobalRandom.seed(7)
        return Sequential {
            Conv2d(2, 8, kernelSize: 3, padding: 1); BatchNorm2d(8); ReLU(); MaxPool2d(2)
            Conv2d(8, 6, kernelSize: 3, padding: 1); BatchNorm2d(6); ReLU(); MaxPool2d(2); Flatten(); Dropout(p: 0.25)
            Linear(6 * 2 * 2, 10); ReLU(); Linear(10, 3)
        }
    }

    /// The first pruned layer's remaining channels compute exactly what they did, through
    /// batch norm (with its running statistics sliced) and pooling.
    func testStructuredPruningKeepsTheRemainingChannelsOutputs() throws {
        let model = convolutionModel()
        let x = Tensor.randn([5, 2, 8, 8], seed: 9)
        for _ in 0..<3 { _ = model(x) }
        model.eval()
        let result = try Pruning.structured(model, fraction: 0.5, norm: .l2)
        XCTAssertEqual(result.widths, [4, 3, 5, 3])
        XCTAssertEqual(result.keptChannels.map(\.layer), [0, 4, 10])
        let pruned = result.model
        pruned.eval()
        let kept = result.keptChannels[0].channels
        let (original, smaller) = withoutGradients {
            (model.layers.prefix(4).reduce(x) { $1($0) }, pruned.layers.prefix(4).reduce(x) { $1($0) })
        }
        XCTAssertEqual(smaller.shape, [5, 4, 4, 4])
        let values = original.scalars, small = smaller.scalars
        for n in 0..<5 {
            for (slot, channel) in kept.enumerated() {
                for p in 0..<16 { XCTAssertEqual(small[(n * 4 + slot) * 16 + p], values[(n * 8 + channel) * 16 + p]) }
            }
        }
        XCTAssertLessThan(pruned.parameterCount, model.parameterCount / 2)
    }

    /// Channels that contribute nothing (weights near zero, outputs cut off by ReLU) are the
    /// ones removed, and the whole network's output stays the same: the next layers' inputs
    /// are removed to match, through Flatten into a Linear.
    func testStructuredPruningOfDeadChannelsLeavesTheOutputUnchanged() throws {
        let model = convolutionModel()
        let x = Tensor.randn([4, 2, 8, 8], seed: 11)
        for _ in 0..<2 { _ = model(x) }
        model.eval()
        func kill(_ producer: PrunableLayer, channels: [Int], cutoff: Parameter) {
            let size = producer.prunableWeight.value.count / producer.prunableWeight.shape[0]
            producer.prunableWeight.updateInPlace { w in for c in channels { for i in 0..<size { w[c * size + i] *= 1e-3 } } }
            cutoff.updateInPlace { b in for c in channels { b[c] = -100 } }
        }
        let layers = model.layers
        kill(layers[0] as! Conv2d, channels: [1, 3, 5, 7], cutoff: (layers[1] as! BatchNorm2d).$bias)
        kill(layers[4] as! Conv2d, channels: [0, 2, 4], cutoff: (layers[5] as! BatchNorm2d).$bias)
        kill(layers[10] as! Linear, channels: [1, 2, 3, 4, 6], cutoff: (layers[10] as! Linear).bias!)
        let result = try Pruning.structured(model, fraction: 0.5)
        XCTAssertEqual(result.keptChannels.map(\.channels), [[0, 2, 4, 6], [1, 3, 5], [0, 5, 7, 8, 9]])
        result.model.eval()
        let (before, after) = withoutGradients { (model(x).scalars, result.model(x).scalars) }
        for (a, b) in zip(before, after) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testGradualPruningFollowsTheCubicSchedule() {
        let model = mlp()
        let schedule = GradualPruning(model: model, finalSparsity: 0.8, initialSparsity: 0.1, startStep: 10, endStep: 110, frequency: 10)
        XCTAssertEqual(schedule.sparsity(atStep: 5), 0)
        XCTAssertEqual(schedule.sparsity(atStep: 10), 0.1, accuracy: 1e-12)
        // s_f + (s_i − s_f)(1 − 1/2)³ halfway.
        XCTAssertEqual(schedule.sparsity(atStep: 60), 0.8 - 0.7 / 8, accuracy: 1e-12)
        XCTAssertEqual(schedule.sparsity(atStep: 110), 0.8, accuracy: 1e-12)
        XCTAssertEqual(schedule.sparsity(atStep: 500), 0.8, accuracy: 1e-12)
    }
}
