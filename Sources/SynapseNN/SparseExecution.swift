// When a pruned layer runs on its sparse weight instead of the dense one.

import SynapseCore
import SynapseKernels

/// Chooses between a layer's dense and sparse kernels at inference. A `Linear` whose weight
/// is at least `minimumSparsity` zeros (after pruning, or loaded from a sparse checkpoint)
/// runs its forward pass as a sparse × dense product when no gradient is being recorded;
/// training always uses the dense weight, whose gradient the optimizer needs.
public enum SparseExecution {
    /// Whether layers choose by sparsity (`automatic`), always use the dense kernel (`dense`,
    /// to measure against), or use the sparse kernel whenever any weight is zero (`sparse`).
    public enum Policy: String, Sendable, CaseIterable {
        case automatic, dense, sparse
    }

    /// The policy every layer follows; set it only while no layer is running.
    nonisolated(unsafe) public static var policy = Policy.automatic

    /// The sparsity from which a fully connected layer runs its sparse kernel. `synapse-bench
    /// sparse` put the crossover with the dense GEMM between 0.5 and 0.6 for three layer
    /// shapes on an AVX2 machine (BENCHMARKS.md); 0.7 leaves a margin for other machines.
    nonisolated(unsafe) public static var minimumSparsity = 0.7

    /// Whether a weight of this sparsity should run sparse under the current policy.
    static func prefersSparse(sparsity: Double) -> Bool {
        switch policy {
        case .automatic: return sparsity >= minimumSparsity
        case .dense: return false
        case .sparse: return sparsity > 0
        }
    }
}

/// A layer's sparse copy of its own weight, rebuilt when the weight changes.
final class SparseWeightCache {
    private var version = -1
    private var sparsity = 0.0
    private var matrix: SparseMatrix?

    /// The CSR form of `parameter` viewed as [rows, value.count / rows], or nil when the
    /// policy prefers the dense kernel for it.
    func matrix(for parameter: Parameter, rows: Int) -> SparseMatrix? {
        if version != parameter.version {
            version = parameter.version
            sparsity = parameter.sparsity
            matrix = nil
        }
        guard SparseExecution.prefersSparse(sparsity: sparsity) else { return nil }
        if matrix == nil {
            let value = parameter.value
            matrix = value.withUnsafeBufferPointer { SparseMatrix(dense: $0.baseAddress!, rows: rows, columns: value.count / rows) }
        }
        return matrix
    }
}
