"""Quantized MEAN and SUM (int8, uint8, int16).

Two algorithms, as in LiteRT:
* the general one (reference kernels, and every case but one in the optimized kernels): the integer sum
  minus zero point * count, rescaled by the input/output multiplier whose fixed-point value absorbs
  1/count (``(multiplier << s) // count``, ``s = floor(log2(count))`` capped);
* the optimized 4-D spatial mean (axis = {1, 2}, keep_dims, int8/uint8): the raw sum times a multiplier
  computed in float32 as in_scale / (count * out_scale), plus a float-rounded zero-point bias; its
  16-channel vector blocks round the final shift's halves up.
"""
from __future__ import annotations

import numpy as np

from .. import quant as Q
from .registry import is_quantized, register


def q_reduce_node(node) -> bool:
    return is_quantized(node.inputs[0]) and is_quantized(node.outputs[0])


def _axes(axis, ndim):
    ax = sorted({int(a) % ndim for a in np.ravel(axis)}) if ndim else []
    return tuple(ax)


class _QReduce:
    compute_sum = False

    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        self.keep = bool(node.options.get("keep_dims", False))
        self.zi, self.zo = i.quantization.zero_point, o.quantization.zero_point
        self.si, self.so = np.float32(i.quantization.scale), np.float32(o.quantization.scale)
        self.q, self.shift = Q.quantize_multiplier(float(self.si) / float(self.so))
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.dtype = o.dtype
        self.type_name = i.type_name
        self.optimized = node.resolver != "BUILTIN_REF"
        self.threads = 1

    def __call__(self, x, axis):
        axes = _axes(axis, x.ndim)
        if x.size == 0:
            shape = tuple(1 if d in axes else s for d, s in enumerate(x.shape)) if self.keep else \
                tuple(s for d, s in enumerate(x.shape) if d not in axes)
            return np.zeros(shape, self.dtype)
        if (not self.compute_sum and self.optimized and self.keep and x.ndim == 4 and axes == (1, 2)
                and self.type_name in ("INT8", "UINT8")):
            return self._spatial_mean(x)
        s = x.astype(np.int64).sum(axis=axes, keepdims=self.keep)
        n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        if self.compute_sum and self.optimized:
            # optimized SUM: float32 arithmetic, round half away from zero
            scale = np.float32(self.si / self.so)
            bias = np.float32(np.float32(np.float32(-self.zi) * scale) * np.float32(n))
            v = (Q._wrap32(s).astype(np.float32) * scale + bias).astype(np.float64)
            r = Q.round_half_away(v).astype(np.int64) + self.zo
            return np.clip(r, self.lo, self.hi).astype(self.dtype)
        q, shift = self.q, self.shift
        if not self.compute_sum:
            sh = n.bit_length() - 1
            sh = min(sh, 32, 31 + shift)
            q = (q << sh) // n
            shift = shift - sh
        acc = Q._wrap32(s - self.zi * n)
        r = Q.multiply_by_quantized_multiplier(acc, q, shift) + self.zo
        return np.clip(r, self.lo, self.hi).astype(self.dtype)

    def _spatial_mean(self, x):
        n_b, h, w, depth = x.shape
        count = np.float32(h * w)
        temp = np.float32(np.float32(self.zi) * self.si / self.so)
        temp = temp + np.float32(0.5) if temp > 0 else temp - np.float32(0.5)
        bias = self.zo - int(temp)
        real_scale = np.float32(self.si / np.float32(count * self.so))
        q, shift = Q.quantize_multiplier(float(real_scale))
        s = x.astype(np.int64).sum(axis=(1, 2), keepdims=True)
        r = Q.multiply_by_quantized_multiplier(s, q, shift)
        if True:
            vec = self._vector_channels(depth)
            if vec.any():
                r[..., vec] = Q.multiply_by_quantized_multiplier_up(s[..., vec], q, shift)
        r = r + bias
        return np.clip(r, self.lo, self.hi).astype(self.dtype)

    def _vector_channels(self, depth):
        """Channels handled by the 16-wide vector loop, per thread range of the depth split."""
        t = max(1, min(depth // 8, self.threads))
        mask = np.zeros(depth, bool)
        start = 0
        for k in range(t):
            end = start + (depth - start) // (t - k)
            nv = (end - start) // 16 * 16
            mask[start:start + nv] = True
            start = end
        return mask


@register("MEAN", when=q_reduce_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QMean(_QReduce):
    compute_sum = False


@register("SUM", when=q_reduce_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QSum(_QReduce):
    compute_sum = True
