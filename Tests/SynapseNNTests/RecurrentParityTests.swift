import Foundation
import XCTest
import Synapse

/// Outputs, final states and gradients against PyTorch (Fixtures/make_recurrent_fixture.py),
/// with the weights loaded by their PyTorch names.
final class RecurrentParityTests: XCTestCase {
    private func fixture() throws -> CheckpointFile {
        try CheckpointFile(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/recurrent.safetensors").path)
    }

    private func assertMatches(_ actual: Tensor?, _ name: String, in file: CheckpointFile,
                               line: UInt = #line) {
        guard let expected = file.tensors[name], let actual else { return XCTFail("missing \(name)", line: line) }
        XCTAssertEqual(actual.shape, expected.shape, name, line: line)
        var worst: Float = 0
        for (a, b) in zip(actual.scalars, expected.scalars) { worst = max(worst, abs(a - b)) }
        XCTAssertLessThanOrEqual(worst, 1e-5, "\(name): max |difference| \(worst)", line: line)
    }

    private func check(_ name: String, _ network: RecurrentNetwork) throws {
        let file = try fixture()
        let lengths = try file.requireMetadata("lengths").split(separator: ",").map { Int($0)! }
        try file.load(modules: [(name, network)])
        let x = file.tensors["\(name).x"]!.requiringGrad(), h0 = file.tensors["\(name).h0"]!.requiringGrad()
        let c0 = file.tensors["\(name).c0"]?.requiringGrad()
        let output: Tensor, hidden: Tensor, cell: Tensor?
        switch network {
        case let lstm as LSTM: (output, hidden, cell) = try { let r = try lstm(x, hidden: h0, cell: c0, lengths: lengths); return (r.output, r.hidden, r.cell) }()
        case let gru as GRU: (output, hidden, cell) = try { let r = try gru(x, hidden: h0, lengths: lengths); return (r.output, r.hidden, nil) }()
        case let rnn as RNN: (output, hidden, cell) = try { let r = try rnn(x, hidden: h0, lengths: lengths); return (r.output, r.hidden, nil) }()
        default: return XCTFail("unexpected network")
        }
        assertMatches(output, "\(name).output", in: file)
        assertMatches(hidden, "\(name).h_n", in: file)
        var loss = (output * file.tensors["\(name).R"]!).sum() + (hidden * file.tensors["\(name).S"]!).sum()
        if let cell {
            assertMatches(cell, "\(name).c_n", in: file)
            loss = loss + (cell * file.tensors["\(name).U"]!).sum()
        }
        loss.backward()
        assertMatches(x.grad, "\(name).grad.x", in: file)
        assertMatches(h0.grad, "\(name).grad.h0", in: file)
        if let c0 { assertMatches(c0.grad, "\(name).grad.c0", in: file) }
        for (parameterName, parameter) in network.namedParameters {
            assertMatches(parameter.grad, "\(name).grad.\(parameterName)", in: file)
        }
    }

    func testTwoLayerBidirectionalLSTMWithLengths() throws {
        try check("lstm", LSTM(3, 4, layers: 2, batchFirst: true, bidirectional: true))
    }

    func testBidirectionalGRUWithLengths() throws {
        try check("gru", GRU(3, 4, batchFirst: true, bidirectional: true))
    }

    func testTwoLayerTimeMajorRNNWithLengths() throws {
        try check("rnn", RNN(3, 4, layers: 2))
    }
}
