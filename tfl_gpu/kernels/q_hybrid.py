"""Hybrid (dynamic-range) kernels: float activations, int8 weights, float outputs.

Each batch row of the input is quantized on the fly to int8, symmetrically (scale = max|x| / 127) or,
with ``asymmetric_quantize_inputs``, with a nudged zero point; the integer dot products with the int8
weights are exact; each result is ``bias + dot * (input_scale * weight_scale)`` in float32, then the
fused activation.
"""
from __future__ import annotations

import numpy as np

from .. import quant as Q
from .registry import apply_activation, is_quantized, register


def _round_rows(v: np.ndarray) -> np.ndarray:
    """LiteRT's vectorized asymmetric input quantization (NEON code, emulated on x86): the first
    size // 8 * 8 values of each row round as floor(v + 0.5f) (halves up), the tail by std::round
    (halves away from zero). (Its symmetric quantization rounds halves away everywhere.)"""
    v = np.asarray(v, np.float64)
    n = v.shape[-1] // 8 * 8
    out = Q.round_half_away(v)
    if n:
        out[..., :n] = np.floor((v[..., :n].astype(np.float32) + np.float32(0.5)).astype(np.float64))
    return out


def symmetric_quantize_rows(x2: np.ndarray):
    """(int8-valued int64 rows, float32 scaling factors) as LiteRT's SymmetricQuantizeFloats."""
    x2 = np.asarray(x2, np.float32)
    rng = np.maximum(np.abs(x2.min(axis=1)), np.abs(x2.max(axis=1))) if x2.shape[1] else np.zeros(len(x2), np.float32)
    rng = rng.astype(np.float32)
    zero = rng == 0
    safe = np.where(zero, np.float32(1), rng)
    scale = np.where(zero, np.float32(1), safe / np.float32(127)).astype(np.float32)
    inv = (np.float32(127) / safe).astype(np.float32)
    q = Q.round_half_away((x2 * inv[:, None]).astype(np.float64))
    q = np.clip(q, -127, 127).astype(np.int64)
    q[zero] = 0
    return q, scale, np.zeros(len(x2), np.int64)


def asymmetric_quantize_rows(x2: np.ndarray):
    """(int8-valued rows, float32 scaling factors, int offsets) as LiteRT's AsymmetricQuantizeFloats."""
    x2 = np.asarray(x2, np.float32)
    n = len(x2)
    q = np.zeros(x2.shape, np.int64)
    scales = np.ones(n, np.float32)
    offsets = np.zeros(n, np.int64)
    for b in range(n):
        row = x2[b]
        rmin = float(min(np.float32(0), row.min())) if row.size else 0.0
        rmax = float(max(np.float32(0), row.max())) if row.size else 0.0
        if rmin == rmax:
            continue
        # rmax - rmin is a float subtraction; the division is in double
        scale = float(np.float32(np.float32(rmax) - np.float32(rmin))) / 255.0
        zp_min = -128.0 - rmin / scale
        zp_max = 127.0 - rmax / scale
        err_min = 128.0 + abs(rmin / scale)
        err_max = 127.0 + abs(rmax / scale)
        zpd = zp_min if err_min < err_max else zp_max
        if zpd <= -128:
            zp = -128
        elif zpd >= 127:
            zp = 127
        else:
            zp = int(Q.round_half_away(zpd))
        scales[b] = np.float32(scale)
        offsets[b] = zp
        # 1.0 / (float)scale in double, then converted to float
        inv = np.float32(1.0 / float(np.float32(scale)))
        v = (row * inv + np.float32(zp)).astype(np.float64)
        q[b] = np.clip(_round_rows(v), -128, 127)
    return q, scales, offsets


def hybrid_node(node) -> bool:
    if len(node.inputs) < 2 or node.inputs[1] is None:
        return False
    x, w = node.inputs[0], node.inputs[1]
    return (x is not None and x.type_name == "FLOAT32" and w.type_name in ("INT8", "INT4") and is_quantized(w)
            and node.outputs[0].type_name == "FLOAT32")


@register("FULLY_CONNECTED", when=hybrid_node, priority=10, types=("FLOAT32 x INT8 (hybrid)",))
class HybridFullyConnected:
    def __init__(self, node):
        o = node.options
        w_t = node.inputs[1]
        w = node.const(1)
        if w is None:
            raise ValueError("hybrid FULLY_CONNECTED needs constant int8 weights")
        w = np.asarray(w).reshape(w.shape[0], -1).astype(np.int64)
        self.units, self.depth = w.shape
        self.gemm = Q.IntGemm(w, 128)
        self.rowsum = w.sum(axis=1)
        wq = w_t.quantization
        self.per_channel = wq.per_axis
        self.wscale = wq.scales.astype(np.float32) if wq.per_axis else np.float32(wq.scale)
        self.asym = bool(o.get("asymmetric_quantize_inputs", False))
        self.keep_dims = bool(o.get("keep_num_dims", False))
        self.act = o.get("fused_activation_function", "NONE")

    def __call__(self, x, w=None, b=None):
        x2 = np.asarray(x, np.float32).reshape(-1, self.depth)
        if self.asym:
            q, sf, off = asymmetric_quantize_rows(x2)
        else:
            q, sf, off = symmetric_quantize_rows(x2)
        dot = self.gemm(q)                                        # exact int sums
        if np.any(off):
            dot = dot - off[:, None] * self.rowsum[None, :]
        if self.per_channel:
            scale = (sf[:, None] * self.wscale[None, :]).astype(np.float32)
        else:
            scale = (sf * self.wscale).astype(np.float32)[:, None]
        y = (Q._wrap32(dot).astype(np.float32) * scale).astype(np.float32)
        if b is not None:
            y = (np.asarray(b, np.float32)[None, :] + y).astype(np.float32)
        y = apply_activation(y, self.act)
        if self.keep_dims:
            return y.reshape(tuple(x.shape[:-1]) + (self.units,))
        return y


def _quantize_image(x, asym: bool):
    """Per-batch quantization of a whole NHWC image (LiteRT's hybrid conv)."""
    n = x.shape[0]
    flat = np.asarray(x, np.float32).reshape(n, int(np.prod(x.shape[1:])))
    if asym:
        q, sf, off = asymmetric_quantize_rows(flat)
    else:
        q, sf, off = symmetric_quantize_rows(flat)
    return q.reshape(x.shape), sf, off


@register("CONV_2D", when=hybrid_node, priority=10, types=("FLOAT32 x INT8 (hybrid)",))
class HybridConv2D:
    """Per-channel int8 filters: asymmetric per-image input quantization, acc * filter_scale * input_scale
    + bias. Per-tensor filters: symmetric quantization, acc * (input_scale * filter_scale) + bias."""

    def __init__(self, node):
        from .q_conv import conv_geometry, pad_input
        self._geom, self._pad = conv_geometry, pad_input
        o = node.options
        w = node.const(1)
        if w is None:
            raise ValueError("hybrid CONV_2D needs constant int8 weights")
        w = np.asarray(w).astype(np.int64)
        self.oc, self.kh, self.kw, self.ic = w.shape
        self.gemm = Q.IntGemm(w.reshape(self.oc, -1), 128)
        wq = node.inputs[1].quantization
        self.per_channel = wq.per_axis
        self.wscale = wq.scales.astype(np.float32) if wq.per_axis else np.float32(wq.scale)
        self.padding = o.get("padding", "SAME")
        self.sh, self.sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        self.dh, self.dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
        self.act = o.get("fused_activation_function", "NONE")
        self.ref = node.resolver == "BUILTIN_REF"

    def __call__(self, x, w=None, b=None):
        n, h, wd, c = x.shape
        q, sf, off = _quantize_image(x, self.per_channel)
        oh, ow, pt, pl = self._geom(h, wd, self.kh, self.kw, self.sh, self.sw, self.dh, self.dw, self.padding)
        need_h = (oh - 1) * self.sh + (self.kh - 1) * self.dh + 1
        need_w = (ow - 1) * self.sw + (self.kw - 1) * self.dw + 1
        g = self.gemm
        outs = []
        for bi in range(n):
            # subtracting the offset first makes padded taps contribute nothing
            xc = q[bi:bi + 1] - off[bi]
            xp = self._pad(xc, 0, pt, pl, need_h, need_w)
            patches = np.empty((1, oh, ow, self.kh, self.kw, c), g.dtype)
            for i in range(self.kh):
                for j in range(self.kw):
                    patches[:, :, :, i, j, :] = xp[:, i * self.dh:i * self.dh + (oh - 1) * self.sh + 1:self.sh,
                                                   j * self.dw:j * self.dw + (ow - 1) * self.sw + 1:self.sw, :]
            acc = (patches.reshape(oh * ow, -1) @ g.wt).astype(np.int64)
            accf = Q._wrap32(acc).astype(np.float32)
            if self.per_channel and self.ref:
                # reference kernel: (acc * filter_scale) * input_scale
                y = (accf * self.wscale[None, :]).astype(np.float32) * sf[bi]
            elif self.per_channel:
                # optimized kernel: acc * (input_scale * filter_scale)
                y = accf * (sf[bi] * self.wscale[None, :]).astype(np.float32)
            else:
                y = accf * np.float32(sf[bi] * self.wscale)
            y = y.astype(np.float32)
            if b is not None:
                y = (y + np.asarray(b, np.float32)[None, :]).astype(np.float32)
            outs.append(y.reshape(oh, ow, self.oc))
        if not outs:
            return np.zeros((0, oh, ow, self.oc), np.float32)
        out = np.stack(outs).astype(np.float32)
        return apply_activation(out, self.act)


@register("DEPTHWISE_CONV_2D", when=hybrid_node, priority=10, types=("FLOAT32 x INT8 (hybrid)",))
class HybridDepthwiseConv2D:
    """Per-image asymmetric input quantization, integer depthwise sums, acc * (filter_scale * input_scale)
    + bias, float activation."""

    def __init__(self, node):
        from .q_conv import conv_geometry, pad_input
        self._geom, self._pad = conv_geometry, pad_input
        o = node.options
        w = node.const(1)
        if w is None:
            raise ValueError("hybrid DEPTHWISE_CONV_2D needs constant int8 weights")
        self.w = np.asarray(w).astype(np.int64)[0]         # [kh, kw, oc]
        self.kh, self.kw, self.oc = self.w.shape
        wq = node.inputs[1].quantization
        self.wscale = (wq.scales if wq.per_axis else np.repeat(wq.scales[:1], self.oc)).astype(np.float32)
        self.mult = int(o.get("depth_multiplier", 1) or 1)
        self.padding = o.get("padding", "SAME")
        self.sh, self.sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        self.dh, self.dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
        self.act = o.get("fused_activation_function", "NONE")
        self.ref = node.resolver == "BUILTIN_REF"

    def __call__(self, x, w=None, b=None):
        n, h, wd, c = x.shape
        mult = self.oc // c if c and self.oc % c == 0 else self.mult
        q, sf, off = _quantize_image(x, True)
        oh, ow, pt, pl = self._geom(h, wd, self.kh, self.kw, self.sh, self.sw, self.dh, self.dw, self.padding)
        need_h = (oh - 1) * self.sh + (self.kh - 1) * self.dh + 1
        need_w = (ow - 1) * self.sw + (self.kw - 1) * self.dw + 1
        xc = q - off.reshape(-1, 1, 1, 1)
        xp = self._pad(xc, 0, pt, pl, need_h, need_w)
        if mult > 1:
            xp = np.repeat(xp, mult, axis=3)
        acc = np.zeros((n, oh, ow, self.oc), np.int64)
        for i in range(self.kh):
            for j in range(self.kw):
                acc += xp[:, i * self.dh:i * self.dh + (oh - 1) * self.sh + 1:self.sh,
                          j * self.dw:j * self.dw + (ow - 1) * self.sw + 1:self.sw, :] * self.w[i, j]
        accf = Q._wrap32(acc).astype(np.float32)
        if self.ref:
            # reference: acc * (filter_scale * input_scale)
            scale = (self.wscale[None, :] * sf[:, None]).astype(np.float32)        # [n, oc]
            y = (accf * scale[:, None, None, :]).astype(np.float32)
        else:
            # optimized: (acc * filter_scale) * input_scale on blocks of 4 channels, and
            # (acc * input_scale) * filter_scale on the remaining channels
            sb = sf.reshape(-1, 1, 1, 1)
            t = self.oc // 4 * 4
            y = np.empty(accf.shape, np.float32)
            y[..., :t] = (accf[..., :t] * self.wscale[:t]).astype(np.float32) * sb
            y[..., t:] = (accf[..., t:] * sb).astype(np.float32) * self.wscale[t:]
        if b is not None:
            y = (y + np.asarray(b, np.float32)).astype(np.float32)
        return apply_activation(y, self.act)


def hybrid_bmm_node(node) -> bool:
    if len(node.inputs) < 2 or node.inputs[1] is None:
        return False
    x, w = node.inputs[0], node.inputs[1]
    return (x is not None and x.type_name == "FLOAT32" and w.type_name == "INT8" and is_quantized(w)
            and node.outputs[0].type_name == "FLOAT32")


@register("BATCH_MATMUL", when=hybrid_bmm_node, priority=10, types=("FLOAT32 x INT8 (hybrid)",))
class HybridBatchMatMul:
    """Rows of the float LHS are quantized one by one; out = scale_row (* channel scale) * (dot - offset *
    column sum of the int8 RHS)."""

    def __init__(self, node):
        o = node.options
        self.adj_x = bool(o.get("adj_x", False))
        self.adj_y = bool(o.get("adj_y", False))
        self.asym = bool(o.get("asymmetric_quantize_inputs", False))
        wq = node.inputs[1].quantization
        self.per_channel = wq.per_axis
        self.wscales = wq.scales.astype(np.float32)

    def __call__(self, x, w):
        xv = np.asarray(x, np.float32)
        if self.adj_x:
            xv = np.swapaxes(xv, -1, -2)
        wv = np.asarray(w).astype(np.int64)
        if self.adj_y:
            wv = np.swapaxes(wv, -1, -2)                      # [..., K, N]
        k = xv.shape[-1]
        rows = xv.reshape(-1, k)
        q, sf, off = (asymmetric_quantize_rows if self.asym else symmetric_quantize_rows)(rows)
        qx = q.reshape(xv.shape).astype(np.float64)
        dot = np.matmul(qx, wv.astype(np.float64)).astype(np.int64)          # exact
        colsum = wv.sum(axis=-2, keepdims=True)                              # [..., 1, N]
        offs = off.reshape(xv.shape[:-1] + (1,))
        total = Q._wrap32(dot - offs * colsum).astype(np.float32)
        sfr = sf.reshape(xv.shape[:-1] + (1,))
        if self.per_channel:
            scale = (sfr * self.wscales).astype(np.float32)
        else:
            scale = (sfr * self.wscales[0]).astype(np.float32)
        return (scale * total).astype(np.float32)
