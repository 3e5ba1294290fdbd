// CONV_2D as an implicit GEMM (im2col gathered on the fly into shared memory), DEPTHWISE_CONV_2D, and
// TRANSPOSE_CONV.  NHWC input, OHWI filters ([OC][KH][KW][IC]), fused bias and activation.
#include "common.cuh"

#define CV_BM 64
#define CV_BN 64
#define CV_BK 16

// Output viewed as C[M = N*OH*OW][OC]; A[m][k] = input patch value, k = (kh*KW + kw)*IC + ic;
// B[k][oc] = filter[oc][k].
extern "C" __global__ void __launch_bounds__(256)
conv2d_f32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
           float* __restrict__ y, int N, int H, int W, int IC, int OH, int OW, int OC, int KH, int KW,
           int sh, int sw, int dh, int dw, int pt, int pl, int act) {
    __shared__ float As[CV_BK][CV_BM + 4];
    __shared__ float Bs[CV_BK][CV_BN + 4];
    const int tid = threadIdx.x;
    const int tx = tid % 16, ty = tid / 16;
    const int M = N * OH * OW, K = KH * KW * IC;
    const int m0 = blockIdx.x * CV_BM, n0 = blockIdx.y * CV_BN;     // grid: x = pixel tiles, y = channel tiles
    const int lk = tid % CV_BK, lr = tid / CV_BK;
    int pix_base[4], pih[4], piw[4];
    tfl_patch_origins(m0, lr, M, H, W, IC, OH, OW, sh, sw, pt, pl, pix_base, pih, piw);
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
    for (int k0 = 0; k0 < K; k0 += CV_BK) {
        int k = k0 + lk;
        int ic = 0, kh = 0, kw = 0;
        if (k < K) { ic = k % IC; int t = k / IC; kw = t % KW; kh = t / KW; }
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float v = 0.f;
            if (k < K && pix_base[i] >= 0) {
                int ih = pih[i] + kh * dh, iw = piw[i] + kw * dw;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) v = x[pix_base[i] + (ih * W + iw) * IC + ic];
            }
            As[lk][lr + 16 * i] = v;
            int oc = n0 + lr + 16 * i;
            Bs[lk][lr + 16 * i] = (oc < OC && k < K) ? w[(long long)oc * K + k] : 0.f;
        }
        __syncthreads();
        tfl_tile_mac<CV_BK, CV_BM + 4>(As, Bs, tx, ty, acc);
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + ty + 16 * i;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int oc = n0 + tx + 16 * j;
            if (oc < OC) y[(long long)m * OC + oc] = tfl_act(acc[i][j] + (bias ? bias[oc] : 0.f), act);
        }
    }
}

// One thread per output element; filter [1][KH][KW][OC] with OC = IC * depth_multiplier.
extern "C" __global__ void depthwise_conv2d_f32(const float* __restrict__ x, const float* __restrict__ w,
                                                const float* __restrict__ bias, float* __restrict__ y,
                                                int N, int H, int W, int IC, int OH, int OW, int OC, int KH,
                                                int KW, int sh, int sw, int dh, int dw, int pt, int pl,
                                                int mult, int act) {
    int total = N * OH * OW * OC;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        int oc, ow, oh, n;
        tfl_nhwc_coords(i, OC, OW, OH, oc, ow, oh, n);
        int ic = oc / mult;
        int ih0 = oh * sh - pt, iw0 = ow * sw - pl;
        const float* xb = x + (long long)n * H * W * IC + ic;
        float acc = bias ? bias[oc] : 0.f;
        for (int kh = 0; kh < KH; kh++) {
            int ih = ih0 + kh * dh;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
                int iw = iw0 + kw * dw;
                if (iw < 0 || iw >= W) continue;
                acc = fmaf(xb[(ih * W + iw) * IC], w[(kh * KW + kw) * OC + oc], acc);
            }
        }
        y[i] = tfl_act(acc, act);
    }
}

// TRANSPOSE_CONV (gradient of conv): one thread per output element gathers the input pixels whose
// footprint covers it.  Filter [OC][KH][KW][IC]; output [N][OH][OW][OC].
extern "C" __global__ void transpose_conv2d_f32(const float* __restrict__ x, const float* __restrict__ w,
                                                const float* __restrict__ bias, float* __restrict__ y,
                                                int N, int H, int W, int IC, int OH, int OW, int OC, int KH,
                                                int KW, int sh, int sw, int pt, int pl, int act) {
    int total = N * OH * OW * OC;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        int oc, ow, oh, n;
        tfl_nhwc_coords(i, OC, OW, OH, oc, ow, oh, n);
        float acc = bias ? bias[oc] : 0.f;
        for (int kh = 0; kh < KH; kh++) {
            int ph = oh + pt - kh;          // = ih * sh
            if (ph < 0 || ph % sh) continue;
            int ih = ph / sh;
            if (ih >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
                int pw = ow + pl - kw;
                if (pw < 0 || pw % sw) continue;
                int iw = pw / sw;
                if (iw >= W) continue;
                const float* xp = x + (((long long)n * H + ih) * W + iw) * IC;
                const float* wp = w + (((long long)oc * KH + kh) * KW + kw) * IC;
                for (int ic = 0; ic < IC; ic++) acc = fmaf(xp[ic], wp[ic], acc);
            }
        }
        y[i] = tfl_act(acc, act);
    }
}
