// cuda_emu.h - runs CUDA C++ kernel source on the CPU, for testing without a GPU.
//
// Every CUDA thread of a block is a fiber (a small stack plus a hand-written x86-64 context switch), so
// __syncthreads(), __shared__ (static and dynamic), warp shuffles, votes and atomics behave as on a GPU.
// Blocks run one after another on the calling OS thread.  Shared memory is filled with 0xFF bytes (NaN as
// float, -1 as int) before each block, so a missing __syncthreads() or an uninitialised read shows up.
// The Python loader (delegates/cuda/emulator.py) appends a launcher per extern "C" __global__ kernel.
#pragma once
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cfloat>
#include <climits>
#include <cassert>
#include <sys/mman.h>
#include <csignal>
#include <csetjmp>

#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                                size_t* size_old);
extern "C" void __asan_unpoison_memory_region(void const volatile* addr, size_t size);
#endif

// ------------------------------------------------------------------------------------------------ types
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};
typedef dim3 uint3;
struct float2 { float x, y; };
struct float3 { float x, y, z; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct int2 { int x, y; };
struct int3 { int x, y, z; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
static inline float2 make_float2(float x, float y) { return {x, y}; }
static inline float3 make_float3(float x, float y, float z) { return {x, y, z}; }
static inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
static inline int2 make_int2(int x, int y) { return {x, y}; }
static inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }

#define __global__
#define __device__
#define __host__
#define __noinline__ __attribute__((noinline))
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __constant__ static
#ifdef EMU_ASAN
// sanitizer mode: plain statics, so ASan puts redzones around them (out-of-bounds shared accesses are
// reported); they are not NaN-filled then
#define __shared__ __attribute__((aligned(16))) static
#else
#define __shared__ __attribute__((section("emu_shared"), aligned(16))) static
#endif
#define warpSize 32

// ------------------------------------------------------------------------------------------------ fibers
namespace emu {

enum State : int { READY = 0, WAIT_BLOCK = 1, WAIT_WARP = 2, DONE = 3 };

struct Thread {
    void* sp;            // saved stack pointer while suspended
    uint3 tid;
    int lane, warp, linear;
    int state;
    unsigned wait_mask;  // lanes a warp-level wait synchronises with
    unsigned warp_seq;   // number of warp collectives this thread has done (selects a slot buffer)
    char* stack_lo;
    size_t stack_size;
};

struct WarpBuf {
    unsigned long long slot[2][32];
};

}  // namespace emu

static emu::Thread* emu_cur;
static uint3 emu_block_idx;
static dim3 emu_block_dim, emu_grid_dim;
static void* emu_sched_sp;
static emu::Thread* emu_threads;
static emu::WarpBuf* emu_warps;
static int emu_nthreads;
static char* emu_stacks;
static size_t emu_stack_stride, emu_stacks_len;
static void (*emu_body)(void*);
static void* emu_body_ctx;
static const char* emu_error;
static int emu_allow_large_smem;  // set by emu_set_allow_large_smem (the GPU side raised the limit)
static int emu_direct;            // threads run as plain calls (kernel has no barrier or warp collective)
static int emu_direct_violation;
static char emu_dyn_smem[256 * 1024] __attribute__((aligned(64)));
// Dynamic shared memory of the current launch: the static buffer, or (sanitizer mode) a heap block of
// exactly the requested size, so accesses past shared_mem bytes are reported.
static char* emu_dyn_smem_ptr = emu_dyn_smem;
#ifdef EMU_ASAN
static void* emu_sched_fake;
static const void* emu_sched_bottom;
static size_t emu_sched_size;
#endif

extern "C" char __start_emu_shared[] __attribute__((weak, visibility("hidden")));
extern "C" char __stop_emu_shared[] __attribute__((weak, visibility("hidden")));

#define threadIdx (emu_cur->tid)
#define blockIdx (emu_block_idx)
#define blockDim (emu_block_dim)
#define gridDim (emu_grid_dim)

// x86-64 System V context switch: saves callee-saved registers, MXCSR and the x87 control word on the
// current stack, stores the stack pointer in *save, and resumes the context whose stack pointer is `to`.
asm(R"(
.text
.p2align 4
.globl emu_ctx_switch
.hidden emu_ctx_switch
.type emu_ctx_switch,@function
emu_ctx_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $16, %rsp
    stmxcsr 8(%rsp)
    fnstcw (%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    fldcw (%rsp)
    ldmxcsr 8(%rsp)
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
.size emu_ctx_switch, .-emu_ctx_switch
.p2align 4
.globl emu_ctx_start
.hidden emu_ctx_start
.type emu_ctx_start,@function
emu_ctx_start:
    movq %rbx, %rdi
    callq *%r12
    ud2
.size emu_ctx_start, .-emu_ctx_start
)");
extern "C" void emu_ctx_switch(void** save, void* to);
extern "C" void emu_ctx_start();

static inline void emu_to_scheduler() {
    emu::Thread* t = emu_cur;
    if (emu_direct) {             // cannot suspend a plain call: report it after the launch
        emu_direct_violation = 1;
        t->state = emu::READY;
        return;
    }
#ifdef EMU_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(t->state == emu::DONE ? nullptr : &fake, emu_sched_bottom, emu_sched_size);
    emu_ctx_switch(&t->sp, emu_sched_sp);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    emu_ctx_switch(&t->sp, emu_sched_sp);
#endif
}

static void emu_fiber_main(void* arg) {
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &emu_sched_bottom, &emu_sched_size);
#endif
    (void)arg;
    emu_body(emu_body_ctx);
    emu_cur->state = emu::DONE;
    emu_to_scheduler();
    __builtin_trap();
}

static void emu_fiber_init(emu::Thread* t) {
#ifdef EMU_ASAN
    // frames of fibers that never returned (finished by switching away) stay poisoned: clear them
    __asan_unpoison_memory_region(t->stack_lo, t->stack_size);
#endif
    // initial frame, popped by emu_ctx_switch: fcw, mxcsr, r15, r14, r13, r12=entry, rbx=arg, rbp, ret
    uintptr_t top = (uintptr_t)(t->stack_lo + t->stack_size) & ~(uintptr_t)15;
    uint64_t* sp = (uint64_t*)(top - 88);
    sp[0] = 0x037F;                        // x87 control word
    sp[1] = 0x1F80;                        // MXCSR
    sp[2] = sp[3] = sp[4] = 0;             // r15 r14 r13
    sp[5] = (uint64_t)(uintptr_t)&emu_fiber_main;   // r12
    sp[6] = (uint64_t)(uintptr_t)t;        // rbx
    sp[7] = 0;                             // rbp
    sp[8] = (uint64_t)(uintptr_t)&emu_ctx_start;    // return address
    t->sp = sp;
}

static inline void emu_resume(emu::Thread* t) {
    emu_cur = t;
#ifdef EMU_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, t->stack_lo, t->stack_size);
    emu_ctx_switch(&emu_sched_sp, t->sp);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    emu_ctx_switch(&emu_sched_sp, t->sp);
#endif
}

// ------------------------------------------------------------------------------------------------ sync
static inline void __syncthreads() {
    emu_cur->state = emu::WAIT_BLOCK;
    emu_to_scheduler();
}
static inline int __syncthreads_count(int pred) {
    static int count; // shared by the block
    __syncthreads();
    if (emu_cur->linear == 0) count = 0;
    __syncthreads();
    if (pred) count++;
    __syncthreads();
    int r = count;
    __syncthreads();
    return r;
}
static inline int __syncthreads_or(int pred) { return __syncthreads_count(pred) != 0; }
static inline int __syncthreads_and(int pred) { return __syncthreads_count(!pred) == 0; }

static inline void emu_warp_wait(unsigned mask) {
    emu_cur->wait_mask = mask;
    emu_cur->state = emu::WAIT_WARP;
    emu_to_scheduler();
}
static inline void __syncwarp(unsigned mask = 0xffffffffu) { emu_warp_wait(mask); }
static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// A warp collective: every lane publishes 8 bytes, waits for the lanes of `mask`, then reads the others.
// Two alternating slot buffers make one barrier per collective enough.
static inline unsigned long long* emu_warp_exchange(unsigned mask, unsigned long long v) {
    emu::Thread* t = emu_cur;
    unsigned long long* slots = emu_warps[t->warp].slot[t->warp_seq & 1];
    t->warp_seq++;
    slots[t->lane] = v;
    emu_warp_wait(mask);
    return slots;
}
template <typename T>
static inline unsigned long long emu_bits(T v) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 8 bytes");
    unsigned long long b = 0;
    memcpy(&b, &v, sizeof(T));
    return b;
}
template <typename T>
static inline T emu_from_bits(unsigned long long b) {
    T v;
    memcpy(&v, &b, sizeof(T));
    return v;
}
template <typename T>
static inline T __shfl_sync(unsigned mask, T var, int src, int width = 32) {
    unsigned long long* s = emu_warp_exchange(mask, emu_bits(var));
    int lane = emu_cur->lane;
    int base = lane & ~(width - 1);
    return emu_from_bits<T>(s[base + (src & (width - 1))]);
}
template <typename T>
static inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32) {
    unsigned long long* s = emu_warp_exchange(mask, emu_bits(var));
    int lane = emu_cur->lane;
    int sub = lane & (width - 1);
    int src = sub + (int)delta < width ? lane + (int)delta : lane;
    return emu_from_bits<T>(s[src]);
}
template <typename T>
static inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32) {
    unsigned long long* s = emu_warp_exchange(mask, emu_bits(var));
    int lane = emu_cur->lane;
    int sub = lane & (width - 1);
    int src = sub - (int)delta >= 0 ? lane - (int)delta : lane;
    return emu_from_bits<T>(s[src]);
}
template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T var, int lm, int width = 32) {
    unsigned long long* s = emu_warp_exchange(mask, emu_bits(var));
    int lane = emu_cur->lane;
    int src = lane ^ lm;
    if ((src & ~(width - 1)) != (lane & ~(width - 1))) src = lane;
    return emu_from_bits<T>(s[src]);
}
static inline unsigned __ballot_sync(unsigned mask, int pred) {
    unsigned long long* s = emu_warp_exchange(mask, pred ? 1ull : 0ull);
    unsigned r = 0;
    int base = emu_cur->warp * 32;
    for (int l = 0; l < 32; l++)
        if (((mask >> l) & 1u) && base + l < emu_nthreads && s[l]) r |= 1u << l;
    return r;
}
static inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
static inline int __all_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) == __ballot_sync(mask, 1); }
static inline unsigned __activemask() { return 0xffffffffu; }

// ------------------------------------------------------------------------------------------------ atomics
template <typename T> static inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline float atomicAdd(float* p, float v) { float o = *p; *p = o + v; return o; }
static inline double atomicAdd(double* p, double v) { double o = *p; *p = o + v; return o; }
template <typename T> static inline T atomicSub(T* p, T v) { return __atomic_fetch_sub(p, v, __ATOMIC_RELAXED); }
template <typename T> static inline T atomicExch(T* p, T v) { T o = *p; *p = v; return o; }
template <typename T> static inline T atomicMax(T* p, T v) { T o = *p; if (v > o) *p = v; return o; }
template <typename T> static inline T atomicMin(T* p, T v) { T o = *p; if (v < o) *p = v; return o; }
template <typename T> static inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_RELAXED); }
template <typename T> static inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_RELAXED); }
template <typename T> static inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_RELAXED); }
template <typename T> static inline T atomicCAS(T* p, T cmp, T v) { T o = *p; if (o == cmp) *p = v; return o; }
static inline unsigned atomicInc(unsigned* p, unsigned v) { unsigned o = *p; *p = o >= v ? 0 : o + 1; return o; }

// ------------------------------------------------------------------------------------------------ math
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
// glibc declares __expf & co. itself: map CUDA's fast intrinsics with macros
#define __expf(x) expf(x)
#define __logf(x) logf(x)
#define __log2f(x) log2f(x)
#define __sinf(x) sinf(x)
#define __cosf(x) cosf(x)
#define __tanf(x) tanf(x)
#define __powf(x, y) powf(x, y)
static inline float __fdividef(float a, float b) { return a / b; }
static inline float __frcp_rn(float a) { return 1.0f / a; }
static inline float __fsqrt_rn(float a) { return sqrtf(a); }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : (x != x ? 0.f : x)); }
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
static inline float __uint_as_float(unsigned i) { float f; memcpy(&f, &i, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned i; memcpy(&i, &f, 4); return i; }
static inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
static inline int __float2int_rz(float x) { return (int)x; }
static inline int __float2int_rd(float x) { return (int)floorf(x); }
static inline int __float2int_ru(float x) { return (int)ceilf(x); }
static inline float __int2float_rn(int x) { return (float)x; }
static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline unsigned __brev(unsigned x) { unsigned r = 0; for (int i = 0; i < 32; i++) r |= ((x >> i) & 1u) << (31 - i); return r; }
static inline int __mul24(int a, int b) { return a * b; }
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
template <typename T> static inline T __ldg(const T* p) { return *p; }
template <typename T> static inline T __ldcg(const T* p) { return *p; }
template <typename T> static inline T __ldcs(const T* p) { return *p; }
template <typename T> static inline void __stcs(T* p, T v) { *p = v; }
static inline long long clock64() { return (long long)__builtin_ia32_rdtsc(); }
static inline int clock() { return (int)__builtin_ia32_rdtsc(); }

// ------------------------------------------------------------------------------------------------ __half
// IEEE binary16 with round-to-nearest-even conversions; arithmetic goes through float (as sm_53+ gives
// the same results for single operations).
struct __half {
    unsigned short x;
    __half() = default;
    __half(float f) : x(from_float(f)) {}
    __half(double f) : x(from_float((float)f)) {}
    __half(int i) : x(from_float((float)i)) {}
    operator float() const { return to_float(x); }
    static unsigned short from_float(float f) {
        unsigned u; memcpy(&u, &f, 4);
        unsigned sign = (u >> 16) & 0x8000u;
        unsigned abs = u & 0x7fffffffu;
        if (abs >= 0x7f800000u) return (unsigned short)(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
        if (abs >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);          // overflow -> inf
        if (abs < 0x38800000u) {                                                   // subnormal or zero
            if (abs < 0x33000000u) return (unsigned short)sign;
            unsigned e = abs >> 23, m = (abs & 0x7fffffu) | 0x800000u;
            unsigned shift = 126 - e;                                              // 14..24
            unsigned r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
            if (rem > half || (rem == half && (r & 1u))) r++;
            return (unsigned short)(sign | r);
        }
        unsigned r = ((abs - 0x38000000u) >> 13), rem = abs & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++;
        return (unsigned short)(sign | r);
    }
    static float to_float(unsigned short h) {
        unsigned sign = (unsigned)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
        if (e == 0) {
            if (m == 0) bits = sign;
            else { int k = -1; do { k++; m <<= 1; } while (!(m & 0x400u)); bits = sign | ((unsigned)(112 - k) << 23) | ((m & 0x3ffu) << 13); }
        } else if (e == 31) bits = sign | 0x7f800000u | (m << 13);
        else bits = sign | ((e + 112u) << 23) | (m << 13);
        float f; memcpy(&f, &bits, 4); return f;
    }
};
static inline __half __float2half(float f) { return __half(f); }
static inline __half __float2half_rn(float f) { return __half(f); }
static inline float __half2float(__half h) { return (float)h; }
static inline __half __hadd(__half a, __half b) { return __half((float)a + (float)b); }
static inline __half __hsub(__half a, __half b) { return __half((float)a - (float)b); }
static inline __half __hmul(__half a, __half b) { return __half((float)a * (float)b); }
static inline __half __hfma(__half a, __half b, __half c) { return __half(fmaf((float)a, (float)b, (float)c)); }
static inline unsigned short __half_as_ushort(__half h) { return h.x; }
static inline __half __ushort_as_half(unsigned short u) { __half h; h.x = u; return h; }

// ------------------------------------------------------------------------------------------------ launch
// Runs the whole grid.  Returns 0, or 1 with emu_error set (deadlock, divergent barrier, bad config).
// Fiber stack overflow: a fault on a guard page during a launch jumps back to the launcher with an error
// (instead of silently corrupting the next thread's stack). The handler runs on an alternate signal stack
// and is installed only for the duration of a launch; other faults go to the previous handler.
static sigjmp_buf emu_overflow_jmp;
static struct sigaction emu_old_segv;
static char emu_sigstack[64 * 1024];
static const char* emu_overflow_msg =
    "fiber stack overflow: a thread's local variables exceed the emulator's stack (pass a larger "
    "stack_size to EmuModule or set TFL_GPU_EMU_STACK_KB)";

static void emu_segv_handler(int sig, siginfo_t* info, void* uctx) {
    char* a = (char*)info->si_addr;
    if (emu_stacks && a >= emu_stacks && a < emu_stacks + emu_stacks_len &&
        (size_t)(a - emu_stacks) % emu_stack_stride < 4096) {
        siglongjmp(emu_overflow_jmp, 1);
    }
    sigaction(SIGSEGV, &emu_old_segv, nullptr);     // not ours: let the previous handler see it
    (void)sig; (void)uctx;
}

struct EmuGuard {
    bool on = false;
    stack_t old_ss;
    EmuGuard() {
#ifndef EMU_ASAN
        stack_t ss;
        ss.ss_sp = emu_sigstack;
        ss.ss_size = sizeof(emu_sigstack);
        ss.ss_flags = 0;
        sigaltstack(&ss, &old_ss);
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = emu_segv_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        on = sigaction(SIGSEGV, &sa, &emu_old_segv) == 0;
#endif
    }
    ~EmuGuard() {
        if (on) {
            sigaction(SIGSEGV, &emu_old_segv, nullptr);
            sigaltstack(&old_ss, nullptr);
        }
    }
};

static int emu_launch_grid_impl(const unsigned* g, const unsigned* b, size_t smem, void (*body)(void*),
                                void* ctx, size_t stack_size, int direct);

static int emu_launch_grid(const unsigned* g, const unsigned* b, size_t smem, void (*body)(void*), void* ctx,
                           size_t stack_size, int direct) {
#ifdef EMU_ASAN
    if (smem > sizeof(emu_dyn_smem)) { emu_error = "dynamic shared memory larger than 256 KiB"; return 1; }
    emu_dyn_smem_ptr = (char*)malloc(smem ? smem : 1);
    int rc = emu_launch_grid_impl(g, b, smem, body, ctx, stack_size, direct);
    free(emu_dyn_smem_ptr);
    emu_dyn_smem_ptr = emu_dyn_smem;
    return rc;
#else
    return emu_launch_grid_impl(g, b, smem, body, ctx, stack_size, direct);
#endif
}

static int emu_launch_grid_impl(const unsigned* g, const unsigned* b, size_t smem, void (*body)(void*),
                                void* ctx, size_t stack_size, int direct) {
    emu_error = nullptr;
    emu_direct = 0;
    unsigned nthreads = b[0] * b[1] * b[2];
    if (nthreads == 0 || nthreads > 1024) { emu_error = "invalid block size (must be 1..1024 threads)"; return 1; }
    if (g[0] == 0 || g[1] == 0 || g[2] == 0) { emu_error = "invalid grid size (0)"; return 1; }
    if (b[2] > 64) { emu_error = "blockDim.z must be <= 64"; return 1; }
    if (g[1] > 65535 || g[2] > 65535) { emu_error = "gridDim.y and gridDim.z must be <= 65535"; return 1; }
    if (smem > sizeof(emu_dyn_smem)) { emu_error = "dynamic shared memory larger than 256 KiB"; return 1; }
    if (smem > 48 * 1024 && !emu_allow_large_smem) {
        emu_error = "more than 48 KiB of dynamic shared memory: a GPU launch needs "
                    "cudaFuncSetAttribute(MaxDynamicSharedMemorySize) first";
        return 1;
    }
    emu_block_dim = dim3(b[0], b[1], b[2]);
    emu_grid_dim = dim3(g[0], g[1], g[2]);
    emu_body = body;
    emu_body_ctx = ctx;
    emu_nthreads = (int)nthreads;
    // Stacks: one per thread, offset by a few cache lines each so equal spacing does not alias in caches.
    // slot layout: [guard page (PROT_NONE)][64 * (i % 16) bytes of offset][stack ...], page aligned slots
    size_t stride = (stack_size + 4096 + 64 * 16 + 4095) / 4096 * 4096;
    size_t need = stride * 1024 + 4096;      // room for the largest block: mapped once, touched lazily
    if (emu_stacks == nullptr || emu_stacks_len < need || emu_stack_stride != stride) {
        if (emu_stacks) munmap(emu_stacks, emu_stacks_len);
        emu_stacks = (char*)mmap(nullptr, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (emu_stacks == MAP_FAILED) { emu_stacks = nullptr; emu_error = "cannot map fiber stacks"; return 1; }
        emu_stacks_len = need;
        for (size_t k = 0; k < 1024 && k * stride + 4096 <= need; k++)      // guard pages: overflow faults
            mprotect(emu_stacks + k * stride, 4096, PROT_NONE);
        emu_stack_stride = stride;
        free(emu_threads);
        free(emu_warps);
        emu_threads = (emu::Thread*)calloc(1024, sizeof(emu::Thread));
        emu_warps = (emu::WarpBuf*)calloc(32, sizeof(emu::WarpBuf));
    }
    emu::Thread* th = emu_threads;
    int nwarps = ((int)nthreads + 31) / 32;
    if (direct) {
        // No barrier or warp collective in the kernel (checked by the loader): each thread is a plain call.
        emu_direct = 1;
        emu_direct_violation = 0;
        emu::Thread* t = &th[0];
        t->state = emu::READY;
        for (unsigned bz = 0; bz < g[2]; bz++)
        for (unsigned by = 0; by < g[1]; by++)
        for (unsigned bx = 0; bx < g[0]; bx++) {
            emu_block_idx = dim3(bx, by, bz);
            if (__stop_emu_shared != __start_emu_shared && __start_emu_shared)
                memset(__start_emu_shared, 0xFF, (size_t)(__stop_emu_shared - __start_emu_shared));
            if (smem) memset(emu_dyn_smem_ptr, 0xFF, smem);
            int i = 0;
            for (unsigned tz = 0; tz < b[2]; tz++)
            for (unsigned ty = 0; ty < b[1]; ty++)
            for (unsigned tx = 0; tx < b[0]; tx++, i++) {
                t->tid = dim3(tx, ty, tz);
                t->linear = i;
                t->lane = i & 31;
                t->warp = i >> 5;
                emu_cur = t;
                body(ctx);
            }
        }
        emu_direct = 0;
        if (emu_direct_violation) {
            emu_error = "kernel synchronised although the loader found no barrier in it (emulator bug)";
            return 1;
        }
        return 0;
    }
    EmuGuard guard;
    if (sigsetjmp(emu_overflow_jmp, 1)) {
        emu_error = emu_overflow_msg;
        return 1;                                   // (guard's destructor restores the handler)
    }
    for (unsigned bz = 0; bz < g[2]; bz++)
    for (unsigned by = 0; by < g[1]; by++)
    for (unsigned bx = 0; bx < g[0]; bx++) {
        emu_block_idx = dim3(bx, by, bz);
        if (__stop_emu_shared != __start_emu_shared && __start_emu_shared)
            memset(__start_emu_shared, 0xFF, (size_t)(__stop_emu_shared - __start_emu_shared));
        if (smem) memset(emu_dyn_smem_ptr, 0xFF, smem);
        int i = 0;
        for (unsigned tz = 0; tz < b[2]; tz++)
        for (unsigned ty = 0; ty < b[1]; ty++)
        for (unsigned tx = 0; tx < b[0]; tx++, i++) {
            emu::Thread* t = &th[i];
            t->tid = dim3(tx, ty, tz);
            t->linear = i;
            t->lane = i & 31;
            t->warp = i >> 5;
            t->state = emu::READY;
            t->warp_seq = 0;
            t->stack_lo = emu_stacks + (size_t)i * stride + 4096 + (size_t)(i & 15) * 64;
            t->stack_size = stack_size;
            emu_fiber_init(t);
        }
        int done = 0;
        for (;;) {
            for (int k = 0; k < (int)nthreads; k++) {
                emu::Thread* t = &th[k];
                if (t->state == emu::READY) {
                    emu_resume(t);
                    if (t->state == emu::DONE) done++;
                }
            }
            if (done == (int)nthreads) break;
            bool released = false;
            // warp collectives: release a warp's waiting lanes once every live lane of the mask arrived
            for (int w = 0; w < nwarps; w++) {
                int lo = w * 32, hi = lo + 32 < (int)nthreads ? lo + 32 : (int)nthreads;
                unsigned mask = 0; bool any = false, ok = true;
                for (int k = lo; k < hi; k++) if (th[k].state == emu::WAIT_WARP) { mask |= th[k].wait_mask; any = true; }
                if (!any) continue;
                for (int k = lo; k < hi; k++) {
                    if (!((mask >> (k - lo)) & 1u)) continue;
                    if (th[k].state != emu::WAIT_WARP && th[k].state != emu::DONE) { ok = false; break; }
                }
                if (ok) {
                    for (int k = lo; k < hi; k++) if (th[k].state == emu::WAIT_WARP) th[k].state = emu::READY;
                    released = true;
                }
            }
            if (released) continue;
            int waiting = 0;
            for (int k = 0; k < (int)nthreads; k++) waiting += th[k].state == emu::WAIT_BLOCK;
            if (waiting > 0 && waiting + done == (int)nthreads) {
                if (done > 0) {
                    emu_error = "divergent __syncthreads(): some threads of the block exited while others wait at a barrier";
                    return 1;
                }
                for (int k = 0; k < (int)nthreads; k++) th[k].state = emu::READY;
                continue;
            }
            emu_error = "deadlock: threads wait at different barriers (warp collective vs __syncthreads)";
            return 1;
        }
    }
    return 0;
}

// The library is built with -fvisibility=hidden (a kernel named like a libc function, e.g. `stat`, must not
// be interposed by it): only these entry points and the generated launchers are exported.
#define EMU_EXPORT extern "C" __attribute__((visibility("default")))
EMU_EXPORT const char* emu_last_error() { return emu_error; }
EMU_EXPORT void* emu_malloc(size_t n) { return malloc(n ? n : 1); }
EMU_EXPORT void emu_free(void* p) { free(p); }
EMU_EXPORT void emu_set_allow_large_smem(int v) { emu_allow_large_smem = v; }
