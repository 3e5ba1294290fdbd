"""DEQUANTIZE: float16 -> float32 and int8/uint8/int16/int4 (per-tensor or per-axis) -> float32.

A constant input is dequantized once when the kernel is built and the cached (read-only) array is returned
at every invoke. An input computed once from constants (a frozen array, e.g. DENSIFY's output) is cached
on first use, keyed on its identity.
"""
from __future__ import annotations

import numpy as np

from ._frozen import freeze, is_frozen
from .registry import register


def dequantize(x: np.ndarray, t) -> np.ndarray:
    """Float value of ``x`` held in tensor ``t``'s type; bit-identical to TFLite (the int-by-float32 product
    is exact in float64, so one rounding to float32 gives the same result as its float/double paths)."""
    if x.dtype.kind == "f":
        return x.astype(np.float32)
    q = t.quantization
    scales = np.asarray(q.scales, np.float64).reshape(-1)
    zps = np.asarray(q.zero_points, np.int64).reshape(-1)
    if scales.size == 0:
        raise ValueError(f"DEQUANTIZE input {t.name!r} ({t.type_name}) has no quantization parameters")
    if zps.size == 0:
        zps = np.zeros(scales.size, np.int64)
    if scales.size == 1:
        return ((x.astype(np.float64) - float(zps[0])) * scales[0]).astype(np.float32)
    axis = int(q.quantized_dimension)
    if not 0 <= axis < x.ndim or x.shape[axis] != scales.size:
        raise ValueError(f"DEQUANTIZE input {t.name!r}: {scales.size} per-axis scales do not match dimension "
                         f"{axis} of shape {x.shape}")
    if zps.size != scales.size:
        zps = np.broadcast_to(zps[:1], scales.shape)
    shape = [1] * x.ndim
    shape[axis] = scales.size
    return ((x.astype(np.float64) - zps.reshape(shape)) * scales.reshape(shape)).astype(np.float32)


@register("DEQUANTIZE", types=("FLOAT16", "INT8", "UINT8", "INT16", "INT4"))
class Dequantize:
    def __init__(self, node):
        self.t = node.inputs[0]
        if self.t.type_name not in ("FLOAT16", "INT8", "UINT8", "INT16", "INT4", "FLOAT32"):
            raise ValueError(f"DEQUANTIZE does not support input type {self.t.type_name}")
        c = node.const(0)
        self.const = None if c is None else freeze(dequantize(c, self.t))
        self._last_in = None
        self._last_out = None

    def __call__(self, x):
        if self.const is not None:
            return self.const
        if x is self._last_in:
            return self._last_out
        y = dequantize(x, self.t)
        if is_frozen(x):
            self._last_in, self._last_out = x, freeze(y)
            return self._last_out
        return y
