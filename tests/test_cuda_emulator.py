"""The CPU emulator of CUDA (delegates/cuda/emulator.py + emu/cuda_emu.h) on its own: thread/block
indexing, __syncthreads, static and dynamic shared memory, warp shuffles and votes, atomics, argument
width conversion, error reports (divergent barriers, deadlocks), the build cache, and sanitizer mode."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cuda_helpers import needs_gxx
from tfl_gpu.delegates.cuda.emulator import EmulatorError, EmuModule, compile_source, parse_kernels

pytestmark = needs_gxx

SRC = r'''
extern "C" __global__ void saxpy(float a, const float* __restrict__ x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
extern "C" __global__ void index3d(int* out) {
    int b = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    int t = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    out[b * blockDim.x * blockDim.y * blockDim.z + t] = b * 1000 + t;
}
// block sum: dynamic shared memory tree + warp shuffles
extern "C" __global__ void rowsum(const float* x, float* out, int n) {
    extern __shared__ float part[];
    float s = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += x[blockIdx.x * n + i];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < blockDim.x / 32 ? part[threadIdx.x] : 0.f;
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (threadIdx.x == 0) out[blockIdx.x] = v;
    }
}
extern "C" __global__ void shuffles(int* out) {
    int l = threadIdx.x & 31;
    int base = threadIdx.x * 5;
    out[base + 0] = __shfl_sync(0xffffffffu, l * 10, 3);
    out[base + 1] = __shfl_up_sync(0xffffffffu, l, 2);
    out[base + 2] = __shfl_xor_sync(0xffffffffu, l, 1, 16);
    out[base + 3] = (int)__ballot_sync(0xffffffffu, l % 3 == 0);
    out[base + 4] = __any_sync(0xffffffffu, l == 7) + 2 * __all_sync(0xffffffffu, l < 32);
}
extern "C" __global__ void count(float* acc, int* hits, unsigned* mx) {
    atomicAdd(acc, 1.0f);
    atomicAdd(hits, 2);
    atomicMax(mx, blockIdx.x * blockDim.x + threadIdx.x);
}
extern "C" __global__ void reverse_nosync(float* y) {
    __shared__ float s[64];
    s[threadIdx.x] = threadIdx.x;
    y[threadIdx.x] = s[63 - threadIdx.x];          // missing __syncthreads: reads the NaN fill
}
extern "C" __global__ void reverse_sync(float* y) {
    __shared__ float s[64];
    s[threadIdx.x] = threadIdx.x;
    __syncthreads();
    y[threadIdx.x] = s[63 - threadIdx.x];
}
extern "C" __global__ void divergent(float* y) {
    if (threadIdx.x < 16) return;
    __syncthreads();
    y[threadIdx.x] = 1.f;
}
extern "C" __global__ void deadlock(float* y) {
    if (threadIdx.x < 32) __syncwarp();
    else __syncthreads();
    y[threadIdx.x] = 1.f;
}
extern "C" __global__ void big_local(float* y, int n) {
    float buf[4096];                                  // 16 KiB of stack per fiber
    for (int i = 0; i < 4096; i++) buf[i] = (float)(i % n);
    float s = 0.f;
    for (int i = 0; i < 4096; i++) s += buf[i];
    y[threadIdx.x] = s;
}
extern "C" __global__ void widths(long long a, unsigned char b, double c, long long* out) {
    out[0] = a; out[1] = b; out[2] = (long long)(c * 2.0);
}
'''


@pytest.fixture(scope="module")
def mod():
    return EmuModule(SRC, name="test_emulator.cu")


def test_parse_signatures():
    k = parse_kernels(SRC)
    assert [p.name for p in k["saxpy"]] == ["a", "x", "y", "n"]
    assert k["saxpy"][1].pointer and not k["saxpy"][0].pointer


def test_saxpy_and_python_int_width(mod):
    x = np.arange(1000, dtype=np.float32)
    y = np.ones(1000, np.float32)
    mod.get_function("saxpy")((8,), (128,), (2.0, x, y, 1000))        # Python float and int
    np.testing.assert_array_equal(y, 2 * x + 1)
    mod.get_function("saxpy")((8,), (128,), (np.float32(1), x, y, np.int32(1000)))
    np.testing.assert_array_equal(y, 3 * x + 1)


def test_wrong_numpy_scalar_width_is_an_error(mod):
    x = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match="int64"):
        mod.get_function("saxpy")(1, 4, (np.float32(1), x, x, np.int64(4)))
    with pytest.raises(TypeError, match="takes 4 arguments"):
        mod.get_function("saxpy")(1, 4, (x, x))


def test_parameter_widths(mod):
    out = np.zeros(3, np.int64)
    mod.get_function("widths")(1, 1, (2**40 + 3, 200, 1.25, out))
    assert out.tolist() == [2**40 + 3, 200, 2]


def test_3d_grid_and_block(mod):
    g, b = (3, 2, 2), (4, 3, 2)
    out = np.full(12 * 24, -1, np.int32)
    mod.get_function("index3d")(g, b, (out,))
    ref = np.array([bb * 1000 + t for bb in range(12) for t in range(24)])
    np.testing.assert_array_equal(out, ref)


def test_block_reduction_dynamic_shared_and_shuffles(mod, rng):
    x = rng.standard_normal((7, 1000)).astype(np.float32)
    out = np.zeros(7, np.float32)
    mod.get_function("rowsum")((7,), (256,), (x, out, 1000), shared_mem=8 * 4)
    np.testing.assert_allclose(out, x.sum(1), rtol=1e-5, atol=1e-4)


def test_warp_primitives(mod):
    out = np.zeros(64 * 5, np.int32)
    mod.get_function("shuffles")(1, 64, (out,))
    r = out.reshape(64, 5)
    lane = np.arange(64) % 32
    assert (r[:, 0] == 30).all()
    np.testing.assert_array_equal(r[:, 1], np.where(lane >= 2, lane - 2, lane))
    np.testing.assert_array_equal(r[:, 2], lane ^ 1)
    ballot = sum(1 << l for l in range(32) if l % 3 == 0)
    assert (r[:, 3].astype(np.uint32) == ballot).all()
    assert (r[:, 4] == 3).all()


def test_atomics(mod):
    acc, hits, mx = np.zeros(1, np.float32), np.zeros(1, np.int32), np.zeros(1, np.uint32)
    mod.get_function("count")((5,), (96,), (acc, hits, mx))
    assert acc[0] == 480 and hits[0] == 960 and mx[0] == 479


def test_shared_memory_is_poisoned(mod):
    y = np.zeros(64, np.float32)
    mod.get_function("reverse_nosync")(1, 64, (y,))
    assert np.isnan(y[:32]).all()                     # earlier threads read slots not yet written
    mod.get_function("reverse_sync")(1, 64, (y,))
    np.testing.assert_array_equal(y, np.arange(64)[::-1])


def test_divergent_barrier_and_deadlock_reported(mod):
    y = np.zeros(64, np.float32)
    with pytest.raises(EmulatorError, match="divergent __syncthreads"):
        mod.get_function("divergent")(1, 64, (y,))
    with pytest.raises(EmulatorError, match="deadlock"):
        mod.get_function("deadlock")(1, 64, (y,))
    # the module stays usable afterwards
    mod.get_function("reverse_sync")(1, 64, (y,))
    np.testing.assert_array_equal(y, np.arange(64)[::-1])


def test_dynamic_shared_memory_limit(mod, rng):
    x = rng.standard_normal((1, 64)).astype(np.float32)
    out = np.zeros(1, np.float32)
    with pytest.raises(EmulatorError, match="48 KiB"):
        mod.get_function("rowsum")((1,), (64,), (x, out, 64), shared_mem=49 * 1024)
    mod.lib.emu_set_allow_large_smem(1)
    try:
        mod.get_function("rowsum")((1,), (64,), (x, out, 64), shared_mem=49 * 1024)
    finally:
        mod.lib.emu_set_allow_large_smem(0)
    np.testing.assert_allclose(out, x.sum(1), rtol=1e-5, atol=1e-5)


def test_large_local_arrays(mod):
    y = np.zeros(128, np.float32)
    mod.get_function("big_local")(1, 128, (y, 7))
    assert (y == sum(i % 7 for i in range(4096))).all()


def test_fiber_stack_overflow_is_reported_not_corrupting():
    src = r"""
    extern "C" __global__ void huge_local(float* y, int n) {
        volatile float buf[40000];                    // 160 KB: more than a 64 KiB fiber stack
        for (int i = 0; i < 40000; i++) buf[i] = (float)i;
        __syncthreads();
        y[threadIdx.x] = buf[n];
    }
    """
    m = EmuModule(src, name="overflow.cu")
    y = np.zeros(4, np.float32)
    with pytest.raises(EmulatorError, match="stack overflow"):
        m.get_function("huge_local")(1, 4, (y, 7))
    big = EmuModule(src, name="overflow.cu", stack_size=256 * 1024)
    big.get_function("huge_local")(1, 4, (y, 7))
    assert (y == 7).all()
    m.get_function("huge_local")  # the module stays usable
    with pytest.raises(EmulatorError, match="stack overflow"):
        m.get_function("huge_local")(1, 4, (y, 7))


def test_bad_launch_configuration(mod):
    y = np.zeros(4, np.float32)
    with pytest.raises(EmulatorError, match="block size"):
        mod.get_function("reverse_sync")(1, 2048, (y,))
    with pytest.raises(KeyError, match="no extern"):
        mod.get_function("nope")


def test_build_cache_reuses_the_library():
    p1, _ = compile_source(SRC, name="test_emulator.cu")
    mtime = p1.stat().st_mtime_ns
    p2, _ = compile_source(SRC, name="test_emulator.cu")
    assert p1 == p2 and p2.stat().st_mtime_ns == mtime
    p3, _ = compile_source(SRC + "\n// changed\n", name="test_emulator.cu")
    assert p3 != p1


def _libasan():
    try:
        p = subprocess.run(["g++", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return None
    return p if os.path.isabs(p) and os.path.exists(p) else None


OOB_SCRIPT = r'''
import numpy as np
from tfl_gpu.delegates.cuda.emulator import EmuModule
m = EmuModule("""
extern "C" __global__ void copy(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    y[i] = x[i];
}
""", name="oob_kernel.cu")
x = np.zeros(100, np.float32); y = np.zeros(100, np.float32)
m.get_function("copy")(1, 100, (x, y, 100))
print("in-bounds ok", flush=True)
m.get_function("copy")(1, 128, (x, y, 100))
'''


@pytest.mark.skipif(_libasan() is None, reason="g++ has no AddressSanitizer runtime")
def test_sanitizer_mode_reports_out_of_bounds_with_source_line(tmp_path):
    env = dict(os.environ, LD_PRELOAD=_libasan(), ASAN_OPTIONS="detect_leaks=0", TFL_GPU_EMU_SANITIZE="1")
    r = subprocess.run([sys.executable, "-c", OOB_SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert "in-bounds ok" in r.stdout, r.stderr[-3000:]
    assert r.returncode != 0
    assert "heap-buffer-overflow" in r.stderr and "oob_kernel.cu:4" in r.stderr, r.stderr[-3000:]


SMEM_OOB_SCRIPT = r'''
import sys
import numpy as np
from tfl_gpu.delegates.cuda.emulator import EmuModule
m = EmuModule("""
extern __shared__ float file_scope_smem[];
extern "C" __global__ void dyn(float* y, int n) {
    extern __shared__ float buf[];
    buf[threadIdx.x] = threadIdx.x;
    __syncthreads();
    y[threadIdx.x] = file_scope_smem[(threadIdx.x + 1) % n];
}
extern "C" __global__ void stat(float* y, int n) {
    __shared__ float tile[32];
    tile[threadIdx.x] = 1.f;
    __syncthreads();
    y[threadIdx.x] = tile[threadIdx.x];
}
""", name="smem_kernel.cu")
y = np.zeros(64, np.float32)
which = sys.argv[1]
m.get_function(which)(1, 32, (y, 32), shared_mem=32 * 4)
print("in-bounds ok", y[:3], flush=True)
m.get_function(which)(1, 64, (y, 64), shared_mem=32 * 4)
'''


@pytest.mark.skipif(_libasan() is None, reason="g++ has no AddressSanitizer runtime")
@pytest.mark.parametrize("which,what", [("dyn", "heap-buffer-overflow"), ("stat", "out of bounds")])
def test_sanitizer_mode_reports_shared_memory_overflow(which, what):
    env = dict(os.environ, LD_PRELOAD=_libasan(), ASAN_OPTIONS="detect_leaks=0", TFL_GPU_EMU_SANITIZE="1")
    r = subprocess.run([sys.executable, "-c", SMEM_OOB_SCRIPT, which], capture_output=True, text=True, env=env,
                       timeout=300)
    assert "in-bounds ok" in r.stdout, r.stderr[-3000:]
    assert r.returncode != 0 and what in r.stderr and "smem_kernel.cu:" in r.stderr, r.stderr[-3000:]


def test_kernel_named_like_a_libc_function():
    """Kernels are not interposed by same-named libc symbols (the library exports only its launchers)."""
    m = EmuModule('extern "C" __global__ void stat(float* y) { y[threadIdx.x] = 2.f; }', name="libc_names.cu")
    y = np.zeros(8, np.float32)
    m.get_function("stat")(1, 8, (y,))
    assert (y == 2).all()


@pytest.mark.skipif(_libasan() is None, reason="g++ has no AddressSanitizer runtime")
def test_kernels_clean_under_sanitizers():
    """A subset of the kernel suite with the kernels built with -fsanitize=address,undefined."""
    env = dict(os.environ, LD_PRELOAD=_libasan(), ASAN_OPTIONS="detect_leaks=0", TFL_GPU_EMU_SANITIZE="1")
    here = Path(__file__).parent
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(here / "test_cuda_kernels.py"), str(here / "test_cuda_quant.py"), "-k",
                        "(conv2d or depthwise or pool or fully or softmax or strided or resize or batch_matmul"
                        " or reduce or gather or pad or depth_space or broadcast or int8) and not mobilenet"],
                       capture_output=True, text=True, env=env, timeout=600, cwd=here.parent)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    assert "passed" in r.stdout and "failed" not in r.stdout


HALF_SRC = r"""
#include <cuda_fp16.h>
extern "C" __global__ void roundtrip(const float* x, float* y, unsigned short* bits, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        __half h = __float2half(x[i]);
        bits[i] = __half_as_ushort(h);
        y[i] = __half2float(__hadd(h, __float2half(1.0f)));
    }
}
"""


def test_half_conversions_match_numpy(rng):
    m = EmuModule(HALF_SRC, name="half.cu")
    x = np.concatenate([rng.standard_normal(500).astype(np.float32) * 10.0 ** rng.integers(-8, 6, 500),
                        np.array([0.0, -0.0, 65504, 65520, 1e6, -1e6, 6e-8, 2.9e-8, 3e-8, np.inf, -np.inf,
                                  np.nan, 1.0009765625, 1.00048828125, 1.00146484375], np.float32)]).astype(np.float32)
    y = np.zeros_like(x)
    bits = np.zeros(x.size, np.uint16)
    m.get_function("roundtrip")(((x.size + 127) // 128,), (128,), (x, y, bits, x.size))
    with np.errstate(over="ignore"):
        ref = x.astype(np.float16)
    finite = ~np.isnan(ref)
    np.testing.assert_array_equal(bits[finite], ref.view(np.uint16)[finite])
    assert np.isnan(y[~finite]).all()
    np.testing.assert_array_equal(y[finite], (ref[finite] + np.float16(1)).astype(np.float32))


def test_backend_rejects_host_arrays_like_cupy():
    """The emulator backend accepts only its device arrays at kernel launch, as CuPy does."""
    from tfl_gpu.delegates.cuda.backend import EmulatorBackend
    be = EmulatorBackend()
    x = np.ones(8, np.float32)
    y = be.empty((8,), np.float32)
    f = be.function("elementwise", "unary_f32")
    with pytest.raises(TypeError, match="host numpy array"):
        f((1,), (32,), (x, y, np.int32(8), np.int32(0), np.float32(0)))
    f((1,), (32,), (be.to_device(x), y, np.int32(8), np.int32(13), np.float32(0)))    # NEG
    np.testing.assert_array_equal(be.to_host(y), -x)


def test_concurrent_launches_from_threads(mod, rng):
    """ctypes drops the GIL during a launch: launches from several threads are serialised per library."""
    import threading
    xs = [rng.standard_normal((5, 700)).astype(np.float32) for _ in range(4)]
    outs = [np.zeros(5, np.float32) for _ in range(4)]
    errors = []

    def work(k):
        try:
            for _ in range(5):
                mod.get_function("rowsum")((5,), (128,), (xs[k], outs[k], 700), shared_mem=16)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    for x, o in zip(xs, outs):
        np.testing.assert_allclose(o, x.sum(1), rtol=1e-5, atol=1e-4)
