// C helpers for SynapseKernels: what the compiler targets, and atomics for the thread pool.
#ifndef CSYNAPSE_H
#define CSYNAPSE_H

// Whether this build's target has fused multiply-add. Swift has no #if for CPU features,
// but this header is compiled with the same -Xcc flags as the Swift code that imports it,
// so `-Xcc -march=native` turns it on exactly when Swift's codegen gets FMA too.
static inline int synapse_target_has_fma(void) {
#if defined(__FMA__) || defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
    return 1;
#else
    return 0;
#endif
}

static inline int synapse_target_is_x86(void) {
#if defined(__x86_64__) || defined(__i386__)
    return 1;
#else
    return 0;
#endif
}

// Sequentially consistent atomics (the park handshake is Dekker-style, so acquire/release is not enough) on plain longs, for the spin/park handshake of the pool.
static inline long synapse_atomic_load(const long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void synapse_atomic_store(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline long synapse_atomic_add(long *p, long v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline void synapse_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
