"""CONV_3D and CONV_3D_TRANSPOSE (float32, NDHWC)."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..limits import check_allocation
from .registry import apply_activation, float_node, register


def _out_and_pad(size: int, k: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    """TFLite's output size and leading padding for one spatial dimension."""
    ek = (k - 1) * dilation + 1
    if padding == "SAME":
        out = (size + stride - 1) // stride
    else:
        out = (size - ek + stride) // stride
    out = max(out, 0)
    pad = max(((out - 1) * stride + ek - size) // 2, 0)
    return out, pad


def _positive(opts, name):
    v = int(opts.get(name, 1))
    if v <= 0:
        raise ValueError(f"{name} must be positive, got {v}")
    return v


class _Conv3DOptions:
    def __init__(self, node):
        o = node.options
        self.padding = o.get("padding", "SAME")
        self.strides = tuple(_positive(o, f"stride_{a}") for a in "dhw")
        self.dilations = tuple(_positive(o, f"dilation_{a}_factor") for a in "dhw")
        self.act = o.get("fused_activation_function", "NONE")


@register("CONV_3D", when=float_node, types=("FLOAT32",))
class Conv3D(_Conv3DOptions):
    """Filter layout [kd, kh, kw, in_c, out_c]."""

    def __call__(self, x, w, b=None):
        if x.ndim != 5 or w.ndim != 5:
            raise ValueError(f"CONV_3D takes a 5-D input and filter, got {list(x.shape)} and {list(w.shape)}")
        n, d, h, wd, c = x.shape
        kd, kh, kw, ci, co = w.shape
        if c != ci:
            raise ValueError(f"CONV_3D: input has {c} channels, the filter expects {ci}")
        geo = [_out_and_pad(s, k, st, dl, self.padding)
               for s, k, st, dl in zip((d, h, wd), (kd, kh, kw), self.strides, self.dilations)]
        pads = [(0, 0)]
        for (out, pad), s, k, st, dl in zip(geo, (d, h, wd), (kd, kh, kw), self.strides, self.dilations):
            need = (out - 1) * st + (k - 1) * dl + 1 if out > 0 else 0
            pads.append((pad, max(need - s - pad, 0)))
        pads.append((0, 0))
        xp = np.pad(np.asarray(x, np.float32), pads)
        win = sliding_window_view(xp, ((kd - 1) * self.dilations[0] + 1, (kh - 1) * self.dilations[1] + 1,
                                       (kw - 1) * self.dilations[2] + 1), axis=(1, 2, 3))
        sd, sh, sw = self.strides
        dd, dh, dw = self.dilations
        (od, _), (oh, _), (ow, _) = geo
        win = win[:, :od * sd:sd, :oh * sh:sh, :ow * sw:sw, :, ::dd, ::dh, ::dw]
        # win: [n, od, oh, ow, c, kd, kh, kw] -> contract (kd, kh, kw, c) with the filter
        y = np.tensordot(win, np.asarray(w, np.float32), axes=([5, 6, 7, 4], [0, 1, 2, 3]))
        y = np.ascontiguousarray(y, dtype=np.float32)
        if b is not None:
            y += np.asarray(b, np.float32)
        return apply_activation(y, self.act)


@register("CONV_3D_TRANSPOSE", when=float_node, types=("FLOAT32",))
class Conv3DTranspose(_Conv3DOptions):
    """Inputs: output_shape [5], filter [kd, kh, kw, out_c, in_c], input NDHWC, optional bias."""

    def __call__(self, out_shape, w, x, b=None):
        shp = [int(v) for v in np.asarray(out_shape).reshape(-1)]
        if len(shp) != 5 or x.ndim != 5 or w.ndim != 5:
            raise ValueError("CONV_3D_TRANSPOSE takes a 5-value output shape, a 5-D filter and a 5-D input")
        n, d, h, wd, c = x.shape
        kd, kh, kw, co, ci = w.shape
        if c != ci or shp[0] != n or shp[4] != co or min(shp) < 0:
            raise ValueError(f"CONV_3D_TRANSPOSE: output shape {shp}, filter {list(w.shape)} and input "
                             f"{list(x.shape)} do not agree")
        check_allocation(shp, np.float32, "CONV_3D_TRANSPOSE output")
        dd, dh, dw = self.dilations
        sd, sh, sw = self.strides
        ks = ((kd - 1) * dd + 1, (kh - 1) * dh + 1, (kw - 1) * dw + 1)
        # the transposed conv undoes a conv from shp to x: its leading padding is that conv's
        pads = [max(((i - 1) * s + k - o) // 2, 0) if self.padding == "SAME" else 0
                for i, k, s, o in zip((d, h, wd), ks, (sd, sh, sw), shp[1:4])]
        full = [max((i - 1) * s + k, p + o) for i, s, k, p, o in zip((d, h, wd), (sd, sh, sw), ks, pads, shp[1:4])]
        acc = np.zeros((n, *full, co), np.float32)
        contrib = np.tensordot(np.asarray(x, np.float32), np.asarray(w, np.float32), axes=([4], [4]))
        # contrib: [n, d, h, w, kd, kh, kw, co]
        for i in range(kd):
            for j in range(kh):
                for k in range(kw):
                    acc[:, i * dd:i * dd + (d - 1) * sd + 1:sd, j * dh:j * dh + (h - 1) * sh + 1:sh,
                        k * dw:k * dw + (wd - 1) * sw + 1:sw, :] += contrib[:, :, :, :, i, j, k, :]
        y = acc[:, pads[0]:pads[0] + shp[1], pads[1]:pads[1] + shp[2], pads[2]:pads[2] + shp[3], :]
        y = np.ascontiguousarray(y)
        if b is not None:
            y += np.asarray(b, np.float32)
        return apply_activation(y, self.act)
