"""Fully-integer (int8 x int8 -> int16 gates) LSTM and UNIDIRECTIONAL_SEQUENCE_LSTM against LiteRT, bit-exact,
over two invokes carrying the int8 output state and int16 cell state, then a reset."""
from __future__ import annotations

import numpy as np
import pytest

from test_recurrent import check
from tfl_gpu.kernels.lstm_int8 import sigmoid_table, tanh_table
from tfl_gpu.writer import ModelBuilder


def _q(scale, zp=0):
    return {"scale": [scale], "zero_point": [zp]}


def _int8_lstm_model(rng, op, B, T, I, C, O, cifg=False, proj=False, proj_bias=False, cell_clip=0.0,
                     proj_clip=0.0, time_major=False, x_zp=5, h_zp=-3, hidden_zp=2, cell_log2=-11,
                     peephole=False, layer_norm=False, n_inter=5):
    mb = ModelBuilder()
    xshape = [B, I] if op == "LSTM" else ([T, B, I] if time_major else [B, T, I])
    x = mb.input("x", xshape, "INT8", quant=_q(0.02, x_zp))
    P = O if proj else C
    h_scale = 0.008
    gates = "fco" if cifg else "ifco"
    ins = {}
    for k, g in enumerate("ifco"):
        if g not in gates:
            ins[1 + k] = ins[5 + k] = ins[12 + k] = -1
            continue
        ins[1 + k] = mb.const(f"in_{g}", rng.integers(-127, 128, (C, I)).astype(np.int8), "INT8",
                              quant=_q(float(rng.uniform(0.002, 0.01))))
        ins[5 + k] = mb.const(f"rec_{g}", rng.integers(-127, 128, (C, P)).astype(np.int8), "INT8",
                              quant=_q(float(rng.uniform(0.002, 0.01))))
        ins[12 + k] = mb.const(f"b_{g}", rng.integers(-6000, 6000, C).astype(np.int32), "INT32",
                               quant=_q(1e-5))
    for i, g in zip((9, 10, 11), "ifo"):
        ins[i] = (mb.const(f"peep_{g}", rng.integers(-20000, 20000, C).astype(np.int16), "INT16",
                           quant=_q(float(rng.uniform(1e-5, 5e-5))))
                  if peephole and g in gates else -1)
    ln = [-1] * 4
    if layer_norm:
        ln = [mb.const(f"ln_{g}", rng.integers(8000, 30000, C).astype(np.int16), "INT16",
                       quant=_q(float(rng.uniform(3e-5, 6e-5)))) if g in gates else -1 for g in "ifco"]
    hidden_scale = 0.007 if proj else h_scale
    if proj:
        ins[16] = mb.const("proj", rng.integers(-127, 128, (O, C)).astype(np.int8), "INT8", quant=_q(0.004))
        ins[17] = (mb.const("proj_b", rng.integers(-3000, 3000, O).astype(np.int32), "INT32", quant=_q(1e-5))
                   if proj_bias else -1)
    else:
        ins[16] = ins[17] = -1
        hidden_zp = h_zp
    h = mb.tensor("h", [B, P], "INT8", quant=_q(h_scale, h_zp), is_variable=True)
    c = mb.tensor("c", [B, C], "INT16", quant=_q(2.0 ** cell_log2), is_variable=True)
    inter = [mb.tensor(f"inter{k}", [], "INT16",
                       quant=_q(float(rng.uniform(2e-4, 6e-4)) if layer_norm else 2.0 ** -12)) for k in range(4)]
    inter.append(mb.tensor("hidden", [], "INT8", quant=_q(hidden_scale, hidden_zp)))
    inter += [mb.tensor(f"extra{k}", [], "INT8", quant=_q(0.01)) for k in range(n_inter - 5)]
    y = mb.tensor("y", [], "INT8", quant=_q(h_scale, h_zp))
    opts = dict(fused_activation_function="TANH", cell_clip=cell_clip, proj_clip=proj_clip)
    if op == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        opts["time_major"] = time_major
    mb.op(op, [x] + [ins[i] for i in range(1, 18)] + [h, c] + ln, [y], intermediates=inter, **opts)
    mb.output(y)
    feeds = [[rng.integers(-128, 128, xshape).astype(np.int8)] for _ in range(3)]
    feeds.append(feeds[0])
    return mb.build(), feeds


CASES = {
    "plain": dict(),
    "cifg": dict(cifg=True),
    "proj": dict(proj=True, proj_bias=True),
    "proj_nobias": dict(proj=True),
    "clips": dict(proj=True, proj_bias=True, cell_clip=0.9, proj_clip=0.5),
    "cell_clip": dict(cell_clip=0.4, cell_log2=-12),
    "cell_scale_-10": dict(cell_log2=-10),
    "peephole": dict(peephole=True),
    "cifg_peephole_proj": dict(cifg=True, peephole=True, proj=True, proj_bias=True),
    "layer_norm": dict(layer_norm=True),
    "layer_norm_cifg_peephole_proj": dict(layer_norm=True, cifg=True, peephole=True, proj=True, proj_bias=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("op", ["LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM"])
def test_int8_lstm(rng, op, case):
    content, feeds = _int8_lstm_model(rng, op, 2, 4, 5, 6, 3, **CASES[case])
    check(content, feeds)


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("peephole", [False, True])
def test_int8_sequence_lstm_time_major(rng, time_major, peephole):
    # with a projection (n_output < n_cell) LiteRT's peephole product covers the first n_output values of
    # each batch row (batch-major) or of the flattened batch (time-major): both layouts are checked
    content, feeds = _int8_lstm_model(rng, "UNIDIRECTIONAL_SEQUENCE_LSTM", 3, 5, 4, 8, 4, proj=True,
                                      time_major=time_major, peephole=peephole)
    check(content, feeds)


def test_int8_lstm_8x8_8_is_refused(rng):
    """12 intermediates select LiteRT's 8x8_8 kernel, which is not implemented: a clear error at allocation."""
    import tfl_gpu
    content, _ = _int8_lstm_model(rng, "LSTM", 2, 1, 5, 6, 3, n_inter=12)
    it = tfl_gpu.Interpreter(model_content=content)
    with pytest.raises(RuntimeError, match="8x8_8"):
        it.allocate_tensors()


# --------------------------------------------------------------------------- quantized basic LSTM cell

@pytest.mark.parametrize("variable", [True, False])
@pytest.mark.parametrize("B,I,O", [(2, 5, 3), (1, 8, 8)])
def test_uint8_basic_lstm(rng, variable, B, I, O):
    mb = ModelBuilder()
    act_q = _q(1 / 128, 128)
    x = mb.input("x", [B, I], "UINT8", quant=act_q)
    if variable:
        h = mb.tensor("h", [B, O], "UINT8", quant=act_q, is_variable=True)
        c = mb.tensor("c", [B, O], "INT16", quant=_q(2.0 ** -11), is_variable=True)
    else:
        h = mb.input("h", [B, O], "UINT8", quant=act_q)
        c = mb.input("c", [B, O], "INT16", quant=_q(2.0 ** -11))
    w_scale = 0.02
    w = mb.const("w", rng.integers(0, 256, (4 * O, I + O)).astype(np.uint8), "UINT8", quant=_q(w_scale, 131))
    b = mb.const("b", rng.integers(-20000, 20000, 4 * O).astype(np.int32), "INT32", quant=_q(w_scale / 128))
    outs = [mb.tensor("act", [B, O], "UINT8", quant=act_q), mb.tensor("state", [B, O], "INT16", quant=_q(2.0 ** -11)),
            mb.tensor("concat", [B, I + O], "UINT8", quant=act_q),
            mb.tensor("act_temp", [B, 4 * O], "INT16", quant=_q(2.0 ** -12))]
    mb.op("LSTM", [x, h, w, b, c], outs, fused_activation_function="TANH", kernel_type=1)
    mb.output(*outs)
    if variable:
        feeds = [[rng.integers(0, 256, (B, I)).astype(np.uint8)] for _ in range(3)]
    else:
        feeds = [[rng.integers(0, 256, (B, I)).astype(np.uint8), rng.integers(0, 256, (B, O)).astype(np.uint8),
                  rng.integers(-20000, 20000, (B, O)).astype(np.int16)] for _ in range(3)]
    feeds.append(feeds[0])
    check(mb.build(), feeds)


def test_int8_lstm_reference_resolver(rng):
    content, feeds = _int8_lstm_model(rng, "UNIDIRECTIONAL_SEQUENCE_LSTM", 2, 4, 5, 6, 3, proj=True,
                                      layer_norm=True, peephole=True)
    check(content, feeds, resolver="BUILTIN_REF")


def test_fixed_point_tables_follow_the_functions():
    """The int16 fixed-point logistic / tanh tables (index = raw + 32768) stay within a few units of the
    real functions."""
    x = np.arange(-32768, 32768, dtype=np.int64)
    sig = sigmoid_table() / 32768.0
    assert np.max(np.abs(sig - 1 / (1 + np.exp(-x / 4096.0)))) < 2e-4
    th = tanh_table(4) / 32768.0
    assert np.max(np.abs(th - np.tanh(x / 2048.0))) < 5e-4
