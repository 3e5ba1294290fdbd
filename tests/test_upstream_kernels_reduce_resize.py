"""Ported from TensorFlow Lite's kernel unit tests (tensorflow/lite/kernels/*_test.cc) for resize, top-k,
cumsum, reductions, arg min/max and the space/depth ops: the same single-op models and inputs, asserting the
values the upstream tests assert and LiteRT's outputs on the same model (see upstream_helpers.case)."""
import numpy as np
import pytest

from shape_helpers import both_fail
from upstream_helpers import F32, I8, I16, I32, I64, U8, arr, case

INTS = [U8, I8, I16]
NAME = {F32: "float32", U8: "uint8", I8: "int8", I16: "int16", I32: "int32", I64: "int64"}


def ids(d):
    return NAME.get(d, np.dtype(d).name)


# ---------------------------------------------------------------------------------- resize_bilinear_test.cc
RB = [  # (types, shape, size, input, expected, half_pixel, abs tolerance)
    ([F32] + INTS, [1, 1, 2, 1], [1, 3], [3, 6], [3, 5, 6], False, 0),
    ([F32] + INTS, [1, 2, 1, 1], [3, 1], [3, 9], [3, 7, 9], False, 0),
    ([F32] + INTS, [1, 2, 2, 1], [3, 3], [3, 6, 9, 12], [3, 5, 6, 7, 9, 10, 9, 11, 12], False, 0),
    ([F32], [2, 2, 2, 1], [3, 3], [3, 6, 9, 12, 4, 10, 10, 16],
     [3, 5, 6, 7, 9, 10, 9, 11, 12, 4, 8, 10, 8, 12, 14, 10, 14, 16], False, 0),
    ([F32], [2, 2, 2, 1], [3, 3], [1, 2, 3, 4, 1, 2, 3, 4],
     [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4, 1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], True, 0),
    ([F32], [1, 2, 2, 2], [3, 3], [3, 4, 6, 10, 9, 10, 12, 16],
     [3, 4, 5, 8, 6, 10, 7, 8, 9, 12, 10, 14, 9, 10, 11, 14, 12, 16], False, 0),
    ([U8], [2, 2, 2, 1], [3, 3], [3, 6, 9, 12, 4, 10, 12, 16],
     [3, 5, 6, 7, 9, 10, 9, 11, 12, 4, 8, 10, 9, 12, 14, 12, 14, 16], False, 1),
    ([U8], [2, 2, 2, 1], [3, 3], [3, 6, 9, 12, 4, 10, 12, 16],
     [2, 4, 6, 6, 7, 9, 9, 10, 12, 4, 7, 10, 8, 10, 13, 12, 14, 16], True, 1),
    ([I8, I16], [2, 2, 2, 1], [3, 3], [3, 6, 9, 12, 4, 10, 12, 16],
     [3, 5, 6, 7, 9, 10, 9, 11, 12, 4, 8, 10, 9, 12, 13, 12, 14, 16], False, 1),
    ([U8], [1, 2, 2, 2], [3, 3], [3, 4, 6, 10, 10, 12, 14, 16],
     [3, 4, 5, 8, 6, 10, 7, 9, 10, 12, 11, 14, 10, 12, 12, 14, 14, 16], False, 1),
    ([I8, I16], [1, 2, 2, 2], [3, 3], [3, 4, 6, 10, 10, 12, 14, 16],
     [3, 4, 5, 8, 6, 10, 7, 9, 10, 12, 11, 13, 10, 12, 12, 14, 14, 16], False, 1),
    ([U8], [1, 1, 2, 1], [1, 3], [253, 255], [253, 254, 255], False, 0),
    ([I8], [1, 1, 2, 1], [1, 3], [125, 127], [125, 126, 127], False, 0),
]
RB_PARAMS = [(k, t) for k, c in enumerate(RB) for t in c[0]]


@pytest.mark.parametrize("dynamic", [False, True], ids=["const", "dynamic"])
@pytest.mark.parametrize("k,dt", RB_PARAMS, ids=[f"{k}-{ids(t)}" for k, t in RB_PARAMS])
def test_resize_bilinear(k, dt, dynamic):
    _, shape, size, x, exp, hpc, tol = RB[k]
    case("RESIZE_BILINEAR", [arr(x, dt, shape), arr(size, I32)], exp, const=() if dynamic else (1,),
         atol=tol if tol else None, align_corners=False, half_pixel_centers=hpc)


# --------------------------------------------------------------------------------------- topk_v2_test.cc
TOPK = [  # (dtype, shape, input, k, indices, values)
    (F32, [2, 2], [-2.0, 0.2, 0.8, 0.1], 2, [1, 0, 0, 1], [0.2, -2.0, 0.8, 0.1]),
    (F32, [2, 3], [-2.0, -3.0, 0.2, 0.8, 0.1, -0.1], 2, [2, 0, 0, 1], [0.2, -2.0, 0.8, 0.1]),
    (F32, [2, 4], [-2.0, -3.0, -4.0, 0.2, 0.8, 0.1, -0.1, -0.8], 2, [3, 0, 0, 1], [0.2, -2.0, 0.8, 0.1]),
    (F32, [8], [-2.0, -3.0, -4.0, 0.2, 0.8, 0.1, -0.1, -0.8], 2, [4, 3], [0.8, 0.2]),
    (U8, [2, 3], [1, 2, 3, 251, 250, 249], 2, [2, 1, 0, 1], [3, 2, 251, 250]),
    (I32, [2, 3], [1, 2, 3, 10251, 10250, 10249], 2, [2, 1, 0, 1], [3, 2, 10251, 10250]),
    (I64, [2, 3], [1, 2, 3, -1, -2, -3], 2, [2, 1, 0, 1], [3, 2, -1, -2]),
]


@pytest.mark.parametrize("k", range(len(TOPK)))
def test_topk_v2(k):
    dt, shape, x, kk, ind, vals = TOPK[k]
    case("TOPK_V2", [arr(x, dt, shape), arr([kk], I32)], [vals, ind], out_types=[dt, I32])


# ---------------------------------------------------------------------------------------- cumsum_test.cc
CUMSUM = [  # (dtype, shape, axis, exclusive, reverse, expected)
    (I32, [2, 4], 1, False, False, [1, 3, 6, 10, 5, 11, 18, 26]),
    (I32, [2, 4], 0, False, False, [1, 2, 3, 4, 6, 8, 10, 12]),
    (I32, [8], 0, False, False, [1, 3, 6, 10, 15, 21, 28, 36]),
    (I32, [2, 4], 1, False, True, [10, 9, 7, 4, 26, 21, 15, 8]),
    (I32, [2, 4], 1, True, False, [0, 1, 3, 6, 0, 5, 11, 18]),
    (F32, [2, 4], 1, False, False, [1, 3, 6, 10, 5, 11, 18, 26]),
]


@pytest.mark.parametrize("k", range(len(CUMSUM)))
def test_cumsum(k):
    dt, shape, axis, excl, rev, exp = CUMSUM[k]
    case("CUMSUM", [arr(range(1, 9), dt, shape), arr([axis], I32)], exp, exclusive=excl, reverse=rev)


def test_cumsum_int64():
    x = [100000000001 + i for i in range(8)]
    case("CUMSUM", [arr(x, I64, [2, 4]), arr([1], I32)],
         [100000000001, 200000000003, 300000000006, 400000000010, 100000000005, 200000000011, 300000000018,
          400000000026])


# -------------------------------------------------------------------------- resize_nearest_neighbor_test.cc
B2 = [3, 6, 9, 12, 4, 10, 10, 16]
RNN = [  # (types, shape, size, input, expected, align_corners, half_pixel_centers)
    ([F32, U8], [1, 1, 2, 1], [1, 3], [3, 6], [3, 3, 6], False, False),
    ([I8], [1, 1, 2, 1], [1, 3], [-3, 6], [-3, -3, 6], False, False),
    ([F32, U8], [1, 2, 1, 1], [3, 1], [3, 9], [3, 3, 9], False, False),
    ([I8], [1, 2, 1, 1], [3, 1], [3, -9], [3, 3, -9], False, False),
    ([F32, U8], [1, 2, 2, 1], [3, 3], [3, 6, 9, 12], [3, 3, 6, 3, 3, 6, 9, 9, 12], False, False),
    ([I8], [1, 2, 2, 1], [3, 3], [3, -6, 9, 12], [3, 3, -6, 3, 3, -6, 9, 9, 12], False, False),
    ([F32], [2, 2, 2, 1], [3, 3], B2, [3, 3, 6, 3, 3, 6, 9, 9, 12, 4, 4, 10, 4, 4, 10, 10, 10, 16], False, False),
    ([F32], [2, 2, 2, 1], [3, 3], B2, [3, 6, 6, 9, 12, 12, 9, 12, 12, 4, 10, 10, 10, 16, 16, 10, 16, 16], True,
     False),
    ([F32], [2, 2, 2, 1], [3, 3], B2, [3, 6, 6, 9, 12, 12, 9, 12, 12, 4, 10, 10, 10, 16, 16, 10, 16, 16], False,
     True),
    ([F32], [1, 2, 2, 2], [3, 3], [3, 4, 6, 10, 9, 10, 12, 16],
     [3, 4, 3, 4, 6, 10, 3, 4, 3, 4, 6, 10, 9, 10, 9, 10, 12, 16], False, False),
    ([U8], [2, 2, 2, 1], [3, 3], [3, 6, 9, 12, 4, 10, 12, 16],
     [3, 3, 6, 3, 3, 6, 9, 9, 12, 4, 4, 10, 4, 4, 10, 12, 12, 16], False, False),
    ([I8], [2, 2, 2, 1], [3, 3], [3, 6, 9, -12, -4, 10, 12, 16],
     [3, 3, 6, 3, 3, 6, 9, 9, -12, -4, -4, 10, -4, -4, 10, 12, 12, 16], False, False),
    ([U8], [1, 2, 2, 2], [3, 3], [3, 4, 6, 10, 10, 12, 14, 16],
     [3, 4, 3, 4, 6, 10, 3, 4, 3, 4, 6, 10, 10, 12, 10, 12, 14, 16], False, False),
    ([U8], [1, 2, 2, 2], [3, 3], [3, 4, 6, 10, 10, 12, 14, 16],
     [3, 4, 6, 10, 6, 10, 10, 12, 14, 16, 14, 16, 10, 12, 14, 16, 14, 16], True, False),
    ([U8], [1, 2, 2, 2], [3, 3], [3, 4, 6, 10, 10, 12, 14, 16],
     [3, 4, 6, 10, 6, 10, 10, 12, 14, 16, 14, 16, 10, 12, 14, 16, 14, 16], False, True),
    ([I8], [1, 2, 2, 2], [3, 3], [3, 4, -6, 10, 10, 12, -14, 16],
     [3, 4, 3, 4, -6, 10, 3, 4, 3, 4, -6, 10, 10, 12, 10, 12, -14, 16], False, False),
]
RNN_PARAMS = [(k, t) for k, c in enumerate(RNN) for t in c[0]]


@pytest.mark.parametrize("dynamic", [False, True], ids=["const", "dynamic"])
@pytest.mark.parametrize("k,dt", RNN_PARAMS, ids=[f"{k}-{ids(t)}" for k, t in RNN_PARAMS])
def test_resize_nearest_neighbor(k, dt, dynamic):
    _, shape, size, x, exp, ac, hpc = RNN[k]
    case("RESIZE_NEAREST_NEIGHBOR", [arr(x, dt, shape), arr(size, I32)], exp, const=() if dynamic else (1,),
         align_corners=ac, half_pixel_centers=hpc)


# ----------------------------------------------------------------------------- space_to_batch_nd_test.cc
S2B = [  # (shape, block, paddings, input, expected, out shape)
    ([1, 4, 4, 1], [2, 2], [0, 0, 0, 0], list(range(1, 17)),
     [1, 3, 9, 11, 2, 4, 10, 12, 5, 7, 13, 15, 6, 8, 14, 16], [4, 2, 2, 1]),
    ([2, 2, 4, 1], [2, 2], [0, 0, 0, 0], list(range(1, 17)),
     [1, 3, 9, 11, 2, 4, 10, 12, 5, 7, 13, 15, 6, 8, 14, 16], [8, 1, 2, 1]),
    ([1, 5, 2, 1], [3, 2], [1, 0, 2, 0], list(range(1, 11)),
     [0, 0, 0, 5, 0, 0, 0, 6, 0, 1, 0, 7, 0, 2, 0, 8, 0, 3, 0, 9, 0, 4, 0, 10], [6, 2, 2, 1]),
    ([1, 4, 2, 1], [3, 2], [1, 1, 2, 4], list(range(1, 9)),
     [0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0,
      0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0], [6, 2, 4, 1]),
]


@pytest.mark.parametrize("dynamic", [False, True], ids=["const", "dynamic"])
@pytest.mark.parametrize("k", range(len(S2B)))
def test_space_to_batch_nd(k, dynamic):
    shape, block, pads, x, exp, oshape = S2B[k]
    case("SPACE_TO_BATCH_ND", [arr(x, F32, shape), arr(block, I32), arr(pads, I32, [2, 2])], exp,
         const=() if dynamic else (1, 2), shapes=[oshape])


QS2B = [([1, 5, 2, 1], [1, 0, 2, 0], [-0.1, 0.2, -0.3, 0.4, -0.5, 0.6, -0.7, 0.8, -0.9, 0.1],
         [0, 0, 0, -0.5, 0, 0, 0, 0.6, 0, -0.1, 0, -0.7, 0, 0.2, 0, 0.8, 0, -0.3, 0, -0.9, 0, 0.4, 0, 0.1],
         [6, 2, 2, 1]),
        ([1, 4, 2, 1], [1, 1, 2, 4], [-0.1, 0.2, -0.3, 0.4, -0.5, 0.6, -0.7, 0.8],
         [0, 0, 0, 0, 0, -0.5, 0, 0, 0, 0, 0, 0, 0, 0.6, 0, 0, 0, -0.1, 0, 0, 0, -0.7, 0, 0, 0, 0.2, 0, 0, 0,
          0.8, 0, 0, 0, -0.3, 0, 0, 0, 0, 0, 0, 0, 0.4, 0, 0, 0, 0, 0, 0], [6, 2, 4, 1])]


@pytest.mark.parametrize("dynamic", [False, True], ids=["const", "dynamic"])
@pytest.mark.parametrize("k", range(len(QS2B)))
def test_space_to_batch_nd_quantized_uint8(k, dynamic):
    from upstream_helpers import quant_params, quantize
    shape, pads, x, exp, oshape = QS2B[k]
    s, z = quant_params(-1.0, 1.0, U8)
    q = {"scale": [s], "zero_point": [z]}
    case("SPACE_TO_BATCH_ND", [quantize(x, s, z, U8).reshape(shape), arr([3, 2], I32), arr(pads, I32, [2, 2])],
         exp, const=() if dynamic else (1, 2), shapes=[oshape], quant={0: q}, out_quant=q, deq=(s, z),
         atol=2.0 / 255.0)


def test_space_to_batch_nd_invalid_shape_fails():
    both_fail("SPACE_TO_BATCH_ND", [np.zeros([1, 3, 3, 1], F32), arr([2, 2], I32), arr([0, 0, 0, 0], I32, [2, 2])],
              const=(1, 2))


# ------------------------------------------------------------------------------------ depth_to_space_test.cc
D2S = [(F32, [1, 1, 1, 4], 2, [1.4, 2.3, 3.2, 4.1], [1.4, 2.3, 3.2, 4.1], [1, 2, 2, 1]),
       (U8, [1, 1, 2, 4], 2, list(range(1, 9)), [1, 2, 5, 6, 3, 4, 7, 8], [1, 2, 4, 1]),
       (I8, [1, 2, 1, 4], 2, list(range(1, 9)), list(range(1, 9)), [1, 4, 2, 1]),
       (I32, [1, 2, 2, 4], 2, list(range(1, 17)), [1, 2, 5, 6, 3, 4, 7, 8, 9, 10, 13, 14, 11, 12, 15, 16],
        [1, 4, 4, 1]),
       (I64, [1, 1, 1, 1], 1, [4], [4], [1, 1, 1, 1])]


@pytest.mark.parametrize("k", range(len(D2S)))
def test_depth_to_space(k):
    dt, shape, bs, x, exp, oshape = D2S[k]
    case("DEPTH_TO_SPACE", [arr(x, dt, shape)], exp, shapes=[oshape], block_size=bs)


@pytest.mark.parametrize("bs", [4, 0])
def test_depth_to_space_bad_block_size_fails(bs):
    both_fail("DEPTH_TO_SPACE", [np.zeros([1, 1, 1, 4], F32)], block_size=bs)
