"""Quantized SOFTMAX (int8 / uint8 in and out).

LiteRT has two algorithms and the resolver picks one:
* BUILTIN (optimized): a 256-entry float32 table exp(-input_scale * beta * k) built with the C library's
  ``expf``, a sequential float32 sum of the row's table values, ``1 / (sum * output_scale)`` and a
  float32 rescale, rounded half away from zero (int8) or ``(int)(p + 0.5f)`` (uint8);
* BUILTIN_REF (reference): gemmlowp fixed point, Q5.26 scaled differences, ``exp_on_negative_values``,
  a Q12 sum, its fixed-point reciprocal, and a rounding shift to the 8-bit output.
"""
from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

from .. import quant as Q
from .. import fixedpoint as F
from .registry import is_quantized, register

_libm = None


def c_expf(values: np.ndarray) -> np.ndarray:
    """expf from the C math library, the function LiteRT's table uses (numpy's float32 exp may differ in
    the last bit); falls back to a correctly rounded float64 exp."""
    global _libm
    if _libm is None:
        try:
            _libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
            _libm.expf.restype = ctypes.c_float
            _libm.expf.argtypes = [ctypes.c_float]
        except OSError:
            _libm = False
    v = np.asarray(values, np.float32)
    if _libm:
        return np.array([_libm.expf(float(x)) for x in v.ravel()], np.float32).reshape(v.shape)
    return np.exp(v.astype(np.float64)).astype(np.float32)


def q_softmax_node(node) -> bool:
    return (is_quantized(node.inputs[0]) and node.inputs[0].type_name in ("INT8", "UINT8")
            and is_quantized(node.outputs[0]) and node.outputs[0].type_name in ("INT8", "UINT8", "INT16"))


@register("SOFTMAX", when=q_softmax_node, priority=10, types=("INT8", "UINT8", "INT8->INT16"))
class QSoftmax:
    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        self.beta = float(np.float32(node.options.get("beta", 1.0)))
        self.in_scale = np.float32(i.quantization.scale)
        self.out_scale = np.float32(o.quantization.scale)
        self.out_zp = o.quantization.zero_point
        self.in_signed = i.type_name == "INT8"
        self.out_type = o.type_name
        self.dtype = o.dtype
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.ref = node.resolver == "BUILTIN_REF"
        if self.ref:
            self.mult, self.left_shift = F.softmax_input_params(self.beta, float(self.in_scale))
            self.diff_min = -F.calculate_input_radius(5, self.left_shift, 31)
        else:
            scale = np.float32(-self.in_scale * np.float32(self.beta))
            k = np.arange(256, dtype=np.float32)
            # table[255 - k] = expf(scale * k): table[255 + (x - max)] = exp(beta * in_scale * (x - max))
            self.table = c_expf(np.float32(scale) * k)[::-1].copy()

    def __call__(self, x):
        if self.ref:
            return self._reference(x)
        xi = x.astype(np.int64)
        mx = xi.max(axis=-1, keepdims=True)
        vals = self.table[255 + (xi - mx)]                    # float32
        # sequential float32 accumulation, as the C loop does
        sum_exp = np.cumsum(vals, axis=-1, dtype=np.float32)[..., -1:]
        inv = np.float32(1.0) / (sum_exp * self.out_scale)
        prob = vals * inv                                      # float32
        if self.out_type == "UINT8":
            q = np.trunc((prob + np.float32(0.5)).astype(np.float64))
        else:
            q = Q.round_half_away(prob.astype(np.float64))
        r = q.astype(np.int64) + self.out_zp
        return np.clip(r, self.lo, self.hi).astype(self.dtype)

    def _reference(self, x):
        xi = x.astype(np.int64)
        mx = xi.max(axis=-1, keepdims=True)
        diff = xi - mx
        valid = diff >= self.diff_min
        rescaled = F.mbqm_greater_than_one(diff, self.mult, self.left_shift)
        e = F.exp_on_negative_values(np.where(valid, rescaled, 0), 5)     # Q0.31
        e = np.where(valid, e, 0)
        # Rescale Q0.31 -> Q12.19 and accumulate (saturating adds never saturate here)
        acc = F.rescale(e, 0, 12).sum(axis=-1, keepdims=True)
        recip, num_bits_over_unit = F.get_reciprocal(acc, 12)
        bits = 16 if self.out_type == "INT16" else 8
        prod = Q.saturating_rounding_doubling_high_mul(recip, e)
        unsat = Q.rounding_divide_by_pot(prod, num_bits_over_unit + 31 - bits)
        out_min, out_max = Q.QRANGE[self.out_type]
        shifted = unsat + out_min
        r = np.clip(shifted, out_min, out_max)
        r = np.where(valid, r, out_min)
        return r.astype(self.dtype)


# ----------------------------------------------------------------------------- int16

def _rnd(x):
    """roundf on a float32 value, staying float32."""
    return np.float32(Q.round_half_away(float(np.float32(x))))


def lut_int16(input_scale, input_zp, output_scale, output_zp, transform) -> np.ndarray:
    """LiteRT's 513-entry int16 interpolation table (LUTPopulateInt16 in float32): samples over the input
    range, each biased by half the midpoint interpolation error."""
    f = np.float32
    input_scale, output_scale = f(input_scale), f(output_scale)
    input_min = f(input_scale * f(-32768 - input_zp))
    input_max = f(input_scale * f(32767 - input_zp))
    output_min = f(output_scale * f(-32768 - output_zp))
    output_max = f(output_scale * f(32767 - output_zp))
    nb = 512
    step = f(f(input_max - input_min) / f(nb))
    half = f(step / f(2))
    inv = f(f(65536) / f(output_max - output_min))
    lut = np.zeros(nb + 1, np.int64)
    for i in range(nb):
        x0 = f(input_min + f(f(i) * step))
        val = transform(x0)
        mid = transform(f(x0 + half))
        nxt = transform(f(input_min + f(f(i + 1) * step)))
        sample = _rnd(f(val * inv))
        interp = _rnd(f(f(f(nxt * inv) + _rnd(f(val * inv))) / f(2)))
        midv = _rnd(f(mid * inv))
        bias = _rnd(f(f(interp - midv) / f(2)))
        lut[i] = int(min(max(f(sample - bias), f(-32768)), f(32767)))
    lut[nb] = int(min(max(_rnd(f(transform(input_max) * inv)), f(-32768)), f(32767)))
    return lut


def lut_lookup16(value, lut):
    v = np.asarray(value, np.int64)
    index = 256 + (v >> 7)
    offset = v & 0x7F
    base = lut[index]
    slope = lut[index + 1] - base
    return Q.wrap16(base + ((slope * offset + 64) >> 7))


def _expf(v):
    return c_expf(np.array([v], np.float32))[0]


def _one_over_one_plus(v):
    return np.float32(np.float32(1.0) / np.float32(np.float32(1.0) + np.float32(v)))


def q16_softmax_node(node) -> bool:
    return (is_quantized(node.inputs[0]) and node.inputs[0].type_name == "INT16"
            and node.outputs[0].type_name == "INT16")


@register("SOFTMAX", when=q16_softmax_node, priority=10, types=("INT16",))
class QSoftmax16:
    def __init__(self, node):
        i = node.inputs[0]
        rng = 65535
        self.exp_lut = lut_int16(10.0 / rng, 32767, 2.0 / rng, 0, _expf)
        self.recip_lut = lut_int16(1.0 / rng, -32768, 2.0 / rng, 0, _one_over_one_plus)
        beta = float(np.float32(node.options.get("beta", 1.0)))
        m = float(np.float32(i.quantization.scale)) * beta / (10.0 / 65535.0)
        self.q, self.shift = Q.quantize_multiplier(m)

    def __call__(self, x):
        xi = x.astype(np.int64)
        diff = xi - xi.max(axis=-1, keepdims=True)
        scaled = Q.multiply_by_quantized_multiplier(diff, self.q, self.shift)
        sym = np.clip(scaled + 32767, -32768, 32767)
        e = lut_lookup16(sym, self.exp_lut)
        s = e.sum(axis=-1, keepdims=True)
        from ..fixedpoint import count_leading_zeros32
        hp1 = count_leading_zeros32(s)
        shifted = ((s << (hp1 - 1)) + (1 << 13)) >> 14
        sym_s = np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767)
        recip = lut_lookup16(sym_s, self.recip_lut)
        right = 31 - hp1
        r = (e * recip + (np.int64(1) << (right - 1))) >> right
        return np.clip(r, 0, 32767).astype(np.int16)


# ----------------------------------------------------------------------------- LOG_SOFTMAX

def q_log_softmax_node(node) -> bool:
    return q_softmax_node(node) and node.outputs[0].type_name in ("INT8", "UINT8")


@register("LOG_SOFTMAX", when=q_log_softmax_node, priority=10, types=("INT8", "UINT8"))
class QLogSoftmax:
    """BUILTIN: the softmax exp table, logf of the sequential float32 sum, rint of the float32 log
    probability. BUILTIN_REF: gemmlowp fixed point (exp, log, Q5.26 differences)."""

    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        self.in_scale = np.float32(i.quantization.scale)
        self.out_scale = np.float32(o.quantization.scale)
        self.out_zp = o.quantization.zero_point
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.dtype = o.dtype
        self.ref = node.resolver == "BUILTIN_REF"
        beta = 1.0
        scale = np.float32(-self.in_scale * np.float32(beta))
        self.table = c_expf(scale * np.arange(256, dtype=np.float32))[::-1].copy()
        if self.ref:
            self.mult, self.left_shift = F.softmax_input_params(beta, float(self.in_scale), 5)
            self.rev_mult, self.rev_shift = F.reverse_scaling(self.mult, self.left_shift)
            self.diff_min = -F.calculate_input_radius(5, self.left_shift, 31)
            self.signed = i.type_name == "INT8"

    def __call__(self, x):
        if self.ref:
            return self._reference(x)
        xi = x.astype(np.int64)
        mx = xi.max(axis=-1, keepdims=True)
        vals = self.table[255 + (xi - mx)]
        sum_exp = np.cumsum(vals, axis=-1, dtype=np.float32)[..., -1:]
        log_sum = _c_logf(sum_exp)
        scale = np.float32(self.in_scale / self.out_scale)
        pre = ((self.in_scale * mx.astype(np.float32)).astype(np.float32) + log_sum).astype(np.float32) / self.out_scale
        log_prob = (scale * xi.astype(np.float32)).astype(np.float32) - pre.astype(np.float32)
        q = np.rint(log_prob.astype(np.float64)).astype(np.int64) + self.out_zp
        return np.clip(q, self.lo, self.hi).astype(self.dtype)

    def _reference(self, x):
        xi = x.astype(np.int64)
        mx = xi.max(axis=-1, keepdims=True)
        diff = xi - mx
        valid = diff >= self.diff_min
        d5 = F.mbqm_greater_than_one(diff, self.mult, self.left_shift)
        e = np.where(valid, F.exp_on_negative_values(np.where(valid, d5, 0), 5), 0)
        acc = Q._wrap32(F.rescale(e, 0, 12).sum(axis=-1, keepdims=True))
        log_sum = F.log_x_for_x_ge_1(acc, 12, 5)
        adjusted = np.maximum(self.diff_min - 1,
                              Q.multiply_by_quantized_multiplier(Q._wrap32(log_sum + Q.INT32_MIN), self.rev_mult,
                                                                 self.rev_shift))
        keep = diff > adjusted
        out = Q.rounding_divide_by_pot(Q._wrap32(d5 - log_sum), 31 - 5 - 4)
        if self.signed:
            r = np.clip(out + 127, -128, 127)
            r = np.where(keep, r, -128)
        else:
            r = np.clip(out + 255, 0, 255)
            r = np.where(keep, r, 0)
        return r.astype(self.dtype)


def _c_logf(values):
    import ctypes
    import ctypes.util
    v = np.asarray(values, np.float32)
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        libm.logf.restype = ctypes.c_float
        libm.logf.argtypes = [ctypes.c_float]
        return np.array([libm.logf(float(a)) for a in v.ravel()], np.float32).reshape(v.shape)
    except OSError:
        return np.log(v.astype(np.float64)).astype(np.float32)
