import XCTest
import Foundation
@testable import SynapseCore

final class AutogradTests: XCTestCase {
    func testChainRuleByHand() {
        // y = sum(w · x + b)² with w = 2, x = 3, b = 1 → dy/dw = 2(wx+b)x = 42, dy/db = 14.
        let w = Tensor(2).requiringGrad(), b = Tensor(1).requiringGrad()
        let y = (w * 3 + b).square()
        y.backward()
        XCTAssertEqual(w.grad?.item, 42)
        XCTAssertEqual(b.grad?.item, 14)
        XCTAssertTrue(w.isLeaf)
        XCTAssertFalse(y.isLeaf)
    }

    func testGradientsAccumulateAcrossUsesAndCalls() {
        let x = Tensor([1, 2]).requiringGrad()
        (x * x + x).sum().backward()
        assertClose(x.grad!, [3, 5])
        (x * 2).sum().backward()
        assertClose(x.grad!, [5, 7])
        x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    /// Watched leaves are reported once each, as soon as their gradient is final: the later
    /// layer's weights before the earlier layer's, a leaf used twice only after its last use,
    /// and leaves the graph does not reach (or that need no gradient) at the end.
    func testBackwardReportsEachWatchedGradientWhenItIsFinal() {
        let x = Tensor.uniform([4, 3], seed: 1)
        let first = Tensor.uniform([3, 5], seed: 2).requiringGrad(), second = Tensor.uniform([5, 2], seed: 3).requiringGrad()
        let shared = Tensor.uniform([1, 5], seed: 4).requiringGrad()
        let unused = Tensor.ones([2]).requiringGrad(), constant = Tensor.ones([2])
        let hidden = (x.matmul(first) + shared).tanh() * shared
        let loss = hidden.matmul(second).square().sum()
        var order: [Int] = [], seen: [Int: [Float]] = [:]
        let watched = [first, second, shared, unused, constant]
        loss.backward(watching: watched) { index in
            order.append(index)
            seen[index] = watched[index].grad?.scalars
        }
        XCTAssertEqual(order, [1, 2, 0, 3, 4])
        for index in 0..<3 { XCTAssertEqual(seen[index], watched[index].grad!.scalars, "gradient \(index) was final when reported") }
        XCTAssertNil(seen[3] ?? nil)
        // The same gradients as a plain backward().
        let again = [first, second, shared].map { $0.detached().requiringGrad() }
        (((x.matmul(again[0]) + again[2]).tanh() * again[2]).matmul(again[1])).square().sum().backward()
        for index in 0..<3 { XCTAssertEqual(again[index].grad!.scalars, watched[index].grad!.scalars) }
    }

    /// `backward(inputs:)` gives the named leaves the same gradients as a full backward, leaves
    /// the others untouched, and never runs an op's backward that feeds only the others: a
    /// generator's step computes none of the discriminator's weight gradients.
    func testBackwardRestrictedToSomeLeavesSkipsTheRest() {
        let x = Tensor.uniform([4, 3], seed: 1)
        func leaves() -> (generator: [Tensor], discriminator: [Tensor]) {
            ([Tensor.uniform([3, 5], seed: 2).requiringGrad(), Tensor.uniform([1, 5], seed: 3).requiringGrad()],
             [Tensor.uniform([5, 2], seed: 4).requiringGrad(), Tensor.uniform([2], seed: 5).requiringGrad()])
        }
        var discriminatorOnlyRuns = 0
        func loss(_ g: [Tensor], _ d: [Tensor]) -> Tensor {
            let fake = (x.matmul(g[0]) + g[1]).tanh()
            // An op whose only input is a discriminator weight.
            let scale = Tensor.custom("probe", d[1].detached() * 2, inputs: [d[1]]) { gradient in
                discriminatorOnlyRuns += 1
                return [gradient * 2]
            }
            return (fake.matmul(d[0]) * scale).sigmoid().sum()
        }
        let full = leaves(), restricted = leaves()
        loss(full.generator, full.discriminator).backward()
        XCTAssertEqual(discriminatorOnlyRuns, 1)
        loss(restricted.generator, restricted.discriminator).backward(inputs: restricted.generator)
        XCTAssertEqual(discriminatorOnlyRuns, 1, "the discriminator-only op ran backward")
        for (a, b) in zip(full.generator, restricted.generator) { XCTAssertEqual(a.grad!.scalars, b.grad!.scalars) }
        for d in restricted.discriminator { XCTAssertNil(d.grad) }
        // Restricted to the discriminator, the generator gets nothing; accumulation still adds.
        restricted.generator.forEach { $0.zeroGrad() }
        loss(restricted.generator, restricted.discriminator).backward(inputs: restricted.discriminator)
        loss(restricted.generator, restricted.discriminator).backward(inputs: [restricted.discriminator[0]])
        for g in restricted.generator { XCTAssertNil(g.grad) }
        assertClose(restricted.discriminator[0].grad!, (full.discriminator[0].grad! * 2).scalars)
        XCTAssertEqual(restricted.discriminator[1].grad!.scalars, full.discriminator[1].grad!.scalars)
        XCTAssertEqual(discriminatorOnlyRuns, 2)
    }

    func testBackwardWithSeedGradient() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        let y = x * x
        y.backward(Tensor([1, 0, 2]))
        assertClose(x.grad!, [2, 0, 12])
    }

    func testDetachAndNoGradScopes() {
        let x = Tensor([1, 2]).requiringGrad()
        XCTAssertFalse(x.detached().requiresGrad)
        let y = withoutGradients { x * 3 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(GradientMode.isEnabled)
        let z = (x.detached() * x).sum()
        z.backward()
        assertClose(x.grad!, [1, 2])
        let constant = Tensor([1, 2]) * 3
        XCTAssertFalse(constant.requiresGrad)
    }

    func testNoGradScopeIsPerThread() {
        final class Flag: @unchecked Sendable { var value = false }
        let x = Tensor([1]).requiringGrad()
        let recordedElsewhere = Flag()
        withoutGradients {
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                recordedElsewhere.value = (x * 2).requiresGrad
                done.signal()
            }
            thread.start()
            done.wait()
            XCTAssertFalse((x * 2).requiresGrad)
        }
        XCTAssertTrue(recordedElsewhere.value, "another thread keeps recording while this one is in withoutGradients")
    }

    func testGraphIsReleasedAfterBackward() {
        weak var savedStorage: TensorStorage?
        let w = Tensor.randn([4, 4], seed: 1).requiringGrad()
        var loss: Tensor
        do {
            let hidden = w.matmul(w).tanh()
            savedStorage = hidden.storage
            loss = hidden.sum()
        }
        XCTAssertNotNil(savedStorage, "the graph keeps intermediate values until backward")
        loss.backward()
        XCTAssertNil(savedStorage, "backward frees the intermediate values it saved")
        XCTAssertNotNil(w.grad)
        _ = loss
    }

    func testTrainingLoopDoesNotGrowTheGraph() {
        // Each step's graph must be freed: after many steps only the leaves' storage survives.
        var w = Tensor.randn([8, 1], seed: 2).requiringGrad()
        let x = Tensor.randn([16, 8], seed: 3), t = Tensor.randn([16, 1], seed: 4)
        weak var firstStepOutput: TensorStorage?
        for step in 0..<50 {
            let prediction = x.matmul(w)
            if step == 0 { firstStepOutput = prediction.storage }
            let loss = (prediction - t).square().mean()
            loss.backward()
            let gradient = w.grad!
            w = withoutGradients { w - 0.05 * gradient }.requiringGrad()
        }
        XCTAssertNil(firstStepOutput)
    }

    func testDeepGraphDoesNotOverflowTheStack() {
        let x = Tensor([1]).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y + 1 }
        y.sum().backward()
        assertClose(x.grad!, [1])
    }

    func testParameterUpdateInPlace() {
        var w = Tensor([1, 2]).requiringGrad()
        (w * w).sum().backward()
        let gradient = w.grad!
        w.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] -= 0.5 * gradient.scalars[i] }
        }
        XCTAssertEqual(w.scalars, [0, 0])
        XCTAssertTrue(w.requiresGrad)
    }
}

final class BufferCacheTests: XCTestCase {
    func testLargeBuffersAreReusedAndSmallOnesAreNot() {
        // Earlier tests may have filled the cache to its limit, and a full cache frees.
        BufferCache.shared.empty()
        var address: UnsafeMutablePointer<Float>?
        do {
            let big = Tensor.zeros([1 << 19])  // 2 MiB
            address = big.storage.pointer
        }
        let again = Tensor.ones([1 << 19])
        XCTAssertEqual(again.storage.pointer, address, "a freed large buffer of the same size is reused")
        XCTAssertEqual(again.scalars.first, 1, "reused memory is fully rewritten")
    }
}
