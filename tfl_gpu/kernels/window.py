"""Window reductions and dilation: REDUCE_WINDOW and DILATE (the TFLite forms of stablehlo.reduce_window
and of interior padding). ``reduce_windows`` is shared with STABLEHLO_REDUCE_WINDOW."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..limits import check_allocation
from .registry import register

_TYPES = ("FLOAT32", "FLOAT64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")

# ReduceWindowFunction enum of the schema
_FUNCTIONS = {1: np.add, 2: np.multiply, 3: "min", 4: "max", 5: "all", 6: "any"}


def reduce_windows(y, init, window, strides, dilations, fn):
    """Reduces every ``window`` (dilated by ``dilations``, slid by ``strides``) of ``y``, starting from
    ``init``. ``fn`` is np.add / np.multiply / "min" / "max" / "all" / "any" or a callable (acc, x) -> acc
    applied elementwise once per window element, in row-major window order."""
    y = np.asarray(y)
    dtype = y.dtype
    window = np.asarray(window, np.int64)
    strides = np.asarray(strides, np.int64)
    dilations = np.asarray(dilations, np.int64)
    r = y.ndim
    if not (len(window) == len(strides) == len(dilations) == r):
        raise ValueError(f"window attributes must have {r} entries (the input rank)")
    if np.any(window <= 0) or np.any(strides <= 0) or np.any(dilations <= 0):
        raise ValueError("window dimensions, strides and dilations must be positive")
    dw = (window - 1) * dilations + 1
    out_shape = tuple(0 if n < d else int((n - d) // s + 1) for n, d, s in zip(y.shape, dw, strides))
    if any(s == 0 for s in out_shape):
        return np.zeros(out_shape, dtype)
    n = int(np.prod(window))
    check_allocation(out_shape + (n,), dtype, "window reduction")
    view = sliding_window_view(y, tuple(int(d) for d in dw))
    sl = tuple(slice(None, None, int(s)) for s in strides) + tuple(slice(None, None, int(d)) for d in dilations)
    w = view[sl]
    w = w[tuple(slice(0, n) for n in out_shape)]
    w = np.ascontiguousarray(w).reshape(out_shape + (n,))
    init_arr = np.asarray(init, dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        if fn is np.add or fn is np.multiply:
            red = fn.reduce(w, axis=-1, dtype=dtype)
            return fn(init_arr, red).astype(dtype, copy=False)
        if fn == "max" or fn == "min":
            red = (np.maximum if fn == "max" else np.minimum).reduce(w, axis=-1)
            out = np.where(init_arr >= red, init_arr, red) if fn == "max" else np.where(init_arr <= red, init_arr, red)
            if dtype.kind == "f" and np.isnan(w).any():
                out = _sequential(w, init_arr, out_shape, n,
                                  (lambda a, b: np.where(a >= b, a, b)) if fn == "max" else
                                  (lambda a, b: np.where(a <= b, a, b)))
            return out.astype(dtype, copy=False)
        if fn == "all":
            return (np.logical_and.reduce(w != 0, axis=-1) & bool(init_arr != 0)).astype(dtype)
        if fn == "any":
            return (np.logical_or.reduce(w != 0, axis=-1) | bool(init_arr != 0)).astype(dtype)
        return _sequential(w, init_arr, out_shape, n, fn).astype(dtype, copy=False)


def _sequential(w, init_arr, out_shape, n, fn):
    acc = np.full(out_shape, init_arr, init_arr.dtype)
    for k in range(n):
        acc = np.asarray(fn(acc, np.ascontiguousarray(w[..., k]))).reshape(out_shape)
    return acc


@register("REDUCE_WINDOW", types=_TYPES)
class ReduceWindow:
    """REDUCE_WINDOW(input, init_value, window_shape, window_strides, window_dilations): the three window
    tensors are int64 constants; the function comes from ReduceWindowOptions.reduce_function."""

    def __init__(self, node):
        if len(node.inputs) != 5:
            raise ValueError(f"REDUCE_WINDOW takes 5 inputs, got {len(node.inputs)}")
        f = int(node.options.get("reduce_function", 0))
        if f not in _FUNCTIONS:
            raise ValueError(f"REDUCE_WINDOW: unsupported reduce_function {f}")
        self.fn = _FUNCTIONS[f]
        for i, what in ((2, "window shape"), (3, "window strides"), (4, "window dilations")):
            t = node.inputs[i]
            if t is None or t.data is None:
                raise ValueError(f"REDUCE_WINDOW: the {what} must be a constant tensor")
            if t.type_name != "INT64":
                raise ValueError(f"REDUCE_WINDOW: the {what} must be int64, got {t.type_name}")

    def __call__(self, x, init, window, strides, dilations):
        x = np.asarray(x)
        init = np.asarray(init)
        if not 1 <= x.ndim <= 6:
            raise ValueError(f"REDUCE_WINDOW: input rank must be 1..6, got {x.ndim}")
        if init.dtype != x.dtype or init.size < 1:
            raise ValueError("REDUCE_WINDOW: the init value must have the input's type")
        return reduce_windows(x, init.reshape(-1)[0], np.ravel(window)[:x.ndim], np.ravel(strides)[:x.ndim],
                              np.ravel(dilations)[:x.ndim], self.fn)


@register("DILATE", types=_TYPES + ("BOOL", "FLOAT16"))
def dilate(node, x, dilations, padding_value):
    """Spreads the input: output[i * d] = input[i] per dimension, the gaps hold ``padding_value``."""
    x = np.asarray(x)
    d = np.asarray(dilations)
    if d.dtype != np.int32 or d.ndim != 1 or d.shape[0] != x.ndim:
        raise ValueError(f"DILATE: dilations must be an int32 vector with one entry per input dimension "
                         f"({x.ndim}), got {d.dtype} shape {list(d.shape)}")
    if np.any(d < 1):
        raise ValueError(f"DILATE: dilation factors must be >= 1, got {d.tolist()}")
    pv = np.asarray(padding_value)
    if pv.dtype != x.dtype or pv.size < 1:
        raise ValueError("DILATE: the padding value must have the input's type")
    if x.ndim == 0:
        raise ValueError("DILATE: the input rank must be at least 1")
    out_shape = tuple(max((int(n) - 1) * int(k) + 1, 0) for n, k in zip(x.shape, d))
    check_allocation(out_shape, x.dtype, "DILATE output")
    out = np.full(out_shape, pv.reshape(-1)[0], dtype=x.dtype)
    if x.size:
        out[tuple(slice(None, None, int(k)) for k in d)] = x
    return out
