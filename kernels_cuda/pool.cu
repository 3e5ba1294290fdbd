// AVERAGE_POOL_2D / MAX_POOL_2D, NHWC; averages count only the in-bounds elements (as TFLite).
#include "common.cuh"

extern "C" __global__ void pool2d_f32(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W,
                                      int C, int OH, int OW, int KH, int KW, int sh, int sw, int pt, int pl,
                                      int is_max, int act) {
    int total = N * OH * OW * C;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        int c = i % C, t = i / C, ow = t % OW;
        t /= OW;
        int oh = t % OH, n = t / OH;
        int h0 = oh * sh - pt, w0 = ow * sw - pl;
        int hs = h0 < 0 ? 0 : h0, ws = w0 < 0 ? 0 : w0;
        int he = h0 + KH < H ? h0 + KH : H, we = w0 + KW < W ? w0 + KW : W;
        const float* xb = x + (long long)n * H * W * C + c;
        float acc = is_max ? -TFL_FLT_MAX : 0.f;
        for (int h = hs; h < he; h++)
            for (int w = ws; w < we; w++) {
                float v = xb[(h * W + w) * C];
                acc = is_max ? (v > acc ? v : acc) : acc + v;
            }
        if (!is_max) {
            int cnt = (he - hs) * (we - ws);
            acc = cnt > 0 ? acc / (float)cnt : 0.f;
        }
        y[i] = tfl_act(acc, act);
    }
}
