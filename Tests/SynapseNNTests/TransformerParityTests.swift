import Foundation
import XCTest
import Synapse

/// MultiheadAttention and the Transformer layers against PyTorch
/// (Fixtures/make_transformer_fixture.py), with the weights loaded by their PyTorch names.
final class TransformerParityTests: XCTestCase {
    private func fixture() throws -> CheckpointFile {
        try CheckpointFile(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/transformer.safetensors").path)
    }

    private func assertMatches(_ actual: Tensor?, _ name: String, in file: CheckpointFile, line: UInt = #line) {
        guard let expected = file.tensors[name], let actual else { return XCTFail("missing \(name)", line: line) }
        XCTAssertEqual(actual.shape, expected.shape, name, line: line)
        var worst: Float = 0
        for (a, b) in zip(actual.scalars, expected.scalars) { worst = max(worst, abs(a - b)) }
        XCTAssertLessThanOrEqual(worst, 1e-5, "\(name): max |difference| \(worst)", line: line)
    }

    /// Loads `module` from case `name`, runs `forward` on the named inputs (as leaves), and checks
    /// the output and the gradients of every input and parameter.
    private func check(_ name: String, _ module: Module, inputs: [String], line: UInt = #line,
                       _ forward: ([String: Tensor], (String) -> Tensor) -> Tensor) throws {
        let file = try fixture()
        try file.load(modules: [(name, module)])
        let leaves = Dictionary(uniqueKeysWithValues: inputs.map { ($0, file.tensors["\(name).\($0)"]!.requiringGrad()) })
        let output = forward(leaves) { file.tensors["\(name).\($0)"]! }
        assertMatches(output, "\(name).output", in: file, line: line)
        (output * file.tensors["\(name).R"]!).sum().backward()
        for input in inputs { assertMatches(leaves[input]!.grad, "\(name).grad.\(input)", in: file, line: line) }
        for (parameterName, parameter) in module.namedParameters {
            assertMatches(parameter.grad, "\(name).grad.\(parameterName)", in: file, line: line)
        }
    }

    func testSelfAttentionWithBothMasksTimeMajor() throws {
        let attention = MultiheadAttention(8, 2)
        XCTAssertEqual(attention.namedParameters.map(\.0), ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        try check("mha_self", attention, inputs: ["x"]) { inputs, mask in
            attention(inputs["x"]!, keyPaddingMask: mask("key_padding_mask"), attentionMask: mask("attn_mask"))
        }
    }

    func testCrossAttentionBatchFirst() throws {
        let attention = MultiheadAttention(8, 2, batchFirst: true)
        try check("mha_cross", attention, inputs: ["query", "memory"]) { inputs, mask in
            attention(inputs["query"]!, inputs["memory"]!, inputs["memory"]!, keyPaddingMask: mask("key_padding_mask"))
        }
    }

    func testEncoderLayerPostAndPreNorm() throws {
        let post = TransformerEncoderLayer(modelDimension: 8, heads: 2, feedForwardDimension: 16, dropout: 0, batchFirst: true)
        try check("enc_post", post, inputs: ["src"]) { inputs, mask in
            post(inputs["src"]!, keyPaddingMask: mask("src_key_padding_mask"))
        }
        let pre = TransformerEncoderLayer(modelDimension: 8, heads: 2, feedForwardDimension: 16, dropout: 0,
                                          activation: .gelu, batchFirst: true, normFirst: true)
        try check("enc_pre", pre, inputs: ["src"]) { inputs, mask in pre(inputs["src"]!, mask: mask("src_mask")) }
    }

    func testDecoderLayerPostAndPreNorm() throws {
        for (name, normFirst, activation) in [("dec_post", false, TransformerActivation.relu), ("dec_pre", true, .gelu)] {
            let layer = TransformerDecoderLayer(modelDimension: 8, heads: 2, feedForwardDimension: 16, dropout: 0,
                                                activation: activation, batchFirst: true, normFirst: normFirst)
            try check(name, layer, inputs: ["tgt", "memory"]) { inputs, mask in
                layer(inputs["tgt"]!, memory: inputs["memory"]!, targetMask: mask("tgt_mask"),
                      memoryKeyPaddingMask: mask("memory_key_padding_mask"))
            }
        }
    }

    func testStacksNameTheirLayers() {
        let encoder = TransformerEncoder(count: 2, norm: LayerNorm(8)) {
            TransformerEncoderLayer(modelDimension: 8, heads: 2, feedForwardDimension: 16)
        }
        let names = encoder.namedParameters.map(\.0)
        XCTAssertTrue(names.contains("layers.1.self_attn.in_proj_weight"))
        XCTAssertTrue(names.contains("layers.0.linear2.bias"))
        XCTAssertEqual(names.last, "norm.bias")
        let decoder = TransformerDecoder(count: 1) { TransformerDecoderLayer(modelDimension: 8, heads: 2) }
        XCTAssertTrue(decoder.namedParameters.map(\.0).contains("layers.0.multihead_attn.out_proj.weight"))
        XCTAssertTrue(decoder.namedParameters.map(\.0).contains("layers.0.norm3.weight"))
    }

    func testCausalFlagEqualsTriangularMask() {
        let layer = TransformerEncoderLayer(modelDimension: 8, heads: 2, feedForwardDimension: 16, dropout: 0, batchFirst: true)
        let x = Tensor.randn([2, 6, 8], seed: 1)
        let triangle = Tensor((0..<6).flatMap { i in (0..<6).map { j in j > i ? Float(1) : 0 } }, shape: [6, 6])
        let flagged = layer(x, causal: true), masked = layer(x, mask: triangle)
        for (a, b) in zip(flagged.scalars, masked.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }
}
