"""Ported from TensorFlow Lite's StableHLO kernel tests (stablehlo_add/multiply/min_max/and/shift_left/pad/...
_test.cc): the same single-op models and inputs, asserting the upstream values and LiteRT's outputs on the same
model (see upstream_helpers.case)."""
import numpy as np
import pytest

from upstream_helpers import F32, I8, I16, I32, arr, case


def test_stablehlo_add():
    case("STABLEHLO_ADD", [arr([-2.0, 0.2, 0.7, 0.8], F32, [1, 2, 2, 1]), arr([0.1, 0.2, 0.3, 0.5], F32, [1, 2, 2, 1])],
         [-1.9, 0.4, 1.0, 1.3], tol=1e-6)


def test_stablehlo_multiply():
    case("STABLEHLO_MULTIPLY", [arr([1.2, 2.5, -1.2, 1], F32, [1, 2, 2, 1]), arr([0.1, 3, 2, 0.5], F32, [1, 2, 2, 1])],
         [0.12, 7.5, -2.4, 0.5], tol=1e-6)


@pytest.mark.parametrize("op,exp", [("STABLEHLO_MAXIMUM", [1.2, 3.0, 2.0, 1.0]),
                                    ("STABLEHLO_MINIMUM", [0.1, 2.5, -1.2, 0.5])])
def test_stablehlo_min_max(op, exp):
    case(op, [arr([1.2, 2.5, -1.2, 1], F32, [1, 2, 2, 1]), arr([0.1, 3, 2, 0.5], F32, [1, 2, 2, 1])], exp, tol=1e-7)


@pytest.mark.parametrize("dt,shape,x,y,exp", [
    (I32, [1, 2, 2, 1], [2, 3, 7, 8], [4, 5, 7, 1], [0, 1, 7, 0]),
    (I8, [1, 3, 1], [7, -8, -8], [0, 7, -8], [0, 0, -8]),
    (I16, [1, 1, 3], [32767, -32768, -32768], [32767, -32768, -32768], [32767, -32768, -32768]),
    (np.bool_, [2, 1, 2, 1], [False, False, True, True], [False, True, False, True], [False, False, False, True]),
], ids=["int32", "int8", "int16", "bool"])
def test_stablehlo_and(dt, shape, x, y, exp):
    case("STABLEHLO_AND", [arr(x, dt, shape), arr(y, dt, shape)], exp)


@pytest.mark.parametrize("dt,shape,x,y,exp", [
    (I32, [3], [-1, 0, 1], [1, 2, 3], [-2, 0, 8]),
    (I16, [2, 2], [-5, -5, 0, 6], [0, 2, 0, 2], [-5, -20, 0, 24]),
    (I8, [2, 2], [2, -2, -2, -4], [0, 1, 0, 5], [2, -4, -2, -128]),
], ids=["int32", "int16", "int8"])
def test_stablehlo_shift_left(dt, shape, x, y, exp):
    case("STABLEHLO_SHIFT_LEFT", [arr(x, dt, shape), arr(y, dt, shape)], exp)


# ------------------------------------------------------------------------------------ stablehlo_pad_test.cc
def _pad_reference(x, low, high, interior, value):
    """stablehlo.pad from its definition: interior padding (dilation), then edge padding, negative edges crop."""
    dil = [(s - 1) * (i + 1) + 1 if s else 0 for s, i in zip(x.shape, interior)]
    d = np.full(dil, value, x.dtype)
    d[tuple(slice(None, None, i + 1) for i in interior)] = x
    padded = np.pad(d, [(max(lo, 0), max(hi, 0)) for lo, hi in zip(low, high)], constant_values=value)
    return padded[tuple(slice(max(-lo, 0), padded.shape[k] - max(-hi, 0)) for k, (lo, hi) in
                        enumerate(zip(low, high)))]


SHLO_PAD = [  # (low, high, interior)
    ([0, 0], [0, 0], [0, 0]), ([0, 0], [0, 0], [1, 2]), ([1, 1], [0, 0], [0, 0]), ([0, 0], [1, 1], [0, 0]),
    ([1, 1], [1, 1], [0, 0]), ([-1, -1], [0, 0], [0, 0]), ([0, 0], [-1, -1], [0, 0]), ([-1, -1], [-1, -1], [0, 0]),
    ([1, -1], [1, -1], [0, 0]),
]


@pytest.mark.parametrize("k", range(len(SHLO_PAD)), ids=["identity", "interior", "low_pad", "high_pad", "all_pad",
                                                          "low_crop", "high_crop", "all_crop", "pad_crop"])
def test_stablehlo_pad(k):
    low, high, interior = SHLO_PAD[k]
    x = np.arange(1, 10, dtype=I32).reshape(3, 3)
    exp = _pad_reference(x, low, high, interior, 0)
    case("STABLEHLO_PAD", [x, np.asarray([0], I32)], exp.ravel().tolist(), const=(1,), shapes=[list(exp.shape)],
         edge_padding_low=low, edge_padding_high=high, interior_padding=interior)


@pytest.mark.parametrize("shape,low,high,interior", [([2], [0], [0], [-1]), ([2], [2 ** 63 - 1], [0], [0]),
                                                     ([1], [0], [2 ** 31 - 1], [0])])
def test_stablehlo_pad_rejects_bad_padding(shape, low, high, interior):
    from shape_helpers import both_fail
    both_fail("STABLEHLO_PAD", [np.ones(shape, I32), np.asarray([0], I32)], const=(1,), edge_padding_low=low,
              edge_padding_high=high, interior_padding=interior)


# --------------------------------------------------------------------------------- stablehlo_gather_test.cc
GATHER_EXP = [1, 2, 3, 4, 3, 4, 5, 6, 13, 14, 15, 16, 9, 10, 11, 12, 11, 12, 13, 14, 17, 18, 19, 20]


@pytest.mark.parametrize("indices", [[0, 0, 1, 0, 2, 1, 0, 1, 1, 1, 0, 2], [0, 0, 1, 0, 2, 1, 0, 1, 1, 1, 0, 9]],
                         ids=["gathers_slices", "clips_starting_indices"])
def test_stablehlo_gather(indices):
    # the upstream model declares the output shape ({2, 3, 2, 2}); LiteRT's Prepare relies on it
    from oracle import run_ours
    from shape_helpers import litert_outputs
    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.input("x", [3, 4, 2])
    i = mb.input("i", [2, 3, 2], "INT64")
    out = mb.tensor("out", [2, 3, 2, 2])
    mb.op("STABLEHLO_GATHER", [x, i], [out], offset_dims=[2, 3], collapsed_slice_dims=[0], start_index_map=[1, 0],
          index_vector_dim=2, slice_sizes=[1, 2, 2], indices_are_sorted=False)
    mb.output(out)
    content = mb.build()
    feeds = [np.arange(1, 25, dtype=F32).reshape(3, 4, 2), arr(indices, np.int64, [2, 3, 2])]
    ours = run_ours(content, feeds)[0]
    assert ours.shape == (2, 3, 2, 2) and ours.ravel().tolist() == GATHER_EXP
    assert np.array_equal(ours, litert_outputs(content, feeds)[0])


# -------------------------------------------------------------------------------- stablehlo_scatter_test.cc
SCATTER_EXP = {
    "ADD": [1, 2, 7, 8, 9, 10, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 21, 22, 23, 24],
    "MUL": [1, 2, 12, 16, 20, 24, 7, 8, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 21, 22, 23, 24],
    "MAXIMUM": list(range(1, 25)),
    "MINIMUM": [1, 2, 2, 2, 2, 2, 7, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 21, 22, 23, 24],
    "UPDATE": [1, 2, 2, 2, 2, 2, 7, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 21, 22, 23, 24],
}


@pytest.mark.parametrize("body", ["tfl", "stablehlo"])
@pytest.mark.parametrize("kind", list(SCATTER_EXP))
def test_stablehlo_scatter(kind, body):
    if body == "stablehlo" and kind == "UPDATE":
        pytest.skip("no op in the update-computation body")
    from oracle import run_ours
    from shape_helpers import litert_outputs
    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.input("x", [3, 4, 2])
    i = mb.input("i", [2, 3, 2], "INT64")
    u = mb.input("u", [2, 3, 2, 2])
    out = mb.tensor("out", [3, 4, 2])
    mb.op("STABLEHLO_SCATTER", [x, i, u], [out], indices_are_sorted=False, update_window_dims=[2, 3],
          inserted_window_dims=[0], scatter_dims_to_operand_dims=[1, 0], index_vector_dim=2, unique_indices=False,
          update_computation_subgraph_index=1)
    mb.output(out)
    mb.subgraph("update")          # the update computation: (current, update) -> new value
    a = mb.input("a", [])
    b = mb.input("b", [])
    if kind == "UPDATE":
        mb.output(b)
    else:
        c = mb.tensor("c", [])
        op = kind if body == "tfl" else {"ADD": "STABLEHLO_ADD", "MUL": "STABLEHLO_MULTIPLY",
                                         "MAXIMUM": "STABLEHLO_MAXIMUM", "MINIMUM": "STABLEHLO_MINIMUM"}[kind]
        mb.op(op, [a, b], [c])
        mb.output(c)
    content = mb.build()
    feeds = [np.arange(1, 25, dtype=F32).reshape(3, 4, 2), arr([0, 2, 1, 0, 2, 1, 0, 1, 1, 0, 0, 9], np.int64,
                                                               [2, 3, 2]), np.full([2, 3, 2, 2], 2, F32)]
    ours = run_ours(content, feeds)[0]
    assert ours.ravel().tolist() == SCATTER_EXP[kind]
    if body == "stablehlo" or kind == "UPDATE":
        # LiteRT 2.3 only recognizes update computations made of STABLEHLO_* ops (upstream's test bodies use
        # the TFLite ADD/MUL/MAXIMUM/MINIMUM builtins, which tfl_gpu accepts too)
        assert np.array_equal(ours, litert_outputs(content, feeds)[0])


# ------------------------------------------------------------------------------ stablehlo_composite_test.cc
def test_stablehlo_composite_invoke_works():
    # the composite's decomposition is subgraph_test_util's ADD subgraph over int32 [2, 3] tensors
    from oracle import run_ours
    from shape_helpers import litert_outputs
    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    a = mb.input("a", [2, 3], "INT32")
    b = mb.input("b", [2, 3], "INT32")
    y = mb.tensor("y", [2, 3], "INT32")
    from flatbuffers import flexbuffers
    attrs = np.frombuffer(flexbuffers.Dumps({}), np.uint8)     # LiteRT requires the attribute field
    mb.op("STABLEHLO_COMPOSITE", [a, b], [y], name="test.add", decomposition_subgraph_index=1, version=1,
          composite_attributes=attrs, composite_attributes_format=0)
    mb.output(y)
    mb.subgraph("add")
    p = mb.input("p", [2, 3], "INT32")
    q = mb.input("q", [2, 3], "INT32")
    r = mb.tensor("r", [2, 3], "INT32")
    mb.op("ADD", [p, q], [r])
    mb.output(r)
    content = mb.build()
    feeds = [arr([1, 2, 3, 4, 5, 6], I32, [2, 3]), arr([7, 8, 9, 10, 11, 12], I32, [2, 3])]
    ours = run_ours(content, feeds)[0]
    assert ours.shape == (2, 3) and ours.ravel().tolist() == [8, 10, 12, 14, 16, 18]
    assert np.array_equal(ours, litert_outputs(content, feeds)[0])


# ------------------------------------------------------------------------- stablehlo_reduce_window_test.cc
# The explicit StablehloReduceWindowTest cases (input iota 1..n, ADD body built as BuildAddSubgraph: one TFL
# ADD), for every upstream type; the randomized FuzzyTest is covered by test_kernels_stablehlo against LiteRT.
RW = {  # name: (shape, base dilations, padding, window, strides, window dilations, init, out shape, expected)
    "Identity": ([3, 3], [1, 1], [0, 0, 0, 0], [1, 1], [1, 1], [1, 1], 0, [3, 3], list(range(1, 10))),
    "Dilate": ([3, 3], [2, 2], [0, 0, 0, 0], [1, 1], [1, 1], [1, 1], 0, [5, 5],
               [1, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8, 0, 9]),
    "IdentityPadTop": ([3, 3], [1, 1], [1, 0, 0, 0], [1, 1], [1, 1], [1, 1], 0, [4, 3],
                       [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    "IdentityPadBottom": ([3, 3], [1, 1], [0, 1, 0, 0], [1, 1], [1, 1], [1, 1], 0, [4, 3],
                          [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0]),
    "IdentityPadLeft": ([3, 3], [1, 1], [0, 0, 1, 0], [1, 1], [1, 1], [1, 1], 0, [3, 4],
                        [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9]),
    "IdentityPadRight": ([3, 3], [1, 1], [0, 0, 0, 1], [1, 1], [1, 1], [1, 1], 0, [3, 4],
                         [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0]),
    "IdentityPadAll": ([3, 3], [1, 1], [1, 1, 1, 1], [1, 1], [1, 1], [1, 1], 0, [5, 5],
                       [0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 7, 8, 9, 0, 0, 0, 0, 0, 0]),
    "IdentityCropTop": ([3, 3], [1, 1], [-1, 0, 0, 0], [1, 1], [1, 1], [1, 1], 0, [2, 3], [4, 5, 6, 7, 8, 9]),
    "IdentityCropBottom": ([3, 3], [1, 1], [0, -1, 0, 0], [1, 1], [1, 1], [1, 1], 0, [2, 3], [1, 2, 3, 4, 5, 6]),
    "IdentityCropLeft": ([3, 3], [1, 1], [0, 0, -1, 0], [1, 1], [1, 1], [1, 1], 0, [3, 2], [2, 3, 5, 6, 8, 9]),
    "IdentityCropRight": ([3, 3], [1, 1], [0, 0, 0, -1], [1, 1], [1, 1], [1, 1], 0, [3, 2], [1, 2, 4, 5, 7, 8]),
    "IdentityCropAll": ([3, 3], [1, 1], [-1, -1, -1, -1], [1, 1], [1, 1], [1, 1], 0, [1, 1], [5]),
    "ReduceWindowFullWindow": ([3, 3], [1, 1], [0, 0, 0, 0], [3, 3], [1, 1], [1, 1], 0, [1, 1], [45]),
    "ReduceWindowNoDilation": ([3, 3], [1, 1], [0, 0, 0, 0], [2, 2], [1, 1], [1, 1], 0, [2, 2], [12, 16, 24, 28]),
    "ReduceWindowFullWindowWithDilation": ([3, 3], [1, 1], [0, 0, 0, 0], [2, 2], [1, 1], [2, 2], 0, [1, 1], [20]),
    "ReduceWindowWithDilation": ([4, 4], [1, 1], [0, 0, 0, 0], [2, 2], [1, 1], [2, 2], 0, [2, 2],
                                 [24, 28, 40, 44]),
    "ReduceWindowWithStrides": ([4, 4], [1, 1], [0, 0, 0, 0], [2, 2], [2, 2], [1, 1], 0, [2, 2], [14, 22, 46, 54]),
    "ReduceWindowWithDilationAndStrides": ([5, 5], [1, 1], [0, 0, 0, 0], [2, 2], [2, 2], [2, 2], 2, [2, 2],
                                           [30, 38, 70, 78]),
    "ReduceWindowOutputShapeRoundingIsCorrect": ([1, 64, 114, 114], [1] * 4, [0] * 8, [1, 1, 3, 3], [1, 1, 2, 2],
                                                 [1] * 4, 2, [1, 64, 56, 56], None),
}
RW_TYPES = {np.int8: "INT8", np.int16: "INT16", np.int32: "INT32", np.int64: "INT64", np.uint8: "UINT8",
            np.float32: "FLOAT32", np.float64: "FLOAT64"}


def _reduce_window_model(shape, tn, dt, init, opts):
    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.input("x", shape, tn)
    c = mb.const("init", np.asarray([init], dt))
    y = mb.tensor("y", [], tn)
    mb.op("STABLEHLO_REDUCE_WINDOW", [x, c], [y], body_subgraph_index=1, **opts)
    mb.output(y)
    mb.subgraph("body")
    a, b = mb.input("a", [], tn), mb.input("b", [], tn)
    s = mb.tensor("s", [], tn)
    mb.op("ADD", [a, b], [s])
    mb.output(s)
    mb.use_subgraph(0)
    return mb.build()


@pytest.mark.parametrize("dt", list(RW_TYPES), ids=list(RW_TYPES.values()))
@pytest.mark.parametrize("name", list(RW))
def test_stablehlo_reduce_window(name, dt):
    from oracle import run_ours
    from shape_helpers import litert_outputs
    shape, bd, pad, win, strides, wd, init, oshape, exp = RW[name]
    opts = dict(base_dilations=bd, padding=pad, window_dimensions=win, window_strides=strides,
                window_dilations=wd)
    x = (np.arange(int(np.prod(shape))) + 1).astype(dt).reshape(shape)   # iota from 1 (wraps for int8 as upstream)
    content = _reduce_window_model(shape, RW_TYPES[dt], dt, init, opts)
    ours = run_ours(content, [x])[0]
    assert list(ours.shape) == oshape and ours.dtype == dt
    if exp is not None:
        assert ours.ravel().tolist() == exp
    lite = litert_outputs(content, [x])[0]
    np.testing.assert_array_equal(ours, lite)
