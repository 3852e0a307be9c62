import Foundation
import XCTest
import Synapse

/// The README's quick start, verbatim apart from collecting the losses.
final class QuickStartTests: XCTestCase {
    func testReadmeQuickStartLearnsXOR() {
        var losses: [Float] = []
        let x = Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])       // [4, 2]
        let y = Tensor([[0], [1], [1], [0]])                   // [4, 1]
        var w1 = Tensor.randn([2, 8], seed: 0).requiringGrad()
        var w2 = Tensor.randn([8, 1], seed: 1).requiringGrad()

        for step in 0..<2000 {
            let hidden = x.matmul(w1).tanh()                   // broadcasting, matmul, activations
            let loss = (hidden.matmul(w2) - y).square().mean()
            loss.backward()                                    // fills w1.grad and w2.grad
            w1 = withoutGradients { w1 - 0.1 * w1.grad! }.requiringGrad()
            w2 = withoutGradients { w2 - 0.1 * w2.grad! }.requiringGrad()
            if step % 500 == 0 { losses.append(loss.item) }
        }
        let final = ((x.matmul(w1).tanh().matmul(w2) - y).square().mean()).item
        XCTAssertLessThan(final, 0.05, "losses \(losses)")
        XCTAssertLessThan(final, losses[0] / 5)
    }
}

/// The README's model-and-optimizer quick start.
final class TrainingQuickStartTests: XCTestCase {
    func testReadmeTrainingLoop() throws {
        GlobalRandom.seed(0)
        let (train, test) = try Datasets.digits()
        let model = Sequential {
            Linear(64, 128)
            ReLU()
            Dropout(p: 0.1)
            Linear(128, 10)
        }
        let optimizer = SGD(parameters: model.parameters, lr: 0.05, momentum: 0.9)
        for epoch in 1...20 {
            for batch in DataLoader(train, batchSize: 64, shuffle: true, seed: UInt64(epoch)) {
                optimizer.zeroGrad()
                let loss = crossEntropy(model(batch.inputs), batch.labels)
                loss.backward()
                optimizer.step()
            }
        }
        let accuracy = evaluate(model, on: DataLoader(test, batchSize: 256), classCount: 10).accuracy
        XCTAssertGreaterThan(accuracy, 0.93)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(model, to: path)
        XCTAssertEqual(try SafeTensors.read(path).tensors.keys.sorted(), ["0.bias", "0.weight", "3.bias", "3.weight"])
    }
}
