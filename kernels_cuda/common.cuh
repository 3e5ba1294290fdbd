// Shared helpers of the tfl_gpu CUDA kernels (float32, NHWC).  Kept free of any #include so that NVRTC
// compiles it without CUDA headers; the loader inlines it into each .cu file.
#pragma once

// Fused activation codes (TFLite ActivationFunctionType)
#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_RELU_N1_TO_1 2
#define ACT_RELU6 3
#define ACT_TANH 4
#define ACT_SIGN_BIT 5

#define TFL_FLT_MAX 3.402823466e+38f

__device__ __forceinline__ float tfl_act(float v, int act) {
    switch (act) {
        case ACT_RELU: return v > 0.f ? v : 0.f;
        case ACT_RELU_N1_TO_1: return v < -1.f ? -1.f : (v > 1.f ? 1.f : v);
        case ACT_RELU6: return v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
        case ACT_TANH: return tanhf(v);
        case ACT_SIGN_BIT: return __float_as_int(v) < 0 ? 1.f : 0.f;
        default: return v;
    }
}

// Maximum rank of the generic strided kernels (metadata arrays hold rank ints per field).
#define TFL_MAX_RANK 8

// Implicit-GEMM convolutions (conv2d_f32, conv2d_s8): a 256-thread block loads the A rows m0 + lr + 16*i
// (i < 4), each an output pixel; for each its batch offset into NHWC x (-1 past M) and the top-left input
// coordinates of its patch.
__device__ __forceinline__ void tfl_patch_origins(int m0, int lr, int M, int H, int W, int IC, int OH, int OW,
                                                  int sh, int sw, int pt, int pl, int* pix_base, int* pih,
                                                  int* piw) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + lr + 16 * i;
        if (m < M) {
            int ow = m % OW, t = m / OW, oh = t % OH, n = t / OH;
            pix_base[i] = n * H * W * IC;
            pih[i] = oh * sh - pt;
            piw[i] = ow * sw - pl;
        } else {
            pix_base[i] = -1; pih[i] = 0; piw[i] = 0;
        }
    }
}

__device__ __forceinline__ float tfl_mac(float a, float b, float c) { return fmaf(a, b, c); }
__device__ __forceinline__ int tfl_mac(int a, int b, int c) { return c + a * b; }

// One shared-memory K tile of the 64x64 block GEMMs (conv2d_f32, conv2d_s8, matmul_f32): thread (tx, ty)
// of the 16x16 grid accumulates its 4x4 outputs acc[i][j] += As[kk][ty + 16*i] * Bs[kk][tx + 16*j].
template <int BK, int LD, typename T>
__device__ __forceinline__ void tfl_tile_mac(const T (*As)[LD], const T (*Bs)[LD], int tx, int ty, T (*acc)[4]) {
#pragma unroll
    for (int kk = 0; kk < BK; kk++) {
        T a[4], b[4];
#pragma unroll
        for (int i = 0; i < 4; i++) a[i] = As[kk][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[i][j] = tfl_mac(a[i], b[j], acc[i][j]);
    }
}

// Generic strided iteration: meta = dims[rank], a_strides[rank], b_strides[rank]; adds the offsets of flat
// index i (row-major over dims) along both stride sets to ia and ib.
__device__ __forceinline__ void tfl_strided_offsets(int i, int rank, const int* meta, int& ia, int& ib) {
    int rem = i;
    for (int d = rank - 1; d >= 0; d--) {
        int dim = meta[d];
        int q = rem / dim;
        int idx = rem - q * dim;
        rem = q;
        ia += idx * meta[rank + d];
        ib += idx * meta[2 * rank + d];
    }
}

// PAD iteration: meta = out_dims, in_dims, pad_before, in_strides (rank ints each); ii = the input offset of
// flat output index i; returns whether that element lies inside the input (else it is padding).
__device__ __forceinline__ bool tfl_pad_offset(int i, int rank, const int* meta, int& ii) {
    int rem = i;
    bool inside = true;
    ii = 0;
    for (int d = rank - 1; d >= 0; d--) {
        int dim = meta[d];
        int q = rem / dim;
        int idx = rem - q * dim - meta[2 * rank + d];
        rem = q;
        if (idx < 0 || idx >= meta[rank + d]) inside = false;
        ii += idx * meta[3 * rank + d];
    }
    return inside;
}

// Flat index i of a contiguous NHWC tensor [.][OH][OW][C] -> its coordinates (c, w, h, n).
__device__ __forceinline__ void tfl_nhwc_coords(int i, int C, int OW, int OH, int& c, int& w, int& h, int& n) {
    c = i % C;
    int t = i / C;
    w = t % OW;
    t /= OW;
    h = t % OH;
    n = t / OH;
}

// GATHER: flat output index i of out[o][j][in] -> the offset of params[o][idx[j]][in] (negative indices
// count from the end of the axis), or -1 when idx[j] is out of range.
__device__ __forceinline__ long long tfl_gather_src(int i, const int* idx, int axis_n, int nidx, int inner) {
    int in = i % inner, t = i / inner, j = t % nidx, o = t / nidx;
    int k = idx[j];
    if (k < 0) k += axis_n;
    return (k >= 0 && k < axis_n) ? ((long long)o * axis_n + k) * inner + in : -1;
}

// NHWC 2-D pooling: output element i (channel fastest) -> the offset of x[n][0][0][c] and the in-bounds
// window rows [hs, he) and columns [ws, we).
struct TflPoolWindow {
    long long base;
    int hs, he, ws, we;
};
__device__ __forceinline__ TflPoolWindow tfl_pool_window(int i, int H, int W, int C, int OH, int OW, int KH,
                                                         int KW, int sh, int sw, int pt, int pl) {
    int c, ow, oh, n;
    tfl_nhwc_coords(i, C, OW, OH, c, ow, oh, n);
    int h0 = oh * sh - pt, w0 = ow * sw - pl;
    TflPoolWindow p;
    p.hs = h0 < 0 ? 0 : h0;
    p.ws = w0 < 0 ? 0 : w0;
    p.he = h0 + KH < H ? h0 + KH : H;
    p.we = w0 + KW < W ? w0 + KW : W;
    p.base = (long long)n * H * W * C + c;
    return p;
}
