// Winograd convolution's tile transforms on 16-float vectors (16 channels at a time). In C
// for the reason of `synapse_multiply_add16`: debug builds run the tests, and there Swift's
// generic SIMD arithmetic goes lane by lane.

#ifndef CSYNAPSE_WINOGRAD_H
#define CSYNAPSE_WINOGRAD_H

// A linear map of small tiles: a rows × columns matrix L (2 to 6 each way, row-major) applied
// to both sides of a tile, out = L · x · Lᵀ, x being columns × columns and out rows × rows.
typedef struct {
    int rows, columns;
    const float *matrix;
} synapse_tile_map;

// One function per size, so the loops have constant bounds and unroll into broadcast
// multiply-adds. Row i of the result needs only row i of L · x, so each row is finished before
// the next; the innermost loops run over independent sums (a row's columns), so the adds do
// not wait on each other.
#define SYNAPSE_TILE_TRANSFORM(R, C)                                                                   \
    static inline void synapse_tile_transform16_##R##_##C(const float *m, const synapse_float16 *x,     \
                                                         synapse_float16 *out) {                       \
        for (int i = 0; i < R; i++) {                                                                   \
            synapse_float16 row[C], sums[R];                                                            \
            _Pragma("clang loop unroll(full)")                                                          \
            for (int v = 0; v < C; v++) row[v] = m[i * C] * x[v];                                      \
            _Pragma("clang loop unroll(full)")                                                          \
            for (int u = 1; u < C; u++) {                                                               \
                _Pragma("clang loop unroll(full)")                                                      \
                for (int v = 0; v < C; v++) row[v] += m[i * C + u] * x[u * C + v];                     \
            }                                                                                           \
            _Pragma("clang loop unroll(full)")                                                          \
            for (int j = 0; j < R; j++) sums[j] = m[j * C] * row[0];                                   \
            _Pragma("clang loop unroll(full)")                                                          \
            for (int v = 1; v < C; v++) {                                                               \
                _Pragma("clang loop unroll(full)")                                                      \
                for (int j = 0; j < R; j++) sums[j] += m[j * C + v] * row[v];                          \
            }                                                                                           \
            _Pragma("clang loop unroll(full)")                                                          \
            for (int j = 0; j < R; j++) out[i * R + j] = sums[j];                                      \
        }                                                                                               \
    }
#define SYNAPSE_TILE_TRANSFORMS(R) \
    SYNAPSE_TILE_TRANSFORM(R, 2) SYNAPSE_TILE_TRANSFORM(R, 3) SYNAPSE_TILE_TRANSFORM(R, 4) \
    SYNAPSE_TILE_TRANSFORM(R, 5) SYNAPSE_TILE_TRANSFORM(R, 6)
SYNAPSE_TILE_TRANSFORMS(2)
SYNAPSE_TILE_TRANSFORMS(3)
SYNAPSE_TILE_TRANSFORMS(4)
SYNAPSE_TILE_TRANSFORMS(5)
SYNAPSE_TILE_TRANSFORMS(6)
#undef SYNAPSE_TILE_TRANSFORMS
#undef SYNAPSE_TILE_TRANSFORM

// out = L · x · Lᵀ.
static inline void synapse_tile_transform16(synapse_tile_map map, const synapse_float16 *x, synapse_float16 *out) {
#define SYNAPSE_CASE(R, C) case R * 8 + C: synapse_tile_transform16_##R##_##C(map.matrix, x, out); return;
#define SYNAPSE_CASES(R) SYNAPSE_CASE(R, 2) SYNAPSE_CASE(R, 3) SYNAPSE_CASE(R, 4) SYNAPSE_CASE(R, 5) SYNAPSE_CASE(R, 6)
    switch (map.rows * 8 + map.columns) {
        SYNAPSE_CASES(2) SYNAPSE_CASES(3) SYNAPSE_CASES(4) SYNAPSE_CASES(5) SYNAPSE_CASES(6)
        default: __builtin_trap();
    }
#undef SYNAPSE_CASES
#undef SYNAPSE_CASE
}

// Gathers a columns × columns tile, tile[u][v] = the 16 floats at
// source + (y0 + step·u) · rowStride + (x0 + step·v) · columnStride, zero where that row or
// column falls outside height × width; maps it (L · tile · Lᵀ) and stores its rows² vectors
// at points + q · pointStride, q = i · rows + j.
static inline void synapse_tile_to_points16(const float *source, long rowStride, long columnStride, int height, int width,
                                            int y0, int x0, int step, synapse_tile_map map, float *points,
                                            long pointStride) {
    synapse_float16 tile[36], out[36];
    for (int u = 0; u < map.columns; u++) {
        int y = y0 + step * u;
        for (int v = 0; v < map.columns; v++) {
            int x = x0 + step * v;
            synapse_float16 value = 0;
            if (y >= 0 && y < height && x >= 0 && x < width) {
                __builtin_memcpy(&value, source + (long)y * rowStride + (long)x * columnStride, sizeof value);
            }
            tile[u * map.columns + v] = value;
        }
    }
    synapse_tile_transform16(map, tile, out);
    for (int q = 0; q < map.rows * map.rows; q++) __builtin_memcpy(points + q * pointStride, &out[q], sizeof out[q]);
}

// The way back: loads columns² vectors from points + q · pointStride, maps them
// (L · tile · Lᵀ) and writes the rows × rows result to
// target + (y0 + step·u) · rowStride + (x0 + step·v) · columnStride where that lies inside
// height × width, added to what is there when `accumulate` is set.
static inline void synapse_points_to_tile16(const float *points, long pointStride, synapse_tile_map map, float *target,
                                            long rowStride, long columnStride, int height, int width, int y0, int x0,
                                            int step, int accumulate) {
    synapse_float16 tile[36], out[36];
    for (int q = 0; q < map.columns * map.columns; q++) __builtin_memcpy(&tile[q], points + q * pointStride, sizeof tile[q]);
    synapse_tile_transform16(map, tile, out);
    for (int u = 0; u < map.rows; u++) {
        int y = y0 + step * u;
        if (y < 0 || y >= height) continue;
        for (int v = 0; v < map.rows; v++) {
            int x = x0 + step * v;
            if (x < 0 || x >= width) continue;
            float *address = target + (long)y * rowStride + (long)x * columnStride;
            synapse_float16 value = out[u * map.rows + v];
            if (accumulate) {
                synapse_float16 sum;
                __builtin_memcpy(&sum, address, sizeof sum);
                value += sum;
            }
            __builtin_memcpy(address, &value, sizeof value);
        }
    }
}

// Asks for the cache lines of [start, start + count floats) ahead of their use, to be read or
// (with `write`) written.
static inline void synapse_prefetch(const float *start, long count, int write) {
    if (write) {
        for (long i = 0; i < count; i += 16) __builtin_prefetch(start + i, 1, 3);
    } else {
        for (long i = 0; i < count; i += 16) __builtin_prefetch(start + i, 0, 3);
    }
}

#endif
