import XCTest
import Synapse

/// Each optimizer's update against steps computed by hand.
final class OptimizerTests: XCTestCase {
    /// A parameter w = [1, −2] whose loss Σ g·w gives it the constant gradient g.
    private func makeParameter(_ values: [Float] = [1, -2]) -> Parameter { Parameter(Tensor(values)) }

    private func step(_ optimizer: Optimizer, _ parameter: Parameter, gradient: [Float]) {
        optimizer.zeroGrad()
        (parameter.value * Tensor(gradient)).sum().backward()
        optimizer.step()
    }

    func testPlainSGDWithWeightDecay() {
        let w = makeParameter()
        let sgd = SGD(parameters: [w], lr: 0.1, weightDecay: 0.5)
        step(sgd, w, gradient: [1, 1])
        // w − lr · (g + λw) = [1 − 0.1·1.5, −2 − 0.1·0]
        XCTAssertEqual(w.value.scalars[0], 0.85, accuracy: 1e-6)
        XCTAssertEqual(w.value.scalars[1], -2, accuracy: 1e-6)
    }

    func testSGDMomentumAndNesterov() {
        let plain = makeParameter(), nesterov = makeParameter()
        let momentum = SGD(parameters: [plain], lr: 0.1, momentum: 0.9)
        let ahead = SGD(parameters: [nesterov], lr: 0.1, momentum: 0.9, nesterov: true)
        for _ in 0..<2 {
            step(momentum, plain, gradient: [1, 2])
            step(ahead, nesterov, gradient: [1, 2])
        }
        // Momentum: b1 = g, b2 = 0.9g + g = 1.9g; w = w0 − 0.1 (g + 1.9g) = w0 − 0.29g.
        XCTAssertEqual(plain.value.scalars[0], 1 - 0.29, accuracy: 1e-6)
        XCTAssertEqual(plain.value.scalars[1], -2 - 0.58, accuracy: 1e-6)
        // Nesterov steps g + 0.9b with the updated b: (g + 0.9g) + (g + 0.9·1.9g) = 4.61g, times lr.
        XCTAssertEqual(nesterov.value.scalars[0], 1 - 0.461, accuracy: 1e-6)
        XCTAssertEqual(nesterov.value.scalars[1], -2 - 0.922, accuracy: 1e-6)
    }

    func testAdamBiasCorrection() {
        let w = makeParameter()
        let adam = Adam(parameters: [w], lr: 0.01)
        step(adam, w, gradient: [0.5, -4])
        // Step 1: m̂ = g, v̂ = g², so the update is lr · g / (|g| + ε) ≈ lr · sign(g).
        XCTAssertEqual(w.value.scalars[0], 1 - 0.01, accuracy: 1e-6)
        XCTAssertEqual(w.value.scalars[1], -2 + 0.01, accuracy: 1e-6)
        step(adam, w, gradient: [1.5, -4])
        // Step 2 for element 0: m = 0.9·0.05 + 0.1·1.5 = 0.195 → m̂ = 0.195 / 0.19;
        // v = 0.999·0.00025 + 0.001·2.25 = 0.00249975 → v̂ = v / 0.001999.
        let mHat = 0.195 / 0.19, vHat = 0.00249975 / (1 - 0.999 * 0.999)
        XCTAssertEqual(Double(w.value.scalars[0]), 0.99 - 0.01 * mHat / (vHat.squareRoot() + 1e-8), accuracy: 1e-6)
    }

    func testAdamWDecaysBeforeTheAdamStep() {
        let w = makeParameter()
        let adamW = AdamW(parameters: [w], lr: 0.1, weightDecay: 0.5)
        step(adamW, w, gradient: [2, 2])
        // w · (1 − lr·λ) − lr · sign(g) = [0.95 − 0.1, −1.9 − 0.1]
        XCTAssertEqual(w.value.scalars[0], 0.85, accuracy: 1e-6)
        XCTAssertEqual(w.value.scalars[1], -2, accuracy: 1e-6)
        // Adam's L2 decay instead adds λw to the gradient, which Adam then normalizes away on step 1.
        let l2 = makeParameter()
        step(Adam(parameters: [l2], lr: 0.1, weightDecay: 0.5), l2, gradient: [2, 2])
        XCTAssertEqual(l2.value.scalars[0], 0.9, accuracy: 1e-6)
    }

    func testL1FrozenParametersAndMissingGradients() {
        let w = makeParameter(), frozen = makeParameter(), unused = makeParameter()
        frozen.isFrozen = true
        let sgd = SGD(parameters: [w, frozen, unused], lr: 0.1, l1: 0.5)
        sgd.zeroGrad()
        ((w.value + frozen.value) * Tensor([1, 1])).sum().backward()
        sgd.step()
        // g + λ·sign(w) = [1.5, 0.5]
        XCTAssertEqual(w.value.scalars, [0.85, -2.05])
        XCTAssertEqual(frozen.value.scalars, [1, -2])
        XCTAssertEqual(unused.value.scalars, [1, -2])
        XCTAssertEqual(sgd.stepCount, 1)
    }

    func testTrainingAnMLPReducesTheLoss() {
        GlobalRandom.seed(5)
        let model = Sequential {
            Linear(2, 16)
            Tanh()
            Linear(16, 2)
        }
        let x = Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), y = IndexTensor([0, 1, 1, 0])
        let optimizer = Adam(parameters: model.parameters, lr: 0.05)
        let initial = crossEntropy(model(x), y).item
        for _ in 0..<200 {
            optimizer.zeroGrad()
            crossEntropy(model(x), y).backward()
            optimizer.step()
        }
        let final = crossEntropy(model(x), y).item
        XCTAssertLessThan(final, initial / 10)
        XCTAssertEqual(model(x).argmax(axis: 1), y)
    }
}

final class ScheduleAndClippingTests: XCTestCase {
    private func optimizer(lr: Float = 1) -> SGD { SGD(parameters: [Parameter(Tensor([1]))], lr: lr) }

    func testRMSPropAndAdagradFirstSteps() {
        let w = Parameter(Tensor([1, -2])), v = Parameter(Tensor([1, -2]))
        let rmsprop = RMSProp(parameters: [w], lr: 0.01), adagrad = Adagrad(parameters: [v], lr: 0.1)
        for (optimizer, parameter) in [(rmsprop as Optimizer, w), (adagrad, v)] {
            optimizer.zeroGrad()
            (parameter.value * Tensor([0.5, -3])).sum().backward()
            optimizer.step()
        }
        // RMSProp: v = 0.01 g², step = lr · g / (0.1 |g|) = 0.1 · sign(g).
        XCTAssertEqual(w.value.scalars[0], 0.9, accuracy: 1e-5)
        XCTAssertEqual(w.value.scalars[1], -1.9, accuracy: 1e-5)
        // Adagrad: s = g², step = lr · sign(g).
        XCTAssertEqual(v.value.scalars[0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(v.value.scalars[1], -1.9, accuracy: 1e-6)
    }

    func testSchedules() {
        let stepOptimizer = optimizer()
        let stepSchedule = StepSchedule(optimizer: stepOptimizer, stepSize: 2, gamma: 0.5)
        var rates: [Float] = []
        for _ in 0..<5 { stepSchedule.step(); rates.append(stepOptimizer.learningRate) }
        XCTAssertEqual(rates, [1, 0.5, 0.5, 0.25, 0.25])
        let exponential = optimizer()
        let decay = ExponentialSchedule(optimizer: exponential, gamma: 0.9)
        decay.step(); decay.step()
        XCTAssertEqual(exponential.learningRate, 0.81, accuracy: 1e-6)
        let cosine = optimizer()
        let annealing = CosineSchedule(optimizer: cosine, period: 4, minimumLearningRate: 0.2)
        annealing.step(); annealing.step()
        XCTAssertEqual(cosine.learningRate, 0.6, accuracy: 1e-6)
        annealing.step(); annealing.step()
        XCTAssertEqual(cosine.learningRate, 0.2, accuracy: 1e-6)
        let warm = optimizer(lr: 0.1)
        let warmup = LinearWarmup(optimizer: warm, warmupSteps: 4, startFactor: 0.2)
        XCTAssertEqual(warm.learningRate, 0.02, accuracy: 1e-7)
        warmup.step(); warmup.step()
        XCTAssertEqual(warm.learningRate, 0.06, accuracy: 1e-7)
        for _ in 0..<5 { warmup.step() }
        XCTAssertEqual(warm.learningRate, 0.1, accuracy: 1e-7)
    }

    func testWarmupCosineMatchesNanoGPT() {
        let parameter = Parameter(Tensor([1]))
        let optimizer = SGD(parameters: [parameter], lr: 1e-3)
        let schedule = WarmupCosineSchedule(optimizer: optimizer, warmupSteps: 100, totalSteps: 2000, minimumLearningRate: 1e-4)
        // nanoGPT's get_lr(it), for the rate step `it` runs at.
        func nanoGPT(_ it: Int) -> Double {
            if it < 100 { return 1e-3 * Double(it + 1) / 101 }
            let ratio = Double(min(it, 2000) - 100) / 1900
            return 1e-4 + 0.5 * (1 + cos(Double.pi * ratio)) * (1e-3 - 1e-4)
        }
        XCTAssertEqual(Double(optimizer.learningRate), nanoGPT(0), accuracy: 1e-10)
        for it in 1...2100 {
            schedule.step()
            if [1, 99, 100, 101, 1000, 1999, 2000, 2100].contains(it) {
                XCTAssertEqual(Double(optimizer.learningRate), nanoGPT(it), accuracy: 1e-9, "step \(it)")
            }
        }
    }

    func testWeightDecayGroups() {
        let matrix = Parameter(Tensor.ones([2, 2])), vector = Parameter(Tensor.ones([2]))
        let optimizer = AdamW(parameters: [matrix, vector], lr: 0.1, weightDecay: 0.5)
        optimizer.setWeightDecay([([vector], 0)])
        ((matrix.value * 0).sum() + (vector.value * 0).sum()).backward()
        optimizer.step()
        // A zero gradient leaves only the decay: w ← w · (1 − lr · λ) for the matrix alone.
        XCTAssertEqual(matrix.value.scalars, [0.95, 0.95, 0.95, 0.95])
        XCTAssertEqual(vector.value.scalars, [1, 1])
    }

    func testReduceOnPlateau() {
        let plateauOptimizer = optimizer()
        let plateau = ReduceOnPlateau(optimizer: plateauOptimizer, factor: 0.5, patience: 2)
        for metric: Float in [1, 0.9, 0.95, 0.91, 0.92] { plateau.step(metric: metric) }
        XCTAssertEqual(plateauOptimizer.learningRate, 0.5)
        plateau.step(metric: 0.5)
        XCTAssertEqual(plateauOptimizer.learningRate, 0.5)
    }

    func testGradientClipping() {
        let a = Parameter(Tensor([3, 0])), b = Parameter(Tensor([0]))
        (a.value * Tensor([3, 0])).sum().backward()
        (b.value * Tensor([4])).sum().backward()
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        XCTAssertEqual(norm, 5, accuracy: 1e-5)
        XCTAssertEqual(a.grad!.scalars[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(b.grad!.scalars[0], 0.8, accuracy: 1e-5)
        clipGradientValue([a, b], maxValue: 0.7)
        XCTAssertEqual(b.grad!.scalars[0], 0.7, accuracy: 1e-6)
        XCTAssertEqual(a.grad!.scalars[0], 0.6, accuracy: 1e-5)
    }
}

/// Weight averaging against values computed by hand.
final class WeightAveragingTests: XCTestCase {
    func testExponentialMovingAverage() {
        // 21 elements cover full vectors and a tail; the large parameter crosses the threading threshold.
        let start: [Float] = (0..<21).map { Float($0) - 7 }
        let small = Parameter(Tensor(start)), large = Parameter(Tensor.randn([300_003], seed: 4))
        let average = ExponentialMovingAverage(parameters: [small, large], decay: 0.1)
        XCTAssertEqual(average.currentDecay, 0.1, accuracy: 1e-7)
        let largeStart = large.value.scalars
        let first = start.map { $0 * 3 }, second = start.map { -$0 + 1 }
        small.assign(Tensor(first))
        large.assign(large.value * 2)
        average.update()
        small.assign(Tensor(second))
        average.update()
        for i in 0..<21 {
            let expected = 0.1 * (0.1 * start[i] + 0.9 * first[i]) + 0.9 * second[i]
            XCTAssertEqual(average.averagedValues[0].scalars[i], expected, accuracy: 1e-5)
        }
        let largeAverage = average.averagedValues[1].scalars
        for i in stride(from: 0, to: 300_003, by: 9_999) {
            // Two updates toward 2·w0 from w0: 0.1·(0.1·w0 + 0.9·2w0) + 0.9·2w0 = 1.99·w0.
            XCTAssertEqual(largeAverage[i], 1.99 * largeStart[i], accuracy: 1e-5)
        }
        // The averaged weights are visible inside the closure only.
        let inside = average.withAveragedWeights { small.value.scalars }
        XCTAssertEqual(inside, average.averagedValues[0].scalars)
        XCTAssertEqual(small.value.scalars, second)
        average.copyToParameters()
        XCTAssertEqual(small.value.scalars, average.averagedValues[0].scalars)

        // Early updates use (1 + n) / (10 + n) until it exceeds the decay.
        let slow = ExponentialMovingAverage(parameters: [Parameter(Tensor([1]))], decay: 0.999)
        XCTAssertEqual(slow.currentDecay, 0.1, accuracy: 1e-7)
        slow.update()
        XCTAssertEqual(slow.currentDecay, 2 / 11, accuracy: 1e-7)
        for _ in 0..<20_000 { slow.update() }
        XCTAssertEqual(slow.currentDecay, 0.999, accuracy: 1e-7)
    }
}
