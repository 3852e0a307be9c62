// Batch normalization over the global batch of a data-parallel job.

import SynapseCore
import SynapseNN

/// PyTorch's `SyncBatchNorm`, as its `convert_sync_batchnorm`: in training mode the converted
/// layers normalize with the mean and variance of the whole global batch, summed across the
/// processes in both the forward and the backward pass, rather than of each process's share.
/// Worth it when each process's share is small; by default (as in DDP) batch normalization
/// stays local. Evaluation mode uses the running estimates either way.
public enum SyncBatchNorm {
    /// Makes every `BatchNorm1d` and `BatchNorm2d` in `module` synchronize over `group`, and
    /// returns how many it converted.
    @discardableResult
    public static func convert(_ module: Module, group: MPIProcessGroup) -> Int {
        var converted = 0
        if let norm = module as? BatchNorm {
            norm.statisticsReducer = group
            converted += 1
        }
        for (_, child) in module.namedChildren { converted += convert(child, group: group) }
        return converted
    }
}

extension MPIProcessGroup: BatchStatisticsReducer {
    public var processCount: Int { size }

    public func sumAcrossProcesses(_ values: Tensor) -> Tensor {
        Tensor.custom("sumAcrossProcesses", summed(values), inputs: [values]) { [unowned self] gradient in [summed(gradient)] }
    }

    private func summed(_ tensor: Tensor) -> Tensor {
        var scalars = tensor.scalars
        do {
            try scalars.withUnsafeMutableBufferPointer { try sumInRankOrder($0.baseAddress!, count: $0.count) }
        } catch {
            // MPI's default error handler ends the job before a call can fail; this is for handlers that return.
            fatalError("SyncBatchNorm: \(error)")
        }
        return Tensor(scalars, shape: tensor.shape)
    }
}
