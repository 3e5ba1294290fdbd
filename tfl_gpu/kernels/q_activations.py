"""Quantized activations: LOGISTIC / TANH / ELU (int8/uint8 lookup tables built like LiteRT's, with the C
library's float functions), LEAKY_RELU, PRELU, RELU family, HARD_SWISH."""
from __future__ import annotations

import ctypes
import math
import ctypes.util

import numpy as np

from .. import quant as Q
from .registry import is_quantized, register

_libm = None


def _cfunc(name):
    global _libm
    if _libm is None:
        try:
            _libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        except OSError:
            _libm = False
    if not _libm:
        return None
    f = getattr(_libm, name)
    f.restype = ctypes.c_float
    f.argtypes = [ctypes.c_float]
    return f


def _logistic(v: np.float32) -> np.float32:
    f = _cfunc("expf")
    e = np.float32(f(float(-v))) if f else np.float32(np.exp(-np.float64(v)))
    return np.float32(np.float32(1.0) / (np.float32(1.0) + e))


def _tanh(v: np.float32) -> np.float32:
    f = _cfunc("tanhf")
    return np.float32(f(float(v))) if f else np.float32(np.tanh(np.float64(v)))


def _elu(v: np.float32) -> np.float32:
    f = _cfunc("expm1f")
    if v >= 0:
        return np.float32(v)
    return np.float32(f(float(v))) if f else np.float32(np.expm1(np.float64(v)))


def lut8(in_t, out_t, transform) -> np.ndarray:
    """LiteRT's LUTPopulate for 8-bit types: dequantize in float32, transform, round(x / out_scale) + zp."""
    lo, hi = Q.QRANGE[in_t.type_name]
    olo, ohi = Q.QRANGE[out_t.type_name]
    in_scale = np.float32(in_t.quantization.scale)
    in_zp = in_t.quantization.zero_point
    inv = np.float32(np.float32(1.0) / np.float32(out_t.quantization.scale))
    out_zp = out_t.quantization.zero_point
    table = np.zeros(256, np.int64)
    for val in range(lo, hi + 1):
        deq = np.float32(in_scale * np.float32(val - in_zp))
        tr = np.float32(transform(deq))
        rescaled = Q.round_half_away(float(np.float32(tr * inv)))
        qv = int(np.float32(np.float32(rescaled) + np.float32(out_zp)))
        table[val - lo] = min(max(qv, olo), ohi)
    return table


def q_8bit_node(node) -> bool:
    return (is_quantized(node.inputs[0]) and node.inputs[0].type_name in ("INT8", "UINT8")
            and is_quantized(node.outputs[0]))


class _Lut:
    transform = None

    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        self.lo = Q.QRANGE[i.type_name][0]
        self.table = lut8(i, o, type(self).transform).astype(o.dtype)

    def __call__(self, x):
        return self.table[x.astype(np.int64) - self.lo]


@register("LOGISTIC", when=q_8bit_node, priority=10, types=("INT8", "UINT8"))
class QLogistic(_Lut):
    transform = staticmethod(_logistic)


@register("TANH", when=q_8bit_node, priority=10, types=("INT8", "UINT8"))
class QTanh(_Lut):
    transform = staticmethod(_tanh)


@register("ELU", when=q_8bit_node, priority=10, types=("INT8",))
class QElu(_Lut):
    transform = staticmethod(_elu)


def q_node(node) -> bool:
    return is_quantized(node.inputs[0]) and is_quantized(node.outputs[0])


@register("LEAKY_RELU", when=q_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QLeakyRelu:
    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        alpha = np.float32(node.options.get("alpha", 0.2))
        si, so = np.float32(i.quantization.scale), np.float32(o.quantization.scale)
        # the products are float32 expressions converted to double, as in LiteRT's Prepare
        self.qa, self.sa = Q.quantize_multiplier(float(np.float32(np.float32(si * alpha) / so)))
        self.qi, self.si = Q.quantize_multiplier(float(np.float32(si / so)))
        self.zi, self.zo = i.quantization.zero_point, o.quantization.zero_point
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.dtype = o.dtype

    def __call__(self, x):
        v = x.astype(np.int64) - self.zi
        pos = Q.multiply_by_quantized_multiplier(v, self.qi, self.si)
        neg = Q.multiply_by_quantized_multiplier(v, self.qa, self.sa)
        r = np.where(v >= 0, pos, neg) + self.zo
        return np.clip(r, self.lo, self.hi).astype(self.dtype)


@register("PRELU", when=q_node, priority=10, types=("INT8", "UINT8"))
class QPrelu:
    def __init__(self, node):
        i, a, o = node.inputs[0], node.inputs[1], node.outputs[0]
        si, sa, so = (np.float32(t.quantization.scale) for t in (i, a, o))
        self.q1, self.s1 = Q.quantize_multiplier(float(np.float32(si / so)))
        self.q2, self.s2 = Q.quantize_multiplier(float(np.float32(np.float32(si * sa) / so)))
        self.zi, self.za, self.zo = i.quantization.zero_point, a.quantization.zero_point, o.quantization.zero_point
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.dtype = o.dtype

    def __call__(self, x, alpha):
        v = x.astype(np.int64) - self.zi
        av = alpha.astype(np.int64) - self.za
        v, av = np.broadcast_arrays(v, av)
        pos = Q.multiply_by_quantized_multiplier(v, self.q1, self.s1)
        neg = Q.multiply_by_quantized_multiplier(Q._wrap32(v * av), self.q2, self.s2)
        r = np.where(v >= 0, pos, neg) + self.zo
        return np.clip(r, self.lo, self.hi).astype(self.dtype)


# ----------------------------------------------------------------------------- HARD_SWISH

def _srdhm16(a, b):
    a = np.asarray(a, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    v = ab + nudge
    r = np.where(v >= 0, v >> 15, -((-v) >> 15))
    return np.where((a == -32768) & (b == -32768), 32767, r)


def _sdhm16(a, b, floor: bool):
    ab = np.asarray(a, np.int64) * np.asarray(b, np.int64)
    r = ab >> 15 if floor else np.where(ab >= 0, ab >> 15, -((-ab) >> 15))
    return np.where((np.asarray(a) == -32768) & (np.asarray(b) == -32768), 32767, r)


def _sat_lshift16(v, n):
    return np.clip(np.asarray(v, np.int64) << n, -32768, 32767)


def _downscale16(m32: int) -> int:
    if m32 >= (1 << 31) - 1 - (1 << 15):
        return 32767
    return (m32 + (1 << 15)) >> 16


@register("HARD_SWISH", when=q_8bit_node, priority=10, types=("INT8", "UINT8"))
class QHardSwish:
    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        self.zi, self.zo = i.quantization.zero_point, o.quantization.zero_point
        in_scale = np.float32(i.quantization.scale)
        hires = np.float32(np.float32(1.0 / 128.0) * in_scale)
        reluish_scale = np.float32(3.0 / 32768.0)
        out_scale = np.float32(o.quantization.scale)
        m, self.out_exp = Q.quantize_multiplier(float(np.float32(hires / out_scale)))
        self.out_m16 = _downscale16(m)
        if self.out_exp > 0:
            raise ValueError("HARD_SWISH output multiplier exponent must be <= 0")
        m, self.rel_exp = Q.quantize_multiplier(float(np.float32(hires / reluish_scale)))
        self.rel_m16 = _downscale16(m)
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.dtype = o.dtype

    def _compute(self, x, floor_last: bool):
        v = x.astype(np.int64) - self.zi
        hires = v * 128
        pre = _srdhm16(hires, self.out_m16)
        rel = hires
        if self.rel_exp > 0:
            rel = _sat_lshift16(rel, self.rel_exp - 1)
        rel = _srdhm16(rel, self.rel_m16)
        if self.rel_exp > 0:
            rel = _sat_lshift16(rel, 1)
        if self.rel_exp < 0:
            rel = Q.rounding_divide_by_pot(rel, -self.rel_exp)
        rel = (rel + (1 << 15)) >> 1
        out = _sdhm16(rel, pre, floor_last)
        out = Q.rounding_divide_by_pot(out, -self.out_exp) + self.zo
        return np.clip(out, self.lo, self.hi)

    def __call__(self, x):
        # (LiteRT's optimized kernel gives the same integers as the reference one here)
        return self._compute(x, False).astype(self.dtype)


# ----------------------------------------------------------------------------- RELU family

class _QReluX:
    bounds = (0.0, None)

    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        si, so = np.float32(i.quantization.scale), np.float32(o.quantization.scale)
        self.q, self.shift = Q.quantize_multiplier(float(np.float32(si / so)))
        self.zi, self.zo = i.quantization.zero_point, o.quantization.zero_point
        tlo, thi = Q.QRANGE[o.type_name]
        amin, amax = self.bounds
        self.lo = max(tlo, self.zo + int(Q.round_half_away(float(np.float32(np.float32(amin) / so)))))
        self.hi = thi if amax is None else min(
            thi, self.zo + int(Q.round_half_away(float(np.float32(np.float32(amax) / so)))))
        self.dtype = o.dtype

    def __call__(self, x):
        r = Q.multiply_by_quantized_multiplier(x.astype(np.int64) - self.zi, self.q, self.shift) + self.zo
        return np.clip(r, self.lo, self.hi).astype(self.dtype)


@register("RELU", when=q_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QRelu(_QReluX):
    bounds = (0.0, None)


@register("RELU6", when=q_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QRelu6(_QReluX):
    bounds = (0.0, 6.0)


@register("RELU_N1_TO_1", when=q_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QReluN1To1(_QReluX):
    bounds = (-1.0, 1.0)


@register("RELU_0_TO_1", when=q_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QRelu0To1(_QReluX):
    bounds = (0.0, 1.0)


@register("ABS", when=q_node, priority=10, types=("INT8", "INT16"))
class QAbs:
    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        si, so = np.float32(i.quantization.scale), np.float32(o.quantization.scale)
        self.rescale = si != so
        self.q, self.shift = Q.quantize_multiplier(float(np.float32(si / so)))
        self.zi, self.zo = i.quantization.zero_point, o.quantization.zero_point
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.dtype = o.dtype

    def __call__(self, x):
        v = np.abs(x.astype(np.int64) - self.zi)
        if self.rescale:
            v = Q.multiply_by_quantized_multiplier(v, self.q, self.shift)
        return np.clip(v + self.zo, self.lo, self.hi).astype(self.dtype)


def _gelu(v: np.float32) -> np.float32:
    f = _cfunc("erff")
    a = np.float32(v * np.float32(0.7071067811865476))
    e = np.float32(f(float(a))) if f else np.float32(math.erf(float(a)))
    return np.float32(np.float32(0.5) * v * np.float32(np.float32(1) + e))


def _gelu_tanh(v: np.float32) -> np.float32:
    inner = np.float32(np.float32(np.sqrt(2 / np.pi)) * np.float32(v + np.float32(0.044715) * v * v * v))
    return np.float32(np.float32(0.5) * v * np.float32(np.float32(1) + _tanh(inner)))


@register("GELU", when=q_8bit_node, priority=10, types=("INT8", "UINT8"))
class QGelu:
    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        self.lo = Q.QRANGE[i.type_name][0]
        fn = _gelu_tanh if node.options.get("approximate", False) else _gelu
        self.table = lut8(i, o, fn).astype(o.dtype)

    def __call__(self, x):
        return self.table[x.astype(np.int64) - self.lo]


@register("NEG", when=q_node, priority=10, types=("INT8", "INT16"))
def q_neg(node, x):
    """LiteRT negates the stored integers (no rescaling), wrapping -min to min."""
    v = -x.astype(np.int64)
    bits = 8 * x.dtype.itemsize
    v = ((v + (1 << (bits - 1))) & ((1 << bits) - 1)) - (1 << (bits - 1))
    return v.astype(x.dtype)


@register("L2_NORMALIZATION", when=q_8bit_node, priority=10, types=("INT8", "UINT8"))
class QL2Norm:
    def __init__(self, node):
        i = node.inputs[0]
        self.zi = i.quantization.zero_point
        self.uint8 = i.type_name == "UINT8"
        self.dtype = node.outputs[0].dtype

    def __call__(self, x):
        from ..fixedpoint import inv_sqrt_quantized_multiplier_exp
        v = x.astype(np.int64) - self.zi
        acc = Q._wrap32((v * v).sum(axis=-1, keepdims=True))
        m, s = inv_sqrt_quantized_multiplier_exp(acc, -1)
        if self.uint8:
            r = Q.mbqm_smaller_than_one(Q._wrap32(128 * v), m, s) + 128
            return np.clip(r, 0, 255).astype(self.dtype)
        r = Q.multiply_by_quantized_multiplier(v, m, s + 7)
        return np.clip(r, -128, 127).astype(self.dtype)


def _q8s_node(node) -> bool:
    return q_node(node) and node.inputs[0].type_name == "INT8"


@register("RSQRT", when=_q8s_node, priority=10, types=("INT8",))
class QRsqrt:
    """1/sqrt(x - zp): fixed-point inverse square root of the integer, a 20-bit shift to keep it integer,
    then the 1 / (sqrt(input_scale) * output_scale) rescale."""

    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        si, so = np.float32(i.quantization.scale), np.float32(o.quantization.scale)
        m = float(np.float32(np.float32(1.0) / np.float32(np.float32(np.sqrt(si)) * so)))
        self.q, self.shift = Q.quantize_multiplier(m)
        self.zi, self.zo = i.quantization.zero_point, o.quantization.zero_point
        self.lo, self.hi = Q.QRANGE[o.type_name]
        self.dtype = o.dtype

    def __call__(self, x):
        from ..fixedpoint import inv_sqrt_quantized_multiplier_exp
        v = x.astype(np.int64) - self.zi
        m, s = inv_sqrt_quantized_multiplier_exp(np.maximum(v, 0), -1)
        k = 20
        data = Q.multiply_by_quantized_multiplier(np.ones_like(v), m, s + k)
        r = Q.multiply_by_quantized_multiplier(data, self.q, self.shift - k) + self.zo
        r = np.clip(r, self.lo, self.hi)
        r = np.where(v == 0, self.hi, r)
        return r.astype(self.dtype)


def _expf_scalar(v):
    f = _cfunc("expf")
    return np.float32(f(float(v))) if f else np.float32(np.exp(np.float64(v)))


@register("EXP", when=q_8bit_node, priority=10, types=("INT8",))
class QExp(_Lut):
    transform = staticmethod(_expf_scalar)


def _q16_exp_node(node) -> bool:
    return (is_quantized(node.inputs[0]) and node.inputs[0].type_name == "INT16"
            and node.outputs[0].type_name == "INT16")


@register("EXP", when=_q16_exp_node, priority=10, types=("INT16",))
class QExp16:
    """LiteRT's 513-entry interpolated int16 table of expf."""

    def __init__(self, node):
        from .q_softmax import lut_int16
        i, o = node.inputs[0], node.outputs[0]
        self.lut = lut_int16(i.quantization.scale, i.quantization.zero_point, o.quantization.scale,
                             o.quantization.zero_point, _expf_scalar)

    def __call__(self, x):
        from .q_softmax import lut_lookup16
        return lut_lookup16(x, self.lut).astype(np.int16)


@register("GELU", when=_q16_exp_node, priority=10, types=("INT16",))
class QGelu16:
    """LiteRT's 513-entry interpolated int16 table of the (exact or tanh-approximate) GELU."""

    def __init__(self, node):
        from .q_softmax import lut_int16
        i, o = node.inputs[0], node.outputs[0]
        fn = _gelu_tanh if node.options.get("approximate", False) else _gelu
        self.lut = lut_int16(i.quantization.scale, i.quantization.zero_point, o.quantization.scale,
                             o.quantization.zero_point, lambda v: np.float32(fn(np.float32(v))))

    def __call__(self, x):
        from .q_softmax import lut_lookup16
        return lut_lookup16(x, self.lut).astype(np.int16)


# ----------------------------------------------------------------------------- int16 LOGISTIC / TANH

# Entries of LiteRT's 256-point sigmoid table (sigmoid(i/24) in units of 2**-16) that are one above
# round(65536 * sigmoid(i/24)): measured from LiteRT's int16 LOGISTIC and TANH outputs over many input
# scales (every entry is then determined by the interpolated outputs).
_SIGMOID_TABLE_PLUS_ONE = (4, 8, 12, 14, 15, 16, 17, 19, 20, 21, 22, 25, 27, 28, 29, 30, 31, 33, 34, 35, 37, 39,
                           40, 41, 43, 44, 45, 46, 49, 50, 54, 62, 63, 64, 66, 82, 86, 93, 100, 103, 112, 116, 135,
                           255)
_SIGMOID_U16 = None


def sigmoid_table_u16() -> np.ndarray:
    global _SIGMOID_U16
    if _SIGMOID_U16 is None:
        x = np.arange(256, dtype=np.float64) / 24.0
        t = np.minimum(np.floor(65536.0 / (1.0 + np.exp(-x)) + 0.5), 65535).astype(np.int64)
        t[list(_SIGMOID_TABLE_PLUS_ONE)] += 1
        _SIGMOID_U16 = t
    return _SIGMOID_U16


def _int16_sigmoid_params(scale: float, tanh: bool):
    """(multiplier, left_shift, power_of_two): the int16 input rescaled to the table's 1/(3*4096) units."""
    from .q_elementwise import _checked_log2
    lg = _checked_log2(float(np.float32(scale)))
    if lg is not None:
        left = 12 + lg
        if left == 0 or (tanh and left == 1):
            return 3 << left, 0, True
    m = float(np.float32(scale)) * 4096.0 * 3.0
    left = 0
    while m <= 32767.0 / 2.0 and left <= 30:
        left += 1
        m *= 2.0
    return int(m), left, False


def _q16_table_node(tanh: bool):
    def pred(node) -> bool:
        i, o = node.inputs[0], node.outputs[0]
        if not (is_quantized(i) and i.type_name == "INT16" and o.type_name == "INT16"):
            return False
        return True
    return pred


class _Q16Sigmoidal:
    tanh = False

    def __init__(self, node):
        i, o = node.inputs[0], node.outputs[0]
        if i.quantization.zero_point != 0 or o.quantization.zero_point != 0:
            raise ValueError("int16 LOGISTIC/TANH need zero points 0")
        self.table = sigmoid_table_u16()
        self.mult, self.left, pot = _int16_sigmoid_params(i.quantization.scale, self.tanh)
        # LiteRT's optimized kernels use gemmlowp's 16-bit fixed-point logistic/tanh (Q3.12 input) for
        # power-of-two input scales; everything else interpolates the sigmoid table
        self.gemmlowp = pot and node.resolver != "BUILTIN_REF"
        self.pre_shift = self.mult // 3 - 1 if self.gemmlowp else 0       # 0, or 1 for tanh at 2**-11

    def _scaled(self, x):
        rnd = (1 << (self.left - 1)) if self.left > 0 else 0
        return (x.astype(np.int64) * self.mult + rnd) >> self.left


@register("LOGISTIC", when=_q16_table_node(False), priority=10, types=("INT16",))
class QLogistic16(_Q16Sigmoidal):
    tanh = False

    def __call__(self, x):
        if self.gemmlowp:
            from ..fixedpoint import logistic16
            return logistic16(x.astype(np.int64), 3).astype(np.int16)
        v = self._scaled(x)
        a = np.abs(v)
        uh = a >> 9
        sat = uh >= 255
        uhc = np.minimum(uh, 254)
        ua, ub = self.table[uhc], self.table[uhc + 1]
        res = np.where(sat, 0x7FFF << 10, (ua << 9) + (a & 0x1FF) * (ub - ua))
        res = np.where(v >= 0, res + (1 << 9), (1 << 25) - res + (1 << 9) - 1)
        return Q.wrap16(res >> 10).astype(np.int16)


@register("TANH", when=_q16_table_node(True), priority=10, types=("INT16",))
class QTanh16(_Q16Sigmoidal):
    tanh = True

    def __call__(self, x):
        if self.gemmlowp:
            from ..fixedpoint import sat_mul_pot16, tanh16
            xi = x.astype(np.int64)
            if self.pre_shift:
                xi = sat_mul_pot16(xi, 1)
            return tanh16(xi, 3).astype(np.int16)
        v = self._scaled(x)
        a = np.abs(v)
        uh = a >> 8
        sat = uh >= 255
        uhc = np.minimum(uh, 254)
        ua, ub = self.table[uhc], self.table[uhc + 1]
        res = np.where(sat, 0xFFFF << 8, (ua << 8) + (a & 0xFF) * (ub - ua))
        res = np.where(v >= 0, res - (1 << 23) + (1 << 7), -res + (1 << 23) + (1 << 7) - 1)
        return Q.wrap16(res >> 8).astype(np.int16)
