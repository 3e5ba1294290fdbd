"""Two backends with one interface: CuPy on a real GPU, and the CPU emulator.

A backend compiles kernel modules (``module(name)`` -> object with ``get_function``), allocates device
arrays, and moves data between host and device.  On the emulator "device" arrays are numpy arrays.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import sources

BLOCK = 256


def gpu_available() -> bool:
    try:
        import cupy
    except Exception:  # noqa: BLE001 - any import failure means no usable GPU
        return False
    try:
        return bool(cupy.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


class Backend:
    name = "?"
    is_gpu = False

    def __init__(self):
        self._modules: dict = {}
        self._functions: dict = {}

    def function(self, module: str, name: str):
        key = (module, name)
        f = self._functions.get(key)
        if f is None:
            m = self._modules.get(module)
            if m is None:
                m = self._modules[module] = self._compile(module)
            f = self._functions[key] = m.get_function(name)
        return f

    def launch1d(self, module: str, name: str, n: int, args, block: int = BLOCK):
        """Grid-stride kernels: one launch covering n elements."""
        if n <= 0:
            return
        grid = min((n + block - 1) // block, 65535 * 8)
        self.function(module, name)((grid,), (block,), args)

    # subclasses: _compile, empty, to_device, to_host, asarray_host, synchronize


class EmuDeviceArray(np.ndarray):
    """A numpy array standing for device memory on the emulator backend. Kernels launched through the
    backend accept only these (as CuPy accepts only device arrays), so a host array handed to a kernel by
    mistake fails in CI instead of on the first GPU."""


class _StrictFunction:
    __slots__ = ("fn", "name")

    def __init__(self, fn, name):
        self.fn = fn
        self.name = name

    def __call__(self, grid, block, args, shared_mem=0, **kw):
        for k, a in enumerate(args):
            if isinstance(a, np.ndarray) and a.ndim and not isinstance(a, EmuDeviceArray):
                raise TypeError(f"kernel {self.name}: argument {k} is a host numpy array; upload it with "
                                "backend.to_device() (CuPy rejects host arrays)")
        return self.fn(grid, block, args, shared_mem=shared_mem, **kw)


class EmulatorBackend(Backend):
    name = "emulator"

    def __init__(self, sanitize: bool | None = None):
        super().__init__()
        from .emulator import EmuModule
        self._EmuModule = EmuModule
        self.sanitize = sanitize

    def _compile(self, module):
        return self._EmuModule(sources.load_source(module), name=str(sources.kernel_dir() / f"{module}.cu"),
                               sanitize=self.sanitize)

    def function(self, module: str, name: str):
        key = ("strict", module, name)
        f = self._functions.get(key)
        if f is None:
            f = self._functions[key] = _StrictFunction(super().function(module, name), name)
        return f

    def empty(self, shape, dtype=np.float32):
        return np.empty(shape, dtype).view(EmuDeviceArray)

    def zeros(self, shape, dtype=np.float32):
        return np.zeros(shape, dtype).view(EmuDeviceArray)

    def to_device(self, a):
        a = np.array(a, copy=True, order="C")      # a device copy: later host writes do not leak in
        return a.view(EmuDeviceArray)

    def to_host(self, a):
        return np.asarray(a).view(np.ndarray)

    def is_device_array(self, a) -> bool:
        return isinstance(a, EmuDeviceArray)

    def synchronize(self):
        pass


class CupyBackend(Backend):
    name = "cupy"
    is_gpu = True

    def __init__(self, device_id: int = 0, precision: str = "fp32"):
        super().__init__()
        import cupy
        self.cp = cupy
        self.device_id = int(device_id)
        n = cupy.cuda.runtime.getDeviceCount()
        if not 0 <= self.device_id < n:
            raise ValueError(f"device_id {device_id} out of range: {n} CUDA device(s) visible")
        self.device = cupy.cuda.Device(self.device_id)
        self.precision = precision
        self.keep_alive = None

    def _compile(self, module):
        with self.device:
            return self.cp.RawModule(code=sources.load_source(module), options=("--std=c++17",))

    def empty(self, shape, dtype=np.float32):
        with self.device:
            a = self.cp.empty(shape, dtype)
        if self.keep_alive is not None:      # during CUDA-graph capture: the graph owns every buffer
            self.keep_alive.append(a)
        return a

    def zeros(self, shape, dtype=np.float32):
        with self.device:
            return self.cp.zeros(shape, dtype)

    def to_device(self, a):
        with self.device:
            return self.cp.ascontiguousarray(self.cp.asarray(a))

    def to_host(self, a):
        if isinstance(a, np.ndarray):
            return a
        return self.cp.asnumpy(a)

    def is_device_array(self, a) -> bool:
        return isinstance(a, self.cp.ndarray)

    def synchronize(self):
        self.cp.cuda.Device(self.device_id).synchronize()


def get_backend(kind: str = "auto", device_id: int = 0, precision: str = "fp32", sanitize=None) -> Backend:
    """``auto``: CuPy when a GPU is usable, else the emulator with a warning (it is slow: tests only)."""
    if kind == "auto":
        if gpu_available():
            return CupyBackend(device_id, precision)
        warnings.warn("tfl_gpu cuda delegate: no usable GPU/CuPy found, falling back to the CPU emulator "
                      "(slow; meant for testing). Pass {'backend': 'emulator'} to silence this warning.",
                      RuntimeWarning, stacklevel=3)
        return EmulatorBackend(sanitize)
    if kind == "emulator":
        return EmulatorBackend(sanitize)
    if kind == "cupy":
        if not gpu_available():
            raise RuntimeError("backend='cupy' needs CuPy and a usable NVIDIA GPU; none found "
                               "(pip install cupy-cuda12x, or use backend='emulator')")
        return CupyBackend(device_id, precision)
    raise ValueError(f"backend must be 'auto', 'cupy' or 'emulator', got {kind!r}")
