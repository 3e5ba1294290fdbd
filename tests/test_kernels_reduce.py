"""Reductions, ARG_MAX/MIN, CUMSUM, TOPK_V2 against LiteRT."""
import numpy as np
import pytest

from oracle import assert_same_as_litert, run_litert, run_ours
from tfl_gpu.writer import ModelBuilder, single_op_model

INT32, INT64 = 2, 4   # schema TensorType codes for ArgMaxOptions.output_type


def _data(rng, shape, dtype):
    if dtype == np.float32:
        return rng.standard_normal(shape).astype(np.float32)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    return rng.integers(-20, 20, shape).astype(dtype)


def _reduce_model(op, x, axis, keep_dims, const_axis=True, out_type=None):
    out = out_type or {np.dtype(np.float32): "FLOAT32", np.dtype(np.int32): "INT32",
                       np.dtype(np.int64): "INT64", np.dtype(np.bool_): "BOOL"}[x.dtype]
    return single_op_model(op, [x, np.asarray(axis, np.int32)], output_types=(out,),
                           const_inputs=(1,) if const_axis else (), keep_dims=keep_dims)


AXES = [[0], [1], [-1], [1, 2], [2, 0], [-1, 2], [0, 1, 2, 3], [3, -3, 1], []]


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
@pytest.mark.parametrize("keep_dims", [False, True])
def test_numeric_reductions(rng, op, dtype, keep_dims):
    if op == "MEAN" and dtype == np.int64:
        dtype = np.int64
    x = _data(rng, (2, 3, 5, 4), dtype)
    if op == "REDUCE_PROD":
        x = (x / 8 if dtype == np.float32 else np.clip(x, -3, 3)).astype(dtype)
    for axis in AXES:
        if op == "REDUCE_PROD" and dtype != np.float32 and axis == [0, 1, 2, 3]:
            continue
        c = _reduce_model(op, x, axis, keep_dims)
        assert_same_as_litert(c, [x])


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_MAX"])
def test_dynamic_axis_tensor(rng, op):
    x = _data(rng, (3, 4, 6), np.float32)
    c = _reduce_model(op, x, [0, 2], True, const_axis=False)
    for axis in ([0, 2], [-1], [1, 1, -2]):
        a = np.asarray(axis, np.int32)
        assert_same_as_litert(c, [x, a])


@pytest.mark.parametrize("op", ["REDUCE_ANY", "REDUCE_ALL"])
@pytest.mark.parametrize("keep_dims", [False, True])
def test_bool_reductions(rng, op, keep_dims):
    x = rng.random((3, 4, 5)) < (0.15 if op == "REDUCE_ANY" else 0.85)
    for axis in ([0], [-1], [1, 2], [0, 1, 2], [2, 2]):
        assert_same_as_litert(_reduce_model(op, x, axis, keep_dims), [x], exact=True)


def test_mean_int_rounds_like_litert(rng):
    x = rng.integers(-100, 100, (4, 7)).astype(np.int32)
    for axis in ([1], [0], [0, 1]):
        assert_same_as_litert(_reduce_model("MEAN", x, axis, False), [x], exact=True)


def test_reduce_bad_axis(rng):
    x = _data(rng, (2, 3), np.float32)
    c = _reduce_model("SUM", x, [0], False, const_axis=False)
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(c, [x, np.array([5], np.int32)])


# ------------------------------------------------------------------------------------------------ arg

@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int8, np.uint8, np.bool_])
@pytest.mark.parametrize("out", [INT32, INT64])
def test_arg_max_min(rng, op, dtype, out):
    x = _data(rng, (3, 5, 6), dtype) if dtype not in (np.int8, np.uint8) else \
        rng.integers(0, 4, (3, 5, 6)).astype(dtype)   # small range: many ties
    if dtype == np.float32:
        x[0, :, 2] = x[0, :, 1]     # ties: first index wins
    for axis in (0, 1, 2, -1, -3):
        c = single_op_model(op, [x, np.array([axis], np.int32)], output_types=("INT32" if out == INT32 else "INT64",),
                            const_inputs=(1,), output_type=out)
        ours, ref = assert_same_as_litert(c, [x], exact=True)
        assert ours[0].dtype == (np.int32 if out == INT32 else np.int64)


def test_arg_max_axis_int64_input(rng):
    x = _data(rng, (4, 3), np.float32)
    c = single_op_model("ARG_MAX", [x, np.array([1], np.int64)], output_types=("INT32",), output_type=INT32)
    assert_same_as_litert(c, [x, np.array([1], np.int64)], exact=True)


# ------------------------------------------------------------------------------------------------ cumsum

@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum(rng, dtype, exclusive, reverse):
    x = _data(rng, (3, 4, 50), dtype)
    for axis in (0, 1, 2, -1):
        c = single_op_model("CUMSUM", [x, np.array(axis, np.int32)], output_types=(
            {np.float32: "FLOAT32", np.int32: "INT32", np.int64: "INT64"}[dtype],), const_inputs=(1,),
            exclusive=exclusive, reverse=reverse)
        assert_same_as_litert(c, [x], exact=True)    # same order of float32 additions: bit-identical


# ------------------------------------------------------------------------------------------------ topk

@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.int8, np.uint8])
@pytest.mark.parametrize("shape", [(7,), (3, 10), (2, 3, 9)])
def test_topk(rng, dtype, shape):
    if dtype == np.float32:
        x = rng.integers(-5, 5, shape).astype(np.float32) * 0.5    # many ties
    else:
        x = rng.integers(0 if dtype == np.uint8 else -4, 4, shape).astype(dtype)
    tn = {np.float32: "FLOAT32", np.int32: "INT32", np.int64: "INT64", np.int8: "INT8", np.uint8: "UINT8"}[dtype]
    for k in (1, 3, shape[-1]):
        c = single_op_model("TOPK_V2", [x, np.array(k, np.int32)], output_types=(tn, "INT32"), const_inputs=(1,))
        assert_same_as_litert(c, [x], exact=True)


def test_topk_dynamic_k(rng):
    x = rng.standard_normal((4, 12)).astype(np.float32)
    c = single_op_model("TOPK_V2", [x, np.array(2, np.int32)], output_types=("FLOAT32", "INT32"))
    assert run_ours(c, [x, np.array(0, np.int32)])[0].shape == (4, 0)
    for k in (1, 5, 12):
        ref = run_litert(c, [x, np.array(k, np.int32)])
        ours = run_ours(c, [x, np.array(k, np.int32)])
        for o, r in zip(ours, ref):
            assert o.shape == r.shape and o.dtype == r.dtype and np.array_equal(o, r)


def test_topk_bad_k(rng):
    x = rng.standard_normal((2, 4)).astype(np.float32)
    c = single_op_model("TOPK_V2", [x, np.array(2, np.int32)], output_types=("FLOAT32", "INT32"))
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(c, [x, np.array(9, np.int32)])


def test_reduction_chain_model(rng):
    """MEAN over a dynamic-keep graph feeding ARG_MAX: shapes propagate through both."""
    mb = ModelBuilder()
    x = mb.input("x", [2, 6, 5], "FLOAT32")
    ax = mb.const("ax", np.array([1], np.int32))
    m = mb.tensor("m", [], "FLOAT32")
    mb.op("MEAN", [x, ax], [m], keep_dims=False)
    a1 = mb.const("a1", np.array([-1], np.int32))
    y = mb.tensor("y", [], "INT64")
    mb.op("ARG_MAX", [m, a1], [y], output_type=INT64)
    mb.output(m, y)
    xv = rng.standard_normal((2, 6, 5)).astype(np.float32)
    assert_same_as_litert(mb.build(), [xv])


# ------------------------------------------------------------------------------------------------ NaN/inf

def _nan_data(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    m = rng.random(shape)
    x[m < 0.15] = np.nan
    x[(m >= 0.15) & (m < 0.2)] = np.inf
    x[(m >= 0.2) & (m < 0.25)] = -np.inf
    x[0] = -np.inf            # a slice of only -inf / only NaN
    x[-1] = np.nan
    return x


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
def test_max_min_nan_and_inf_semantics(rng, resolver, op):
    """The optimized kernels fold sequentially (a NaN sticks only when nothing follows it); the reference
    kernels skip NaN and start from +-FLT_MAX."""
    x = _nan_data(rng, (4, 3, 5, 6))
    for axis in ([1], [-1], [1, 3], [0, 2], [0, 1, 2, 3], [3, 0]):
        assert_same_as_litert(_reduce_model(op, x, axis, False), [x], resolver=resolver)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
def test_arg_nan(rng, resolver, op):
    """NaN handling of LiteRT's kernels: the 4-lane vector kernel (innermost axis) and the strided one
    differ; lengths 1..13 cover the vector blocks and the scalar tail."""
    x = _nan_data(rng, (4, 5, 6))
    x[1, 0, :] = np.nan
    cases = [(x, 0), (x, 1), (x, 2)]
    for n in range(1, 14):
        y = rng.integers(-3, 4, (7, n, 3)).astype(np.float32)    # small range: ties too
        y[rng.random(y.shape) < 0.35] = np.nan
        cases += [(y, 1), (np.ascontiguousarray(y.transpose(0, 2, 1)), 2)]
    for arr, axis in cases:
        c = single_op_model(op, [arr, np.array([axis], np.int32)], output_types=("INT32",), const_inputs=(1,),
                            output_type=INT32)
        assert_same_as_litert(c, [arr], resolver=resolver, exact=True)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_topk_nan(rng, resolver):
    x = _nan_data(rng, (5, 8))
    for k in (1, 3, 8):
        c = single_op_model("TOPK_V2", [x, np.array(k, np.int32)], output_types=("FLOAT32", "INT32"),
                            const_inputs=(1,))
        assert_same_as_litert(c, [x], resolver=resolver)


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_PROD", "REDUCE_MAX", "CUMSUM"])
def test_reference_resolver(rng, op):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    if op == "CUMSUM":
        c = single_op_model(op, [x, np.array(1, np.int32)], const_inputs=(1,), exclusive=True)
    else:
        c = _reduce_model(op, x, [0, 2], True)
    assert_same_as_litert(c, [x], resolver="BUILTIN_REF")


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int8, np.uint8])
def test_topk_large_rows_with_ties(rng, dtype):
    """Long rows and small k (the partition path), values from a small range so ties straddle the k-th
    position: LiteRT keeps the lowest indices."""
    shape = (6, 3, 200)
    x = rng.integers(0, 6, shape).astype(dtype)
    if dtype == np.float32:
        x = x * np.float32(0.25) - 1
        x[0, 0, :5] = -0.0
    tn = {np.float32: "FLOAT32", np.int32: "INT32", np.int8: "INT8", np.uint8: "UINT8"}[dtype]
    for k in (1, 5, 20, 200):
        c = single_op_model("TOPK_V2", [x, np.array(k, np.int32)], output_types=(tn, "INT32"), const_inputs=(1,))
        assert_same_as_litert(c, [x], exact=True)


@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("type_name,dtype", [("INT8", np.int8), ("UINT8", np.uint8), ("INT16", np.int16)])
def test_max_min_quantized(rng, op, type_name, dtype):
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (2, 5, 6)).astype(dtype)
    q = {"scale": [0.1], "zero_point": [3 if dtype != np.int16 else 0]}
    for axis, keep in (([1], False), ([0, 2], True), ([-1], False)):
        mb = ModelBuilder()
        xi = mb.input("x", list(x.shape), type_name, quant=q)
        y = mb.tensor("y", [], type_name, quant=q)
        mb.op(op, [xi, mb.const("a", np.array(axis, np.int32))], [y], keep_dims=keep)
        mb.output(y)
        assert_same_as_litert(mb.build(), [x], exact=True)


def test_max_quantized_mismatched_params_rejected(rng):
    mb = ModelBuilder()
    xi = mb.input("x", [2, 3], "INT8", quant={"scale": [0.1], "zero_point": [0]})
    y = mb.tensor("y", [], "INT8", quant={"scale": [0.2], "zero_point": [0]})
    mb.op("REDUCE_MAX", [xi, mb.const("a", np.array([1], np.int32))], [y])
    mb.output(y)
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(mb.build(), [np.zeros((2, 3), np.int8)])


@pytest.mark.parametrize("op,dtype", [(op, dt) for op in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD")
                                      for dt in (np.float32, np.int32) if (op, dt) != ("MEAN", np.int32)])
def test_reduce_over_empty_extent(op, dtype):
    """Reducing a zero-sized axis: LiteRT's initial values (lowest()/max(), 0, 1; MEAN gives NaN)."""
    x = np.zeros((3, 0, 2), dtype)
    assert_same_as_litert(_reduce_model(op, x, [1], False), [x])


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
@pytest.mark.parametrize("type_name,dtype,zp_in,zp_out", [("INT8", np.int8, 2, -3), ("INT8", np.int8, -20, 5),
                                                          ("INT16", np.int16, 0, 0)])
def test_reduce_prod_quantized(rng, resolver, type_name, dtype, zp_in, zp_out):
    """Quantized REDUCE_PROD rescales every multiplication step: bit-exact with LiteRT."""
    lim = 128 if dtype == np.int8 else 400
    for axis, keep in (([1], False), ([0, 2], True), ([-1], False), ([0, 1, 2], False), ([2, 0], False)):
        x = rng.integers(-lim, lim, (3, 4, 5)).astype(dtype)
        mb = ModelBuilder()
        xi = mb.input("x", [3, 4, 5], type_name, quant={"scale": [0.02], "zero_point": [zp_in]})
        y = mb.tensor("y", [], type_name, quant={"scale": [0.05], "zero_point": [zp_out]})
        mb.op("REDUCE_PROD", [xi, mb.const("a", np.array(axis, np.int32))], [y], keep_dims=keep)
        mb.output(y)
        assert_same_as_litert(mb.build(), [x], resolver=resolver, exact=True)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_float_sum_bit_exact(rng, resolver):
    """Float SUM adds in memory order like LiteRT: bit-identical results, also over a long last axis
    (where numpy's own pairwise sum would differ)."""
    for shape, axes in [((2, 7, 9, 5), [1, 2]), ((2, 7, 9, 5), [3]), ((2, 7, 9, 5), [0, 2]), ((3, 50), [1]),
                        ((5, 300), [1]), ((2, 3, 40), [0, 2]), ((1000,), [0]), ((4, 6), [0, 1]),
                        ((3, 4, 5), [2, 0])]:
        x = (rng.standard_normal(shape) * 10).astype(np.float32)
        assert_same_as_litert(_reduce_model("SUM", x, axes, False), [x], resolver=resolver, exact=True)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_float_mean_bit_exact(rng, resolver):
    """MEAN = memory-order float sum / count: bit-identical with LiteRT for global average pooling and
    outer axes (both kernels) and for the innermost axis with the reference kernel."""
    cases = [((1, 13, 11, 16), [1, 2]), ((2, 7, 7, 64), [1, 2]), ((2, 7, 9, 5), [0]), ((2, 7, 9, 5), [0, 2]),
             ((4, 6, 3), [0, 1])]
    if resolver == "BUILTIN_REF":
        cases += [((2, 7, 9, 5), [3]), ((3, 50), [1]), ((2, 3, 40), [0, 2])]
    for shape, axes in cases:
        x = (rng.standard_normal(shape) * 10).astype(np.float32)
        assert_same_as_litert(_reduce_model("MEAN", x, axes, True), [x], resolver=resolver, exact=True)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_float_prod_bit_exact(rng, resolver):
    for shape, axes in [((1, 13, 11, 16), [1, 2]), ((2, 7, 9, 5), [0, 2]), ((2, 7, 9, 5), [3]), ((3, 50), [1]),
                        ((4, 6), [0, 1])]:
        x = (1 + rng.standard_normal(shape) * 0.05).astype(np.float32)
        assert_same_as_litert(_reduce_model("REDUCE_PROD", x, axes, True), [x], resolver=resolver, exact=True)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
def test_max_min_all_dims_seeded_with_first_element(resolver, op):
    """Reducing every dimension, the reference kernel starts from the first element (a leading NaN
    stays, all -inf gives -inf), unlike its per-axis path that starts from lowest()/max()."""
    n = np.nan
    for arr in ([[-np.inf, -np.inf], [-np.inf, -np.inf]], [[n, 1], [2, 3]], [[1, n], [2, 3]], [[n, n], [n, n]],
                [[np.inf, 1], [n, 2]]):
        x = np.array(arr, np.float32)
        assert_same_as_litert(_reduce_model(op, x, [0, 1], False), [x], resolver=resolver)
