"""Reductions: MEAN SUM REDUCE_MAX REDUCE_MIN REDUCE_PROD REDUCE_ANY REDUCE_ALL, ARG_MAX ARG_MIN, CUMSUM,
TOPK_V2 (float and integer/bool variants; the quantized MEAN/SUM live with the quantized kernels)."""
from __future__ import annotations

import numpy as np

from .registry import float_node, is_quantized, quantized_node, register


def resolve_axes(axis, rank: int) -> tuple[int, ...]:
    """TFLite's axis resolution: negative axes wrap, duplicates count once, out-of-range raises."""
    axes = []
    if axis is None:        # an empty constant axis tensor may have no buffer at all
        return ()
    for a in np.asarray(axis).reshape(-1).tolist():
        a = int(a)
        if (rank and (a < -rank or a >= rank)) or (rank == 0 and a not in (0, -1)):   # 0-d: axis 0/-1 ok
            raise ValueError(f"reduction axis {a} is out of range for a tensor of rank {rank}")
        a = a + rank if a < 0 else a
        if rank and a not in axes:
            axes.append(a)
    return tuple(sorted(axes))


def _scalar_int(v, what: str) -> int:
    a = np.asarray(v).reshape(-1)
    if a.size != 1:
        raise ValueError(f"{what} must be a scalar, got {a.size} values")
    return int(a[0])


def _single_axis(axis, rank: int, op: str) -> int:
    """The one axis a scalar axis tensor names, wrapped into [0, rank)."""
    ax = _scalar_int(axis, f"{op} axis")
    if ax < -rank or ax >= rank:
        raise ValueError(f"{op} axis {ax} is out of range for a tensor of rank {rank}")
    return ax % rank


def _blocked(x, axes):
    """``x`` viewed as (kept-before, reduced, kept-after) when the reduced axes are one contiguous run, so
    numpy reduces one axis with a vectorized inner loop (much faster than a multi-axis reduction);
    None otherwise."""
    if x.size == 0 or not x.flags.c_contiguous or list(axes) != list(range(axes[0], axes[-1] + 1)):
        return None
    pre = int(np.prod(x.shape[:axes[0]], dtype=np.int64))
    mid = int(np.prod(x.shape[axes[0]:axes[-1] + 1], dtype=np.int64))
    return x.reshape(pre, mid, -1)


def _reduce(ufunc, x, axes, **kw):
    """ufunc.reduce over ``axes``; the result has the kept dimensions in order (no keep_dims)."""
    v = _blocked(x, axes)
    out_shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    if v is not None:
        return ufunc.reduce(v, axis=1, **kw).reshape(out_shape)
    return ufunc.reduce(x, axis=axes, **kw)


class _Reducer:
    """Shared plumbing: the axis tensor is resolved once when it is constant."""

    def __init__(self, node):
        self.keep_dims = bool(node.options.get("keep_dims", False))
        axis = node.const(1)
        self.rank = len(node.inputs[0].shape) if node.inputs[0] is not None else None
        self.axes = None
        if axis is not None and self.rank is not None and node.inputs[0].has_rank:
            try:
                self.axes = resolve_axes(axis, self.rank)
            except ValueError:
                self.axes = None     # reported at invoke with the runtime rank

    def _axes(self, x, axis):
        if self.axes is not None and x.ndim == self.rank:
            return self.axes
        return resolve_axes(axis, x.ndim)

    def _finish(self, y, x, axes):
        if self.keep_dims:
            shape = list(x.shape)
            for a in axes:
                shape[a] = 1
            y = np.reshape(y, shape)
        return np.asarray(y)


@register("SUM", when=float_node, types=("FLOAT32", "INT32", "INT64"))
class Sum(_Reducer):
    def __call__(self, x, axis):
        axes = self._axes(x, axis)
        if not axes:
            return x.copy()
        if x.dtype.kind == "f" and 0 < x.size <= _SEQ_SUM_LIMIT and (axes[-1] == x.ndim - 1 or
                                                                     _blocked(x, axes) is None):
            y = _sequential_sum(x, axes)        # bit-identical with LiteRT's float sums
        else:
            y = _reduce(np.add, x, axes, dtype=x.dtype)
        return self._finish(y.astype(x.dtype, copy=False), x, axes)


#: Up to this many elements a float SUM whose reduced elements are not a leading block reproduces
#: TFLite's memory-order additions exactly; beyond, numpy's (pairwise, more accurate and much faster)
#: reduction is used and results agree within float tolerance.
_SEQ_SUM_LIMIT = 1 << 16


def _sequential_sum(x, axes):
    """Float sum adding the reduced elements one by one in memory order, as TFLite does (numpy would
    sum a contiguous last axis pairwise): rows of reduced elements, summed column by column (vectorized
    over the rows) or with a running sum."""
    keep = [d for d in range(x.ndim) if d not in axes]
    y = np.transpose(x, keep + list(axes)).reshape(-1, int(np.prod([x.shape[d] for d in axes])))
    pre, mid = y.shape
    if mid <= 1024 and pre >= 64:
        acc = y[:, 0].copy()
        for i in range(1, mid):
            acc += y[:, i]
    else:
        acc = np.cumsum(y, axis=1, dtype=x.dtype)[:, -1]
    return acc.reshape(tuple(x.shape[d] for d in keep))


@register("MEAN", when=float_node, types=("FLOAT32", "INT32", "INT64"))
class Mean(_Reducer):
    """Float: the sum (in LiteRT's memory order where that is cheap) divided by the count. Bit-identical
    with the reference kernel, and with the optimized one except over the innermost axis, where it sums
    in SIMD lanes (agreement within float tolerance there)."""

    def __init__(self, node):
        super().__init__(node)
        self.ref = node.resolver == "BUILTIN_REF"

    def __call__(self, x, axis):
        axes = self._axes(x, axis)
        if not axes:
            return x.copy()
        n = 1
        for a in axes:
            n *= x.shape[a]
        if x.dtype.kind in "iu":
            s = np.sum(x, axis=axes, dtype=np.int64)
            # C++ integer division truncates toward zero.
            q = np.where(n > 0, np.abs(s) // max(n, 1), 0) * np.sign(s)
            y = q.astype(x.dtype)
        else:
            if (0 < x.size <= _SEQ_SUM_LIMIT and (_blocked(x, axes) is None or
                                                  (self.ref and axes[-1] == x.ndim - 1))):
                s = _sequential_sum(x, axes)
            else:
                s = _reduce(np.add, x, axes, dtype=x.dtype)
            with np.errstate(invalid="ignore", divide="ignore"):     # an empty extent gives NaN, as in LiteRT
                y = (s / x.dtype.type(n)).astype(x.dtype, copy=False)
        return self._finish(y, x, axes)


def _simple(fn, types):
    def make(name):
        @register(name, when=float_node if name in ("REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD") else None,
                  types=types)
        class K(_Reducer):
            def __call__(self, x, axis):
                axes = self._axes(x, axis)
                if not axes:
                    return x.copy()
                if x.size == 0:
                    return self._finish(_empty_reduce(name, x, axes), x, axes)
                return self._finish(fn(x, axes), x, axes)
        K.__name__ = K.__qualname__ = name.title().replace("_", "")
        return K
    return make


def _empty_reduce(name, x, axes):
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    # TFLite starts max/min from numeric_limits lowest()/max()
    if name == "REDUCE_MAX":
        v = np.finfo(x.dtype).min if x.dtype.kind == "f" else (np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False)
    elif name == "REDUCE_MIN":
        v = np.finfo(x.dtype).max if x.dtype.kind == "f" else (np.iinfo(x.dtype).max if x.dtype.kind in "iu" else True)
    elif name == "REDUCE_PROD" or name == "REDUCE_ALL":
        v = 1
    else:
        v = 0
    return np.full(shape, v, dtype=x.dtype)


def _fold_nan(x, axes, is_max):
    """LiteRT's optimized float max/min: a sequential fold ``acc = acc > v ? acc : v`` (``<`` for min)
    over the reduced elements in memory order. A NaN replaces the accumulator and is replaced by the next
    element, so the result is the extreme of the elements after the last NaN (NaN when a NaN is last)."""
    keep = [i for i in range(x.ndim) if i not in axes]
    y = np.transpose(x, keep + list(axes))
    y = y.reshape(y.shape[:len(keep)] + (-1,))
    nan = np.isnan(y)
    n = y.shape[-1]
    last = np.where(nan.any(-1), n - 1 - np.argmax(nan[..., ::-1], axis=-1), -1)
    after = np.arange(n) > last[..., None]
    fill = -np.inf if is_max else np.inf
    z = np.where(after, y, fill)
    r = np.max(z, axis=-1) if is_max else np.min(z, axis=-1)
    return np.where(last == n - 1, np.nan, r).astype(x.dtype)


class _MaxMin(_Reducer):
    IS_MAX = True

    def __init__(self, node):
        super().__init__(node)
        self.ref = node.resolver == "BUILTIN_REF"
        i, o = node.inputs[0], node.outputs[0]
        if is_quantized(i) or is_quantized(o):
            # max/min of quantized values is taken on the raw integers, which needs equal parameters
            qi, qo = i.quantization, o.quantization
            if qi.scale != qo.scale or qi.zero_point != qo.zero_point:
                raise ValueError(f"{node.name}: input and output quantization must match "
                                 f"(scale {qi.scale} vs {qo.scale}, zero point {qi.zero_point} vs {qo.zero_point})")

    def __call__(self, x, axis):
        axes = self._axes(x, axis)
        if not axes:
            return x.copy()
        if x.size == 0:
            return self._finish(_empty_reduce("REDUCE_MAX" if self.IS_MAX else "REDUCE_MIN", x, axes), x, axes)
        if x.dtype.kind == "f" and self.ref and len(axes) == x.ndim:
            # reference kernel over all dimensions: a fold seeded with the first element, in which a NaN
            # never wins a comparison (a NaN seed therefore stays)
            f = x.reshape(-1)
            if np.isnan(f[0]):
                y = np.array(np.nan, x.dtype)
            else:
                y = np.fmax.reduce(f) if self.IS_MAX else np.fmin.reduce(f)
            return self._finish(np.asarray(y, x.dtype), x, axes)
        if x.dtype.kind == "f" and self.ref:
            # reference kernel: std::max/std::min from numeric_limits::lowest()/max(): NaN is skipped
            lim = np.finfo(x.dtype)
            if self.IS_MAX:
                y = _reduce(np.fmax, x, axes, initial=lim.min)
            else:
                y = _reduce(np.fmin, x, axes, initial=lim.max)
            return self._finish(y, x, axes)
        y = _reduce(np.maximum if self.IS_MAX else np.minimum, x, axes)
        if x.dtype.kind == "f" and np.isnan(y).any():     # np.maximum propagates NaN: only then look closer
            y = _fold_nan(x, axes, self.IS_MAX)
        return self._finish(y, x, axes)


@register("REDUCE_MAX", types=("FLOAT32", "INT32", "INT64", "INT8", "UINT8", "INT16"))
class ReduceMax(_MaxMin):
    IS_MAX = True


@register("REDUCE_MIN", types=("FLOAT32", "INT32", "INT64", "INT8", "UINT8", "INT16"))
class ReduceMin(_MaxMin):
    IS_MAX = False


_simple(lambda x, a: _reduce(np.multiply, x, a, dtype=x.dtype), ("FLOAT32", "INT32", "INT64"))("REDUCE_PROD")
_simple(lambda x, a: _reduce(np.logical_or, x, a), ("BOOL",))("REDUCE_ANY")
_simple(lambda x, a: _reduce(np.logical_and, x, a), ("BOOL",))("REDUCE_ALL")


@register("REDUCE_PROD", when=quantized_node, priority=5, types=("INT8 (quantized)", "INT16 (quantized)"))
class ReduceProdQuantized(_Reducer):
    """TFLite's quantized product: each multiplication step is rescaled by
    input_scale / output_scale ** (1 / n) (n reduced elements) with the 64-bit MultiplyByQuantizedMultiplier,
    folding the reduced elements in memory order, then rescaled once more and offset."""

    def __init__(self, node):
        super().__init__(node)
        i, o = node.inputs[0], node.outputs[0]
        if i.type_name not in ("INT8", "INT16"):
            raise ValueError(f"REDUCE_PROD: unsupported quantized input type {i.type_name}")
        self.in_zp = int(i.quantization.zero_point)
        self.out_zp = int(o.quantization.zero_point)
        self.in_scale = float(i.quantization.scale)
        self.out_scale = float(o.quantization.scale)
        info = np.iinfo(i.dtype)
        self.lo, self.hi = int(info.min), int(info.max)
        self._mult: dict = {}

    def _multiplier(self, n):
        m = self._mult.get(n)
        if m is None:
            from ..quant import quantize_multiplier
            m = self._mult[n] = quantize_multiplier(self.in_scale / self.out_scale ** (1.0 / n))
        return m

    def __call__(self, x, axis):
        from ..quant import multiply_by_quantized_multiplier_64 as mbqm64
        axes = self._axes(x, axis)
        keep = [d for d in range(x.ndim) if d not in axes]
        y = np.transpose(x, keep + list(axes))
        out_shape = y.shape[:len(keep)]
        if x.size == 0:   # before the reshape: (-1,) is ambiguous when out_shape holds a 0 (reduce_test ZeroInputDim)
            return self._finish(np.zeros(out_shape, x.dtype), x, axes)
        y = y.reshape(out_shape + (-1,)).astype(np.int64) - self.in_zp
        n = y.shape[-1]
        q, shift = self._multiplier(n)
        acc = y[..., 0]
        for k in range(1, n):
            acc = mbqm64(acc * y[..., k], q, shift)
        r = np.clip(mbqm64(acc, q, shift) + self.out_zp, self.lo, self.hi).astype(x.dtype)
        return self._finish(r, x, axes)


# ------------------------------------------------------------------------------------------ ARG_MAX/MIN

class _Arg:
    is_max = True

    def __init__(self, node):
        self.out_dtype = node.outputs[0].dtype
        if self.out_dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
            raise ValueError(f"{node.name} output must be INT32 or INT64, got {node.outputs[0].type_name}")

    def __call__(self, x, axis):
        ax = _single_axis(axis, x.ndim, "ARG_MAX" if self.is_max else "ARG_MIN")
        if x.shape[ax] == 0:
            raise ValueError("arg reduction over an empty axis")
        if x.dtype == np.bool_:
            x = x.view(np.uint8)
        if x.dtype.kind == "f" and np.isnan(x).any():
            if int(np.prod(x.shape[ax + 1:])) == 1:
                r = _arg_nan(np.moveaxis(x, ax, -1), self.is_max)
            else:
                # the strided kernel: first index of the NaN-skipping extreme (0 when all are NaN)
                m = (np.fmax if self.is_max else np.fmin).reduce(x, axis=ax, keepdims=True)
                hit = x == m
                r = np.where(hit.any(ax), np.argmax(hit, axis=ax), 0)
        else:
            # numpy returns the first extreme index like TFLite's strict comparison.
            r = np.argmax(x, axis=ax) if self.is_max else np.argmin(x, axis=ax)
        return r.astype(self.out_dtype, copy=False)


def _arg_nan(y, is_max):
    """TFLite's float ArgMax/ArgMin when NaNs are present (its 4-lane vector kernel): over the leading
    blocks of 4 the extreme value is found first -- lanes that skip NaN, then a pairwise lane reduction
    in which a NaN on the left wins -- and the index is the first one in those blocks holding that value
    (0 when it is NaN); the remaining elements follow one by one, each replacing the current extreme when
    it compares better or the current extreme is NaN and it is not."""
    n = y.shape[-1]
    pick = np.fmax if is_max else np.fmin
    better = np.greater if is_max else np.less
    with np.errstate(invalid="ignore"):
        if n >= 4:
            nb = n // 4
            head = y[..., :nb * 4]
            lanes = pick.reduce(head.reshape(y.shape[:-1] + (nb, 4)), axis=-2)

            def left(a, b):
                return np.where(better(b, a), b, a)
            m = left(left(lanes[..., 0], lanes[..., 1]), left(lanes[..., 2], lanes[..., 3]))
            hit = head == m[..., None]
            idx = np.where(hit.any(-1), np.argmax(hit, axis=-1), 0)
            start = nb * 4
        else:
            m = y[..., 0]
            idx = np.zeros(y.shape[:-1], np.int64)
            start = 1
        for i in range(start, n):
            v = y[..., i]
            upd = better(v, m) | (np.isnan(m) & ~np.isnan(v))
            m = np.where(upd, v, m)
            idx = np.where(upd, i, idx)
    return idx


@register("ARG_MAX", types=("FLOAT32", "INT32", "INT8", "UINT8", "BOOL"))
class ArgMax(_Arg):
    is_max = True


@register("ARG_MIN", types=("FLOAT32", "INT32", "INT8", "UINT8", "BOOL"))
class ArgMin(_Arg):
    is_max = False


# ------------------------------------------------------------------------------------------------ CUMSUM

@register("CUMSUM", when=float_node, types=("FLOAT32", "INT32", "INT64"))
class Cumsum:
    def __init__(self, node):
        self.exclusive = bool(node.options.get("exclusive", False))
        self.reverse = bool(node.options.get("reverse", False))

    def __call__(self, x, axis):
        ax = _single_axis(axis, x.ndim, "CUMSUM")
        v = np.flip(x, ax) if self.reverse else x
        # same dtype and order as TFLite's sequential loop (float32 results are bit-identical)
        y = np.cumsum(v, axis=ax, dtype=x.dtype)
        if self.exclusive:
            z = np.zeros_like(y)
            src = [slice(None)] * x.ndim
            dst = [slice(None)] * x.ndim
            src[ax] = slice(0, -1)
            dst[ax] = slice(1, None)
            z[tuple(dst)] = y[tuple(src)]
            y = z
        if self.reverse:
            y = np.flip(y, ax)
        return np.ascontiguousarray(y, dtype=x.dtype)


# ------------------------------------------------------------------------------------------------ TOPK_V2

def _topk_fast(x, k):
    """Top-k indices (NaN-free input): a partition finds each row's k-th largest value, only the
    candidates >= it are sorted by (value descending, index ascending), the first k of each row kept."""
    n = x.shape[-1]
    lead = x.shape[:-1]
    x2 = x.reshape(-1, n)
    rows = x2.shape[0]
    if k == 0 or rows == 0:
        return np.zeros(lead + (k,), np.int64)
    kth = np.partition(x2, n - k, axis=-1)[:, n - k:n - k + 1]
    r, c = np.nonzero(x2 >= kth)
    v = x2[r, c]
    neg = -v.astype(np.float64) if x.dtype.kind == "f" else -v.astype(np.int64)
    order = np.lexsort((c, neg, r))
    counts = np.bincount(r, minlength=rows)
    starts = np.cumsum(counts) - counts
    take = order[starts[:, None] + np.arange(k)]
    return c[take].reshape(lead + (k,)).astype(np.int64)


@register("TOPK_V2", types=("FLOAT32", "INT32", "INT64", "INT8", "UINT8", "INT16"))
class TopKV2:
    """Largest ``k`` along the last axis, sorted descending; equal values keep the lower index first."""

    def __init__(self, node):
        self.idx_dtype = node.outputs[1].dtype if len(node.outputs) > 1 else np.dtype(np.int32)

    def __call__(self, x, k):
        k = _scalar_int(k, "TOPK_V2 k")
        if x.ndim < 1:
            raise ValueError("TOPK_V2 input must have rank >= 1")
        n = x.shape[-1]
        if k < 0:       # LiteRT (and upstream topk_v2_test KIsNegativeFloat) give empty outputs
            k = 0
        if k > n:
            raise ValueError(f"TOPK_V2 k={k} must be in [0, {n}] (the size of the last dimension)")
        # Stable ascending sort of the reversed row, reversed back: descending values with ties in
        # increasing index order, valid for every dtype (no negation overflow).
        if x.dtype.kind == "f" and np.isnan(x).any():
            # NaN never compares greater: it ranks below every number, NaNs in index order.
            nan = np.isnan(x)
            pos = np.broadcast_to(np.arange(n), x.shape)
            idx = np.lexsort((pos, -np.where(nan, 0, x), nan), axis=-1)[..., :k]
        elif k * 8 < n and x.dtype.kind in "fiu" and x.dtype.itemsize <= 4:
            idx = _topk_fast(x, k)
        else:
            rev = x[..., ::-1]
            order = np.argsort(rev, axis=-1, kind="stable")[..., ::-1][..., :k]
            idx = (n - 1) - order
        vals = np.take_along_axis(x, idx, axis=-1)
        return np.ascontiguousarray(vals), idx.astype(self.idx_dtype)
