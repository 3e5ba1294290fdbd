"""StableHLO ops, REDUCE_WINDOW and DILATE against LiteRT (BUILTIN_WITHOUT_DEFAULT_DELEGATES)."""
from __future__ import annotations

import numpy as np
import pytest

from tfl_gpu.writer import ModelBuilder
from oracle import assert_same_as_litert, run_litert, run_ours, assert_close

TYPES = {"FLOAT32": np.float32, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
         "UINT8": np.uint8, "FLOAT64": np.float64, "BOOL": np.bool_, "FLOAT16": np.float16, "UINT16": np.uint16,
         "UINT32": np.uint32, "UINT64": np.uint64}


def _data(rng, shape, tn):
    dt = TYPES[tn]
    if tn == "BOOL":
        return rng.random(shape) > 0.5
    if np.dtype(dt).kind == "f":
        return rng.standard_normal(shape).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(max(info.min, -100), min(info.max, 100), size=shape, endpoint=True).astype(dt)


def _binary_model(op, shape, tn, **opts):
    mb = ModelBuilder()
    a = mb.input("a", shape, tn)
    b = mb.input("b", shape, tn)
    y = mb.tensor("y", shape, tn)
    mb.op(op, [a, b], [y], **opts)
    mb.output(y)
    return mb.build()


ARITH_TYPES = ["FLOAT32", "FLOAT16", "FLOAT64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32",
               "UINT64"]


@pytest.mark.parametrize("op,types", [
    ("STABLEHLO_ADD", ARITH_TYPES),
    ("STABLEHLO_MULTIPLY", ARITH_TYPES),
    ("STABLEHLO_MAXIMUM", ARITH_TYPES),
    ("STABLEHLO_MINIMUM", ARITH_TYPES),
    ("STABLEHLO_AND", ["BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"]),
])
def test_elementwise(rng, op, types):
    for tn in types:
        for shape in ([2, 3, 4], [7], [], [0, 3]):
            a, b = _data(rng, shape, tn), _data(rng, shape, tn)
            if np.dtype(TYPES[tn]).kind in "iu" and op in ("STABLEHLO_ADD", "STABLEHLO_MULTIPLY"):
                a = (a * np.asarray(3, a.dtype)).astype(a.dtype)      # make overflow (wrap-around) happen
            assert_same_as_litert(_binary_model(op, shape, tn), [a, b], exact=np.dtype(TYPES[tn]).kind != "f")


@pytest.mark.parametrize("op,tn", [("STABLEHLO_AND", "FLOAT32"), ("STABLEHLO_SHIFT_LEFT", "FLOAT32"),
                                   ("STABLEHLO_SHIFT_LEFT", "UINT8")])
def test_elementwise_unsupported_types_are_refused(op, tn):
    content = _binary_model(op, [3], tn)
    x = np.ones(3, TYPES[tn])
    with pytest.raises(Exception):
        run_litert(content, [x, x])
    with pytest.raises(Exception, match="does not support"):
        run_ours(content, [x, x])


@pytest.mark.parametrize("tn,bits", [("INT8", 8), ("INT16", 16), ("INT32", 32)])
def test_shift_left(rng, tn, bits):
    shape = [3, 5]
    a = _data(rng, shape, tn)
    s = rng.integers(0, bits, size=shape).astype(TYPES[tn])
    assert_same_as_litert(_binary_model("STABLEHLO_SHIFT_LEFT", shape, tn), [a, s], exact=True)


def test_elementwise_shape_mismatch_is_refused():
    mb = ModelBuilder()
    a = mb.input("a", [2, 3])
    b = mb.input("b", [3])
    y = mb.tensor("y", [2, 3])
    mb.op("STABLEHLO_ADD", [a, b], [y])
    mb.output(y)
    with pytest.raises(Exception, match="broadcast|differ"):
        run_ours(mb.build(), [np.zeros((2, 3), np.float32), np.zeros(3, np.float32)])


# --------------------------------------------------------------------------------------------- pad

@pytest.mark.parametrize("shape,low,high,interior", [
    ([2, 3], [1, 0], [0, 2], [0, 0]),
    ([2, 3], [1, 2], [1, 1], [1, 2]),
    ([3, 4], [-1, 0], [0, -2], [0, 1]),            # negative = crop
    ([3, 4], [-2, -3], [-1, 1], [2, 1]),           # crop into interior padding
    ([2, 2, 3], [0, 1, -1], [2, 0, 0], [1, 0, 3]),
    ([4], [0], [0], [0]),
])
@pytest.mark.parametrize("tn", ["FLOAT32", "INT8", "INT64"])
def test_pad(rng, shape, low, high, interior, tn):
    x = _data(rng, shape, tn)
    pv = np.array(7, TYPES[tn]) if tn != "FLOAT32" else np.array(-1.5, np.float32)
    mb = ModelBuilder()
    xi = mb.input("x", shape, tn)
    p = mb.const("p", pv.reshape(()))
    y = mb.tensor("y", [], tn)
    mb.op("STABLEHLO_PAD", [xi, p], [y], edge_padding_low=low, edge_padding_high=high, interior_padding=interior)
    mb.output(y)
    ours, ref = assert_same_as_litert(mb.build(), [x], exact=True)
    # independent formula: dilate, pad, crop
    step = np.asarray(interior) + 1
    full = np.full([(d - 1) * s + 1 + max(lo, 0) + max(hi, 0) for d, s, lo, hi in zip(shape, step, low, high)], pv)
    full[tuple(slice(max(lo, 0), None, s) for lo, s in zip(low, step))][tuple(slice(0, d) for d in shape)] = x
    expect = full[tuple(slice(max(-lo, 0), full.shape[k] - max(-hi, 0)) for k, (lo, hi) in enumerate(zip(low, high)))]
    np.testing.assert_array_equal(ours[0], expect)


# ------------------------------------------------------------------------------------------ gather

def _gather_model(operand_shape, otn, idx, opts):
    mb = ModelBuilder()
    x = mb.input("x", operand_shape, otn)
    i = mb.input("i", list(idx.shape), "INT64" if idx.dtype == np.int64 else "INT32")
    # the result rank is read from the output tensor by LiteRT: give the right rank
    rank = (idx.ndim - (1 if opts["index_vector_dim"] < idx.ndim else 0)) + len(opts["offset_dims"])
    y = mb.tensor("y", [1] * rank, otn)
    mb.op("STABLEHLO_GATHER", [x, i], [y], **opts)
    mb.output(y)
    return mb.build()


GATHER_CASES = [
    # operand shape, indices, options
    ([3, 4, 2], np.array([[[0, 1], [2, 3]], [[1, 0], [2, 1]]]),
     dict(offset_dims=[2, 3], collapsed_slice_dims=[0], start_index_map=[1, 0], index_vector_dim=2,
          slice_sizes=[1, 2, 2])),
    ([5, 3], np.array([[4], [0], [2], [9]]),              # 9 is clipped to the last valid start
     dict(offset_dims=[1], collapsed_slice_dims=[0], start_index_map=[0], index_vector_dim=1,
          slice_sizes=[1, 3])),
    ([4, 6], np.array([[1, 2], [3, -1], [0, 5]]),
     dict(offset_dims=[1, 2], collapsed_slice_dims=[], start_index_map=[0, 1], index_vector_dim=1,
          slice_sizes=[2, 3])),
    ([2, 3, 4], np.array([[0, 1], [1, 2]]),               # index vectors along dim 0, offset dim first
     dict(offset_dims=[0], collapsed_slice_dims=[0, 1], start_index_map=[0, 1], index_vector_dim=0,
          slice_sizes=[1, 1, 4])),
]


@pytest.mark.parametrize("case", range(len(GATHER_CASES)))
@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_gather(rng, case, itype):
    shape, idx, opts = GATHER_CASES[case]
    x = rng.standard_normal(shape).astype(np.float32)
    idx = idx.astype(itype)
    assert_same_as_litert(_gather_model(shape, "FLOAT32", idx, opts), [x, idx], exact=True)


def test_gather_int8(rng):
    shape, idx, opts = GATHER_CASES[0]
    x = _data(rng, shape, "INT8")
    idx = idx.astype(np.int32)
    assert_same_as_litert(_gather_model(shape, "INT8", idx, opts), [x, idx], exact=True)


def test_gather_matches_take():
    """Independent check: the common 'embedding lookup' gather is numpy take along axis 0. The index vector
    dimension equals the indices' rank (implicit length-1 vectors): LiteRT crashes on that form, so the
    reference is numpy."""
    x = np.arange(20, dtype=np.float32).reshape(5, 4)
    idx = np.array([3, 1, 1, 4], np.int32)
    content = _gather_model([5, 4], "FLOAT32", idx, dict(offset_dims=[1], collapsed_slice_dims=[0],
                                                          start_index_map=[0], index_vector_dim=1,
                                                          slice_sizes=[1, 4]))
    np.testing.assert_array_equal(run_ours(content, [x, idx])[0], x[idx])


# ----------------------------------------------------------------------------------------- scatter

def _scalar_body(mb, body_op, tn):
    """Adds the body subgraph (a, b) -> body_op(a, b) on scalars (None: -> b) and returns to subgraph 0."""
    mb.subgraph("body")
    a = mb.input("a", [], tn)
    b = mb.input("b", [], tn)
    if body_op is None:
        mb.output(b)
    else:
        r = mb.tensor("r", [], tn)
        mb.op(body_op, [a, b], [r])
        mb.output(r)
    mb.use_subgraph(0)


def _scatter_model(shape, tn, idx, upd_shape, opts, body_op):
    mb = ModelBuilder()
    x = mb.input("x", shape, tn)
    i = mb.input("i", list(idx.shape), "INT64" if idx.dtype == np.int64 else "INT32")
    u = mb.input("u", upd_shape, tn)
    y = mb.tensor("y", shape, tn)
    mb.op("STABLEHLO_SCATTER", [x, i, u], [y], update_computation_subgraph_index=1, **opts)
    mb.output(y)
    _scalar_body(mb, body_op, tn)
    return mb.build()


SCATTER_CASES = [
    # shape, indices, updates shape, options
    ([5, 3], np.array([[0], [2], [2], [4]]), [4, 3],
     dict(update_window_dims=[1], inserted_window_dims=[0], scatter_dims_to_operand_dims=[0], index_vector_dim=1)),
    ([4, 5], np.array([[0, 1], [2, 3], [3, 4], [0, 1]]), [4],          # duplicates; [3, 4] hits the corner
     dict(update_window_dims=[], inserted_window_dims=[0, 1], scatter_dims_to_operand_dims=[0, 1],
          index_vector_dim=1)),
    ([3, 4, 2], np.array([[0, 1], [1, 3], [2, 0]]), [3, 2, 2],          # windows; [1, 3] partly out of bounds
     dict(update_window_dims=[1, 2], inserted_window_dims=[0], scatter_dims_to_operand_dims=[0, 1],
          index_vector_dim=1)),
]


@pytest.mark.parametrize("body", [None, "STABLEHLO_ADD", "STABLEHLO_MULTIPLY", "STABLEHLO_MAXIMUM",
                                  "STABLEHLO_MINIMUM"])
@pytest.mark.parametrize("case", range(len(SCATTER_CASES)))
def test_scatter(rng, body, case):
    shape, idx, ushape, opts = SCATTER_CASES[case]
    for tn in ("FLOAT32", "INT32"):
        x = _data(rng, shape, tn)
        u = _data(rng, ushape, tn)
        idx32 = idx.astype(np.int32)
        assert_same_as_litert(_scatter_model(shape, tn, idx32, ushape, opts, body), [x, idx32, u],
                              exact=tn != "FLOAT32")


@pytest.mark.parametrize("body,idx_dtype,ufunc", [
    ("STABLEHLO_ADD", np.int64, np.add),      # a body LiteRT recognises: scatter-add
    ("SUB", np.int32, np.subtract),           # one it does not: runs through the subgraph, out[i] -= update
])
def test_scatter_formula(rng, body, idx_dtype, ufunc):
    """Independent check of row scatters against numpy's unbuffered ufunc.at."""
    shape, idx, ushape, opts = SCATTER_CASES[0]
    x = rng.standard_normal(shape).astype(np.float32)
    u = rng.standard_normal(ushape).astype(np.float32)
    ix = idx.astype(idx_dtype)
    out = run_ours(_scatter_model(shape, "FLOAT32", ix, ushape, opts, body), [x, ix, u])[0]
    expect = x.copy()
    ufunc.at(expect, idx[:, 0], u)
    assert_close(out, expect)


# ----------------------------------------------------------------------------------- reduce window

def _srw_model(shape, tn, init, body_op, opts):
    mb = ModelBuilder()
    x = mb.input("x", shape, tn)
    c = mb.const("init", np.asarray(init, TYPES[tn]).reshape(()))
    y = mb.tensor("y", [], tn)
    mb.op("STABLEHLO_REDUCE_WINDOW", [x, c], [y], body_subgraph_index=1, **opts)
    mb.output(y)
    _scalar_body(mb, body_op, tn)
    return mb.build()


SRW_CASES = [
    ([1, 6, 7, 2], dict(window_dimensions=[1, 3, 3, 1], window_strides=[1, 2, 2, 1])),
    ([5, 6], dict(window_dimensions=[2, 3], window_strides=[1, 2], base_dilations=[2, 1],
                  window_dilations=[1, 2], padding=[1, 0, 2, -1])),
    ([7], dict(window_dimensions=[3], window_strides=[3], padding=[-1, 2])),
    ([4, 4], dict(window_dimensions=[5, 1], window_strides=[1, 1])),        # window larger: empty output
]


@pytest.mark.parametrize("case", range(len(SRW_CASES)))
@pytest.mark.parametrize("body,tn,init", [
    ("STABLEHLO_ADD", "FLOAT32", 0.0), ("ADD", "FLOAT32", 1.5), ("STABLEHLO_MAXIMUM", "FLOAT32", -np.inf),
    ("MINIMUM", "FLOAT32", np.inf), ("STABLEHLO_MULTIPLY", "FLOAT32", 1.0), ("STABLEHLO_ADD", "INT8", 3),
    ("STABLEHLO_MAXIMUM", "INT32", -5), ("STABLEHLO_AND", "INT32", 1), ("LOGICAL_OR", "BOOL", False),
    ("STABLEHLO_AND", "BOOL", True),
])
def test_stablehlo_reduce_window(rng, case, body, tn, init):
    shape, opts = SRW_CASES[case]
    x = _data(rng, shape, tn)
    if body in ("STABLEHLO_AND", "LOGICAL_OR"):
        x = (rng.random(shape) > 0.3).astype(TYPES[tn])
        if tn != "BOOL":
            x = x * np.asarray(3, x.dtype)
    assert_same_as_litert(_srw_model(shape, tn, init, body, opts), [x], exact=tn != "FLOAT32")


def test_stablehlo_reduce_window_formula(rng):
    """Independent check: 2x2/2 max pooling with padding."""
    x = rng.standard_normal((4, 6)).astype(np.float32)
    content = _srw_model([4, 6], "FLOAT32", -np.inf, "STABLEHLO_MAXIMUM",
                         dict(window_dimensions=[2, 2], window_strides=[2, 2], padding=[0, 0, 1, 1]))
    out = run_ours(content, [x])[0]
    padded = np.pad(x, ((0, 0), (1, 1)), constant_values=-np.inf)
    expect = padded.reshape(2, 2, 4, 2).max(axis=(1, 3))
    np.testing.assert_array_equal(out, expect)


def test_stablehlo_reduce_window_general_body(rng):
    """A body LiteRT cannot map (SUB: acc - x) runs through the subgraph, in window order."""
    x = rng.standard_normal((6,)).astype(np.float32)
    content = _srw_model([6], "FLOAT32", 10.0, "SUB", dict(window_dimensions=[3], window_strides=[3]))
    out = run_ours(content, [x])[0]
    expect = np.array([10 - x[0] - x[1] - x[2], 10 - x[3] - x[4] - x[5]], np.float32)
    assert_close(out, expect)


def _rw_model(shape, tn, init, fn, window, strides, dil):
    mb = ModelBuilder()
    x = mb.input("x", shape, tn)
    c = mb.const("init", np.asarray(init, TYPES[tn]).reshape(()))
    w = mb.const("w", np.asarray(window, np.int64))
    s = mb.const("s", np.asarray(strides, np.int64))
    d = mb.const("d", np.asarray(dil, np.int64))
    y = mb.tensor("y", [], tn)
    mb.op("REDUCE_WINDOW", [x, c, w, s, d], [y], reduce_function=fn)
    mb.output(y)
    return mb.build()


@pytest.mark.parametrize("fn,tn,init", [(1, "FLOAT32", 0.0), (2, "FLOAT32", 1.0), (3, "FLOAT32", 9.0),
                                        (4, "FLOAT32", -9.0), (1, "INT32", 2), (4, "INT8", -128),
                                        (5, "INT32", 1), (6, "INT64", 0), (3, "UINT8", 200)])
@pytest.mark.parametrize("shape,window,strides,dil", [
    ([1, 5, 6, 2], [1, 2, 3, 1], [1, 2, 2, 1], [1, 1, 1, 1]),
    ([7, 8], [2, 2], [3, 2], [2, 3]),
    ([9], [4], [2], [1]),
])
def test_reduce_window(rng, fn, tn, init, shape, window, strides, dil):
    x = _data(rng, shape, tn)
    if fn in (5, 6):
        x = (rng.random(shape) > 0.2).astype(TYPES[tn])
    assert_same_as_litert(_rw_model(shape, tn, init, fn, window, strides, dil), [x], exact=tn != "FLOAT32")


def test_reduce_window_formula():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = run_ours(_rw_model([3, 4], "FLOAT32", 0.0, 1, [2, 2], [1, 2], [1, 1]), [x])[0]
    expect = np.array([[x[i:i + 2, j:j + 2].sum() for j in (0, 2)] for i in (0, 1)], np.float32)
    np.testing.assert_array_equal(out, expect)


# ------------------------------------------------------------------------------------------- dilate

@pytest.mark.parametrize("shape,dil", [([3, 3], [2, 3]), ([2, 3, 4], [1, 2, 1]), ([5], [4]),
                                       ([2, 1, 3], [3, 5, 1]), ([1, 2, 2, 2], [1, 1, 1, 1])])
@pytest.mark.parametrize("tn", ["FLOAT32", "INT8", "INT64", "BOOL"])
def test_dilate(rng, shape, dil, tn):
    x = _data(rng, shape, tn)
    pv = np.asarray(True if tn == "BOOL" else 5, TYPES[tn]).reshape(())
    mb = ModelBuilder()
    xi = mb.input("x", shape, tn)
    d = mb.const("d", np.asarray(dil, np.int32))
    p = mb.const("p", pv)
    y = mb.tensor("y", [], tn)
    mb.op("DILATE", [xi, d, p], [y])
    mb.output(y)
    ours, _ = assert_same_as_litert(mb.build(), [x], exact=True)
    expect = np.full([(n - 1) * k + 1 for n, k in zip(shape, dil)], pv)
    expect[tuple(slice(None, None, k) for k in dil)] = x
    np.testing.assert_array_equal(ours[0], expect)


def test_dilate_non_constant_dilations(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    mb = ModelBuilder()
    xi = mb.input("x", [2, 3])
    d = mb.input("d", [2], "INT32")
    p = mb.const("p", np.array(0, np.float32))
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("DILATE", [xi, d, p], [y])
    mb.output(y)
    assert_same_as_litert(mb.build(), [x, np.array([3, 2], np.int32)], exact=True)


# ---------------------------------------------------------------------------------------- composite

def test_composite_runs_decomposition(rng):
    mb = ModelBuilder()
    a = mb.input("a", [2, 3])
    b = mb.input("b", [2, 3])
    y = mb.tensor("y", [2, 3])
    from flatbuffers import flexbuffers
    attrs = np.frombuffer(flexbuffers.Dumps({"alpha": 1}), np.uint8)
    mb.op("STABLEHLO_COMPOSITE", [a, b], [y], name="my.fma", decomposition_subgraph_index=1, version=1,
          composite_attributes=attrs, composite_attributes_format=0)
    mb.output(y)
    mb.subgraph("decomposition")
    p = mb.input("p", [2, 3])
    q = mb.input("q", [2, 3])
    t = mb.tensor("t", [2, 3])
    r = mb.tensor("r", [2, 3])
    mb.op("STABLEHLO_MULTIPLY", [p, q], [t])
    mb.op("STABLEHLO_ADD", [t, p], [r])
    mb.output(r)
    mb.use_subgraph(0)
    x1 = rng.standard_normal((2, 3)).astype(np.float32)
    x2 = rng.standard_normal((2, 3)).astype(np.float32)
    ours, _ = assert_same_as_litert(mb.build(), [x1, x2])
    assert_close(ours[0], x1 * x2 + x1)


def test_composite_bad_index():
    mb = ModelBuilder()
    a = mb.input("a", [2])
    y = mb.tensor("y", [2])
    mb.op("STABLEHLO_COMPOSITE", [a], [y], name="x", decomposition_subgraph_index=5)
    mb.output(y)
    with pytest.raises(Exception, match="out of range"):
        run_ours(mb.build(), [np.zeros(2, np.float32)])


# ------------------------------------------------------------------------------------ rng bit generator

def _rng_model(state_len, out_shape, out_type, algorithm):
    mb = ModelBuilder()
    s = mb.input("state", [state_len], "UINT64")
    k = mb.tensor("key", [state_len], "UINT64")
    y = mb.tensor("y", out_shape, out_type)
    mb.op("STABLEHLO_RNG_BIT_GENERATOR", [s], [k, y], algorithm=algorithm)
    mb.output(k, y)
    return mb.build()


@pytest.mark.parametrize("algorithm,state_len", [(0, 2), (1, 2), (1, 3), (2, 2)])
@pytest.mark.parametrize("out_shape,out_type", [([3, 5], "UINT32"), ([7], "INT32"), ([2, 3], "UINT64"),
                                                ([5], "INT64"), ([1], "UINT32")])
def test_rng_bit_generator(rng, algorithm, state_len, out_shape, out_type):
    state = rng.integers(0, 2**63, size=state_len, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    if state_len >= 2:
        state[1] = np.uint64(0xFFFFFFFF_FFFFFFF0)      # the 64-bit counter carries across the word boundary
    assert_same_as_litert(_rng_model(state_len, out_shape, out_type, algorithm), [state], exact=True)


def test_rng_bit_generator_chained(rng):
    """Feeding the new state back gives the continuation of the stream (numpy formula: one long call)."""
    state = np.array([12345, 0], np.uint64)
    long = run_ours(_rng_model(2, [8], "UINT32", 2), [state])[1]
    k1, a = run_ours(_rng_model(2, [4], "UINT32", 2), [state])
    _, b = run_ours(_rng_model(2, [4], "UINT32", 2), [k1])
    np.testing.assert_array_equal(np.concatenate([a, b]), long)


# --------------------------------------------------------------------------------------------- case

def _case_model():
    mb = ModelBuilder()
    i = mb.input("index", [], "INT32")
    x = mb.input("x", [2, 3])
    y = mb.tensor("y", [2, 3])
    mb.op("STABLEHLO_CASE", [i, x], [y], branch_subgraph_indices=[1, 2])
    mb.output(y)
    for op in ("STABLEHLO_MULTIPLY", "STABLEHLO_ADD"):
        mb.subgraph(op)
        p = mb.input("p", [2, 3])
        r = mb.tensor("r", [2, 3])
        mb.op(op, [p, p], [r])
        mb.output(r)
    mb.use_subgraph(0)
    return mb.build()


@pytest.mark.parametrize("index", [0, 1, 2, -1])
def test_case(rng, index):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    ours, _ = assert_same_as_litert(_case_model(), [np.array(index, np.int32), x])
    # out-of-range indices run the last branch
    assert_close(ours[0], x * x if index == 0 else x + x)


# ------------------------------------------------------------------------------------------ edge cases

def test_scatter_int64_indices_vector_dim_first(rng):
    """Index vectors laid out along dimension 0 of int64 indices."""
    shape = [4, 5]
    idx = np.array([[0, 3, 2], [1, 4, 0]], np.int64)          # 3 index vectors (0,1) (3,4) (2,0)
    ushape = [3]
    opts = dict(update_window_dims=[], inserted_window_dims=[0, 1], scatter_dims_to_operand_dims=[0, 1],
                index_vector_dim=0)
    x = rng.standard_normal(shape).astype(np.float32)
    u = rng.standard_normal(ushape).astype(np.float32)
    ours, _ = assert_same_as_litert(_scatter_model(shape, "FLOAT32", idx, ushape, opts, "STABLEHLO_ADD"),
                                    [x, idx, u])
    expect = x.copy()
    np.add.at(expect, (idx[0], idx[1]), u)
    assert_close(ours[0], expect)


@pytest.mark.parametrize("op", ["pad", "dilate", "reduce_window"])
def test_resized_input(rng, op):
    """The model declares [2, 3]; the input is resized to [5, 4] before allocation."""
    mb = ModelBuilder()
    x = mb.input("x", [2, 3])
    y = mb.tensor("y", [], "FLOAT32")
    if op == "pad":
        p = mb.const("p", np.array(0.5, np.float32))
        mb.op("STABLEHLO_PAD", [x, p], [y], edge_padding_low=[1, -1], edge_padding_high=[0, 2],
              interior_padding=[1, 0])
    elif op == "dilate":
        d = mb.const("d", np.array([2, 3], np.int32))
        p = mb.const("p", np.array(0.0, np.float32))
        mb.op("DILATE", [x, d, p], [y])
    else:
        c = mb.const("init", np.array(0.0, np.float32))
        w = mb.const("w", np.array([2, 2], np.int64))
        s = mb.const("s", np.array([1, 1], np.int64))
        dl = mb.const("dl", np.array([1, 1], np.int64))
        mb.op("REDUCE_WINDOW", [x, c, w, s, dl], [y], reduce_function=1)
    mb.output(y)
    data = rng.standard_normal((5, 4)).astype(np.float32)
    assert_same_as_litert(mb.build(), [data], exact=True)


def test_reduce_window_rank6(rng):
    shape = [2, 3, 2, 3, 2, 3]
    x = rng.standard_normal(shape).astype(np.float32)
    content = _rw_model(shape, "FLOAT32", -100.0, 4, [1, 2, 2, 2, 1, 2], [1, 1, 2, 1, 1, 1], [1, 1, 1, 1, 1, 1])
    assert_same_as_litert(content, [x], exact=True)


def test_gather_bad_slice_sizes_is_an_error():
    idx = np.array([[0]], np.int32)
    content = _gather_model([3, 4], "FLOAT32", idx, dict(offset_dims=[1], collapsed_slice_dims=[0],
                                                          start_index_map=[0], index_vector_dim=1,
                                                          slice_sizes=[1, 9]))
    with pytest.raises(Exception, match="slice_sizes"):
        run_ours(content, [np.zeros((3, 4), np.float32), idx])


@pytest.mark.parametrize("op", ["STABLEHLO_AND", "STABLEHLO_SHIFT_LEFT"])
def test_ops_missing_from_litert_ref_resolver(op):
    """LiteRT's BUILTIN_REF resolver has no kernel for these: both interpreters refuse the model there and
    agree under BUILTIN."""
    content = _binary_model(op, [3], "INT32")
    x = np.array([1, 2, 3], np.int32)
    with pytest.raises(Exception, match="Didn't find op"):
        run_litert(content, [x, x], "BUILTIN_REF")
    with pytest.raises(Exception, match="Didn't find op"):
        run_ours(content, [x, x], "BUILTIN_REF")
    assert_same_as_litert(content, [x, x], exact=True)
    assert_same_as_litert(_binary_model("STABLEHLO_ADD", [3], "INT32"), [x, x], exact=True, resolver="BUILTIN_REF")


def test_ref_resolver_runs_the_same(rng):
    shape, idx, opts = GATHER_CASES[0]
    x = rng.standard_normal(shape).astype(np.float32)
    idx = idx.astype(np.int32)
    assert_same_as_litert(_gather_model(shape, "FLOAT32", idx, opts), [x, idx], exact=True, resolver="BUILTIN_REF")
    x = rng.standard_normal((7, 8)).astype(np.float32)
    assert_same_as_litert(_rw_model([7, 8], "FLOAT32", 0.0, 1, [2, 2], [3, 2], [2, 3]), [x], resolver="BUILTIN_REF")


def test_huge_outputs_are_refused(monkeypatch):
    """Paddings/dilations read from the model or from inputs cannot make us allocate past the tensor cap."""
    import tfl_gpu.limits
    monkeypatch.setattr(tfl_gpu.limits, "MAX_TENSOR_BYTES", 1 << 20)
    mb = ModelBuilder()
    x = mb.input("x", [2, 3])
    p = mb.const("p", np.array(0.0, np.float32))
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("STABLEHLO_PAD", [x, p], [y], edge_padding_low=[0, 0], edge_padding_high=[100000, 100000],
          interior_padding=[0, 0])
    mb.output(y)
    with pytest.raises(Exception, match="limit"):
        run_ours(mb.build(), [np.zeros((2, 3), np.float32)])
    mb = ModelBuilder()
    x = mb.input("x", [2, 3])
    d = mb.input("d", [2], "INT32")
    p = mb.const("p", np.array(0.0, np.float32))
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("DILATE", [x, d, p], [y])
    mb.output(y)
    with pytest.raises(Exception, match="limit"):
        run_ours(mb.build(), [np.zeros((2, 3), np.float32), np.array([2**20, 2**20], np.int32)])
