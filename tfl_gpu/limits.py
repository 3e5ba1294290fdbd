"""Resource bounds: no tensor may ask for more memory than a cap, checked before anything is allocated."""
from __future__ import annotations

import os

import numpy as np

from .errors import ModelError


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


#: Largest single tensor, in bytes (default: a quarter of physical memory, so that a tensor, its copy and
#: the values around it still fit). Set ``TFL_GPU_MAX_TENSOR_BYTES``
#: in the environment or assign ``tfl_gpu.limits.MAX_TENSOR_BYTES`` to change it.
MAX_TENSOR_BYTES = int(os.environ.get("TFL_GPU_MAX_TENSOR_BYTES", _physical_memory() // 4))


def tensor_bytes(shape, dtype) -> int:
    n = 1
    for d in shape:
        d = int(d)
        if d < 0:
            raise ModelError(f"negative dimension {d} in shape {list(shape)}")
        n *= d
    itemsize = np.dtype(dtype).itemsize if np.dtype(dtype) != np.object_ else 8
    return n * itemsize


def check_allocation(shape, dtype, what: str) -> None:
    nbytes = tensor_bytes(shape, dtype)
    if nbytes > MAX_TENSOR_BYTES:
        raise ModelError(f"{what}: shape {list(int(d) for d in shape)} needs {nbytes} bytes, more than the "
                         f"{MAX_TENSOR_BYTES}-byte limit per tensor (tfl_gpu.limits.MAX_TENSOR_BYTES)")
