"""Array objects that are not numpy arrays (CuPy, PyTorch, JAX, any DLPack producer), as the core sees them.

The core knows no device: a *device array* is any object that is not a ``numpy.ndarray`` and exposes
``__dlpack__`` or ``__cuda_array_interface__``, with ``shape`` and ``dtype`` attributes. The core only
reads those two attributes, hands the object as it is to delegates that take it
(``delegate_copy_in``), and converts it to numpy, once, where a CPU kernel or the user needs host data.
"""
from __future__ import annotations

import numpy as np


def is_device_array(value) -> bool:
    """True for a non-numpy array object exposing DLPack or the CUDA array interface."""
    if isinstance(value, np.ndarray):
        return False
    return (hasattr(value, "__dlpack__") or hasattr(value, "__cuda_array_interface__")) and hasattr(value, "shape")


def array_dtype(value) -> np.dtype:
    """The numpy dtype of a device array's ``dtype`` attribute (``torch.float32`` -> float32, ...).
    Raises ValueError when it cannot be told."""
    dt = getattr(value, "dtype", None)
    try:
        return np.dtype(dt)
    except TypeError:
        pass
    name = str(dt).rpartition(".")[2]           # "torch.float32", "jnp.float32" -> "float32"
    try:
        return np.dtype({"bool": "bool", "half": "float16", "float": "float32", "double": "float64"}.get(name, name))
    except TypeError:
        raise ValueError(f"Cannot set tensor: cannot tell the dtype of {type(value).__name__} "
                         f"(dtype attribute {dt!r})") from None


def to_host(value) -> np.ndarray:
    """A numpy array with the data of ``value``: ``numpy.from_dlpack`` when the producer's memory is
    host-readable, else its ``.get()`` (CuPy) or ``.cpu().numpy()`` (PyTorch), else ``numpy.asarray``."""
    if isinstance(value, np.ndarray):
        return np.asarray(value)
    if hasattr(value, "__dlpack__"):
        try:
            return np.from_dlpack(value)
        except (BufferError, RuntimeError, TypeError, ValueError):
            pass            # memory on a device: numpy cannot read it in place
    get = getattr(value, "get", None)
    if callable(get):
        out = get()
        if isinstance(out, np.ndarray):
            return out
    copy_to_host = getattr(value, "copy_to_host", None)      # Numba device arrays
    if callable(copy_to_host):
        out = copy_to_host()
        if isinstance(out, np.ndarray):
            return out
    cpu = getattr(value, "cpu", None)
    if callable(cpu):
        out = cpu()
        if hasattr(out, "numpy"):
            return np.asarray(out.numpy())
    try:
        return np.asarray(value)
    except Exception as e:  # noqa: BLE001 - re-raised naming the object
        raise ValueError(f"cannot copy a {type(value).__name__} to host memory: {type(e).__name__}: {e}") from e
