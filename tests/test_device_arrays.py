"""Device arrays (CuPy, PyTorch, any DLPack producer) as inputs and outputs, without a host round trip.

The core knows no device: a value for ``set_tensor`` that is not a numpy array but exposes ``__dlpack__``
(or ``__cuda_array_interface__``) is checked from its ``shape``/``dtype`` attributes, kept as it is when
every reader is a delegate implementing ``delegate_copy_in``, else converted to numpy once.
``Interpreter.experimental_get_device_tensor`` returns a delegate's own array for a partition output.

A fake device array (numpy data behind ``__dlpack__``, counting host conversions) and a test delegate
prove the core's side; the CUDA delegate's CuPy path runs with the stand-in ``cupy`` module of
test_cuda_cupy_path.py; the real-GPU tests are marked ``gpu`` and skip without one."""
import numpy as np
import pytest

import tfl_gpu
from tfl_gpu import delegates_api
from tfl_gpu.device_arrays import array_dtype, is_device_array, to_host
from tfl_gpu.hookspecs import hookimpl
from tfl_gpu.writer import ModelBuilder


class FakeDevArray:
    """Not a numpy array: data behind DLPack (host-readable, like a CPU DLPack producer) and ``get()``.
    ``host_conversions`` counts every time someone reads the data through them."""

    def __init__(self, a):
        self._a = np.array(a, copy=True)
        self.host_conversions = 0

    @property
    def shape(self):
        return self._a.shape

    @property
    def dtype(self):
        return self._a.dtype

    def __dlpack__(self, **kw):
        self.host_conversions += 1
        return self._a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()

    def get(self):
        self.host_conversions += 1
        return self._a.copy()


class DeviceDelegate:
    """Runs claimed nodes with the core's numpy kernels on FakeDevArrays: copy_in keeps a FakeDevArray as
    it is (reading its data privately, not through DLPack) and wraps host arrays; copy_out unwraps."""

    def __init__(self):
        self.seen_in = []

    @hookimpl
    def delegate_option_schema(self):
        return {"ops": ("ADD", "MUL")}

    @hookimpl
    def delegate_supports_node(self, node, config):
        return node.op in config["ops"] or f"no {node.op}"

    @hookimpl
    def delegate_prepare(self, partition):
        return partition

    @hookimpl
    def delegate_copy_in(self, array, tensor):
        self.seen_in.append(type(array).__name__)
        if isinstance(array, FakeDevArray):
            return array
        assert isinstance(array, np.ndarray) and array.dtype == tensor.dtype
        return FakeDevArray(array)

    @hookimpl
    def delegate_invoke(self, kernel, inputs):
        assert all(isinstance(a, FakeDevArray) for a in inputs)
        env = {t.index: a._a for t, a in zip(kernel.inputs, inputs)}
        for n in kernel.nodes:
            args = [None if t is None else (t.constant if t.constant is not None else env[t.index])
                    for t in n.inputs]
            for t, v in zip(n.outputs, n.cpu_kernel()(*args)):
                env[t.index] = v
        return [FakeDevArray(env[t.index]) for t in kernel.outputs]

    @hookimpl
    def delegate_copy_out(self, array, tensor):
        assert isinstance(array, FakeDevArray)
        return array._a.copy()


@pytest.fixture(autouse=True)
def _registered():
    delegates_api.register_delegate("fakedev", DeviceDelegate)
    yield
    delegates_api.unregister_delegate("fakedev")


C1 = np.array([[0.5, -1.0, 2.0]], np.float32)
C2 = np.array([[3.0, 0.25, -2.0]], np.float32)


def _model(tanh_reads_x=False):
    """z = (x + C1) * C2 [, t = tanh(x)]; x: float32 [2, 3]."""
    mb = ModelBuilder()
    x = mb.input("x", [2, 3], "FLOAT32")
    y = mb.tensor("y", [2, 3], "FLOAT32")
    mb.op("ADD", [x, mb.const("c1", C1)], [y])
    z = mb.tensor("z", [2, 3], "FLOAT32")
    mb.op("MUL", [y, mb.const("c2", C2)], [z])
    outs = [z]
    if tanh_reads_x:
        t = mb.tensor("t", [2, 3], "FLOAT32")
        mb.op("TANH", [x], [t])
        outs.append(t)
    mb.output(*outs)
    mb.signature("serving_default", {"x": x}, {"z": z})
    return mb.build()


def _interp(content, ops=("ADD", "MUL"), delegate="fakedev"):
    ds = [tfl_gpu.load_delegate(delegate, {"ops": ops} if delegate == "fakedev" else None)] if delegate else None
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=ds)
    it.allocate_tensors()
    return it, (ds[0] if ds else None)


def _x(rng):
    return rng.standard_normal((2, 3)).astype(np.float32)


def _io(it):
    return it.get_input_details()[0]["index"], [o["index"] for o in it.get_output_details()]


# ------------------------------------------------------------------------------------------ inputs
def test_helpers():
    a = FakeDevArray(np.arange(6, dtype=np.int16).reshape(2, 3))
    assert is_device_array(a) and not is_device_array(np.zeros(2)) and not is_device_array([1, 2])
    assert array_dtype(a) == np.int16
    h = to_host(a)
    assert type(h) is np.ndarray and h.dtype == np.int16 and (h == a._a).all() and a.host_conversions == 1

    class TorchLike:      # dtype attribute that numpy does not know
        shape = (2,)
        dtype = "torch.float32"

        def __dlpack__(self, **kw):
            return np.zeros(2, np.float32).__dlpack__(**kw)

        def __dlpack_device__(self):
            return np.zeros(2).__dlpack_device__()
    assert array_dtype(TorchLike()) == np.float32


def test_no_host_conversion_when_every_reader_is_delegated(rng):
    it, d = _interp(_model())
    xi, (zi,) = _io(it)
    x = _x(rng)
    dev = FakeDevArray(x)
    it.set_tensor(xi, dev)
    it.invoke()
    assert dev.host_conversions == 0
    assert d.plugin.seen_in == ["FakeDevArray"]         # the delegate got the object itself
    np.testing.assert_allclose(it.get_tensor(zi), (x + C1) * C2, rtol=1e-6)
    # the output as the delegate holds it, without a host copy
    zd = it.experimental_get_device_tensor(zi)
    assert isinstance(zd, FakeDevArray) and zd.host_conversions == 0
    np.testing.assert_array_equal(zd._a, it.get_tensor(zi))
    # again with new data: the new object is used, the old one is not read
    x2 = _x(rng)
    dev2 = FakeDevArray(x2)
    it.set_tensor(xi, dev2)
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(zi), (x2 + C1) * C2, rtol=1e-6)
    assert dev.host_conversions == 0 and dev2.host_conversions == 0


def test_device_input_through_signature_runner(rng):
    it, d = _interp(_model())
    x = _x(rng)
    dev = FakeDevArray(x)
    out = it.get_signature_runner()(x=dev)
    assert dev.host_conversions == 0
    np.testing.assert_allclose(out["z"], (x + C1) * C2, rtol=1e-6)


@pytest.mark.parametrize("case", ["cpu_reader", "mixed_readers", "no_delegate", "reference_delegate"])
def test_exactly_one_host_conversion_when_a_cpu_node_reads_it(rng, case):
    if case == "cpu_reader":              # ADD (reads x) stays on the CPU
        it, _ = _interp(_model(), ops=("MUL",))
    elif case == "mixed_readers":         # x read by the delegated ADD and by TANH on the CPU
        it, _ = _interp(_model(tanh_reads_x=True))
    elif case == "no_delegate":
        it, _ = _interp(_model(), delegate=None)
    else:                                 # a delegate without delegate_copy_in gets numpy
        it, _ = _interp(_model(), delegate="reference")
    xi, outs = _io(it)
    x = _x(rng)
    dev = FakeDevArray(x)
    it.set_tensor(xi, dev)
    assert dev.host_conversions == 1
    it.invoke()
    assert dev.host_conversions == 1
    np.testing.assert_allclose(it.get_tensor(outs[0]), (x + C1) * C2, rtol=1e-6)
    if len(outs) > 1:
        np.testing.assert_allclose(it.get_tensor(outs[1]), np.tanh(x), rtol=1e-6)
    # the value is held as numpy: later reads make no further conversion
    np.testing.assert_array_equal(it.get_tensor(xi), x)
    assert dev.host_conversions == 1
    # z comes from the fakedev delegate (its own array) or from the CPU / the reference delegate (numpy)
    z = it.experimental_get_device_tensor(outs[0])
    if case in ("cpu_reader", "mixed_readers"):
        assert isinstance(z, FakeDevArray)
        z = z._a
    else:
        assert type(z) is np.ndarray
    np.testing.assert_array_equal(z, it.get_tensor(outs[0]))
    if len(outs) > 1:     # TANH ran on the CPU
        t = it.experimental_get_device_tensor(outs[1])
        assert type(t) is np.ndarray
        np.testing.assert_array_equal(t, it.get_tensor(outs[1]))


def test_input_kept_on_device_is_readable(rng):
    it, _ = _interp(_model())
    xi, (zi,) = _io(it)
    x = _x(rng)
    dev = FakeDevArray(x)
    it.set_tensor(xi, dev)
    assert it.experimental_get_device_tensor(xi) is dev
    got = it.get_tensor(xi)                          # the user asks for host data: converted then
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, x)
    view = it.tensor(xi)()                           # a raw view: the value becomes a host buffer
    np.testing.assert_array_equal(view, x)
    del view
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(zi), (x + C1) * C2, rtol=1e-6)


def test_numpy_after_device_and_device_after_numpy(rng):
    it, _ = _interp(_model(tanh_reads_x=True))
    xi, outs = _io(it)
    for k in range(4):
        x = _x(rng)
        it.set_tensor(xi, FakeDevArray(x) if k % 2 else x)
        it.invoke()
        np.testing.assert_allclose(it.get_tensor(outs[0]), (x + C1) * C2, rtol=1e-6)
        np.testing.assert_allclose(it.get_tensor(outs[1]), np.tanh(x), rtol=1e-6)


def test_reallocation_converts_a_held_device_value(rng):
    """A device value kept for a delegate, then a re-plan (resize): no device array reaches a CPU kernel."""
    it, _ = _interp(_model())
    xi, (zi,) = _io(it)
    x = _x(rng)
    dev = FakeDevArray(x)
    it.set_tensor(xi, dev)
    it._allocated = False           # as after resize_tensor_input of another input
    it.allocate_tensors()
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(zi), (x + C1) * C2, rtol=1e-6)
    assert isinstance(it.experimental_get_device_tensor(zi), FakeDevArray)
    it.resize_tensor_input(xi, [4, 3])
    it.allocate_tensors()
    # the new plan has not run: no stale device array of the old one (nor of the shape-propagation run)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # (reading an output before invoke warns)
        assert type(it.experimental_get_device_tensor(zi)) is np.ndarray
    x4 = rng.standard_normal((4, 3)).astype(np.float32)
    it.set_tensor(xi, FakeDevArray(x4))
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(zi), (x4 + C1) * C2, rtol=1e-6)


def _error(it, xi, value):
    with pytest.raises(ValueError) as e:
        it.set_tensor(xi, value)
    return str(e.value)


@pytest.mark.parametrize("delegated", [True, False])
@pytest.mark.parametrize("bad", [np.zeros((2, 3), np.int32), np.zeros((2, 3), np.float64),
                                 np.zeros((2, 4), np.float32), np.zeros((3, 3), np.float32),
                                 np.zeros((2, 3, 1), np.float32), np.zeros((6,), np.float32)],
                         ids=["int32", "float64", "dim1", "dim0", "rank3", "rank1"])
def test_dtype_and_shape_errors_same_as_numpy(rng, bad, delegated):
    it, _ = _interp(_model(), delegate="fakedev" if delegated else None)
    xi, _ = _io(it)
    dev = FakeDevArray(bad)
    msg_np = _error(it, xi, bad)
    msg_dev = _error(it, xi, dev)
    assert msg_dev == msg_np and msg_np.startswith("Cannot set tensor")
    assert dev.host_conversions == 0         # refused before any conversion


def test_string_tensor_refuses_device_arrays_as_litert():
    mb = ModelBuilder()
    s = mb.input("s", [2], "STRING")
    mb.output(s)
    it = tfl_gpu.Interpreter(model_content=mb.build())
    it.allocate_tensors()
    msg = _error(it, 0, FakeDevArray(np.array([1, 2], np.int32)))
    assert "not a numpy array" in msg


# ------------------------------------------------------------------------------------------ the CUDA delegate
def _cuda_model(rng):
    from cuda_helpers import f32
    mb = ModelBuilder()
    xi = mb.input("x", [1, 9, 9, 3], "FLOAT32")
    c = mb.tensor("c", [], "FLOAT32")
    mb.op("CONV_2D", [xi, mb.const("w", f32(rng, (8, 3, 3, 3))), mb.const("b", f32(rng, (8,)))], [c],
          padding="SAME", stride_w=2, stride_h=2, fused_activation_function="RELU6")
    s = mb.tensor("s", [], "FLOAT32")
    mb.op("SOFTMAX", [c], [s], beta=1.0)
    mb.output(s, c)
    return mb.build()


@pytest.fixture
def fake_cupy(monkeypatch):
    import sys
    from test_cuda_cupy_path import _make_fake_cupy
    cp = _make_fake_cupy()
    imported = []
    real = cp.from_dlpack

    def from_dlpack(a):
        imported.append(a)
        return real(a)
    cp.from_dlpack = from_dlpack
    cp._imported = imported
    monkeypatch.setitem(sys.modules, "cupy", cp)
    monkeypatch.setitem(sys.modules, "cupy.cuda", cp.cuda)
    return cp


def _gxx():
    import shutil
    return shutil.which("g++") is not None


needs_gxx = pytest.mark.skipif(not _gxx(), reason="the CUDA emulator needs g++")


@needs_gxx
@pytest.mark.parametrize("graphs", [False, True])
def test_cuda_cupy_path_dlpack_input_and_device_outputs(fake_cupy, rng, graphs):
    from oracle import assert_close, run_ours
    from test_cuda_cupy_path import FakeDeviceArray
    m = _cuda_model(rng)
    d = tfl_gpu.load_delegate("cuda", {"backend": "cupy", "cuda_graphs": graphs})
    it = tfl_gpu.Interpreter(model_content=m, experimental_delegates=[d])
    it.allocate_tensors()
    xi, outs = _io(it)
    for _ in range(3):                            # eager, then capture and replay
        x = rng.standard_normal((1, 9, 9, 3)).astype(np.float32)
        dev = FakeDevArray(x)
        it.set_tensor(xi, dev)
        assert dev.host_conversions == 0          # the core kept it as it is
        it.invoke()
        assert fake_cupy._imported[-1] is dev     # the delegate imported it with cupy.from_dlpack
        ref = run_ours(m, [x])
        for o, r in zip(outs, ref):
            od = it.experimental_get_device_tensor(o)
            assert isinstance(od, FakeDeviceArray)        # a (stand-in) CuPy array: no host copy
            assert_close(np.asarray(od).view(np.ndarray), r)
            assert_close(it.get_tensor(o), r)
            assert od is d.plugin.device_outputs()[o]
    assert fake_cupy._state.captures == (1 if graphs else 0)


@needs_gxx
def test_cuda_cupy_path_cupy_array_input_used_in_place(fake_cupy, rng):
    """A (stand-in) CuPy array reaches delegate_copy_in as it is and is used without a copy when
    contiguous; a non-contiguous one is made contiguous on the device."""
    from oracle import assert_close, run_ours
    from test_cuda_cupy_path import FakeDeviceArray
    from tfl_gpu.delegates.cuda import CudaDelegate
    m = _cuda_model(rng)
    d = tfl_gpu.load_delegate("cuda", {"backend": "cupy", "cuda_graphs": False})
    it = tfl_gpu.Interpreter(model_content=m, experimental_delegates=[d])
    it.allocate_tensors()
    prog = d.plugin.programs[0]
    spec = prog.partition.inputs[0]
    x = rng.standard_normal((1, 9, 9, 3)).astype(np.float32)
    xd = fake_cupy.asarray(x)
    assert CudaDelegate.delegate_copy_in(d.plugin, prog, xd, spec) is xd
    xt = fake_cupy.asarray(np.ascontiguousarray(x.transpose(0, 2, 1, 3))).transpose(0, 2, 1, 3)
    assert not xt.flags.c_contiguous
    got = CudaDelegate.delegate_copy_in(d.plugin, prog, xt, spec)
    assert isinstance(got, FakeDeviceArray) and got.flags.c_contiguous
    np.testing.assert_array_equal(np.asarray(got), x)
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    for o, r in zip(_io(it)[1], run_ours(m, [x])):
        assert_close(it.get_tensor(o), r)


@needs_gxx
def test_cuda_emulator_dlpack_input_and_device_outputs(rng):
    from oracle import assert_close, run_ours
    from tfl_gpu.delegates.cuda.backend import EmuDeviceArray
    m = _cuda_model(rng)
    d = tfl_gpu.load_delegate("cuda", {"backend": "emulator"})
    it = tfl_gpu.Interpreter(model_content=m, experimental_delegates=[d])
    it.allocate_tensors()
    xi, outs = _io(it)
    x = rng.standard_normal((1, 9, 9, 3)).astype(np.float32)
    dev = FakeDevArray(x)
    it.set_tensor(xi, dev)
    assert dev.host_conversions == 0
    it.invoke()
    assert dev.host_conversions == 1             # the emulator's "upload" reads it once
    for o, r in zip(outs, run_ours(m, [x])):
        od = it.experimental_get_device_tensor(o)
        assert isinstance(od, EmuDeviceArray)
        assert_close(np.asarray(od), r)
        assert type(it.get_tensor(o)) is np.ndarray


# ------------------------------------------------------------------------------------------ real GPU
def _gpu_available():
    try:
        from tfl_gpu.delegates.cuda.backend import gpu_available
        return gpu_available()
    except Exception:  # noqa: BLE001
        return False


gpu = pytest.mark.gpu
needs_gpu = pytest.mark.skipif(not _gpu_available(), reason="needs CuPy and an NVIDIA GPU")


@gpu
@needs_gpu
@pytest.mark.parametrize("graphs", [False, True])
def test_gpu_cupy_input_and_output(rng, graphs):
    import cupy
    from oracle import assert_close, run_ours
    m = _cuda_model(rng)
    d = tfl_gpu.load_delegate("cuda", {"backend": "cupy", "cuda_graphs": graphs})
    it = tfl_gpu.Interpreter(model_content=m, experimental_delegates=[d])
    it.allocate_tensors()
    xi, outs = _io(it)
    for _ in range(3):
        x = rng.standard_normal((1, 9, 9, 3)).astype(np.float32)
        xd = cupy.asarray(x)
        it.set_tensor(xi, xd)
        assert it.experimental_get_device_tensor(xi) is xd      # kept on the device
        it.invoke()
        for o, r in zip(outs, run_ours(m, [x])):
            od = it.experimental_get_device_tensor(o)
            assert isinstance(od, cupy.ndarray)
            assert_close(cupy.asnumpy(od), r)
            assert_close(it.get_tensor(o), r)


@gpu
@needs_gpu
def test_gpu_non_contiguous_and_dlpack_inputs(rng):
    import cupy
    from oracle import assert_close, run_ours
    m = _cuda_model(rng)
    d = tfl_gpu.load_delegate("cuda", {"backend": "cupy", "cuda_graphs": False})
    it = tfl_gpu.Interpreter(model_content=m, experimental_delegates=[d])
    it.allocate_tensors()
    xi, outs = _io(it)
    x = rng.standard_normal((1, 9, 9, 3)).astype(np.float32)
    xt = cupy.asarray(np.ascontiguousarray(x.transpose(0, 2, 1, 3))).transpose(0, 2, 1, 3)   # strided view
    class Producer:       # a DLPack producer that is not a CuPy array (as torch.cuda tensors are)
        def __init__(self, a):
            self.a, self.shape, self.dtype = a, a.shape, a.dtype

        def __dlpack__(self, **kw):
            return self.a.__dlpack__(**kw)

        def __dlpack_device__(self):
            return self.a.__dlpack_device__()
    for value in (xt, Producer(cupy.asarray(x)), cupy.asarray(x)):
        it.set_tensor(xi, value)
        it.invoke()
        for o, r in zip(outs, run_ours(m, [x])):
            assert_close(it.get_tensor(o), r)


def test_cuda_array_interface_only_object_goes_through_copy_to_host(rng):
    """An object with only ``__cuda_array_interface__`` (as Numba device arrays): converted with
    copy_to_host() when a CPU node reads it."""
    x = _x(rng)

    class NumbaLike:
        def __init__(self, a):
            self.a, self.shape, self.dtype, self.copies = a, a.shape, a.dtype, 0

        __cuda_array_interface__ = {"version": 3}        # (a stand-in: the core never reads it)

        def copy_to_host(self):
            self.copies += 1
            return self.a.copy()
    v = NumbaLike(x)
    assert is_device_array(v)
    it, _ = _interp(_model(tanh_reads_x=True))
    xi, outs = _io(it)
    it.set_tensor(xi, v)
    assert v.copies == 1
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(outs[1]), np.tanh(x), rtol=1e-6)


def test_input_read_by_no_node_is_converted(rng):
    mb = ModelBuilder()
    x = mb.input("x", [2, 3], "FLOAT32")
    y = mb.tensor("y", [2, 3], "FLOAT32")
    mb.op("ADD", [x, mb.const("c1", C1)], [y])
    p = mb.input("p", [2, 3], "FLOAT32")           # passed straight through to the outputs
    mb.output(y, p)
    it = tfl_gpu.Interpreter(model_content=mb.build(), experimental_delegates=[tfl_gpu.load_delegate("fakedev")])
    it.allocate_tensors()
    ins = {d["name"]: d["index"] for d in it.get_input_details()}
    outs = {d["name"]: d["index"] for d in it.get_output_details()}
    pv, xv = _x(rng), _x(rng)
    dev = FakeDevArray(pv)
    it.set_tensor(ins["p"], dev)
    assert dev.host_conversions == 1
    xdev = FakeDevArray(xv)
    it.set_tensor(ins["x"], xdev)
    assert xdev.host_conversions == 0
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(outs["p"]), pv)
    np.testing.assert_allclose(it.get_tensor(outs["y"]), xv + C1, rtol=1e-6)


def test_get_device_tensor_argument_errors():
    it = tfl_gpu.Interpreter(model_content=_model())
    with pytest.raises(ValueError, match="allocate_tensors"):
        it.experimental_get_device_tensor(0)
    it.allocate_tensors()
    with pytest.raises(ValueError, match="Invalid tensor index"):
        it.experimental_get_device_tensor(99)
    with pytest.raises(ValueError, match="subgraph index"):
        it.experimental_get_device_tensor(0, 5)
