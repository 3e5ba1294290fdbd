"""SLICE, STRIDED_SLICE (all masks, offset, negative strides), PAD, PADV2, MIRROR_PAD.

All of them move data only, so one kernel serves every dtype; quantized tensors pass through unchanged
(PAD fills with the output zero point, as LiteRT does).
"""
from __future__ import annotations

import numpy as np

from ..limits import check_allocation
from ._views import owning
from .registry import is_quantized, register

_ALL = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL", "STRING")


def _c(a: np.ndarray) -> np.ndarray:
    return a if a.flags.c_contiguous else a.copy()


def _ints(v, what: str) -> list[int]:
    a = np.asarray(v)
    if a.dtype.kind not in "iu":
        raise ValueError(f"{what} must be an integer tensor, got {a.dtype}")
    return [int(x) for x in a.reshape(-1)]


# ------------------------------------------------------------------------------------------------ SLICE

def slice_index(shape, begin: list[int], size: list[int]) -> tuple:
    r = len(shape)
    if len(begin) != r or len(size) != r:
        raise ValueError(f"SLICE: begin {begin} and size {size} must have one entry per dimension "
                         f"of shape {tuple(shape)}")
    idx = []
    for d, (b, s) in enumerate(zip(begin, size)):
        n = shape[d]
        if s == -1:
            s = n - b
        if b < 0 or s < 0 or b + s > n:
            raise ValueError(f"SLICE: begin {b} size {size[d]} is out of range for dimension {d} of "
                             f"shape {tuple(shape)}")
        idx.append(slice(b, b + s))
    return tuple(idx)


@register("SLICE", types=_ALL)
@owning(0)
class Slice:
    def __init__(self, node):
        b, s = node.const(1), node.const(2)
        self.begin = None if b is None else _ints(b, "SLICE begin")
        self.size = None if s is None else _ints(s, "SLICE size")
        self.cache = None

    def __call__(self, x, begin, size):
        b = self.begin if self.begin is not None else _ints(begin, "SLICE begin")
        s = self.size if self.size is not None else _ints(size, "SLICE size")
        if self.begin is not None and self.size is not None:
            c = self.cache
            if c is None or c[0] != x.shape:
                c = self.cache = (x.shape, slice_index(x.shape, b, s))
            idx = c[1]
        else:
            idx = slice_index(x.shape, b, s)
        return _c(x[idx])


# ----------------------------------------------------------------------------------------- STRIDED_SLICE

def _clamp(v, lo, hi):
    return lo if v < lo else hi if v > hi else v


def strided_slice_plan(shape, begin, end, strides, begin_mask=0, end_mask=0, ellipsis_mask=0,
                       new_axis_mask=0, shrink_axis_mask=0, offset=False):
    """Turns TFLite strided-slice parameters into (effective input shape, per-axis python slices,
    output shape) following LiteRT's interpretation of the masks."""
    rank = len(shape)
    n = len(begin)
    if len(end) != n or len(strides) != n:
        raise ValueError(f"STRIDED_SLICE: begin/end/strides lengths differ ({n}, {len(end)}, {len(strides)})")
    if n > 31:
        raise ValueError("STRIDED_SLICE: at most 31 indices are supported")
    num_add = sum(1 for i in range(n) if not (ellipsis_mask >> i) & 1 and (new_axis_mask >> i) & 1)
    eff = rank + num_add
    # expand the ellipsis and locate new axes in the effective (input + new axes) dimension space
    eff_ellipsis = 0
    eff_new = 0
    ell_start = eff
    expanded = 0
    i = 0
    while i < eff:
        if (ellipsis_mask >> i) & 1 and ell_start == eff:
            ell_start = i
            ell_end = max(i + 1, min(i + 1 + num_add + rank - n, eff))
            expanded = ell_end - ell_start - 1
            while i < ell_end:
                eff_ellipsis |= 1 << i
                i += 1
            continue
        if i - expanded >= 0 and (new_axis_mask >> (i - expanded)) & 1:
            eff_new |= 1 << i
        i += 1
    eff_shape = []
    starts, stops, strs, bm, em, sm = [], [], [], [], [], []
    added_ell = 0
    added_axes = 0
    for i in range(eff):
        if (eff_ellipsis >> i) & 1:
            added_ell = max(0, i - ell_start)
            if i - added_axes >= rank:
                raise ValueError("STRIDED_SLICE: the slice spec has more dimensions than the input")
            eff_shape.append(shape[i - added_axes])
            starts.append(0), stops.append(0), strs.append(1), bm.append(True), em.append(True), sm.append(False)
        elif (eff_new >> i) & 1:
            eff_shape.append(1)
            starts.append(0), stops.append(1), strs.append(1), bm.append(False), em.append(False), sm.append(False)
            added_axes += 1
        elif i >= n + expanded:
            if i - added_axes >= rank:
                raise ValueError("STRIDED_SLICE: the slice spec has more dimensions than the input")
            eff_shape.append(shape[i - added_axes])
            starts.append(0), stops.append(0), strs.append(1), bm.append(True), em.append(True), sm.append(False)
        else:
            o = i - added_ell
            if i - added_axes >= rank:
                raise ValueError(f"STRIDED_SLICE: {n} slice indices for an input of rank {rank}")
            eff_shape.append(shape[i - added_axes])
            starts.append(begin[o]), stops.append(end[o]), strs.append(strides[o])
            bm.append(bool((begin_mask >> o) & 1)), em.append(bool((end_mask >> o) & 1))
            sm.append(bool((shrink_axis_mask >> o) & 1))
    if len(eff_shape) != eff or eff - num_add != rank:
        raise ValueError(f"STRIDED_SLICE: {n} slice indices do not fit an input of rank {rank}")
    slices = []
    out_shape = []
    for ax in range(eff):
        size = eff_shape[ax]
        st = strs[ax]
        if st == 0:
            raise ValueError("STRIDED_SLICE: stride value has to be non-zero")
        if st == -2 ** 31:
            raise ValueError("STRIDED_SLICE: stride value INT32_MIN is not supported")
        b = starts[ax]
        if b < 0:
            b += size
        b = _clamp(b, 0, size) if st > 0 else _clamp(b, -1, size - 1)
        if bm[ax]:
            b = 0 if st > 0 else size - 1
        if sm[ax]:
            # a shrunk axis takes the single element at ``begin``. For an out-of-range index TFLite's kernel
            # succeeds and leaves the output unwritten (upstream strided_slice_test OutOfBounds expects
            # kTfLiteOk and a scalar): the empty slice here makes the kernel return zeros of the output shape
            slices.append(slice(b, b + 1) if 0 <= b < size else slice(0, 0))
            continue
        else:
            e = stops[ax]
            if offset:
                e += b
            if e < 0:
                e += size
            e = _clamp(e, 0, size) if st > 0 else _clamp(e, -1, size - 1)
            if em[ax]:
                e = size if st > 0 else -1
        span = e - b
        if (span < 0) != (st < 0) or span == 0:
            cnt = 0
        elif st < 0:
            cnt = (span + 1) // st + 1
        else:
            cnt = (span - 1) // st + 1
        if cnt <= 0:
            slices.append(slice(0, 0))
            cnt = 0
        else:
            stop = b + cnt * st
            slices.append(slice(b, None if stop < 0 else stop, st))
        if not sm[ax]:
            out_shape.append(cnt)
    return tuple(eff_shape), tuple(slices), tuple(out_shape)


@register("STRIDED_SLICE", types=_ALL)
@owning(0)
class StridedSlice:
    def __init__(self, node):
        o = node.options
        self.masks = dict(begin_mask=int(o.get("begin_mask", 0)), end_mask=int(o.get("end_mask", 0)),
                          ellipsis_mask=int(o.get("ellipsis_mask", 0)),
                          new_axis_mask=int(o.get("new_axis_mask", 0)),
                          shrink_axis_mask=int(o.get("shrink_axis_mask", 0)), offset=bool(o.get("offset", False)))
        consts = [node.const(i) for i in (1, 2, 3)]
        self.consts = None
        if all(c is not None for c in consts):
            self.consts = tuple(_ints(c, "STRIDED_SLICE index") for c in consts)
        self.cache = None

    def __call__(self, x, begin, end, strides):
        if self.consts is not None:
            c = self.cache
            if c is None or c[0] != x.shape:
                c = self.cache = (x.shape, strided_slice_plan(x.shape, *self.consts, **self.masks))
            plan = c[1]
        else:
            plan = strided_slice_plan(x.shape, _ints(begin, "STRIDED_SLICE begin"),
                                      _ints(end, "STRIDED_SLICE end"), _ints(strides, "STRIDED_SLICE strides"),
                                      **self.masks)
        eff_shape, slices, out_shape = plan
        y = x.reshape(eff_shape)[slices]
        if y.size != int(np.prod(out_shape, dtype=np.int64)):    # out-of-range shrink index (see the plan)
            return np.full(out_shape, b"" if x.dtype == object else 0, x.dtype)
        return _c(y).reshape(out_shape)


# --------------------------------------------------------------------------------------------- PAD/PADV2

def _paddings(p, rank: int, what: str) -> list[tuple[int, int]]:
    a = np.asarray(p)
    if a.dtype.kind not in "iu":
        raise ValueError(f"{what}: paddings must be an integer tensor, got {a.dtype}")
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] != rank:
        raise ValueError(f"{what}: paddings of shape {a.shape} do not match an input of rank {rank} "
                         f"(expected [{rank}, 2])")
    out = [(int(b), int(e)) for b, e in a]
    if any(b < 0 or e < 0 for b, e in out):
        raise ValueError(f"{what}: negative paddings {out}")
    return out


def _pad_const(x, pads, value):
    shape = tuple(d + b + e for d, (b, e) in zip(x.shape, pads))
    check_allocation(shape, x.dtype, "PAD output")
    if x.dtype == object:
        out = np.empty(shape, dtype=object)
        out.fill(value)
    elif value == 0:
        out = np.zeros(shape, dtype=x.dtype)       # calloc: no separate fill pass
    else:
        out = np.full(shape, value, dtype=x.dtype)
    out[tuple(slice(b, b + d) for d, (b, _) in zip(x.shape, pads))] = x
    return out


@register("PAD", "PADV2", types=_ALL)
class Pad:
    def __init__(self, node):
        self.name = node.name
        p = node.const(1)
        self.pads = None if p is None else np.asarray(p)
        out = node.outputs[0]
        # quantized tensors pad with the output zero point (the quantized value of 0.0)
        self.fill = int(out.quantization.zero_point) if is_quantized(out) else 0

    def __call__(self, x, paddings, constant=None):
        pads = _paddings(self.pads if self.pads is not None else paddings, x.ndim, self.name)
        if constant is not None:
            if np.size(constant) != 1:
                raise ValueError(f"{self.name}: constant_values must hold a single value")
            value = np.asarray(constant).reshape(-1)[0]
        elif x.dtype == object:
            value = b""
        else:
            value = self.fill
        return _pad_const(x, pads, value)


@register("MIRROR_PAD", types=_ALL)
class MirrorPad:
    def __init__(self, node):
        mode = node.options.get("mode", 0)
        if isinstance(mode, str):
            mode = {"REFLECT": 0, "SYMMETRIC": 1}[mode]
        self.mode = "reflect" if int(mode) == 0 else "symmetric"
        p = node.const(1)
        self.pads = None if p is None else np.asarray(p)

    def __call__(self, x, paddings):
        pads = _paddings(self.pads if self.pads is not None else paddings, x.ndim, "MIRROR_PAD")
        for d, (b, e) in enumerate(pads):
            lim = x.shape[d] - (1 if self.mode == "reflect" else 0)
            if b > lim or e > lim:
                raise ValueError(f"MIRROR_PAD: paddings {pads[d]} too large for dimension {d} of size "
                                 f"{x.shape[d]} in {self.mode.upper()} mode")
        check_allocation([d + b + e for d, (b, e) in zip(x.shape, pads)], x.dtype, "MIRROR_PAD output")
        if not pads or all(b == 0 and e == 0 for b, e in pads):
            return x.copy()
        return np.pad(x, pads, mode=self.mode)
