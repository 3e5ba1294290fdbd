"""Element-wise arithmetic: binary ops with broadcasting and fused activations, unary math, CAST, ZEROS_LIKE,
ADD_N: float32 plus the float16/integer/bool variants LiteRT defines. (TFLite has no ONES_LIKE builtin:
converters emit FILL.)

Runtime details matched here (checked against LiteRT's builtin kernels, see tests/test_kernels_elementwise.py):

* float ADD/SUB/MUL/DIV always clamp their result to the activation range; with no activation that range is
  [-FLT_MAX, FLT_MAX], so an overflow to +-inf comes out as +-FLT_MAX (NaN passes through). TANH and SIGN_BIT
  fused activations are ignored (only RELU, RELU6 and RELU_N1_TO_1 clamp). The integer variants clamp the
  same way.
* MAXIMUM/MINIMUM pick ``a if a > b else b`` (``a if a < b else b``): a NaN in the first input loses, a NaN in
  the second wins.
* DIV of int32 truncates toward zero and fails on a zero divisor; FLOOR_DIV fails on a zero divisor for every
  type (float included) and computes ``floor(a / b)`` for floats; FLOOR_MOD fails on a zero integer divisor
  and gives ``fmod`` adjusted to the divisor's sign for floats (NaN for a zero float divisor).
* POW of int32 fails on a negative exponent and gives INT_MIN where the exact power leaves the int32 range.
* ADD_N of floats clamps to [-FLT_MAX, FLT_MAX] like ADD.
* CAST from float to an integer type saturates (NaN gives the type's max); between integer types it wraps.
"""
from __future__ import annotations

import numpy as np

from .registry import float_node, register

try:        # the clip ufunc itself: np.clip's Python wrapper costs ~5 us a call
    from numpy._core.umath import clip
except ImportError:  # numpy < 2
    try:
        from numpy.core.umath import clip
    except ImportError:
        clip = np.clip

FLT_MAX = float(np.finfo(np.float32).max)
_INT_KINDS = "iu"


def act_range(act, dtype):
    """(lo, hi) of a fused activation for the float/int kernels, or None for no clamp at all.

    Float ADD/SUB/MUL/DIV clamp to [lowest, max] even with no activation (CalculateActivationRange)."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        lo, hi = -float(np.finfo(dt).max), float(np.finfo(dt).max)
    elif dt.kind in _INT_KINDS:
        lo, hi = None, None
    else:
        return None
    if act == "RELU":
        lo = 0
    elif act == "RELU6":
        lo, hi = 0, 6
    elif act == "RELU_N1_TO_1":
        lo, hi = -1, 1
    if lo is None and hi is None:
        return None
    if dt.kind in _INT_KINDS:
        info = np.iinfo(dt)
        lo = info.min if lo is None else lo
        hi = info.max if hi is None else hi
    return lo, hi


def _clamp(y, rng):
    if rng is None or y.size == 0:
        return y
    if not y.flags.writeable:
        y = np.array(y)
    if y.ndim == 0:
        return clip(y, rng[0], rng[1]).astype(y.dtype)
    return clip(y, rng[0], rng[1], out=y)


def _out_type(node, i=0):
    return node.outputs[i].dtype


# -------------------------------------------------------------------------------------------- binary

def _int_div_trunc(a, b):
    if np.any(b == 0):
        raise ValueError("Division by 0 (DIV of integers)")
    with np.errstate(over="ignore"):
        q = np.floor_divide(a, b)
    # floor -> truncation: add one where the remainder is non-zero and the signs differ
    r = a - q * b
    fix = (r != 0) & ((a < 0) != (b < 0))
    if fix.any():
        q = q + fix.astype(q.dtype)
    info = np.iinfo(q.dtype)
    over = (a == info.min) & (b == -1)
    if over.any():                      # LiteRT's kernel gives INT_MAX for INT_MIN / -1
        q = np.where(over, q.dtype.type(info.max), q)
    return q


def _floor_div(a, b):
    if np.any(b == 0):
        raise ValueError("Division by 0 (FLOOR_DIV)")
    if a.dtype.kind == "f":
        with np.errstate(all="ignore"):
            y = np.divide(a, b)
        return np.floor(y, out=y) if y.ndim else np.floor(y)
    with np.errstate(over="ignore"):
        return np.floor_divide(a, b)


def _floor_mod(a, b):
    if a.dtype.kind == "f":
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.fmod(a, b)
            fix = (m != 0) & ((b < 0) != (m < 0))
            if fix.any():
                m = np.where(fix, m + b, m)
        return m
    if np.any(b == 0):
        raise ValueError("Division by 0 (FLOOR_MOD)")
    return np.mod(a, b)


def _pow(a, b):
    if a.dtype.kind in _INT_KINDS:
        if np.any(b < 0):
            raise ValueError("POW does not support negative value for int32.")
        # LiteRT's integer POW gives the exact power, and INT_MIN where it leaves the type's range (it does
        # not wrap around): computed in float64, exact up to 2**53, far beyond int32
        info = np.iinfo(a.dtype)
        r = np.power(a.astype(np.float64), b)
        ok = (r >= info.min) & (r <= info.max)
        return np.where(ok, r, info.min).astype(a.dtype)
    with np.errstate(all="ignore"):
        return np.power(a, b)


def _maximum(a, b):
    y = np.maximum(a, b)
    if a.dtype.kind == "f" and np.isnan(np.sum(a)):
        y = np.where(np.isnan(a), b, y)     # LiteRT: a > b ? a : b, so a NaN in ``a`` loses
    return y


def _minimum(a, b):
    y = np.minimum(a, b)
    if a.dtype.kind == "f" and np.isnan(np.sum(a)):
        y = np.where(np.isnan(a), b, y)
    return y


def _sqdiff(a, b):
    d = np.subtract(a, b)
    if d.ndim == 0:
        return d * d
    return np.multiply(d, d, out=d)


def _div(a, b):
    if a.dtype.kind in _INT_KINDS:
        return _int_div_trunc(a, b)
    return np.divide(a, b)      # (floating-point warnings are silenced by the executor)


_BINARY = {
    "ADD": np.add, "SUB": np.subtract, "MUL": np.multiply, "DIV": _div,
    "FLOOR_DIV": _floor_div, "FLOOR_MOD": _floor_mod, "POW": _pow, "SQUARED_DIFFERENCE": _sqdiff,
    "MAXIMUM": _maximum, "MINIMUM": _minimum,
}
# ops whose options carry a fused activation (and which clamp float results to the activation range)
_FUSED = {"ADD", "SUB", "MUL", "DIV"}
_ROW_BROADCAST = {"ADD", "SUB", "MUL", "DIV"}


def _is_channel_vector(small, big) -> bool:
    """small is [1, ..., 1, C] (rank <= big's) with C < 32 == big's last dim, big a contiguous array of at
    least 4096 elements and rank >= 2."""
    c = small.size
    return (0 < c < 32 and big.ndim >= 2 and 1 <= small.ndim <= big.ndim and big.shape[-1] == c
            and small.shape[-1] == c and big.size >= 4096 and big.flags.c_contiguous
            and all(d == 1 for d in small.shape[:-1]))


def _row_broadcast(fn, a, b):
    """``fn(a, b)`` where one operand is a per-channel vector with few channels (squeeze-and-excite scales):
    numpy's broadcast over an inner axis of 8-16 values is ~3x slower than a plain pass, so the vector is
    tiled along one row of ``W * C`` values and the big operand viewed as rows. None when not applicable."""
    if a.dtype.kind != "f":
        return None
    if _is_channel_vector(b, a):
        row = np.tile(b.reshape(-1), a.shape[-2])
        return fn(a.reshape(-1, row.size), row).reshape(a.shape)
    if _is_channel_vector(a, b):
        row = np.tile(a.reshape(-1), b.shape[-2])
        return fn(row, b.reshape(-1, row.size)).reshape(b.shape)
    return None


def _check_same_types(node, first=0, count=2):
    ins = [t for t in node.inputs[first:first + count] if t is not None]
    if len({t.type_name for t in ins}) > 1:
        raise ValueError(f"{node.name} input types differ: " + " != ".join(t.type_name for t in ins))


class Binary:
    """Broadcasting binary op; the clamp range is decided once from the output type and the activation."""

    def __init__(self, node):
        name = node.name
        _check_same_types(node)
        self.fn = _BINARY[name]
        self.out_dtype = _out_type(node)
        self.rows = name in _ROW_BROADCAST      # may broadcast a per-channel vector as a tiled row
        self.rng = None
        if name in _FUSED:
            act = node.options.get("fused_activation_function", "NONE")
            if self.out_dtype.kind != "c":
                self.rng = act_range(act, self.out_dtype)

    def __call__(self, a, b):
        if a.dtype is not b.dtype and a.dtype != b.dtype:
            raise ValueError(f"input types differ: {a.dtype} and {b.dtype}")
        # inf/NaN arithmetic is expected and LiteRT is silent: the executor runs every invoke under
        # np.errstate(all="ignore") (one context per invoke instead of ~2 us per op)
        if self.rows and a.shape != b.shape:
            y = _row_broadcast(self.fn, a, b)
            if y is not None:
                rng = self.rng
                return y if rng is None else _clamp(y, rng)
        try:
            y = self.fn(a, b)
        except ValueError:
            if a.shape != b.shape:
                try:
                    np.broadcast_shapes(a.shape, b.shape)
                except ValueError:
                    raise ValueError(f"Given shapes, {list(a.shape)} and {list(b.shape)}, are not "
                                     f"broadcastable.") from None
            raise
        rng = self.rng
        if rng is not None:
            y = _clamp(y, rng)
        return y


register("ADD", "SUB", "MUL", "DIV", "POW", "SQUARED_DIFFERENCE", when=float_node,
         types=("FLOAT32", "INT32", "INT64"))(Binary)
# Integer kernels of these ignore quantization parameters (raw integer math), so they take any node;
# a dedicated quantized implementation registered with a higher priority wins.
register("FLOOR_DIV", "FLOOR_MOD", "MAXIMUM", "MINIMUM", types=("FLOAT32", "INT32", "INT64", "INT16", "INT8"))(Binary)


# --------------------------------------------------------------------------------------------- unary

def _rsqrt(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.sqrt(x)
        return np.divide(1, y, out=y) if y.ndim else np.float32(1) / y


def _sign(x):
    return np.sign(x)   # NaN stays NaN, -0 gives 0 like LiteRT


_UNARY = {
    "ABS": np.abs, "NEG": np.negative, "EXP": np.exp, "LOG": np.log, "SQRT": np.sqrt, "RSQRT": _rsqrt,
    "SQUARE": np.square, "SIN": np.sin, "COS": np.cos, "FLOOR": np.floor, "CEIL": np.ceil,
    "ROUND": np.rint,          # half to even, like LiteRT's RoundToNearest
    "SIGN": _sign, "LOGICAL_NOT": np.logical_not,
}


class Unary:
    def __init__(self, node):
        self.fn = _UNARY[node.name]
        self.out_dtype = _out_type(node)

    def __call__(self, x):
        # (floating-point warnings are silenced by the executor for the whole invoke)
        if x.dtype == np.float16:
            return self.fn(x.astype(np.float32)).astype(np.float16)
        return self.fn(x)


def float_node_not_ref(node) -> bool:
    """LiteRT's BUILTIN_REF resolver has no CEIL, ROUND or ELU kernel: under it those ops are unresolved."""
    return float_node(node) and node.resolver != "BUILTIN_REF"


register("EXP", "LOG", "SQRT", "RSQRT", "SQUARE", when=float_node, types=("FLOAT32",))(Unary)
register("CEIL", when=float_node_not_ref, types=("FLOAT32",))(Unary)
register("SIN", "COS", "FLOOR", when=float_node, types=("FLOAT32", "FLOAT16"))(Unary)
register("ROUND", when=float_node_not_ref, types=("FLOAT32", "FLOAT16"))(Unary)
register("ABS", when=float_node, types=("FLOAT32", "INT32", "INT16"))(Unary)
register("NEG", when=float_node, types=("FLOAT32", "FLOAT16", "INT32", "INT64", "INT16"))(Unary)
register("SIGN", when=float_node, types=("FLOAT32", "FLOAT64", "INT32"))(Unary)
register("LOGICAL_NOT", types=("BOOL",))(Unary)


# ------------------------------------------------------------------------------------------ the rest

def float_to_int_saturating(x, dt):
    """LiteRT's float -> integer CAST: truncation toward zero, saturating at the type's range, NaN -> max."""
    if x.ndim == 0:
        return float_to_int_saturating(x.reshape(1), dt).reshape(())
    if x.dtype == np.float16:
        x = x.astype(np.float32)
    info = np.iinfo(dt)
    ft = x.dtype.type
    limit = ft(float(info.max) + 1.0)             # 2**bits or 2**(bits-1): exact in float32/float64
    top = np.nextafter(limit, ft(0))              # largest float below it: truncates to <= max
    y = clip(x, ft(info.min), top).astype(dt)     # min is 0 or -2**(bits-1): exact
    over = ~(x < limit)                           # >= max + 1, or NaN
    if over.any():
        y[over] = info.max
    return y


@register("CAST", types=("FLOAT32", "FLOAT16", "FLOAT64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16",
                         "UINT32", "BOOL", "COMPLEX64"))
class Cast:
    """LiteRT's CAST: float -> integer truncates toward zero and saturates (NaN -> the type's max); integer ->
    integer wraps (static_cast); anything -> bool is ``!= 0``; complex -> real part."""

    def __init__(self, node):
        self.out_dtype = _out_type(node)

    def __call__(self, x):
        dt = self.out_dtype
        if x.dtype.kind == "c" and dt.kind != "c":
            x = np.real(x)
        if dt == np.bool_:
            return x != 0
        if x.dtype.kind == "f" and dt.kind in _INT_KINDS:
            with np.errstate(invalid="ignore"):
                return float_to_int_saturating(x, dt)
        with np.errstate(over="ignore"):
            return x.astype(dt)


@register("ZEROS_LIKE", types=("FLOAT32", "INT32", "INT64"),
          when=lambda node: node.inputs[0] is not None and node.inputs[0].type_name in ("FLOAT32", "INT32", "INT64"))
def zeros_like(node, x):
    return np.zeros(x.shape, x.dtype)


@register("ADD_N", when=float_node, types=("FLOAT32", "INT32"))
def add_n(node, *xs):
    if len(xs) < 2:
        raise ValueError(f"ADD_N needs at least 2 inputs, got {len(xs)}")
    shape = xs[0].shape
    for x in xs[1:]:
        if x.shape != shape:
            raise ValueError(f"ADD_N inputs must have the same shape: {shape} vs {x.shape}")
    y = np.array(xs[0], copy=True)
    with np.errstate(over="ignore", invalid="ignore"):
        for x in xs[1:]:
            if y.ndim:
                np.add(y, x, out=y)
            else:
                y = y + x
    if y.dtype.kind == "f":         # like ADD, the float kernel clamps to [-FLT_MAX, FLT_MAX]
        y = _clamp(y, act_range("NONE", y.dtype))
    return y
