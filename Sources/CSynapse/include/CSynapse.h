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

typedef float synapse_float16 __attribute__((ext_vector_type(16)));

// The first `count` (0...16) floats at `source`, zeros after, without touching memory past
// them: a masked load where the target has AVX-512 (Swift's SIMD types have no masked
// memory operations), an element loop otherwise.
static inline synapse_float16 synapse_load_prefix16(const float *source, int count) {
#if defined(__AVX512F__)
    typedef float v16 __attribute__((__vector_size__(64)));
    return (synapse_float16)__builtin_ia32_loadups512_mask(source, (v16){0}, (unsigned short)((1u << count) - 1));
#else
    synapse_float16 value = 0;
    for (int j = 0; j < count; j++) value[j] = source[j];
    return value;
#endif
}

// Writes the first `count` (0...16) lanes of `value` to `target`, added to what is there
// when `add` is set, leaving the memory after them alone.
static inline void synapse_store_prefix16(float *target, synapse_float16 value, int count, int add) {
#if defined(__AVX512F__)
    typedef float v16 __attribute__((__vector_size__(64)));
    unsigned short mask = (unsigned short)((1u << count) - 1);
    v16 sum = (v16)value;
    if (add) sum += __builtin_ia32_loadups512_mask(target, (v16){0}, mask);
    __builtin_ia32_storeups512_mask(target, sum, mask);
#else
    for (int j = 0; j < count; j++) target[j] = add ? target[j] + value[j] : value[j];
#endif
}

// `columns + 16 j` holds column j of a 16 × 16 tile of C. Transposes the tile in registers (four
// rounds of pairwise unzips) and writes (or adds) the first `count` lanes of each of its first
// `rows` rows to `target`, rows `stride` floats apart. In C because Swift's SIMD32 unzips
// stop being inlined in a large function.
static inline void synapse_store_transposed16(const float *columns, int rows, float *target, long stride,
                                              int count, int add) {
    synapse_float16 x[16], y[16];
    for (int i = 0; i < 16; i++) __builtin_memcpy(&x[i], columns + 16 * i, sizeof(synapse_float16));
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 8; i++) {
            y[i] = __builtin_shufflevector(x[2 * i], x[2 * i + 1], 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            y[i + 8] = __builtin_shufflevector(x[2 * i], x[2 * i + 1], 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        }
        for (int i = 0; i < 16; i++) x[i] = y[i];
    }
    for (int r = 0; r < rows; r++) synapse_store_prefix16(target + r * stride, x[r], count, add);
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
