// Single-step recurrent cells for hand-written loops: RNNCell, LSTMCell, GRUCell.

import SynapseCore

/// The shared machinery of the cells: PyTorch's `nn.RNNCellBase`, with parameters
/// `weight_ih` [G·H, in], `weight_hh` [G·H, H], `bias_ih` and `bias_hh` [G·H] (PyTorch's names), all U(−1/√H, 1/√H).
/// One step runs the same fused kernels as the sequence layers.
open class RecurrentCellModule: Module {
    public let cell: RecurrentCell
    public let inputSize: Int
    public let hiddenSize: Int
    public let weightIH: Parameter
    public let weightHH: Parameter
    public let biasIH: Parameter?
    public let biasHH: Parameter?

    public init(cell: RecurrentCell, inputSize: Int, hiddenSize: Int, bias: Bool = true) {
        let name = String(describing: Self.self)
        require(inputSize > 0 && hiddenSize > 0, "\(name): sizes must be positive, got \(inputSize) → \(hiddenSize)")
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        let bound = 1 / Float(hiddenSize).squareRoot(), gateWidth = cell.gateCount * hiddenSize
        weightIH = Parameter(Initializer.uniform(bound: bound).make([gateWidth, inputSize]))
        weightHH = Parameter(Initializer.uniform(bound: bound).make([gateWidth, hiddenSize]))
        biasIH = bias ? Parameter(Initializer.uniform(bound: bound).make([gateWidth])) : nil
        biasHH = bias ? Parameter(Initializer.uniform(bound: bound).make([gateWidth])) : nil
    }

    /// PyTorch's names: weight_ih, weight_hh, bias_ih, bias_hh.
    open override var namedOwnParameters: [(String, Parameter)] {
        [("weight_ih", weightIH), ("weight_hh", weightHH)] + (biasIH.map { [("bias_ih", $0), ("bias_hh", biasHH!)] } ?? [])
    }

    func step(_ input: Tensor, hidden: Tensor?, cellState: Tensor?) -> (Tensor, Tensor?) {
        let name = String(describing: type(of: self))
        require(input.rank == 2 && input.shape[1] == inputSize, "\(name): input must be [N, \(inputSize)], got \(input.shape)")
        let zeros = Tensor.zeros([input.shape[0], hiddenSize])
        let result = Tensor.recurrentLayer(cell, input: input.unsqueezed(axis: 0), hidden: hidden ?? zeros,
                                           cellState: cell.hasCellState ? (cellState ?? zeros) : nil,
                                           weightIH: weightIH.value, weightHH: weightHH.value, biasIH: biasIH?.value, biasHH: biasHH?.value)
        return (result.hidden, result.cellState)
    }
}

/// One Elman RNN step, as `torch.nn.RNNCell`.
public final class RNNCell: RecurrentCellModule {
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, nonlinearity: RNN.Nonlinearity = .tanh) {
        super.init(cell: nonlinearity == .tanh ? .rnnTanh : .rnnRelu, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias)
    }

    /// The next hidden state [N, H] from `input` [N, in] and `hidden` (zeros by default).
    public func callAsFunction(_ input: Tensor, hidden: Tensor? = nil) -> Tensor {
        step(input, hidden: hidden, cellState: nil).0
    }
}

/// One LSTM step, as `torch.nn.LSTMCell`.
public final class LSTMCell: RecurrentCellModule {
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        super.init(cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias)
    }

    /// The next hidden and cell states [N, H] from `input` [N, in] and the current states
    /// (zeros by default).
    public func callAsFunction(_ input: Tensor, hidden: Tensor? = nil, cell: Tensor? = nil) -> (hidden: Tensor, cell: Tensor) {
        let (h, c) = step(input, hidden: hidden, cellState: cell)
        return (h, c!)
    }
}

/// One GRU step, as `torch.nn.GRUCell`.
public final class GRUCell: RecurrentCellModule {
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        super.init(cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias)
    }

    /// The next hidden state [N, H] from `input` [N, in] and `hidden` (zeros by default).
    public func callAsFunction(_ input: Tensor, hidden: Tensor? = nil) -> Tensor {
        step(input, hidden: hidden, cellState: nil).0
    }
}
