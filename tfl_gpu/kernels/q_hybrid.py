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
        v = (np.float32(zp) + row * inv).astype(np.float64)
        q[b] = np.clip(Q.round_half_away(v), -128, 127)
    return q, scales, offsets


def hybrid_node(node) -> bool:
    if len(node.inputs) < 2 or node.inputs[1] is None:
        return False
    x, w = node.inputs[0], node.inputs[1]
    return (x is not None and x.type_name == "FLOAT32" and w.type_name == "INT8" and is_quantized(w)
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
