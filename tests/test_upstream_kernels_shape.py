"""Ported from TensorFlow Lite's kernel unit tests (tensorflow/lite/kernels/*_test.cc) for the shape /
data-movement ops: the same single-op models and inputs, asserting the values the upstream tests assert, and
LiteRT's outputs on the same model (see upstream_helpers.case)."""
import numpy as np
import pytest

from shape_helpers import both_fail
from upstream_helpers import F32, I8, I16, I32, I64, U8, arr, case

S = np.object_
MODES = ["option", "const", "tensor"]


# ------------------------------------------------------------------------------------ reshape_test.cc
def _reshape(mode, in_shape, shape_shape, shape_data, x, expected, out_shape):
    shape = np.asarray(shape_data, I32).reshape(shape_shape)
    if mode == "option":
        return case("RESHAPE", [x.reshape(in_shape)], expected, shapes=[out_shape], new_shape=list(shape_data))
    return case("RESHAPE", [x.reshape(in_shape), shape], expected, const=(1,) if mode == "const" else (),
                shapes=[out_shape], new_shape=list(shape_data))


@pytest.mark.parametrize("mode", MODES)
def test_reshape_invalid_shape(mode):
    _reshape(mode, [1, 2, 2], [2, 2], [1, 2, 2, 1], arr([5, 6, 7, 8]), [5, 6, 7, 8], [1, 2, 2, 1])


@pytest.mark.parametrize("mode", MODES)
def test_reshape_regular_shapes(mode):
    _reshape(mode, [1, 2, 4, 1], [3], [2, 2, 2], arr(range(1, 9)), list(range(1, 9)), [2, 2, 2])


@pytest.mark.parametrize("mode", MODES)
def test_reshape_with_stretch_dimension(mode):
    _reshape(mode, [1, 2, 4, 1], [3], [2, 1, -1], arr(range(1, 9)), list(range(1, 9)), [2, 1, 4])


@pytest.mark.parametrize("mode", MODES)
def test_reshape_scalar_output(mode):
    _reshape(mode, [1], [0], [], arr([3]), [3], [])


def test_reshape_legacy_scalar_output_option():
    _reshape("option", [1], [1], [0], arr([3]), [3], [])


@pytest.mark.parametrize("mode", ["const", "tensor"])
def test_reshape_legacy_scalar_output_tensor_fails(mode):
    both_fail("RESHAPE", [arr([3]), np.asarray([0], I32)], const=(1,) if mode == "const" else (), new_shape=[0])


@pytest.mark.parametrize("mode", MODES)
def test_reshape_strings(mode):
    x = arr([str(i) for i in range(1, 9)], S)
    _reshape(mode, [1, 2, 4, 1], [3], [2, 2, 2], x, [str(i) for i in range(1, 9)], [2, 2, 2])


@pytest.mark.parametrize("mode", MODES)
def test_reshape_mismatched_dimensions_fails(mode):
    x = arr(range(8), F32, [1, 2, 4, 1])
    if mode == "option":
        both_fail("RESHAPE", [x], new_shape=[2, 1])
    else:
        both_fail("RESHAPE", [x, np.asarray([2, 1], I32)], const=(1,) if mode == "const" else (), new_shape=[2, 1])


@pytest.mark.parametrize("mode", MODES)
def test_reshape_too_many_special_dimensions_fails(mode):
    x = arr(range(8), F32, [1, 2, 4, 1])
    if mode == "option":
        both_fail("RESHAPE", [x], new_shape=[-1, -1, 2, 4])
    else:
        both_fail("RESHAPE", [x, np.asarray([-1, -1, 2, 4], I32)], const=(1,) if mode == "const" else (),
                  new_shape=[-1, -1, 2, 4])


# ------------------------------------------------------------------------------------ squeeze_test.cc
SQ_TYPES = [F32, I8, I16, I32]


@pytest.mark.parametrize("dt", SQ_TYPES)
@pytest.mark.parametrize("axis,out_shape", [([], [24]), ([2], [1, 24]), ([-1, 0], [24])])
def test_squeeze(dt, axis, out_shape):
    data = list(range(1, 25))
    case("SQUEEZE", [arr(data, dt, [1, 24, 1])], data, shapes=[out_shape], squeeze_dims=axis)


@pytest.mark.parametrize("dt", SQ_TYPES)
def test_squeeze_all_dims(dt):
    case("SQUEEZE", [arr([3], dt, [1] * 7)], [3], shapes=[[]], squeeze_dims=[])


@pytest.mark.parametrize("axis,out_shape", [([], [2]), ([-1], [1, 2])])
def test_squeeze_string(axis, out_shape):
    case("SQUEEZE", [arr(["a", "b"], S, [1, 2, 1])], ["a", "b"], shapes=[out_shape], squeeze_dims=axis)


def test_squeeze_all_dims_string():
    case("SQUEEZE", [arr(["a"], S, [1] * 7)], ["a"], shapes=[[]], squeeze_dims=[])


# ------------------------------------------------------------------------------------- gather_test.cc
def _gather(x, pos, expected, out_shape=None, axis=0, batch_dims=0):
    return case("GATHER", [x, pos], expected, shapes=[out_shape] if out_shape is not None else None,
                axis=axis, batch_dims=batch_dims)


GATHER_CASES = [  # (input, shape, positions, pos shape, axis, expected, out shape)
    ([-2.0, 0.2, 0.7, 0.8], [2, 2], [1, 0], [2], 0, [0.7, 0.8, -2, 0.2], None),                 # Shuffle
    ([-2.0, 0.2, 0.7, 0.8], [2, 2], [1], [], 0, [0.7, 0.8], [2]),                                 # 0D index
    ([1.0, 2.0, 3.0], [3], [1], [], 0, [2.0], []),                                                # 0D result
    ([1.0, 3.0, 5.0], [3], [1], [1], 0, [3.0], [1]),
    ([1.0, 2.0, 3.0], [3], [1, 0], [1, 2], 0, [2.0, 1.0], [1, 2]),
    ([-2.0, 0.2, 0.7, 0.8], [1, 2, 2], [0, 0], [2], 0, [-2, 0.2, 0.7, 0.8, -2, 0.2, 0.7, 0.8], None),  # Duplicate
    ([-2.0, 0.2, 0.7, 0.8], [4, 1], [1, 3], [2], 0, [0.2, 0.8], None),                              # Slice
    ([1, 2, 3, 4, 5, 6], [1, 2, 3], [1, 0], [2], 1, [4, 5, 6, 1, 2, 3], [1, 2, 3]),                # Axis1
    ([1, 2, 3, 4, 5, 6], [1, 3, 2], [1], [], 1, [3, 4], [1, 2]),
    ([1, 2, 3, 4, 5, 6, 7, 8], [1, 4, 2], [3, 1], [2], 1, [7, 8, 3, 4], [1, 2, 2]),
    ([1, 2, 3, 4, 5, 6], [1, 2, 3], [2, 0], [2], -1, [3, 1, 6, 4], [1, 2, 2]),                     # LastAxis
    ([1, 2, 3, 4, 5, 6], [1, 2, 3], [2], [], -1, [3, 6], [1, 2]),
]


@pytest.mark.parametrize("k", range(len(GATHER_CASES)))
def test_gather_float(k):
    x, xs, p, ps, axis, exp, oshape = GATHER_CASES[k]
    _gather(arr(x, F32, xs), arr(p, I32, ps), exp, oshape, axis)


TYPED = {F32: ([13.3, -13.4, -1.4, 1.5], [-1.4, 1.5, 13.3, -13.4]),
         I32: ([-1330, 1340, 140, -150], [140, -150, -1330, 1340]),
         U8: ([133, 134, 14, 15], [14, 15, 133, 134]),
         I8: ([-13, -120, 14, 15], [14, 15, -13, -120]),
         I16: ([-13, -32000, 0, 32500], [0, 32500, -13, -32000]),
         I64: ([-(1 << 34), 134, 14, 15], [14, 15, -(1 << 34), 134])}


@pytest.mark.parametrize("dt", list(TYPED), ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("it", [I32, I64], ids=["i32", "i64"])
def test_gather_types(dt, it):
    x, exp = TYPED[dt]
    _gather(arr(x, dt, [2, 2]), arr([1, 0], it), exp)


def test_gather_simple_string():
    _gather(arr(["A", "B", "C"], S), arr([0, 2], I32), ["A", "C"], [2])


def test_gather_2d_index_string():
    _gather(arr(["A", "B", "C"], S), arr([0, 2, 1, 1, 0, 2], I32, [2, 3]), ["A", "C", "B", "B", "A", "C"], [2, 3])


BD1 = [5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 22, 23, 24, 15, 16, 17, 18, 19, 15, 16,
       17, 18, 19, 20, 21, 22, 23, 24, 35, 36, 37, 38, 39, 30, 31, 32, 33, 34, 30, 31, 32, 33, 34, 35, 36, 37, 38,
       39, 50, 51, 52, 53, 54, 45, 46, 47, 48, 49, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54]
POS8 = [1, 0, 0, 1, 1, 0, 0, 1]


def test_gather_batch_dims2():
    _gather(arr(range(60), I32, [2, 2, 3, 5]), arr(POS8, I32, [2, 2, 2]),
            [5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 35, 36, 37, 38, 39, 30, 31, 32,
             33, 34, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54], [2, 2, 2, 5], axis=2, batch_dims=2)


@pytest.mark.parametrize("bd", [1, -2])
def test_gather_batch_dims1(bd):
    _gather(arr(range(60), I8, [2, 2, 3, 5]), arr(POS8, I32, [2, 2, 2]), BD1, [2, 2, 2, 2, 5], axis=2,
            batch_dims=bd)


def test_gather_batch_dims_equal_indice_dims():
    _gather(arr(range(40), I8, [2, 2, 2, 5]), arr(POS8, I32, [2, 2, 2]), [1, 5, 10, 16, 21, 25, 30, 36],
            [2, 2, 2], axis=3, batch_dims=3)


# --------------------------------------------------------------------------------------- tile_test.cc
M23 = [11, 12, 13, 21, 22, 23]


def test_tile_float32_vector():
    case("TILE", [arr([1, 2, 3]), arr([2], I32)], [1, 2, 3, 1, 2, 3])


@pytest.mark.parametrize("dt", [F32, U8, I32, I64], ids=lambda d: np.dtype(d).name)
def test_tile_matrix(dt):
    case("TILE", [arr(M23, dt, [2, 3]), arr([2, 1], I32)], M23 + M23, shapes=[[4, 3]])


def test_tile_int64_matrix_64_multipliers():
    case("TILE", [arr(M23, I64, [2, 3]), arr([2, 1], I64)], M23 + M23, shapes=[[4, 3]])


def test_tile_float32_high_dimension():
    case("TILE", [arr(M23, F32, [1, 2, 3]), arr([2, 3, 1], I32)], M23 * 6, shapes=[[2, 6, 3]])
