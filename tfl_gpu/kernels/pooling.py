"""AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D (float32), TFLite semantics.

Padding as in TFLite's ComputePaddingHeightWidth; with SAME padding the padded cells are *excluded*:
averages (and L2's mean of squares) divide by the number of real input cells under the window, and the
max ignores them. The input is copied into a scratch buffer whose border holds the neutral value (0 for sums,
-inf for max, written once). Big windows that tile the input (stride == filter: global pools) reduce a
reshaped view; other windows are reduced separably (kh strided row slices along H, then kw along W).
"""
from __future__ import annotations

import numpy as np

from .conv import out_size_and_pad
from .registry import apply_activation, float_node, register


def float_pool_node(node) -> bool:
    return float_node(node) and bool(node.inputs) and node.inputs[0] is not None \
        and node.inputs[0].type_name == "FLOAT32"


def _counts(size, out, k, stride, pad):
    start = np.arange(out) * stride - pad
    return (np.minimum(start + k, size) - np.maximum(start, 0)).astype(np.float32)


class _Pool:
    kind = ""

    def __init__(self, node):
        o = node.options
        self.padding = o.get("padding", "SAME")
        self.sh = int(o.get("stride_h", 1))
        self.sw = int(o.get("stride_w", 1))
        self.kh = int(o.get("filter_height", 1))
        self.kw = int(o.get("filter_width", 1))
        if min(self.sh, self.sw, self.kh, self.kw) <= 0:
            raise ValueError(f"{node.name}: strides and filter size must be positive "
                             f"(stride {self.sh}x{self.sw}, filter {self.kh}x{self.kw})")
        self.act = o.get("fused_activation_function", "NONE")
        self._geo = {}

    def _geometry(self, x):
        key = x.shape
        g = self._geo.get(key)
        if g is not None:
            return g
        if len(self._geo) > 8:
            self._geo.clear()
        n, h, w, c = x.shape
        oh, pt, pb = out_size_and_pad(h, self.kh, self.sh, 1, self.padding)
        ow, pl, pr = out_size_and_pad(w, self.kw, self.sw, 1, self.padding)
        # LiteRT's ComputeOutSize truncates (in + stride - k) / stride toward zero: a numerator in
        # (-stride, 0] gives an empty output, not an error
        if oh < 0 and h + self.sh - self.kh > -self.sh:
            oh = 0
        if ow < 0 and w + self.sw - self.kw > -self.sw:
            ow = 0
        if oh < 0 or ow < 0:
            raise ValueError(f"pool input {h}x{w} is smaller than the {self.kh}x{self.kw} filter")
        if oh == 0 or ow == 0:
            g = self._geo[key] = (oh, ow, 0, 0, None, None)
            return g
        # the taps reach at most (o-1)*s + k cells: make the buffer that big (pads differ only at the end)
        hp = max(h + pt, (oh - 1) * self.sh + self.kh)
        wp = max(w + pl, (ow - 1) * self.sw + self.kw)
        fill = -np.inf if self.kind == "max" else 0.0
        buf = None
        if (pt, pl) != (0, 0) or hp != h or wp != w:
            buf = np.full((n, hp, wp, c), fill, np.float32)
        inv = None
        if self.kind != "max":
            cnt = np.outer(_counts(h, oh, self.kh, self.sh, pt), _counts(w, ow, self.kw, self.sw, pl))
            inv = (1.0 / np.maximum(cnt, 1)).astype(np.float32)[None, :, :, None]
        g = self._geo[key] = (oh, ow, pt, pl, buf, inv)
        return g

    def _source(self, x):
        oh, ow, pt, pl, buf, inv = self._geometry(x)
        if buf is not None:
            buf[:, pt:pt + x.shape[1], pl:pl + x.shape[2], :] = x
            return buf, oh, ow, inv
        return x, oh, ow, inv

    def __call__(self, x):
        if x.ndim != 4:
            raise ValueError(f"pooling input must be 4-D NHWC, got shape {list(x.shape)}")
        if x.dtype != np.float32:
            x = x.astype(np.float32)
        src, oh, ow, inv = self._source(x)
        if oh == 0 or ow == 0:
            return np.zeros((x.shape[0], oh, ow, x.shape[3]), np.float32)
        if self.kind == "l2":
            src = src * src
        kh, kw, sh, sw = self.kh, self.kw, self.sh, self.sw
        combine = np.maximum if self.kind == "max" else np.add
        if sh == kh and sw == kw and kh * kw > 9:
            # big windows that tile the (padded) input (global pools): reduce the kh rows of each window
            # band with long contiguous inner loops, then the kw columns
            n, c = src.shape[0], src.shape[3]
            v = src[:, :oh * kh, :ow * kw, :].reshape(n, oh, kh, ow * kw * c)
            r = combine.reduce(v, axis=2).reshape(n, oh, ow, kw, c)
            y = np.ascontiguousarray(combine.reduce(r, axis=3), dtype=np.float32)
        else:
            # rectangular windows are separable: kh taps along H first (whole contiguous rows of W * C
            # values), then kw taps along W; the first combine of each stage writes a new array
            he, we = (oh - 1) * sh + 1, (ow - 1) * sw + 1
            if kh == 1:
                r = src[:, 0:he:sh]                     # a view: not written below
            else:
                r = combine(src[:, 0:he:sh], src[:, 1:1 + he:sh])
                for i in range(2, kh):
                    combine(r, src[:, i:i + he:sh], out=r)
            if kw == 1:
                y = np.array(r[:, :, 0:we:sw], dtype=np.float32, copy=True)
            else:
                y = combine(r[:, :, 0:we:sw], r[:, :, 1:1 + we:sw])
                for j in range(2, kw):
                    combine(y, r[:, :, j:j + we:sw], out=y)
        if inv is not None:
            y *= inv
        if self.kind == "l2":
            np.sqrt(y, out=y)
        return apply_activation(y, self.act)


@register("MAX_POOL_2D", when=float_pool_node, types=("FLOAT32",))
class MaxPool2D(_Pool):
    kind = "max"


@register("AVERAGE_POOL_2D", when=float_pool_node, types=("FLOAT32",))
class AveragePool2D(_Pool):
    kind = "avg"


@register("L2_POOL_2D", when=float_pool_node, types=("FLOAT32",))
class L2Pool2D(_Pool):
    kind = "l2"
