"""StableHLO ops LiteRT 2.3 does not register: checked against numpy formulas written from the StableHLO
specification (LiteRT refuses these models, which the first test confirms)."""
from __future__ import annotations

import numpy as np
import pytest

from tfl_gpu.writer import ModelBuilder
from oracle import assert_close, run_litert, run_ours

NP = {"FLOAT32": np.float32, "FLOAT64": np.float64, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
      "INT64": np.int64, "UINT8": np.uint8, "UINT32": np.uint32, "BOOL": np.bool_}


def _model(op, in_specs, out_specs, **opts):
    """in_specs: list of (shape, type) for graph inputs or numpy arrays for constants."""
    mb = ModelBuilder()
    ins = []
    for k, s in enumerate(in_specs):
        if isinstance(s, np.ndarray):
            ins.append(mb.const(f"c{k}", s))
        else:
            ins.append(mb.input(f"in{k}", s[0], s[1]))
    outs = [mb.tensor(f"out{k}", shape, tn) for k, (shape, tn) in enumerate(out_specs)]
    mb.op(op, ins, outs, **opts)
    mb.output(*outs)
    return mb


def _run(mb, inputs):
    return run_ours(mb.build(), inputs)


def test_litert_does_not_run_these():
    mb = _model("STABLEHLO_SUBTRACT", [([3], "FLOAT32"), ([3], "FLOAT32")], [([3], "FLOAT32")])
    x = np.ones(3, np.float32)
    with pytest.raises(Exception, match="Didn't find op"):
        run_litert(mb.build(), [x, x])
    np.testing.assert_array_equal(_run(mb, [x, x])[0], np.zeros(3, np.float32))


@pytest.mark.parametrize("op,fn", [
    ("STABLEHLO_ABS", np.abs), ("STABLEHLO_NEGATE", np.negative), ("STABLEHLO_COSINE", np.cos),
    ("STABLEHLO_EXPONENTIAL", np.exp), ("STABLEHLO_FLOOR", np.floor), ("STABLEHLO_TANH", np.tanh),
    ("STABLEHLO_LOGISTIC", lambda x: 1 / (1 + np.exp(-x))), ("STABLEHLO_CBRT", np.cbrt),
    ("STABLEHLO_LOG", lambda x: np.log(np.abs(x) + 0.1)), ("STABLEHLO_RSQRT", lambda x: 1 / np.sqrt(np.abs(x) + 0.1)),
])
def test_unary_float(rng, op, fn):
    x = rng.standard_normal((3, 4)).astype(np.float32) * 2
    if op in ("STABLEHLO_LOG", "STABLEHLO_RSQRT"):
        x = np.abs(x) + np.float32(0.1)
        expect = (np.log(x) if op == "STABLEHLO_LOG" else 1 / np.sqrt(x.astype(np.float64))).astype(np.float32)
    else:
        expect = fn(x.astype(np.float64)).astype(np.float32)
    out = _run(_model(op, [([3, 4], "FLOAT32")], [([3, 4], "FLOAT32")]), [x])[0]
    assert_close(out, expect)


def test_unary_int_abs_negate():
    x = np.array([-128, -5, 0, 7, 127], np.int8)
    abs_ = _run(_model("STABLEHLO_ABS", [([5], "INT8")], [([5], "INT8")]), [x])[0]
    neg = _run(_model("STABLEHLO_NEGATE", [([5], "INT8")], [([5], "INT8")]), [x])[0]
    assert abs_.tolist() == [-128, 5, 0, 7, 127]          # two's complement wrap
    assert neg.tolist() == [-128, 5, 0, -7, -127]


def test_divide_remainder_int_semantics():
    a = np.array([7, -7, 7, -7, 5, -128, 9], np.int8)
    b = np.array([2, 2, -2, -2, 0, -1, 3], np.int8)
    div = _run(_model("STABLEHLO_DIVIDE", [([7], "INT8")] * 2, [([7], "INT8")]), [a, b])[0]
    rem = _run(_model("STABLEHLO_REMAINDER", [([7], "INT8")] * 2, [([7], "INT8")]), [a, b])[0]
    # truncating division; x / 0 = -1; MIN / -1 = MIN (XLA); remainder has the dividend's sign, x % 0 = x
    assert div.tolist() == [3, -3, -3, 3, -1, -128, 3]
    assert rem.tolist() == [1, -1, 1, -1, 5, 0, 0]
    ok = (b != 0) & ~((a == -128) & (b == -1))
    np.testing.assert_array_equal((div.astype(np.int64) * b + rem)[ok], a[ok])     # a = q * b + r


@pytest.mark.parametrize("op,fn", [("STABLEHLO_SUBTRACT", np.subtract), ("STABLEHLO_DIVIDE", np.divide),
                                   ("STABLEHLO_REMAINDER", np.fmod), ("STABLEHLO_POWER", np.power)])
def test_binary_float(rng, op, fn):
    a = (rng.random((2, 5)) * 3 + 0.5).astype(np.float32)
    b = (rng.random((2, 5)) * 2 + 0.5).astype(np.float32)
    out = _run(_model(op, [([2, 5], "FLOAT32")] * 2, [([2, 5], "FLOAT32")]), [a, b])[0]
    assert_close(out, fn(a.astype(np.float64), b.astype(np.float64)).astype(np.float32))


def test_power_int():
    a = np.array([2, -3, 5, 1, -1, -1, 7, 3], np.int32)
    b = np.array([10, 3, 0, -4, -3, -2, -1, 20], np.int32)
    out = _run(_model("STABLEHLO_POWER", [([8], "INT32")] * 2, [([8], "INT32")]), [a, b])[0]
    expect = [1024, -27, 1, 1, -1, 1, 0, int(np.int64(3 ** 20).astype(np.int32))]
    assert out.tolist() == expect


def test_or():
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    assert _run(_model("STABLEHLO_OR", [([4], "BOOL")] * 2, [([4], "BOOL")]), [a, b])[0].tolist() == \
        [True, True, True, False]
    x = np.array([0b1100, 0b1010], np.int32)
    y = np.array([0b0011, 0b0110], np.int32)
    assert _run(_model("STABLEHLO_OR", [([2], "INT32")] * 2, [([2], "INT32")]), [x, y])[0].tolist() == [15, 14]


def test_select_and_clamp(rng):
    p = rng.random((3, 4)) > 0.5
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    out = _run(_model("STABLEHLO_SELECT", [([3, 4], "BOOL"), ([3, 4], "FLOAT32"), ([3, 4], "FLOAT32")],
                      [([3, 4], "FLOAT32")]), [p, a, b])[0]
    np.testing.assert_array_equal(out, np.where(p, a, b))
    out = _run(_model("STABLEHLO_SELECT", [([], "BOOL"), ([3, 4], "FLOAT32"), ([3, 4], "FLOAT32")],
                      [([3, 4], "FLOAT32")]), [np.array(False), a, b])[0]
    np.testing.assert_array_equal(out, b)
    lo, hi = np.array(-0.5, np.float32), np.array(0.25, np.float32)
    out = _run(_model("STABLEHLO_CLAMP", [lo, ([3, 4], "FLOAT32"), hi], [([3, 4], "FLOAT32")]), [a])[0]
    np.testing.assert_array_equal(out, np.minimum(np.maximum(a, lo), hi))


@pytest.mark.parametrize("direction,fn", [(0, np.equal), (1, np.not_equal), (2, np.greater_equal),
                                          (3, np.greater), (4, np.less_equal), (5, np.less)])
def test_compare(rng, direction, fn):
    a = rng.integers(-3, 3, (4, 5)).astype(np.float32)
    b = rng.integers(-3, 3, (4, 5)).astype(np.float32)
    out = _run(_model("STABLEHLO_COMPARE", [([4, 5], "FLOAT32")] * 2, [([4, 5], "BOOL")],
                      comparison_direction=direction, compare_type=1), [a, b])[0]
    np.testing.assert_array_equal(out, fn(a, b))


def test_compare_total_order_and_unsigned():
    a = np.array([-0.0, np.nan, -np.inf, 1.0], np.float32)
    b = np.array([0.0, np.inf, -np.nan, 1.0], np.float32)
    out = _run(_model("STABLEHLO_COMPARE", [([4], "FLOAT32")] * 2, [([4], "BOOL")], comparison_direction=5,
                      compare_type=2), [a, b])[0]
    # totalOrder: -0 < +0; +NaN is above +inf; -NaN is below -inf; 1 == 1
    assert out.tolist() == [True, False, False, False]
    x = np.array([-1, 1], np.int32)
    y = np.array([1, 2], np.int32)
    out = _run(_model("STABLEHLO_COMPARE", [([2], "INT32")] * 2, [([2], "BOOL")], comparison_direction=3,
                      compare_type=4), [x, y])[0]
    assert out.tolist() == [True, False]        # 0xFFFFFFFF > 1 as unsigned


def test_convert():
    x = np.array([-1.7, 0.5, 2.9, 300.0, np.nan], np.float32)
    out = _run(_model("STABLEHLO_CONVERT", [([5], "FLOAT32")], [([5], "INT8")]), [x])[0]
    assert out.tolist() == [-1, 0, 2, 127, 0]
    out = _run(_model("STABLEHLO_CONVERT", [([5], "FLOAT32")], [([5], "BOOL")]), [x])[0]
    assert out.tolist() == [True, True, True, True, True]
    i = np.array([1, -2, 3], np.int32)
    assert _run(_model("STABLEHLO_CONVERT", [([3], "INT32")], [([3], "FLOAT32")]), [i])[0].tolist() == [1, -2, 3]


def test_shape_ops(rng):
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    out = _run(_model("STABLEHLO_RESHAPE", [([2, 3, 4], "FLOAT32")], [([6, 4], "FLOAT32")]), [x])[0]
    np.testing.assert_array_equal(out, x.reshape(6, 4))
    out = _run(_model("STABLEHLO_TRANSPOSE", [([2, 3, 4], "FLOAT32")], [([4, 2, 3], "FLOAT32")],
                      permutation=[2, 0, 1]), [x])[0]
    np.testing.assert_array_equal(out, x.transpose(2, 0, 1))
    y = rng.standard_normal((2, 5, 4)).astype(np.float32)
    out = _run(_model("STABLEHLO_CONCATENATE", [([2, 3, 4], "FLOAT32"), ([2, 5, 4], "FLOAT32")],
                      [([2, 8, 4], "FLOAT32")], dimension=1), [x, y])[0]
    np.testing.assert_array_equal(out, np.concatenate([x, y], 1))
    out = _run(_model("STABLEHLO_SLICE", [([2, 3, 4], "FLOAT32")], [([1, 2, 2], "FLOAT32")],
                      start_indices=[1, 0, 1], limit_indices=[2, 3, 4], strides=[1, 2, 2]), [x])[0]
    np.testing.assert_array_equal(out, x[1:2, 0:3:2, 1:4:2])


def test_broadcast_in_dim(rng):
    x = rng.standard_normal((3, 1)).astype(np.float32)
    out = _run(_model("STABLEHLO_BROADCAST_IN_DIM", [([3, 1], "FLOAT32")], [([2, 3, 5], "FLOAT32")],
                      broadcast_dimensions=[1, 2]), [x])[0]
    np.testing.assert_array_equal(out, np.broadcast_to(x[None], (2, 3, 5)))
    # a transposing broadcast: operand dim 0 -> result dim 2, operand dim 1 -> result dim 0
    x = rng.standard_normal((4, 2)).astype(np.float32)
    out = _run(_model("STABLEHLO_BROADCAST_IN_DIM", [([4, 2], "FLOAT32")], [([2, 3, 4], "FLOAT32")],
                      broadcast_dimensions=[2, 0]), [x])[0]
    np.testing.assert_array_equal(out, np.broadcast_to(x.T[:, None, :], (2, 3, 4)))


def test_dynamic_slice_and_update(rng):
    x = rng.standard_normal((5, 6)).astype(np.float32)
    mb = _model("STABLEHLO_DYNAMIC_SLICE", [([5, 6], "FLOAT32"), ([], "INT32"), ([], "INT32")],
                [([2, 3], "FLOAT32")], slice_sizes=[2, 3])
    out = _run(mb, [x, np.array(4, np.int32), np.array(-2, np.int32)])[0]
    np.testing.assert_array_equal(out, x[3:5, 0:3])             # starts clamped into range
    u = rng.standard_normal((2, 2)).astype(np.float32)
    mb = _model("STABLEHLO_DYNAMIC_UPDATE_SLICE", [([5, 6], "FLOAT32"), ([2, 2], "FLOAT32"), ([], "INT64"),
                                                   ([], "INT64")], [([5, 6], "FLOAT32")])
    out = _run(mb, [x, u, np.array(1, np.int64), np.array(9, np.int64)])[0]
    expect = x.copy()
    expect[1:3, 4:6] = u
    np.testing.assert_array_equal(out, expect)


def test_iota():
    out = _run(_model("STABLEHLO_IOTA", [], [([2, 4], "INT32")], iota_dimension=1), [])[0]
    np.testing.assert_array_equal(out, np.tile(np.arange(4, dtype=np.int32), (2, 1)))
    out = _run(_model("STABLEHLO_IOTA", [], [([3, 2], "FLOAT32")], iota_dimension=0), [])[0]
    np.testing.assert_array_equal(out, np.repeat(np.arange(3, dtype=np.float32)[:, None], 2, 1))


def test_dot_general(rng):
    lhs = rng.standard_normal((2, 3, 4)).astype(np.float32)      # batch 2, m 3, k 4
    rhs = rng.standard_normal((2, 4, 5)).astype(np.float32)      # batch 2, k 4, n 5
    out = _run(_model("STABLEHLO_DOT_GENERAL", [([2, 3, 4], "FLOAT32"), ([2, 4, 5], "FLOAT32")],
                      [([2, 3, 5], "FLOAT32")], lhs_batching_dimensions=[0], rhs_batching_dimensions=[0],
                      lhs_contracting_dimensions=[2], rhs_contracting_dimensions=[1]), [lhs, rhs])[0]
    assert_close(out, np.matmul(lhs, rhs))
    a = rng.integers(-5, 5, (4, 3)).astype(np.int8)
    b = rng.integers(-5, 5, (4, 2)).astype(np.int8)
    out = _run(_model("STABLEHLO_DOT_GENERAL", [([4, 3], "INT8"), ([4, 2], "INT8")], [([3, 2], "INT32")],
                      lhs_contracting_dimensions=[0], rhs_contracting_dimensions=[0]), [a, b])[0]
    np.testing.assert_array_equal(out, a.T.astype(np.int32) @ b.astype(np.int32))


def _with_body(mb, n_in, n_out, tn, ops):
    """Adds a body subgraph: ops is a list of (opname, input positions, options)."""
    idx = mb.subgraph("body")
    ins = [mb.input(f"b{k}", [], tn) for k in range(n_in)]
    vals = list(ins)
    for name, pos, opts, out_tn in ops:
        t = mb.tensor(f"t{len(vals)}", [], out_tn)
        mb.op(name, [vals[p] for p in pos], [t], **opts)
        vals.append(t)
    mb.output(*vals[-n_out:])
    mb.use_subgraph(0)
    return idx


@pytest.mark.parametrize("direction", [5, 3])
def test_sort_fast(rng, direction):
    x = rng.integers(0, 5, (3, 6)).astype(np.float32)
    v = np.tile(np.arange(6, dtype=np.int32), (3, 1))
    mb = _model("STABLEHLO_SORT", [([3, 6], "FLOAT32"), ([3, 6], "INT32")], [([3, 6], "FLOAT32"), ([3, 6], "INT32")],
                dimension=1, is_stable=True, comparator_subgraph_index=1)
    mb.subgraph("cmp")
    ins = [mb.input(f"c{k}", [], tn) for k, tn in enumerate(["FLOAT32", "FLOAT32", "INT32", "INT32"])]
    r = mb.tensor("r", [], "BOOL")
    mb.op("STABLEHLO_COMPARE", [ins[0], ins[1]], [r], comparison_direction=direction, compare_type=1)
    mb.output(r)
    mb.use_subgraph(0)
    keys, vals = _run(mb, [x, v])
    order = np.argsort(x if direction == 5 else -x, axis=1, kind="stable")
    np.testing.assert_array_equal(vals, order)
    np.testing.assert_array_equal(keys, np.take_along_axis(x, order, 1))


def test_sort_generic_comparator(rng):
    """Comparator: sort by |x| ascending (ABS then COMPARE LT) runs through the subgraph."""
    x = rng.standard_normal((7,)).astype(np.float32)
    mb = _model("STABLEHLO_SORT", [([7], "FLOAT32")], [([7], "FLOAT32")], dimension=0, is_stable=True,
                comparator_subgraph_index=1)
    _with_body(mb, 2, 1, "FLOAT32", [("STABLEHLO_ABS", [0], {}, "FLOAT32"), ("STABLEHLO_ABS", [1], {}, "FLOAT32"),
                                     ("STABLEHLO_COMPARE", [2, 3], dict(comparison_direction=5, compare_type=1),
                                      "BOOL")])
    out = _run(mb, [x])[0]
    np.testing.assert_array_equal(out, x[np.argsort(np.abs(x), kind="stable")])


@pytest.mark.parametrize("body", ["STABLEHLO_ADD", "STABLEHLO_MAXIMUM", "STABLEHLO_SUBTRACT"])
def test_reduce(rng, body):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    init = np.array(0.5, np.float32)
    mb = _model("STABLEHLO_REDUCE", [([3, 4, 5], "FLOAT32"), init], [([4], "FLOAT32")], dimensions=[0, 2],
                body_subgraph_index=1)
    _with_body(mb, 2, 1, "FLOAT32", [(body, [0, 1], {}, "FLOAT32")])
    out = _run(mb, [x])[0]
    flat = x.transpose(1, 0, 2).reshape(4, -1).astype(np.float64)
    if body == "STABLEHLO_ADD":
        expect = 0.5 + flat.sum(1)
    elif body == "STABLEHLO_MAXIMUM":
        expect = np.maximum(0.5, flat.max(1))
    else:
        expect = 0.5 - flat.sum(1)           # acc - x, applied element by element
    assert_close(out, expect.astype(np.float32))


def test_reduce_two_operands_argmax(rng):
    """A variadic reduce (value, index) -> argmax, the way JAX lowers argmax."""
    x = rng.standard_normal((3, 6)).astype(np.float32)
    idx = np.tile(np.arange(6, dtype=np.int32), (3, 1))
    mb = _model("STABLEHLO_REDUCE", [([3, 6], "FLOAT32"), ([3, 6], "INT32"), np.array(-np.inf, np.float32),
                                     np.array(0, np.int32)], [([3], "FLOAT32"), ([3], "INT32")],
                dimensions=[1], body_subgraph_index=1)
    mb.subgraph("body")
    av, ai, bv, bi = (mb.input(n, [], t) for n, t in (("av", "FLOAT32"), ("ai", "INT32"), ("bv", "FLOAT32"),
                                                      ("bi", "INT32")))
    gt = mb.tensor("gt", [], "BOOL")
    mb.op("STABLEHLO_COMPARE", [bv, av], [gt], comparison_direction=3, compare_type=1)
    v = mb.tensor("v", [], "FLOAT32")
    i = mb.tensor("i", [], "INT32")
    mb.op("STABLEHLO_SELECT", [gt, bv, av], [v])
    mb.op("STABLEHLO_SELECT", [gt, bi, ai], [i])
    mb.output(v, i)
    mb.use_subgraph(0)
    vals, args = _run(mb, [x, idx])
    np.testing.assert_array_equal(args, np.argmax(x, 1))
    np.testing.assert_array_equal(vals, x.max(1))


def test_while_counts():
    mb = _model("STABLEHLO_WHILE", [([], "INT32"), ([], "FLOAT32")], [([], "INT32"), ([], "FLOAT32")],
                cond_subgraph_index=1, body_subgraph_index=2)
    mb.subgraph("cond")
    i = mb.input("i", [], "INT32")
    mb.input("v", [], "FLOAT32")
    lim = mb.const("lim", np.array(5, np.int32))
    c = mb.tensor("c", [], "BOOL")
    mb.op("STABLEHLO_COMPARE", [i, lim], [c], comparison_direction=5, compare_type=3)
    mb.output(c)
    mb.subgraph("body")
    i = mb.input("i", [], "INT32")
    v = mb.input("v", [], "FLOAT32")
    one = mb.const("one", np.array(1, np.int32))
    two = mb.const("two", np.array(2.0, np.float32))
    i2 = mb.tensor("i2", [], "INT32")
    v2 = mb.tensor("v2", [], "FLOAT32")
    mb.op("STABLEHLO_ADD", [i, one], [i2])
    mb.op("STABLEHLO_MULTIPLY", [v, two], [v2])
    mb.output(i2, v2)
    mb.use_subgraph(0)
    i_out, v_out = _run(mb, [np.array(0, np.int32), np.array(1.5, np.float32)])
    assert int(i_out) == 5 and float(v_out) == 1.5 * 32


def _naive_conv(lhs, rhs, o):
    """Direct evaluation of the specification, one output element at a time (2 spatial dimensions)."""
    ib, if_, isp = o["input_batch_dimension"], o["input_feature_dimension"], o["input_spatial_dimensions"]
    ki, ko = o["kernel_input_feature_dimension"], o["kernel_output_feature_dimension"]
    ksp = o["kernel_spatial_dimensions"]
    ob, of, osp = o["output_batch_dimension"], o["output_feature_dimension"], o["output_spatial_dimensions"]
    x = np.transpose(lhs, [ib] + isp + [if_]).astype(np.float64)
    w = np.transpose(rhs, ksp + [ki, ko]).astype(np.float64)
    if any(o.get("window_reversal", [])):
        for d, r in enumerate(o["window_reversal"]):
            if r:
                w = np.flip(w, d)
    st, ld, rd, pad = o["window_strides"], o["lhs_dilation"], o["rhs_dilation"], o["padding"]
    fg, bg = o.get("feature_group_count", 1), o.get("batch_group_count", 1)
    B, H, W, C = x.shape
    KH, KW, I, O = w.shape
    # dilated + padded input coordinates
    ph = (H - 1) * ld[0] + 1 + pad[0] + pad[1]
    pw = (W - 1) * ld[1] + 1 + pad[2] + pad[3]
    oh = (ph - ((KH - 1) * rd[0] + 1)) // st[0] + 1
    ow = (pw - ((KW - 1) * rd[1] + 1)) // st[1] + 1
    out = np.zeros((B // bg, oh, ow, O))

    def at(b, y, xx, c):
        y0, x0 = y - pad[0], xx - pad[2]
        if y0 < 0 or x0 < 0 or y0 % ld[0] or x0 % ld[1]:
            return 0.0
        y0, x0 = y0 // ld[0], x0 // ld[1]
        return x[b, y0, x0, c] if y0 < H and x0 < W else 0.0
    for b in range(B // bg):
        for i in range(oh):
            for j in range(ow):
                for f in range(O):
                    g = f // (O // fg)
                    gb = f // (O // bg)
                    s = 0.0
                    for u in range(KH):
                        for v in range(KW):
                            for c in range(I):
                                s += at(b + gb * (B // bg), i * st[0] + u * rd[0], j * st[1] + v * rd[1],
                                        g * I + c) * w[u, v, c, f]
                    out[b, i, j, f] = s
    perm = [0] * 4
    perm[ob], perm[of], perm[osp[0]], perm[osp[1]] = 0, 3, 1, 2
    return np.transpose(out, perm)


CONV_CASES = [
    # NHWC / HWIO / NHWC, stride 1
    dict(lhs=(1, 5, 6, 3), rhs=(3, 3, 3, 4), input_batch_dimension=0, input_feature_dimension=3,
         input_spatial_dimensions=[1, 2], kernel_input_feature_dimension=2, kernel_output_feature_dimension=3,
         kernel_spatial_dimensions=[0, 1], output_batch_dimension=0, output_feature_dimension=3,
         output_spatial_dimensions=[1, 2], window_strides=[1, 1], padding=[1, 1, 0, 2], lhs_dilation=[1, 1],
         rhs_dilation=[1, 1], window_reversal=[False, False], feature_group_count=1, batch_group_count=1),
    # NCHW / OIHW / NCHW with strides, lhs and rhs dilation, negative padding, reversal
    dict(lhs=(2, 2, 6, 5), rhs=(3, 2, 2, 3), input_batch_dimension=0, input_feature_dimension=1,
         input_spatial_dimensions=[2, 3], kernel_input_feature_dimension=1, kernel_output_feature_dimension=0,
         kernel_spatial_dimensions=[2, 3], output_batch_dimension=0, output_feature_dimension=1,
         output_spatial_dimensions=[2, 3], window_strides=[2, 1], padding=[0, -1, 2, 1], lhs_dilation=[2, 1],
         rhs_dilation=[1, 2], window_reversal=[True, False], feature_group_count=1, batch_group_count=1),
    # depthwise-like: feature groups
    dict(lhs=(1, 4, 4, 4), rhs=(2, 2, 2, 6), input_batch_dimension=0, input_feature_dimension=3,
         input_spatial_dimensions=[1, 2], kernel_input_feature_dimension=2, kernel_output_feature_dimension=3,
         kernel_spatial_dimensions=[0, 1], output_batch_dimension=0, output_feature_dimension=3,
         output_spatial_dimensions=[1, 2], window_strides=[1, 1], padding=[0, 0, 0, 0], lhs_dilation=[1, 1],
         rhs_dilation=[1, 1], window_reversal=[False, False], feature_group_count=2, batch_group_count=1),
    # batch groups (weight-gradient style)
    dict(lhs=(4, 3, 3, 2), rhs=(2, 2, 2, 4), input_batch_dimension=0, input_feature_dimension=3,
         input_spatial_dimensions=[1, 2], kernel_input_feature_dimension=2, kernel_output_feature_dimension=3,
         kernel_spatial_dimensions=[0, 1], output_batch_dimension=0, output_feature_dimension=3,
         output_spatial_dimensions=[1, 2], window_strides=[1, 1], padding=[0, 0, 0, 0], lhs_dilation=[1, 1],
         rhs_dilation=[1, 1], window_reversal=[False, False], feature_group_count=1, batch_group_count=2),
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_convolution(rng, case):
    o = dict(CONV_CASES[case])
    lhs_shape, rhs_shape = o.pop("lhs"), o.pop("rhs")
    lhs = rng.standard_normal(lhs_shape).astype(np.float32)
    rhs = rng.standard_normal(rhs_shape).astype(np.float32)
    expect = _naive_conv(lhs, rhs, o).astype(np.float32)
    mb = _model("STABLEHLO_CONVOLUTION", [(list(lhs_shape), "FLOAT32"), (list(rhs_shape), "FLOAT32")],
                [(list(expect.shape), "FLOAT32")], **o)
    out = _run(mb, [lhs, rhs])[0]
    assert_close(out, expect)
