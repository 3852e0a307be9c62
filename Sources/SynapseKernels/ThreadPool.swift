// The fork-join thread pool that every kernel shares.
//
// Dispatch's concurrentPerform takes tens of microseconds to wake a worker on small VMs,
// which is as long as a whole NN-sized GEMM. These workers spin for a short while after
// each job, so back-to-back kernels fork in well under a microsecond, and then park on a
// condition variable so an idle process burns no CPU.

import CSynapse
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ThreadPool: @unchecked Sendable {
    /// Participants in each job, the calling thread included.
    let threadCount: Int
    private var workers: [pthread_t] = []
    /// Shared words for C atomics: the job generation, the next task index, the workers still
    /// running the current job, the workers parked, and the stop flag.
    private let words: UnsafeMutablePointer<Int>
    private var generation: UnsafeMutablePointer<Int> { words }
    private var nextTask: UnsafeMutablePointer<Int> { words + 1 }
    private var running: UnsafeMutablePointer<Int> { words + 2 }
    private var parked: UnsafeMutablePointer<Int> { words + 3 }
    private var stopping: UnsafeMutablePointer<Int> { words + 4 }
    private var job: ((Int) -> Void)?
    private var taskCount = 0
    // pthread objects must not move, so they live in their own allocations.
    private let parkMutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let parkCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Held for the length of a job; a caller that cannot take it (a nested or concurrent
    /// parallel call) runs its tasks serially instead of waiting.
    private let submitMutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// How long an idle worker spins before parking.
    private let spinNanoseconds: UInt64 = 200_000

    init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        words = .allocate(capacity: 5)
        words.initialize(repeating: 0, count: 5)
        pthread_mutex_init(parkMutex, nil)
        pthread_cond_init(parkCondition, nil)
        pthread_mutex_init(submitMutex, nil)
        for _ in 1..<self.threadCount {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(self).toOpaque()
            let status = pthread_create(&thread, nil, { context in
                let pool = Unmanaged<ThreadPool>.fromOpaque(context!).takeRetainedValue()
                pool.workerLoop()
                return nil
            }, context)
            precondition(status == 0, "ThreadPool: cannot start a worker thread (error \(status))")
            workers.append(thread)
        }
    }

    /// Stops and joins the workers. The pool must not be used afterwards.
    func shutDown() {
        synapse_atomic_store(stopping, 1)
        synapse_atomic_add(generation, 1)
        pthread_mutex_lock(parkMutex)
        pthread_cond_broadcast(parkCondition)
        pthread_mutex_unlock(parkMutex)
        for worker in workers { pthread_join(worker, nil) }
        workers = []
    }

    /// Runs `body(0..<count)`, spreading the task indices over the pool. Tasks must write
    /// disjoint outputs; which thread runs a task never changes what it computes.
    func run(tasks count: Int, _ body: (Int) -> Void) {
        if count <= 1 || workers.isEmpty || pthread_mutex_trylock(submitMutex) != 0 {
            for task in 0..<count { body(task) }
            return
        }
        defer { pthread_mutex_unlock(submitMutex) }
        withoutActuallyEscaping(body) { body in
            job = body
            taskCount = count
            synapse_atomic_store(nextTask, 0)
            synapse_atomic_store(running, workers.count)
            synapse_atomic_add(generation, 1)
            if synapse_atomic_load(parked) > 0 {
                pthread_mutex_lock(parkMutex)
                pthread_cond_broadcast(parkCondition)
                pthread_mutex_unlock(parkMutex)
            }
            runTasks()
            while synapse_atomic_load(running) > 0 { synapse_cpu_relax() }
            job = nil
        }
    }

    private func runTasks() {
        guard let job else { return }
        while true {
            let task = synapse_atomic_add(nextTask, 1)
            if task >= taskCount { break }
            job(task)
        }
    }

    private func workerLoop() {
        // Generation 0 is the pool's starting state; a worker that starts late must still see
        // the jobs (or the shutdown) submitted before it got going.
        var seen = 0
        while true {
            var spinStart: UInt64 = 0
            var spins = 0
            while synapse_atomic_load(generation) == seen {
                synapse_cpu_relax()
                spins += 1
                if spins & 255 != 0 { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if spinStart == 0 { spinStart = now }
                if now - spinStart < spinNanoseconds { continue }
                pthread_mutex_lock(parkMutex)
                synapse_atomic_add(parked, 1)
                while synapse_atomic_load(generation) == seen {
                    pthread_cond_wait(parkCondition, parkMutex)
                }
                synapse_atomic_add(parked, -1)
                pthread_mutex_unlock(parkMutex)
            }
            seen = synapse_atomic_load(generation)
            if synapse_atomic_load(stopping) != 0 { return }
            runTasks()
            synapse_atomic_add(running, -1)
        }
    }
}

extension Kernels {
    private static let poolLock = NSLock()
    nonisolated(unsafe) private static var currentPool = ThreadPool(threadCount: defaultThreadCount())
    /// A copy of the pool's size that kernels read on every call without taking the lock.
    nonisolated(unsafe) private static var currentThreadCount = currentPool.threadCount

    /// Threads the kernels use, the calling thread included. Defaults to `SYNAPSE_NUM_THREADS`
    /// if set, else the number of online cores. Set it only while no kernel is running; a value
    /// outside 1...maximumThreadCount is clamped, since spinning workers beyond the cores only
    /// slow every thread down.
    public static var threadCount: Int {
        get { currentThreadCount }
        set {
            let count = min(max(1, newValue), maximumThreadCount)
            poolLock.withLock {
                guard count != currentPool.threadCount else { return }
                currentPool.shutDown()
                currentPool = ThreadPool(threadCount: count)
                currentThreadCount = currentPool.threadCount
            }
        }
    }

    static var pool: ThreadPool { poolLock.withLock { currentPool } }

    /// Runs `body(task)` for every task in 0..<count on the shared pool.
    public static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        pool.run(tasks: count, body)
    }

    /// The most threads the kernels run: four per online core.
    public static var maximumThreadCount: Int { 4 * max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Why `SYNAPSE_NUM_THREADS` cannot be used, or nil when it is unset or valid.
    public static var threadEnvironmentProblem: String? {
        guard let text = ProcessInfo.processInfo.environment["SYNAPSE_NUM_THREADS"] else { return nil }
        guard let value = Int(text), (1...maximumThreadCount).contains(value) else {
            return "SYNAPSE_NUM_THREADS must be an integer from 1 to \(maximumThreadCount) (4 × the "
                + "\(ProcessInfo.processInfo.activeProcessorCount) cores), got \"\(text)\""
        }
        return nil
    }

    private static func defaultThreadCount() -> Int {
        noteBuildTargetOnce()
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        if let problem = threadEnvironmentProblem {
            FileHandle.standardError.write(Data("synapse: \(problem); using \(cores) threads\n".utf8))
            return cores
        }
        return ProcessInfo.processInfo.environment["SYNAPSE_NUM_THREADS"].flatMap { Int($0) } ?? cores
    }
}
