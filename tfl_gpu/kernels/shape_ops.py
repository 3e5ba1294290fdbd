"""Shape and data-movement ops: RESHAPE SQUEEZE EXPAND_DIMS TRANSPOSE CONCATENATION PACK UNPACK SPLIT SPLIT_V
TILE BROADCAST_TO BROADCAST_ARGS FILL SHAPE RANK RANGE WHERE REVERSE_V2 ONE_HOT.

Pure data movement is dtype-agnostic: the same kernel serves float, integer, bool, string (object arrays)
and quantized tensors (whose quantization parameters travel with the tensors, not the values), so these
kernels are registered without a float/quantized predicate. Semantics follow LiteRT's builtin kernels
(e.g. RESHAPE only takes its shape from a 1-D INT32 second input, otherwise from ``new_shape``).
"""
from __future__ import annotations

import numpy as np

from ..limits import check_allocation
from ._views import owning
from .registry import apply_activation, is_quantized, register

_ALL = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL", "STRING")


def _axis(axis: int, rank: int, what: str = "axis") -> int:
    a = int(axis)
    if a < 0:
        a += rank
    if not 0 <= a < max(rank, 1):
        raise ValueError(f"{what} {axis} is out of range for a tensor of rank {rank}")
    return a


def _c(a: np.ndarray) -> np.ndarray:
    """C-contiguous (copying only strided views; keeps 0-d arrays 0-d, unlike np.ascontiguousarray)."""
    return a if a.flags.c_contiguous else a.copy()


def _int_vector(v, what: str) -> list[int]:
    a = np.asarray(v)
    if a.dtype.kind not in "iu":
        raise ValueError(f"{what} must be an integer tensor, got {a.dtype}")
    return [int(x) for x in a.reshape(-1)]


# ---------------------------------------------------------------------------------------------- RESHAPE

def resolve_reshape(in_shape, shape: list[int]) -> tuple:
    """Output shape of a reshape of ``in_shape`` to ``shape`` with at most one -1 (LiteRT's rules: a -1
    next to zero-sized dims is inferred from the non-zero dims)."""
    n_in = 1
    nz_in = 1
    for d in in_shape:
        n_in *= int(d)
        if d != 0:
            nz_in *= int(d)
    out = list(shape)
    stretch = -1
    n_out = 1
    nz_out = 1
    for i, d in enumerate(out):
        if d == -1:
            if stretch != -1:
                raise ValueError(f"RESHAPE: more than one -1 in the new shape {shape}")
            stretch = i
            continue
        if d < -1:
            raise ValueError(f"RESHAPE: invalid dimension {d} in the new shape {shape}")
        if d != 0:
            nz_out *= d
        n_out *= d
    if stretch != -1:
        if n_in == 0 and n_out != 0:
            out[stretch] = 0
        else:
            out[stretch] = nz_in // nz_out if nz_out else 0
        n_out *= out[stretch]
    if n_out != n_in:
        raise ValueError(f"RESHAPE: cannot reshape a tensor of shape {tuple(in_shape)} ({n_in} elements) "
                         f"into shape {tuple(shape)} ({n_out} elements)")
    return tuple(out)


@register("RESHAPE", types=_ALL + ("FLOAT16", "UINT32", "COMPLEX64"))
@owning(0)
class Reshape:
    """LiteRT takes the new shape from the second input when it is a 1-D INT32 tensor (checked on the
    runtime value), otherwise from the ``new_shape`` option (``[0]`` being the legacy encoding of a scalar)."""

    def __init__(self, node):
        ns = node.options.get("new_shape", None)
        shape = [] if ns is None else [int(x) for x in np.asarray(ns).reshape(-1)]
        if len(shape) == 1 and shape[0] == 0:
            shape = []
        self.option_shape = shape
        self.const_shape = None          # fixed target when known now
        st = node.inputs[1] if len(node.inputs) == 2 else None
        if st is None:
            self.const_shape = shape
        elif st.data is not None:
            d = st.data
            self.const_shape = [int(x) for x in d.reshape(-1)] if d.ndim == 1 and d.dtype == np.int32 else shape
        elif st.type_name != "INT32":
            self.const_shape = shape

    def __call__(self, x, shape=None):
        target = self.const_shape
        if target is None:
            if shape is not None and shape.ndim == 1 and shape.dtype == np.int32:
                target = [int(v) for v in shape]
            else:
                target = self.option_shape
        return x.reshape(resolve_reshape(x.shape, target))


# ---------------------------------------------------------------------------------- SQUEEZE, EXPAND_DIMS

@register("SQUEEZE", types=_ALL)
@owning(0)
def squeeze(node, x):
    dims = node.options.get("squeeze_dims", None)
    dims = [] if dims is None else [int(d) for d in np.asarray(dims).reshape(-1)]
    r = x.ndim
    if not dims:
        return x.reshape(tuple(d for d in x.shape if d != 1))
    axes = set()
    for d in dims:
        a = _axis(d, r, "SQUEEZE dim")
        if x.shape[a] != 1:
            raise ValueError(f"SQUEEZE: dimension {d} of shape {x.shape} is not 1")
        axes.add(a)
    return x.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))


@register("EXPAND_DIMS", types=_ALL)
@owning(0)
def expand_dims(node, x, axis):
    a = _int_vector(axis, "EXPAND_DIMS axis")
    if len(a) != 1:
        raise ValueError(f"EXPAND_DIMS: axis must hold a single value, got {len(a)}")
    ax = a[0]
    r = x.ndim
    if ax < 0:
        ax += r + 1
    if not 0 <= ax <= r:
        raise ValueError(f"EXPAND_DIMS: axis {a[0]} is out of range for a tensor of rank {r}")
    return x.reshape(x.shape[:ax] + (1,) + x.shape[ax:])


# ------------------------------------------------------------------------------------------- TRANSPOSE

@register("TRANSPOSE", types=_ALL)
@owning(0)
class Transpose:
    def __init__(self, node):
        p = node.const(1)
        self.perm = None if p is None else _int_vector(p, "TRANSPOSE perm")

    def __call__(self, x, perm):
        p = self.perm if self.perm is not None else _int_vector(perm, "TRANSPOSE perm")
        r = x.ndim
        if len(p) != r:
            raise ValueError(f"TRANSPOSE: perm {p} has {len(p)} entries for a tensor of rank {r}")
        p = [d + r if d < 0 else d for d in p]
        if sorted(p) != list(range(r)):
            raise ValueError(f"TRANSPOSE: perm {p} is not a permutation of 0..{r - 1}")
        return _c(np.transpose(x, p))


# ----------------------------------------------------------------------------------------- CONCATENATION

def _same_quant(node) -> bool:
    """True unless the node concatenates quantized tensors whose scale/zero point differ from the output's
    (those need requantization, done by the quantized kernels)."""
    out = node.outputs[0]
    if not (is_quantized(out) or any(is_quantized(t) for t in node.inputs if t is not None)):
        return True
    if out.type_name == "INT16":
        return True         # LiteRT's int16 concatenation copies the raw values whatever the scales
    oq = out.quantization
    for t in node.inputs:
        if t is None:
            continue
        q = t.quantization
        if q.scales.size != oq.scales.size or not np.array_equal(q.scales, oq.scales) \
                or not np.array_equal(q.zero_points, oq.zero_points):
            return False
    return True


@register("CONCATENATION", when=_same_quant, types=_ALL)
class Concatenation:
    def __init__(self, node):
        self.axis = int(node.options.get("axis", 0))
        act = node.options.get("fused_activation_function", "NONE")
        # activations only mean something for float values
        self.act = act if node.outputs[0].type_name == "FLOAT32" else "NONE"

    def __call__(self, *xs):
        x0 = xs[0]
        r = x0.ndim
        if r == 0:
            if self.axis not in (0, -1):
                raise ValueError(f"CONCATENATION: axis {self.axis} is out of range for scalars")
            y = np.stack(xs)
        else:
            ax = _axis(self.axis, r, "CONCATENATION axis")
            for x in xs[1:]:
                if x.ndim != r or any(x.shape[d] != x0.shape[d] for d in range(r) if d != ax):
                    raise ValueError(f"CONCATENATION: shapes {[x.shape for x in xs]} do not match "
                                     f"outside axis {ax}")
            y = np.concatenate(xs, axis=ax)
        if self.act != "NONE":
            y = apply_activation(y, self.act)
        return y


# ------------------------------------------------------------------------------------------ PACK/UNPACK

@register("PACK", types=_ALL)
def pack(node, *xs):
    axis = int(node.options.get("axis", 0))
    n = int(node.options.get("values_count", len(xs)) or len(xs))
    if n != len(xs):
        raise ValueError(f"PACK: values_count {n} but {len(xs)} inputs")
    r = xs[0].ndim
    for x in xs[1:]:
        if x.shape != xs[0].shape:
            raise ValueError(f"PACK: input shapes differ: {[x.shape for x in xs]}")
    ax = axis + r + 1 if axis < 0 else axis
    if not 0 <= ax <= r:
        raise ValueError(f"PACK: axis {axis} is out of range for inputs of rank {r}")
    oq = node.outputs[0].quantization
    for t in node.inputs:   # LiteRT packs raw values only: every input's scale/zero point must be the output's
        if t is not None and (t.quantization.zero_point != oq.zero_point
                              or np.float32(t.quantization.scale) != np.float32(oq.scale)):
            raise ValueError(f"PACK: input quantization ({t.quantization.scale}, {t.quantization.zero_point}) "
                             f"differs from the output's ({oq.scale}, {oq.zero_point})")
    return np.stack(xs, axis=ax)


@register("UNPACK", types=_ALL)
def unpack(node, x):
    r = x.ndim
    ax = _axis(int(node.options.get("axis", 0)), r, "UNPACK axis")
    n = int(node.options.get("num", 0) or 0)
    if n == 0:
        n = x.shape[ax]
    if x.shape[ax] != n:
        raise ValueError(f"UNPACK: num {n} does not match dimension {ax} of shape {x.shape}")
    if n != len(node.outputs):
        raise ValueError(f"UNPACK: num {n} but the op has {len(node.outputs)} outputs")
    return tuple(np.asarray(np.take(x, i, axis=ax)) for i in range(n))


# ---------------------------------------------------------------------------------------- SPLIT/SPLIT_V

def _split(x, ax: int, sizes: list[int]) -> tuple:
    out = []
    start = 0
    idx = [slice(None)] * x.ndim
    for s in sizes:
        idx[ax] = slice(start, start + s)
        out.append(_c(x[tuple(idx)]))
        start += s
    return tuple(out)


@register("SPLIT", types=_ALL)
@owning(1)
def split(node, axis, x):
    a = _int_vector(axis, "SPLIT axis")
    if len(a) != 1:
        raise ValueError("SPLIT: axis must be a single value")
    ax = _axis(a[0], x.ndim, "SPLIT axis")
    n = int(node.options.get("num_splits", len(node.outputs)) or len(node.outputs))
    if n <= 0 or x.shape[ax] % n:
        raise ValueError(f"SPLIT: dimension {ax} of shape {x.shape} is not divisible into {n} splits")
    if n != len(node.outputs):
        raise ValueError(f"SPLIT: num_splits {n} but the op has {len(node.outputs)} outputs")
    return _split(x, ax, [x.shape[ax] // n] * n)


@register("SPLIT_V", types=_ALL)
@owning(0)
def split_v(node, x, size_splits, axis):
    a = _int_vector(axis, "SPLIT_V axis")
    if len(a) != 1:
        raise ValueError("SPLIT_V: axis must be a single value")
    ax = _axis(a[0], x.ndim, "SPLIT_V axis")
    sizes = _int_vector(size_splits, "SPLIT_V size_splits")
    if len(sizes) != len(node.outputs):
        raise ValueError(f"SPLIT_V: {len(sizes)} sizes but the op has {len(node.outputs)} outputs")
    dim = x.shape[ax]
    neg = [i for i, s in enumerate(sizes) if s == -1]
    if len(neg) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"SPLIT_V: invalid size_splits {sizes}")
    if neg:
        rest = sum(s for s in sizes if s != -1)
        if rest > dim:
            raise ValueError(f"SPLIT_V: size_splits {sizes} exceed dimension {dim}")
        sizes[neg[0]] = dim - rest
    if sum(sizes) != dim:
        raise ValueError(f"SPLIT_V: size_splits {sizes} do not add up to dimension {dim}")
    return _split(x, ax, sizes)


# ----------------------------------------------------------------------------------- TILE, BROADCAST_TO

@register("TILE", types=_ALL)
def tile(node, x, multiples):
    m = _int_vector(multiples, "TILE multiples")
    if len(m) != x.ndim:
        raise ValueError(f"TILE: {len(m)} multiples for a tensor of rank {x.ndim}")
    if any(v < 0 for v in m):
        raise ValueError(f"TILE: negative multiples {m}")
    check_allocation([d * k for d, k in zip(x.shape, m)], x.dtype, "TILE output")
    return np.tile(x, m) if x.ndim else x.copy()


def _broadcast_shape(a: list[int], b: list[int], what: str) -> list[int]:
    n = max(len(a), len(b))
    a = [1] * (n - len(a)) + list(a)
    b = [1] * (n - len(b)) + list(b)
    out = []
    for p, q in zip(a, b):
        if p == q or q == 1:
            out.append(p)
        elif p == 1:
            out.append(q)
        else:
            raise ValueError(f"{what}: shapes {a} and {b} are not broadcastable")
    return out


@register("BROADCAST_TO", types=_ALL)
def broadcast_to(node, x, shape):
    if np.ndim(shape) != 1:
        raise ValueError(f"BROADCAST_TO: the shape tensor must be 1-D, got rank {np.ndim(shape)}")
    s = _int_vector(shape, "BROADCAST_TO shape")
    if len(s) < x.ndim:
        raise ValueError(f"BROADCAST_TO: target rank {len(s)} is smaller than the input rank {x.ndim}")
    xs = [1] * (len(s) - x.ndim) + list(x.shape)
    for d, t in zip(xs, s):
        if d != t and d != 1:
            raise ValueError(f"BROADCAST_TO: cannot broadcast shape {x.shape} to {s}")
    check_allocation(s, x.dtype, "BROADCAST_TO output")
    return np.array(np.broadcast_to(x, s))


@register("BROADCAST_ARGS", types=("INT32", "INT64"))
def broadcast_args(node, s0, s1):
    out = _broadcast_shape(_int_vector(s0, "BROADCAST_ARGS shape"), _int_vector(s1, "BROADCAST_ARGS shape"),
                           "BROADCAST_ARGS")
    return np.asarray(out, dtype=np.asarray(s0).dtype)


# ------------------------------------------------------------------------------------ FILL, SHAPE, RANK

@register("FILL", types=("FLOAT32", "INT32", "INT64", "BOOL", "STRING", "INT8", "INT16", "FLOAT16"))
def fill(node, dims, value):
    d = _int_vector(dims, "FILL dims")
    if np.ndim(dims) != 1:
        raise ValueError("FILL: dims must be a 1-D tensor")
    if any(v < 0 for v in d):
        raise ValueError(f"FILL: negative dimension in {d}")
    if np.size(value) != 1:
        raise ValueError("FILL: value must be a scalar")
    v = np.asarray(value).reshape(())
    check_allocation(d, v.dtype, "FILL output")
    out = np.empty(d, dtype=v.dtype)
    out.fill(v[()])
    return out


@register("SHAPE", types=_ALL)
def shape_op(node, x):
    dt = node.outputs[0].dtype
    if dt not in (np.dtype(np.int32), np.dtype(np.int64)):
        dt = np.dtype(np.int64) if int(node.options.get("out_type", 2) or 2) == 4 else np.dtype(np.int32)
    return np.asarray(x.shape, dtype=dt).reshape(-1)


@register("RANK", types=_ALL)
def rank(node, x):
    return np.asarray(x.ndim, dtype=np.int32)


# ------------------------------------------------------------------------------------------------ RANGE

@register("RANGE", types=("INT32", "INT64", "FLOAT32", "INT8", "INT16"))
class Range:
    def __init__(self, node):
        self.quant = None
        t = node.inputs[0]
        if is_quantized(t):
            self.quant = (float(t.quantization.scale), int(t.quantization.zero_point))

    def __call__(self, start, limit, delta):
        for v, n in ((start, "start"), (limit, "limit"), (delta, "delta")):
            if np.ndim(v) != 0:
                raise ValueError(f"RANGE: {n} must be a scalar")
        dt = np.asarray(start).dtype
        if self.quant is not None:
            scale, zp = self.quant
            s, l, d = (np.float32(scale * (int(v) - zp)) for v in (start, limit, delta))
        else:
            s, l, d = start[()], limit[()], delta[()]
        if d == 0:
            raise ValueError("RANGE: delta must not be zero")
        if not ((s >= l and d < 0) or (s <= l and d > 0)):
            raise ValueError(f"RANGE: start {s}, limit {l} and delta {d} do not describe a range")
        if dt.kind in "iu" and self.quant is None:
            n = (abs(int(l) - int(s)) + abs(int(d)) - 1) // abs(int(d))
        else:
            n = int(np.ceil(np.abs((np.float32(l) - np.float32(s)) / np.float32(d))))
        check_allocation([n], dt, "RANGE output")
        if n > (1 << 31) - 1:
            raise ValueError(f"RANGE: {n} elements is more than LiteRT's int32 sizes allow")
        if self.quant is not None:
            scale, zp = self.quant
            vals = np.float32(s) + np.concatenate([[0], np.full(max(n - 1, 0), d, np.float32)])[:n].cumsum(
                dtype=np.float32) if n else np.zeros(0, np.float32)
            q = np.round(vals / np.float32(scale)).astype(np.int64) + zp
            info = np.iinfo(dt)
            return np.clip(q, info.min, info.max).astype(dt)
        if dt.kind == "f":
            steps = np.full(n, d, dtype=dt)
            if n:
                steps[0] = s
            return np.cumsum(steps, dtype=dt)
        # integers: wrap-around like the C++ accumulation
        return (np.int64(s) + np.arange(n, dtype=np.int64) * np.int64(d)).astype(dt)


# ------------------------------------------------------------------------------------------------ WHERE

@register("WHERE", types=("BOOL", "FLOAT32", "INT32", "INT64", "INT8", "UINT8"))
def where(node, cond):
    if cond.dtype == object:
        raise ValueError("WHERE: string conditions are not supported")
    return np.argwhere(cond).astype(np.int64).reshape(-1, cond.ndim)


# ------------------------------------------------------------------------------------------- REVERSE_V2

@register("REVERSE_V2", types=_ALL)
@owning(0)
def reverse_v2(node, x, axis):
    axes = _int_vector(axis, "REVERSE_V2 axis")
    r = x.ndim
    norm = []
    for a in axes:
        aa = a + r if a < 0 else a
        if not 0 <= aa < r:
            raise ValueError(f"REVERSE_V2: axis {a} is out of range for a tensor of rank {r}")
        norm.append(aa)
    if not norm:
        return x
    return _c(np.flip(x, axis=tuple(sorted(set(norm)))))


# ---------------------------------------------------------------------------------------------- ONE_HOT

@register("ONE_HOT", types=("FLOAT32", "INT32", "INT64", "INT8", "UINT8", "BOOL"))
def one_hot(node, indices, depth, on_value, off_value):
    if np.size(depth) != 1:
        raise ValueError("ONE_HOT: depth must be a scalar")
    dep = int(np.asarray(depth).reshape(-1)[0])
    if dep < 0:
        raise ValueError(f"ONE_HOT: depth {dep} must be non-negative")
    r = indices.ndim
    axis = int(node.options.get("axis", -1))
    ax = r if axis == -1 else axis
    if not 0 <= ax <= r:
        raise ValueError(f"ONE_HOT: axis {axis} is out of range for indices of rank {r}")
    on = np.asarray(on_value).reshape(())
    off = np.asarray(off_value).reshape(())
    check_allocation(indices.shape[:ax] + (dep,) + indices.shape[ax:], on.dtype, "ONE_HOT output")
    idx = np.expand_dims(np.asarray(indices, np.int64), ax)
    shape = [1] * (r + 1)
    shape[ax] = dep
    rng = np.arange(dep, dtype=np.int64).reshape(shape)
    return np.where(idx == rng, on, off).astype(on.dtype)
