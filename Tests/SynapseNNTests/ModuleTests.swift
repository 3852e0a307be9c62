import Foundation
import XCTest
import Synapse

private final class TwoLayer: Module, UnaryLayer {
    let fc1 = Linear(4, 3)
    let fc2 = Linear(3, 2, bias: false)
    func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).relu()) }
}

private final class Wrapper: Module, UnaryLayer {
    let layers = Sequential {
        Linear(2, 5)
        Tanh()
        Linear(5, 1)
    }
    let blocks = [Linear(1, 1), Linear(1, 1)]
    @Parameter var scale: Tensor = Tensor([1])
    func callAsFunction(_ x: Tensor) -> Tensor { layers(x) * scale }
}

final class ModuleTests: XCTestCase {
    func testParameterNamesFollowPyTorch() {
        XCTAssertEqual(TwoLayer().namedParameters.map(\.0), ["fc1.weight", "fc1.bias", "fc2.weight"])
        XCTAssertEqual(Wrapper().namedParameters.map(\.0),
                       ["scale", "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"])
        XCTAssertEqual(TwoLayer().parameterCount, 4 * 3 + 3 + 3 * 2)
        XCTAssertEqual(TwoLayer().fc1.weight.shape, [3, 4])
    }

    func testLinearMatchesHandComputation() {
        let layer = Linear(3, 2)
        layer.weight = Tensor([[1, 2, 3], [-1, 0, 1]])
        layer.bias!.assign(Tensor([0.5, -0.5]))
        let y = layer(Tensor([[1, 1, 1], [2, 0, -1]]))
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.scalars, [6.5, -0.5, -0.5, -3.5])
        // A leading batch of batches keeps its shape.
        XCTAssertEqual(layer(Tensor.zeros([4, 5, 3])).shape, [4, 5, 2])
    }

    func testLinearDefaultInitializationBounds() {
        GlobalRandom.seed(0)
        let layer = Linear(100, 50)
        let bound: Float = 1 / 10
        XCTAssertLessThanOrEqual(layer.weight.abs().max().item, bound)
        XCTAssertGreaterThan(layer.weight.abs().max().item, bound * 0.95)
        XCTAssertLessThanOrEqual(layer.bias!.value.abs().max().item, bound)
    }

    func testConv2dTakesAWeightInitializer() {
        GlobalRandom.seed(0)
        let conv = Conv2d(32, 64, kernelSize: 3, initializer: .kaimingNormal())
        XCTAssertEqual(conv.weight.variance().item, 2 / 288, accuracy: 5e-4)
        // The bias keeps PyTorch's default U(−1/√fanIn, 1/√fanIn).
        XCTAssertLessThanOrEqual(conv.bias!.value.abs().max().item, 1 / Float(288).squareRoot())
        let zero = Conv2d(3, 4, kernelSize: (1, 5), initializer: .zeros)
        XCTAssertEqual(zero.weight.shape, [4, 3, 1, 5])
        XCTAssertEqual(zero.weight.abs().max().item, 0)
    }

    func testInitializersHaveTheirVariance() {
        var generator = RandomGenerator(seed: 1)
        let xavier = Initializer.xavierNormal().make([200, 300], generator: &generator)
        XCTAssertEqual(xavier.variance().item, 2 / 500, accuracy: 2e-4)
        let kaiming = Initializer.kaimingNormal().make([64, 32, 3, 3], generator: &generator)
        XCTAssertEqual(kaiming.variance().item, 2 / 288, accuracy: 5e-4)
        let uniform = Initializer.xavierUniform().make([200, 300], generator: &generator)
        XCTAssertLessThanOrEqual(uniform.abs().max().item, (6 / Float(500)).squareRoot())
    }

    func testTrainEvalFreezeAndDropout() {
        GlobalRandom.seed(2)
        let model = Sequential {
            Linear(10, 10)
            Dropout(p: 0.25)
        }
        let dropout = model.layers[1] as! Dropout
        let x = Tensor.ones([200, 50])
        let dropped = dropout(x)
        let zeroFraction = (dropped .== 0).mean().item
        XCTAssertEqual(zeroFraction, 0.25, accuracy: 0.02)
        XCTAssertEqual(dropped.max().item, 1 / 0.75, accuracy: 1e-6)
        model.eval()
        XCTAssertFalse(dropout.isTraining)
        XCTAssertEqual(dropout(x).scalars, x.scalars)
        model.train()
        XCTAssertTrue(dropout.isTraining)
        model.freeze()
        XCTAssertTrue(model.trainableParameters.isEmpty)
        XCTAssertFalse(model.parameters[0].value.requiresGrad)
        model.unfreeze()
        XCTAssertEqual(model.trainableParameters.count, 2)
    }

    func testParameterGradientsThroughComposedModulesMatchFiniteDifferences() {
        GlobalRandom.seed(3)
        let model = Wrapper()
        let x = Tensor.randn([6, 2], seed: 4)
        func loss() -> Tensor { mseLoss(model(x), Tensor.ones([6, 1])) }
        model.zeroGrad()
        loss().backward()
        let epsilon: Float = 1e-2
        for (name, parameter) in model.namedParameters where !name.hasPrefix("blocks") {
            let analytic = parameter.grad!.scalars
            for i in 0..<parameter.value.count {
                let original = parameter.value.scalars[i]
                parameter.updateInPlace { $0[i] = original + epsilon }
                let plus = Double(withoutGradients { loss() }.item)
                parameter.updateInPlace { $0[i] = original - epsilon }
                let minus = Double(withoutGradients { loss() }.item)
                parameter.updateInPlace { $0[i] = original }
                let numeric = Float((plus - minus) / (2 * Double(epsilon)))
                XCTAssertEqual(analytic[i], numeric, accuracy: 1e-3 + 1e-2 * abs(numeric), "\(name)[\(i)]")
            }
        }
        XCTAssertNil(model.blocks[0].weight.grad, "unused modules get no gradient")
    }
}

final class NormalizationTests: XCTestCase {
    func testBatchNormTrainingAndEvaluation() {
        let bn = BatchNorm1d(2, momentum: 0.5)
        let x = Tensor([[1, 10], [3, 20], [5, 30]])
        let y = bn(x)
        // Column 0: mean 3, population variance 8/3.
        XCTAssertEqual(y.scalars[0], (1 - 3) / (8 / 3 + 1e-5 as Float).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(y.mean(axis: 0).scalars[1], 0, accuracy: 1e-5)
        // Running mean = 0.5 · 0 + 0.5 · 3; running variance uses the unbiased 4.
        XCTAssertEqual(bn.runningMean.scalars, [1.5, 10])
        XCTAssertEqual(bn.runningVariance.scalars[0], 0.5 + 0.5 * 4, accuracy: 1e-5)
        XCTAssertEqual(bn.namedBuffers.map(\.0), ["running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(bn.batchesTracked.item, 1)
        bn.eval()
        let evaluated = bn(Tensor([[1.5, 10]]))
        XCTAssertEqual(evaluated.scalars[0], 0, accuracy: 1e-5)
        XCTAssertEqual(bn.batchesTracked.item, 1)
    }

    func testLayerNormNormalizesTheLastAxes() {
        let ln = LayerNorm(4)
        let y = ln(Tensor([[1, 2, 3, 4], [10, 10, 10, 14]]))
        XCTAssertEqual(y.mean(axis: 1).scalars[0], 0, accuracy: 1e-6)
        XCTAssertEqual(y.variance(axis: 1, correction: 0).scalars[0], 1, accuracy: 1e-4)
        XCTAssertEqual(y.scalars[7], 3 / (3 + 1e-5 as Float).squareRoot(), accuracy: 1e-4)
    }

    func testNormalizationGradients() {
        let x = Tensor.randn([5, 3], seed: 9)
        let bn = BatchNorm1d(3), ln = LayerNorm(3)
        let bnCheck = gradientCheck({ bn($0[0]) * Tensor([1, 2, 3]) }, at: [x])
        XCTAssertTrue(bnCheck.passed, bnCheck.description)
        let lnCheck = gradientCheck({ ln($0[0]) * Tensor([1, 2, 3]) }, at: [x])
        XCTAssertTrue(lnCheck.passed, lnCheck.description)
    }
}

final class ActivationModuleTests: XCTestCase {
    func testParameterFreeLayersAgainstHandValues() {
        let x = Tensor([[-1, 0.5], [2, -3]])
        XCTAssertEqual(ReLU()(x).scalars, [0, 0.5, 2, 0])
        XCTAssertEqual(LeakyReLU(negativeSlope: 0.1)(x).scalars, [-0.1, 0.5, 2, -0.3].map { Float($0) })
        XCTAssertEqual(Sigmoid()(Tensor([0])).item, 0.5)
        XCTAssertEqual(Tanh()(Tensor([0])).item, 0)
        XCTAssertEqual(GELU()(Tensor([1])).item, 0.8413447, accuracy: 1e-6)
        let softmax = Softmax(axis: 1)(Tensor([[0, 0], [0, Float(log(3.0))]])).scalars
        XCTAssertEqual(softmax[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(softmax[3], 0.75, accuracy: 1e-6)
        XCTAssertEqual(Identity()(x).scalars, x.scalars)
        XCTAssertEqual(Flatten()(Tensor.zeros([2, 3, 4])).shape, [2, 12])
        XCTAssertEqual(ReLU().parameterCount, 0)
    }
}

final class ConvolutionLayerTests: XCTestCase {
    func testConv2dLayer() {
        let conv = Conv2d(1, 1, kernelSize: 2, bias: true)
        conv.weight = Tensor([1, 0, 0, 1], shape: [1, 1, 2, 2])
        conv.bias!.assign(Tensor([10]))
        let y = conv(Tensor.arange(1, 10).reshaped([1, 1, 3, 3]))
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(y.scalars, [16, 18, 22, 24])
        XCTAssertEqual(Conv2d(3, 8, kernelSize: 5, padding: .same)(Tensor.zeros([2, 3, 9, 7])).shape, [2, 8, 9, 7])
        XCTAssertEqual(Conv2d(4, 8, kernelSize: 3, stride: 2, padding: 1, groups: 2).weight.shape, [8, 2, 3, 3])
        let model = Sequential { Conv2d(1, 4, kernelSize: 3); BatchNorm2d(4) }
        XCTAssertEqual(model.namedParameters.map(\.0), ["0.weight", "0.bias", "1.weight", "1.bias"])
        XCTAssertEqual(model.namedBuffers.map(\.0), ["1.running_mean", "1.running_var", "1.num_batches_tracked"])
    }

    func testPoolingLayersAndBatchNorm2d() {
        let x = Tensor.arange(0, 16).reshaped([1, 1, 4, 4])
        XCTAssertEqual(MaxPool2d(2)(x).scalars, [5, 7, 13, 15])
        XCTAssertEqual(AvgPool2d(2)(x).scalars, [2.5, 4.5, 10.5, 12.5])
        XCTAssertEqual(AdaptiveAvgPool2d()(x).scalars, [7.5])
        XCTAssertEqual(AdaptiveAvgPool2d((2, 2))(x).scalars, [2.5, 4.5, 10.5, 12.5])
        let bn = BatchNorm2d(2, momentum: 1)
        let input = Tensor.stack([Tensor.full([3, 3], value: 1), Tensor.arange(0, 9).reshaped([3, 3])]).unsqueezed(axis: 0)
        let y = bn(input)
        XCTAssertEqual(y.mean(axes: [0, 2, 3]).scalars[1], 0, accuracy: 1e-5)
        XCTAssertEqual(bn.runningMean.scalars, [1, 4])
        XCTAssertEqual(bn.runningVariance.scalars[1], 7.5, accuracy: 1e-5)  // unbiased variance of 0…8
        let check = gradientCheck({ BatchNorm2d(2)($0[0]) * Tensor([1, 2]).reshaped([1, 2, 1, 1]) }, at: [Tensor.randn([2, 2, 3, 3], seed: 11)])
        XCTAssertTrue(check.passed, check.description)
    }

    func testDropout2dDropsWholeChannels() {
        GlobalRandom.seed(6)
        let y = Dropout2d(p: 0.5)(Tensor.ones([8, 16, 3, 3]))
        let perChannel = y.reshaped([8 * 16, 9])
        for row in 0..<(8 * 16) {
            let values = Set(perChannel[row].scalars)
            XCTAssertTrue(values == [0] || values == [2], "channel \(row) is \(values)")
        }
        XCTAssertEqual((y .== 0).mean().item, 0.5, accuracy: 0.15)
    }
}
