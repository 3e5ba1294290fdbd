"""gemmlowp-style fixed-point math (int32 raw values held in int64 numpy arrays), as LiteRT's reference
integer kernels use it: ``FixedPoint<int32, I>`` has 31 - I fractional bits; a product of Q(a) and Q(b)
is the saturating rounding doubling high multiply of the raws, in Q(a + b).

Written from the definitions: exp on negative values (Taylor polynomial around -1/8 on the last quarter
interval, then a barrel shifter of exp(-2^k) constants), 1 / (1 + x) by Newton-Raphson, reciprocals with
a leading-zero count, and the softmax input scaling helpers.
"""
from __future__ import annotations

import math

import numpy as np

from .quant import (INT32_MAX, INT32_MIN, _wrap32, quantize_multiplier, rounding_divide_by_pot,
                    saturating_rounding_doubling_high_mul as srdhm)


def mul(a, b):
    return srdhm(a, b)


def sat_mul_pot(x, exponent: int):
    """SaturatingRoundingMultiplyByPOT<exponent>."""
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    r = _wrap32(x << exponent)
    r = np.where(x > threshold, INT32_MAX, r)
    r = np.where(x < -threshold, INT32_MIN, r)
    return r


def rescale(x, src_int_bits: int, dst_int_bits: int):
    return sat_mul_pot(x, src_int_bits - dst_int_bits)


def constant_pot(exponent: int, int_bits: int) -> int:
    """Raw value of 2**exponent in Q(int_bits)."""
    return 1 << (31 - int_bits + exponent)


def one(int_bits: int) -> int:
    return INT32_MAX if int_bits == 0 else 1 << (31 - int_bits)


def exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    a = np.asarray(a, np.int64)
    constant_term = 1895147668          # exp(-1/8) in Q0.31
    constant_1_over_3 = 715827883
    x = _wrap32(a + constant_pot(-3, 0))
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = sat_mul_pot(x4, -2)
    poly = sat_mul_pot(_wrap32(mul(_wrap32(x4_over_4 + x3), constant_1_over_3) + x2), -1)
    return _wrap32(constant_term + mul(constant_term, _wrap32(x + poly)))


_BARREL = [(-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401),
           (4, 242)]


def exp_on_negative_values(a, int_bits: int):
    """exp(a) for a <= 0 in Q(int_bits); result in Q0.31."""
    a = np.asarray(a, np.int64)
    frac_bits = 31 - int_bits
    one_quarter = constant_pot(-2, int_bits)
    mask = one_quarter - 1
    a_mod_q_minus_q = _wrap32((a & mask) - one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(a_mod_q_minus_q, int_bits, 0))
    remainder = _wrap32(a_mod_q_minus_q - a)
    for exponent, multiplier in _BARREL:
        if int_bits > exponent:
            shift = frac_bits + exponent
            bit = (remainder & (1 << shift)) != 0
            result = np.where(bit, mul(result, multiplier), result)
    if int_bits > 5:
        clamp = -(1 << (36 - int_bits))
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


def rounding_half_sum(a, b):
    s = np.asarray(a, np.int64) + np.asarray(b, np.int64)
    sign = np.where(s >= 0, 1, -1)
    v = s + sign
    return np.where(v >= 0, v // 2, -((-v) // 2))


def one_over_one_plus_x_for_x_in_0_1(a):
    a = np.asarray(a, np.int64)
    half_denominator = rounding_half_sum(a, one(0))                 # Q0
    c48_17 = 1515870810                                             # 48/17 in Q2
    cm32_17 = -1010580540                                           # -32/17 in Q2
    x = _wrap32(c48_17 + mul(half_denominator, cm32_17))            # Q2
    for _ in range(3):
        hdx = mul(half_denominator, x)                              # Q2
        one_minus = _wrap32(one(2) - hdx)                           # Q2
        x = _wrap32(x + rescale(mul(x, one_minus), 4, 2))
    return rescale(x, 1, 0)                                         # ExactMulByPot<-1> then Rescale<0>


def count_leading_zeros32(x):
    x = np.asarray(x, np.int64) & 0xFFFFFFFF
    out = np.full(x.shape, 32, np.int64)
    nz = x != 0
    # floor(log2) via frexp on exact float64 values
    _, e = np.frexp(x[nz].astype(np.float64))
    out[nz] = 32 - e
    return out


def get_reciprocal(x, x_integer_digits: int):
    """(Q0 reciprocal raw of x / 2**(num_bits_over_unit), num_bits_over_unit)."""
    x = np.asarray(x, np.int64)
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted_minus_one = _wrap32(((x & 0xFFFFFFFF) << headroom_plus_one) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_minus_one), num_bits_over_unit


def mbqm_greater_than_one(x, q, left_shift):
    x = np.asarray(x, np.int64)
    return srdhm(_wrap32(x << left_shift), q)


def softmax_input_params(beta: float, input_scale: float, input_integer_bits: int = 5):
    """PreprocessSoftmaxScaling: (multiplier, left_shift) of beta * input_scale in Q(31 - bits)."""
    max_real = float((1 << 31) - 1)
    real = min(beta * input_scale * float(1 << (31 - input_integer_bits)), max_real)
    return quantize_multiplier(real)


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    v = (1.0 * ((1 << input_integer_bits) - 1) * float(1 << (total_signed_bits - input_integer_bits))
         / float(1 << input_left_shift))
    return int(math.floor(v))


def inv_sqrt_quantized_multiplier_exp(x, reverse_shift: int = -1):
    """GetInvSqrtQuantizedMultiplierExp, vectorized: (multiplier, shift) of 1/sqrt(x) for int32 x >= 0."""
    x = np.asarray(x, np.int64).copy()
    small = x <= 1
    x = np.where(small, 2, x)
    shift = np.full(x.shape, 11, np.int64)
    while np.any(x >= (1 << 29)):
        big = x >= (1 << 29)
        x = np.where(big, x // 4, x)
        shift = shift + big
    max_left_shift_bits = count_leading_zeros32(x) - 1
    pairs = max_left_shift_bits // 2 - 1
    shift = shift - pairs
    x = x << (2 * pairs)
    fx = x >> 1                                                  # F3
    half_input = sat_mul_pot(fx, -1)                             # F3
    half_three = (1 << 28) + (1 << 27)                           # 1.5 in F3
    v = np.full(x.shape, one(3), np.int64)                       # F3 one
    for _ in range(5):
        x3 = rescale(mul(mul(v, v), v), 9, 3)
        v = rescale(_wrap32(mul(half_three, v) - mul(half_input, x3)), 6, 3)
    v = mul(v, 1518500250)                                       # * sqrt(2)/2, F3
    neg = shift < 0
    v = np.where(neg, _wrap32(v << np.where(neg, -shift, 0)), v)
    shift = np.where(neg, 0, shift)
    v = np.where(small, INT32_MAX, v)
    shift = np.where(small, 0, shift * reverse_shift)
    return v, shift


def reverse_scaling(multiplier: int, left_shift: int):
    """PreprocessLogSoftmaxScalingExp's reverse scaling divisor: (multiplier, left shift) of
    2**(31 - left_shift) / multiplier, quantized as a multiplier smaller than one."""
    real = float(1 << (31 - left_shift)) / float(multiplier)
    return quantize_multiplier(real)


def sat_mul_pot_param(x, exponent):
    """SaturatingRoundingMultiplyByPOTParam with a per-element exponent."""
    x = np.asarray(x, np.int64)
    e = np.asarray(exponent, np.int64)
    pos = np.maximum(e, 0)
    neg = np.maximum(-e, 0)
    thr = (np.int64(1) << (31 - np.minimum(pos, 31))) - 1
    left = _wrap32(x << pos)
    left = np.where(x > thr, INT32_MAX, left)
    left = np.where(x < -thr, INT32_MIN, left)
    right = rounding_divide_by_pot(x, neg)
    return np.where(e > 0, left, np.where(e < 0, right, x))


def sat_add(a, b):
    return np.clip(np.asarray(a, np.int64) + np.asarray(b, np.int64), INT32_MIN, INT32_MAX)


def sat_sub(a, b):
    return np.clip(np.asarray(a, np.int64) - np.asarray(b, np.int64), INT32_MIN, INT32_MAX)


def log_x_for_x_ge_1(x, input_int_bits: int, output_int_bits: int):
    """log(x) for x >= 1: x raw in Q(input_int_bits), result raw in Q(output_int_bits)."""
    z_a = np.asarray(x, np.int64)
    accum_bits = output_int_bits + 1
    log_2, sqrt_sqrt_half, sqrt_half = 1488522236, 1805811301, 1518500250
    one_quarter = 536870912
    alpha_n, alpha_d, alpha_i, alpha_f = 117049297, 127690142, 1057819769, 638450708
    shifted_quarter = rescale(one_quarter, 0, accum_bits)
    ha = count_leading_zeros32(z_a)
    r_a_tmp = sat_mul_pot_param(z_a, ha - 1)
    r_a = sat_mul_pot_param(mul(r_a_tmp, sqrt_half), 1)
    z_a_pow = sat_add(sat_mul_pot_param(input_int_bits - ha, 31 - accum_bits), shifted_quarter)
    z_b = mul(z_a, sqrt_half)
    hb = count_leading_zeros32(z_b) - 1
    r_b = sat_mul_pot_param(z_a, hb)
    z_b_pow = sat_sub(sat_mul_pot_param(input_int_bits - hb, 31 - accum_bits), shifted_quarter)
    r = np.minimum(r_a, r_b)
    z_pow = np.maximum(z_a_pow, z_b_pow)
    p = rounding_half_sum(r, sqrt_sqrt_half)
    q = _wrap32(r - sqrt_sqrt_half)
    q = _wrap32(q + q)
    common_sq = mul(q, q)
    num = _wrap32(mul(q, r) + mul(mul(q, common_sq), alpha_n))
    denom = _wrap32(mul(p, _wrap32(_wrap32(alpha_i + q) + mul(alpha_d, common_sq))) + mul(alpha_f, q))
    recip = one_over_one_plus_x_for_x_in_0_1(denom)
    num_scaled = rescale(num, 0, accum_bits)
    s = _wrap32(mul(z_pow, log_2) + mul(num_scaled, recip))
    return rescale(s, accum_bits, output_int_bits)


# ----------------------------------------------------------------------------- 16-bit raw fixed point
# (gemmlowp's FixedPoint<int16_t, I>: 15 - I fractional bits; int32 constants are rescaled to 16 bits)

I16_MIN, I16_MAX = -32768, 32767


def _w16(x):
    return ((np.asarray(x, np.int64) + 32768) & 0xFFFF) - 32768


def srdhm16(a, b):
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    v = ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    r = np.where(v >= 0, v >> 15, -((-v) >> 15))
    return np.where((a == I16_MIN) & (b == I16_MIN), I16_MAX, r)


def sat_mul_pot16(x, exponent: int):
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    thr = (1 << (15 - exponent)) - 1
    r = _w16(x << exponent)
    r = np.where(x > thr, I16_MAX, r)
    return np.where(x < -thr, I16_MIN, r)


def const16(raw32: int, rounding: bool = True) -> int:
    """An int32 gemmlowp constant rescaled to a 16-bit raw value."""
    if rounding:
        return int(rounding_divide_by_pot(np.int64(raw32), 16))
    return raw32 >> 16


def _exp_quarter16(a, rc):
    constant_term = rc(1895147668)
    c13 = rc(715827883)
    x = _w16(a + (1 << 12))                      # + 1/8 in Q0.15
    x2 = srdhm16(x, x)
    x3 = srdhm16(x2, x)
    x4 = srdhm16(x2, x2)
    x4_over_4 = sat_mul_pot16(x4, -2)
    poly = sat_mul_pot16(_w16(srdhm16(_w16(x4_over_4 + x3), c13) + x2), -1)
    return _w16(constant_term + srdhm16(constant_term, _w16(x + poly)))


def exp_on_negative_values16(a, int_bits: int, rc):
    a = np.asarray(a, np.int64)
    frac_bits = 15 - int_bits
    one_quarter = 1 << (frac_bits - 2)
    mask = one_quarter - 1
    amq = _w16((a & mask) - one_quarter)
    result = _exp_quarter16(sat_mul_pot16(amq, int_bits), rc)
    remainder = _w16(amq - a)
    for exponent, multiplier in _BARREL:
        if int_bits > exponent:
            bit = (remainder & (1 << (frac_bits + exponent))) != 0
            result = np.where(bit, srdhm16(result, rc(multiplier)), result)
    if int_bits > 5:
        result = np.where(a < -(1 << (20 - int_bits)), 0, result)
    return np.where(a == 0, I16_MAX, result)


def _rounding_half_sum16(a, b):
    s = np.asarray(a, np.int64) + np.asarray(b, np.int64)
    v = s + np.where(s >= 0, 1, -1)
    return np.where(v >= 0, v // 2, -((-v) // 2))


def _newton16(a, rc):
    half_den = _rounding_half_sum16(a, I16_MAX)
    x = _w16(rc(1515870810) + srdhm16(half_den, rc(-1010580540)))
    one2 = 1 << 13
    for _ in range(3):
        hdx = srdhm16(half_den, x)
        om = _w16(one2 - hdx)
        x = _w16(x + sat_mul_pot16(srdhm16(x, om), 2))
    return x


def one_over_one_plus_x16(a, rc):
    return sat_mul_pot16(_newton16(a, rc), 1)


def one_minus_x_over_one_plus_x16(a, rc):
    return sat_mul_pot16(_w16(_newton16(a, rc) - (1 << 13)), 2)


def logistic16(a_raw, int_bits: int = 3, rounding_constants: bool = True):
    """gemmlowp::logistic on FixedPoint<int16_t, int_bits> raws -> Q0.15 raws."""
    rc = lambda v: const16(v, rounding_constants)  # noqa: E731
    a = np.asarray(a_raw, np.int64)
    pos = a > 0
    abs_in = np.where(pos, a, _w16(-a))
    r_pos = one_over_one_plus_x16(exp_on_negative_values16(_w16(-abs_in), int_bits, rc), rc)
    r_neg = _w16(I16_MAX - r_pos)
    return np.where(a == 0, 1 << 14, np.where(pos, r_pos, r_neg))


def tanh16(a_raw, int_bits: int = 3, rounding_constants: bool = True):
    """gemmlowp::tanh on FixedPoint<int16_t, int_bits> raws -> Q0.15 raws."""
    rc = lambda v: const16(v, rounding_constants)  # noqa: E731
    a = np.asarray(a_raw, np.int64)
    neg = a < 0
    n = np.where(neg, a, _w16(-a))
    t = one_minus_x_over_one_plus_x16(exp_on_negative_values16(n, int_bits + 1, rc), rc)
    return np.where(a == 0, 0, np.where(neg, _w16(-t), t))
