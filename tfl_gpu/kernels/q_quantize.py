"""QUANTIZE (float -> int8/uint8/int16, and int -> int requantization) and integer DEQUANTIZE."""
import numpy as np

from .. import quant as Q
from .registry import is_quantized, register


def _axis_params(t, ndim):
    """(scales, zero_points) shaped to broadcast against a tensor of rank ``ndim`` (per-axis or scalar)."""
    q = t.quantization
    if q.per_axis:
        shape = [1] * ndim
        shape[q.quantized_dimension] = -1
        return q.scales.reshape(shape), q.zero_points.astype(np.int64).reshape(shape)
    return q.scales[:1].reshape(()), np.int64(q.zero_point)


def _float_in(node):
    return node.inputs[0].type_name in ("FLOAT32", "FLOAT16") and is_quantized(node.outputs[0])


def _int_in(node):
    return is_quantized(node.inputs[0]) and is_quantized(node.outputs[0])


@register("QUANTIZE", when=_float_in, priority=10, types=("FLOAT32->INT8", "FLOAT32->UINT8", "FLOAT32->INT16"))
class QuantizeFloat:
    def __init__(self, node):
        out = node.outputs[0]
        self.out_t = out
        self.dtype = out.dtype
        self.lo, self.hi = Q.QRANGE[out.type_name]
        self.ref = node.resolver == "BUILTIN_REF"

    def __call__(self, x):
        scale, zp = _axis_params(self.out_t, x.ndim)
        scale = scale.astype(np.float32)
        x = np.asarray(x, np.float32)
        with np.errstate(all="ignore"):
            if self.ref:
                # reference kernel: std::round(val / scale) in float32 (halves away from zero)
                r = Q.round_half_away((x / scale).astype(np.float64))
            else:
                # optimized kernel: an 8-wide vector loop computing val * (1.0f / scale), rounded to
                # nearest even by the vector convert, then a scalar tail dividing in double
                r = Q.round_half_away(x.astype(np.float64) / scale.astype(np.float64)).reshape(-1)
                n = r.size // 8 * 8
                if n:
                    xv = x.reshape(-1)[:n]
                    sv = scale if scale.ndim == 0 else np.broadcast_to(scale, x.shape).reshape(-1)[:n]
                    r[:n] = np.rint((xv * (np.float32(1) / sv)).astype(np.float64))
                r = r.reshape(x.shape)
            # static_cast<int32> of a non-finite or out of range value gives INT32_MIN on x86, and
            # adding the zero point wraps
            bad = ~np.isfinite(r) | (r >= 2.0 ** 31) | (r < -2.0 ** 31)
            if np.any(bad):
                r = np.where(bad, float(Q.INT32_MIN), r)
        r = Q._wrap32(r.astype(np.int64) + zp)
        return np.clip(r, self.lo, self.hi).astype(self.dtype)


@register("QUANTIZE", when=_int_in, priority=10, types=("INT8->INT8", "UINT8->INT8", "INT8->UINT8", "INT16->INT16",
                                                        "INT16->INT8"))
class Requantize:
    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        if i.quantization.per_axis or o.quantization.per_axis:
            raise ValueError("per-axis requantization is not supported")
        m = float(np.float32(i.quantization.scale)) / float(np.float32(o.quantization.scale))
        self.q, self.shift = Q.quantize_multiplier(m)
        self.in_zp = i.quantization.zero_point
        self.out_zp = o.quantization.zero_point
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.dtype = o.dtype
        # LiteRT's optimized 8-bit -> 8-bit requantization: a 16-wide vector loop rounding the final shift's
        # halves up, then a scalar tail
        self.up = (node.resolver != "BUILTIN_REF" and i.type_name in ("INT8", "UINT8")
                   and o.type_name in ("INT8", "UINT8"))

    def __call__(self, x):
        acc = x.astype(np.int64) - self.in_zp
        if self.up:
            r = Q.mbqm_blocked(acc, self.q, self.shift, 16) + self.out_zp
            return np.clip(r, self.lo, self.hi).astype(self.dtype)
        return Q.requantize_clamp(acc, self.q, self.shift, self.out_zp, self.lo, self.hi, self.dtype)


def _int_dequant(node):
    return is_quantized(node.inputs[0]) and node.inputs[0].type_name in ("INT8", "UINT8", "INT16", "INT4")


@register("DEQUANTIZE", when=_int_dequant, priority=10, types=("INT8", "UINT8", "INT16", "INT4"))
class Dequantize:
    def __init__(self, node):
        self.t = node.inputs[0]
        self.vec = node.resolver != "BUILTIN_REF" and self.t.type_name in ("INT8", "UINT8")
        c = node.const(0)
        self.cached = None if c is None else self._run(c)
        if self.cached is not None:
            self.cached.flags.writeable = False

    def _run(self, x):
        scale, zp = _axis_params(self.t, x.ndim)
        # (val - zp) is an exact small integer; its product with the float32 scale is rounded once
        ref = ((x.astype(np.int64) - zp).astype(np.float64) * scale.astype(np.float64)).astype(np.float32)
        if self.vec and not self.t.quantization.per_axis:
            # LiteRT's optimized kernel: an 8-wide vector loop computing val*scale - zp*scale in float32,
            # then a scalar tail with the reference formula
            flat = ref.reshape(-1)
            n = flat.size // 8 * 8
            s32 = np.float32(scale)
            xs = x.reshape(-1)[:n].astype(np.float32)
            flat[:n] = xs * s32 - np.float32(zp) * s32
            ref = flat.reshape(x.shape)
        return ref

    def __call__(self, x):
        if self.cached is not None:
            return self.cached
        return self._run(x)
