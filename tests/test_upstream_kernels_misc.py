"""Ported from TensorFlow Lite's kernel unit tests (tensorflow/lite/kernels/*_test.cc) for the misc ops
(segments, matrix diag, reverse sequence, unique, sparse_to_dense, dynamic_update_slice, bucketize, atan2,
bitcast, bitwise_xor, right_shift, embedding_lookup, ...): the same single-op models and inputs, asserting the
values the upstream tests assert and LiteRT's outputs on the same model (see upstream_helpers.case)."""
import numpy as np
import pytest

from shape_helpers import both_fail
from upstream_helpers import F32, I8, I16, I32, I64, U8, arr, case


def ids(d):
    return np.dtype(d).name


# ------------------------------------------------------------------------------------ segment_sum_test.cc
SEG = [([3, 4], [1, 2, 3, 4, 4, 3, 2, 1, 5, 6, 7, 8], [5, 5, 5, 5, 5, 6, 7, 8], [2, 4]),
       ([3], [1, 2, 3], [3, 3], [2]),
       ([3, 2, 1], [1, 2, 3, 4, 5, 6], [4, 6, 5, 6], [2, 2, 1])]


@pytest.mark.parametrize("dt", [I32, F32], ids=ids)
@pytest.mark.parametrize("k", range(len(SEG)))
def test_segment_sum(k, dt):
    shape, x, exp, oshape = SEG[k]
    case("SEGMENT_SUM", [arr(x, dt, shape), arr([0, 0, 1], I32)], exp, shapes=[oshape])


# ---------------------------------------------------------------------------------- unsorted_segment_test.cc
US_OPS = ["UNSORTED_SEGMENT_SUM", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_MIN"]
US_SHAPES = [  # (data shape, data, segment ids shape, ids, num_segments, const ids/num, expected output shape)
    ([2, 2, 2], [1, 2, 3, 4, 5, 6, 0, 0], [2, 2], [1, 2, 0, 8], 10, False, [10, 2]),
    ([2, 2, 2], [1, 2, 3, 4, 5, 6, 0, 0], [2, 2], [1, 2, -1, -1], 3, True, [3, 2]),
    ([2, 2], [1, 2, 3, 4], [2, 2], [0, 1, 5, 2], 10, False, [10]),
    ([2, 2], [1, 2, 3, 4], [2, 2], [1, 1, 1, 1], 3, True, [3]),
    ([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8], 10, False, [10]),
    ([2, 2, 2], [1, 1, 1, 1, 1, 1, 0, 0], [2, 2, 2], [0, 1, 2, -1, 3, -1, 4, -1], 8, True, [8]),
    ([2, 1, 2, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8], [2, 1], [0, 1], 10, False, [10, 2, 1, 2]),
]


@pytest.mark.parametrize("op", US_OPS)
@pytest.mark.parametrize("k", range(len(US_SHAPES)))
def test_unsorted_segment_shapes(k, op):
    # upstream asserts the output shape; the values are checked against LiteRT
    dshape, x, ishape, idx, n, const, oshape = US_SHAPES[k]
    case(op, [arr(x, I32, dshape), arr(idx, I32, ishape), arr([n], I32)], [None], const=(1, 2) if const else (),
         shapes=[oshape])


@pytest.mark.parametrize("op", US_OPS)
@pytest.mark.parametrize("dshape,x,ishape,idx,n", [
    ([3, 2], [1, 2, 3, 4, 5, 6], [2], [0, 1], [2]),           # segment ids size != data's first dimension
    ([2, 2], [1, 2, 3, 4], [2], [0, 1], [1]),                 # largest id + 1 > num_segments
    ([3, 2], [1, 2, 3, 4, 5, 6], [3], [0, 1, 0], [2, 1]),     # num_segments not a scalar
    ([2, 2, 2], [1, 2, 3, 4, 5, 6, 0, 0], [2, 1], [1, 1], [3]),  # ids shape not a prefix of data's
])
def test_unsorted_segment_bad_inputs_fail(op, dshape, x, ishape, idx, n):
    both_fail(op, [arr(x, I32, dshape), arr(idx, I32, ishape), arr(n, I32)])


# ------------------------------------------------------------------------------------ matrix_diag_test.cc
@pytest.mark.parametrize("dt", [I32, F32, I16, I8, U8], ids=ids)
def test_matrix_diag_three_by_three(dt):
    case("MATRIX_DIAG", [arr([1, 2, 3], dt)], [1, 0, 0, 0, 2, 0, 0, 0, 3], shapes=[[3, 3]])


def test_matrix_diag_two_dim_diag():
    case("MATRIX_DIAG", [arr(range(1, 9), I32, [2, 4])],
         [1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4, 5, 0, 0, 0, 0, 6, 0, 0, 0, 0, 7, 0, 0, 0, 0, 8],
         shapes=[[2, 4, 4]])


def test_matrix_diag_degenerate():
    case("MATRIX_DIAG", [arr([1], U8)], [1], shapes=[[1, 1]])


# -------------------------------------------------------------------------------- matrix_set_diag_test.cc
@pytest.mark.parametrize("dt", [I32, F32, I16, I8, U8], ids=ids)
def test_matrix_set_diag_three_by_three(dt):
    case("MATRIX_SET_DIAG", [arr([7, 1, 2, 3, 8, 4, 5, 6, 9], dt, [3, 3]), arr([0, 4, 2], dt)],
         [0, 1, 2, 3, 4, 4, 5, 6, 2], shapes=[[3, 3]])


def test_matrix_set_diag_more_columns_than_rows():
    case("MATRIX_SET_DIAG", [arr([0, 0, 0, 9, 9, 9], I32, [2, 3]), arr([1, 1], I32)], [1, 0, 0, 9, 1, 9],
         shapes=[[2, 3]])


def test_matrix_set_diag_two_dim_diag():
    case("MATRIX_SET_DIAG", [arr([5] * 16 + [1] * 16, I32, [2, 4, 4]), arr(range(1, 9), I32, [2, 4])],
         [1, 5, 5, 5, 5, 2, 5, 5, 5, 5, 3, 5, 5, 5, 5, 4, 5, 1, 1, 1, 1, 6, 1, 1, 1, 1, 7, 1, 1, 1, 1, 8],
         shapes=[[2, 4, 4]])


# -------------------------------------------------------------------------------- reverse_sequence_test.cc
RS = [([3, 2, 3, 3], 1, 0, [5, 6, 3, 4, 1, 2, 9, 10, 7, 8, 11, 12, 17, 18, 15, 16, 13, 14, 23, 24, 21, 22, 19, 20]),
      ([3, 4], 0, 2, [13, 20, 15, 22, 17, 24, 7, 14, 9, 16, 11, 18, 1, 8, 3, 10, 5, 12, 19, 2, 21, 4, 23, 6])]


@pytest.mark.parametrize("dt", [F32, I32, I64, U8, I16], ids=ids)
@pytest.mark.parametrize("k", range(len(RS)))
def test_reverse_sequence(k, dt):
    lens, seq_dim, batch_dim, exp = RS[k]
    case("REVERSE_SEQUENCE", [arr(range(1, 25), dt, [4, 3, 2]), arr(lens, I32)], exp, shapes=[[4, 3, 2]],
         seq_dim=seq_dim, batch_dim=batch_dim)


# ------------------------------------------------------------------------------------------ unique_test.cc
UNIQ = [([5], [5], [0]),
        ([5, 2, 3, 51, 6, 72, 7, 8], [5, 2, 3, 51, 6, 72, 7, 8], list(range(8))),
        ([5] * 7, [5], [0] * 7),
        ([2, 3, 5, 7, 2, 7, 3], [2, 3, 5, 7], [0, 1, 2, 3, 0, 3, 1]),
        ([-1, -1, -2, -2, -3, -3], [-1, -2, -3], [0, 0, 1, 1, 2, 2])]


@pytest.mark.parametrize("k", range(len(UNIQ)))
def test_unique(k):
    x, vals, idx = UNIQ[k]
    case("UNIQUE", [arr(x, F32)], [vals, idx], out_types=[F32, I32], idx_out_type=2)


def test_unique_index_int64():
    case("UNIQUE", [arr([2, 3, 5, 7, 2, 7, 3], F32)], [[2, 3, 5, 7], [0, 1, 2, 3, 0, 3, 1]], out_types=[F32, I64],
         idx_out_type=4)


# ---------------------------------------------------------------------------------- sparse_to_dense_test.cc
IDX33 = [0, 0, 0, 1, 2, 1, 2, 0, 1]


def _std(d):
    return [2] + [d] * 15 + [4, d, d, 6] + [d] * 7


STD = [  # (index dtype, value dtype, indices, indices shape, output shape, values, default, expected)
    (I32, F32, [3], [1], [5], [7], 0, [0, 0, 0, 7, 0]),
    (I32, F32, [1, 3, 5], [3], [7], [2, 4, 6], 0, [0, 2, 0, 4, 0, 6, 0]),
    (I32, F32, IDX33, [3, 3], [3, 3, 3], [2, 4, 6], 0, _std(0)),
    (I64, F32, IDX33, [3, 3], [3, 3, 3], [2, 4, 6], -1, _std(-1)),
    (I32, F32, IDX33, [3, 3], [3, 3, 3], [2, 4, 6], -1, _std(-1)),
    (I32, I32, IDX33, [3, 3], [3, 3, 3], [2, 4, 6], -1, _std(-1)),
    (I32, I64, IDX33, [3, 3], [3, 3, 3], [2, 4, 6], -1, _std(-1)),
    (I32, I8, IDX33, [3, 3], [3, 3, 3], [2, 4, 6], -1, _std(-1)),
    (I32, U8, IDX33, [3, 3], [3, 3, 3], [2, 4, 6], 1, _std(1)),
]


@pytest.mark.parametrize("k", range(len(STD)))
def test_sparse_to_dense(k):
    it, vt, ind, ishape, oshape, vals, d, exp = STD[k]
    case("SPARSE_TO_DENSE", [arr(ind, it, ishape), arr(oshape, I32), arr(vals, vt), arr([d], vt)], exp,
         shapes=[oshape], out_types=[vt], validate_indices=False)


# ---------------------------------------------------------------------------- dynamic_update_slice_test.cc
M33 = [1, 2, 3, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("dt", [F32, I8, I16, I32, I64], ids=ids)
def test_dynamic_update_slice_simple(dt):
    case("DYNAMIC_UPDATE_SLICE", [arr(M33, dt, [3, 3]), arr([-1, -2], dt, [2, 1]), arr([1, 1], I32)],
         [1, 2, 3, 4, -1, 6, 7, -2, 9])


def test_dynamic_update_slice_float16():
    case("DYNAMIC_UPDATE_SLICE", [arr(M33, np.float16, [3, 3]), arr([-1, -2], np.float16, [2, 1]),
                                  arr([1, 1], I32)], [1, 2, 3, 4, -1, 6, 7, -2, 9])


def test_dynamic_update_slice_bool():
    case("DYNAMIC_UPDATE_SLICE", [np.ones([3, 3], np.bool_), np.zeros([2, 1], np.bool_), arr([1, 1], I32)],
         [1, 1, 1, 1, 0, 1, 1, 0, 1])


def test_dynamic_update_slice_zero_size_update():
    case("DYNAMIC_UPDATE_SLICE", [arr(M33, I32, [3, 3]), np.zeros([2, 0], I32), arr([1, 1], I32)], M33)


def test_dynamic_update_slice_int64_indices():
    case("DYNAMIC_UPDATE_SLICE", [arr(M33, I64, [3, 3]), arr([-1, -2], I64, [2, 1]), arr([1, 1], I64)],
         [1, 2, 3, 4, -1, 6, 7, -2, 9])


def test_dynamic_update_slice_boundary_clamps_start():
    case("DYNAMIC_UPDATE_SLICE", [arr(M33, F32, [3, 3]), arr([-1, -2, -3, -4], F32, [2, 2]), arr([2, 2], I32)],
         [1, 2, 3, 4, -1, -2, 7, -3, -4])


def test_dynamic_update_slice_update_too_large_fails():
    both_fail("DYNAMIC_UPDATE_SLICE", [arr(M33, F32, [3, 3]), np.zeros([4, 2], F32), arr([0, 0], I32)])


# ---------------------------------------------------------------------------------------- bucketize_test.cc
@pytest.mark.parametrize("dt", [F32, I32], ids=ids)
def test_bucketize(dt):
    case("BUCKETIZE", [arr([-5, 10000, 150, 10, 5, 100], dt, [3, 2])], [0, 3, 3, 2, 1, 3], shapes=[[3, 2]],
         out_types=[I32], boundaries=[0.0, 10.0, 100.0])


def test_bucketize_unsorted_boundaries_fail():
    both_fail("BUCKETIZE", [arr([1, 2, 3, 4, 5, 6], I32, [3, 2])], out_types=[I32], boundaries=[0.0, 10.0, -10.0])


# -------------------------------------------------------------------------------------------- atan2_test.cc
@pytest.mark.parametrize("dt", [F32, np.float64], ids=ids)
@pytest.mark.parametrize("y,x,exp", [(0.0, 0.0, 0.0), (1.0, 0.0, np.pi / 2), (0.0, 1.0, 0.0),
                                     (-1.0, 0.0, -np.pi / 2)])
def test_atan2_scalar(dt, y, x, exp):
    case("ATAN2", [np.asarray(y, dt), np.asarray(x, dt)], [float(dt(exp))], shapes=[[]], tol=1e-6)


@pytest.mark.parametrize("dt", [F32, np.float64], ids=ids)
def test_atan2_batch(dt):
    y = arr([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], dt, [4, 2, 1])
    x = arr([0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], dt, [4, 2, 1])
    case("ATAN2", [y, x], np.arctan2(y, x).ravel().tolist(), shapes=[[4, 2, 1]], tol=1e-6)


# ------------------------------------------------------------------------------------------ bitcast_test.cc
I32MIN, I32MAX = -2 ** 31, 2 ** 31 - 1


def test_bitcast_int32_to_uint32():
    x = arr([I32MIN, -100, -1, 0, 100, I32MAX], I32, [2, 3])
    case("BITCAST", [x], x.view(np.uint32).ravel().tolist(), out_types=[np.uint32], shapes=[[2, 3]])


def test_bitcast_uint32_to_int32():
    x = arr([0, 1, 100, I32MAX, 2 ** 31, 2 ** 32 - 1], np.uint32, [2, 3])
    case("BITCAST", [x], x.view(np.int32).ravel().tolist(), out_types=[I32], shapes=[[2, 3]])


def test_bitcast_uint32_to_int16():
    case("BITCAST", [arr([65536, 65535], np.uint32, [2, 1])], [0, 1, -1, 0], out_types=[I16],
         output_shapes=None, shapes=[[2, 1, 2]])


def test_bitcast_int16_to_uint32():
    case("BITCAST", [arr([0, 1, -1, 0], I16, [2, 1, 2])], [65536, 65535], out_types=[np.uint32], shapes=[[2, 1]])


# ------------------------------------------------------------------------------------ right_shift_test.cc
RSHIFT = [(I8, [1, 1, 1, 4], [-1, -5, -3, -14], [1, 1, 1, 4], [5, 0, 7, 11], [-1, -5, -1, -1]),
          (I16, [1, 1, 1, 4], [-1, -5, -3, -14], [1, 1, 1, 4], [5, 0, 7, 11], [-1, -5, -1, -1]),
          (I32, [1, 1, 1, 4], [-1, -5, -3, -14], [1, 1, 1, 4], [5, 0, 7, 11], [-1, -5, -1, -1]),
          (U8, [1, 1, 1, 4], [1, 5, 3, 14], [1, 1, 1, 4], [5, 0, 7, 11], [0, 5, 0, 0]),
          (np.uint16, [1, 1, 1, 4], [1, 5, 3, 14], [1, 1, 1, 4], [5, 0, 7, 11], [0, 5, 0, 0]),
          (np.uint32, [1, 1, 1, 4], [1, 5, 3, 14], [1, 1, 1, 4], [5, 0, 7, 11], [0, 5, 0, 0]),
          (I32, [1, 1, 1, 4], [-1, -5, -3, -14], [1, 1, 1, 1], [2], [-1, -2, -1, -4]),
          (I32, [1, 1, 1, 1], [4], [1, 1, 1, 4], [1, -2, 3, -4], [2, 4, 0, 4]),
          (np.uint32, [1, 1, 1, 4], [5, 0, 7, 11], [1, 1, 1, 1], [2], [1, 0, 1, 2]),
          (np.uint32, [1, 1, 1, 1], [4], [1, 1, 1, 4], [1, 2, 3, 4], [2, 1, 0, 0])]


@pytest.mark.parametrize("k", range(len(RSHIFT)))
def test_right_shift(k):
    dt, s1, x, s2, y, exp = RSHIFT[k]
    case("RIGHT_SHIFT", [arr(x, dt, s1), arr(y, dt, s2)], exp, shapes=[[1, 1, 1, 4]])


# ------------------------------------------------------------------------------------ bitwise_xor_test.cc
XOR = [(dt, [1, 1, 1, 4], [0, 5, 3, 14], [1, 1, 1, 4], [5, 0, 7, 11], [5, 5, 4, 5])
       for dt in (I8, I16, I32, U8, np.uint16, np.uint32)] + [
    (I32, [1, 1, 1, 1], [5], [1, 1, 1, 4], [0, -5, -3, 14], [5, -2, -8, 11]),
    (np.uint32, [1, 1, 1, 4], [0, 5, 3, 14], [1, 1, 1, 1], [5], [5, 0, 6, 11])]


@pytest.mark.parametrize("k", range(len(XOR)))
def test_bitwise_xor(k):
    dt, s1, x, s2, y, exp = XOR[k]
    case("BITWISE_XOR", [arr(x, dt, s1), arr(y, dt, s2)], exp, shapes=[[1, 1, 1, 4]])


# ---------------------------------------------------------------------------------- embedding_lookup_test.cc
EMB_ROWS = [1.00, 1.01, 1.02, 1.03, 1.10, 1.11, 1.12, 1.13, 0.00, 0.01, 0.02, 0.03, 0.10, 0.11, 0.12, 0.13,
            2.00, 2.01, 2.02, 2.03, 2.10, 2.11, 2.12, 2.13]


def test_embedding_lookup_simple():
    w = np.fromfunction(lambda i, j, k: i + j / 10.0 + k / 100.0, (3, 2, 4)).astype(F32)
    case("EMBEDDING_LOOKUP", [arr([1, 0, 2], I32), w], EMB_ROWS, out_types=[F32])


HYB_W = [0.00, 0.01, 0.02, 0.03, 0.10, 0.11, 0.12, 0.13, 1.00, -1.01, 1.02, 1.03, 1.10, 1.11, 1.12, 1.13,
         2.00, 2.01, 2.02, 2.03, 2.10, 2.11, 2.12, 2.13]
HYB_EXP = HYB_W[8:16] + HYB_W[:8] + HYB_W[16:]


@pytest.mark.parametrize("wt", [U8, I8], ids=ids)
@pytest.mark.parametrize("wshape", [[3, 8], [3, 2, 4], [3, 2, 2, 2]], ids=["2d", "3d", "4d"])
def test_embedding_lookup_hybrid(wshape, wt):
    # test_util's (Signed)SymmetricQuantizeAndPopulate: int8 values round(x * 127 / max|x|), scale max|x| / 127
    w = np.asarray(HYB_W, np.float32)
    scale = float(np.float32(np.abs(w).max() / np.float32(127)))
    q = np.clip(np.round(w / np.float32(scale)), -127, 127).astype(np.int8)
    qw = q.view(np.uint8) if wt == U8 else q
    case("EMBEDDING_LOOKUP", [arr([1, 0, 2], I32), qw.reshape(wshape)], HYB_EXP, out_types=[F32],
         quant={1: {"scale": [scale], "zero_point": [0]}}, atol=7.41e-03)


def test_embedding_lookup_uint8_to_int8_copy():
    w = np.fromfunction(lambda i, j, k: 100 * i + 10 * j + k, (3, 2, 4)).astype(U8)
    exp = np.asarray([100, 101, 102, 103, 110, 111, 112, 113, 0, 1, 2, 3, 10, 11, 12, 13, 200, 201, 202, 203, 210,
                      211, 212, 213]).astype(np.uint8).view(np.int8)
    case("EMBEDDING_LOOKUP", [arr([1, 0, 2], I32), w], exp.tolist(), out_types=[I8])


def test_embedding_lookup_hybrid_nonzero_zero_point_fails():
    q = np.asarray([[0, 100, 128, 200, 255, 1]] * 2, np.uint8)
    both_fail("EMBEDDING_LOOKUP", [arr([1], I32), q], out_types=[F32],
              quant={1: {"scale": [0.5], "zero_point": [128]}})


# ------------------------------------------------------------------------------ non_max_suppression_test.cc
NMS_BOXES = arr([1, 1, 0, 0, 0, 0.1, 1, 1.1, 0, .9, 1, -0.1, 0, 10, 1, 11, 1, 10.1, 0, 11.1, 1, 101, 0, 100], F32,
                [6, 4])
NMS_SCORES = arr([0.9, 0.75, 0.6, 0.95, 0.5, 0.3], F32)


@pytest.mark.parametrize("static,max_out,thr,indices,num", [
    (True, 6, 0.4, [3, 0, 0, 0, 0, 0], 2), (True, 6, 0.99, [0] * 6, 0),
    (False, 1, 0.4, [3], 1), (False, 2, 0.4, [3, 0], 2), (False, 2, 0.99, [0, 0], 0),
    (True, 0, 0.4, None, 0),
])
def test_non_max_suppression_v4(static, max_out, thr, indices, num):
    case("NON_MAX_SUPPRESSION_V4", [NMS_BOXES, NMS_SCORES, np.asarray(max_out, I32), np.asarray(0.5, F32),
                                    np.asarray(thr, F32)], [indices, [num]],
         const=(2, 3) if static else (3,), out_types=[I32, I32])


@pytest.mark.parametrize("static,max_out,thr,indices,scores,num", [
    (True, 6, 0.0, [3, 0, 5, 0, 0, 0], [0.95, 0.9, 0.3, 0, 0, 0], 3), (True, 6, 0.99, [0] * 6, [0.0] * 6, 0),
    (False, 2, 0.0, [3, 0], [0.95, 0.9], 2), (False, 1, 0.0, [3], [0.95], 1),
    (False, 3, 0.0, [3, 0, 5], [0.95, 0.9, 0.3], 3), (False, 3, 0.99, [0, 0, 0], [0.0, 0.0, 0.0], 0),
])
def test_non_max_suppression_v5(static, max_out, thr, indices, scores, num):
    case("NON_MAX_SUPPRESSION_V5", [NMS_BOXES, NMS_SCORES, np.asarray(max_out, I32), np.asarray(0.5, F32),
                                    np.asarray(thr, F32), np.asarray(0.5, F32)], [indices, scores, [num]],
         const=(2, 3, 5) if static else (3, 5), out_types=[I32, F32, I32], tol=1e-6)


# ---------------------------------------------------------------------------------------- dequantize_test.cc
DEQ_EXP = [-63.5, -63, -62.5, -62, -61.5, 62, 62.5, 63, 63.5, 64]


def test_dequantize_uint8():
    case("DEQUANTIZE", [arr([0, 1, 2, 3, 4, 251, 252, 253, 254, 255], U8, [2, 5])], DEQ_EXP, out_types=[F32],
         quant={0: {"scale": [0.5], "zero_point": [127]}})


def test_dequantize_int8():
    case("DEQUANTIZE", [arr([-128, -127, -126, -125, -124, 123, 124, 125, 126, 127], I8, [2, 5])], DEQ_EXP,
         out_types=[F32], quant={0: {"scale": [0.5], "zero_point": [-1]}})


# -------------------------------------------------------------------------------------------- rfft2d_test.cc
R44 = [1, 2, 3, 4, 3, 8, 6, 3, 5, 2, 7, 6, 9, 5, 8, 3]
R44_EXP = [75, -6 - 1j, 9, -10 + 5j, -3 + 2j, -6 + 11j, -15, -2 + 13j, -5, -10 - 5j, 3 - 6j, -6 - 11j]
RFFT = [([4, 4], R44, [4, 4], R44_EXP),
        ([4, 5], [v for i in range(4) for v in R44[4 * i:4 * i + 4] + [0]], [4, 4], R44_EXP),
        ([3, 4], R44[:12], [4, 8],
         [50, 8.29289341 - 33.6776695j, -7 + 1j, 9.70710659 - 1.67766953j, 0, -10 - 20j, -16.3639603 - 1.12132037j,
          -5 + 1j, -7.19238806 - 2.05025244j, -6 + 2j, 10, -4.7781744 - 6.12132025j, -1 + 11j,
          10.7781744 + 1.87867963j, 4, -10 + 20j, 11.1923885 + 11.9497471j, 5 - 5j, -3.63603902 - 3.12132025j,
          -6 - 2j]),
        ([2, 2, 4], [1, 2, 3, 4, 3, 8, 6, 3, 5, 2, 7, 6, 7, 3, 23, 5], [2, 4],
         [30, -5 - 3j, -4, -10, 1 + 7j, 0, 58, -18 + 6j, 26, -18, 14 + 2j, -18])]


@pytest.mark.parametrize("k", range(len(RFFT)))
def test_rfft2d(k):
    shape, x, lengths, exp = RFFT[k]
    case("RFFT2D", [arr(x, F32, shape), arr(lengths, I32)], [exp], const=(1,), out_types=[np.complex64], tol=1e-5)


# ------------------------------------------------------------------------------------------ dilate_test.cc
DIL_TYPES = [I8, I16, I32, I64, U8, np.uint16, np.uint32, np.uint64, F32, np.float64]
DILATE = [  # (shape, dilations, expected, output shape)
    ([2, 2], [2, 3], [1, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 4], [3, 4]),
    ([2, 3], [2, 3], [1, 0, 0, 2, 0, 0, 3] + [0] * 7 + [4, 0, 0, 5, 0, 0, 6], [3, 7]),
    ([2, 2, 2, 2], [2, 1, 1, 1], list(range(1, 9)) + [0] * 8 + list(range(9, 17)), [3, 2, 2, 2]),
    ([2, 2, 2, 2], [1, 1, 1, 1], list(range(1, 17)), [2, 2, 2, 2]),
]


def _dilate_manual3():
    out = np.zeros((7, 4, 9), np.int64)
    out[::2, ::3, ::4] = np.arange(1, 25).reshape(4, 2, 3)
    return out.ravel().tolist()


DILATE.append(([4, 2, 3], [2, 3, 4], _dilate_manual3(), [7, 4, 9]))


@pytest.mark.parametrize("dt", DIL_TYPES, ids=ids)
@pytest.mark.parametrize("const", [True, False], ids=["const_dilation", "variable_dilation"])
@pytest.mark.parametrize("k", range(len(DILATE)))
def test_dilate(k, const, dt):
    shape, dil, exp, oshape = DILATE[k]
    x = np.arange(1, 1 + int(np.prod(shape))).astype(dt).reshape(shape)
    case("DILATE", [x, arr(dil, I32), np.asarray([0], dt)], exp, const=(1, 2) if const else (2,), shapes=[oshape])


@pytest.mark.parametrize("dt", DIL_TYPES, ids=ids)
def test_dilate_against_reference_with_padding_value(dt):
    shape, dil = [5, 4, 2], [2, 3, 5]
    x = np.arange(1, 41).astype(dt).reshape(shape)
    pad = np.asarray(-1).astype(dt) if np.dtype(dt).kind != "u" else np.asarray(np.iinfo(dt).max, dt)
    ref = np.full([(s - 1) * d + 1 for s, d in zip(shape, dil)], pad, dt)
    ref[::2, ::3, ::5] = x
    case("DILATE", [x, arr(dil, I32), np.asarray([pad], dt)], ref.ravel().tolist(), const=(1, 2),
         shapes=[list(ref.shape)])


# ------------------------------------------------------------------------------------ reduce_window_test.cc
RW = [  # (shape, window, strides, dilations, init, expected, output shape)
    ([3, 3], [3, 3], [1, 1], [1, 1], 0, [45], [1, 1]),
    ([3, 3], [2, 2], [1, 1], [1, 1], 0, [12, 16, 24, 28], [2, 2]),
    ([3, 3], [2, 2], [1, 1], [2, 2], 0, [20], [1, 1]),
    ([4, 4], [2, 2], [1, 1], [2, 2], 0, [24, 28, 40, 44], [2, 2]),
    ([4, 4], [2, 2], [2, 2], [1, 1], 0, [14, 22, 46, 54], [2, 2]),
    ([5, 5], [2, 2], [2, 2], [2, 2], 2, [30, 38, 70, 78], [2, 2]),
]


@pytest.mark.parametrize("dt", DIL_TYPES, ids=ids)
@pytest.mark.parametrize("k", range(len(RW)))
def test_reduce_window_add(k, dt):
    shape, win, strides, dil, init, exp, oshape = RW[k]
    x = np.arange(1, 1 + int(np.prod(shape))).astype(dt).reshape(shape)
    # LiteRT 2.3's REDUCE_WINDOW kernel rejects uint16/32/64 (upstream tests them): upstream values only there
    case("REDUCE_WINDOW", [x, np.asarray([init], dt), arr(win, I64), arr(strides, I64), arr(dil, I64)], exp,
         const=(1, 2, 3, 4), shapes=[oshape], reduce_function=1,   # ReduceWindowFunction_ADD
         check_litert=dt not in (np.uint16, np.uint32, np.uint64))


# ------------------------------------------ unsorted_segment_{sum,max,min,prod}_test.cc (value cases)
FLMAX = float(np.finfo(np.float32).max)
I32MAX_ = 2 ** 31 - 1
USEG = [  # (op, dtype, data shape, data, ids, num_segments, expected, out shape, const ids/num)
    ("SUM", I32, [7], [5, 1, 7, 2, 3, 4, 10], [0, 0, 1, 1, 0, 1, 0], 2, [19, 13], [2], False),
    ("SUM", I32, [3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 4, 3, 2, 1], [0, 1, 0], 2, [5, 5, 5, 5, 5, 6, 7, 8], [2, 4], False),
    ("SUM", F32, [6], [1, 2, 3, 4, 4, 3], [1, 0, 1, 7, 7, 7], 8, [2, 4, 0, 0, 0, 0, 0, 11], [8], False),
    ("SUM", F32, [3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 4, 3, 2, 1], [0, 1, 0], 2, [5, 5, 5, 5, 5, 6, 7, 8], [2, 4], False),
    ("SUM", I8, [7], [5, 1, 7, 2, 3, 4, 10], [0, 0, 1, 1, 0, 1, 0], 2, [19, 13], [2], False),
    ("SUM", I32, [2, 2], [1, 2, 3, 4], [-1, -1], 1, [0, 0], [1, 2], False),
    ("SUM", I32, [4], [1, 2, 3, 4], [-1, 0, -1, 1], 2, [2, 4], [2], False),
    ("SUM", I32, [2, 2], [1, 2, 3, 4], [0, 1], 3, [1, 2, 3, 4, 0, 0], [3, 2], False),
    ("MAX", I32, [6], [5, 1, 7, 2, 3, 4], [0, 0, 1, 1, 0, 1], 2, [5, 7], [2], False),
    ("MAX", I32, [3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 4, 3, 2, 1], [0, 1, 0], 2, [4, 3, 3, 4, 5, 6, 7, 8], [2, 4], False),
    ("MAX", F32, [8], [1, 2, 3, 4, 4, 3, 2, 1], [1, 0, 1, 7, 7, 7, 7, 7], 8, [2, 3] + [-FLMAX] * 5 + [4], [8], False),
    ("MAX", F32, [3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 4, 3, 2, 1], [0, 1, 0], 2, [4, 3, 3, 4, 5, 6, 7, 8], [2, 4], False),
    ("MAX", I8, [6], [5, 1, 7, 2, 3, 4], [0, 0, 1, 1, 0, 1], 2, [5, 7], [2], False),
    ("MAX", I32, [2, 2], [1, 2, 3, 4], [-1, -1], 1, [-2 ** 31, -2 ** 31], [1, 2], False),
    ("MAX", I32, [3, 2], [1, 2, 3, 4, 5, 6], [0, 1, 0], 2, [5, 6, 3, 4], [2, 2], True),
    ("MIN", I32, [6], [5, 3, 7, 8, 6, 4], [0, 0, 1, 1, 0, 1], 2, [3, 4], [2], False),
    ("MIN", I32, [3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 4, 3, 2, 1], [0, 1, 0], 2, [1, 2, 2, 1, 5, 6, 7, 8], [2, 4], False),
    ("MIN", F32, [8], [1, 2, 3, 4, 4, 3, 2, 1], [1, 0, 1, 7, 7, 7, 7, 7], 8, [2, 1] + [FLMAX] * 5 + [1], [8], False),
    ("MIN", F32, [3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 4, 3, 2, 1], [0, 1, 0], 2, [1, 2, 2, 1, 5, 6, 7, 8], [2, 4], False),
    ("MIN", I32, [2, 2], [1, 2, 3, 4], [-1, -1], 1, [I32MAX_, I32MAX_], [1, 2], False),
    ("MIN", I32, [3, 2], [1, 2, 3, 4, 5, 6], [0, 1, 0], 2, [1, 2, 3, 4], [2, 2], True),
    ("PROD", I32, [8], [1, 2, 3, 4, 4, 3, 2, 1], [1, 0, 1, 7, 7, 7, 7, 7], 8, [2, 3, 1, 1, 1, 1, 1, 96], [8], False),
    ("PROD", I32, [8], [1, 2, 3, 4, 4, 3, 2, 1], [1, 0, 1, 7, 7, 7, 7, -1], 8, [2, 3, 1, 1, 1, 1, 1, 96], [8], False),
    ("PROD", I32, [3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 4, 3, 2, 1], [0, 1, 0], 2, [4, 6, 6, 4, 5, 6, 7, 8], [2, 4], False),
    ("PROD", F32, [8], [1, 2, 3, 4, 4, 3, 2, 1], [1, 0, 1, 7, 7, 7, 7, 7], 8, [2, 3, 1, 1, 1, 1, 1, 96], [8], False),
    ("PROD", F32, [3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 4, 3, 2, 1], [0, 1, 0], 2, [4, 6, 6, 4, 5, 6, 7, 8], [2, 4], False),
    ("PROD", I8, [8], [1, 2, 3, 4, 4, 3, 2, 1], [1, 0, 1, 7, 7, 7, 7, 7], 8, [2, 3, 1, 1, 1, 1, 1, 96], [8], False),
]


@pytest.mark.parametrize("k", range(len(USEG)), ids=[f"{c[0]}-{np.dtype(c[1]).name}-{i}" for i, c in enumerate(USEG)])
def test_unsorted_segment_values(k):
    op, dt, shape, x, ids_, n, exp, oshape, const = USEG[k]
    # LiteRT 2.3 rejects int8 data for UNSORTED_SEGMENT_* (newer TFLite, whose tests these are, accepts it)
    case(f"UNSORTED_SEGMENT_{op}", [arr(x, dt, shape), arr(ids_, I32), arr([n], I32)], exp,
         const=(1, 2) if const else (), shapes=[oshape], check_litert=dt != I8)


# dequantize_test.cc (newer): op versions, float16, int16, per-channel
def test_dequantize_float16():
    x = np.asarray([-535.54, -100.0, -1.0, 0.0, 1.0, 100.32], np.float16).reshape(2, 3)
    case("DEQUANTIZE", [x], [-535.54, -100.0, -1.0, 0.0, 1.0, 100.32], out_types=[F32], version=3, atol=0.1)


def test_dequantize_int16():
    case("DEQUANTIZE", [arr([-129, -126, -125, -124, -123, 124, 125, 126, 127, 131], I16, [2, 5])],
         [-64.5, -63, -62.5, -62, -61.5, 62, 62.5, 63, 63.5, 65.5], out_types=[F32], version=4,
         quant={0: {"scale": [0.5], "zero_point": [0]}})


@pytest.mark.parametrize("dt,x,zp", [(U8, [0, 1, 2, 3, 4, 251, 252, 253, 254, 255], 127),
                                     (I8, [-128, -127, -126, -125, -124, 123, 124, 125, 126, 127], -1)],
                         ids=["uint8", "int8"])
def test_dequantize_per_channel(dt, x, zp):
    case("DEQUANTIZE", [arr(x, dt, [2, 5])], DEQ_EXP, out_types=[F32], version=5,
         quant={0: {"scale": [0.5, 0.5], "zero_point": [zp, zp], "quantized_dimension": 0}})


@pytest.mark.parametrize("dt,x,zp,version", [(U8, [0, 1, 2, 3, 4, 251, 252, 253, 254, 255], 127, 1),
                                             (I8, [-128, -127, -126, -125, -124, 123, 124, 125, 126, 127], -1, 2)],
                         ids=["uint8_v1", "int8_v2"])
def test_dequantize_versions(dt, x, zp, version):
    case("DEQUANTIZE", [arr(x, dt, [2, 5])], DEQ_EXP, out_types=[F32], version=version,
         quant={0: {"scale": [0.5], "zero_point": [zp]}})


def test_bitcast_int16_to_uint32_wrong_shape_fails():
    # upstream death test ("7 != 2"): the innermost dimension must match the size ratio; tfl_gpu must raise
    from oracle import run_ours
    from shape_helpers import build
    content, feeds = build("BITCAST", [np.zeros([2, 2, 7], I16)], out_types=[np.uint32])
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(content, feeds)


@pytest.mark.parametrize("ids_", [[0, 3, 1], [0, 3, 5], [-1, 0, 1], [0, 1]],
                         ids=["not_sorted", "not_consecutive", "negative", "wrong_cardinality"])
def test_segment_sum_bad_segment_ids_fail(ids_):
    both_fail("SEGMENT_SUM", [arr(range(1, 7), I32, [3, 2]), arr(ids_, I32)])
