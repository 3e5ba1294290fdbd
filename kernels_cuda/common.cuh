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
