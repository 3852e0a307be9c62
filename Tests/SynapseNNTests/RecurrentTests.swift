import XCTest
import Synapse

/// Central differences of a scalar loss in every parameter of `module`, against autodiff.
private func assertParameterGradients(_ module: Module, inputs: [Tensor] = [], epsilon: Float = 1e-2,
                                      _ loss: ([Tensor]) -> Tensor, file: StaticString = #filePath, line: UInt = #line) {
    var leaves = inputs.map { $0.requiringGrad() }
    module.zeroGrad()
    loss(leaves).backward()
    func check(_ name: String, analytic: [Float], count: Int, set: (Int, Float) -> Void, original: (Int) -> Float) {
        for i in 0..<count {
            let value = original(i)
            set(i, value + epsilon)
            let plus = Double(withoutGradients { loss(leaves.map { $0.detached() }) }.item)
            set(i, value - epsilon)
            let minus = Double(withoutGradients { loss(leaves.map { $0.detached() }) }.item)
            set(i, value)
            let numeric = Float((plus - minus) / (2 * Double(epsilon)))
            XCTAssertEqual(analytic[i], numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(name)[\(i)]", file: file, line: line)
        }
    }
    for (name, parameter) in module.namedParameters {
        let analytic = parameter.grad?.scalars ?? [Float](repeating: 0, count: parameter.value.count)
        check(name, analytic: analytic, count: parameter.value.count,
              set: { i, v in parameter.updateInPlace { $0[i] = v } }, original: { parameter.value.scalars[$0] })
    }
    for index in leaves.indices {
        let analytic = leaves[index].grad?.scalars ?? []
        check("input \(index)", analytic: analytic, count: leaves[index].count,
              set: { i, v in leaves[index].withUnsafeMutableBufferPointer { $0[i] = v } }, original: { leaves[index].scalars[$0] })
    }
}

final class RecurrentTests: XCTestCase {
    func testLayerOpGradientsForEveryCellWithLengths() {
        for cell in RecurrentCell.allCases {
            let (steps, batch, features, hidden) = (4, 3, 2, 3)
            let gates = cell.gateCount * hidden
            var inputs = [Tensor.uniform([steps, batch, features], low: -1, high: 1, seed: 1),
                          Tensor.uniform([batch, hidden], low: -0.5, high: 0.5, seed: 2)]
            if cell.hasCellState { inputs.append(Tensor.uniform([batch, hidden], low: -0.5, high: 0.5, seed: 3)) }
            inputs += [Tensor.uniform([gates, features], low: -0.8, high: 0.8, seed: 4), Tensor.uniform([gates, hidden], low: -0.8, high: 0.8, seed: 5),
                       Tensor.uniform([gates], low: -0.5, high: 0.5, seed: 6), Tensor.uniform([gates], low: -0.5, high: 0.5, seed: 7)]
            for lengths in [nil, [4, 1, 2]] as [[Int]?] {
                let result = gradientCheck({ t in
                    let c = cell.hasCellState ? t[2] : nil, w = cell.hasCellState ? 3 : 2
                    let run = Tensor.recurrentLayer(cell, input: t[0], hidden: t[1], cellState: c, weightIH: t[w], weightHH: t[w + 1],
                                                    biasIH: t[w + 2], biasHH: t[w + 3], lengths: lengths)
                    return Tensor.concatenate([run.output.flattened(), run.hidden.flattened()] + (run.cellState.map { [$0.flattened()] } ?? []))
                }, at: inputs, epsilon: cell == .rnnRelu ? 1e-3 : 1e-2)
                XCTAssertTrue(result.passed, "\(cell) lengths \(String(describing: lengths)): \(result)")
            }
        }
    }

    func testPaddedOutputsAreZeroAndStatesStopAtEachLength() throws {
        GlobalRandom.seed(1)
        let lstm = LSTM(2, 3)
        let x = Tensor.uniform([3, 2, 2], low: -1, high: 1, seed: 2)
        let padded = try lstm(x, lengths: [3, 1])
        XCTAssertEqual(padded.output[1][1].scalars, [0, 0, 0])
        XCTAssertEqual(padded.output[2][1].scalars, [0, 0, 0])
        let alone = lstm(x.slice(axis: 1, start: 1, end: 2).slice(axis: 0, start: 0, end: 1))
        XCTAssertEqual(padded.hidden[0][1].scalars, alone.hidden[0][0].scalars)
        XCTAssertEqual(padded.cell[0][1].scalars, alone.cell[0][0].scalars)
    }

    func testLengthsOutsideTheSequenceOrOfTheWrongCountThrow() {
        let lstm = LSTM(2, 3, batchFirst: true), gru = GRU(2, 3)
        let x = Tensor.zeros([2, 4, 2])
        XCTAssertThrowsError(try lstm(x, lengths: [4, 5])) {
            XCTAssertEqual("\($0)", "LSTM: length 5 of sequence 1 is not in 1...4 (the padded sequence length)")
        }
        XCTAssertThrowsError(try lstm(x, lengths: [0, 2])) { XCTAssertTrue("\($0)".contains("length 0 of sequence 0")) }
        XCTAssertThrowsError(try gru(x, lengths: [1, 1, 1])) {
            XCTAssertEqual($0 as? RecurrentError, .invalidLengths("GRU: 3 lengths for a batch of 4 sequences"))
        }
        XCTAssertNoThrow(try lstm(x, lengths: [4, 1]))
    }

    func testBidirectionalPaddedBatchEqualsSequencesRunAlone() {
        GlobalRandom.seed(5)
        for network in [LSTM(3, 4, layers: 2, batchFirst: true, bidirectional: true),
                        GRU(3, 4, layers: 2, batchFirst: true, bidirectional: true),
                        RNN(3, 4, layers: 2, batchFirst: true, bidirectional: true)] as [RecurrentNetwork] {
            let lengths = [5, 2, 4]
            let x = Tensor.uniform([3, 5, 3], low: -1, high: 1, seed: 6)
            func run(_ input: Tensor, _ lengths: [Int]?) -> (Tensor, Tensor) {
                let result = lengths.map { try! network(input, state: nil, lengths: $0) } ?? network(input, state: nil)
                return (result.output, result.state.hidden)
            }
            let (output, hidden) = run(x, lengths)
            XCTAssertEqual(output.shape, [3, 5, 8])
            XCTAssertEqual(hidden.shape, [4, 3, 4])
            for (n, length) in lengths.enumerated() {
                let single = x.slice(axis: 0, start: n, end: n + 1).slice(axis: 1, start: 0, end: length)
                let (aloneOutput, aloneHidden) = run(single, nil)
                let mine = output.slice(axis: 0, start: n, end: n + 1).slice(axis: 1, start: 0, end: length)
                XCTAssertEqual(mine.shape, aloneOutput.shape)
                for (a, b) in zip(mine.scalars, aloneOutput.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6, "\(type(of: network)) output") }
                for (a, b) in zip(hidden.slice(axis: 1, start: n, end: n + 1).scalars, aloneHidden.scalars) {
                    XCTAssertEqual(a, b, accuracy: 1e-6, "\(type(of: network)) h_n")
                }
            }
        }
    }

    func testNetworkGradientsMultiLayerBidirectionalWithLengths() {
        GlobalRandom.seed(7)
        let lstm = LSTM(2, 3, layers: 2, batchFirst: true, bidirectional: true)
        let weights = Tensor.uniform([3, 4, 6], low: 0.5, high: 1.5, seed: 8)
        assertParameterGradients(lstm, inputs: [Tensor.uniform([3, 4, 2], low: -1, high: 1, seed: 9),
                                                Tensor.uniform([4, 3, 3], low: -0.5, high: 0.5, seed: 10),
                                                Tensor.uniform([4, 3, 3], low: -0.5, high: 0.5, seed: 11)]) { t in
            let r = try! lstm(t[0], hidden: t[1], cell: t[2], lengths: [4, 2, 3])
            return (r.output * weights).sum() + (r.hidden * 0.7).sum() + (r.cell * 1.3).sum()
        }
        let gru = GRU(2, 3, layers: 2, bidirectional: true)
        assertParameterGradients(gru, inputs: [Tensor.uniform([4, 2, 2], low: -1, high: 1, seed: 12)]) { t in
            let r = try! gru(t[0], lengths: [3, 4])
            return (r.output * Tensor.uniform([4, 2, 6], low: 0.5, high: 1.5, seed: 13)).sum() + r.hidden.sum()
        }
        let rnn = RNN(2, 3, layers: 2, dropout: 0)
        assertParameterGradients(rnn, inputs: [Tensor.uniform([4, 2, 2], low: -1, high: 1, seed: 14)]) { t in
            let r = rnn(t[0])
            return (r.output * Tensor.uniform([4, 2, 3], low: 0.5, high: 1.5, seed: 15)).sum() + r.hidden.sum()
        }
    }

    func testCellsStepLikeTheLayersAndNameParametersAsPyTorch() {
        GlobalRandom.seed(3)
        let lstm = LSTM(2, 3), cell = LSTMCell(2, 3)
        XCTAssertEqual(lstm.namedParameters.map(\.0), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"])
        XCTAssertEqual(cell.namedParameters.map(\.0), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        XCTAssertEqual(LSTM(2, 3, layers: 2, bidirectional: true).namedParameters.map(\.0).count, 16)
        XCTAssertEqual(GRU(2, 3, bidirectional: true).parameter(named: "weight_hh_l0_reverse")?.shape, [9, 3])
        for ((_, a), (_, b)) in zip(cell.namedParameters, lstm.namedParameters) { a.assign(b.value) }
        let x = Tensor.uniform([5, 2, 2], low: -1, high: 1, seed: 4)
        let whole = lstm(x)
        var state: (hidden: Tensor, cell: Tensor) = (Tensor.zeros([2, 3]), Tensor.zeros([2, 3]))
        for t in 0..<5 {
            state = cell(x[t], hidden: state.hidden, cell: state.cell)
            XCTAssertEqual(state.hidden.scalars, whole.output[t].scalars)
        }
        XCTAssertEqual(state.cell.scalars, whole.cell[0].scalars)
        let gruCell = GRUCell(2, 3), rnnCell = RNNCell(2, 3, nonlinearity: .relu)
        XCTAssertEqual(gruCell(x[0]).shape, [2, 3])
        XCTAssertTrue(rnnCell(x[0]).scalars.allSatisfy { $0 >= 0 })
    }

    func testInitializationBoundsAndDropoutOnlyInTraining() {
        GlobalRandom.seed(2)
        let gru = GRU(4, 16, layers: 2, dropout: 0.5)
        for (_, parameter) in gru.namedParameters {
            XCTAssertTrue(parameter.value.scalars.allSatisfy { abs($0) <= 0.25 })
        }
        let x = Tensor.uniform([3, 2, 4], seed: 1)
        gru.eval()
        XCTAssertEqual(gru(x).output.scalars, gru(x).output.scalars)
        gru.train()
        XCTAssertNotEqual(gru(x).output.scalars, gru(x).output.scalars)
    }

    func testEmbeddingPaddingRowAndScatteredGradients() {
        GlobalRandom.seed(1)
        let embedding = Embedding(5, 3, paddingIndex: 0)
        XCTAssertEqual(embedding.weight[0].scalars, [0, 0, 0])
        let tokens = IndexTensor([[1, 0, 1], [4, 4, 0]])
        let vectors = embedding(tokens)
        XCTAssertEqual(vectors.shape, [2, 3, 3])
        XCTAssertEqual(vectors[0][2].scalars, embedding.weight[1].scalars)
        (vectors * Tensor.arange(0, 18).reshaped([2, 3, 3])).sum().backward()
        let grad = embedding.weight.grad!
        XCTAssertEqual(grad[0].scalars, [0, 0, 0], "the padding row gets no gradient")
        XCTAssertEqual(grad[1].scalars, [6, 8, 10], "rows 0+6, 1+7, 2+8")
        XCTAssertEqual(grad[4].scalars, [21, 23, 25], "rows 9+12, 10+13, 11+14")
        XCTAssertEqual(grad[2].scalars, [0, 0, 0])
    }
}
