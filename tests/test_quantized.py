"""Quantized kernels: bit-exact with LiteRT (default kernels and reference kernels)."""
import numpy as np
import pytest

from qhelpers import INFO, both_resolvers, qp, rand_q
from tfl_gpu import quant as Q
from tfl_gpu.writer import ModelBuilder


# ----------------------------------------------------------------------------- fixed-point arithmetic

def _ref_qm(m):
    """QuantizeMultiplier from its definition, with Python's exact integers."""
    import math
    if m == 0:
        return 0, 0
    f, e = math.frexp(m)
    x = f * 2 ** 31
    q = int(math.floor(x + 0.5))
    if q == 2 ** 31:
        q, e = q // 2, e + 1
    if e < -31:
        return 0, 0
    return q, e


def _ref_mbqm(x, q, shift):
    left, right = max(shift, 0), max(-shift, 0)
    x = x * (1 << left)
    x = (x + 2 ** 31) % 2 ** 32 - 2 ** 31
    if x == q == -2 ** 31:
        hi = 2 ** 31 - 1
    else:
        ab = x * q
        v = ab + (2 ** 30 if ab >= 0 else 1 - 2 ** 30)
        hi = int(v / 2 ** 31) if abs(v) < 2 ** 52 else (abs(v) >> 31) * (1 if v >= 0 else -1)
    mask = (1 << right) - 1
    rem = hi & mask
    thr = (mask >> 1) + (1 if hi < 0 else 0)
    return (hi >> right) + (1 if rem > thr else 0)


def test_quantize_multiplier_edges():
    assert Q.quantize_multiplier(0.0) == (0, 0)
    assert Q.quantize_multiplier(0.5) == (1 << 30, 0)
    assert Q.quantize_multiplier(1.0) == (1 << 30, 1)
    # frac rounds up to 2**31: halved, shift + 1
    m = 1.0 - 2.0 ** -40
    assert Q.quantize_multiplier(m) == (1 << 30, 1)
    assert Q.quantize_multiplier(2.0 ** -40) == (0, 0)
    for m in np.random.default_rng(0).uniform(1e-6, 4, 200):
        assert Q.quantize_multiplier(m) == _ref_qm(m)


def test_multiply_by_quantized_multiplier_matches_definition(rng):
    xs = rng.integers(-2 ** 31, 2 ** 31, 500).tolist() + [0, 1, -1, 2 ** 31 - 1, -2 ** 31, 12345, -12345]
    for q, s in [(1 << 30, 0), (1518500250, -7), (2 ** 31 - 1, -1), (1 << 30, 3), (1073741825, -20),
                 (-2 ** 31, 0), (1859775393, -31)]:
        got = Q.multiply_by_quantized_multiplier(np.array(xs, np.int64), q, s)
        want = [_ref_mbqm(x, q, s) for x in xs]
        assert got.tolist() == want, (q, s)


def test_round_half_away():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 2.4], np.float64)
    assert Q.round_half_away(x).tolist() == [1, 2, 3, -1, -2, -3, 0, 2]


# ----------------------------------------------------------------------------- QUANTIZE / DEQUANTIZE

@pytest.mark.parametrize("out_type,scale,zp", [("INT8", 0.0157, -3), ("UINT8", 0.02, 128), ("INT16", 0.0003, 0),
                                               ("INT8", 0.5, 0), ("UINT8", 1.0 / 255, 0)])
def test_quantize_float(rng, out_type, scale, zp):
    mb = ModelBuilder()
    x = mb.input("x", [3, 7, 11], "FLOAT32")          # 231 values: 28 vector blocks of 8 and a tail of 7
    y = mb.tensor("y", [3, 7, 11], out_type, quant=qp(scale, zp))
    mb.op("QUANTIZE", [x], [y])
    mb.output(y)
    lo, hi = INFO[out_type][1:]
    data = rng.normal(0, 1, (3, 7, 11)).astype(np.float32) * scale * (hi - lo) / 3
    # exact halves and out-of-range values
    data.flat[:8] = np.array([0.5, 1.5, -0.5, -2.5, 1e6, -1e6, 2.5, 0], np.float32) * np.float32(scale)
    data.flat[8] = np.inf
    data.flat[9] = -np.inf
    # exact halves in the scalar tail too
    data.flat[-7:] = (np.array([0.5, 1.5, -0.5, -2.5, 3.5, -3.5, 4.5]) * np.float32(scale)).astype(np.float32)
    both_resolvers(mb.build(), [data])


@pytest.mark.parametrize("tin,sin,zin,tout,sout,zout", [
    ("INT8", 0.02, 3, "INT8", 0.05, -10), ("UINT8", 0.02, 128, "INT8", 0.02, 0), ("INT8", 0.1, -5, "UINT8", 0.03, 100),
    ("INT16", 0.001, 0, "INT16", 0.0007, 0), ("INT16", 0.001, 0, "INT8", 0.05, 2), ("INT8", 0.01, 1, "INT16", 0.0002, 0),
    ("UINT8", 0.03, 120, "UINT8", 0.01, 130)])
def test_requantize(rng, tin, sin, zin, tout, sout, zout):
    mb = ModelBuilder()
    x = mb.input("x", [2, 5, 9], tin, quant=qp(sin, zin))
    y = mb.tensor("y", [2, 5, 9], tout, quant=qp(sout, zout))
    mb.op("QUANTIZE", [x], [y])
    mb.output(y)
    both_resolvers(mb.build(), [rand_q(rng, (2, 5, 9), tin)])


@pytest.mark.parametrize("tin,scale,zp", [("INT8", 0.0173, -7), ("UINT8", 0.031, 131), ("INT16", 0.00091, 0)])
def test_dequantize(rng, tin, scale, zp):
    mb = ModelBuilder()
    x = mb.input("x", [4, 33], tin, quant=qp(scale, zp))
    y = mb.tensor("y", [4, 33], "FLOAT32")
    mb.op("DEQUANTIZE", [x], [y])
    mb.output(y)
    both_resolvers(mb.build(), [rand_q(rng, (4, 33), tin)])


def test_dequantize_per_channel_const(rng):
    mb = ModelBuilder()
    w = rand_q(rng, (5, 6), "INT8")
    c = mb.const("w", w, "INT8", quant=qp(rng.uniform(0.01, 0.1, 5), [0] * 5, dim=0))
    d = mb.tensor("d", [5, 6], "FLOAT32")
    mb.op("DEQUANTIZE", [c], [d])
    x = mb.input("x", [5, 6], "FLOAT32")
    y = mb.tensor("y", [5, 6], "FLOAT32")
    mb.op("ADD", [x, d], [y])
    mb.output(y)
    both_resolvers(mb.build(), [rng.normal(size=(5, 6)).astype(np.float32)])


def test_quantize_float_per_channel(rng):
    mb = ModelBuilder()
    x = mb.input("x", [2, 5, 4], "FLOAT32")
    y = mb.tensor("y", [2, 5, 4], "INT8", quant=qp([0.01, 0.02, 0.05, 0.1], [0, 0, 0, 0], dim=2))
    mb.op("QUANTIZE", [x], [y])
    mb.output(y)
    both_resolvers(mb.build(), [rng.normal(0, 2, (2, 5, 4)).astype(np.float32)])


@pytest.mark.parametrize("seed", range(12))
def test_requantize_random(seed):
    """Every 8/16-bit type pair, lengths around LiteRT's 16-wide vector blocks, random scales."""
    rng = np.random.default_rng(300 + seed)
    pairs = [("INT8", "INT8"), ("UINT8", "INT8"), ("INT8", "UINT8"), ("UINT8", "UINT8"), ("INT16", "INT16"),
             ("INT16", "INT8"), ("INT8", "INT16"), ("UINT8", "INT16")]   # (LiteRT has no int16 -> uint8)
    tin, tout = pairs[seed % len(pairs)]
    n = int(rng.choice([7, 15, 17, 33, 100, 257]))

    def params(t):
        if t == "INT16":
            return float(rng.uniform(1e-5, 1e-3)), 0
        return float(rng.uniform(0.001, 0.1)), int(rng.integers(-20, 20)) + (128 if t == "UINT8" else 0)

    mb = ModelBuilder()
    x = mb.input("x", [n], tin, quant=qp(*params(tin)))
    y = mb.tensor("y", [n], tout, quant=qp(*params(tout)))
    mb.op("QUANTIZE", [x], [y])
    mb.output(y)
    both_resolvers(mb.build(), [rand_q(rng, (n,), tin)])
