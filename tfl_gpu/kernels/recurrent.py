"""Recurrent and sequence operators: RNN, UNIDIRECTIONAL_SEQUENCE_RNN, BIDIRECTIONAL_SEQUENCE_RNN, SVDF,
LSTM, UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM.

Float32 kernels and hybrid (dynamic-range) kernels: int8 weights with a per-tensor scale, float activations.
Hybrid kernels quantize each batch row of their float operands on the fly, as LiteRT does
(symmetric to [-127, 127], or asymmetric to [-128, 127] with ``asymmetric_quantize_inputs``), multiply in
exact integers and rescale by ``row_scale * weight_scale``.

State tensors are variable tensors (``Tensor.is_variable``): the executor allocates them once and passes
the same array to every invoke, so the kernels update them in place (``state[...] = new``) and the state
carries over to the next invoke until ``reset_all_variables``.

The input-to-gate products of a whole sequence do not depend on the state: they are computed with one GEMM
for every time step before the recurrent loop, which only multiplies the state.

LiteRT's observable behaviour is reproduced where it departs from the textbook formulas (each is covered by
a test against LiteRT): an LSTM with no fused activation outputs output_gate * cell_gate (LiteRT leaves the
cell-gate scratch in place of the activated cell state); BIDIRECTIONAL_SEQUENCE_RNN steps through the aux
input with the input's feature size on its time-major and hybrid paths, its batch-major backward cell reads
the input even when an aux input without weights should replace it, and its hybrid time-major kernel runs
the sequence max_time times; UINT8 hybrid weight buffers are read as int8.
"""
from __future__ import annotations

import numpy as np

from .. import quant as Q
from .registry import register

F32 = np.float32


# ----------------------------------------------------------------------------------------- activations

def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (F32(1) / (F32(1) + np.exp(-x))).astype(F32, copy=False)


def _check_act(act, op: str):
    if act not in ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGMOID", "SIGN_BIT", None):
        raise ValueError(f"{op}: unsupported fused activation {act}")
    return act or "NONE"


def _activate(x: np.ndarray, act: str) -> np.ndarray:
    """TFLite's ApplyActivationToVector (the recurrent ops honour TANH, SIGMOID and SIGN_BIT: 1 where the
    sign bit is set, else 0)."""
    if act == "NONE":
        return x
    if act == "TANH":
        return np.tanh(x)
    if act == "SIGMOID":
        return _sigmoid(x)
    if act == "RELU":
        return np.maximum(x, F32(0))
    if act == "RELU6":
        return np.clip(x, F32(0), F32(6))
    if act == "RELU_N1_TO_1":
        return np.clip(x, F32(-1), F32(1))
    if act == "SIGN_BIT":
        return np.signbit(x).astype(F32)
    raise ValueError(f"unsupported fused activation {act}")


# ----------------------------------------------------------------------------------------- hybrid math

def _round_away(v: np.ndarray) -> np.ndarray:
    """std::round of float32 values (halves away from zero), exact: the half is added in float64."""
    return np.copysign(np.floor(np.abs(v).astype(np.float64) + 0.5), v)


def quantize_rows(x: np.ndarray, asymmetric: bool):
    """Quantizes each row of a float32 [rows, k] array like LiteRT's (A)SymmetricQuantizeFloats.
    Returns (q as float64 integers [rows, k], scaling factor float32 [rows], zero point float64 [rows])."""
    x = np.asarray(x, F32)
    rows = x.shape[0]
    if x.shape[1] == 0:
        return np.zeros(x.shape), np.ones(rows, F32), np.zeros(rows)
    if not asymmetric:
        rng = np.abs(x).max(axis=1)                  # max(|min|, |max|)
        zero = rng == 0
        safe = np.where(zero, F32(1), rng)
        sf = np.where(zero, F32(1), safe / F32(127)).astype(F32)
        inv = (F32(127) / safe).astype(F32)
        q = _round_away((x * inv[:, None]).astype(F32))
        np.clip(q, -127, 127, out=q)
        if zero.any():
            q[zero] = 0
        return q, sf, np.zeros(rows)
    rmin = np.minimum(F32(0), x.min(axis=1)).astype(np.float64)
    rmax = np.maximum(F32(0), x.max(axis=1)).astype(np.float64)
    zero = rmin == rmax
    scale = np.where(zero, 1.0, (rmax - rmin) / 255.0)
    zp_min = -128.0 - rmin / scale
    zp_max = 127.0 - rmax / scale
    err_min = 128.0 + np.abs(rmin / scale)
    err_max = 127.0 + np.abs(rmax / scale)
    zpd = np.where(err_min < err_max, zp_min, zp_max)
    zp = np.where(zpd <= -128.0, -128.0, np.where(zpd >= 127.0, 127.0, Q.round_half_away(zpd)))
    zp = np.where(zero, 0.0, zp)
    sf = np.where(zero, F32(1), scale.astype(F32)).astype(F32)
    inv = (F32(1) / sf).astype(F32)
    v = (zp.astype(F32)[:, None] + x * inv[:, None]).astype(F32)
    q = _round_away(v)
    np.clip(q, -128, 127, out=q)
    if zero.any():
        q[zero] = 0
    return q, sf, zp


class HybridMatrix:
    """An int8 weight matrix [n, k] with per-tensor ``scales`` per block of rows (one per stacked gate):
    ``(x_rows) -> float32 [rows, n]`` = dot(q(x) - zp, w) * (row_scale * weight_scale). The integer dot
    products run in float32 BLAS where every partial sum is exact (k * 255 * 127 < 2**24), else float64."""

    def __init__(self, w_int: np.ndarray, row_scales: np.ndarray):
        w = np.asarray(w_int, np.int64)
        self.n, self.k = w.shape
        self.dt = np.float32 if self.k * 256 * 128 < (1 << 24) else np.float64
        self.wt = np.ascontiguousarray(w.T.astype(self.dt))
        self.wsum = w.sum(axis=1).astype(self.dt)
        self.scales = np.asarray(row_scales, F32)       # [n]

    def __call__(self, x: np.ndarray, asymmetric: bool) -> np.ndarray:
        q, sf, zp = quantize_rows(x, asymmetric)
        dot = q.astype(self.dt) @ self.wt
        if asymmetric:
            dot -= zp.astype(self.dt)[:, None] * self.wsum[None, :]
        prod = (sf[:, None] * self.scales[None, :]).astype(F32)
        return dot.astype(F32) * prod


class FloatMatrix:
    """A float weight matrix [n, k] as ``(x_rows) -> x @ w.T`` (float32 BLAS)."""

    def __init__(self, w: np.ndarray):
        self.wt = np.ascontiguousarray(np.asarray(w, F32).T)
        self.n = self.wt.shape[1]

    def __call__(self, x: np.ndarray, asymmetric: bool = False) -> np.ndarray:
        return np.asarray(x, F32) @ self.wt


def _is_int_weight(t) -> bool:
    return t is not None and t.type_name in ("INT8", "UINT8")


def _int_values(a) -> np.ndarray:
    """Integer weight values as LiteRT's hybrid kernels read them: UINT8 buffers are read as int8."""
    a = np.asarray(a)
    if a.dtype == np.uint8:
        a = a.view(np.int8)
    return a.astype(np.int64)


def _weight_scale(t) -> float:
    q = t.quantization
    if q.scales is None or q.scales.size == 0:
        return 1.0
    return float(np.float32(q.scales[0]))


def make_matrix(parts: list, tensors: list):
    """Stacks weight matrices (rows) into one matmul operator; hybrid when they are int8."""
    if any(_is_int_weight(t) for t in tensors):
        scales = np.concatenate([np.full(p.shape[0], _weight_scale(t), F32) for p, t in zip(parts, tensors)])
        w = np.concatenate([_int_values(p) for p in parts], axis=0)
        return HybridMatrix(w, scales)
    return FloatMatrix(np.concatenate([np.asarray(p, F32) for p in parts], axis=0))


def _vector(arr, t) -> np.ndarray | None:
    """A 1-D float vector input (peephole / bias / layer norm), dequantized when int8."""
    if arr is None:
        return None
    a = np.asarray(arr)
    if _is_int_weight(t):
        return (_int_values(a).astype(F32) * F32(_weight_scale(t))).astype(F32).reshape(-1)
    return a.astype(F32, copy=False).reshape(-1)


def _opt(node, name, default):
    v = node.options.get(name, default)
    return default if v is None else v


class _Prepared:
    """Caches preparation (stacked weights) keyed by the identity of the weight arrays."""

    def __init__(self, build):
        self.build = build
        self.key = None
        self.value = None

    def get(self, arrays):
        key = tuple(id(a) for a in arrays)
        if self.key != key or self.value is None:
            self.value = self.build(arrays)
            self.key = key
            self.keep = arrays          # keeps the ids valid
        return self.value


# ============================================================================================ RNN

class _RnnCell:
    def __init__(self, w, w_t, r, r_t, b, aux_w=None, aux_t=None):
        w_s, r_s = np.shape(w), np.shape(r)
        if len(w_s) != 2:
            raise ValueError(f"RNN input weights must be 2-D [units, input], got shape {list(w_s)}")
        U = w_s[0]
        if r_s != (U, U):
            raise ValueError(f"RNN recurrent weights have shape {list(r_s)}, expected [{U}, {U}]")
        if b is not None and np.size(b) != U:
            raise ValueError(f"RNN bias has {np.size(b)} values, expected {U}")
        if aux_w is not None and (np.ndim(aux_w) != 2 or np.shape(aux_w)[0] != U):
            raise ValueError(f"RNN aux input weights have shape {list(np.shape(aux_w))}, expected [{U}, aux_size]")
        self.units = np.asarray(w).shape[0]
        self.in_m = make_matrix([w], [w_t])
        self.rec_m = make_matrix([r], [r_t])
        self.aux_m = make_matrix([aux_w], [aux_t]) if aux_w is not None else None
        self.bias = np.zeros(self.units, F32) if b is None else np.asarray(b, F32).reshape(-1)

    def run(self, x_seq, h, act, asym, reverse=False, aux_seq=None):
        """x_seq [T, B, I]; h [B, U] updated in place; returns [T, B, U]."""
        T, B = x_seq.shape[:2]
        pre = self.in_m(x_seq.reshape(T * B, x_seq.shape[2]), asym).reshape(T, B, self.units)
        pre = pre + self.bias
        if aux_seq is not None and self.aux_m is not None:
            pre = pre + self.aux_m(aux_seq.reshape(T * B, aux_seq.shape[2]), asym).reshape(T, B, self.units)
        out = np.empty((T, B, self.units), F32)
        order = range(T - 1, -1, -1) if reverse else range(T)
        for t in order:
            z = pre[t] + self.rec_m(h, asym)
            hn = _activate(z.astype(F32, copy=False), act)
            h[...] = hn
            out[t] = hn
        return out


def state_check(node, indices, op):
    """LiteRT reads recurrent state through GetVariableInput: a state input that is not a variable tensor
    fails at invoke. Returns that error message (or None) for the kernel to raise when called."""
    for i in indices:
        t = node.inputs[i] if i < len(node.inputs) else None
        if t is None or not t.is_variable:
            return f"{op}: state input {i} must be a variable tensor"
    return None


def _state_view(arr, rows, cols, what):
    if arr is None:
        raise ValueError(f"{what} is missing (state tensors are required)")
    if arr.size != rows * cols:
        raise ValueError(f"{what} has {arr.size} elements, expected {rows} x {cols}")
    if not arr.flags.writeable:
        raise ValueError(f"{what} must be a variable tensor (it is read-only)")
    v = arr.reshape(rows, cols)
    if not np.shares_memory(v, arr):
        raise ValueError(f"{what} is not contiguous")
    return v


def _hybrid_float_node(node) -> bool:
    x = node.inputs[0]
    return x is not None and x.type_name == "FLOAT32"


@register("RNN", when=_hybrid_float_node, types=("FLOAT32", "HYBRID INT8"))
class Rnn:
    """inputs: input [B, I], weights [U, I], recurrent_weights [U, U], bias [U], hidden_state [B, U]."""

    def __init__(self, node):
        self.act = _check_act(_opt(node, "fused_activation_function", "NONE"), "RNN")
        self.asym = bool(_opt(node, "asymmetric_quantize_inputs", False))
        self.node = node
        self.bad_state = state_check(node, [4], "RNN")
        t = node.inputs
        self.cell = _Prepared(lambda a: _RnnCell(a[0], t[1], a[1], t[2], a[2]))

    def __call__(self, x, w, r, b, h):
        if self.bad_state:
            raise ValueError(self.bad_state)
        cell = self.cell.get((w, r, b))
        B = x.shape[0]
        hv = _state_view(h, B, cell.units, "RNN hidden state")
        out = cell.run(x.reshape(1, B, -1).astype(F32, copy=False), hv, self.act, self.asym)
        return out[0]


@register("UNIDIRECTIONAL_SEQUENCE_RNN", when=_hybrid_float_node, types=("FLOAT32", "HYBRID INT8"))
class SequenceRnn:
    def __init__(self, node):
        self.act = _check_act(_opt(node, "fused_activation_function", "NONE"), "UNIDIRECTIONAL_SEQUENCE_RNN")
        self.asym = bool(_opt(node, "asymmetric_quantize_inputs", False))
        self.time_major = bool(_opt(node, "time_major", False))
        self.bad_state = state_check(node, [4], "UNIDIRECTIONAL_SEQUENCE_RNN")
        t = node.inputs
        self.cell = _Prepared(lambda a: _RnnCell(a[0], t[1], a[1], t[2], a[2]))

    def __call__(self, x, w, r, b, h):
        if self.bad_state:
            raise ValueError(self.bad_state)
        if x.ndim != 3:
            raise ValueError(f"UNIDIRECTIONAL_SEQUENCE_RNN input must be 3-D, got shape {list(x.shape)}")
        cell = self.cell.get((w, r, b))
        xs = x if self.time_major else x.transpose(1, 0, 2)
        hv = _state_view(h, xs.shape[1], cell.units, "UNIDIRECTIONAL_SEQUENCE_RNN hidden state")
        out = cell.run(xs.astype(F32, copy=False), hv, self.act, self.asym)
        return out if self.time_major else np.ascontiguousarray(out.transpose(1, 0, 2))


@register("BIDIRECTIONAL_SEQUENCE_RNN", when=_hybrid_float_node, types=("FLOAT32", "HYBRID INT8"))
class BidiSequenceRnn:
    """inputs: 0 input, 1-4 fw (weights, recurrent, bias, hidden state), 5-8 bw, 9 aux_input,
    10 fw_aux_weights, 11 bw_aux_weights. outputs: fw_output, bw_output (one merged output with
    merge_outputs)."""

    def __init__(self, node):
        op = "BIDIRECTIONAL_SEQUENCE_RNN"
        self.act = _check_act(_opt(node, "fused_activation_function", "NONE"), op)
        self.asym = bool(_opt(node, "asymmetric_quantize_inputs", False))
        self.time_major = bool(_opt(node, "time_major", False))
        self.merge = bool(_opt(node, "merge_outputs", False))
        if len(node.inputs) != 12:
            raise ValueError(f"{op} takes 12 inputs, got {len(node.inputs)}")
        if len(node.outputs) != (1 if self.merge else 2):
            raise ValueError(f"{op} has {len(node.outputs)} outputs, expected {1 if self.merge else 2}")
        self.bad_state = state_check(node, [4, 8], op)
        t = node.inputs
        self.fw = _Prepared(lambda a: _RnnCell(a[0], t[1], a[1], t[2], a[2], a[3], t[10]))
        self.bw = _Prepared(lambda a: _RnnCell(a[0], t[5], a[1], t[6], a[2], a[3], t[11]))

    def _aux_rows(self, aux, T, B, I, hybrid):
        """The aux input rows [T, B, A] each step reads. LiteRT steps through the aux tensor with the
        input's feature size where its loops use ``input_size`` (time-major kernels, and the hybrid
        batch-major one): rows are gathered at those offsets, as long as they stay inside the tensor."""
        A = aux.shape[2]
        flat = np.ascontiguousarray(aux, F32).reshape(-1)
        s = np.arange(T)[:, None]
        b = np.arange(B)[None, :]
        if self.time_major:
            base = s * I * B + b * A
        elif hybrid:
            base = b * I * T + s * I
        else:
            base = b * A * T + s * A
        idx = base[:, :, None] + np.arange(A)
        if idx.size and (idx.max() >= flat.size):
            raise ValueError("BIDIRECTIONAL_SEQUENCE_RNN: LiteRT reads the aux input with the input's "
                             f"feature size ({I}) as stride, which runs past the aux tensor of shape "
                             f"{list(aux.shape)}; use an aux input with {I} features")
        return flat[idx]

    def __call__(self, x, fw_w, fw_r, fw_b, fw_h, bw_w, bw_r, bw_b, bw_h, aux=None, fw_aw=None, bw_aw=None):
        op = "BIDIRECTIONAL_SEQUENCE_RNN"
        if self.bad_state:
            raise ValueError(self.bad_state)
        if x.ndim != 3:
            raise ValueError(f"{op} input must be 3-D, got shape {list(x.shape)}")
        fw = self.fw.get((fw_w, fw_r, fw_b, fw_aw))
        bw = self.bw.get((bw_w, bw_r, bw_b, bw_aw))
        tm = (lambda a: a) if self.time_major else (lambda a: a.transpose(1, 0, 2))
        xs = tm(x).astype(F32, copy=False)
        T, B, I = xs.shape
        hybrid = isinstance(fw.in_m, HybridMatrix)
        has_aux = aux is not None
        use_aux_w = fw_aw is not None
        # An aux input without aux weights (stacked layers without cross links) replaces the backward
        # cell's input -- in LiteRT only on the time-major path: its batch-major loops read `input`.
        bw_in = tm(aux).astype(F32, copy=False) if (has_aux and not use_aux_w and self.time_major) else xs
        aux_seq = self._aux_rows(aux, T, B, I, hybrid) if (has_aux and use_aux_w) else None
        fh = _state_view(fw_h, B, fw.units, f"{op} forward hidden state")
        bh = _state_view(bw_h, B, bw.units, f"{op} backward hidden state")
        # LiteRT's hybrid time-major kernel nests its time loops inside another loop over time: the whole
        # sequence runs max_time times (states advance T*T steps, the outputs are the last pass's).
        passes = T if (hybrid and self.time_major) else 1
        for _ in range(passes):
            fo = fw.run(xs, fh, self.act, self.asym, aux_seq=aux_seq)
            bo = bw.run(bw_in, bh, self.act, self.asym, reverse=True, aux_seq=aux_seq)
        back = (lambda a: a) if self.time_major else (lambda a: np.ascontiguousarray(a.transpose(1, 0, 2)))
        if self.merge:
            return back(np.concatenate([fo, bo], axis=2))
        return back(fo), back(bo)


# ============================================================================================ SVDF

@register("SVDF", when=_hybrid_float_node, types=("FLOAT32", "HYBRID INT8"))
class Svdf:
    """inputs: input [B, I], weights_feature [F, I], weights_time [F, M], bias [U] (optional),
    state [B, F*M] (variable). F = U * rank."""

    def __init__(self, node):
        self.act = _check_act(_opt(node, "fused_activation_function", "NONE"), "SVDF")
        self.asym = bool(_opt(node, "asymmetric_quantize_inputs", False))
        self.rank = int(_opt(node, "rank", 0))
        if self.rank <= 0:
            raise ValueError(f"SVDF rank must be positive, got {self.rank}")
        self.bad_state = state_check(node, [4], "SVDF")
        t = node.inputs
        self.prep = _Prepared(lambda a: (make_matrix([a[0]], [t[1]]), _dequant(a[1], t[2])))

    def __call__(self, x, wf, wt, b, state):
        if self.bad_state:
            raise ValueError(self.bad_state)
        feat, wtime = self.prep.get((wf, wt))
        F, M = wtime.shape
        if F % self.rank:
            raise ValueError(f"SVDF: {F} filters do not divide by rank {self.rank}")
        U = F // self.rank
        B = x.shape[0]
        flat = _state_view(state, B, F * M, "SVDF state").reshape(-1)
        _shift_left(flat)
        st = flat.reshape(B, F, M)
        x2 = x.reshape(B, -1).astype(F32, copy=False)
        if isinstance(feat, HybridMatrix):
            st[:, :, M - 1] = feat(x2, self.asym) if np.any(x2) else F32(0)
        else:
            st[:, :, M - 1] = feat(x2)
        scratch = np.einsum("bfm,fm->bf", st, wtime, dtype=F32)
        out = scratch.reshape(B, U, self.rank).sum(axis=2, dtype=F32)
        if b is not None:
            out = out + np.asarray(b, F32).reshape(1, U)
        out = _activate(out.astype(F32, copy=False), self.act)
        return out.astype(F32, copy=False)


def _shift_left(flat: np.ndarray) -> None:
    """LiteRT shifts the whole SVDF state buffer left by one value before each step (the last column of
    every filter then receives the new feature), so after an invoke the state holds the newest features."""
    flat[:-1] = flat[1:].copy()


def _dequant(arr, t):
    a = np.asarray(arr)
    if _is_int_weight(t):
        return (_int_values(a).astype(F32) * F32(_weight_scale(t))).astype(F32)
    return a.astype(F32, copy=False)


# ============================================================================================ LSTM

# Indices of the full LSTM kernel's inputs (LSTM and UNIDIRECTIONAL_SEQUENCE_LSTM).
I2I, I2F, I2C, I2O = 1, 2, 3, 4
R2I, R2F, R2C, R2O = 5, 6, 7, 8
C2I, C2F, C2O = 9, 10, 11
BI, BF, BC, BO = 12, 13, 14, 15
PW, PB = 16, 17
OUT_STATE, CELL_STATE = 18, 19
LNI, LNF, LNC, LNO = 20, 21, 22, 23


_LSTM_INPUT_NAMES = {
    1: "input_to_input_weights", 2: "input_to_forget_weights", 3: "input_to_cell_weights",
    4: "input_to_output_weights", 5: "recurrent_to_input_weights", 6: "recurrent_to_forget_weights",
    7: "recurrent_to_cell_weights", 8: "recurrent_to_output_weights", 9: "cell_to_input_weights",
    10: "cell_to_forget_weights", 11: "cell_to_output_weights", 12: "input_gate_bias", 13: "forget_gate_bias",
    14: "cell_gate_bias", 15: "output_gate_bias", 16: "projection_weights", 17: "projection_bias",
    20: "input_layer_norm_coefficients", 21: "forget_layer_norm_coefficients",
    22: "cell_layer_norm_coefficients", 23: "output_layer_norm_coefficients",
    "aux0": "aux_input_to_input_weights", "aux1": "aux_input_to_forget_weights",
    "aux2": "aux_input_to_cell_weights", "aux3": "aux_input_to_output_weights",
}


def _check_lstm_shapes(get, op, C, gates_in, gates_rec, diagonal):
    """LiteRT's CheckInputTensorDimensions, with the offending input named."""
    def shape(i):
        a = get(i)[0]
        return None if a is None else tuple(np.shape(a))

    def bad(i, want):
        raise ValueError(f"{op}: {_LSTM_INPUT_NAMES[i]} (input {i}) has shape {list(shape(i))}, "
                         f"expected {want}")
    n_input = shape(I2O)[1] if len(shape(I2O)) == 2 else None
    for i in gates_in:
        s = shape(i)
        if len(s) != 2 or s != (C, n_input):
            bad(i, f"[{C}, {n_input}]")
    n_rec = None
    for i in gates_rec:
        s = shape(i)
        if diagonal:
            if s != (C,):
                bad(i, f"[{C}]")
        else:
            n_rec = s[1] if n_rec is None and len(s) == 2 else n_rec
            if len(s) != 2 or s != (C, n_rec):
                bad(i, f"[{C}, n_output]")
    for i in (C2I, C2F, C2O, BI, BF, BC, BO, LNI, LNF, LNC, LNO):
        s = shape(i)
        if s is not None and s != (C,):
            bad(i, f"[{C}]")
    if shape(PW) is not None:
        s = shape(PW)
        if len(s) != 2 or s[1] != C or (n_rec is not None and s[0] != n_rec):
            bad(PW, f"[{n_rec}, {C}]")
        if shape(PB) is not None and shape(PB) != (s[0],):
            bad(PB, f"[{s[0]}]")
    elif shape(PB) is not None:
        raise ValueError(f"{op}: projection_bias without projection_weights")
    aux = ["aux0", "aux1", "aux2", "aux3"] if gates_in[0] == I2I else ["aux1", "aux2", "aux3"]
    if shape("aux1") is not None:
        n_aux = shape("aux1")[1] if len(shape("aux1")) == 2 else None
        for k in aux:
            if shape(k) is None or shape(k) != (C, n_aux):
                raise ValueError(f"{op}: {_LSTM_INPUT_NAMES[k]} has shape "
                                 f"{None if shape(k) is None else list(shape(k))}, expected [{C}, {n_aux}]")


class _LstmCell:
    """One direction of an LSTM. ``w`` maps the full-kernel input index (1..17, 20..23, and "aux0".."aux3"
    for the auxiliary input weights) to (array, tensor)."""

    def __init__(self, w: dict, op: str, diagonal_recurrent: bool = False):
        def get(i):
            return w.get(i, (None, None))

        self.cifg = get(I2I)[0] is None
        gates_in = ([] if self.cifg else [I2I]) + [I2F, I2C, I2O]
        gates_rec = ([] if self.cifg else [R2I]) + [R2F, R2C, R2O]
        for i in gates_in[-3:] + gates_rec[-3:]:
            if get(i)[0] is None:
                raise ValueError(f"{op}: required weight input {i} is missing")
        if self.cifg != (get(R2I)[0] is None):
            raise ValueError(f"{op}: input-gate weights must be all present or all absent (CIFG)")
        self.n_cell = np.asarray(get(I2O)[0]).shape[0]
        C = self.n_cell
        _check_lstm_shapes(get, op, C, gates_in, gates_rec, diagonal_recurrent)
        self.ng = len(gates_in)
        self.in_m = make_matrix([get(i)[0] for i in gates_in], [get(i)[1] for i in gates_in])
        self.diag = diagonal_recurrent
        if diagonal_recurrent:
            self.rec_diag = np.concatenate([_vector(*get(i)) for i in gates_rec])
            self.rec_m = None
            self.n_output = C
        else:
            self.rec_m = make_matrix([get(i)[0] for i in gates_rec], [get(i)[1] for i in gates_rec])
            self.n_output = np.asarray(get(R2O)[0]).shape[1]
        aux_keys = ([] if self.cifg else ["aux0"]) + ["aux1", "aux2", "aux3"]
        if get("aux1")[0] is not None:
            self.aux_m = make_matrix([get(k)[0] for k in aux_keys], [get(k)[1] for k in aux_keys])
        else:
            self.aux_m = None
        self.layer_norm = get(LNF)[0] is not None
        bias_ids = ([] if self.cifg else [BI]) + [BF, BC, BO]
        biases = []
        for i in bias_ids:
            v = _vector(*get(i))
            biases.append(np.zeros(C, F32) if v is None else v)
        self.bias = np.concatenate(biases).astype(F32)
        if self.layer_norm:
            ln_ids = ([] if self.cifg else [LNI]) + [LNF, LNC, LNO]
            self.ln = [_vector(*get(i)) for i in ln_ids]
            if any(v is None for v in self.ln):
                raise ValueError(f"{op}: layer norm coefficients must all be present")
        self.peep = get(C2O)[0] is not None
        if self.peep:
            self.c2i = None if self.cifg else _vector(*get(C2I))
            self.c2f = _vector(*get(C2F))
            self.c2o = _vector(*get(C2O))
            if self.c2f is None or (not self.cifg and self.c2i is None):
                raise ValueError(f"{op}: peephole weights must be all present or all absent")
        pw = get(PW)
        if pw[0] is not None:
            self.proj = make_matrix([pw[0]], [pw[1]])
            self.n_output = np.asarray(pw[0]).shape[0]
            pb = _vector(*get(PB))
            self.proj_bias = np.zeros(self.n_output, F32) if pb is None else pb
        else:
            self.proj = None
            if self.n_output != C:
                raise ValueError(f"{op}: without projection the output size ({self.n_output}) must equal the "
                                 f"number of cells ({C})")

    def run(self, x_seq, h, c, act, cell_clip, proj_clip, asym, reverse=False, aux_seq=None, rowwise=False):
        """x_seq [T, B, I]; h [B, O] and c [B, C] are updated in place; returns [T, B, O].
        ``rowwise``: LiteRT steps each batch row alone (batch-major sequence kernels)."""
        T, B = x_seq.shape[:2]
        C, G = self.n_cell, self.ng
        xw = self.in_m(x_seq.reshape(T * B, x_seq.shape[2]), asym).reshape(T, B, G * C)
        pre = xw
        use_aux = aux_seq is not None and self.aux_m is not None
        if use_aux:
            aw = self.aux_m(aux_seq.reshape(T * B, aux_seq.shape[2]), asym).reshape(T, B, G * C)
            pre = pre + aw
        if not self.layer_norm:
            pre = pre + self.bias
        out = np.empty((T, B, self.n_output), F32)
        order = range(T - 1, -1, -1) if reverse else range(T)
        hybrid = isinstance(self.in_m, HybridMatrix)
        none = act == "NONE"
        if none and hybrid:
            # the hybrid kernel accumulates each gate in place: the cell gate is complete, and the hidden
            # value is still output_gate * cell_gate (the NONE activation leaves that scratch unchanged)
            odd = np.ones((T, B), bool)
            partial2 = np.zeros((T, B, C), F32)
            init = np.zeros(C, F32)
        elif none:
            # LiteRT's float kernel with no activation: ApplyActivationToVector(NONE) copies nothing, so the
            # cell gate keeps whatever its buffer last received (the full sum, or a partial one, depending
            # on how many accumulation buffers were swapped: input and aux products are skipped when all
            # zero), and the hidden value is output_gate * cell_gate instead of output_gate * cell.
            def nonzero(a):
                return a.any(axis=2) if rowwise else np.broadcast_to(a.any(axis=(1, 2))[:, None], (T, B))
            k_swaps = nonzero(x_seq).astype(np.int64)
            partial2 = np.zeros((T, B, C), F32)
            if use_aux:
                anz = nonzero(aux_seq)
                both = k_swaps.astype(bool) & anz
                k_swaps = k_swaps + anz
                kk = 0 if self.cifg else 1
                sl = slice((kk + 1) * C, (kk + 2) * C)
                partial2 = np.where(both[:, :, None], (xw[:, :, sl] + aw[:, :, sl]), F32(0)).astype(F32)
            odd = ((k_swaps + int(self.diag)) % 2 == 1)
            kk = 0 if self.cifg else 1
            init = (np.zeros(C, F32) if self.layer_norm else self.bias[(kk + 1) * C:(kk + 2) * C])
        if not (self.layer_norm or self.peep or self.diag or none) and act in ("TANH", "NONE", "RELU"):
            self._run_plain(pre, order, out, h, c, act, cell_clip, proj_clip, asym, hybrid)
            return out
        for t in order:
            if self.diag:
                z = pre[t] + np.tile(h, G) * self.rec_diag
            elif hybrid and not np.any(h):
                z = pre[t].copy()
            else:
                z = pre[t] + self.rec_m(h, asym)
            z = z.astype(F32, copy=False).reshape(B, G, C)
            k = 0
            if not self.cifg:
                ig = z[:, 0]
                if self.peep:
                    ig = ig + self.c2i * c
                ig = _sigmoid(self._norm(ig, 0))
                k = 1
            fg = z[:, k]
            if self.peep:
                fg = fg + self.c2f * c
            fg = _sigmoid(self._norm(fg, k))
            g = _activate(self._norm(z[:, k + 1], k + 1), act)
            if none:
                g = np.where(odd[t][:, None], g, (init + partial2[t]).astype(F32))
            if self.cifg:
                ig = F32(1) - fg
            cn = fg * c + ig * g
            if cell_clip > 0:
                cn = np.clip(cn, F32(-cell_clip), F32(cell_clip))
            og = z[:, k + 2]
            if self.peep:
                og = og + self.c2o * cn
            og = _sigmoid(self._norm(og, k + 2))
            hc = (og * (g if none else _activate(cn, act))).astype(F32, copy=False)
            if self.proj is not None:
                if hybrid and not np.any(hc):
                    hn = np.broadcast_to(self.proj_bias, (B, self.n_output)).astype(F32)
                else:
                    hn = self.proj(hc, asym) + self.proj_bias
                if proj_clip > 0:
                    hn = np.clip(hn, F32(-proj_clip), F32(proj_clip))
            else:
                hn = hc
            c[...] = cn
            h[...] = hn
            out[t] = hn
        return out

    def _run_plain(self, pre, order, out, h, c, act, cell_clip, proj_clip, asym, hybrid):
        """The common LSTM (no peephole, layer norm or diagonal weights) with few numpy calls per step:
        one sigmoid over all gates (the cell gate's slice is then replaced by its activation)."""
        C, G = self.n_cell, self.ng
        k = 0 if self.cifg else 1          # gate slots: [i,] f, g, o
        B = h.shape[0]
        sig = np.empty((B, G * C), F32)
        hc = np.empty((B, C), F32)
        rec = self.rec_m
        proj = self.proj
        for t in order:
            if hybrid and not h.any():
                z = pre[t]
            else:
                z = pre[t] + rec(h, asym)
            np.negative(z, out=sig)
            with np.errstate(over="ignore"):
                np.exp(sig, out=sig)
            sig += F32(1)
            np.reciprocal(sig, out=sig)
            fg = sig[:, k * C:(k + 1) * C]
            zg = z[:, (k + 1) * C:(k + 2) * C]
            g = np.tanh(zg) if act == "TANH" else _activate(zg, act)
            ig = (F32(1) - fg) if self.cifg else sig[:, :C]
            cn = fg * c
            cn += ig * g
            if cell_clip > 0:
                np.clip(cn, F32(-cell_clip), F32(cell_clip), out=cn)
            og = sig[:, (k + 2) * C:(k + 3) * C]
            if act == "TANH":
                np.tanh(cn, out=hc)
            else:
                hc[...] = _activate(cn, act)
            hc *= og
            if proj is not None:
                if hybrid and not hc.any():
                    hn = np.broadcast_to(self.proj_bias, (B, self.n_output)).astype(F32)
                else:
                    hn = proj(hc, asym) + self.proj_bias
                if proj_clip > 0:
                    np.clip(hn, F32(-proj_clip), F32(proj_clip), out=hn)
            else:
                hn = hc
            c[...] = cn
            h[...] = hn
            out[t] = hn

    def _norm(self, v, gate):
        if not self.layer_norm:
            return v
        C = self.n_cell
        mean = v.mean(axis=1, keepdims=True, dtype=F32)
        d = v - mean
        var = (d * d).mean(axis=1, keepdims=True, dtype=F32)
        inv = F32(1) / np.sqrt(var + F32(1e-8))
        return (d * inv * self.ln[gate] + self.bias[gate * C:(gate + 1) * C]).astype(F32)


def _lstm_params(node, op):
    # without an options table LiteRT's parameters are zero-initialized: no activation, no clipping
    act = _check_act(_opt(node, "fused_activation_function", "NONE"), op)
    cell_clip = float(_opt(node, "cell_clip", 0.0))
    proj_clip = float(_opt(node, "proj_clip", 0.0))
    if cell_clip < 0 or proj_clip < 0:
        raise ValueError(f"{op}: cell_clip and proj_clip must be >= 0")
    return act, cell_clip, proj_clip, bool(_opt(node, "asymmetric_quantize_inputs", False))


def _full_lstm_node(node) -> bool:
    return _hybrid_float_node(node) and len(node.inputs) in (20, 24)


class _FullLstm:
    op = "LSTM"

    def __init__(self, node):
        self.act, self.cell_clip, self.proj_clip, self.asym = _lstm_params(node, self.op)
        n = len(node.inputs)
        if n not in (20, 24):
            raise ValueError(f"The {self.op} full kernel expects 20 or 24 inputs, got {n}")
        if len(node.outputs) != 1:
            raise ValueError(f"{self.op} expects 1 output, got {len(node.outputs)}")
        self.tensors = node.inputs
        self.weight_ids = [i for i in range(1, 18)] + ([20, 21, 22, 23] if n == 24 else [])
        for i in (OUT_STATE, CELL_STATE):
            if node.inputs[i] is None:
                raise ValueError(f"{self.op}: state input {i} is missing")
        self.bad_state = state_check(node, [OUT_STATE, CELL_STATE], self.op)
        self.diag = bool(_opt(node, "diagonal_recurrent_tensors", False))
        self.cell = _Prepared(self._build)
        consts = [node.const(i) for i in self.weight_ids]
        if all(a is not None or node.inputs[i] is None for a, i in zip(consts, self.weight_ids)):
            self.cell.get(tuple(consts))      # constant weights: shape errors surface at allocation

    def _build(self, arrays):
        w = {i: (a, self.tensors[i]) for i, a in zip(self.weight_ids, arrays) if a is not None}
        return _LstmCell(w, self.op, self.diag)

    def _cell(self, args):
        return self.cell.get(tuple(args[i] for i in self.weight_ids))

    def _run(self, xs, args, rowwise=False):
        if self.bad_state:
            raise ValueError(self.bad_state)
        cell = self._cell(args)
        B = xs.shape[1]
        h = _state_view(args[OUT_STATE], B, cell.n_output, f"{self.op} output state")
        c = _state_view(args[CELL_STATE], B, cell.n_cell, f"{self.op} cell state")
        return cell.run(xs.astype(F32, copy=False), h, c, self.act, self.cell_clip, self.proj_clip, self.asym,
                        rowwise=rowwise)


@register("LSTM", when=_full_lstm_node, types=("FLOAT32", "HYBRID INT8"))
class Lstm(_FullLstm):
    op = "LSTM"

    def __init__(self, node):
        kt = _opt(node, "kernel_type", 0)
        if kt not in (0, "FULL"):
            raise ValueError("LSTM basic kernel with the full kernel's inputs")
        super().__init__(node)

    def __call__(self, *args):
        x = args[0]
        if x.ndim != 2:
            raise ValueError(f"LSTM input must be 2-D [batch, input], got shape {list(x.shape)}")
        return self._run(x[None], args)[0]


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", when=_full_lstm_node, types=("FLOAT32", "HYBRID INT8"))
class SequenceLstm(_FullLstm):
    op = "UNIDIRECTIONAL_SEQUENCE_LSTM"

    def __init__(self, node):
        super().__init__(node)
        self.time_major = bool(_opt(node, "time_major", False))

    def __call__(self, *args):
        x = args[0]
        if x.ndim != 3:
            raise ValueError(f"{self.op} input must be 3-D, got shape {list(x.shape)}")
        xs = x if self.time_major else x.transpose(1, 0, 2)
        out = self._run(xs, args, rowwise=not self.time_major)
        return out if self.time_major else np.ascontiguousarray(out.transpose(1, 0, 2))


@register("BIDIRECTIONAL_SEQUENCE_LSTM", when=_hybrid_float_node, types=("FLOAT32", "HYBRID INT8"))
class BidiSequenceLstm:
    """48 inputs: 0 input; 1-17 forward weights (full-kernel order); 18-34 backward weights;
    35/36 forward activation/cell state; 37/38 backward states; 39 aux input; 40-43 forward aux weights;
    44-47 backward aux weights."""
    op = "BIDIRECTIONAL_SEQUENCE_LSTM"

    def __init__(self, node):
        self.act, self.cell_clip, self.proj_clip, self.asym = _lstm_params(node, self.op)
        if len(node.inputs) != 48:
            raise ValueError(f"{self.op} takes 48 inputs, got {len(node.inputs)}")
        self.merge = bool(_opt(node, "merge_outputs", False))
        # the schema's default is true, but a model without the options table gets LiteRT's zeroed params
        self.time_major = bool(_opt(node, "time_major", False))
        if len(node.outputs) != (1 if self.merge else 2):
            raise ValueError(f"{self.op} has {len(node.outputs)} outputs, expected {1 if self.merge else 2}")
        self.bad_state = state_check(node, [35, 36, 37, 38], self.op)
        t = node.inputs
        self.maps = []
        for base, aux_base in ((0, 40), (17, 44)):
            m = {i: base + i for i in range(1, 18)}
            m.update({f"aux{k}": aux_base + k for k in range(4)})
            self.maps.append(m)
        self.cells = [_Prepared(lambda a, m=m: _LstmCell(
            {k: (arr, t[m[k]]) for k, arr in zip(m, a) if arr is not None}, self.op)) for m in self.maps]
        for prep, m in zip(self.cells, self.maps):
            consts = [node.const(m[k]) for k in m]
            if all(a is not None or t[m[k]] is None for a, k in zip(consts, m)):
                prep.get(tuple(consts))       # constant weights: shape errors surface at allocation

    def __call__(self, *args):
        if self.bad_state:
            raise ValueError(self.bad_state)
        x = args[0]
        if x.ndim != 3:
            raise ValueError(f"{self.op} input must be 3-D, got shape {list(x.shape)}")
        tm = (lambda a: a) if self.time_major else (lambda a: a.transpose(1, 0, 2))
        xs = tm(x).astype(F32, copy=False)
        aux = args[39]
        use_aux_w = args[41] is not None
        bw_in = tm(aux).astype(F32, copy=False) if (aux is not None and not use_aux_w) else xs
        aux_seq = tm(aux).astype(F32, copy=False) if (aux is not None and use_aux_w) else None
        B = xs.shape[1]
        outs = []
        for d, (prep, m, hs, cs, inp) in enumerate(zip(self.cells, self.maps, (35, 37), (36, 38), (xs, bw_in))):
            cell = prep.get(tuple(args[m[k]] for k in m))
            name = "forward" if d == 0 else "backward"
            h = _state_view(args[hs], B, cell.n_output, f"{self.op} {name} activation state")
            c = _state_view(args[cs], B, cell.n_cell, f"{self.op} {name} cell state")
            outs.append(cell.run(inp, h, c, self.act, self.cell_clip, self.proj_clip, self.asym,
                                 reverse=d == 1, aux_seq=aux_seq, rowwise=not self.time_major))
        back = (lambda a: a) if self.time_major else (lambda a: np.ascontiguousarray(a.transpose(1, 0, 2)))
        if self.merge:
            return back(np.concatenate(outs, axis=2))
        return back(outs[0]), back(outs[1])


# ------------------------------------------------------------------------------- LSTM basic kernel

def _basic_lstm_node(node) -> bool:
    return (_opt(node, "kernel_type", 0) in (1, "BASIC") and len(node.inputs) == 5
            and node.inputs[0] is not None and node.inputs[0].type_name == "FLOAT32")


def basic_lstm_shapes(x, h, w, b, c) -> tuple[int, int]:
    """(batch, output size) of a basic LSTM cell's operands, checked against each other (also used by the
    quantized basic cell in lstm_int8)."""
    if x.ndim != 2 or h.ndim != 2 or c.ndim != 2:
        raise ValueError("LSTM basic kernel: input, prev_activation and prev_state must be 2-D")
    B, O = h.shape
    if w.shape != (4 * O, x.shape[1] + O) or b.size != 4 * O or c.shape != (B, O) or x.shape[0] != B:
        raise ValueError(f"LSTM basic kernel: inconsistent shapes input {list(x.shape)}, "
                         f"activation {list(h.shape)}, weights {list(w.shape)}, state {list(c.shape)}")
    return B, O


@register("LSTM", when=_basic_lstm_node, priority=5, types=("FLOAT32 basic",))
class BasicLstm:
    """The 5-input LSTM cell (kernel_type BASIC): input [B, I], prev_activation [B, O],
    weights [4O, I+O], bias [4O], prev_state [B, O] -> activation, state, concat_temp [B, I+O],
    activation_temp [B, 4O]. Gates in order input, new input, forget, output; the new activation and
    state are also copied back into prev_activation / prev_state, as LiteRT does."""

    def __init__(self, node):
        if len(node.outputs) != 4:
            raise ValueError(f"LSTM basic kernel has 4 outputs, got {len(node.outputs)}")
        self.node = node
        self.writeback = [t is not None and not t.is_constant for t in (node.inputs[1], node.inputs[4])]

    def __call__(self, x, h, w, b, c):
        B, O = basic_lstm_shapes(x, h, w, b, c)
        concat = np.concatenate([x, h], axis=1).astype(F32)
        act = (concat @ np.asarray(w, F32).T + np.asarray(b, F32).reshape(-1)).astype(F32)
        ig = _sigmoid(act[:, :O])
        g = np.tanh(act[:, O:2 * O])
        fg = _sigmoid(act[:, 2 * O:3 * O])
        og = _sigmoid(act[:, 3 * O:])
        cn = (ig * g + fg * c).astype(F32)
        hn = (og * np.tanh(cn)).astype(F32)
        for arr, new, wb in ((h, hn, self.writeback[0]), (c, cn, self.writeback[1])):
            if wb and arr.flags.writeable:
                arr[...] = new
        return hn, cn, concat, act


# ------------------------------------------------------------------------------- integer SVDF

def _int8_input_node(node) -> bool:
    x = node.inputs[0]
    return x is not None and x.type_name == "INT8"


@register("SVDF", when=_int8_input_node, priority=5, types=("INT8 (int16 state)",))
class IntegerSvdf:
    """Full-integer SVDF: int8 input and weights_feature, int16 weights_time and state, int32 bias,
    int8 output. The feature products are rescaled into the int16 state (scale_1 = input * feature / state)
    and the time products, summed over rank with the bias, into the output (scale_2 = state * time /
    output). LiteRT requires the RELU activation here, and clamps only to the int8 range."""

    def __init__(self, node):
        self.rank = int(_opt(node, "rank", 0))
        if self.rank <= 0:
            raise ValueError(f"SVDF rank must be positive, got {self.rank}")
        x_t, wf_t, wt_t, _, st_t = node.inputs
        out_t = node.outputs[0]
        for t, what in ((x_t, "input"), (wf_t, "weights_feature"), (wt_t, "weights_time"), (st_t, "state"),
                        (out_t, "output")):
            if t is None or not t.quantization.is_quantized:
                raise ValueError(f"integer SVDF: the {what} tensor must be quantized")
        if wt_t.type_name != "INT16" or st_t.type_name != "INT16":
            raise ValueError("integer SVDF: weights_time and state must be INT16")
        from .lstm_int8 import _scale as s
        m1 = float(np.float32(s(x_t) * s(wf_t)) / s(st_t))
        m2 = float(np.float32(s(st_t) * s(wt_t)) / s(out_t))
        self.q1, self.sh1 = Q.quantize_multiplier(m1)
        self.q2, self.sh2 = Q.quantize_multiplier(m2)
        self.x_zp = int(x_t.quantization.zero_points[0])
        self.out_zp = int(out_t.quantization.zero_points[0])
        self.act = _opt(node, "fused_activation_function", "NONE")
        self.bad_state = state_check(node, [4], "SVDF")

    def __call__(self, x, wf, wt, b, state):
        if self.bad_state:
            raise ValueError(self.bad_state)
        if self.act != "RELU":
            # LiteRT's integer SVDF checks this at invoke
            raise ValueError(f"integer SVDF requires fused activation RELU, got {self.act}")
        F, M = wt.shape
        if F % self.rank:
            raise ValueError(f"SVDF: {F} filters do not divide by rank {self.rank}")
        U = F // self.rank
        B = x.shape[0]
        st = _state_view(state, B, F * M, "SVDF state").reshape(B, F, M)
        xi = x.reshape(B, -1).astype(np.int64) - self.x_zp
        dot = (xi.astype(np.float64) @ np.asarray(wf, np.float64).T).astype(np.int64)      # exact
        feat = Q.multiply_by_quantized_multiplier(dot, self.q1, self.sh1)
        _shift_left(st.reshape(-1))
        st[:, :, M - 1] = np.clip(feat, -32768, 32767)
        tdot = np.einsum("bfm,fm->bf", st.astype(np.int64), np.asarray(wt, np.int64))
        tdot = ((tdot + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)          # int32 accumulator
        acc = tdot.reshape(B, U, self.rank).sum(axis=2)
        if b is not None:
            acc = acc + np.asarray(b, np.int64).reshape(1, U)
        acc = ((acc + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
        r = Q.multiply_by_quantized_multiplier(acc, self.q2, self.sh2) + self.out_zp
        return np.clip(r, -128, 127).astype(np.int8)
