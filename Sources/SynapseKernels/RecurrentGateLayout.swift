// The column order of a recurrent layer's gates inside its kernels, chosen so that each thread
// of a time step owns whole hidden units: it computes their gate columns of the step's GEMM
// and then runs the gate kernel on them, with one fork and join per step and no second pass.
//
// PyTorch stores the G gate blocks one after another ([i | f | g | o], each H rows). Here the
// hidden units are grouped by one GEMM panel (32 units), and each group's columns hold its own
// G gate blocks side by side: group q is [i_q | f_q | g_q | o_q], starting at column 32·G·q.
// The last group may be narrower. With H ≤ 32 there is one group and the order is PyTorch's.

/// Where each gate of each hidden unit sits among a recurrent layer's G·H kernel columns.
public struct RecurrentGateLayout: Sendable, Equatable {
    /// Gate blocks per unit (1, 3 or 4) and hidden units.
    public let gates: Int, hiddenSize: Int

    public init(gates: Int, hiddenSize: Int) {
        self.gates = gates
        self.hiddenSize = hiddenSize
    }

    /// Hidden units per group: one GEMM panel, so every group's columns start on a panel.
    public static var groupWidth: Int { Kernels.gemmPanelWidth }

    public var groupCount: Int { (hiddenSize + Self.groupWidth - 1) / Self.groupWidth }

    /// Whether the layout is PyTorch's own order (a single group).
    public var isIdentity: Bool { groupCount <= 1 }

    /// The hidden units of groups `groups`.
    public func units(ofGroups groups: Range<Int>) -> Range<Int> {
        min(hiddenSize, groups.lowerBound * Self.groupWidth)..<min(hiddenSize, groups.upperBound * Self.groupWidth)
    }

    /// The kernel columns of groups `groups`.
    public func columns(ofGroups groups: Range<Int>) -> Range<Int> {
        let total = gates * hiddenSize
        return min(total, groups.lowerBound * Self.groupWidth * gates)..<min(total, groups.upperBound * Self.groupWidth * gates)
    }

    /// The PyTorch row (gate · H + unit) of kernel column `column`.
    public func pytorchRow(ofColumn column: Int) -> Int {
        let span = Self.groupWidth * gates, group = column / span, offset = column - group * span
        let width = units(ofGroups: group..<(group + 1)).count
        return (offset / width) * hiddenSize + group * Self.groupWidth + offset % width
    }

    /// Copies the G·H rows of `source` (each `rowLength` floats, in PyTorch's order) into
    /// `destination` in kernel order.
    public func toKernelOrder(_ source: UnsafePointer<Float>, rowLength: Int, into destination: UnsafeMutablePointer<Float>) {
        for column in 0..<(gates * hiddenSize) {
            (destination + column * rowLength).update(from: source + pytorchRow(ofColumn: column) * rowLength, count: rowLength)
        }
    }

    /// Copies the G·H rows of `source` (in kernel order) into `destination` in PyTorch's order.
    public func toPyTorchOrder(_ source: UnsafePointer<Float>, rowLength: Int, into destination: UnsafeMutablePointer<Float>) {
        for column in 0..<(gates * hiddenSize) {
            (destination + pytorchRow(ofColumn: column) * rowLength).update(from: source + column * rowLength, count: rowLength)
        }
    }

    /// Splits the groups into at most `tasks` contiguous ranges of nearly equal size.
    public func groups(ofTask task: Int, tasks: Int) -> Range<Int> {
        (groupCount * task / tasks)..<(groupCount * (task + 1) / tasks)
    }
}
