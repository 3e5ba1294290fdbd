// Data movement: a generic strided copy (TRANSPOSE, SLICE, STRIDED_SLICE, CONCATENATION, DEPTH_TO_SPACE,
// SPACE_TO_DEPTH), PAD/PADV2, GATHER, RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR.
#include "common.cuh"

// Iteration space dims[rank]; element (i0..) reads in[in_base + sum i_d*in_strides[d]] and writes
// out[out_base + sum i_d*out_strides[d]].  meta = dims, in_strides, out_strides (rank ints each).
extern "C" __global__ void strided_copy_f32(const float* __restrict__ x, float* __restrict__ y, int n,
                                            int rank, const int* __restrict__ meta, int in_base,
                                            int out_base) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int ii = in_base, oi = out_base;
        tfl_strided_offsets(i, rank, meta, ii, oi);
        y[oi] = x[ii];
    }
}

// The same for 1-byte elements (int8 tensors).
extern "C" __global__ void strided_copy_s8(const signed char* __restrict__ x, signed char* __restrict__ y, int n,
                                           int rank, const int* __restrict__ meta, int in_base, int out_base) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int ii = in_base, oi = out_base;
        tfl_strided_offsets(i, rank, meta, ii, oi);
        y[oi] = x[ii];
    }
}

// Output contiguous with dims out_dims; meta = out_dims, in_dims, pad_before, in_strides.
extern "C" __global__ void pad_f32(const float* __restrict__ x, float* __restrict__ y, int n, int rank,
                                   const int* __restrict__ meta, float value) {
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int ii;
        bool inside = tfl_pad_offset(i, rank, meta, ii);
        y[i] = inside ? x[ii] : value;
    }
}

// out[o][j][i] = params[o][idx[j]][i]; out-of-range indices give 0 (the loader validates host indices).
extern "C" __global__ void gather_f32(const float* __restrict__ p, const int* __restrict__ idx,
                                      float* __restrict__ y, int outer, int axis_n, int nidx, int inner) {
    int total = outer * nidx * inner;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long src = tfl_gather_src(i, idx, axis_n, nidx, inner);
        y[i] = src >= 0 ? p[src] : 0.f;
    }
}

extern "C" __global__ void gather_s8(const signed char* __restrict__ p, const int* __restrict__ idx,
                                     signed char* __restrict__ y, int outer, int axis_n, int nidx, int inner) {
    int total = outer * nidx * inner;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long src = tfl_gather_src(i, idx, axis_n, nidx, inner);
        y[i] = src >= 0 ? p[src] : (signed char)0;
    }
}

// mode 0 = bilinear, 1 = nearest neighbour; scales as computed by TFLite (in/out, or (in-1)/(out-1) with
// align_corners).
extern "C" __global__ void resize_f32(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W,
                                      int C, int OH, int OW, float scale_h, float scale_w, int mode,
                                      int align_corners, int half_pixel) {
    int total = N * OH * OW * C;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        int c, ox, oy, n;
        tfl_nhwc_coords(i, C, OW, OH, c, ox, oy, n);
        const float* xb = x + (long long)n * H * W * C + c;
        if (mode == 1) {
            float off = half_pixel ? 0.5f : 0.f;
            float fy = (oy + off) * scale_h, fx = (ox + off) * scale_w;
            int iy = align_corners ? (int)roundf(fy) : (int)floorf(fy);
            int ix = align_corners ? (int)roundf(fx) : (int)floorf(fx);
            iy = iy < H - 1 ? iy : H - 1;
            ix = ix < W - 1 ? ix : W - 1;
            if (half_pixel) { iy = iy > 0 ? iy : 0; ix = ix > 0 ? ix : 0; }
            y[i] = xb[(iy * W + ix) * C];
        } else {
            float fy = half_pixel ? (oy + 0.5f) * scale_h - 0.5f : oy * scale_h;
            float fx = half_pixel ? (ox + 0.5f) * scale_w - 0.5f : ox * scale_w;
            float fyf = floorf(fy), fxf = floorf(fx);
            int y0 = (int)fyf > 0 ? (int)fyf : 0, x0 = (int)fxf > 0 ? (int)fxf : 0;
            int y1 = (int)ceilf(fy) < H - 1 ? (int)ceilf(fy) : H - 1;
            int x1 = (int)ceilf(fx) < W - 1 ? (int)ceilf(fx) : W - 1;
            float dy = fy - fyf, dx = fx - fxf;
            float v00 = xb[(y0 * W + x0) * C], v01 = xb[(y0 * W + x1) * C];
            float v10 = xb[(y1 * W + x0) * C], v11 = xb[(y1 * W + x1) * C];
            y[i] = v00 * (1.f - dy) * (1.f - dx) + v01 * (1.f - dy) * dx + v10 * dy * (1.f - dx) + v11 * dy * dx;
        }
    }
}
