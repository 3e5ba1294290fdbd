"""Quantized ADD / SUB (the 20-bit left shift rescaling; 15 bits for int16) and MUL, with broadcasting."""
from __future__ import annotations

import numpy as np

from .. import quant as Q
from .registry import is_quantized, register


def q_binary_node(node) -> bool:
    return (len(node.inputs) >= 2 and is_quantized(node.inputs[0]) and is_quantized(node.inputs[1])
            and is_quantized(node.outputs[0]))


def _checked_log2(x: float):
    """CheckedLog2: the rounded log2 when x is (within 1e-3 in log2) a power of two, else None."""
    if x <= 0:
        return None
    lg = np.float32(np.float32(np.log(np.float32(x))) * np.float32(1.0 / np.log(2.0)))
    r = Q.round_half_away(float(lg))
    return int(r) if abs(float(lg) - r) < 1e-3 else None


def _lut_ok(a, b) -> bool:
    return a.dtype == b.dtype and a.dtype in (np.dtype(np.int8), np.dtype(np.uint8))


def _all_pairs(dtype):
    """Every (a, b) pair of an 8-bit type, in the order of pair_index: a = index >> 8, b = index & 255."""
    v = np.arange(256, dtype=np.uint8).view(dtype)
    return np.repeat(v, 256), np.tile(v, 256)


def pair_index(a, b) -> np.ndarray:
    """Flat table index (a_byte << 8) | b_byte over the broadcast shape of two 8-bit arrays."""
    a, b = np.broadcast_arrays(a, b)
    idx = a.view(np.uint8).astype(np.uint16)
    idx <<= 8
    idx |= b.view(np.uint8)
    return idx.reshape(-1)


class _QAddSub:
    """8-bit inputs: every kernel path is a pure function of the (a, b) pair, so each one is evaluated once
    on all 65536 pairs (through the integer code below) and the op becomes table lookups."""
    sign = 1
    _luts = None

    def __init__(self, node):
        a, b, o = node.inputs[0], node.inputs[1], node.outputs[0]
        act = node.options.get("fused_activation_function", "NONE")
        self.lo, self.hi = Q.activation_range(act, o.quantization.scale, o.quantization.zero_point, o.type_name)
        self.za, self.zb, self.zo = a.quantization.zero_point, b.quantization.zero_point, o.quantization.zero_point
        self.dtype = o.dtype
        self.left_shift = 15 if a.type_name == "INT16" else 20
        sa = float(np.float32(a.quantization.scale))
        sb = float(np.float32(b.quantization.scale))
        so = float(np.float32(o.quantization.scale))
        twice_max = 2.0 * max(sa, sb)
        self.qa, self.sha = Q.quantize_multiplier(sa / twice_max)
        self.qb, self.shb = Q.quantize_multiplier(sb / twice_max)
        self.qo, self.sho = Q.quantize_multiplier(twice_max / ((1 << self.left_shift) * so))
        # int16 with power-of-two scales everywhere: LiteRT shifts one input and adds with saturation
        self.pot = None
        if a.type_name == "INT16" and o.type_name == "INT16":
            logs = [_checked_log2(x) for x in (sa, sb, so)]
            if all(l is not None for l in logs):
                s1, s2 = logs[0] - logs[2], logs[1] - logs[2]
                if s1 != 0 and s2 != 0:
                    raise ValueError("int16 ADD/SUB with power-of-two scales can shift only one input")
                self.pot = (s1, s2)
        # LiteRT's optimized int8 kernel runs NEON vector loops (emulated on x86) with their own rounding
        self.neon = node.resolver != "BUILTIN_REF" and a.type_name in ("INT8", "UINT8") and self.sign > 0
        # int8: AddElementwiseInt8 (16 wide, combined shift); uint8: AddElementwise (8 wide, shift after)
        self.uint8 = a.type_name == "UINT8"

    def _std(self, a, b):
        va = (a.astype(np.int64) - self.za) << self.left_shift
        vb = (b.astype(np.int64) - self.zb) << self.left_shift
        # (shifts are <= 0 here, so this is MultiplyByQuantizedMultiplierSmallerThanOneExp)
        sa = Q.multiply_by_quantized_multiplier(va, self.qa, self.sha)
        sb = Q.multiply_by_quantized_multiplier(vb, self.qb, self.shb)
        raw = sa + sb if self.sign > 0 else sa - sb
        return Q.multiply_by_quantized_multiplier(raw, self.qo, self.sho) + self.zo

    def _neon_out(self, raw):
        r = Q.rounding_divide_by_pot(Q.vqrdmulh(raw, self.qo), -self.sho)
        r = Q.wrap16(Q.wrap16(r) + self.zo)            # vmovn to int16, + offset in int16
        return r

    def _neon_elementwise(self, a, b):
        """AddElementwiseInt8's 16-wide loop: combined left shift, vqrdmulh per input."""
        sa = Q.vqrdmulh(Q.vshl(a.astype(np.int64) - self.za, self.left_shift + self.sha), self.qa)
        sb = Q.vqrdmulh(Q.vshl(b.astype(np.int64) - self.zb, self.left_shift + self.shb), self.qb)
        raw = Q._wrap32(sa + sb if self.sign > 0 else sa - sb)
        return self._neon_out(raw)

    def _neon_scalar(self, a, b):
        """AddScalarBroadcast's 8-wide loop: vqrdmulh of the 20-bit shifted value, then a truncating
        shift by the input shift."""
        sa = Q.vshl(Q.vqrdmulh((a.astype(np.int64) - self.za) << self.left_shift, self.qa), self.sha)
        sb = Q.vshl(Q.vqrdmulh((b.astype(np.int64) - self.zb) << self.left_shift, self.qb), self.shb)
        raw = Q._wrap32(sa + sb if self.sign > 0 else sa - sb)
        return self._neon_out(raw)

    def _build_luts(self, dtype):
        av, bv = _all_pairs(dtype)

        def fin(r):
            return np.clip(r, self.lo, self.hi).astype(self.dtype)
        std = fin(self._std(av, bv))
        if not self.neon:
            return std, std, std
        scalar = fin(self._neon_scalar(av, bv))
        elem = scalar if self.uint8 else fin(self._neon_elementwise(av, bv))
        return std, elem, scalar

    def _lut_call(self, a, b):
        if self._luts is None or self._luts[0] != a.dtype:
            self._luts = (a.dtype, self._build_luts(a.dtype))
        std, elem, scalar = self._luts[1]
        shape = np.broadcast_shapes(a.shape, b.shape)
        idx = pair_index(a, b)
        if not self.neon:
            return std.take(idx).reshape(shape)
        if a.shape == b.shape:
            n = idx.size // (8 if self.uint8 else 16) * (8 if self.uint8 else 16)
            out = np.empty(idx.size, self.dtype)
            np.take(elem, idx[:n], out=out[:n])
            np.take(std, idx[n:], out=out[n:])
            return out.reshape(shape)
        out = std.take(idx)
        cat, swap, y = Q.broadcast_fivefold(a.shape, b.shape)
        eblock = 8 if self.uint8 else 16
        if cat == "none":
            n = out.size // eblock * eblock
            out[:n] = elem.take(idx[:n])
        elif cat == "fivefold":
            if y[4] > 1:
                mask, tab = Q.run_masks(out.size, y[4], eblock), elem
            else:
                mask, tab = Q.run_masks(out.size, y[3], 8), scalar
            if mask.any():
                out[mask] = tab.take(idx[mask])
        return out.reshape(shape)

    def __call__(self, a, b):
        if self.pot is None and _lut_ok(a, b):
            return self._lut_call(a, b)
        if self.pot is not None:
            s1, s2 = self.pot
            va, vb = a.astype(np.int64), b.astype(np.int64)
            if s1 != 0:
                va = Q.rounding_divide_by_pot(va, -s1)
            elif s2 != 0:
                vb = Q.rounding_divide_by_pot(vb, -s2)
            r = np.clip(va + vb if self.sign > 0 else va - vb, -32768, 32767)
            np.clip(r, self.lo, self.hi, out=r)
            return r.astype(self.dtype)
        if self.neon and a.shape == b.shape:
            # non-broadcast: vector loop over whole blocks, reference arithmetic on the tail only
            fa, fb = a.reshape(-1), b.reshape(-1)
            block = 8 if self.uint8 else 16
            n = fa.size // block * block
            fn = self._neon_scalar if self.uint8 else self._neon_elementwise
            r = np.empty(fa.size, np.int64)
            if n:
                r[:n] = fn(fa[:n], fb[:n])
            if n < fa.size:
                r[n:] = self._std(fa[n:], fb[n:])
            np.clip(r, self.lo, self.hi, out=r)
            return r.astype(self.dtype).reshape(a.shape)
        r = self._std(a, b)
        if self.neon:
            r = self._apply_neon(a, b, r)
        np.clip(r, self.lo, self.hi, out=r)
        return r.astype(self.dtype)

    def _apply_neon(self, a, b, r):
        cat, swap, y = Q.broadcast_fivefold(a.shape, b.shape)
        if cat == "generic":
            return r
        elementwise, eblock = ((self._neon_scalar, 8) if self.uint8 else (self._neon_elementwise, 16))
        if cat == "none":
            flat = r.reshape(-1)
            n = flat.size // eblock * eblock
            if n:
                v = elementwise(a.reshape(-1)[:n], b.reshape(-1)[:n])
                flat[:n] = v
            return flat.reshape(r.shape)
        ab, bb = np.broadcast_arrays(a, b)
        if y[4] > 1:
            mask = Q.run_masks(r.size, y[4], eblock)
            fn = elementwise
        else:
            mask = Q.run_masks(r.size, y[3], 8)
            fn = self._neon_scalar
        if not mask.any():
            return r
        flat = r.reshape(-1).copy()
        flat[mask] = fn(ab.reshape(-1)[mask], bb.reshape(-1)[mask])
        return flat.reshape(r.shape)


@register("ADD", when=q_binary_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QAdd(_QAddSub):
    sign = 1


@register("SUB", when=q_binary_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QSub(_QAddSub):
    sign = -1


@register("MUL", when=q_binary_node, priority=10, types=("INT8", "UINT8", "INT16"))
class QMul:
    def __init__(self, node):
        a, b, o = node.inputs[0], node.inputs[1], node.outputs[0]
        act = node.options.get("fused_activation_function", "NONE")
        self.lo, self.hi = Q.activation_range(act, o.quantization.scale, o.quantization.zero_point, o.type_name)
        self.za, self.zb, self.zo = a.quantization.zero_point, b.quantization.zero_point, o.quantization.zero_point
        self.dtype = o.dtype
        # the product of the scales is taken in float32, then converted to double
        m = np.float32(np.float32(a.quantization.scale) * np.float32(b.quantization.scale)
                       / np.float32(o.quantization.scale))
        self.q, self.shift = Q.quantize_multiplier(float(m))

    _lut = None

    def _int(self, a, b):
        p = (a.astype(np.int64) - self.za) * (b.astype(np.int64) - self.zb)
        r = Q.multiply_by_quantized_multiplier(p, self.q, self.shift) + self.zo
        np.clip(r, self.lo, self.hi, out=r)
        return r.astype(self.dtype)

    def __call__(self, a, b):
        if _lut_ok(a, b) and a.size + b.size > 4096:
            # a pure function of the (a, b) pair: one table of all 65536 results, then lookups
            if self._lut is None or self._lut[0] != a.dtype:
                self._lut = (a.dtype, self._int(*_all_pairs(a.dtype)))
            return self._lut[1].take(pair_index(a, b)).reshape(np.broadcast_shapes(a.shape, b.shape))
        return self._int(a, b)


@register("SQUARED_DIFFERENCE", when=q_binary_node, priority=10, types=("INT8",))
class QSquaredDifference:
    """(a - b)^2 with a 7-bit left shift on each rescaled input (LiteRT's squared_difference)."""

    def __init__(self, node):
        a, b, o = node.inputs[0], node.inputs[1], node.outputs[0]
        self.za, self.zb, self.zo = a.quantization.zero_point, b.quantization.zero_point, o.quantization.zero_point
        sa, sb, so = (float(np.float32(t.quantization.scale)) for t in (a, b, o))
        self.left_shift = 7
        twice_max = 2.0 * max(sa, sb)
        self.qa, self.sha = Q.quantize_multiplier(sa / twice_max)
        self.qb, self.shb = Q.quantize_multiplier(sb / twice_max)
        self.qo, self.sho = Q.quantize_multiplier(twice_max * twice_max / ((1 << (2 * self.left_shift)) * so))
        act = node.options.get("fused_activation_function", "NONE") if node.options else "NONE"
        self.lo, self.hi = Q.activation_range(act, o.quantization.scale, o.quantization.zero_point, o.type_name)
        self.dtype = o.dtype

    def __call__(self, a, b):
        va = (a.astype(np.int64) - self.za) << self.left_shift
        vb = (b.astype(np.int64) - self.zb) << self.left_shift
        d = Q.mbqm_smaller_than_one(va, self.qa, self.sha) - Q.mbqm_smaller_than_one(vb, self.qb, self.shb)
        r = Q.multiply_by_quantized_multiplier(Q._wrap32(d * d), self.qo, self.sho) + self.zo
        return np.clip(r, self.lo, self.hi).astype(self.dtype)


def _q_uint8_div_node(node) -> bool:
    return q_binary_node(node) and node.inputs[0].type_name == "UINT8"


@register("DIV", when=_q_uint8_div_node, priority=10, types=("UINT8",))
class QDivUint8:
    """uint8 DIV: a fixed-point reciprocal of the divisor, the dividend shifted to its headroom, then the
    scale multiplier (LiteRT's DivElementwise)."""

    def __init__(self, node):
        a, b, o = node.inputs[0], node.inputs[1], node.outputs[0]
        self.za, self.zb, self.zo = a.quantization.zero_point, b.quantization.zero_point, o.quantization.zero_point
        sa, sb, so = (np.float32(t.quantization.scale) for t in (a, b, o))
        # the real multiplier is a float32 expression
        self.q, self.shift = Q.quantize_multiplier(float(np.float32(sa / np.float32(sb * so))))
        act = node.options.get("fused_activation_function", "NONE")
        self.lo, self.hi = Q.activation_range(act, o.quantization.scale, o.quantization.zero_point, o.type_name)

    @staticmethod
    def _rdbpot32(x, e):
        """RoundingDivideByPOT on int32 as compiled for x86: exponents >= 32 give an all-ones mask and a
        shift count taken modulo 32."""
        x = np.asarray(x, np.int64)
        e = np.asarray(e, np.int64)
        big = e >= 32
        mask = np.where(big, -1, (np.int64(1) << np.minimum(e, 31)) - 1)
        rem = x & mask
        thr = (mask >> 1) + (x < 0)
        return (x >> np.where(big, e & 31, e)) + (rem > thr)

    def __call__(self, a, b):
        from ..fixedpoint import count_leading_zeros32, get_reciprocal, mbqm_greater_than_one
        v1 = a.astype(np.int64) - self.za
        v2 = b.astype(np.int64) - self.zb
        v1, v2 = np.broadcast_arrays(v1, v2)
        if np.any(v2 == 0):
            raise ValueError("DIV by a quantized zero")
        neg = v2 < 0
        v1 = np.where(neg, -v1, v1)
        v2 = np.where(neg, -v2, v2)
        inv, recip_shift = get_reciprocal(v2, 31)
        # CountLeadingSignBits of an int32: leading zeros of x (x >= 0) or ~x (x < 0), minus one
        mag = np.where(v1 >= 0, v1, ~v1)
        headroom = np.where(v1 == 0, 31, count_leading_zeros32(mag) - 1)
        unscaled = mbqm_greater_than_one(v1, inv, headroom)
        total = self.shift - recip_shift - headroom
        r = self._rdbpot32(Q.saturating_rounding_doubling_high_mul(unscaled, self.q), -total) + self.zo
        return np.clip(r, self.lo, self.hi).astype(np.uint8)
