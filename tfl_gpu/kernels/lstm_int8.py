"""Fully-integer LSTM (LiteRT's "8x8_16" kernel): LSTM and UNIDIRECTIONAL_SEQUENCE_LSTM with int8 input,
int8 weights, int32 biases, an int8 output state and an int16 cell state (power-of-two scale), and five
intermediate tensors whose last one gives the quantization of the hidden value (output gate * tanh(cell)).

Each gate is int16 Q3.12: the input and recurrent products are rescaled with their effective multipliers
(weight scale * operand scale / 2**-12) and added with int16 saturation; gates go through gemmlowp's
fixed-point logistic / tanh (tabulated here over all 65536 int16 inputs, computed with the int16 fixed-point
arithmetic of gemmlowp), the cell update multiplies with rounding shifts, and the hidden value is requantized
to int8 (optionally through the projection). Bit-exact with LiteRT's portable integer LSTM code.

Layer normalization (integer mean/variance with the fixed-point inverse square root) and int16 peephole
weights are supported. Not covered: the 8x8_8 kernel (12 intermediates), refused with a clear error.
"""
from __future__ import annotations

import math

import numpy as np

from .. import fixedpoint as F
from .. import quant as Q
from .recurrent import _state_view, basic_lstm_shapes, state_check
from .registry import register

# --------------------------------------------------------------------------- gemmlowp int16 fixed point
# The int16 fixed-point helpers live in tfl_gpu/fixedpoint.py (shared with the int16 LOGISTIC/TANH kernels).

_wrap16 = Q.wrap16
_rdbpot = Q.rounding_divide_by_pot        # RoundingDivideByPOT (halves away from zero)
_srdhm16 = F.srdhm16
_srmbpot16 = F.sat_mul_pot16              # SaturatingRoundingMultiplyByPOT<e> on int16


def _sat16(x):
    return np.clip(np.asarray(x, np.int64), -32768, 32767)


_ALL16 = np.arange(-32768, 32768, dtype=np.int64)
_TABLES: dict = {}


def sigmoid_table() -> np.ndarray:
    """gemmlowp::logistic of every Q3.12 int16 value, as Q0.15 (index = raw + 32768)."""
    if "sigmoid" not in _TABLES:
        _TABLES["sigmoid"] = F.logistic16(_ALL16, 3).astype(np.int16)
    return _TABLES["sigmoid"]


def tanh_table(k: int) -> np.ndarray:
    """gemmlowp::tanh of every int16 value with k integer bits, as Q0.15."""
    key = ("tanh", k)
    if key not in _TABLES:
        _TABLES[key] = F.tanh16(_ALL16, k).astype(np.int16)
    return _TABLES[key]


# --------------------------------------------------------------------------- layer normalization

def layer_norm16(gate, weights, bias, scale_ab, guard):
    """PortableApplyLayerNorm on a [B, n] int16 gate (int64 array): Q3.12 output."""
    n = gate.shape[1]
    out = np.empty_like(gate)
    for b in range(gate.shape[0]):
        v = gate[b]
        s = int(v.sum())
        sq = int((v * v).sum())
        mean = _cdiv(s * 1024, n)
        temp = (1 << 20) // n
        var = sq * temp - mean * mean
        var2 = _cdiv(var, 1 << 20)
        var2 = int(Q._wrap32(np.int64(var2)))
        if var2 < 1:
            var2 = guard
        a, sh = (int(v) for v in F.inv_sqrt_quantized_multiplier_exp(var2, -1))
        shifted = Q._wrap32(1024 * v - mean)
        rescaled = Q.multiply_by_quantized_multiplier(shifted, a, sh)
        val3 = Q._wrap32(Q._wrap32(rescaled * weights) + bias)
        num = np.where(val3 > 0, val3 + 512, val3 - 512)
        val4 = np.where(num >= 0, num // 1024, -((-num) // 1024))
        val5 = Q.multiply_by_quantized_multiplier(Q._wrap32(val4), scale_ab[0], scale_ab[1] + 12)
        out[b] = np.clip(val5, -32768, 32767)
    return out


def _cdiv(a: int, b: int) -> int:
    """C++ integer division (truncation toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


# --------------------------------------------------------------------------- kernel

def _f32(x) -> np.float32:
    return np.float32(x)


def _scale(t) -> np.float32:
    q = t.quantization
    if q.scales is None or q.scales.size == 0:
        raise ValueError(f"tensor '{t.name}' has no quantization scale")
    s = _f32(q.scales[0])
    if not (np.isfinite(s) and s > 0):
        raise ValueError(f"tensor '{t.name}' has an invalid quantization scale {s}")
    return s


def _zp(t) -> int:
    return int(t.quantization.zero_points[0]) if t.quantization.zero_points.size else 0


def _mbqm(x, qs):
    """MultiplyByQuantizedMultiplier of int32 accumulators (C int32 wrap first)."""
    return Q.multiply_by_quantized_multiplier(Q._wrap32(np.asarray(x, np.int64)), qs[0], qs[1])


class _Requant:
    """MultiplyByQuantizedMultiplier with (per-column) multipliers fixed in advance: the same arithmetic as
    quant.multiply_by_quantized_multiplier (q >= 0: the doubling high multiply is (x*q + 2**30) >> 31, then a
    rounding right shift with halves away from zero), in fewer numpy calls for the per-step loop."""

    def __init__(self, q, shift):
        q = np.asarray(q, np.int64)
        shift = np.asarray(shift, np.int64)
        if np.any(q < 0):
            raise ValueError("negative quantized multiplier")
        self.q = q
        self.left = np.maximum(shift, 0)
        self.any_left = bool(np.any(self.left))
        right = np.maximum(-shift, 0)
        self.right = right
        self.half = np.where(right > 0, np.left_shift(1, np.maximum(right - 1, 0)), 0).astype(np.int64)
        self.has_right = right > 0

    def __call__(self, x):
        x = Q._wrap32(np.asarray(x, np.int64))
        if self.any_left:
            x = Q._wrap32(x << self.left)
        t = x * self.q
        t += 1 << 30
        t >>= 31
        t += self.half
        t -= (t < self.half) & self.has_right          # t - half < 0: one less before the floor shift
        t >>= self.right
        return t


def _integer_lstm_node(node) -> bool:
    x = node.inputs[0]
    return x is not None and x.type_name == "INT8" and len(node.inputs) in (20, 24)


class _IntegerLstmCell:
    def __init__(self, node, op: str):
        t = node.inputs
        n_inter = len(node.intermediates)
        if n_inter != 5:
            raise ValueError(f"{op}: integer LSTM needs 5 intermediate tensors (8x8_16 kernel), the model has "
                             f"{n_inter}" + (" (the 8x8_8 kernel is not supported)" if n_inter == 12 else ""))
        self.batch_major = False          # set by the sequence op: LiteRT then steps each batch row alone
        self.layer_norm = len(t) == 24 and t[21] is not None
        self.peephole = t[11] is not None
        self.cifg = t[1] is None
        x_t, h_t, c_t = t[0], t[18], t[19]
        for tt, what in ((x_t, "input"), (h_t, "output state"), (c_t, "cell state")):
            if tt is None or not tt.quantization.is_quantized:
                raise ValueError(f"{op}: the {what} tensor must be quantized")
        if h_t.type_name != "INT8" or c_t.type_name != "INT16":
            raise ValueError(f"{op}: integer LSTM needs an INT8 output state and an INT16 cell state")
        log2 = math.log2(float(_scale(c_t)))
        cell_scale = int(round(log2))
        if abs(log2 - cell_scale) > 1e-3 or cell_scale > -9:
            raise ValueError(f"{op}: the cell state scale must be a power of two <= 2**-9, got {_scale(c_t)}")
        self.cell_scale = cell_scale
        if 15 + cell_scale > 6:
            raise ValueError(f"{op}: cell state scale 2**{cell_scale} is too coarse")
        x_scale, h_scale = _scale(x_t), _scale(h_t)
        self.x_zp, self.h_zp = _zp(x_t), _zp(h_t)
        hidden_t = node.intermediates[4]
        hidden_scale = _scale(hidden_t)
        self.hidden_zp = _zp(hidden_t)
        gates = ([] if self.cifg else [0]) + [1, 2, 3]
        self.gates = gates
        self.w_in, self.w_rec, self.b_in, self.b_rec, self.s_in, self.s_rec = {}, {}, {}, {}, {}, {}
        self.peep, self.s_peep, self.ln_w, self.ln_b, self.s_ln, self.guard = {}, {}, {}, {}, {}, {}
        for g in gates:
            if self.layer_norm:
                gate_scale = _scale(node.intermediates[g])
                lw = node.const(20 + g)
                if lw is None or t[20 + g].type_name != "INT16":
                    raise ValueError(f"{op}: integer layer norm coefficients must be constant INT16")
                ln_scale = _scale(t[20 + g])
                self.ln_w[g] = lw.astype(np.int64)
                lb = node.const(12 + g)
                self.ln_b[g] = np.zeros(lw.shape[0], np.int64) if lb is None else lb.astype(np.int64)
                self.s_ln[g] = Q.quantize_multiplier(float(ln_scale))
                self.guard[g] = max(1, int(_f32(_f32(10000) * ln_scale)))
            else:
                gate_scale = _f32(2.0 ** -12)
            if self.peephole and g != 2:
                pi = {0: 9, 1: 10, 3: 11}[g]
                pw, pt = node.const(pi), t[pi]
                if pw is None or pt.type_name != "INT16":
                    raise ValueError(f"{op}: integer peephole weights must be constant INT16")
                self.peep[g] = pw.astype(np.int64).reshape(-1)
                eff = _f32(2.0 ** cell_scale * float(_scale(pt)) / float(gate_scale))
                self.s_peep[g] = Q.quantize_multiplier(float(eff))
            wi = node.const(1 + g)
            wr = node.const(5 + g)
            if wi is None or wr is None:
                raise ValueError(f"{op}: integer LSTM weights must be constant")
            wi = wi.astype(np.int64)
            wr = wr.astype(np.int64)
            bias = None if self.layer_norm else node.const(12 + g)
            b = np.zeros(wi.shape[0], np.int64) if bias is None else bias.astype(np.int64)
            self.w_in[g] = wi.T.astype(np.float64)
            self.w_rec[g] = wr.T.astype(np.float64)
            self.b_in[g] = Q._wrap32(b - self.x_zp * wi.sum(axis=1))
            self.b_rec[g] = Q._wrap32(-self.h_zp * wr.sum(axis=1))
            ein = _f32(_f32(_scale(t[1 + g]) * x_scale) / gate_scale)
            erec = _f32(_f32(_scale(t[5 + g]) * h_scale) / gate_scale)
            self.s_in[g] = Q.quantize_multiplier(float(ein))
            self.s_rec[g] = Q.quantize_multiplier(float(erec))
        self.n_cell = self.w_in[1].shape[1]
        self.n_output = self.w_rec[1].shape[0]
        eff_hidden = _f32(2.0 ** -15 / float(hidden_scale) * 2.0 ** -15)
        self.s_hidden = Q.quantize_multiplier(float(eff_hidden))
        pw = node.const(16)
        self.proj = pw is not None
        if self.proj:
            pw = pw.astype(np.int64)
            self.n_output = pw.shape[0]
            pb = node.const(17)
            pbias = np.zeros(pw.shape[0], np.int64) if pb is None else pb.astype(np.int64)
            self.w_proj = pw.T.astype(np.float64)
            self.b_proj = Q._wrap32(pbias + self.hidden_zp * pw.sum(axis=1))
            eff_proj = _f32(_f32(_scale(t[16]) * hidden_scale) / h_scale)
            self.s_proj = Q.quantize_multiplier(float(eff_proj))
        opts = node.options
        cell_clip = float(opts.get("cell_clip", 0.0) or 0.0)
        proj_clip = float(opts.get("proj_clip", 0.0) or 0.0)
        self.cell_clip = int(np.clip(_f32(cell_clip) / _scale(c_t), -32768, 32767)) if cell_clip > 0 else 0
        out_scale = _scale(node.outputs[0]) if node.outputs[0].quantization.is_quantized else h_scale
        self.proj_clip = int(np.clip(_f32(proj_clip) / out_scale, -128, 127)) if proj_clip > 0 else 0
        self.sig = sigmoid_table()
        self.tanh3 = tanh_table(3)
        self.tanh_cell = tanh_table(15 + cell_scale)

    def _stack(self):
        """All gates side by side: one GEMM and one vectorized requantization for each operand."""
        G = self.gates
        C = self.n_cell
        self.slot = {g: k for k, g in enumerate(G)}
        cat = np.concatenate
        self.W_in = cat([self.w_in[g] for g in G], axis=1)
        self.W_rec = cat([self.w_rec[g] for g in G], axis=1)
        # float32 GEMMs are exact while every partial sum stays below 2**24
        if self.W_in.shape[0] * 128 * 128 < (1 << 24):
            self.W_in = self.W_in.astype(np.float32)
        if self.W_rec.shape[0] * 128 * 128 < (1 << 24):
            self.W_rec = self.W_rec.astype(np.float32)
        self.B_in = cat([self.b_in[g] for g in G])
        self.B_rec = cat([self.b_rec[g] for g in G])
        self.Q_in = _Requant(cat([np.full(C, self.s_in[g][0], np.int64) for g in G]),
                             cat([np.full(C, self.s_in[g][1], np.int64) for g in G]))
        self.Q_rec = _Requant(cat([np.full(C, self.s_rec[g][0], np.int64) for g in G]),
                              cat([np.full(C, self.s_rec[g][1], np.int64) for g in G]))
        self.R_hidden = _Requant(*self.s_hidden)
        if self.proj:
            self.R_proj = _Requant(*self.s_proj)

    def _peephole(self, gate, g, c):
        # LiteRT walks the peephole product with the output size as vector length: over the first
        # batch * n_output elements of the flattened gate and cell state, with weights [0, n_output)
        # (the intended per-cell product whenever n_output == n_cell); the batch-major sequence kernel
        # steps one batch row at a time, so there it covers the first n_output values of each row
        B, C = gate.shape
        O = min(self.n_output, C)
        if self.batch_major:
            gate = gate.copy()
            gate[:, :O] = _sat16(gate[:, :O] + _mbqm(self.peep[g][:O] * c[:, :O], self.s_peep[g]))
            return gate
        n = B * O
        gf = gate.reshape(-1).copy()
        w = np.tile(self.peep[g][:O], B)
        gf[:n] = _sat16(gf[:n] + _mbqm(w * c.reshape(-1)[:n], self.s_peep[g]))
        return gf.reshape(B, C)

    def _finish(self, gates, g, c):
        """Peephole and layer norm of gate g (slice of the stacked pre-activations)."""
        C = self.n_cell
        k = self.slot[g]
        gate = gates[:, k * C:(k + 1) * C]
        if self.peephole and g != 2:
            gate = self._peephole(gate, g, c)
        if self.layer_norm:
            gate = layer_norm16(gate, self.ln_w[g], self.ln_b[g], self.s_ln[g], self.guard[g])
        return gate

    def run(self, x_seq, h, c, reverse=False):
        """x_seq: int8 [T, B, I]; h int8 [B, O] and c int16 [B, C] updated in place; returns int8 [T, B, O]."""
        if not hasattr(self, "W_in"):
            self._stack()
        T, B = x_seq.shape[:2]
        C = self.n_cell
        xs = x_seq.reshape(T * B, x_seq.shape[2]).astype(self.W_in.dtype)
        acc = self.B_in + (xs @ self.W_in).astype(np.int64)
        pre = _sat16(self.Q_in(acc)).reshape(T, B, -1)       # gate = sat(0 + input part)
        out = np.empty((T, B, self.n_output), np.int8)
        order = range(T - 1, -1, -1) if reverse else range(T)
        cs = self.cell_scale
        plain = not (self.peephole or self.layer_norm)
        k = 0 if self.cifg else 1
        sig, tanh3 = self.sig, self.tanh3
        for t in order:
            hv = h.astype(self.W_rec.dtype)
            cv = c.astype(np.int64)
            acc = self.B_rec + (hv @ self.W_rec).astype(np.int64)
            gates = _sat16(pre[t] + self.Q_rec(acc))
            if plain:
                act = sig[gates + 32768].astype(np.int64)
                fg = act[:, k * C:(k + 1) * C]
                gg = tanh3[gates[:, (k + 1) * C:(k + 2) * C] + 32768].astype(np.int64)
                ig = act[:, :C] if not self.cifg else 32767 - fg
            else:
                fg = sig[self._finish(gates, 1, cv) + 32768].astype(np.int64)
                gg = tanh3[self._finish(gates, 2, cv) + 32768].astype(np.int64)
                ig = sig[self._finish(gates, 0, cv) + 32768].astype(np.int64) if not self.cifg else 32767 - fg
            cn = _wrap16(_rdbpot(fg * cv, 15))
            cn = _sat16(cn + _wrap16(_rdbpot(ig * gg, 30 + cs)))
            if self.cell_clip > 0:
                cn = np.clip(cn, -self.cell_clip, self.cell_clip)
            if plain:
                og = act[:, (k + 2) * C:(k + 3) * C]
            else:
                og = sig[self._finish(gates, 3, cn) + 32768].astype(np.int64)
            prod = og * self.tanh_cell[cn + 32768]
            if self.proj:
                s1 = np.clip(self.R_hidden(prod) - self.hidden_zp, -128, 127)
                acc = self.b_proj + (s1.astype(np.float64) @ self.w_proj).astype(np.int64)
                hn = np.clip(self.R_proj(acc) + self.h_zp, -128, 127)
                if self.proj_clip > 0:
                    hn = np.clip(hn, -self.proj_clip, self.proj_clip)
            else:
                hn = np.clip(self.R_hidden(prod) + self.hidden_zp, -128, 127)
            c[...] = cn
            h[...] = hn
            out[t] = hn
        return out


@register("LSTM", when=_integer_lstm_node, priority=5, types=("INT8 (8x8_16)",))
class IntegerLstm:
    def __init__(self, node):
        self.cell = _IntegerLstmCell(node, "LSTM")
        self.bad_state = state_check(node, [18, 19], "LSTM")

    def __call__(self, *args):
        if self.bad_state:
            raise ValueError(self.bad_state)
        x = args[0]
        if x.ndim != 2:
            raise ValueError(f"LSTM input must be 2-D [batch, input], got shape {list(x.shape)}")
        B = x.shape[0]
        cell = self.cell
        h = _state_view(args[18], B, cell.n_output, "LSTM output state")
        c = _state_view(args[19], B, cell.n_cell, "LSTM cell state")
        return cell.run(x[None], h, c)[0]


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", when=_integer_lstm_node, priority=5, types=("INT8 (8x8_16)",))
class IntegerSequenceLstm:
    def __init__(self, node):
        self.cell = _IntegerLstmCell(node, "UNIDIRECTIONAL_SEQUENCE_LSTM")
        self.time_major = bool(node.options.get("time_major", False))
        self.cell.batch_major = not self.time_major
        self.bad_state = state_check(node, [18, 19], "UNIDIRECTIONAL_SEQUENCE_LSTM")

    def __call__(self, *args):
        if self.bad_state:
            raise ValueError(self.bad_state)
        x = args[0]
        if x.ndim != 3:
            raise ValueError(f"UNIDIRECTIONAL_SEQUENCE_LSTM input must be 3-D, got shape {list(x.shape)}")
        xs = x if self.time_major else x.transpose(1, 0, 2)
        cell = self.cell
        B = xs.shape[1]
        h = _state_view(args[18], B, cell.n_output, "UNIDIRECTIONAL_SEQUENCE_LSTM output state")
        c = _state_view(args[19], B, cell.n_cell, "UNIDIRECTIONAL_SEQUENCE_LSTM cell state")
        out = cell.run(xs, h, c)
        return out if self.time_major else np.ascontiguousarray(out.transpose(1, 0, 2))


# --------------------------------------------------------------------------- quantized basic LSTM cell

def _uint8_basic_lstm_node(node) -> bool:
    kt = node.options.get("kernel_type", 0)
    x = node.inputs[0] if node.inputs else None
    return kt in (1, "BASIC") and len(node.inputs) == 5 and x is not None and x.type_name == "UINT8"


@register("LSTM", when=_uint8_basic_lstm_node, priority=5, types=("UINT8 basic (int16 state)",))
class QuantizedBasicLstm:
    """The quantized 5-input LSTM cell (kernel_type BASIC): uint8 input and activation (zero point 128),
    uint8 weights [4O, I+O], int32 bias, int16 state with 4 integer bits. Gates: input, new input, forget,
    output, from a fully connected layer requantized to Q3.12 (multiplier 4096 * bias scale); gemmlowp
    fixed-point logistic/tanh; outputs activation, state, concat_temp [B, I+O] and activation_temp [B, 4O].
    The new activation and state are also written back into prev_activation / prev_state (LiteRT does)."""

    def __init__(self, node):
        if len(node.outputs) != 4:
            raise ValueError(f"LSTM basic kernel has 4 outputs, got {len(node.outputs)}")
        x_t, h_t, w_t, b_t, c_t = node.inputs
        if not (h_t.type_name == "UINT8" and w_t.type_name == "UINT8" and b_t.type_name == "INT32"
                and c_t.type_name == "INT16"):
            raise ValueError("Unsupported combination of data types for LstmCell")
        st = node.outputs[1]
        log2 = math.log2(float(_scale(st)))
        if abs(log2 - round(log2)) > 1e-3:
            raise ValueError("The internal state of a LSTM cell must have a power-of-two scale.")
        if 15 + int(round(log2)) != 4:
            raise ValueError("The only case of quantized LstmCell currently supported is with StateIntegerBits==4")
        self.q = Q.quantize_multiplier(4096 * float(_scale(b_t)))
        self.w_zp = _zp(w_t)
        self.writeback = [t is not None and not t.is_constant for t in (h_t, c_t)]
        self.sig = sigmoid_table()
        self.tanh3 = tanh_table(3)

    def __call__(self, x, h, w, b, c):
        B, O = basic_lstm_shapes(x, h, w, b, c)
        concat = np.concatenate([x, h], axis=1)
        xi = concat.astype(np.float64) - 128
        wi = np.asarray(w, np.float64) - self.w_zp
        acc = np.asarray(b, np.int64).reshape(1, -1) + (xi @ wi.T).astype(np.int64)
        act = _sat16(_mbqm(acc, self.q))
        sig, tanh3 = self.sig, self.tanh3
        ig = sig[act[:, :O] + 32768].astype(np.int64)
        gg = tanh3[act[:, O:2 * O] + 32768].astype(np.int64)
        fg = sig[act[:, 2 * O:3 * O] + 32768].astype(np.int64)
        og = sig[act[:, 3 * O:] + 32768].astype(np.int64)
        i_times_g = _srdhm16(ig, gg)
        f_times_c = _srdhm16(fg, c.astype(np.int64))
        new_state = _sat16(_srmbpot16(i_times_g, -4) + f_times_c)
        out16 = _srdhm16(og, tanh3[_srmbpot16(new_state, 1) + 32768].astype(np.int64))
        activ = (np.clip(_rdbpot(out16, 8), -128, 127) + 128).astype(np.uint8)
        state = new_state.astype(np.int16)
        for arr, new, wb in ((h, activ, self.writeback[0]), (c, state, self.writeback[1])):
            if wb and arr.flags.writeable:
                arr[...] = new
        return activ, state, concat.astype(np.uint8), act.astype(np.int16)
