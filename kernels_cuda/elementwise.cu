// Elementwise binary ops with broadcasting and fused activation; unary ops and activations.
#include "common.cuh"

#define BIN_ADD 0
#define BIN_SUB 1
#define BIN_MUL 2
#define BIN_DIV 3
#define BIN_MAXIMUM 4
#define BIN_MINIMUM 5
#define BIN_SQUARED_DIFFERENCE 6
#define BIN_POW 7
#define BIN_PRELU 8

__device__ __forceinline__ float tfl_binary(float a, float b, int op) {
    switch (op) {
        case BIN_ADD: return a + b;
        case BIN_SUB: return a - b;
        case BIN_MUL: return a * b;
        case BIN_DIV: return a / b;
        case BIN_MAXIMUM: return (a != a || b != b) ? a + b : (a > b ? a : b);
        case BIN_MINIMUM: return (a != a || b != b) ? a + b : (a < b ? a : b);
        case BIN_SQUARED_DIFFERENCE: { float d = a - b; return d * d; }
        case BIN_POW: return powf(a, b);
        case BIN_PRELU: return a >= 0.f ? a : a * b;
        default: return 0.f;
    }
}

// Same shapes (or b a scalar when b_scalar != 0): out[i] = act(a[i] op b[i]).
extern "C" __global__ void binary_f32(const float* __restrict__ a, const float* __restrict__ b,
                                      float* __restrict__ out, int n, int op, int act, int b_scalar) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float bv = b_scalar ? b[0] : b[i];
        out[i] = tfl_act(tfl_binary(a[i], bv, op), act);
    }
}

// b broadcast along the last dimension (per-channel): b has `c` elements.
extern "C" __global__ void binary_lastdim_f32(const float* __restrict__ a, const float* __restrict__ b,
                                              float* __restrict__ out, int n, int c, int op, int act,
                                              int swap) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float av = a[i], bv = b[i % c];
        out[i] = tfl_act(swap ? tfl_binary(bv, av, op) : tfl_binary(av, bv, op), act);
    }
}

// General broadcasting: meta = out dims[rank], a strides[rank], b strides[rank] (0 on broadcast dims).
extern "C" __global__ void binary_bcast_f32(const float* __restrict__ a, const float* __restrict__ b,
                                            float* __restrict__ out, int n, int rank,
                                            const int* __restrict__ meta, int op, int act) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int ia = 0, ib = 0;
        tfl_strided_offsets(i, rank, meta, ia, ib);
        out[i] = tfl_act(tfl_binary(a[ia], b[ib], op), act);
    }
}

#define UN_RELU 0
#define UN_RELU6 1
#define UN_RELU_N1_TO_1 2
#define UN_LEAKY_RELU 3
#define UN_ELU 4
#define UN_HARD_SWISH 5
#define UN_LOGISTIC 6
#define UN_TANH 7
#define UN_EXP 8
#define UN_LOG 9
#define UN_SQRT 10
#define UN_RSQRT 11
#define UN_ABS 12
#define UN_NEG 13
#define UN_GELU 14
#define UN_GELU_TANH 15
#define UN_SQUARE 16
#define UN_COPY 17
#define UN_RELU_0_TO_1 18

__device__ __forceinline__ float tfl_unary(float x, int op, float alpha) {
    switch (op) {
        case UN_RELU: return x > 0.f ? x : 0.f;
        case UN_RELU6: return x < 0.f ? 0.f : (x > 6.f ? 6.f : x);
        case UN_RELU_N1_TO_1: return x < -1.f ? -1.f : (x > 1.f ? 1.f : x);
        case UN_LEAKY_RELU: return x >= 0.f ? x : x * alpha;
        case UN_ELU: return x >= 0.f ? x : expm1f(x);
        case UN_HARD_SWISH: { float r = x + 3.f; r = r < 0.f ? 0.f : (r > 6.f ? 6.f : r); return x * r * (1.f / 6.f); }
        case UN_LOGISTIC: return 1.f / (1.f + expf(-x));
        case UN_TANH: return tanhf(x);
        case UN_EXP: return expf(x);
        case UN_LOG: return logf(x);
        case UN_SQRT: return sqrtf(x);
        case UN_RSQRT: return rsqrtf(x);
        case UN_ABS: return fabsf(x);
        case UN_NEG: return -x;
        case UN_GELU: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
        case UN_GELU_TANH: {
            float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
            return 0.5f * x * (1.f + tanhf(u));
        }
        case UN_SQUARE: return x * x;
        case UN_RELU_0_TO_1: return x < 0.f ? 0.f : (x > 1.f ? 1.f : x);
        default: return x;
    }
}

extern "C" __global__ void unary_f32(const float* __restrict__ x, float* __restrict__ out, int n, int op,
                                     float alpha) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        out[i] = tfl_unary(x[i], op, alpha);
}

// IEEE half (raw 16-bit patterns) to float: DEQUANTIZE of float16 tensors computed on the device.
__device__ __forceinline__ float tfl_half_to_float(unsigned short h) {
    unsigned sign = (unsigned)(h & 0x8000u) << 16;
    unsigned exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    unsigned bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {                       // subnormal: normalise
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400u));
            bits = sign | ((unsigned)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    }
    return __uint_as_float(bits);
}

extern "C" __global__ void half_to_float_f32(const unsigned short* __restrict__ x, float* __restrict__ y, int n) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) y[i] = tfl_half_to_float(x[i]);
}
