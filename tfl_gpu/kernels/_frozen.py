"""Arrays that kernels computed once from constants ("frozen"): read-only, never written by anyone.

A kernel whose input is such an array (e.g. DEQUANTIZE after DENSIFY of a constant) may cache its own
result keyed on the input's identity: the same frozen object means the same values. ``freeze`` returns a
read-only view of a read-only base, so the flag cannot be switched back on by a consumer.
"""
from __future__ import annotations

import weakref

import numpy as np

_FROZEN: "weakref.WeakValueDictionary[int, np.ndarray]" = weakref.WeakValueDictionary()


def freeze(a: np.ndarray) -> np.ndarray:
    base = np.array(a, copy=True, order="C") if (a.base is not None or a.flags.writeable or
                                                 not a.flags.c_contiguous) else a
    base.flags.writeable = False
    v = base.view()
    _FROZEN[id(v)] = v
    return v


def is_frozen(a) -> bool:
    return type(a) is np.ndarray and _FROZEN.get(id(a)) is a
