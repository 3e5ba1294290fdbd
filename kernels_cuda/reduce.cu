// SOFTMAX over the last dimension, and MEAN/SUM/REDUCE_MAX/REDUCE_MIN/REDUCE_PROD over a [outer][R][inner]
// view (the loader transposes first when the reduced axes are not contiguous).
#include "common.cuh"

#define RED_SUM 0
#define RED_MAX 1
#define RED_MIN 2
#define RED_PROD 3

// The reduction's identity (-inf for MAX, +inf for MIN) and one combining step acc (op) v.
__device__ __forceinline__ float tfl_red_init(int op) {
    return op == RED_MAX ? -__int_as_float(0x7f800000) : (op == RED_MIN ? __int_as_float(0x7f800000)
                                                         : (op == RED_PROD ? 1.f : 0.f));
}
__device__ __forceinline__ float tfl_red(float acc, float v, int op) {
    if (op == RED_SUM) return acc + v;
    if (op == RED_MAX) return v > acc ? v : acc;
    if (op == RED_MIN) return v < acc ? v : acc;
    return acc * v;
}

// One warp per row of length D.
// log_out != 0: LOG_SOFTMAX, (x - max) * beta - log(sum).
extern "C" __global__ void softmax_f32(const float* __restrict__ x, float* __restrict__ y, int rows, int D,
                                       float beta, int log_out) {
    int warps = blockDim.x / 32;
    int row = blockIdx.x * warps + threadIdx.x / 32;
    int lane = threadIdx.x & 31;
    if (row >= rows) return;   // whole warps leave together; no block barrier below
    const float* xr = x + (long long)row * D;
    float* yr = y + (long long)row * D;
    float m = -TFL_FLT_MAX;
    for (int i = lane; i < D; i += 32) m = fmaxf(m, xr[i]);
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    float s = 0.f;
    for (int i = lane; i < D; i += 32) s += expf((xr[i] - m) * beta);
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (log_out) {
        float ls = logf(s);
        for (int i = lane; i < D; i += 32) yr[i] = (xr[i] - m) * beta - ls;
    } else {
        float inv = 1.f / s;
        for (int i = lane; i < D; i += 32) yr[i] = expf((xr[i] - m) * beta) * inv;
    }
}

// One thread per (outer, inner) output; scale multiplies the result (1/R for MEAN).
extern "C" __global__ void reduce_f32(const float* __restrict__ x, float* __restrict__ y, int outer, int R,
                                      int inner, int op, float scale) {
    int total = outer * inner;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        int in = i % inner, o = i / inner;
        const float* xp = x + (long long)o * R * inner + in;
        float acc = tfl_red_init(op);
        for (int r = 0; r < R; r++) {
            float v = xp[(long long)r * inner];
            acc = tfl_red(acc, v, op);
        }
        y[i] = acc * scale;
    }
}

// inner == 1 and long rows: one block (256 threads) per output, tree reduction in shared memory.
extern "C" __global__ void reduce_rows_f32(const float* __restrict__ x, float* __restrict__ y, int R, int op,
                                           float scale) {
    __shared__ float part[256];
    const float* xp = x + (long long)blockIdx.x * R;
    float acc = tfl_red_init(op);
    for (int r = threadIdx.x; r < R; r += blockDim.x) {
        float v = xp[r];
        acc = tfl_red(acc, v, op);
    }
    part[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            part[threadIdx.x] = tfl_red(part[threadIdx.x], part[threadIdx.x + s], op);
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) y[blockIdx.x] = part[0] * scale;
}
