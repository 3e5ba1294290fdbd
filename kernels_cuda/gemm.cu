// Tiled SGEMM: C[b][m][n] = act(sum_k A[b][m][k] * B[b][k][n] + bias[n]), arbitrary strides for A and B.
// FULLY_CONNECTED (B[k][n] = W[n][k]), BATCH_MATMUL (adj_x/adj_y through strides) and 1x1 convolutions.
#include "common.cuh"

#define GM_BM 64
#define GM_BN 64
#define GM_BK 16

extern "C" __global__ void __launch_bounds__(256)
sgemm_f32(const float* __restrict__ A, const float* __restrict__ B, const float* __restrict__ bias,
          float* __restrict__ C, int M, int N, int K, int sAm, int sAk, int sBk, int sBn,
          long long sAb, long long sBb, long long sCb, int act) {
    __shared__ float As[GM_BK][GM_BM + 4];
    __shared__ float Bs[GM_BK][GM_BN + 4];
    const int tid = threadIdx.x;
    const int tx = tid % 16, ty = tid / 16;
    // grid: x = row tiles (up to 2^31-1 blocks), y = column tiles, z = batch
    const int m0 = blockIdx.x * GM_BM, n0 = blockIdx.y * GM_BN;
    A += blockIdx.z * sAb;
    B += blockIdx.z * sBb;
    C += blockIdx.z * sCb;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
    const int lk = tid % GM_BK, lr = tid / GM_BK;   // loader: k fastest (row-major A, [N][K] weights)
    for (int k0 = 0; k0 < K; k0 += GM_BK) {
        int k = k0 + lk;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int m = m0 + lr + 16 * i;
            As[lk][lr + 16 * i] = (m < M && k < K) ? A[(long long)m * sAm + (long long)k * sAk] : 0.f;
            int nn = n0 + lr + 16 * i;
            Bs[lk][lr + 16 * i] = (nn < N && k < K) ? B[(long long)k * sBk + (long long)nn * sBn] : 0.f;
        }
        __syncthreads();
        tfl_tile_mac<GM_BK, GM_BM + 4>(As, Bs, tx, ty, acc);
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + ty + 16 * i;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int nn = n0 + tx + 16 * j;
            if (nn < N) C[(long long)m * N + nn] = tfl_act(acc[i][j] + (bias ? bias[nn] : 0.f), act);
        }
    }
}
