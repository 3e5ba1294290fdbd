// AVERAGE_POOL_2D / MAX_POOL_2D, NHWC; averages count only the in-bounds elements (as TFLite).
#include "common.cuh"

extern "C" __global__ void pool2d_f32(const float* __restrict__ x, float* __restrict__ y, int N, int H, int W,
                                      int C, int OH, int OW, int KH, int KW, int sh, int sw, int pt, int pl,
                                      int is_max, int act) {
    int total = N * OH * OW * C;
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        TflPoolWindow p = tfl_pool_window(i, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl);
        const int hs = p.hs, he = p.he, ws = p.ws, we = p.we;
        const float* xb = x + p.base;
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
