"""Comparisons (EQUAL NOT_EQUAL LESS LESS_EQUAL GREATER GREATER_EQUAL), LOGICAL_AND LOGICAL_OR and
SELECT / SELECT_V2, with broadcasting.

Comparisons accept float32, float16, int32, int64, int16, bool and (EQUAL/NOT_EQUAL) strings. Quantized
uint8/int8 inputs are compared as LiteRT does, after rescaling both to a common fixed-point grid (so values
of different scales compare by real value, up to the grid's rounding); quantized int16 compares raw integers. A
dedicated quantized kernel registered with a higher priority would take precedence.

SELECT (v1) takes a condition of the inputs' shape, a scalar, or a rank-1 condition selecting along the first
dimension; SELECT_V2 broadcasts condition, x and y together.
"""
from __future__ import annotations

import numpy as np

from ..quant import mbqm_smaller_than_one, quantize_multiplier
from .elementwise import _check_same_types
from .registry import is_quantized, register

_BLOCK = 65536

_CMP = {
    "EQUAL": np.equal, "NOT_EQUAL": np.not_equal, "LESS": np.less, "LESS_EQUAL": np.less_equal,
    "GREATER": np.greater, "GREATER_EQUAL": np.greater_equal,
}


def _qparams(t):
    q = t.quantization
    return float(q.scales[0]), int(q.zero_points[0]) if len(q.zero_points) else 0


def _rescaled(x, zero_point, q, shift):
    """LiteRT's ComparisonWithScaling of one input: ((x - zp) << 8) times the scale as a fixed-point
    multiplier (MultiplyByQuantizedMultiplierSmallerThanOneExp)."""
    v = (x.astype(np.int64) - zero_point) << 8
    return mbqm_smaller_than_one(v, q, shift)


class Compare:
    def __init__(self, node):
        self.fn = _CMP[node.name]
        _check_same_types(node)
        self.scaling = None
        a, b = node.inputs[0], node.inputs[1]
        # LiteRT compares quantized uint8/int8 through fixed-point rescaling of both inputs (even with equal
        # parameters: tiny scales merge neighbouring values); int16 compares the raw integers
        self.real = None
        if is_quantized(a) and is_quantized(b) and a.type_name in ("INT8", "UINT8"):
            (sa, za), (sb, zb) = _qparams(a), _qparams(b)
            if sa < 1 and sb < 1:
                self.scaling = (za, *quantize_multiplier(sa), zb, *quantize_multiplier(sb))
            else:
                # LiteRT's kernel assumes scales below 1 (it aborts at exactly 1 and computes garbage above):
                # compare the real values instead
                self.real = (sa, za, sb, zb)

    def __call__(self, a, b):
        if a.dtype != b.dtype:
            raise ValueError(f"input types differ: {a.dtype} and {b.dtype}")
        if self.scaling is not None:
            za, qa, sa, zb, qb, sb = self.scaling
            a = _rescaled(a, za, qa, sa)
            b = _rescaled(b, zb, qb, sb)
        elif self.real is not None:
            sa, za, sb, zb = self.real
            a = (a.astype(np.float64) - za) * sa
            b = (b.astype(np.float64) - zb) * sb
        try:
            return np.asarray(self.fn(a, b), dtype=np.bool_)
        except ValueError:
            raise ValueError(f"Given shapes, {list(a.shape)} and {list(b.shape)}, are not broadcastable.") \
                from None


register(*_CMP, types=("FLOAT32", "FLOAT16", "INT32", "INT64", "BOOL", "STRING", "UINT8", "INT8", "INT16"))(Compare)


class Logical:
    def __init__(self, node):
        for t in node.inputs:
            if t is not None and t.type_name != "BOOL":
                raise ValueError(f"{node.name} takes BOOL inputs, got {t.type_name}")
        self.fn = np.logical_and if node.name == "LOGICAL_AND" else np.logical_or

    def __call__(self, a, b):
        return self.fn(a, b)


register("LOGICAL_AND", "LOGICAL_OR", types=("BOOL",))(Logical)


def _where(cond, x, y):
    """np.where(cond, x, y), branch-free on the raw bits: y ^ ((x ^ y) & -cond). np.where with a random
    mask is about 3x slower; bit copying is also exact for NaN payloads."""
    if x.dtype.itemsize not in (1, 2, 4, 8) or x.dtype.kind not in "biuf" or cond.ndim == 0 or x.ndim == 0 \
            or y.ndim == 0 or x.size < 4096:
        return np.where(cond, x, y)
    u = np.dtype(f"u{x.dtype.itemsize}")
    shape = np.broadcast_shapes(cond.shape, x.shape, y.shape)
    if cond.shape == x.shape == y.shape and x.size > 2 * _BLOCK:
        # the same computation over cache-sized blocks of the flattened arrays
        c, xf, yf = cond.reshape(-1).view(np.uint8), x.reshape(-1).view(u), y.reshape(-1).view(u)
        out = np.empty(xf.shape, u)
        m = np.empty(_BLOCK, u)
        for i in range(0, xf.size, _BLOCK):
            n = min(_BLOCK, xf.size - i)
            mb, ob = m[:n], out[i:i + n]
            np.negative(c[i:i + n], out=mb, dtype=u, casting="unsafe")
            np.bitwise_xor(xf[i:i + n], yf[i:i + n], out=ob)
            np.bitwise_and(ob, mb, out=ob)
            np.bitwise_xor(ob, yf[i:i + n], out=ob)
        return out.view(x.dtype).reshape(shape)
    xb, yb = x.view(u), y.view(u)
    m = cond.view(np.uint8).astype(u)
    np.negative(m, out=m)
    t = np.empty(shape, u)
    np.bitwise_xor(xb, yb, out=t)
    np.bitwise_and(t, m, out=t)
    np.bitwise_xor(t, yb, out=t)
    return t.view(x.dtype)


def _check_select_types(cond, x, y):
    if cond.dtype != np.bool_:
        raise ValueError(f"SELECT condition must be bool, got {cond.dtype}")
    if x.dtype != y.dtype:
        raise ValueError(f"SELECT inputs have different types: {x.dtype} and {y.dtype}")


@register("SELECT", types=("BOOL", "FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64"))
def select(node, cond, x, y):
    _check_select_types(cond, x, y)
    if not (cond.shape == x.shape == y.shape):
        if x.shape != y.shape:
            raise ValueError(f"SELECT: x and y must have the same shape, got {x.shape} and {y.shape}")
        if cond.ndim == 1 and x.ndim >= 1 and cond.shape[0] == x.shape[0]:
            cond = cond.reshape(cond.shape + (1,) * (x.ndim - 1))
        elif cond.ndim != 0:
            raise ValueError(f"SELECT: condition shape {cond.shape} must equal the input shape {x.shape}, "
                             f"be a scalar, or be rank 1 of size {x.shape[0] if x.ndim else 1}")
    return _where(cond, x, y)


@register("SELECT_V2", types=("BOOL", "FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64"))
def select_v2(node, cond, x, y):
    _check_select_types(cond, x, y)
    try:
        np.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(f"SELECT_V2: shapes {cond.shape}, {x.shape}, {y.shape} do not broadcast") from None
    return _where(cond, x, y)
