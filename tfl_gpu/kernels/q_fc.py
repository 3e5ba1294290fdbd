"""Quantized FULLY_CONNECTED: int8 / uint8 / int16x8, per-tensor and per-channel weights, int32/int64 bias.

acc = sum_k (x - x_zp) * (w - w_zp) + bias, requantized with the per-channel (or per-tensor) fixed-point
multiplier, plus the output zero point, clamped to the fused activation's integer range. The GEMM runs in
float BLAS (exact, see quant.IntGemm); weight sums are precomputed so the input zero point is one
rank-1 correction.
"""
from __future__ import annotations

import numpy as np

from .. import quant as Q
from .registry import is_quantized, register


def q_fc_node(node) -> bool:
    if len(node.inputs) < 2 or node.inputs[1] is None:
        return False
    x, w, o = node.inputs[0], node.inputs[1], node.outputs[0]
    return is_quantized(x) and is_quantized(w) and is_quantized(o)


def filter_multipliers(node, x_t, w_t, o_t, n_channels):
    """Per output channel (q, shift): per-tensor filters use the float32 scale product
    (GetQuantizedConvolutionMultipler), per-channel filters the all-double product."""
    wq = w_t.quantization
    if wq.per_axis:
        ms = [Q.conv_multiplier_f64(x_t.quantization.scale, s, o_t.quantization.scale) for s in wq.scales]
    else:
        ms = [Q.conv_multiplier_f32(x_t.quantization.scale, wq.scale, o_t.quantization.scale)] * n_channels
    return Q.quantize_multipliers(np.asarray(ms))


@register("FULLY_CONNECTED", when=q_fc_node, priority=10,
          types=("INT8", "UINT8", "INT16x8", "INT8 per-channel"))
class QFullyConnected:
    def __init__(self, node):
        o = node.options
        x_t, w_t, o_t = node.inputs[0], node.inputs[1], node.outputs[0]
        self.keep_dims = bool(o.get("keep_num_dims", False))
        act = o.get("fused_activation_function", "NONE")
        self.lo, self.hi = Q.activation_range(act, o_t.quantization.scale, o_t.quantization.zero_point,
                                              o_t.type_name)
        self.x_zp = x_t.quantization.zero_point
        self.out_zp = o_t.quantization.zero_point
        self.dtype = o_t.dtype
        self.x_max = Q.TYPE_ABS_MAX[x_t.type_name]
        self.w_t = w_t
        self.int16 = x_t.type_name == "INT16"
        self.ref = node.resolver == "BUILTIN_REF"
        w = node.const(1)
        self.gemm = None
        if w is not None:
            self._prepare(w)
        self.q = self.shift = None
        self.node = node

    def _prepare(self, w):
        w = np.asarray(w)
        if w.ndim != 2:
            w = w.reshape(w.shape[0], -1)
        wq = self.w_t.quantization
        if wq.per_axis:
            wzp = wq.zero_points.astype(np.int64).reshape(-1, 1)
        else:
            wzp = np.int64(wq.zero_point)
        self.gemm = Q.IntGemm(w.astype(np.int64) - wzp, self.x_max)

    def __call__(self, x, w, b=None):
        if self.gemm is None or self.node.const(1) is None:
            self._prepare(w)
        g = self.gemm
        if self.q is None:
            n = self.node
            self.q, self.shift = filter_multipliers(n, n.inputs[0], self.w_t, n.outputs[0], g.n)
            xs = float(np.float32(n.inputs[0].quantization.scale))
            os_ = float(np.float32(n.outputs[0].quantization.scale))
            ws = self.w_t.quantization.scales.astype(np.float64)
            if ws.size == 1:
                ws = np.repeat(ws, g.n)
            self.eff = xs * ws / os_
        depth = g.k
        if x.size % depth:
            raise ValueError(f"FULLY_CONNECTED input of shape {list(x.shape)} does not divide into rows of "
                             f"depth {depth}")
        x2 = x.reshape(-1, depth)
        acc = g(x2)
        if self.x_zp:
            acc -= self.x_zp * g.wsum
        if b is not None:
            acc += b.astype(np.int64)
        if self.int16 or self.ref:
            # LiteRT's reference kernel (and its int16 kernel) scales in double: round(acc * scale)
            r = Q.round_half_away(acc * self.eff).astype(np.int64)
        else:
            # the optimized (ruy) kernel: fixed-point multiplier, final shift rounding halves up
            r = Q.multiply_by_quantized_multiplier_up(acc, self.q, self.shift)
        r += self.out_zp
        np.clip(r, self.lo, self.hi, out=r)
        y = r.astype(self.dtype)
        if self.keep_dims:
            return y.reshape(x.shape[:-1] + (g.n,))
        return y


def q_bmm_node(node) -> bool:
    return (len(node.inputs) >= 2 and is_quantized(node.inputs[0]) and is_quantized(node.inputs[1])
            and is_quantized(node.outputs[0]))


@register("BATCH_MATMUL", when=q_bmm_node, priority=10, types=("INT8", "INT16"))
class QBatchMatMul:
    """out[..., i, j] = requant(sum_k (a[..., i, k] - za) * (b[..., k, j] - zb)), batch dims broadcast."""

    def __init__(self, node):
        a, b, o = node.inputs[0], node.inputs[1], node.outputs[0]
        self.adj_x = bool(node.options.get("adj_x", False))
        self.adj_y = bool(node.options.get("adj_y", False))
        self.za, self.zb, self.zo = a.quantization.zero_point, b.quantization.zero_point, o.quantization.zero_point
        m = (float(np.float32(a.quantization.scale)) * float(np.float32(b.quantization.scale))
             / float(np.float32(o.quantization.scale)))
        self.q, self.shift = Q.quantize_multiplier(m)
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.dtype = o.dtype
        self.int16 = a.type_name == "INT16"
        self.ref = node.resolver == "BUILTIN_REF"

    def __call__(self, a, b):
        av = a.astype(np.float64) - self.za
        bv = b.astype(np.float64) - self.zb
        if self.adj_x:
            av = np.swapaxes(av, -1, -2)
        if self.adj_y:
            bv = np.swapaxes(bv, -1, -2)
        acc = np.matmul(av, bv).astype(np.int64)          # exact: |terms| < 2**53
        if self.int16:
            r = Q.multiply_by_quantized_multiplier_64(acc, self.q, self.shift)
        else:
            # both of LiteRT's int8 batch matmuls requantize with the reference rounding
            r = Q.multiply_by_quantized_multiplier(acc, self.q, self.shift)
        r = r + self.zo
        return np.clip(r, self.lo, self.hi).astype(self.dtype)


def q_bmm_int32_node(node) -> bool:
    return (len(node.inputs) >= 2 and node.inputs[0].type_name == "INT8" and node.inputs[1] is not None
            and node.inputs[1].type_name == "INT8" and node.outputs[0].type_name == "INT32")


@register("BATCH_MATMUL", when=q_bmm_int32_node, priority=10, types=("INT8 -> INT32",))
class QBatchMatMulInt32:
    """int8 x int8 -> int32: the plain integer products (LiteRT ignores the zero points here)."""

    def __init__(self, node):
        self.adj_x = bool(node.options.get("adj_x", False))
        self.adj_y = bool(node.options.get("adj_y", False))

    def __call__(self, a, b):
        av, bv = a.astype(np.float64), b.astype(np.float64)
        if self.adj_x:
            av = np.swapaxes(av, -1, -2)
        if self.adj_y:
            bv = np.swapaxes(bv, -1, -2)
        return Q._wrap32(np.matmul(av, bv).astype(np.int64)).astype(np.int32)
