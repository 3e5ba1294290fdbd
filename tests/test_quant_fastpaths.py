"""The fast exact paths of the quantized kernels against their integer definitions:
quant.AffineRequant (float64 requantization) vs the int64 MultiplyByQuantizedMultiplier (halves up), and the
row-view depthwise sums vs the window view. (Whole kernels are compared with LiteRT in test_quantized*.py.)"""
import types

import numpy as np
import pytest

import tfl_gpu.quant as Q
from tfl_gpu.kernels import q_conv


@pytest.mark.parametrize("seed", range(6))
def test_affine_requant_matches_int64(seed):
    rng = np.random.default_rng(seed)
    used = 0
    for trial in range(120):
        n = int(rng.integers(1, 16))
        ms = np.exp(rng.uniform(np.log(2.0 ** -20), np.log(0.99), n))
        q, s = Q.quantize_multipliers(ms)
        dt = (np.int8, np.uint8)[trial % 2]
        lo, hi = (-128, 127) if dt == np.int8 else (0, 255)
        zp = int(rng.integers(lo, hi + 1))
        if trial % 4 == 1:
            lo = max(lo, zp)                           # a RELU-like clamp
        adj = rng.integers(-(1 << 18), 1 << 18, n)
        aff = Q.AffineRequant(q, s, zp, lo, hi, dt)
        consts = aff.consts(adj)
        if consts is None:
            continue
        used += 1
        m = q / 2.0 ** (31 - s)
        # inputs concentrated around the clip window (where ties and boundaries matter), plus far ones
        tgt = rng.integers(lo - 3, hi + 4, (3000, n))
        y = np.round((tgt - zp) / m - adj + rng.integers(-3, 4, (3000, n)))
        y[:50] = rng.integers(-(1 << 24) + 1, 1 << 24, (50, n))
        y = np.clip(y, -(1 << 24) + 1, (1 << 24) - 1)
        acc = y.astype(np.int64) + adj
        ref = np.clip(Q.multiply_by_quantized_multiplier_up(acc, q, s) + zp, lo, hi).astype(dt)
        for yy in (y.astype(np.float32), y):
            assert np.array_equal(aff(yy, consts), ref)
    assert used > 10


def test_affine_requant_refuses_inexact():
    q, s = Q.quantize_multipliers(np.array([2.0 ** -20]))
    aff = Q.AffineRequant(q, s, 0, -128, 127, np.int8)
    assert aff.consts(np.array([1 << 20])) is None          # (|offset| + 260) * 2**e above 2**53 (e = 50)
    q, s = Q.quantize_multipliers(np.array([1.5]))          # left shift: int64 path
    assert Q.AffineRequant(q, s, 0, -128, 127, np.int8).consts(None) is None


def test_depthwise_row_view_matches_window_view():
    rng = np.random.default_rng(5)
    for _ in range(150):
        n = int(rng.integers(1, 3))
        kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        dh, dw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        sh = int(rng.integers(1, 3))
        cc = int(rng.integers(1, 20))
        oh, ow = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        ph = (oh - 1) * sh + (kh - 1) * dh + 1 + int(rng.integers(0, 3))
        pw = (ow - 1) + (kw - 1) * dw + 1 + int(rng.integers(0, 3))
        xc = rng.integers(-255, 256, (n, ph, pw, cc)).astype(np.float32)
        k = types.SimpleNamespace(kh=kh, kw=kw, dh=dh, dw=dw, sh=sh, sw=1,
                                  w=rng.integers(-127, 128, (kh, kw, cc)), _wt_tiles={})
        a = q_conv._dw_rows_method(k, xc, oh, ow)
        b = q_conv._dw_window(k, xc, oh, ow)
        assert a.shape == b.shape and np.array_equal(a, b)
