// What the training loop needs from the processes of a data-parallel job.

import SynapseCore
import SynapseNN

/// The processes of a data-parallel job, each training the same model on its own shard of
/// every batch, as PyTorch's DDP and Horovod do. A `Trainer` with a `processGroup` averages
/// the gradients of each step across the processes before clipping and stepping, sums the
/// loss and metric totals of each epoch and validation pass over them, and runs the callbacks
/// whose `scope` is `.primaryProcess` (progress, history, reports, checkpoints) on rank 0 only.
/// `SynapseDistributed.MPIProcessGroup` is the implementation on MPI.
public protocol ProcessGroup: AnyObject {
    /// This process's index, from 0.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Makes every process's parameters and buffers those of rank 0.
    func synchronize(_ module: Module) throws
    /// Replaces each parameter's gradient with its mean over the processes, identically on
    /// every process. A parameter that `backward()` did not reach counts as a zero gradient.
    func averageGradients(_ parameters: [Parameter]) throws
    /// Sets each parameter's gradient to the sum of every process's chunk gradients in chunk
    /// order, divided by the number of chunks, identically on every process. `chunks[i]` holds
    /// this process's chunk i (one gradient per parameter, nil for none), which is chunk
    /// rank + i·size of the whole batch.
    func averageGradients(_ parameters: [Parameter], chunks: [[Tensor?]]) throws
    /// Starts averaging `parameters`' gradients while `backward()` still runs (each bucket as
    /// soon as its gradients are final), or nil where that gains nothing; the trainer then
    /// calls `averageGradients` after `backward()`.
    func overlappedAveraging(of parameters: [Parameter]) -> (any OverlappedAveraging)?
    /// Element-wise sums of `values` over the processes (loss and metric totals).
    func sum(_ values: [Double]) throws -> [Double]
    /// Waits until every process has reached this call.
    func barrier() throws
    /// Seconds this process has spent in the group's collectives so far, waiting for the
    /// others included.
    var communicationSeconds: Double { get }
}

/// Where a callback runs in a data-parallel job.
public enum CallbackScope: Sendable {
    /// On every process: callbacks that change training (early stopping, pruning).
    case everyProcess
    /// On rank 0 only: callbacks that print or write files (progress, history, reports,
    /// checkpoints). Without a process group they always run.
    case primaryProcess
}

/// Gradient averaging that runs alongside `backward()`: the trainer passes
/// `gradientIsReady` to `Tensor.backward(watching:whenReady:)` and calls `finish()` after it.
/// The averages are the same, bit for bit, as `ProcessGroup.averageGradients` gives.
public protocol OverlappedAveraging: AnyObject {
    /// The gradient of parameter `index` (of those given to `overlappedAveraging(of:)`) is final.
    func gradientIsReady(_ index: Int)
    /// Waits for every average and sets each trainable parameter's gradient to it, or throws
    /// the first error of any collective.
    func finish() throws
}
