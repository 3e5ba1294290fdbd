"""RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (NHWC), bit-identical with LiteRT.

Index arithmetic follows TFLite's kernels in float32: ``scale = in / out`` (or ``(in-1)/(out-1)`` with
align_corners), half-pixel centers shift by 0.5, nearest neighbour rounds half away from zero with
align_corners and floors otherwise. Bilinear evaluates the same float32 expressions as the optimized
kernel (corner weights; a dedicated exact-2x kernel) or the reference kernel (BUILTIN_REF); int8/int16
use TFLite's 10-bit fixed-point kernel and uint8 the float formulas rounded. Nearest neighbour moves data
and works for every dtype. Index/weight tables depend only on (in, out, options) and are cached.
"""
from __future__ import annotations

import numpy as np

from ..limits import check_allocation
from .registry import register

_F = np.float32


def _scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    if align_corners and out_size > 1:
        return _F(in_size - 1) / _F(out_size - 1)
    return _F(in_size) / _F(out_size)


def nearest_indices(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    scale = _scale(in_size, out_size, align_corners)
    offset = _F(0.5) if half_pixel else _F(0.0)
    v = (np.arange(out_size, dtype=_F) + offset) * scale          # float32 arithmetic
    fl = np.floor(v)
    if align_corners:
        # round half away from zero (v >= 0), decided exactly on the float32 value
        idx = np.where(v - fl >= _F(0.5), fl + 1, fl)
    else:
        idx = fl
    idx = np.minimum(idx.astype(np.int64), in_size - 1)
    if half_pixel:
        idx = np.maximum(idx, 0)
    return idx


def bilinear_tables(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """(lower index, upper index, weight of the upper sample) per output coordinate, as TFLite computes
    them: weights are ``value - lower`` with the clamped lower bound."""
    scale = _scale(in_size, out_size, align_corners)
    o = np.arange(out_size, dtype=_F)
    if half_pixel:
        v = (o + _F(0.5)) * scale - _F(0.5)
    else:
        v = o * scale
    lo = np.maximum(np.floor(v).astype(np.int64), 0)
    hi = np.minimum(np.ceil(v).astype(np.int64), in_size - 1)
    w = (v - lo.astype(_F)).astype(_F)
    return lo, hi, w


def _size(size) -> tuple[int, int]:
    s = np.asarray(size).reshape(-1)
    if s.size != 2:
        raise ValueError(f"resize size tensor must hold 2 values (new_height, new_width), got {s.size}")
    h, w = int(s[0]), int(s[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"resize output size must be positive, got {h}x{w}")
    return h, w


class _PlanCache(dict):
    """Per-kernel cache of index/weight tables, bounded for graphs whose output size keeps changing."""

    def __setitem__(self, key, value):
        if len(self) >= 32:
            self.clear()
        super().__setitem__(key, value)


class _Resize:
    def __init__(self, node):
        self.align = bool(node.options.get("align_corners", False))
        self.half = bool(node.options.get("half_pixel_centers", False))
        self._cache = _PlanCache()

    def _output_size(self, x, size) -> tuple[int, int]:
        """(new_height, new_width) after checking the input's rank and the output's size."""
        if x.ndim != 4:
            raise ValueError(f"{self.OP} input must be 4-D (NHWC), got rank {x.ndim}")
        oh, ow = _size(size)
        check_allocation((x.shape[0], oh, ow, x.shape[3]), np.float64, self.OP)
        return oh, ow


class _Bilinear(_Resize):
    OP = "RESIZE_BILINEAR"

    def __init__(self, node):
        super().__init__(node)
        if self.align and self.half:
            raise ValueError("RESIZE_BILINEAR: if half_pixel_centers is True, align_corners must be False")
        self.ref = node.resolver == "BUILTIN_REF"


@register("RESIZE_NEAREST_NEIGHBOR")
class ResizeNearestNeighbor(_Resize):
    """Pure data movement: valid for every dtype, quantized ones included (scale is unchanged)."""
    OP = "RESIZE_NEAREST_NEIGHBOR"

    def __call__(self, x, size):
        oh, ow = self._output_size(x, size)
        key = (x.shape[1], x.shape[2], oh, ow)
        t = self._cache.get(key)
        if t is None:
            t = self._cache[key] = (nearest_indices(x.shape[1], oh, self.align, self.half),
                                    nearest_indices(x.shape[2], ow, self.align, self.half))
        iy, ix = t
        return x[:, iy][:, :, ix]


def _float_in(node):
    return node.inputs[0] is not None and node.inputs[0].type_name in ("FLOAT32", "FLOAT16")


def _int_in(node):
    return node.inputs[0] is not None and node.inputs[0].type_name in ("INT8", "UINT8", "INT16", "UINT16")


@register("RESIZE_BILINEAR", when=_float_in, types=("FLOAT32",))
class ResizeBilinear(_Bilinear):
    def __call__(self, x, size):
        oh, ow = self._output_size(x, size)
        xf = x if x.dtype == _F else x.astype(_F)
        h, w = x.shape[1], x.shape[2]
        if not self.ref and not self.align and not self.half and oh == 2 * h and ow == 2 * w:
            out = _upsample2x(xf)
        else:
            out = _bilinear_exact(xf, _float_plan(self._cache, h, w, oh, ow, self.align, self.half), self.ref)
        return out if x.dtype == _F else out.astype(x.dtype)


def _float_plan(cache, h, w, oh, ow, align, half):
    key = ("f", h, w, oh, ow)
    t = cache.get(key)
    if t is None:
        y0, y1, wy = bilinear_tables(h, oh, align, half)
        x0, x1, wx = bilinear_tables(w, ow, align, half)
        one = _F(1)
        wy, wy1 = wy[None, :, None, None], (one - wy)[None, :, None, None]
        wx, wx1 = wx[None, None, :, None], (one - wx)[None, None, :, None]
        # the optimized kernel multiplies by precomputed corner weights (float32 products)
        corners = (wy1 * wx1, wy1 * wx, wy * wx1, wy * wx)
        t = cache[key] = (y0, y1, x0, x1, wy, wy1, wx, wx1, corners)
    return t


def _bilinear_exact(x, plan, ref):
    """TFLite's float bilinear, same float32 operations in the same order: the reference kernel
    evaluates ``v00*(1-dy)*(1-dx) + v10*dy*(1-dx) + v01*(1-dy)*dx + v11*dy*dx`` left to right; the
    optimized one sums v00*w00 + v01*w01 + v10*w10 + v11*w11 with precomputed corner weights."""
    y0, y1, x0, x1, wy, wy1, wx, wx1, corners = plan
    rlo = np.take(x, y0, axis=1)
    rhi = np.take(x, y1, axis=1)
    if ref:
        terms = ((rlo, x0, (wy1, wx1)), (rhi, x0, (wy, wx1)), (rlo, x1, (wy1, wx)), (rhi, x1, (wy, wx)))
    else:
        w00, w01, w10, w11 = corners
        terms = ((rlo, x0, (w00,)), (rlo, x1, (w01,)), (rhi, x0, (w10,)), (rhi, x1, (w11,)))
    out = None
    for rows, cols, ws in terms:
        t = np.take(rows, cols, axis=2)
        for wgt in ws:
            t *= wgt
        if out is None:
            out = t
        else:
            out += t
    return out


def _upsample2x(x):
    """The optimized kernel's exact 2x upsampling (no corner alignment, no half-pixel centers):
    even/even copies, edges average two neighbours ((a + b) * 0.5, the last one paired with itself),
    centres ((tl + bl) + (tr + br)) * 0.25."""
    b, h, w, c = x.shape
    out = np.empty((b, h, 2, w, 2, c), _F)
    out[:, :, 0, :, 0] = x

    def pair_sum(v, axis):
        s = np.empty_like(v)
        lo = [slice(None)] * 4
        hi = [slice(None)] * 4
        last = [slice(None)] * 4
        lo[axis], hi[axis], last[axis] = slice(0, -1), slice(1, None), slice(-1, None)
        np.add(v[tuple(lo)], v[tuple(hi)], out=s[tuple(lo)])
        np.add(v[tuple(last)], v[tuple(last)], out=s[tuple(last)])
        return s

    np.multiply(pair_sum(x, 2), _F(0.5), out=out[:, :, 0, :, 1])
    vs = pair_sum(x, 1)                      # tl + bl
    np.multiply(vs, _F(0.5), out=out[:, :, 1, :, 0])
    np.multiply(pair_sum(vs, 2), _F(0.25), out=out[:, :, 1, :, 1])   # (tl + bl) + (tr + br)
    return out.reshape(b, 2 * h, 2 * w, c)


def _tables_10(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """TFLite's integer bilinear coordinates: 10 fractional bits, C integer division (truncating)."""
    if align_corners and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = ((1 << 10) * in_size + out_size // 2) // out_size
    v = np.arange(out_size, dtype=np.int64) * scale
    if half_pixel:
        v = v + scale // 2 - (1 << 9)
    lo = np.maximum(np.fix(v / 1024).astype(np.int64), 0)
    hi = np.minimum(np.fix((v + 1023) / 1024).astype(np.int64), in_size - 1)
    d = v - 1024 * lo
    return lo, hi, 1024 - d, d


@register("RESIZE_BILINEAR", when=_int_in, priority=5, types=("INT8", "UINT8", "INT16", "UINT16"))
class ResizeBilinearInteger(_Bilinear):
    """Integer inputs (quantized or not: the parameters play no part). int8/int16/uint16 use TFLite's
    fixed-point kernel (10-bit weights, products summed in int64, rounded half away from zero at 2^20);
    uint8 uses the float32 formula rounded with floor(v + 0.5), which is what LiteRT runs for it."""
    def __call__(self, x, size):
        oh, ow = self._output_size(x, size)
        if x.dtype == np.uint8:
            return self._uint8(x, oh, ow)
        key = (x.shape[1], x.shape[2], oh, ow)
        t = self._cache.get(key)
        if t is None:
            y0, y1, wy0, wy1 = _tables_10(x.shape[1], oh, self.align, self.half)
            x0, x1, wx0, wx1 = _tables_10(x.shape[2], ow, self.align, self.half)
            t = self._cache[key] = (y0, y1, wy0[:, None, None], wy1[:, None, None], x0, x1, wx0[:, None], wx1[:, None])
        y0, y1, wy0, wy1, x0, x1, wx0, wx1 = t
        xi = x.astype(np.int64)
        # the four-corner sum factors exactly (integers): rows first, then columns
        rows = xi[:, y0] * wy0
        rows += xi[:, y1] * wy1
        acc = rows[:, :, x0] * wx0
        acc += rows[:, :, x1] * wx1
        q = acc + np.where(acc > 0, 1 << 19, -(1 << 19))
        out = np.where(q >= 0, q >> 20, -((-q) >> 20))
        return out.astype(x.dtype)

    def _uint8(self, x, oh, ow):
        # LiteRT runs its float formulas (optimized or reference) on uint8 and rounds with floor(v + 0.5)
        plan = _float_plan(self._cache, x.shape[1], x.shape[2], oh, ow, self.align, self.half)
        o = _bilinear_exact(x.astype(_F), plan, self.ref)
        return np.floor(o + _F(0.5)).astype(np.uint8)
