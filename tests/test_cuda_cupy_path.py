"""The delegate's CuPy code path (CupyBackend, eager runs and CUDA-graph capture/replay) exercised without a
GPU: a stand-in ``cupy`` module whose device arrays are numpy arrays, whose RawModule runs the kernels on
the emulator, and whose stream capture records kernel launches (not running them) for the graph to replay,
as CUDA does. It checks the GPU-side glue — static input buffers, buffers kept alive for the graph, outputs
refreshed on every replay, recapture on a shape change — not CuPy itself (the gpu-marked tests do that)."""
import sys
import types

import numpy as np
import pytest

import tfl_gpu
from cuda_helpers import f32, needs_gxx
from oracle import SHARED_MODELS, assert_close, run_ours
from tfl_gpu.writer import ModelBuilder

pytestmark = needs_gxx


class FakeDeviceArray(np.ndarray):
    pass


def _make_fake_cupy():
    from tfl_gpu.delegates.cuda.emulator import EmuModule
    cp = types.ModuleType("cupy")
    state = types.SimpleNamespace(capturing=None, launches=0, captures=0, replays=0)
    cp._state = state
    cp.ndarray = FakeDeviceArray

    def empty(shape, dtype=np.float32):
        return np.empty(shape, dtype).view(FakeDeviceArray)

    def asarray(a):
        return a if isinstance(a, FakeDeviceArray) else np.array(a, copy=True).view(FakeDeviceArray)

    cp.empty = empty
    cp.zeros = lambda shape, dtype=np.float32: np.zeros(shape, dtype).view(FakeDeviceArray)
    cp.empty_like = lambda a: empty(a.shape, a.dtype)
    cp.asarray = asarray
    cp.ascontiguousarray = lambda a: a if a.flags.c_contiguous else a.copy()
    cp.asnumpy = lambda a: np.array(a, copy=True).view(np.ndarray)
    cp.from_dlpack = lambda a: asarray(np.from_dlpack(a))

    class Kernel:
        def __init__(self, fn):
            self.fn = fn

        def __call__(self, grid, block, args, shared_mem=0):
            for a in args:
                if isinstance(a, np.ndarray) and not isinstance(a, FakeDeviceArray):
                    raise TypeError("Unsupported type <class 'numpy.ndarray'>")    # as CuPy
            if state.capturing is not None:
                state.capturing.append((self.fn, grid, block, tuple(args), shared_mem))
            else:
                state.launches += 1
                self.fn(grid, block, args, shared_mem=shared_mem)

    class RawModule:
        def __init__(self, code, options=()):
            assert "--std=c++17" in options
            self.m = EmuModule(code, name="fake_cupy.cu")

        def get_function(self, name):
            return Kernel(self.m.get_function(name))

    cp.RawModule = RawModule

    class Graph:
        def __init__(self, calls):
            self.calls = calls

        def upload(self, stream=None):
            pass

        def launch(self, stream=None):
            state.replays += 1
            for fn, grid, block, args, smem in self.calls:
                fn(grid, block, args, shared_mem=smem)

    class Stream:
        def __init__(self, non_blocking=False):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def begin_capture(self, mode=None):
            state.capturing = []

        def end_capture(self):
            calls, state.capturing = state.capturing, None
            state.captures += 1
            return Graph(calls)

        def synchronize(self):
            pass

    class Device:
        def __init__(self, i=0):
            self.id = i

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def synchronize(self):
            pass

    Stream.null = Stream()
    cuda = types.ModuleType("cupy.cuda")
    cuda.is_available = lambda: True
    cuda.Stream = Stream
    cuda.Device = Device
    cuda.runtime = types.SimpleNamespace(getDeviceCount=lambda: 1)
    cp.cuda = cuda
    return cp


@pytest.fixture
def fake_cupy(monkeypatch):
    cp = _make_fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    monkeypatch.setitem(sys.modules, "cupy.cuda", cp.cuda)
    return cp


def _model(rng):
    mb = ModelBuilder()
    xi = mb.input("x", [1, 9, 9, 3], "FLOAT32")
    c = mb.tensor("c", [], "FLOAT32")
    mb.op("CONV_2D", [xi, mb.const("w", f32(rng, (8, 3, 3, 3))), mb.const("b", f32(rng, (8,)))], [c],
          padding="SAME", stride_w=2, stride_h=2, fused_activation_function="RELU6")
    m_ = mb.tensor("m", [], "FLOAT32")
    mb.op("MEAN", [c, mb.const("ax", np.array([1, 3], np.int32))], [m_], keep_dims=False)   # transposes
    s = mb.tensor("s", [], "FLOAT32")
    mb.op("SOFTMAX", [m_], [s], beta=1.0)
    mb.output(s, c)
    return mb.build()


def test_auto_backend_picks_cupy_when_a_gpu_is_usable(fake_cupy):
    d = tfl_gpu.load_delegate("cuda")
    assert d.config.backend.name == "cupy" and d.config.backend.is_gpu


@pytest.mark.parametrize("graphs", [False, True])
def test_cupy_path_eager_and_graph_replay(fake_cupy, rng, graphs):
    m = _model(rng)
    d = tfl_gpu.load_delegate("cuda", {"backend": "cupy", "cuda_graphs": graphs})
    it = tfl_gpu.Interpreter(model_content=m, experimental_delegates=[d])
    for shape in ([1, 9, 9, 3], [1, 9, 9, 3], [1, 9, 9, 3], [2, 7, 5, 3], [2, 7, 5, 3], [2, 7, 5, 3]):
        if tuple(it.get_input_details()[0]["shape"]) != tuple(shape):
            it.resize_tensor_input(0, shape)
            it.allocate_tensors()
        elif not it._allocated:
            it.allocate_tensors()
        x = f32(rng, shape)                       # new data on every invoke: replays must see it
        it.set_tensor(0, x)
        it.invoke()
        ref = run_ours(m, [x])
        for o, r in zip(it.get_output_details(), ref):
            assert_close(it.get_tensor(o["index"]), r)
    st = fake_cupy._state
    if graphs:
        # one capture per plan (after its first, eager run), replayed from then on; allocate_tensors after a
        # resize may run the new plan once to learn shapes, hence >= 4
        assert st.captures == 2 and st.replays >= 4
    else:
        assert st.captures == 0 and st.replays == 0


def test_cupy_path_device_inputs_and_outputs(fake_cupy, rng):
    """A device array given as input stays on the device; device_outputs() exposes the results."""
    m = _model(rng)
    d = tfl_gpu.load_delegate("cuda", {"backend": "cupy", "cuda_graphs": False})
    it = tfl_gpu.Interpreter(model_content=m, experimental_delegates=[d])
    it.allocate_tensors()
    x = f32(rng, (1, 9, 9, 3))
    it.set_tensor(0, x)
    it.invoke()
    outs = d.plugin.device_outputs()
    assert outs and all(isinstance(v, FakeDeviceArray) for v in outs.values())
    ref = run_ours(m, [x])
    out_idx = [o["index"] for o in it.get_output_details()]
    for i, r in zip(out_idx, ref):
        assert_close(np.asarray(outs[i]).view(np.ndarray), r)


@pytest.mark.skipif(not SHARED_MODELS.is_dir(), reason="../shared/models is not present")
def test_cupy_path_graph_on_a_shared_model(fake_cupy, rng):
    content = (SHARED_MODELS / "mp_hand_recrop.tflite").read_bytes()
    d = tfl_gpu.load_delegate("cuda", {"backend": "cupy"})
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=[d])
    it.allocate_tensors()
    for _ in range(3):
        x = rng.standard_normal((1, 256, 256, 3)).astype(np.float32)
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        assert_close(it.get_tensor(it.get_output_details()[0]["index"]), run_ours(content, [x])[0])
    assert fake_cupy._state.captures == 1 and fake_cupy._state.replays == 2
