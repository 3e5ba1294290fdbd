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
