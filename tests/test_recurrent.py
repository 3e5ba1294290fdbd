"""Recurrent / sequence operators against LiteRT: RNN, UNIDIRECTIONAL_SEQUENCE_RNN, BIDIRECTIONAL_SEQUENCE_RNN,
SVDF, LSTM, UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM (float32 and hybrid int8 weights).

Every model is invoked twice (the variable state carries over), then reset_all_variables() and invoked again;
all three results are compared with LiteRT doing the same.
"""
from __future__ import annotations

import numpy as np
import pytest

import tfl_gpu
from oracle import assert_close, litert
from tfl_gpu.writer import ModelBuilder

TOL = 1e-4


# names the test models give their variable (state) tensors: compared after every invoke as well
STATE_NAMES = ("h", "c", "state", "s", "fw_h", "fw_c", "bw_h", "bw_c")


def _run_sequence(it, feeds):
    """Invoke per feed (list of input lists); reset before the last one. Returns, per invoke, the outputs
    followed by the state tensors."""
    it.allocate_tensors()
    ins = it.get_input_details()
    outs = it.get_output_details()
    in_idx = {d["index"] for d in ins}
    states = sorted((t["name"], t["index"]) for t in it.get_tensor_details()
                    if t["name"] in STATE_NAMES and t["index"] not in in_idx)
    results = []
    for k, feed in enumerate(feeds):
        if k == len(feeds) - 1:
            it.reset_all_variables()
        for d, v in zip(ins, feed):
            it.set_tensor(d["index"], v)
        it.invoke()
        results.append([it.get_tensor(d["index"]) for d in outs] + [it.get_tensor(i) for _, i in states])
    return results


def check(content, feeds, tol=TOL, compare=None, resolver="BUILTIN"):
    lite = litert()
    lite_resolver = "BUILTIN_REF" if resolver == "BUILTIN_REF" else "BUILTIN_WITHOUT_DEFAULT_DELEGATES"
    ref_it = lite.Interpreter(model_content=content,
                              experimental_op_resolver_type=getattr(lite.OpResolverType, lite_resolver))
    ref = _run_sequence(ref_it, feeds)
    ours = _run_sequence(tfl_gpu.Interpreter(
        model_content=content, experimental_op_resolver_type=getattr(tfl_gpu.OpResolverType, resolver)), feeds)
    for k, (o, r) in enumerate(zip(ours, ref)):
        if compare is not None and k not in compare:
            continue
        assert len(o) == len(r)
        for j, (a, b) in enumerate(zip(o, r)):
            assert_close(a, b, tol, f"invoke {k} output {j}")
    return ours, ref


def _feeds(rng, shapes, n=3, scale=1.0):
    feeds = [[(rng.standard_normal(s) * scale).astype(np.float32) for s in shapes] for _ in range(n - 1)]
    feeds.append(feeds[0])        # after the reset, the first input again: must give the first result
    return feeds


def _weight(mb, rng, name, shape, hybrid, scale=0.5):
    w = (rng.standard_normal(shape) * scale).astype(np.float32)
    if not hybrid:
        return mb.const(name, w)
    s = float(np.abs(w).max() / 127) or 1.0
    q = np.clip(np.round(w / s), -127, 127).astype(np.int8)
    return mb.const(name, q, "INT8", quant={"scale": [s], "zero_point": [0]})


def _bias(mb, rng, name, n):
    return mb.const(name, (rng.standard_normal(n) * 0.3).astype(np.float32))


# ============================================================================================ RNN

def _rnn_model(rng, op, B, T, I, U, act, hybrid, time_major=False, asym=False):
    mb = ModelBuilder()
    xshape = [B, I] if op == "RNN" else ([T, B, I] if time_major else [B, T, I])
    x = mb.input("x", xshape)
    w = _weight(mb, rng, "w", [U, I], hybrid)
    r = _weight(mb, rng, "r", [U, U], hybrid, 0.3)
    b = _bias(mb, rng, "b", U)
    h = mb.tensor("h", [B, U], is_variable=True)
    y = mb.tensor("y", [])
    opts = dict(fused_activation_function=act)
    if hybrid:
        opts["asymmetric_quantize_inputs"] = asym
    if op != "RNN":
        opts["time_major"] = time_major
    mb.op(op, [x, w, r, b, h], [y], **opts)
    mb.output(y)
    return mb.build(), [xshape]


@pytest.mark.parametrize("act", ["TANH", "RELU", "NONE", "RELU6", "RELU_N1_TO_1", "SIGN_BIT"])
@pytest.mark.parametrize("hybrid,asym", [(False, False), (True, False), (True, True)])
def test_rnn(rng, act, hybrid, asym):
    content, shapes = _rnn_model(rng, "RNN", 2, 1, 5, 4, act, hybrid, asym=asym)
    check(content, _feeds(rng, shapes, 4))


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("hybrid,asym", [(False, False), (True, False), (True, True)])
def test_sequence_rnn(rng, time_major, hybrid, asym):
    content, shapes = _rnn_model(rng, "UNIDIRECTIONAL_SEQUENCE_RNN", 3, 4, 5, 6, "TANH", hybrid,
                                 time_major=time_major, asym=asym)
    check(content, _feeds(rng, shapes))


def _bidi_rnn_model(rng, B, T, I, U, merge, time_major, aux_mode, hybrid=False, asym=False, A=3):
    mb = ModelBuilder()
    xshape = [T, B, I] if time_major else [B, T, I]
    x = mb.input("x", xshape)
    shapes = [xshape]
    ins = [x]
    for d in ("fw", "bw"):
        ins += [_weight(mb, rng, f"{d}_w", [U, I], hybrid), _weight(mb, rng, f"{d}_r", [U, U], hybrid, 0.3),
                _bias(mb, rng, f"{d}_b", U), mb.tensor(f"{d}_h", [B, U], is_variable=True)]
    if aux_mode == "none":
        ins += [-1, -1, -1]
    else:
        ashape = [T, B, A if aux_mode == "weights" else I]
        if not time_major:
            ashape = [B, T, ashape[2]]
        ins.append(mb.input("aux", ashape))
        shapes.append(ashape)
        if aux_mode == "weights":
            ins += [_weight(mb, rng, "fw_aw", [U, A], hybrid), _weight(mb, rng, "bw_aw", [U, A], hybrid)]
        else:
            ins += [-1, -1]
    outs = [mb.tensor("fw_y", [])] + ([] if merge else [mb.tensor("bw_y", [])])
    opts = dict(fused_activation_function="TANH", merge_outputs=merge, time_major=time_major)
    if hybrid:
        opts["asymmetric_quantize_inputs"] = asym
    mb.op("BIDIRECTIONAL_SEQUENCE_RNN", ins, outs, **opts)
    mb.output(*outs)
    return mb.build(), shapes


@pytest.mark.parametrize("merge", [False, True])
@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("aux_mode", ["none", "weights", "no_weights"])
def test_bidi_rnn(rng, merge, time_major, aux_mode):
    # LiteRT's time-major loops step through the aux input with the input's feature size: aux inputs with
    # as many features as the input (the usual stacked layout) or more stay inside the tensor
    A = 5 if time_major else 3
    content, shapes = _bidi_rnn_model(rng, 2, 4, 5, 3, merge, time_major, aux_mode, A=A)
    check(content, _feeds(rng, shapes))


def test_bidi_rnn_aux_wider_than_input_time_major(rng):
    content, shapes = _bidi_rnn_model(rng, 2, 4, 3, 3, False, True, "weights", A=5)
    check(content, _feeds(rng, shapes))


@pytest.mark.parametrize("asym", [False, True])
@pytest.mark.parametrize("time_major,merge", [(False, False), (False, True), (True, False)])
def test_bidi_rnn_hybrid(rng, asym, time_major, merge):
    # (LiteRT 2.3's hybrid kernel crashes with time_major and merge_outputs together: not compared)
    content, shapes = _bidi_rnn_model(rng, 2, 4, 5, 3, merge, time_major, "weights", hybrid=True, asym=asym, A=5)
    check(content, _feeds(rng, shapes))


def test_bidi_rnn_hybrid_no_aux_weights(rng):
    content, shapes = _bidi_rnn_model(rng, 2, 4, 5, 3, False, True, "no_weights", hybrid=True)
    check(content, _feeds(rng, shapes))


def test_bidi_rnn_aux_past_the_end_is_refused(rng):
    content, shapes = _bidi_rnn_model(rng, 2, 4, 5, 3, False, True, "weights", A=3)
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    with pytest.raises(RuntimeError, match="aux input"):
        it.invoke()


# ============================================================================================ SVDF

def _svdf_model(rng, B, I, U, rank, M, act, bias, hybrid=False, asym=False):
    mb = ModelBuilder()
    x = mb.input("x", [B, I])
    F = U * rank
    wf = _weight(mb, rng, "wf", [F, I], hybrid)
    wt = _weight(mb, rng, "wt", [F, M], hybrid)
    b = _bias(mb, rng, "b", U) if bias else -1
    st = mb.tensor("state", [B, F * M], is_variable=True)
    y = mb.tensor("y", [])
    opts = dict(rank=rank, fused_activation_function=act)
    if hybrid:
        opts["asymmetric_quantize_inputs"] = asym
    mb.op("SVDF", [x, wf, wt, b, st], [y], **opts)
    mb.output(y)
    return mb.build(), [[B, I]]


@pytest.mark.parametrize("rank,M,act,bias", [(1, 4, "NONE", True), (2, 3, "RELU", True), (3, 5, "TANH", False),
                                              (1, 1, "NONE", False)])
def test_svdf(rng, rank, M, act, bias):
    content, shapes = _svdf_model(rng, 2, 6, 3, rank, M, act, bias)
    check(content, _feeds(rng, shapes, 6))


@pytest.mark.parametrize("asym", [False, True])
def test_svdf_hybrid(rng, asym):
    content, shapes = _svdf_model(rng, 2, 6, 3, 2, 4, "RELU", True, hybrid=True, asym=asym)
    check(content, _feeds(rng, shapes, 6))


# ============================================================================================ LSTM

def _lstm_inputs(mb, rng, prefix, I, C, O, cifg, peephole, proj, proj_bias, layer_norm, hybrid, B):
    """Weight inputs 1..17 (+ 20..23 layer norm) of the full kernel, and the two state tensors."""
    P = O if proj else C
    w = {}
    gates = ["f", "c", "o"] if cifg else ["i", "f", "c", "o"]
    for k, g in enumerate(["i", "f", "c", "o"]):
        w[1 + k] = _weight(mb, rng, f"{prefix}in_{g}", [C, I], hybrid) if g in gates else -1
        w[5 + k] = _weight(mb, rng, f"{prefix}rec_{g}", [C, P], hybrid, 0.3) if g in gates else -1
        w[12 + k] = (_bias(mb, rng, f"{prefix}b_{g}", C) if g in gates else -1)
    for k, g in enumerate(["i", "f", "o"]):
        w[9 + k] = (_weight(mb, rng, f"{prefix}peep_{g}", [C], hybrid) if peephole and g in gates else -1)
    w[16] = _weight(mb, rng, f"{prefix}proj", [O, C], hybrid) if proj else -1
    w[17] = _bias(mb, rng, f"{prefix}proj_b", O) if proj and proj_bias else -1
    ln = {}
    for k, g in enumerate(["i", "f", "c", "o"]):
        ln[20 + k] = (mb.const(f"{prefix}ln_{g}", (1 + 0.2 * rng.standard_normal(C)).astype(np.float32))
                      if layer_norm and g in gates else -1)
    h = mb.tensor(f"{prefix}h", [B, P], is_variable=True)
    c = mb.tensor(f"{prefix}c", [B, C], is_variable=True)
    return w, ln, h, c


LSTM_CASES = {
    "basic": dict(),
    "cifg": dict(cifg=True),
    "peephole": dict(peephole=True),
    "cifg_peephole": dict(cifg=True, peephole=True),
    "proj": dict(proj=True, proj_bias=True),
    "proj_nobias_clip": dict(proj=True, cell_clip=0.5, proj_clip=0.3),
    "layer_norm": dict(layer_norm=True),
    "layer_norm_cifg_peep_proj": dict(layer_norm=True, cifg=True, peephole=True, proj=True, proj_bias=True),
    "cell_clip_relu": dict(cell_clip=0.8, act="RELU"),
    "sign_bit": dict(act="SIGN_BIT"),
}


def _lstm_model(rng, op, B, T, I, C, O, cifg=False, peephole=False, proj=False, proj_bias=False,
                layer_norm=False, cell_clip=0.0, proj_clip=0.0, act="TANH", time_major=False, hybrid=False,
                asym=False, n_inputs=24):
    mb = ModelBuilder()
    if op == "LSTM":
        xshape = [B, I]
    else:
        xshape = [T, B, I] if time_major else [B, T, I]
    x = mb.input("x", xshape)
    w, ln, h, c = _lstm_inputs(mb, rng, "", I, C, O, cifg, peephole, proj, proj_bias, layer_norm, hybrid, B)
    ins = [x] + [w[i] for i in range(1, 18)] + [h, c]
    if n_inputs == 24:
        ins += [ln[i] for i in range(20, 24)]
    y = mb.tensor("y", [])
    opts = dict(fused_activation_function=act, cell_clip=cell_clip, proj_clip=proj_clip)
    if hybrid:
        opts["asymmetric_quantize_inputs"] = asym
    if op == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        opts["time_major"] = time_major
    mb.op(op, ins, [y], **opts)
    mb.output(y)
    return mb.build(), [xshape]


@pytest.mark.parametrize("case", sorted(LSTM_CASES))
def test_lstm(rng, case):
    content, shapes = _lstm_model(rng, "LSTM", 2, 1, 5, 4, 3, **LSTM_CASES[case])
    check(content, _feeds(rng, shapes, 4))


def test_lstm_20_inputs(rng):
    content, shapes = _lstm_model(rng, "LSTM", 2, 1, 5, 4, 4, peephole=True, n_inputs=20)
    check(content, _feeds(rng, shapes, 3))


@pytest.mark.parametrize("case", sorted(LSTM_CASES))
@pytest.mark.parametrize("time_major", [False, True])
def test_sequence_lstm(rng, case, time_major):
    content, shapes = _lstm_model(rng, "UNIDIRECTIONAL_SEQUENCE_LSTM", 2, 3, 5, 4, 3, time_major=time_major,
                                  **LSTM_CASES[case])
    check(content, _feeds(rng, shapes))


@pytest.mark.parametrize("case", ["basic", "cifg_peephole", "proj", "layer_norm", "layer_norm_cifg_peep_proj"])
@pytest.mark.parametrize("asym", [False, True])
@pytest.mark.parametrize("op", ["LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM"])
def test_lstm_hybrid(rng, case, asym, op):
    content, shapes = _lstm_model(rng, op, 2, 3, 5, 4, 3, hybrid=True, asym=asym, **LSTM_CASES[case])
    check(content, _feeds(rng, shapes))


def _bidi_lstm_model(rng, B, T, I, C, O, merge, time_major, aux_mode, hybrid=False, asym=False, **kw):
    mb = ModelBuilder()
    xshape = [T, B, I] if time_major else [B, T, I]
    x = mb.input("x", xshape)
    shapes = [xshape]
    fw, _, fh, fc = _lstm_inputs(mb, rng, "fw_", I, C, O, kw.get("cifg", False), kw.get("peephole", False),
                                 kw.get("proj", False), kw.get("proj_bias", False), False, hybrid, B)
    bw, _, bh, bc = _lstm_inputs(mb, rng, "bw_", I, C, O, kw.get("cifg", False), kw.get("peephole", False),
                                 kw.get("proj", False), kw.get("proj_bias", False), False, hybrid, B)
    ins = [x] + [fw[i] for i in range(1, 18)] + [bw[i] for i in range(1, 18)] + [fh, fc, bh, bc]
    A = 3
    if aux_mode == "none":
        ins += [-1] * 9
    else:
        feat = A if aux_mode == "weights" else I
        ashape = [T, B, feat] if time_major else [B, T, feat]
        ins.append(mb.input("aux", ashape))
        shapes.append(ashape)
        if aux_mode == "weights":
            cifg = kw.get("cifg", False)
            for d in ("fw", "bw"):
                ins += [-1 if (cifg and g == "i") else _weight(mb, rng, f"{d}_aux_{g}", [C, A], hybrid)
                        for g in "ifco"]
        else:
            ins += [-1] * 8
    outs = [mb.tensor("fw_y", [])] + ([] if merge else [mb.tensor("bw_y", [])])
    opts = dict(fused_activation_function=kw.get("act", "TANH"), merge_outputs=merge, time_major=time_major,
                cell_clip=kw.get("cell_clip", 0.0), proj_clip=kw.get("proj_clip", 0.0))
    if hybrid:
        opts["asymmetric_quantize_inputs"] = asym
    mb.op("BIDIRECTIONAL_SEQUENCE_LSTM", ins, outs, **opts)
    mb.output(*outs)
    return mb.build(), shapes


@pytest.mark.parametrize("merge", [False, True])
@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("aux_mode", ["none", "weights", "no_weights"])
def test_bidi_lstm(rng, merge, time_major, aux_mode):
    # LiteRT 2.3's batch-major merged kernel offsets each batch's activation state by the merged output
    # width instead of the cell's output size, past the end of the state tensor from batch 1 on (its
    # results then vary run to run): compared with one batch there
    B = 1 if (merge and not time_major) else 2
    content, shapes = _bidi_lstm_model(rng, B, 3, 5, 4, 4, merge, time_major, aux_mode)
    check(content, _feeds(rng, shapes))


@pytest.mark.parametrize("case", ["cifg_peephole", "proj_nobias_clip"])
def test_bidi_lstm_variants(rng, case):
    kw = dict(LSTM_CASES[case])
    content, shapes = _bidi_lstm_model(rng, 2, 3, 5, 4, 3, False, True, "none", **kw)
    check(content, _feeds(rng, shapes))


@pytest.mark.parametrize("asym", [False, True])
@pytest.mark.parametrize("time_major", [False, True])
def test_bidi_lstm_hybrid(rng, asym, time_major):
    content, shapes = _bidi_lstm_model(rng, 2, 3, 5, 4, 4, False, time_major, "none", hybrid=True, asym=asym)
    check(content, _feeds(rng, shapes))


# ------------------------------------------------------------------------------- LSTM basic kernel

@pytest.mark.parametrize("variable", [True, False])
def test_lstm_basic_kernel(rng, variable):
    B, I, O = 2, 5, 3
    mb = ModelBuilder()
    x = mb.input("x", [B, I])
    if variable:
        h = mb.tensor("h", [B, O], is_variable=True)
        c = mb.tensor("c", [B, O], is_variable=True)
        shapes = [[B, I]]
    else:
        h = mb.input("h", [B, O])
        c = mb.input("c", [B, O])
        shapes = [[B, I], [B, O], [B, O]]
    w = mb.const("w", (rng.standard_normal((4 * O, I + O)) * 0.5).astype(np.float32))
    b = _bias(mb, rng, "b", 4 * O)
    outs = [mb.tensor(n, []) for n in ("act", "state", "concat", "act_temp")]
    mb.op("LSTM", [x, h, w, b, c], outs, fused_activation_function="TANH", kernel_type=1)
    mb.output(*outs)
    check(mb.build(), _feeds(rng, shapes))


# ------------------------------------------------------------------------------- resizing

def test_sequence_lstm_resized_time(rng):
    """A longer sequence than the file declares: shapes follow, the state starts from zero."""
    content, _ = _lstm_model(rng, "UNIDIRECTIONAL_SEQUENCE_LSTM", 2, 3, 5, 4, 3, peephole=True)
    x = rng.standard_normal((2, 7, 5)).astype(np.float32)
    lite = litert()
    outs = []
    for it in (lite.Interpreter(model_content=content,
                                experimental_op_resolver_type=lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
               tfl_gpu.Interpreter(model_content=content)):
        i = it.get_input_details()[0]["index"]
        it.resize_tensor_input(i, [2, 7, 5])
        it.allocate_tensors()
        o = it.get_output_details()[0]
        res = [tuple(o["shape"])]
        for _ in range(2):
            it.set_tensor(i, x)
            it.invoke()
            res.append(it.get_tensor(o["index"]))
        outs.append(res)
    assert outs[0][0] == outs[1][0] == (2, 7, 4)
    for k in (1, 2):
        assert_close(outs[1][k], outs[0][k], TOL, f"invoke {k}")


# ------------------------------------------------------------------------------- integer SVDF

def _svdf_int8_model(rng, rank, M, bias, act):
    B, I, U = 2, 6, 3
    F = U * rank
    mb = ModelBuilder()
    x = mb.input("x", [B, I], "INT8", quant={"scale": [0.05], "zero_point": [3]})
    wf = mb.const("wf", rng.integers(-127, 128, (F, I)).astype(np.int8), "INT8",
                  quant={"scale": [0.01], "zero_point": [0]})
    wt = mb.const("wt", rng.integers(-20000, 20000, (F, M)).astype(np.int16), "INT16",
                  quant={"scale": [0.00003], "zero_point": [0]})
    b = mb.const("b", rng.integers(-3000, 3000, U).astype(np.int32), "INT32",
                 quant={"scale": [1e-6], "zero_point": [0]}) if bias else -1
    st = mb.tensor("state", [B, F * M], "INT16", quant={"scale": [0.0008], "zero_point": [0]}, is_variable=True)
    y = mb.tensor("y", [B, U], "INT8", quant={"scale": [0.03], "zero_point": [-2]})
    mb.op("SVDF", [x, wf, wt, b, st], [y], rank=rank, fused_activation_function=act)
    mb.output(y)
    feeds = [[rng.integers(-128, 128, (B, I)).astype(np.int8)] for _ in range(5)]
    feeds.append(feeds[0])
    return mb.build(), feeds


@pytest.mark.parametrize("rank,M,bias", [(1, 4, True), (2, 3, True), (2, 5, False), (3, 1, True)])
def test_svdf_int8(rng, rank, M, bias):
    content, feeds = _svdf_int8_model(rng, rank, M, bias, "RELU")
    ours, _ = check(content, feeds)
    assert any((o[0] < -2).any() for o in ours), "the test should reach outputs below the zero point"


def test_svdf_int8_requires_relu(rng):
    content, feeds = _svdf_int8_model(rng, 1, 4, True, "NONE")
    lite = litert()
    for it in (lite.Interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)):
        it.allocate_tensors()
        with pytest.raises(RuntimeError):
            it.invoke()


@pytest.mark.parametrize("op", ["UNIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_RNN"])
def test_sequence_of_length_zero(rng, op):
    if op == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        content, _ = _lstm_model(rng, op, 2, 3, 5, 4, 3)
    else:
        content, _ = _rnn_model(rng, op, 2, 3, 5, 4, "TANH", False)
    lite = litert()
    shapes = []
    for it in (lite.Interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)):
        i = it.get_input_details()[0]["index"]
        it.resize_tensor_input(i, [2, 0, 5])
        it.allocate_tensors()
        it.invoke()
        shapes.append(it.get_tensor(it.get_output_details()[0]["index"]).shape)
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize("act", ["TANH", "NONE"])
def test_diagonal_recurrent_lstm(rng, act):
    B, T, I, C = 2, 3, 5, 4
    mb = ModelBuilder()
    x = mb.input("x", [B, T, I])
    ins = [x] + [mb.const("in" + g, (rng.standard_normal((C, I)) * .5).astype(np.float32)) for g in "ifco"]
    ins += [mb.const("rec" + g, (rng.standard_normal(C) * .5).astype(np.float32)) for g in "ifco"]
    ins += [-1, -1, -1] + [_bias(mb, rng, "b" + g, C) for g in "ifco"]
    ins += [-1, -1, mb.tensor("h", [B, C], is_variable=True), mb.tensor("c", [B, C], is_variable=True)]
    ins += [-1] * 4
    y = mb.tensor("y", [])
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], fused_activation_function=act,
          diagonal_recurrent_tensors=True)
    mb.output(y)
    check(mb.build(), _feeds_with_zero_rows(rng, [[B, T, I]]))


@pytest.mark.parametrize("aux_mode", ["weights", "no_weights"])
@pytest.mark.parametrize("asym", [False, True])
def test_bidi_lstm_hybrid_aux(rng, aux_mode, asym):
    content, shapes = _bidi_lstm_model(rng, 2, 3, 5, 4, 4, False, True, aux_mode, hybrid=True, asym=asym)
    check(content, _feeds(rng, shapes))


# ------------------------------------------------------------------------------- bad models

def test_lstm_bad_weight_shape_fails_at_allocation(rng):
    B, I, C = 2, 5, 4
    mb = ModelBuilder()
    x = mb.input("x", [B, 3, I])
    w, _, h, c = _lstm_inputs(mb, rng, "", I, C, C, False, False, False, False, False, False, B)
    w[7] = mb.const("bad_rec_c", np.zeros((C, C + 1), np.float32))      # recurrent_to_cell [C, C+1]
    y = mb.tensor("y", [])
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", [x] + [w[i] for i in range(1, 18)] + [h, c] + [-1] * 4, [y],
          fused_activation_function="TANH")
    mb.output(y)
    content = mb.build()
    lite = litert()
    with pytest.raises(RuntimeError):
        lite.Interpreter(model_content=content).allocate_tensors()
    with pytest.raises(RuntimeError, match="recurrent_to_cell_weights"):
        tfl_gpu.Interpreter(model_content=content).allocate_tensors()


def test_rnn_state_of_wrong_size_is_a_clear_error(rng):
    mb = ModelBuilder()
    x = mb.input("x", [2, 5])
    h = mb.tensor("h", [2, 3], is_variable=True)        # 4 units in the weights
    y = mb.tensor("y", [])
    mb.op("RNN", [x, mb.const("w", np.ones((4, 5), np.float32)), mb.const("r", np.ones((4, 4), np.float32)),
                  mb.const("b", np.zeros(4, np.float32)), h], [y], fused_activation_function="TANH")
    mb.output(y)
    it = tfl_gpu.Interpreter(model_content=mb.build())
    it.allocate_tensors()
    with pytest.raises(RuntimeError, match="hidden state"):
        it.invoke()


def test_bidi_lstm_schema_defaults(rng):
    """An options table with no fields set: the schema defaults (time_major true, no activation)."""
    B, T, I, C = 2, 3, 5, 4
    mb = ModelBuilder()
    x = mb.input("x", [T, B, I])
    fw, _, fh, fc = _lstm_inputs(mb, rng, "fw_", I, C, C, False, False, False, False, False, False, B)
    bw, _, bh, bc = _lstm_inputs(mb, rng, "bw_", I, C, C, False, False, False, False, False, False, B)
    ins = [x] + [fw[i] for i in range(1, 18)] + [bw[i] for i in range(1, 18)] + [fh, fc, bh, bc] + [-1] * 9
    outs = [mb.tensor("fw_y", []), mb.tensor("bw_y", [])]
    mb.op("BIDIRECTIONAL_SEQUENCE_LSTM", ins, outs)
    mb.output(*outs)
    check(mb.build(), _feeds(rng, [[T, B, I]]))


# ------------------------------------------------------------------------------- no activation

def _feeds_with_zero_rows(rng, shapes, n=3):
    """Random feeds where some batch rows / time steps are all zero (LiteRT skips all-zero operands, which
    changes what its NONE-activation LSTM computes)."""
    feeds = []
    for k in range(n - 1):
        f = []
        for s in shapes:
            a = rng.standard_normal(s).astype(np.float32)
            if k == 0:
                a[0] = 0          # batch-major: one batch row; time-major: one whole time step
            f.append(a)
        feeds.append(f)
    feeds.append(feeds[0])
    return feeds


@pytest.mark.parametrize("case", ["basic", "layer_norm", "cifg_peephole", "proj"])
@pytest.mark.parametrize("op,time_major", [("LSTM", False), ("UNIDIRECTIONAL_SEQUENCE_LSTM", False),
                                           ("UNIDIRECTIONAL_SEQUENCE_LSTM", True)])
@pytest.mark.parametrize("hybrid", [False, True])
def test_lstm_without_activation(rng, case, op, time_major, hybrid):
    """fused_activation_function NONE: LiteRT's kernels leave the cell-gate scratch in place of the
    activated cell state, so the output is output_gate * cell_gate."""
    kw = dict(LSTM_CASES[case])
    kw["act"] = "NONE"
    if op != "LSTM":
        kw["time_major"] = time_major
    content, shapes = _lstm_model(rng, op, 2, 3, 5, 4, 3, hybrid=hybrid, **kw)
    check(content, _feeds_with_zero_rows(rng, shapes))


@pytest.mark.parametrize("time_major", [False, True])
def test_bidi_lstm_without_activation_aux(rng, time_major):
    """With aux inputs, the NONE-activation cell gate depends on which of input / aux are all zero."""
    content, shapes = _bidi_lstm_model(rng, 2, 3, 5, 4, 4, False, time_major, "weights", act="NONE")
    feeds = _feeds_with_zero_rows(rng, shapes)
    feeds[1][1][1] = 0          # second invoke: aux zero where the input is not
    check(content, feeds)


@pytest.mark.parametrize("op", ["RNN", "SVDF", "UNIDIRECTIONAL_SEQUENCE_LSTM"])
def test_hybrid_uint8_weights_read_as_int8(rng, op):
    """LiteRT's hybrid kernels take UINT8 weight buffers too and read them as int8 (zero point ignored)."""
    q = {"scale": [0.01], "zero_point": [128]}

    def u8(name, shape):
        return mb.const(name, rng.integers(0, 256, shape).astype(np.uint8), "UINT8", quant=q)
    mb = ModelBuilder()
    y = mb.tensor("y", [])
    if op == "RNN":
        x = mb.input("x", [2, 5])
        shapes = [[2, 5]]
        mb.op("RNN", [x, u8("w", (4, 5)), u8("r", (4, 4)), _bias(mb, rng, "b", 4),
                      mb.tensor("h", [2, 4], is_variable=True)], [y], fused_activation_function="TANH")
    elif op == "SVDF":
        x = mb.input("x", [2, 5])
        shapes = [[2, 5]]
        mb.op("SVDF", [x, u8("wf", (6, 5)), u8("wt", (6, 3)), -1, mb.tensor("s", [2, 18], is_variable=True)],
              [y], rank=2, fused_activation_function="RELU")
    else:
        B, T, I, C = 2, 3, 5, 4
        x = mb.input("x", [B, T, I])
        shapes = [[B, T, I]]
        ins = [x] + [u8(f"in{g}", (C, I)) for g in "ifco"] + [u8(f"rec{g}", (C, C)) for g in "ifco"]
        ins += [-1, -1, -1] + [_bias(mb, rng, f"b{g}", C) for g in "ifco"] + [-1, -1]
        ins += [mb.tensor("h", [B, C], is_variable=True), mb.tensor("c", [B, C], is_variable=True)] + [-1] * 4
        mb.op(op, ins, [y], fused_activation_function="TANH")
    mb.output(y)
    check(mb.build(), _feeds(rng, shapes))


@pytest.mark.parametrize("kind", ["float", "hybrid", "svdf", "bidi_rnn"])
def test_reference_resolver(rng, kind):
    if kind == "float":
        content, shapes = _lstm_model(rng, "UNIDIRECTIONAL_SEQUENCE_LSTM", 2, 3, 5, 4, 3, peephole=True, proj=True)
    elif kind == "hybrid":
        content, shapes = _lstm_model(rng, "UNIDIRECTIONAL_SEQUENCE_LSTM", 2, 3, 5, 4, 3, hybrid=True, asym=True)
    elif kind == "svdf":
        content, shapes = _svdf_model(rng, 2, 6, 3, 2, 4, "RELU", True, hybrid=True)
    else:
        content, shapes = _bidi_rnn_model(rng, 2, 4, 5, 3, False, False, "weights")
    check(content, _feeds(rng, shapes), resolver="BUILTIN_REF")


@pytest.mark.parametrize("kind", ["input", "const"])
def test_state_must_be_a_variable_tensor(rng, kind):
    """LiteRT reads the state through GetVariableInput: a plain input or constant state fails at invoke."""
    mb = ModelBuilder()
    x = mb.input("x", [2, 5])
    h = mb.input("h", [2, 4]) if kind == "input" else mb.const("h", np.zeros((2, 4), np.float32))
    y = mb.tensor("y", [])
    mb.op("RNN", [x, mb.const("w", np.ones((4, 5), np.float32)), mb.const("r", np.ones((4, 4), np.float32)),
                  mb.const("b", np.zeros(4, np.float32)), h], [y], fused_activation_function="TANH")
    mb.output(y)
    content = mb.build()
    for it in (litert().Interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)):
        it.allocate_tensors()
        with pytest.raises(RuntimeError):
            it.invoke()
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    with pytest.raises(RuntimeError, match="variable tensor"):
        it.invoke()


def test_lstm_with_float16_weights_through_dequantize(rng):
    """float16-quantized models: DEQUANTIZE ops turn the stored float16 weights into the LSTM's inputs."""
    B, T, I, C = 2, 3, 5, 4
    mb = ModelBuilder()
    x = mb.input("x", [B, T, I])

    def w16(name, shape, scale=0.5):
        c = mb.const(name + "_f16", (rng.standard_normal(shape) * scale).astype(np.float16))
        out = mb.tensor(name, list(shape))
        mb.op("DEQUANTIZE", [c], [out])
        return out
    ins = [x] + [w16(f"in{g}", (C, I)) for g in "ifco"] + [w16(f"rec{g}", (C, C), 0.3) for g in "ifco"]
    ins += [-1, -1, -1] + [w16(f"b{g}", (C,)) for g in "ifco"] + [-1, -1]
    ins += [mb.tensor("h", [B, C], is_variable=True), mb.tensor("c", [B, C], is_variable=True)] + [-1] * 4
    y = mb.tensor("y", [])
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], fused_activation_function="TANH")
    mb.output(y)
    check(mb.build(), _feeds(rng, [[B, T, I]]))
