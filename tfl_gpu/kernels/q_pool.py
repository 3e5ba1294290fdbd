"""Quantized AVERAGE_POOL_2D / MAX_POOL_2D (int8, uint8, int16).

Windows are clipped to the input (padding never counts): average pool divides the window sum by the
number of valid taps rounding half away from zero with C's truncating integer division.
"""
from __future__ import annotations

import numpy as np

from .. import quant as Q
from .q_conv import conv_geometry
from .registry import is_quantized, register


def q_pool_node(node) -> bool:
    return is_quantized(node.inputs[0]) and is_quantized(node.outputs[0])


class _QPool:
    def __init__(self, node):
        o = node.options
        self.padding = o.get("padding", "SAME")
        self.sh, self.sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        self.fh, self.fw = int(o.get("filter_height", 1)), int(o.get("filter_width", 1))
        out = node.outputs[0]
        act = o.get("fused_activation_function", "NONE")
        self.lo, self.hi = Q.activation_range(act, out.quantization.scale, out.quantization.zero_point,
                                              out.type_name)
        self.dtype = out.dtype

    def windows(self, x):
        """Yields (i, j, slice of valid taps) for the pooled output; returns geometry too."""
        n, h, w, c = x.shape
        oh, ow, pt, pl = conv_geometry(h, w, self.fh, self.fw, self.sh, self.sw, 1, 1, self.padding)
        return oh, ow, pt, pl


@register("AVERAGE_POOL_2D", when=q_pool_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QAveragePool(_QPool):
    def __call__(self, x):
        n, h, w, c = x.shape
        oh, ow, pt, pl = self.windows(x)
        xi = x.astype(np.int64)
        # window sums via a zero-padded cumulative sum; counts from the clipped window extents
        hs = np.arange(oh) * self.sh - pt
        ws = np.arange(ow) * self.sw - pl
        h0, h1 = np.clip(hs, 0, h), np.clip(hs + self.fh, 0, h)
        w0, w1 = np.clip(ws, 0, w), np.clip(ws + self.fw, 0, w)
        cs = np.zeros((n, h + 1, w + 1, c), np.int64)
        cs[:, 1:, 1:, :] = xi.cumsum(1).cumsum(2)
        s = (cs[:, h1][:, :, w1] - cs[:, h0][:, :, w1] - cs[:, h1][:, :, w0] + cs[:, h0][:, :, w0])
        cnt = ((h1 - h0)[:, None] * (w1 - w0)[None, :]).reshape(1, oh, ow, 1)
        if np.any(cnt == 0):
            raise ValueError("AVERAGE_POOL_2D window with no valid input")
        half = cnt // 2
        num = np.where(s > 0, s + half, s - half)
        avg = np.sign(num) * (np.abs(num) // cnt)           # C truncating division
        np.clip(avg, self.lo, self.hi, out=avg)
        return avg.astype(self.dtype)


@register("MAX_POOL_2D", when=q_pool_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QMaxPool(_QPool):
    def __call__(self, x):
        n, h, w, c = x.shape
        oh, ow, pt, pl = self.windows(x)
        if oh == 0 or ow == 0:      # a VALID window wider than the input: an empty output, as in LiteRT
            return np.zeros((n, oh, ow, c), self.dtype)
        lo = np.iinfo(x.dtype).min
        need_h = (oh - 1) * self.sh + self.fh
        need_w = (ow - 1) * self.sw + self.fw
        xp = np.full((n, max(need_h, h + pt), max(need_w, w + pl), c), lo, x.dtype)
        xp[:, pt:pt + h, pl:pl + w] = x
        out = None
        for i in range(self.fh):
            for j in range(self.fw):
                v = xp[:, i:i + (oh - 1) * self.sh + 1:self.sh, j:j + (ow - 1) * self.sw + 1:self.sw]
                out = v.copy() if out is None else np.maximum(out, v, out=out)
        out = np.clip(out.astype(np.int64), self.lo, self.hi)
        return out.astype(self.dtype)
