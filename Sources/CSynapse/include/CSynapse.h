// C helpers for SynapseKernels: what the compiler targets, and atomics for the thread pool.
#ifndef CSYNAPSE_H
#define CSYNAPSE_H

// The 16-float vector helpers below are static inline, so no call crosses an ABI boundary and
// clang's note that their vector ABI differs without AVX-512 does not apply.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

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

// Whether this build's target has AVX-512 (32 vector registers of 16 floats), which the
// 12×32 GEMM micro-kernel needs to keep its 24 accumulators in registers.
static inline int synapse_target_has_avx512(void) {
#if defined(__AVX512F__)
    return 1;
#else
    return 0;
#endif
}

static inline int synapse_target_has_avx2(void) {
#if defined(__AVX2__)
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

typedef float synapse_float8 __attribute__((ext_vector_type(8)));
typedef float synapse_float16 __attribute__((ext_vector_type(16)));

// acc + a · b on whole vectors, for unoptimized (debug) builds: there Swift's generic SIMD
// operators run lane by lane through protocol witnesses, which makes every product kernel
// about a hundred times slower than in release; clang emits vector instructions even at -O0.
static inline synapse_float8 synapse_multiply_add8(synapse_float8 acc, synapse_float8 a, synapse_float8 b) {
    return acc + a * b;
}

static inline synapse_float16 synapse_multiply_add16(synapse_float16 acc, synapse_float16 a, synapse_float16 b) {
    return acc + a * b;
}

// Lanes [first, end) of the 16 floats at `source` (lane l reads source[l]), zeros elsewhere;
// no memory outside those lanes is touched, so `source` may point before or past a buffer.
static inline synapse_float16 synapse_load_lanes16(const float *source, int first, int end) {
    synapse_float16 value = 0;
    if (end <= first) return value;
#if defined(__AVX512F__)
    typedef float v16 __attribute__((__vector_size__(64)));
    unsigned short mask = (unsigned short)(((1u << end) - 1) & ~((1u << first) - 1));
    value = (synapse_float16)__builtin_ia32_loadups512_mask(source, (v16){0}, mask);
#else
    for (int lane = first; lane < end; lane++) value[lane] = source[lane];
#endif
    return value;
}

// `base` moved by `offset` floats, as an address only: the result may lie outside any buffer
// (masked loads read only their lanes), where pointer arithmetic would be undefined.
static inline const float *synapse_offset(const float *base, long offset) {
    return (const float *)((__UINTPTR_TYPE__)base + (__UINTPTR_TYPE__)(offset * (long)sizeof(float)));
}

// The first `count` (0...16) floats at `source`, zeros after, without touching memory past
// them: a masked load where the target has AVX-512 (Swift's SIMD types have no masked
// memory operations), an element loop otherwise.
static inline synapse_float16 synapse_load_prefix16(const float *source, int count) {
    return synapse_load_lanes16(source, 0, count);
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

// `columns + columnStride · j` holds column j (16 floats) of a 16 × 16 tile, for j < `inputs`;
// the other columns are zero and never read. Transposes the tile in registers (four rounds of
// pairwise unzips) and writes (or adds) the first `count` lanes of each of its first `rows`
// rows to `target`, rows `stride` floats apart. In C because Swift's SIMD32 unzips stop being
// inlined in a large function.
static inline void synapse_store_transposed16(const float *columns, long columnStride, int inputs, int rows,
                                              float *target, long stride, int count, int add) {
    synapse_float16 x[16], y[16];
    for (int i = 0; i < 16; i++) {
        x[i] = (synapse_float16)0;
        if (i < inputs) __builtin_memcpy(&x[i], columns + columnStride * i, sizeof(synapse_float16));
    }
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 8; i++) {
            y[i] = __builtin_shufflevector(x[2 * i], x[2 * i + 1], 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            y[i + 8] = __builtin_shufflevector(x[2 * i], x[2 * i + 1], 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        }
        for (int i = 0; i < 16; i++) x[i] = y[i];
    }
#if defined(__AVX512F__)
    for (int r = 0; r < rows; r++) synapse_store_prefix16(target + r * stride, x[r], count, add);
#else
    // Element stores here: passing a 16-float vector by value to a helper changes the ABI
    // without AVX-512, which the compiler warns about.
    for (int r = 0; r < rows; r++) {
        float *row = target + r * stride;
        if (!add && count == 16) {
            // A whole row: two 8-float vector stores.
            __builtin_memcpy(row, &x[r], sizeof(synapse_float16));
            continue;
        }
        for (int j = 0; j < count; j++) row[j] = add ? row[j] + x[r][j] : x[r][j];
    }
#endif
}

// a > b ? a : b, lane by lane (b where they tie or either is NaN): exactly x86's MAXPS a, b,
// which the compiler does not always pick for the select when it is written out. A macro, so
// that C callers pass no 16-float vector to a function: that changes the ABI without AVX-512.
#if defined(__AVX512F__)
typedef float synapse_v16 __attribute__((__vector_size__(64)));
#define SYNAPSE_GREATER16(a, b) ((synapse_float16)__builtin_ia32_maxps512((synapse_v16)(a), (synapse_v16)(b), 4))
#else
#define SYNAPSE_GREATER16(a, b) ((a) > (b) ? (a) : (b))
#endif

// SYNAPSE_GREATER16 for Swift.
static inline synapse_float16 synapse_greater16(synapse_float16 a, synapse_float16 b) {
    return SYNAPSE_GREATER16(a, b);
}

// The 2×2 max pool of two rows of 16 values, each rectified first (as max(0, x) with −0 and NaN
// kept) if `rectify`: lane i is the maximum of columns 2i and 2i + 1 of both rows, found by
// strict comparisons in row-major order, so of tied values the first wins, as in
// `Kernels.maxPoolForward`. NaN is not propagated; callers rule it out.
static inline synapse_float8 synapse_pool_rows16(synapse_float16 top, synapse_float16 bottom, int rectify) {
    if (rectify) {
        synapse_float16 zero = 0;
        top = SYNAPSE_GREATER16(zero, top);
        bottom = SYNAPSE_GREATER16(zero, bottom);
    }
    synapse_float16 topRight = __builtin_shufflevector(top, top, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15);
    synapse_float16 bottomRight = __builtin_shufflevector(bottom, bottom, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15);
    synapse_float16 best = SYNAPSE_GREATER16(topRight, top);
    best = SYNAPSE_GREATER16(bottom, best);
    best = SYNAPSE_GREATER16(bottomRight, best);
    return __builtin_shufflevector(best, best, 0, 2, 4, 6, 8, 10, 12, 14);
}

// Copies a height × width plane into a zero-bordered paddedHeight × paddedWidth plane with the
// image at (paddingY, paddingX). Each row is written in whole 16-float vectors, so up to 15
// floats past the padded plane are overwritten (with zeros or the next row's start): callers
// leave that much room. Masked loads read only the image's own floats.
static inline void synapse_pad_plane(const float *source, int height, int width, float *target,
                                     int paddedHeight, int paddedWidth, int paddingY, int paddingX) {
    for (int y = 0; y < paddedHeight; y++) {
        int sourceRow = y - paddingY;
        int inside = sourceRow >= 0 && sourceRow < height;
        for (int column = 0; column < paddedWidth; column += 16) {
            // Lanes whose padded column falls on the image: [paddingX - column, paddingX + width - column).
            int first = paddingX - column, end = paddingX + width - column;
            if (first < 0) first = 0;
            if (end > 16) end = 16;
            synapse_float16 value = 0;
            // Lane l reads source[sourceRow · width + column + l − paddingX]; only lanes in [first, end) are read.
            if (inside) value = synapse_load_lanes16(synapse_offset(source, (long)sourceRow * width + column - paddingX), first, end);
            __builtin_memcpy(target + (long)y * paddedWidth + column, &value, sizeof(value));
        }
    }
}

// Writes the first `count` (1...32) floats of even[0], odd[0], even[1], odd[1], … to `target`.
static inline void synapse_store_interleaved(float *target, synapse_float16 even, synapse_float16 odd, int count) {
    synapse_float16 low = __builtin_shufflevector(even, odd, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    synapse_float16 high = __builtin_shufflevector(even, odd, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    synapse_store_prefix16(target, low, count < 16 ? count : 16, 0);
    if (count > 16) synapse_store_prefix16(target + 16, high, count - 16 < 16 ? count - 16 : 16, 0);
}

// The adjoint of im2col for `channels` channels of a convolution with horizontal stride 2,
// no dilation and kernels at most 16 × 16, as a gather: plane[Y, X] is the sum, over the
// kernel taps (i, j) that reach it in (i, j) order, of tap row (i, j)'s value at output (y, x)
// with Y = y·strideY − paddingY + i and X = 2x − paddingX + j. Channel c's tap row (i, j)
// starts at columns + c · channelStride + (i · kernelWidth + j) · tapStride and holds
// outputHeight × outputWidth values; its plane starts at planes + c · height · width. Even
// and odd X take their taps as whole vectors (lanes a tap does not reach add +0, which
// changes no sum, as a sum started at +0 is never −0), then interleave into the row: no
// read-modify-write of the planes, and the same bits as adding the taps into zeroed planes
// in that order. Which taps reach a row or a column half is worked out once, not per channel.
static inline void synapse_col2im_stride2(const float *columns, long channelStride, long tapStride, int channels,
                                          int kernelHeight, int kernelWidth, int strideY, int paddingY, int paddingX,
                                          int outputHeight, int outputWidth, float *planes, int height, int width) {
    int halves = (width + 1) / 2;
    for (int t0 = 0; t0 < halves; t0 += 16) {
        // For X = parity + 2t, t in [t0, t0 + 16): each reaching tap's offset into its tap row
        // and the lanes it covers.
        long columnOffsets[2][16];
        int firstLanes[2][16], endLanes[2][16], columnTaps[2] = {0, 0};
        for (int parity = 0; parity < 2; parity++) {
            int count = (width - parity + 1) / 2 - t0;
            if (count > 16) count = 16;
            for (int j = 0; j < kernelWidth; j++) {
                int offset = parity + paddingX - j;
                if (offset & 1) continue;
                int shift = offset >= 0 ? offset / 2 : -((-offset) / 2);  // x = t + shift
                int first = -shift - t0, end = outputWidth - shift - t0;
                if (first < 0) first = 0;
                if (end > count) end = count;
                if (end <= first) continue;
                int tap = columnTaps[parity]++;
                columnOffsets[parity][tap] = (long)j * tapStride + t0 + shift;
                firstLanes[parity][tap] = first;
                endLanes[parity][tap] = end;
            }
        }
        int X0 = 2 * t0, left = width - X0;
        for (int Y = 0; Y < height; Y++) {
            long rowOffsets[16];
            int rowTaps = 0;
            for (int i = 0; i < kernelHeight; i++) {
                int offset = Y + paddingY - i;
                if (offset < 0 || offset % strideY != 0 || offset / strideY >= outputHeight) continue;
                rowOffsets[rowTaps++] = (long)i * kernelWidth * tapStride + (long)(offset / strideY) * outputWidth;
            }
            // Two channels at a time, both halves of each: four independent chains of adds, each
            // in its own (i, j) order, so the loads' latency overlaps.
            for (int c = 0; c < channels; c += 2) {
                int pair = c + 1 < channels;
                const float *first = columns + (long)c * channelStride, *second = first + (pair ? channelStride : 0);
                synapse_float16 even0 = 0, odd0 = 0, even1 = 0, odd1 = 0;
                int taps = columnTaps[0] > columnTaps[1] ? columnTaps[0] : columnTaps[1];
                for (int r = 0; r < rowTaps; r++) {
                    for (int k = 0; k < taps; k++) {
                        if (k < columnTaps[0]) {
                            long offset = rowOffsets[r] + columnOffsets[0][k];
                            even0 += synapse_load_lanes16(synapse_offset(first, offset), firstLanes[0][k], endLanes[0][k]);
                            even1 += synapse_load_lanes16(synapse_offset(second, offset), firstLanes[0][k], endLanes[0][k]);
                        }
                        if (k < columnTaps[1]) {
                            long offset = rowOffsets[r] + columnOffsets[1][k];
                            odd0 += synapse_load_lanes16(synapse_offset(first, offset), firstLanes[1][k], endLanes[1][k]);
                            odd1 += synapse_load_lanes16(synapse_offset(second, offset), firstLanes[1][k], endLanes[1][k]);
                        }
                    }
                }
                synapse_store_interleaved(planes + ((long)c * height + Y) * width + X0, even0, odd0, left);
                if (pair) synapse_store_interleaved(planes + ((long)(c + 1) * height + Y) * width + X0, even1, odd1, left);
            }
        }
    }
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

#include "CSynapseWinograd.h"

#pragma clang diagnostic pop

#endif
