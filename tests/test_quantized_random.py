"""Seeded random configurations of the core quantized kernels (conv, depthwise, add/sub/mul), each compared
bit-exactly with LiteRT's default and reference kernels."""
import numpy as np
import pytest

from oracle import run_litert, run_ours
from test_quantized_elementwise import _binary
from test_quantized_fc_conv import _conv_model


def _compare(content, inputs):
    for ours_res, lite_res in (("BUILTIN", "BUILTIN_WITHOUT_DEFAULT_DELEGATES"), ("BUILTIN_REF", "BUILTIN_REF")):
        ref = run_litert(content, inputs, lite_res)[0]
        ours = run_ours(content, inputs, ours_res)[0]
        assert ours.shape == ref.shape and ours.dtype == ref.dtype
        assert np.array_equal(ours, ref), f"{ours_res}: {np.sum(ours != ref)} values differ"


@pytest.mark.parametrize("seed", range(24))
def test_random_conv_and_depthwise(seed):
    rng = np.random.default_rng(1000 + seed)
    op = ("CONV_2D", "DEPTHWISE_CONV_2D")[seed % 2]
    tin = ("INT8", "INT8", "UINT8", "INT16")[(seed // 2) % 4]
    k = int(rng.choice([1, 2, 3, 5]))
    dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    h = int(rng.integers((k - 1) * dil[0] + 1, 20))
    w = int(rng.integers((k - 1) * dil[1] + 1, 20))
    c, nb = int(rng.integers(1, 20)), int(rng.integers(1, 3))
    stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = str(rng.choice(["SAME", "VALID"]))
    act = str(rng.choice(["NONE", "RELU", "RELU6"]))
    oc = int(rng.integers(1, 20)) if op == "CONV_2D" else int(rng.integers(1, 4))
    zi, zo = int(rng.integers(-10, 10)), int(rng.integers(-10, 10))
    if tin == "UINT8":
        zi, zo = zi + 128, zo + 128
    if tin == "INT16":
        zi = zo = 0
    content, x = _conv_model(rng, op, tin, (nb, h, w, c), k, k, oc, tin != "UINT8", stride, dil, padding, act,
                             (0.05 if tin != "INT16" else 0.001, zi), (0.2, zo))
    _compare(content, [x])


@pytest.mark.parametrize("seed", range(30))
def test_random_add_sub_mul(seed):
    rng = np.random.default_rng(2000 + seed)
    rank = int(rng.integers(1, 5))
    full = [int(rng.integers(1, 40)) for _ in range(rank)]
    sa = [d if rng.random() < 0.7 else 1 for d in full]
    sb = [d if rng.random() < 0.7 else 1 for d in full]
    if rng.random() < 0.3:
        sb = sb[int(rng.integers(0, rank)):] or [1]
    tin = ("INT8", "UINT8")[seed % 2]
    op = ("ADD", "SUB", "MUL")[seed % 3]
    zps = [int(rng.integers(-20, 20)) + (128 if tin == "UINT8" else 0) for _ in range(3)]
    qa, qb = (float(rng.uniform(0.01, 0.2)), zps[0]), (float(rng.uniform(0.01, 0.2)), zps[1])
    qo = (float(rng.uniform(0.02, 0.3)) * (10 if op == "MUL" else 1), zps[2])
    act = ("NONE", "RELU", "RELU6")[seed % 3]
    content, inputs = _binary(rng, op, tin, sa, sb, qa, qb, qo, act)
    _compare(content, inputs)


from qhelpers import qp, rand_q  # noqa: E402
from test_quantized_misc import _unary  # noqa: E402


@pytest.mark.parametrize("seed", range(24))
def test_random_activations(seed):
    rng = np.random.default_rng(3000 + seed)
    op = ("LEAKY_RELU", "RELU", "RELU6", "HARD_SWISH", "ABS", "LOGISTIC", "TANH", "PRELU")[seed % 8]
    tin = "INT8" if op == "ABS" else ("INT8", "UINT8")[(seed // 8) % 2]
    n = int(rng.choice([5, 8, 15, 16, 17, 31, 33, 64, 100, 257]))
    shape = (int(rng.integers(1, 4)), n)
    off = 128 if tin == "UINT8" else 0
    zi, zo = int(rng.integers(-30, 30)) + off, int(rng.integers(-30, 30)) + off
    si, so = float(rng.uniform(0.005, 0.2)), float(rng.uniform(0.005, 0.2))
    extra, opts = [], {}
    if op == "LOGISTIC":
        so, zo = 1 / 256, (-128 if tin == "INT8" else 0)
    if op == "TANH":
        so, zo = 1 / 128, (0 if tin == "INT8" else 128)
    if op == "LEAKY_RELU":
        opts = dict(alpha=float(rng.uniform(0.01, 0.5)))
    if op == "PRELU":
        extra = [("alpha", rand_q(rng, (n,), tin), tin, qp(float(rng.uniform(0.001, 0.01)), int(rng.integers(-10, 10)) + off))]
    content, inputs = _unary(rng, op, tin, shape, (si, zi), (so, zo), extra_inputs=extra, **opts)
    _compare(content, inputs)


@pytest.mark.parametrize("seed", range(24))
def test_random_pool_and_mean(seed):
    rng = np.random.default_rng(4000 + seed)
    op = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "MEAN")[seed % 4]
    tin = ("INT8", "UINT8", "INT8", "INT16")[(seed // 4) % 4]
    h, w, c, nb = int(rng.integers(2, 15)), int(rng.integers(2, 15)), int(rng.integers(1, 70)), int(rng.integers(1, 3))
    off = 128 if tin == "UINT8" else 0
    zi = 0 if tin == "INT16" else int(rng.integers(-30, 30)) + off
    si = 0.001 if tin == "INT16" else float(rng.uniform(0.005, 0.2))
    if op == "MEAN":
        zo = 0 if tin == "INT16" else int(rng.integers(-30, 30)) + off
        axes = [[1, 2], [2, 1], [1], [3], [0, 1, 2]][int(rng.integers(0, 5))]
        content, inputs = _unary(rng, op, tin, (nb, h, w, c), (si, zi), (si * float(rng.uniform(0.3, 2)), zo),
                                 extra_inputs=[("axis", np.array(axes, np.int32), "INT32", None)],
                                 keep_dims=bool(rng.integers(0, 2)))
    else:
        fh, fw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        content, inputs = _unary(rng, op, tin, (nb, h, w, c), (si, zi), (si, zi), options_type="Pool2DOptions",
                                 filter_height=fh, filter_width=fw, stride_h=int(rng.integers(1, 3)),
                                 stride_w=int(rng.integers(1, 3)), padding=str(rng.choice(["SAME", "VALID"])))
    _compare(content, inputs)


@pytest.mark.parametrize("seed", range(12))
def test_random_transpose_conv(seed):
    from tfl_gpu.writer import ModelBuilder
    rng = np.random.default_rng(5000 + seed)
    h, w, c = int(rng.integers(3, 16)), int(rng.integers(3, 16)), int(rng.integers(1, 24))
    oc, k, s = int(rng.integers(1, 40)), int(rng.choice([2, 3, 4, 5])), int(rng.choice([1, 2, 3]))
    pad = str(rng.choice(["SAME", "VALID"]))
    oh, ow = (h * s, w * s) if pad == "SAME" else ((h - 1) * s + k, (w - 1) * s + k)
    mb = ModelBuilder()
    x = mb.input("x", [1, h, w, c], "INT8", quant=qp(0.05, int(rng.integers(-10, 10))))
    wv = rand_q(rng, (oc, k, k, c), "INT8")
    wv[wv == -128] = -127
    wsc = rng.uniform(0.005, 0.02, oc)
    wi = mb.const("w", wv, "INT8", quant=qp(wsc, [0] * oc, dim=0))
    shape = mb.const("shape", np.array([1, oh, ow, oc], np.int32))
    b = mb.const("b", rng.integers(-3000, 3000, oc).astype(np.int32), "INT32", quant=qp(0.05 * wsc, [0] * oc, dim=0))
    out_scale = float(0.05 * np.mean(wsc) * 70 * 70 * np.sqrt(k * k * c / s ** 2) / 40)
    y = mb.tensor("y", [1, oh, ow, oc], "INT8", quant=qp(out_scale, 3))
    mb.op("TRANSPOSE_CONV", [shape, wi, x, b], [y], padding=pad, stride_w=s, stride_h=s)
    mb.output(y)
    _compare(mb.build(), [rand_q(rng, (1, h, w, c), "INT8")])


@pytest.mark.parametrize("seed", range(24))
def test_random_hybrid_fc_and_conv(seed):
    """Includes rows whose scaled values hit exact halves (the vector loop of LiteRT's asymmetric input
    quantization rounds them up, its tail away from zero)."""
    from test_quantized_hybrid import _hybrid_conv, _hybrid_fc
    rng = np.random.default_rng(700 + seed)
    if seed % 2:
        h, w, cc = int(rng.integers(3, 14)), int(rng.integers(3, 14)), int(rng.integers(1, 12))
        k, s = int(rng.choice([1, 2, 3])), int(rng.choice([1, 2]))
        content, inputs = _hybrid_conv(rng, (int(rng.integers(1, 3)), h, w, cc), int(rng.integers(1, 20)), k, s,
                                       str(rng.choice(["SAME", "VALID"])), bool(rng.integers(0, 2)))
    else:
        content, inputs = _hybrid_fc(rng, int(rng.integers(1, 20)), int(rng.integers(1, 400)),
                                     int(rng.integers(1, 50)), bool(rng.integers(0, 2)), bool(rng.integers(0, 2)))
    for ours_res, lite_res in (("BUILTIN", "BUILTIN_WITHOUT_DEFAULT_DELEGATES"), ("BUILTIN_REF", "BUILTIN_REF")):
        ref = run_litert(content, inputs, lite_res)[0]
        ours = run_ours(content, inputs, ours_res)[0]
        assert np.array_equal(ours, ref), f"{ours_res}: {np.sum(ours != ref)} values differ"


@pytest.mark.parametrize("seed", range(24))
def test_random_softmax_family(seed):
    rng = np.random.default_rng(5000 + seed)
    op = ("SOFTMAX", "LOG_SOFTMAX", "L2_NORMALIZATION", "EXP", "GELU", "SOFTMAX")[seed % 6]
    tin = ("INT8", "UINT8")[(seed // 6) % 2]
    if op == "EXP":
        tin = "INT8"
    shape = (int(rng.integers(1, 5)), int(rng.integers(1, 300)))
    off = 128 if tin == "UINT8" else 0
    q_in = (float(rng.uniform(0.005, 0.5)), int(rng.integers(-30, 30)) + off)
    opts = {}
    if op == "SOFTMAX":
        q_out, opts = (1 / 256, -128 if tin == "INT8" else 0), dict(beta=float(rng.uniform(0.3, 2)))
    elif op == "LOG_SOFTMAX":
        q_out = (16 / 256, 127 if tin == "INT8" else 255)
    elif op == "L2_NORMALIZATION":
        q_out = (1 / 128, 0 if tin == "INT8" else 128)
    elif op == "EXP":
        q_out = (float(rng.uniform(0.01, 0.5)), -128)
    else:
        q_out = (float(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 30)) + off)
        opts = dict(approximate=bool(rng.integers(0, 2)))
    content, inputs = _unary(rng, op, tin, shape, q_in, q_out, **opts)
    _compare(content, inputs)
