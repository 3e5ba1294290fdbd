"""Ports of TensorFlow Lite's C++ kernel unit tests (tensorflow/lite/kernels/*_test.cc).

Each ported case builds the same single-op model as the upstream ``SingleOpModel``, feeds the same inputs and
asserts the values the upstream test asserts (an oracle written by TFLite's authors, independent of both
LiteRT's Python build and of us); it also runs LiteRT on the same model and requires our outputs to match it.
"""
from __future__ import annotations

import numpy as np

from oracle import run_ours
from shape_helpers import build, litert_outputs

F32, I8, U8, I16, I32, I64 = np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64


def arr(values, dtype=F32, shape=None):
    a = np.asarray(values, dtype=dtype) if np.dtype(dtype) != np.object_ else _strings(values)
    return a.reshape(shape) if shape is not None else a


def _strings(values):
    flat = [v.encode() if isinstance(v, str) else bytes(v) for v in np.asarray(values, dtype=object).ravel()]
    a = np.empty(len(flat), dtype=object)
    a[:] = flat
    return a.reshape(np.shape(values))


def _cmp_expected(o, e, tol, what):
    o = np.asarray(o)
    if o.dtype == np.object_:
        assert list(o.ravel()) == list(_strings(e).ravel()), f"{what}: {o.ravel()} != upstream {e}"
        return
    if o.dtype.kind == "c":
        ec = np.asarray(e, np.complex128).ravel()
        err = np.abs(o.astype(np.complex128).ravel() - ec) if o.size == ec.size else None
        assert err is not None and np.all(err <= tol * np.maximum(1.0, np.abs(ec))), \
            f"{what}: ours={o.ravel().tolist()} upstream={ec.tolist()}"
        return
    if o.dtype.kind in "iub":
        try:
            e = np.asarray(e, dtype=o.dtype).ravel()
        except OverflowError:       # values written as unsigned bytes for a signed output (wrap like C)
            e = np.asarray(e).astype(o.dtype).ravel()
    else:
        e = np.asarray(e, dtype=np.float64 if o.dtype.kind in "fc" else None).ravel()
    assert o.size == e.size, f"{what}: {o.size} elements, upstream expects {e.size}"
    if o.dtype.kind == "f":
        ov = o.astype(np.float64).ravel()
        assert np.array_equal(np.isnan(ov), np.isnan(e)), f"{what}: NaN positions differ from upstream"
        fin = ~np.isnan(e)
        err = np.abs(ov[fin] - e[fin])
        bound = tol * np.maximum(1.0, np.abs(e[fin]))
        assert np.all((err <= bound) | (ov[fin] == e[fin])), (
            f"{what}: differs from upstream expectation (max err {err.max() if err.size else 0:.3g})\n"
            f"ours={ov.tolist()}\nupstream={e.tolist()}")
    else:
        assert np.array_equal(o.ravel(), e.astype(o.dtype)), \
            f"{what}: ours={o.ravel().tolist()} upstream={e.tolist()}"


def case(op, inputs, expected, const=(), shapes=None, tol=1e-5, lite_tol=1e-5, resolver="BUILTIN",
         check_litert=True, deq=None, atol=None, **kw):
    """Builds ``op`` over ``inputs`` (indices in ``const`` are constants), runs tfl_gpu and LiteRT.
    ``expected`` is a list (one per output) of upstream values; ``shapes`` the upstream output shapes
    (None entries are not checked). Floats: |ours-upstream| <= tol*max(1,|upstream|); ints exact.
    Also compares with LiteRT (exact for integer/string outputs)."""
    content, feeds = build(op, inputs, const, **kw)
    ours = run_ours(content, feeds, resolver)
    if not isinstance(expected, (list, tuple)) or (expected and np.isscalar(expected[0])):
        expected = [expected]
    for k, e in enumerate(expected):
        if e is None:
            continue
        if deq is not None:     # quantized output: compare dequantized values within ``atol`` (upstream)
            got = dequantize(ours[k], *deq)
            err = np.abs(got.ravel() - np.asarray(e, np.float64).ravel())
            assert got.size == np.size(e) and err.max(initial=0) <= atol, \
                f"{op} output {k}: dequantized {got.ravel().tolist()} vs upstream {list(np.ravel(e))}"
        elif atol is not None:
            err = np.abs(np.asarray(ours[k], np.float64).ravel() - np.asarray(e, np.float64).ravel())
            assert np.size(ours[k]) == np.size(e) and err.max(initial=0) <= atol, \
                f"{op} output {k}: {np.ravel(ours[k]).tolist()} vs upstream {list(np.ravel(e))}"
        else:
            _cmp_expected(ours[k], e, tol, f"{op} output {k}")
    if shapes is not None:
        for k, s in enumerate(shapes):
            if s is not None:
                assert list(np.shape(ours[k])) == list(s), f"{op} output {k}: shape {np.shape(ours[k])} != {s}"
    if check_litert:
        if resolver == "BUILTIN_REF":
            from oracle import run_litert
            ref = run_litert(content, feeds, "BUILTIN_REF")
        else:
            ref = litert_outputs(content, feeds)
        assert len(ref) == len(ours)
        for k, (o, r) in enumerate(zip(ours, ref)):
            o, r = np.asarray(o), np.asarray(r)
            assert o.shape == r.shape and o.dtype == r.dtype, f"{op} output {k}: {o.shape}/{o.dtype} vs LiteRT " \
                                                              f"{r.shape}/{r.dtype}"
            if o.dtype.kind == "f":
                scale = max(1.0, float(np.nanmax(np.abs(r))) if r.size and np.isfinite(r).any() else 1.0)
                assert np.array_equal(np.isnan(o), np.isnan(r))
                fin = np.isfinite(r)
                assert np.array_equal(o[~fin], r[~fin])
                assert not fin.any() or np.max(np.abs(o[fin].astype(np.float64) - r[fin])) <= lite_tol * scale, \
                    f"{op} output {k} differs from LiteRT"
            else:
                assert np.array_equal(o, r), f"{op} output {k} differs from LiteRT: {o.ravel()} vs {r.ravel()}"
    return ours


def quant_params(lo, hi, dtype):
    """TFLite test_util's QuantizationParams<T>(lo, hi): (scale, zero point) for ``dtype``."""
    info = np.iinfo(dtype)
    qmin, qmax = int(info.min), int(info.max)
    if lo == hi == 0:
        return 1.0, 0
    scale = np.float32(np.float32(hi) - np.float32(lo)) / np.float32(qmax - qmin)   # float, as test_util
    s64 = float(scale)
    zp_from_min = qmin - float(np.float32(lo)) / s64
    zp_from_max = qmax - float(np.float32(hi)) / s64
    err_min = abs(qmin) + abs(float(np.float32(lo)) / s64)
    err_max = abs(qmax) + abs(float(np.float32(hi)) / s64)
    zp = zp_from_min if err_min < err_max else zp_from_max
    if zp < qmin:
        nudged = qmin
    elif zp > qmax:
        nudged = qmax
    else:
        t = int(zp)                                              # std::round: half away from zero
        nudged = t + (int(np.sign(zp)) if abs(zp - t) >= 0.5 else 0)
    return float(scale), int(nudged)


def quantize(values, scale, zp, dtype):
    info = np.iinfo(dtype)
    x = zp + np.asarray(values, np.float32) / np.float32(scale)   # test_util: std::round(zp + f / scale) in float
    t = np.trunc(x)
    q = np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t)
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q, scale, zp):
    return (np.asarray(q, np.float64) - zp) * scale
