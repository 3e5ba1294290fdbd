"""Assorted builtin ops against LiteRT."""
import numpy as np
import pytest

from oracle import assert_same_as_litert, run_litert, run_ours
from shape_helpers import build
from tfl_gpu.writer import ModelBuilder


def check(op, inputs, consts=(), out_types=("FLOAT32",), exact=True, **options):
    content, feeds = build(op, inputs, consts, out_types, **options)
    return assert_same_as_litert(content, feeds, exact=exact)


rng = np.random.default_rng(0)


def test_atan2():
    y = rng.standard_normal((3, 5)).astype(np.float32)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    x[0, 0] = 0
    check("ATAN2", [y, x], exact=False)


@pytest.mark.parametrize("dt", [np.int8, np.int16, np.int32, np.uint8])
def test_bitwise_xor(dt):
    info = np.iinfo(dt)
    a = rng.integers(info.min, info.max, (4, 5)).astype(dt)
    b = rng.integers(info.min, info.max, (1, 5)).astype(dt)
    check("BITWISE_XOR", [a, b], out_types=(dt,))


@pytest.mark.parametrize("dt", [np.int8, np.int32, np.uint8, np.int16])
def test_right_shift(dt):
    info = np.iinfo(dt)
    a = rng.integers(info.min, info.max, (4, 5)).astype(dt)
    b = rng.integers(0, 8, (4, 5)).astype(dt)
    check("RIGHT_SHIFT", [a, b], out_types=(dt,))


@pytest.mark.parametrize("src,dst", [(np.float32, np.int32), (np.int32, np.uint8), (np.uint8, np.int32),
                                     (np.int16, np.uint16)])
def test_bitcast(src, dst):
    shape = (3, 4) if np.dtype(src).itemsize >= np.dtype(dst).itemsize else (3, np.dtype(dst).itemsize // np.dtype(src).itemsize)
    x = rng.integers(0, 100, shape).astype(src)
    check("BITCAST", [x], out_types=(dst,))


def test_bucketize():
    x = np.array([[-5, 0, 1, 2.5, 10, 3]], np.float32)
    check("BUCKETIZE", [x], out_types=("INT32",), boundaries=np.array([0, 1, 2.5, 5], np.float32))


@pytest.mark.parametrize("mn,mx,bits,narrow", [(-1.0, 1.0, 8, False), (0.0, 6.0, 8, False), (-0.3, 2.7, 4, False),
                                               (0.1, 0.9, 8, False)])
def test_fake_quant(mn, mx, bits, narrow):
    x = rng.uniform(-3, 8, (4, 33)).astype(np.float32)
    check("FAKE_QUANT", [x], min=mn, max=mx, num_bits=bits, narrow_range=narrow)


@pytest.mark.parametrize("dt", [np.float32, np.int32])
def test_segment_sum(dt):
    data = rng.integers(-9, 9, (6, 3)).astype(dt)
    ids = np.array([0, 0, 1, 2, 2, 2], np.int32)
    check("SEGMENT_SUM", [data, ids], consts=(1,), out_types=(dt,))


def test_narrow_range_fake_quant_refused_like_litert():
    import tfl_gpu
    content, _ = build("FAKE_QUANT", [np.zeros(3, np.float32)], min=0.0, max=6.0, num_bits=8, narrow_range=True)
    with pytest.raises(RuntimeError, match="narrow_range"):
        run_litert(content, [np.zeros(3, np.float32)])
    with pytest.raises(RuntimeError, match="narrow_range"):
        tfl_gpu.Interpreter(model_content=content).allocate_tensors()


@pytest.mark.parametrize("kind", ["SUM", "PROD", "MAX", "MIN"])
@pytest.mark.parametrize("dt", [np.float32, np.int32])
def test_unsorted_segment(kind, dt):
    data = rng.integers(-5, 6, (7, 2)).astype(dt)
    ids = np.array([3, 0, 3, 1, 0, 3, 1], np.int32)
    check(f"UNSORTED_SEGMENT_{kind}", [data, ids, np.array(5, np.int32)], consts=(1, 2), out_types=(dt,))


def test_matrix_diag_and_set_diag():
    d = rng.standard_normal((2, 4)).astype(np.float32)
    check("MATRIX_DIAG", [d])
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    check("MATRIX_SET_DIAG", [x, rng.standard_normal((2, 3)).astype(np.float32)])


@pytest.mark.parametrize("seq_dim,batch_dim", [(1, 0), (0, 1), (2, 0)])
def test_reverse_sequence(seq_dim, batch_dim):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    lengths = np.array([x.shape[seq_dim], 1, 2, 0, 3][: x.shape[batch_dim]], np.int32)
    check("REVERSE_SEQUENCE", [x, lengths], consts=(1,), seq_dim=seq_dim, batch_dim=batch_dim)


@pytest.mark.parametrize("idx_type", ["INT32", "INT64"])
def test_unique(idx_type):
    x = np.array([4, 1, 4, 7, 1, 1, 9, 4], np.int32)
    check("UNIQUE", [x], out_types=("INT32", idx_type), idx_out_type=2 if idx_type == "INT32" else 4)


def test_sparse_to_dense():
    idx = np.array([[0, 1], [2, 3], [1, 0]], np.int32)
    check("SPARSE_TO_DENSE", [idx, np.array([3, 4], np.int32), np.array([1.5, -2, 7], np.float32),
                              np.array(0.25, np.float32)], consts=(0, 1, 3), validate_indices=False)
    check("SPARSE_TO_DENSE", [np.array([1, 4], np.int32), np.array([6], np.int32), np.array(3, np.int32),
                              np.array(-1, np.int32)], consts=(0, 1, 3), out_types=("INT32",))


def test_dynamic_update_slice_clamps_start():
    x = rng.standard_normal((4, 5)).astype(np.float32)
    u = rng.standard_normal((2, 3)).astype(np.float32)
    for start in ([1, 1], [3, 4], [-1, 0]):
        check("DYNAMIC_UPDATE_SLICE", [x, u, np.array(start, np.int32)])


def test_embedding_lookup_float_and_hybrid():
    table = rng.standard_normal((6, 3)).astype(np.float32)
    ids = np.array([5, 0, 2, 2], np.int32)
    check("EMBEDDING_LOOKUP", [ids, table], consts=(1,))
    mb = ModelBuilder()
    i = mb.input("ids", [4], "INT32")
    t = mb.const("t", rng.integers(-127, 128, (6, 3)).astype(np.int8), type_name="INT8",
                 quant={"scale": [0.05], "zero_point": [0]})
    o = mb.tensor("o", [4, 3])
    mb.op("EMBEDDING_LOOKUP", [i, t], [o])
    mb.output(o)
    assert_same_as_litert(mb.build(), [ids])


def _boxes(n):
    y = rng.uniform(0, 1, n)
    x = rng.uniform(0, 1, n)
    h = rng.uniform(0.05, 0.4, n)
    w = rng.uniform(0.05, 0.4, n)
    return np.stack([y, x, y + h, x + w], 1).astype(np.float32)


@pytest.mark.parametrize("iou,score", [(0.5, 0.0), (0.3, 0.4), (0.7, -1.0)])
def test_non_max_suppression_v4(iou, score):
    boxes, scores = _boxes(40), rng.uniform(0, 1, 40).astype(np.float32)
    content, feeds = build("NON_MAX_SUPPRESSION_V4", [boxes, scores, np.array(10, np.int32), np.array(iou, np.float32),
                                                      np.array(score, np.float32)], const=(2, 3, 4),
                           out_types=("INT32", "INT32"))
    ref = run_litert(content, feeds)
    ours = run_ours(content, feeds)
    assert int(ours[1]) == int(ref[1]) > 0
    n = int(ref[1])
    np.testing.assert_array_equal(ours[0][:n], ref[0][:n])


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_non_max_suppression_v5(sigma):
    boxes, scores = _boxes(30), rng.uniform(0, 1, 30).astype(np.float32)
    content, feeds = build("NON_MAX_SUPPRESSION_V5", [boxes, scores, np.array(12, np.int32), np.array(0.5, np.float32),
                                                      np.array(0.1, np.float32), np.array(sigma, np.float32)],
                           const=(2, 3, 4, 5), out_types=("INT32", "FLOAT32", "INT32"))
    ref = run_litert(content, feeds)
    ours = run_ours(content, feeds)
    n = int(ref[2])
    assert int(ours[2]) == n > 0
    np.testing.assert_array_equal(ours[0][:n], ref[0][:n])
    np.testing.assert_allclose(ours[1][:n], ref[1][:n], rtol=1e-6)
