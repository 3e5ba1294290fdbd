// int8 kernels (quantized CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED), bit-exact with LiteRT's BUILTIN
// kernels: exact int32 accumulation of (x - x_zp) * (w - w_zp) + bias, then TFLite's fixed-point
// requantization (MultiplyByQuantizedMultiplier with a per-channel multiplier/shift), the output zero
// point and the fused activation's integer clamp.
#include "common.cuh"

// MultiplyByQuantizedMultiplier for q >= 0: x << max(shift, 0) (wrapping int32), the rounding doubling
// high multiply (x*q + 2^30) >> 31, then a rounding right shift by max(-shift, 0) whose halves round up
// (up != 0: LiteRT's vectorised/ruy path) or away from zero (the reference path).
__device__ __forceinline__ int tfl_requant(int acc, int q, int shift, int up) {
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    long long x = (long long)(int)((unsigned)acc << left);
    long long t = (x * (long long)q + (1ll << 30)) >> 31;
    if (right > 0) {
        long long half = 1ll << (right - 1);
        t = up ? (t + half) >> right : (t + half - (t < 0 ? 1 : 0)) >> right;
    }
    return (int)t;
}

__device__ __forceinline__ signed char tfl_out_s8(int acc, int oc, const int* q, const int* shift, int up_limit,
                                                 int out_zp, int lo, int hi) {
    int r = tfl_requant(acc, q[oc], shift[oc], oc < up_limit) + out_zp;
    r = r < lo ? lo : (r > hi ? hi : r);
    return (signed char)r;
}

#define QC_BM 64
#define QC_BN 64
#define QC_BK 16

// Implicit GEMM as conv2d_f32, on int32: A[m][k] = x - x_zp (0 outside the image), B[k][oc] = w - w_zp.
// FULLY_CONNECTED runs through it as N rows of 1x1 images.
extern "C" __global__ void __launch_bounds__(256)
conv2d_s8(const signed char* __restrict__ x, const signed char* __restrict__ w, const int* __restrict__ bias,
          signed char* __restrict__ y, const int* __restrict__ q, const int* __restrict__ shift,
          int N, int H, int W, int IC, int OH, int OW, int OC, int KH, int KW, int sh, int sw, int dh, int dw,
          int pt, int pl, int x_zp, int w_zp, int out_zp, int lo, int hi, int up_limit) {
    __shared__ int As[QC_BK][QC_BM + 4];
    __shared__ int Bs[QC_BK][QC_BN + 4];
    const int tid = threadIdx.x;
    const int tx = tid % 16, ty = tid / 16;
    const int M = N * OH * OW, K = KH * KW * IC;
    const int m0 = blockIdx.x * QC_BM, n0 = blockIdx.y * QC_BN;
    const int lk = tid % QC_BK, lr = tid / QC_BK;
    int pix_base[4], pih[4], piw[4];
    tfl_patch_origins(m0, lr, M, H, W, IC, OH, OW, sh, sw, pt, pl, pix_base, pih, piw);
    int acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0;
    for (int k0 = 0; k0 < K; k0 += QC_BK) {
        int k = k0 + lk;
        int ic = 0, kh = 0, kw = 0;
        if (k < K) { ic = k % IC; int t = k / IC; kw = t % KW; kh = t / KW; }
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int v = 0;
            if (k < K && pix_base[i] >= 0) {
                int ih = pih[i] + kh * dh, iw = piw[i] + kw * dw;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) v = (int)x[pix_base[i] + (ih * W + iw) * IC + ic] - x_zp;
            }
            As[lk][lr + 16 * i] = v;
            int oc = n0 + lr + 16 * i;
            Bs[lk][lr + 16 * i] = (oc < OC && k < K) ? (int)w[(long long)oc * K + k] - w_zp : 0;
        }
        __syncthreads();
        tfl_tile_mac<QC_BK, QC_BM + 4>(As, Bs, tx, ty, acc);
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + ty + 16 * i;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int oc = n0 + tx + 16 * j;
            if (oc < OC)
                y[(long long)m * OC + oc] = tfl_out_s8(acc[i][j] + (bias ? bias[oc] : 0), oc, q, shift, up_limit,
                                                       out_zp, lo, hi);
        }
    }
}

// One thread per output; filter [1][KH][KW][OC], OC = IC * mult.
extern "C" __global__ void depthwise_conv2d_s8(const signed char* __restrict__ x, const signed char* __restrict__ w,
                                               const int* __restrict__ bias, signed char* __restrict__ y,
                                               const int* __restrict__ q, const int* __restrict__ shift,
                                               int N, int H, int W, int IC, int OH, int OW, int OC, int KH, int KW,
                                               int sh, int sw, int dh, int dw, int pt, int pl, int mult, int x_zp,
                                               int w_zp, int out_zp, int lo, int hi, int up_limit) {
    int total = N * OH * OW * OC;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        int oc, ow, oh, n;
        tfl_nhwc_coords(i, OC, OW, OH, oc, ow, oh, n);
        int ic = oc / mult;
        int ih0 = oh * sh - pt, iw0 = ow * sw - pl;
        const signed char* xb = x + (long long)n * H * W * IC + ic;
        int acc = bias ? bias[oc] : 0;
        for (int kh = 0; kh < KH; kh++) {
            int ih = ih0 + kh * dh;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
                int iw = iw0 + kw * dw;
                if (iw < 0 || iw >= W) continue;
                acc += ((int)xb[(ih * W + iw) * IC] - x_zp) * ((int)w[(kh * KW + kw) * OC + oc] - w_zp);
            }
        }
        y[i] = tfl_out_s8(acc, oc, q, shift, up_limit, out_zp, lo, hi);
    }
}

// Byte copy through the generic strided iteration (int8 RESHAPE-free data movement: PAD uses pad_s8).
extern "C" __global__ void pad_s8(const signed char* __restrict__ x, signed char* __restrict__ y, int n, int rank,
                                  const int* __restrict__ meta, int value) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int ii;
        bool inside = tfl_pad_offset(i, rank, meta, ii);
        y[i] = inside ? x[ii] : (signed char)value;
    }
}

// int8 MAX_POOL_2D: integer max over the in-bounds window, clamped to the fused activation's range.
extern "C" __global__ void maxpool2d_s8(const signed char* __restrict__ x, signed char* __restrict__ y, int N,
                                        int H, int W, int C, int OH, int OW, int KH, int KW, int sh, int sw, int pt,
                                        int pl, int lo, int hi) {
    int total = N * OH * OW * C;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        TflPoolWindow p = tfl_pool_window(i, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl);
        const int hs = p.hs, he = p.he, ws = p.ws, we = p.we;
        const signed char* xb = x + p.base;
        int m = lo;
        for (int h = hs; h < he; h++)
            for (int w = ws; w < we; w++) {
                int v = xb[(h * W + w) * C];
                m = v > m ? v : m;
            }
        y[i] = (signed char)(m > hi ? hi : m);
    }
}

// ---- int8 ADD (same shapes), as LiteRT's BUILTIN kernel computes it: whole 16-element blocks of the flat
// index take its vector loop (ARM NEON arithmetic: vshl, vqrdmulh), the remaining tail the reference path
// (20-bit left shift, MultiplyByQuantizedMultiplier with halves away from zero).
__device__ __forceinline__ long long tfl_vshl(long long x, int n) {
    return n >= 0 ? (long long)(int)((unsigned)(int)x << n) : (x >> (-n));
}
__device__ __forceinline__ long long tfl_vqrdmulh(long long a, long long b) {
    if (a == -2147483648ll && b == -2147483648ll) return 2147483647ll;
    long long r = (2 * a * b + (1ll << 31)) >> 32;
    return r > 2147483647ll ? 2147483647ll : r;
}
__device__ __forceinline__ long long tfl_rdbpot(long long x, int e) {
    long long mask = (1ll << e) - 1, rem = x & mask, threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (rem > threshold ? 1 : 0);
}
__device__ __forceinline__ long long tfl_wrap16(long long x) { return (long long)(short)(unsigned short)(x & 0xFFFF); }
__device__ __forceinline__ long long tfl_wrap32(long long x) { return (long long)(int)(unsigned)(x & 0xFFFFFFFFll); }

extern "C" __global__ void add_s8(const signed char* __restrict__ a, const signed char* __restrict__ b,
                                  signed char* __restrict__ y, int n, int block_limit, int za, int zb, int zo,
                                  int qa, int sha, int qb, int shb, int qo, int sho, int lo, int hi) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        long long r;
        if (i < block_limit) {
            long long sa = tfl_vqrdmulh(tfl_vshl((long long)a[i] - za, 20 + sha), qa);
            long long sb = tfl_vqrdmulh(tfl_vshl((long long)b[i] - zb, 20 + shb), qb);
            long long raw = tfl_wrap32(sa + sb);
            r = tfl_rdbpot(tfl_vqrdmulh(raw, qo), -sho);
            r = tfl_wrap16(tfl_wrap16(r) + zo);
        } else {
            int va = ((int)a[i] - za) * (1 << 20), vb = ((int)b[i] - zb) * (1 << 20);
            int raw = tfl_requant(va, qa, sha, 0) + tfl_requant(vb, qb, shb, 0);
            r = (long long)tfl_requant(raw, qo, sho, 0) + zo;
        }
        r = r < lo ? lo : (r > hi ? hi : r);
        y[i] = (signed char)r;
    }
}

// ---- int8 MEAN over a [outer][R][inner] view: the integer sum, minus `sub` (zero point x count), requantized
// (halves up for inner index < up_limit, as LiteRT's vectorised spatial mean), plus `add`, clamped.
extern "C" __global__ void mean_s8(const signed char* __restrict__ x, signed char* __restrict__ y, int outer, int R,
                                   int inner, int q, int shift, int sub, int add, int up_limit, int lo, int hi) {
    int total = outer * inner;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        int in = i % inner, o = i / inner;
        const signed char* xp = x + (long long)o * R * inner + in;
        int acc = 0;
        for (int r = 0; r < R; r++) acc += xp[(long long)r * inner];
        int v = (int)(unsigned)((unsigned)acc - (unsigned)sub);
        int res = tfl_requant(v, q, shift, in < up_limit) + add;
        y[i] = (signed char)(res < lo ? lo : (res > hi ? hi : res));
    }
}

// ---- int8 SOFTMAX as LiteRT's BUILTIN kernel: a 256-entry float table exp(-in_scale * beta * k), a
// sequential float32 sum over the row (one thread per row: the order of the additions is part of the
// result), 1 / (sum * out_scale), float32 products rounded half away from zero.
extern "C" __global__ void softmax_s8(const signed char* __restrict__ x, signed char* __restrict__ y, int rows,
                                      int D, const float* __restrict__ table, float out_scale, int out_zp, int lo,
                                      int hi) {
    int stride = gridDim.x * blockDim.x;
    for (int row = blockIdx.x * blockDim.x + threadIdx.x; row < rows; row += stride) {
        const signed char* xr = x + (long long)row * D;
        signed char* yr = y + (long long)row * D;
        int mx = -128;
        for (int i = 0; i < D; i++) mx = xr[i] > mx ? xr[i] : mx;
        float sum = 0.f;
        for (int i = 0; i < D; i++) sum = __fadd_rn(sum, table[255 + xr[i] - mx]);
        float inv = __fdiv_rn(1.f, __fmul_rn(sum, out_scale));
        for (int i = 0; i < D; i++) {
            float p = __fmul_rn(table[255 + xr[i] - mx], inv);
            int r = (int)roundf(p) + out_zp;
            yr[i] = (signed char)(r < lo ? lo : (r > hi ? hi : r));
        }
    }
}

// ---- pointwise int8 ops as 256-entry tables (built at preparation from the CPU path's own kernel, so the
// device result is identical by construction): table[x + 128].
extern "C" __global__ void lut_s8(const signed char* __restrict__ x, signed char* __restrict__ y, int n,
                                  const signed char* __restrict__ table) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) y[i] = table[(int)x[i] + 128];
}

extern "C" __global__ void lut_s8_f32(const signed char* __restrict__ x, float* __restrict__ y, int n,
                                      const float* __restrict__ table) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) y[i] = table[(int)x[i] + 128];
}

// int8 AVERAGE_POOL_2D: integer sum over the in-bounds window, divided by the tap count rounding half away
// from zero (C's truncating division of sum +- count/2), clamped to the fused activation's range.
extern "C" __global__ void avgpool2d_s8(const signed char* __restrict__ x, signed char* __restrict__ y, int N,
                                        int H, int W, int C, int OH, int OW, int KH, int KW, int sh, int sw, int pt,
                                        int pl, int lo, int hi) {
    int total = N * OH * OW * C;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        TflPoolWindow p = tfl_pool_window(i, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl);
        const int hs = p.hs, he = p.he, ws = p.ws, we = p.we;
        const signed char* xb = x + p.base;
        int s = 0;
        for (int h = hs; h < he; h++)
            for (int w = ws; w < we; w++) s += xb[(h * W + w) * C];
        int cnt = (he - hs) * (we - ws);
        int avg = cnt > 0 ? (s > 0 ? s + cnt / 2 : s - cnt / 2) / cnt : 0;
        y[i] = (signed char)(avg < lo ? lo : (avg > hi ? hi : avg));
    }
}

// ---- QUANTIZE float32 -> int8 (per-tensor) as LiteRT's BUILTIN kernel: whole 8-element blocks of the flat
// index take its vector loop (x * (1/scale) in float32, rounded half to even), the tail divides in double
// and rounds half away from zero; non-finite or out-of-range values become INT32_MIN before the zero point.
extern "C" __global__ void quantize_f32_s8(const float* __restrict__ x, signed char* __restrict__ y, int n,
                                           int block_limit, float inv_scale, double scale, int zp, int lo, int hi) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        double v = i < block_limit ? (double)rintf(__fmul_rn(x[i], inv_scale)) : round((double)x[i] / scale);
        long long q;
        if (!(v == v) || v >= 2147483648.0 || v < -2147483648.0) q = -2147483648ll;   // NaN/inf/out of range
        else q = (long long)v;
        long long r = (long long)(int)(unsigned)((unsigned long long)(q + zp) & 0xFFFFFFFFull);
        y[i] = (signed char)(r < lo ? lo : (r > hi ? hi : r));
    }
}

// ---- int8 MUL with broadcasting: (a - za) * (b - zb) requantized (halves away from zero) + zo, clamped.
// meta = out dims[rank], a strides[rank], b strides[rank] (0 on broadcast dims).
extern "C" __global__ void mul_s8(const signed char* __restrict__ a, const signed char* __restrict__ b,
                                  signed char* __restrict__ y, int n, int rank, const int* __restrict__ meta, int za,
                                  int zb, int zo, int q, int shift, int lo, int hi) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int ia = 0, ib = 0;
        tfl_strided_offsets(i, rank, meta, ia, ib);
        int p = ((int)a[ia] - za) * ((int)b[ib] - zb);
        int r = tfl_requant(p, q, shift, 0) + zo;
        y[i] = (signed char)(r < lo ? lo : (r > hi ? hi : r));
    }
}

// ---- int8 PRELU with broadcasting: x - zi >= 0 ? requant(x - zi; q1, s1) : requant((x - zi) * (alpha - za); q2, s2),
// plus zo, clamped.  meta as mul_s8.
extern "C" __global__ void prelu_s8(const signed char* __restrict__ x, const signed char* __restrict__ alpha,
                                    signed char* __restrict__ y, int n, int rank, const int* __restrict__ meta,
                                    int zi, int za, int zo, int q1, int s1, int q2, int s2, int lo, int hi) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int ix = 0, ia = 0;
        tfl_strided_offsets(i, rank, meta, ix, ia);
        int v = (int)x[ix] - zi;
        int r = v >= 0 ? tfl_requant(v, q1, s1, 0) : tfl_requant(v * ((int)alpha[ia] - za), q2, s2, 0);
        r += zo;
        y[i] = (signed char)(r < lo ? lo : (r > hi ? hi : r));
    }
}
