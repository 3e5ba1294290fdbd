"""StableHLO operators the schema defines but LiteRT 2.3's resolver does not register ("models LiteRT cannot
run"): elementwise math, comparisons, conversions, shape ops, DOT_GENERAL, SORT, WHILE and REDUCE.

There is no LiteRT kernel to match, so these follow the StableHLO specification
(https://openxla.org/stablehlo/spec); where the specification leaves a result implementation-defined
(integer division by zero, out-of-range conversions) they follow XLA's CPU behaviour. Output shapes that the
specification takes from the result type (RESHAPE, BROADCAST_IN_DIM, IOTA) come from the output tensor in
the model file.
"""
from __future__ import annotations

import functools

import numpy as np

from ..limits import check_allocation
from .control_flow import While, check_arity, check_subgraph
from .registry import register
from .stablehlo import _BODY_UFUNCS, _body_ops, _same_shapes, int_list

_FLOATS = ("FLOAT32", "FLOAT16", "FLOAT64")
_INTS = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")


# ------------------------------------------------------------------------------------------- unary

def _rsqrt(x):
    return 1 / np.sqrt(x)


def _logistic(x):
    return 1 / (1 + np.exp(-x))


_UNARY = {
    "STABLEHLO_ABS": (np.abs, _FLOATS + _INTS), "STABLEHLO_NEGATE": (np.negative, _FLOATS + _INTS),
    "STABLEHLO_COSINE": (np.cos, _FLOATS), "STABLEHLO_EXPONENTIAL": (np.exp, _FLOATS),
    "STABLEHLO_FLOOR": (np.floor, _FLOATS), "STABLEHLO_LOG": (np.log, _FLOATS),
    "STABLEHLO_RSQRT": (_rsqrt, _FLOATS), "STABLEHLO_TANH": (np.tanh, _FLOATS),
    "STABLEHLO_LOGISTIC": (_logistic, _FLOATS), "STABLEHLO_CBRT": (np.cbrt, _FLOATS),
}


class _Unary:
    def __init__(self, node):
        self.fn, allowed = _UNARY[node.name]
        self.name = node.name
        tn = node.inputs[0].type_name if node.inputs and node.inputs[0] is not None else None
        if len(node.inputs) != 1 or len(node.outputs) != 1:
            raise ValueError(f"{node.name} takes one input and has one output")
        if tn not in allowed:
            raise ValueError(f"{node.name} does not support {tn} tensors")

    def __call__(self, x):
        x = np.asarray(x)
        with np.errstate(all="ignore"):
            return np.asarray(self.fn(x)).astype(x.dtype, copy=False)


for _name, (_fn, _types) in _UNARY.items():
    register(_name, types=_types)(_Unary)


# ------------------------------------------------------------------------------------------ binary

def _int_div(a, b):
    """Truncating integer division; x / 0 = -1 (all ones) and MIN / -1 = MIN, as XLA."""
    dt = a.dtype
    zero = b == 0
    safe_b = np.where(zero, 1, b).astype(dt)
    if dt.kind == "u":
        q = a // safe_b
        return np.where(zero, np.array(-1).astype(dt), q).astype(dt)
    wide_a, wide_b = a.astype(np.int64), safe_b.astype(np.int64)
    if dt == np.int64:
        overflow = (a == np.iinfo(dt).min) & (safe_b == -1)
        wide_b = np.where(overflow, 1, wide_b)
    else:
        overflow = np.zeros(a.shape, bool)
    q = np.abs(wide_a) // np.abs(wide_b) * np.sign(wide_a) * np.sign(wide_b)
    q = np.where(overflow, wide_a, q)
    return np.where(zero, -1, q).astype(dt)


def _int_rem(a, b):
    """Remainder with the sign of the dividend; x % 0 = x and MIN % -1 = 0, as XLA."""
    dt = a.dtype
    zero = b == 0
    safe_b = np.where(zero, 1, b).astype(dt)
    if dt.kind == "u":
        return np.where(zero, a, a % safe_b).astype(dt)
    wa, wb = a.astype(np.int64), safe_b.astype(np.int64)
    if dt == np.int64:
        wb = np.where((a == np.iinfo(dt).min) & (safe_b == -1), 1, wb)
    r = np.fmod(wa, wb)
    return np.where(zero, wa, r).astype(dt)


def _divide(a, b):
    return np.divide(a, b) if a.dtype.kind == "f" else _int_div(a, b)


def _remainder(a, b):
    return np.fmod(a, b) if a.dtype.kind == "f" else _int_rem(a, b)


def _power(a, b):
    if a.dtype.kind == "f":
        return np.power(a, b)
    dt = a.dtype
    # exponentiation by squaring with wrap-around; negative exponents: 1 for base 1, +-1 for base -1, else 0
    base = a.copy()
    e = b.astype(np.int64)
    neg = e < 0
    e = np.where(neg, 0, e)
    result = np.ones(a.shape, dt)
    with np.errstate(over="ignore"):
        while np.any(e > 0):
            odd = (e & 1) == 1
            result = np.where(odd, result * base, result).astype(dt)
            base = (base * base).astype(dt)
            e = e >> 1
    if np.any(neg):
        if dt.kind == "i":
            negres = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0)).astype(dt)
        else:
            negres = np.where(a == 1, 1, 0).astype(dt)
        result = np.where(neg, negres, result)
    return result.astype(dt)


def _or(a, b):
    return np.logical_or(a, b) if a.dtype == np.bool_ else np.bitwise_or(a, b)


_BINARY = {
    "STABLEHLO_SUBTRACT": (np.subtract, _FLOATS + _INTS), "STABLEHLO_DIVIDE": (_divide, _FLOATS + _INTS),
    "STABLEHLO_REMAINDER": (_remainder, _FLOATS + _INTS), "STABLEHLO_POWER": (_power, _FLOATS + _INTS),
    "STABLEHLO_OR": (_or, ("BOOL",) + _INTS),
}


class _Binary:
    def __init__(self, node):
        self.fn, allowed = _BINARY[node.name]
        self.name = node.name
        if len(node.inputs) != 2 or len(node.outputs) != 1:
            raise ValueError(f"{node.name} takes 2 inputs and has 1 output")
        tn = node.inputs[0].type_name if node.inputs[0] is not None else None
        if tn not in allowed:
            raise ValueError(f"{node.name} does not support {tn} tensors")

    def __call__(self, a, b):
        a, b = np.asarray(a), np.asarray(b)
        _same_shapes(self.name, a, b)
        with np.errstate(all="ignore"):
            return np.asarray(self.fn(a, b)).astype(a.dtype, copy=False)


for _name, (_fn, _types) in _BINARY.items():
    register(_name, types=_types)(_Binary)


@register("STABLEHLO_SELECT")
def stablehlo_select(node, pred, on_true, on_false):
    pred, on_true, on_false = np.asarray(pred), np.asarray(on_true), np.asarray(on_false)
    _same_shapes("STABLEHLO_SELECT", on_true, on_false)
    if pred.dtype != np.bool_:
        raise ValueError(f"STABLEHLO_SELECT: pred must be bool, got {pred.dtype}")
    if pred.ndim and pred.shape != on_true.shape:
        raise ValueError(f"STABLEHLO_SELECT: pred shape {list(pred.shape)} must be [] or {list(on_true.shape)}")
    return np.where(pred, on_true, on_false).astype(on_true.dtype, copy=False)


@register("STABLEHLO_CLAMP")
def stablehlo_clamp(node, lo, x, hi):
    lo, x, hi = np.asarray(lo), np.asarray(x), np.asarray(hi)
    for what, v in (("min", lo), ("max", hi)):
        if v.ndim and v.shape != x.shape:
            raise ValueError(f"STABLEHLO_CLAMP: {what} shape {list(v.shape)} must be [] or {list(x.shape)}")
        if v.dtype != x.dtype:
            raise ValueError(f"STABLEHLO_CLAMP: {what} type {v.dtype} differs from the operand's {x.dtype}")
    return np.minimum(np.maximum(x, lo), hi).astype(x.dtype, copy=False)


def _total_order_key(x):
    """Integers ordered like IEEE totalOrder on the float bit patterns."""
    ibits = {2: np.int16, 4: np.int32, 8: np.int64}[x.dtype.itemsize]
    i = np.ascontiguousarray(x).view(ibits).astype(np.int64)
    mask = (1 << (8 * x.dtype.itemsize - 1)) - 1
    return np.where(i < 0, i ^ mask, i)


_COMPARE = {0: np.equal, 1: np.not_equal, 2: np.greater_equal, 3: np.greater, 4: np.less_equal, 5: np.less}


@register("STABLEHLO_COMPARE")
class StablehloCompare:
    def __init__(self, node):
        o = node.options
        d = int(o.get("comparison_direction", 0))
        if d not in _COMPARE:
            raise ValueError(f"STABLEHLO_COMPARE: unknown comparison direction {d}")
        self.fn = _COMPARE[d]
        self.type = int(o.get("compare_type", 0))

    def __call__(self, a, b):
        a, b = np.asarray(a), np.asarray(b)
        _same_shapes("STABLEHLO_COMPARE", a, b)
        if self.type == 2 and a.dtype.kind == "f":
            a, b = _total_order_key(a), _total_order_key(b)
        elif self.type == 4 and a.dtype.kind == "i":
            a, b = a.view(a.dtype.str.replace("i", "u")), b.view(b.dtype.str.replace("i", "u"))
        return self.fn(a, b)


@register("STABLEHLO_CONVERT")
class StablehloConvert:
    def __init__(self, node):
        self.dtype = node.outputs[0].dtype

    def __call__(self, x):
        x = np.asarray(x)
        if self.dtype == np.bool_:
            return x != 0
        with np.errstate(all="ignore"):
            if x.dtype.kind == "f" and self.dtype.kind in "iu":
                info = np.iinfo(self.dtype)
                # XLA: truncate toward zero, saturate out-of-range values, NaN -> 0
                y = np.trunc(np.nan_to_num(x.astype(np.float64), nan=0.0))
                return np.clip(y, info.min, info.max).astype(self.dtype)
            return x.astype(self.dtype)


# ------------------------------------------------------------------------------------------ shapes

def _out_shape(node, i=0):
    t = node.outputs[i]
    shape = tuple(int(d) for d in t.shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"{node.name}: the result needs a static shape in the model, got {list(shape)}")
    return shape


@register("STABLEHLO_RESHAPE")
class StablehloReshape:
    def __init__(self, node):
        self.shape = _out_shape(node)

    def __call__(self, x):
        x = np.asarray(x)
        if int(np.prod(self.shape)) != x.size:
            raise ValueError(f"STABLEHLO_RESHAPE: cannot reshape {list(x.shape)} to {list(self.shape)}")
        return x.reshape(self.shape).copy()


@register("STABLEHLO_CONCATENATE")
def stablehlo_concatenate(node, *xs):
    xs = [np.asarray(x) for x in xs]
    d = int(node.options.get("dimension", 0))
    if not xs or not 0 <= d < xs[0].ndim:
        raise ValueError(f"STABLEHLO_CONCATENATE: dimension {d} out of range")
    return np.concatenate(xs, axis=d)


@register("STABLEHLO_BROADCAST_IN_DIM")
class StablehloBroadcastInDim:
    def __init__(self, node):
        self.shape = _out_shape(node)
        self.dims = int_list(node.options, "broadcast_dimensions")

    def __call__(self, x):
        x = np.asarray(x)
        if len(self.dims) != x.ndim or len(set(self.dims)) != len(self.dims) or \
                any(not 0 <= d < len(self.shape) for d in self.dims):
            raise ValueError(f"STABLEHLO_BROADCAST_IN_DIM: broadcast_dimensions {self.dims} do not fit operand "
                             f"rank {x.ndim} and result rank {len(self.shape)}")
        for k, d in enumerate(self.dims):
            if x.shape[k] not in (1, self.shape[d]):
                raise ValueError(f"STABLEHLO_BROADCAST_IN_DIM: operand dim {k} ({x.shape[k]}) cannot broadcast to "
                                 f"{self.shape[d]}")
        check_allocation(self.shape, x.dtype, "STABLEHLO_BROADCAST_IN_DIM output")
        order = np.argsort(self.dims)
        y = np.transpose(x, order) if x.ndim else x
        tmp = [1] * len(self.shape)
        for k in order:
            tmp[self.dims[k]] = x.shape[k]
        return np.ascontiguousarray(np.broadcast_to(y.reshape(tmp), self.shape))


@register("STABLEHLO_SLICE")
def stablehlo_slice(node, x):
    x = np.asarray(x)
    o = node.options
    start = int_list(o, "start_indices")
    limit = int_list(o, "limit_indices")
    strides = int_list(o, "strides") or [1] * x.ndim
    if not len(start) == len(limit) == len(strides) == x.ndim:
        raise ValueError("STABLEHLO_SLICE: start/limit/strides must have one entry per dimension")
    for s, l, st, n in zip(start, limit, strides, x.shape):
        if not (0 <= s <= l <= n) or st <= 0:
            raise ValueError(f"STABLEHLO_SLICE: bad slice [{s}:{l}:{st}] of a dimension of size {n}")
    return np.ascontiguousarray(x[tuple(slice(s, l, st) for s, l, st in zip(start, limit, strides))])


def _starts(idx, shape, sizes):
    out = []
    for i, n, s in zip(idx, shape, sizes):
        i = np.asarray(i)
        if i.size != 1:
            raise ValueError("start indices must be scalars")
        out.append(int(min(max(int(i.reshape(-1)[0]), 0), n - s)))
    return out


@register("STABLEHLO_DYNAMIC_SLICE")
def stablehlo_dynamic_slice(node, x, *starts):
    x = np.asarray(x)
    sizes = int_list(node.options, "slice_sizes")
    if len(sizes) != x.ndim or len(starts) != x.ndim:
        raise ValueError("STABLEHLO_DYNAMIC_SLICE: one start index and one slice size per dimension needed")
    if any(not 0 <= s <= n for s, n in zip(sizes, x.shape)):
        raise ValueError(f"STABLEHLO_DYNAMIC_SLICE: slice_sizes {sizes} exceed the operand shape {list(x.shape)}")
    st = _starts(starts, x.shape, sizes)
    return np.ascontiguousarray(x[tuple(slice(s, s + k) for s, k in zip(st, sizes))])


@register("STABLEHLO_DYNAMIC_UPDATE_SLICE")
def stablehlo_dynamic_update_slice(node, x, update, *starts):
    x, update = np.asarray(x), np.asarray(update)
    if update.ndim != x.ndim or len(starts) != x.ndim or any(u > n for u, n in zip(update.shape, x.shape)):
        raise ValueError("STABLEHLO_DYNAMIC_UPDATE_SLICE: update must fit the operand, one start per dimension")
    st = _starts(starts, x.shape, update.shape)
    out = x.copy()
    out[tuple(slice(s, s + k) for s, k in zip(st, update.shape))] = update
    return out


@register("STABLEHLO_IOTA")
class StablehloIota:
    def __init__(self, node):
        self.shape = _out_shape(node)
        self.dim = int(node.options.get("iota_dimension", 0))
        self.dtype = node.outputs[0].dtype
        if not 0 <= self.dim < max(len(self.shape), 1):
            raise ValueError(f"STABLEHLO_IOTA: iota_dimension {self.dim} out of range")
        check_allocation(self.shape, self.dtype, "STABLEHLO_IOTA output")

    def __call__(self, *args):
        if not self.shape:
            return np.zeros((), self.dtype)
        ramp = np.arange(self.shape[self.dim]).astype(self.dtype)
        view = [1] * len(self.shape)
        view[self.dim] = self.shape[self.dim]
        return np.ascontiguousarray(np.broadcast_to(ramp.reshape(view), self.shape))


@register("STABLEHLO_TRANSPOSE")
def stablehlo_transpose(node, x):
    x = np.asarray(x)
    perm = int_list(node.options, "permutation")
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"STABLEHLO_TRANSPOSE: permutation {perm} is not a permutation of {x.ndim} dimensions")
    return np.ascontiguousarray(np.transpose(x, perm))


@register("STABLEHLO_DOT_GENERAL")
class StablehloDotGeneral:
    """result dims = batch dims, lhs free dims, rhs free dims (in operand order)."""

    def __init__(self, node):
        o = node.options
        self.lb = int_list(o, "lhs_batching_dimensions")
        self.rb = int_list(o, "rhs_batching_dimensions")
        self.lc = int_list(o, "lhs_contracting_dimensions")
        self.rc = int_list(o, "rhs_contracting_dimensions")
        if len(self.lb) != len(self.rb) or len(self.lc) != len(self.rc):
            raise ValueError("STABLEHLO_DOT_GENERAL: lhs and rhs batching/contracting dimension counts differ")
        self.dtype = node.outputs[0].dtype

    def __call__(self, lhs, rhs):
        lhs, rhs = np.asarray(lhs), np.asarray(rhs)
        letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        ls, rs = [None] * lhs.ndim, [None] * rhs.ndim
        try:
            for a, b in zip(self.lb + self.lc, self.rb + self.rc):
                c = next(letters)
                if lhs.shape[a] != rhs.shape[b]:
                    raise ValueError(f"STABLEHLO_DOT_GENERAL: lhs dim {a} ({lhs.shape[a]}) != rhs dim {b} "
                                     f"({rhs.shape[b]})")
                ls[a], rs[b] = c, c
        except IndexError:
            raise ValueError("STABLEHLO_DOT_GENERAL: a batching/contracting dimension is out of range") from None
        for k in range(lhs.ndim):
            if ls[k] is None:
                ls[k] = next(letters)
        for k in range(rhs.ndim):
            if rs[k] is None:
                rs[k] = next(letters)
        out = [ls[a] for a in self.lb] + [ls[k] for k in range(lhs.ndim) if k not in self.lb + self.lc] + \
              [rs[k] for k in range(rhs.ndim) if k not in self.rb + self.rc]
        spec = f"{''.join(ls)},{''.join(rs)}->{''.join(out)}"
        if self.dtype.kind == "f":
            work = np.result_type(lhs.dtype, rhs.dtype, np.float32)
        else:
            work = np.int64 if self.dtype.kind in "iu" else self.dtype
        res = np.einsum(spec, lhs.astype(work, copy=False), rhs.astype(work, copy=False), optimize=True)
        return np.asarray(res).astype(self.dtype)


# ---------------------------------------------------------------------------------- control flow

@register("STABLEHLO_WHILE")
class StablehloWhile(While):
    """stablehlo.while: the same loop as WHILE (cond/body subgraphs over the loop-carried values)."""


@register("STABLEHLO_SORT")
class StablehloSort:
    """Sorts N same-shape operands along ``dimension`` by the comparator subgraph (2N scalars -> bool "less
    than"). A comparator that is one STABLEHLO_COMPARE LT/GT of operand 0's pair sorts with numpy; any other
    comparator runs through the subgraph."""

    def __init__(self, node):
        self.node = node
        o = node.options
        self.dim = int(o.get("dimension", 0))
        self.stable = bool(o.get("is_stable", False))
        self.index = check_subgraph(node, o.get("comparator_subgraph_index", 0), "comparator")
        n = len(node.inputs)
        if len(node.outputs) != n:
            raise ValueError(f"STABLEHLO_SORT has {n} operands but {len(node.outputs)} results")
        check_arity(node, self.index, 2 * n, 1, "comparator")
        self.fast = None
        sg = node.subgraph(self.index)
        if len(sg.operators) == 1 and sg.operators[0].name == "STABLEHLO_COMPARE":
            op = sg.operators[0]
            ins = list(sg.inputs)
            if list(op.inputs) in ([ins[0], ins[1]], [ins[1], ins[0]]) and list(op.outputs) == list(sg.outputs):
                d = int(op.options.get("comparison_direction", 0))
                swapped = list(op.inputs) == [ins[1], ins[0]]
                if d in (3, 5):       # GT / LT
                    descending = (d == 3) != swapped
                    self.fast = (descending, int(op.options.get("compare_type", 0)))

    def __call__(self, *xs):
        xs = [np.asarray(x) for x in xs]
        shape = xs[0].shape
        for x in xs:
            if x.shape != shape:
                raise ValueError("STABLEHLO_SORT: every operand must have the same shape")
        if not xs[0].ndim:
            return tuple(x.copy() for x in xs)
        d = self.dim if self.dim >= 0 else self.dim + xs[0].ndim
        if not 0 <= d < xs[0].ndim:
            raise ValueError(f"STABLEHLO_SORT: dimension {self.dim} out of range")
        moved = [np.moveaxis(x, d, -1) for x in xs]
        if self.fast is not None:
            descending, ctype = self.fast
            key = moved[0]
            if ctype == 2 and key.dtype.kind == "f":
                key = _total_order_key(key)
            if descending:
                perm = np.argsort(key[..., ::-1], axis=-1, kind="stable")[..., ::-1]
                perm = key.shape[-1] - 1 - perm
            else:
                perm = np.argsort(key, axis=-1, kind="stable")
        else:
            perm = self._generic(moved)
        return tuple(np.ascontiguousarray(np.moveaxis(np.take_along_axis(m, perm, axis=-1), -1, d))
                     for m in moved)

    def _generic(self, moved):
        lanes = moved[0].shape[:-1]
        n = moved[0].shape[-1]
        perm = np.empty(moved[0].shape, np.int64)
        for lane in np.ndindex(*lanes):
            vals = [m[lane] for m in moved]

            def less(i, j):
                self.node.check_cancelled()
                args = []
                for v in vals:
                    args += [np.asarray(v[i]), np.asarray(v[j])]
                (r,) = self.node.call_subgraph(self.index, args)
                return bool(np.asarray(r).reshape(-1)[0])

            def cmp(i, j):
                return -1 if less(i, j) else (1 if less(j, i) else 0)

            perm[lane] = sorted(range(n), key=functools.cmp_to_key(cmp))
        return perm


@register("STABLEHLO_REDUCE")
class StablehloReduce:
    """Reduces N operands over ``dimensions`` with the body subgraph ((acc_0..acc_N-1, x_0..x_N-1) ->
    acc). One operand with a single ADD/MUL/MAXIMUM/MINIMUM/AND/OR body uses numpy; any other body runs
    through the subgraph, vectorized over the kept dimensions, once per reduced element."""

    def __init__(self, node):
        self.node = node
        o = node.options
        self.dims = int_list(o, "dimensions")
        self.index = int(o.get("body_subgraph_index", 0))
        ops = _body_ops(node, self.index)
        n_in = len(node.inputs)
        if n_in % 2 or len(node.outputs) != n_in // 2:
            raise ValueError("STABLEHLO_REDUCE takes N operands and N init values and has N results")
        self.n = n_in // 2
        self.index = check_subgraph(node, self.index, "body")
        check_arity(node, self.index, 2 * self.n, self.n, "body")
        self.fn = _BODY_UFUNCS.get(ops[0]) if len(ops) == 1 and self.n == 1 else None

    def __call__(self, *args):
        xs = [np.asarray(a) for a in args[:self.n]]
        inits = [np.asarray(a) for a in args[self.n:]]
        r = xs[0].ndim
        dims = sorted(d + r if d < 0 else d for d in self.dims)
        if len(set(dims)) != len(dims) or any(not 0 <= d < r for d in dims):
            raise ValueError(f"STABLEHLO_REDUCE: bad dimensions {self.dims} for rank {r}")
        keep = [d for d in range(r) if d not in dims]
        out_shape = tuple(xs[0].shape[d] for d in keep)
        flat = [np.transpose(x, keep + dims).reshape(out_shape + (-1,)) for x in xs]
        m = flat[0].shape[-1]
        fn = self.fn
        if fn is not None:
            x, init = flat[0], inits[0].reshape(())
            dt = x.dtype
            with np.errstate(all="ignore"):
                if fn is np.add or fn is np.multiply:
                    red = fn.reduce(x, axis=-1, dtype=dt) if m else np.full(out_shape, fn.identity, dt)
                    return fn(init, red).astype(dt)
                if fn in ("max", "min"):
                    if not m:
                        return np.full(out_shape, init, dt)
                    red = (np.maximum if fn == "max" else np.minimum).reduce(x, axis=-1)
                    return (np.maximum if fn == "max" else np.minimum)(init, red).astype(dt)
                if fn == "all":
                    return (np.logical_and.reduce(x != 0, axis=-1) & bool(init != 0)).astype(dt)
                return (np.logical_or.reduce(x != 0, axis=-1) | bool(init != 0)).astype(dt)
        acc = [np.full(out_shape, i.reshape(()), i.dtype) for i in inits]
        for k in range(m):
            self.node.check_cancelled()
            acc = [np.asarray(v).reshape(out_shape) for v in
                   self.node.call_subgraph(self.index, acc + [np.ascontiguousarray(f[..., k]) for f in flat])]
        return tuple(a.astype(x.dtype, copy=False) for a, x in zip(acc, xs)) if self.n > 1 else \
            acc[0].astype(xs[0].dtype, copy=False)


# ------------------------------------------------------------------------------------------ convolution

@register("STABLEHLO_CONVOLUTION")
class StablehloConvolution:
    """stablehlo.convolution with its dimension numbers, padding, lhs (base) and rhs (window) dilation,
    window reversal, feature_group_count and batch_group_count: the input is dilated and padded with zeros,
    every window is contracted with the (reversed) kernel."""

    def __init__(self, node):
        o = node.options
        self.o = {k: int_list(o, k) for k in ("window_strides", "padding", "lhs_dilation", "rhs_dilation",
                                              "window_reversal", "input_spatial_dimensions",
                                              "kernel_spatial_dimensions", "output_spatial_dimensions")}
        self.ib, self.if_ = int(o.get("input_batch_dimension", 0)), int(o.get("input_feature_dimension", 0))
        self.ki = int(o.get("kernel_input_feature_dimension", 0))
        self.ko = int(o.get("kernel_output_feature_dimension", 0))
        self.ob, self.of = int(o.get("output_batch_dimension", 0)), int(o.get("output_feature_dimension", 0))
        self.fg = int(o.get("feature_group_count", 1) or 1)
        self.bg = int(o.get("batch_group_count", 1) or 1)
        if self.fg < 1 or self.bg < 1 or (self.fg > 1 and self.bg > 1):
            raise ValueError("STABLEHLO_CONVOLUTION: feature_group_count/batch_group_count must be >= 1 and not "
                             "both > 1")
        self.dtype = node.outputs[0].dtype

    def __call__(self, lhs, rhs):
        from numpy.lib.stride_tricks import sliding_window_view
        from .stablehlo import stablehlo_pad_array
        lhs, rhs = np.asarray(lhs), np.asarray(rhs)
        o = self.o
        isp, ksp, osp = o["input_spatial_dimensions"], o["kernel_spatial_dimensions"], o["output_spatial_dimensions"]
        k = len(isp)
        if lhs.ndim != k + 2 or rhs.ndim != k + 2 or len(ksp) != k or len(osp) != k:
            raise ValueError("STABLEHLO_CONVOLUTION: the dimension numbers do not match the operand ranks")
        if sorted([self.ib, self.if_] + isp) != list(range(k + 2)) or \
                sorted([self.ki, self.ko] + ksp) != list(range(k + 2)) or \
                sorted([self.ob, self.of] + osp) != list(range(k + 2)):
            raise ValueError("STABLEHLO_CONVOLUTION: dimension numbers must be permutations of the dimensions")

        def vec(name, default):
            v = o[name]
            return v if v else [default] * k
        strides, lhs_dil, rhs_dil = vec("window_strides", 1), vec("lhs_dilation", 1), vec("rhs_dilation", 1)
        reversal = [bool(v) for v in (o["window_reversal"] or [0] * k)]
        pad = o["padding"] or [0] * (2 * k)
        if len(pad) != 2 * k or min(strides + lhs_dil + rhs_dil) < 1:
            raise ValueError("STABLEHLO_CONVOLUTION: bad padding/strides/dilations")
        if self.dtype.kind == "f":
            work = np.result_type(lhs.dtype, rhs.dtype, np.float32)
        else:
            work = np.int64
        x = np.transpose(lhs, [self.ib] + isp + [self.if_]).astype(work)          # B, S..., C
        w = np.transpose(rhs, ksp + [self.ki, self.ko]).astype(work)               # K..., I, O
        for d, r in enumerate(reversal):
            if r:
                w = np.flip(w, axis=d)
        x = stablehlo_pad_array(x, 0, [0] + pad[0::2] + [0], [0] + pad[1::2] + [0],
                                [0] + [v - 1 for v in lhs_dil] + [0])
        b, c = x.shape[0], x.shape[-1]
        kshape = w.shape[:k]
        i_feat, o_feat = w.shape[k], w.shape[k + 1]
        dw = [(n - 1) * dl + 1 for n, dl in zip(kshape, rhs_dil)]
        out_sp = [0 if s < d else (s - d) // st + 1 for s, d, st in zip(x.shape[1:-1], dw, strides)]
        if c != i_feat * self.fg or o_feat % self.fg or o_feat % self.bg or b % self.bg:
            raise ValueError(f"STABLEHLO_CONVOLUTION: feature counts do not match (input {c}, kernel in {i_feat}, "
                             f"out {o_feat}, feature groups {self.fg}, batch groups {self.bg})")
        out_b = b // self.bg
        check_allocation([out_b] + out_sp + [o_feat], self.dtype, "STABLEHLO_CONVOLUTION output")
        if 0 in out_sp or out_b == 0 or o_feat == 0:
            res = np.zeros([out_b] + out_sp + [o_feat], work)
        else:
            check_allocation([b] + out_sp + [c] + list(kshape), work, "STABLEHLO_CONVOLUTION windows")
            view = sliding_window_view(x, dw, axis=tuple(range(1, k + 1)))        # B, P..., C, DW...
            sl = (slice(None),) + tuple(slice(None, None, st) for st in strides) + (slice(None),) + \
                tuple(slice(None, None, dl) for dl in rhs_dil)
            p = view[sl][(slice(None),) + tuple(slice(0, n) for n in out_sp)]    # B, O..., C, K...
            sp = "".join("hijklm"[:k])
            kk = "".join("pqrstu"[:k])
            if self.bg > 1:
                p = p.reshape((self.bg, out_b) + p.shape[1:])
                wg = w.reshape(kshape + (i_feat, self.bg, o_feat // self.bg))
                res = np.einsum(f"gb{sp}c{kk},{kk}cgo->b{sp}go", p, wg, optimize=True)
            else:
                pg = p.reshape(p.shape[:k + 1] + (self.fg, i_feat) + p.shape[k + 2:])
                wg = w.reshape(kshape + (i_feat, self.fg, o_feat // self.fg))
                res = np.einsum(f"b{sp}gc{kk},{kk}cgo->b{sp}go", pg, wg, optimize=True)
            res = res.reshape([out_b] + out_sp + [o_feat])
        # B, O..., F -> the result layout
        perm = [0] * (k + 2)
        perm[self.ob] = 0
        perm[self.of] = k + 1
        for j, d in enumerate(osp):
            perm[d] = j + 1
        return np.ascontiguousarray(np.transpose(res, perm)).astype(self.dtype)
