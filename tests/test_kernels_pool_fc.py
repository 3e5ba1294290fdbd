"""AVERAGE/MAX/L2_POOL_2D, FULLY_CONNECTED and BATCH_MATMUL (float32) against LiteRT."""
import numpy as np
import pytest

import tfl_gpu
from oracle import assert_close, assert_same_as_litert, run_litert, run_ours
from tfl_gpu.writer import ModelBuilder, single_op_model


def _f32(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# (input NHWC, kh, kw, stride_h, stride_w)
POOL_CASES = [
    ((1, 8, 8, 3), 2, 2, 2, 2),
    ((2, 7, 9, 4), 3, 3, 2, 2),
    ((1, 10, 7, 2), 3, 2, 1, 1),
    ((1, 11, 11, 5), 5, 5, 3, 3),
    ((1, 5, 6, 3), 1, 1, 2, 2),
    ((1, 7, 7, 8), 7, 7, 1, 1),
    ((1, 9, 8, 2), 4, 3, 3, 2),
    # stride == filter: windows tile the input (reshaped-view reduction), incl. padded and global pools
    ((1, 9, 9, 3), 3, 3, 3, 3),
    ((2, 10, 7, 2), 3, 3, 3, 3),
    ((1, 16, 16, 4), 16, 16, 16, 16),
    ((1, 12, 20, 3), 12, 20, 12, 20),
    ((1, 11, 9, 2), 2, 3, 2, 3),
]


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"])
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: "x".join(map(str, c[0])) + f"-k{c[1]}{c[2]}s{c[3]}{c[4]}")
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_pool(rng, op, case, padding):
    shape, kh, kw, sh, sw = case
    x = _f32(rng, shape, 2.0)
    act = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"][(sum(shape) + kh) % 4]
    if op == "L2_POOL_2D":
        act = "NONE"
    content = single_op_model(op, [x], options_type="Pool2DOptions", padding=padding, stride_w=sw, stride_h=sh,
                              filter_width=kw, filter_height=kh, fused_activation_function=act)
    assert_same_as_litert(content, [x])


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_pool_activation(rng, op, act):
    x = _f32(rng, (1, 6, 6, 3), 4.0)
    content = single_op_model(op, [x], options_type="Pool2DOptions", padding="SAME", stride_w=1, stride_h=1,
                              filter_width=3, filter_height=3, fused_activation_function=act)
    assert_same_as_litert(content, [x])


def test_avg_pool_same_excludes_padding(rng):
    """Independent check of the SAME rule: a corner output averages only the real cells."""
    x = _f32(rng, (1, 4, 4, 1))
    content = single_op_model("AVERAGE_POOL_2D", [x], options_type="Pool2DOptions", padding="SAME", stride_w=1,
                              stride_h=1, filter_width=3, filter_height=3)
    ours = run_ours(content, [x])[0]
    assert abs(ours[0, 0, 0, 0] - x[0, :2, :2, 0].mean()) < 1e-6
    assert abs(ours[0, 1, 1, 0] - x[0, :3, :3, 0].mean()) < 1e-6


def test_pool_resized_input(rng):
    x = _f32(rng, (1, 6, 6, 2))
    content = single_op_model("MAX_POOL_2D", [x], options_type="Pool2DOptions", padding="SAME", stride_w=2,
                              stride_h=2, filter_width=3, filter_height=3)
    assert_same_as_litert(content, [_f32(rng, (2, 13, 9, 2))])


# ------------------------------------------------------------------------------------------ FULLY_CONNECTED

@pytest.mark.parametrize("xshape,units", [((1, 16), 8), ((4, 10), 3), ((2, 3, 12), 5), ((6, 7), 1),
                                          ((2, 2, 2, 6), 4)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"])
def test_fully_connected(rng, xshape, units, bias, keep, act):
    x = _f32(rng, xshape, 2.0)
    w = _f32(rng, (units, xshape[-1]))
    b = _f32(rng, (units,)) if bias else None
    content = single_op_model("FULLY_CONNECTED", [x, w, b], const_inputs=(1, 2), keep_num_dims=keep,
                              fused_activation_function=act)
    if act == "TANH":   # LiteRT refuses it at prepare; so do we
        with pytest.raises(RuntimeError):
            run_litert(content, [x])
        with pytest.raises(RuntimeError, match="FULLY_CONNECTED"):
            run_ours(content, [x])
        return
    assert_same_as_litert(content, [x])


def test_fully_connected_flattening(rng):
    """keep_num_dims=False with a last dim different from depth: rows of `depth` values."""
    x = _f32(rng, (2, 3, 4))
    w = _f32(rng, (5, 6))
    content = single_op_model("FULLY_CONNECTED", [x, w, _f32(rng, (5,))], const_inputs=(1, 2))
    assert_same_as_litert(content, [x])


def test_fully_connected_runtime_weights(rng):
    x = _f32(rng, (3, 8))
    w1, w2 = _f32(rng, (4, 8)), _f32(rng, (4, 8))
    b = _f32(rng, (4,))
    content = single_op_model("FULLY_CONNECTED", [x, w1, b])
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    d = it.get_input_details()
    for w in (w1, w2, w1):
        it.set_tensor(d[0]["index"], x)
        it.set_tensor(d[1]["index"], w)
        it.set_tensor(d[2]["index"], b)
        it.invoke()
        assert_close(it.get_tensor(it.get_output_details()[0]["index"]), run_litert(content, [x, w, b])[0])


def test_fully_connected_bad_depth(rng):
    x = _f32(rng, (1, 7))
    w = _f32(rng, (4, 3))
    content = single_op_model("FULLY_CONNECTED", [x, w, None], const_inputs=(1,))
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(content, [x])


# ---------------------------------------------------------------------------------------------- BATCH_MATMUL

@pytest.mark.parametrize("xs,ys", [((2, 3, 4), (2, 4, 5)), ((3, 4), (4, 6)), ((2, 1, 3, 4), (1, 5, 4, 2)),
                                   ((1, 3, 4), (2, 4, 5)), ((2, 3, 2, 3, 4), (4, 2)), ((5, 4), (3, 4, 2))])
@pytest.mark.parametrize("adj_x", [False, True])
@pytest.mark.parametrize("adj_y", [False, True])
@pytest.mark.parametrize("const_rhs", [False, True])
def test_batch_matmul(rng, xs, ys, adj_x, adj_y, const_rhs):
    x = _f32(rng, xs)
    y = _f32(rng, ys)
    if adj_x:
        x = np.ascontiguousarray(np.swapaxes(x, -1, -2))
    if adj_y:
        y = np.ascontiguousarray(np.swapaxes(y, -1, -2))
    content = single_op_model("BATCH_MATMUL", [x, y], const_inputs=(1,) if const_rhs else (), adj_x=adj_x,
                              adj_y=adj_y)
    assert_same_as_litert(content, [x] if const_rhs else [x, y])


def test_batch_matmul_numpy_oracle(rng):
    x, y = _f32(rng, (2, 3, 4)), _f32(rng, (2, 5, 4))
    content = single_op_model("BATCH_MATMUL", [x, y], adj_y=True)
    ours = run_ours(content, [x, y])[0]
    np.testing.assert_allclose(ours, x @ np.swapaxes(y, -1, -2), rtol=1e-5, atol=1e-5)


def test_fc_after_dequantize_float16(rng):
    mb = ModelBuilder()
    x = mb.input("x", [2, 16])
    w16 = mb.const("w16", _f32(rng, (8, 16)).astype(np.float16))
    wf = mb.tensor("w", [8, 16])
    mb.op("DEQUANTIZE", [w16], [wf])
    y = mb.tensor("y", [2, 8])
    mb.op("FULLY_CONNECTED", [x, wf, mb.const("b", _f32(rng, (8,)))], [y], fused_activation_function="RELU")
    mb.output(y)
    content = mb.build()
    it = tfl_gpu.Interpreter(model_content=content)
    try:
        it.allocate_tensors()
    except tfl_gpu.UnsupportedOperatorError as e:
        pytest.skip(f"float16 DEQUANTIZE not available yet: {e}")
    for _ in range(2):
        xv = _f32(rng, (2, 16))
        it.set_tensor(it.get_input_details()[0]["index"], xv)
        it.invoke()
        assert_close(it.get_tensor(it.get_output_details()[0]["index"]), run_litert(content, [xv])[0])


# ------------------------------------------------------------------------------------------- bad input

def _bad(content, inputs, match):
    with pytest.raises((ValueError, RuntimeError), match=match):
        run_ours(content, inputs)


def test_batch_matmul_inner_mismatch(rng):
    x, y = _f32(rng, (2, 3, 4)), _f32(rng, (2, 5, 6))
    _bad(single_op_model("BATCH_MATMUL", [x, y]), [x, y], "inner dimensions")


def test_batch_matmul_batch_mismatch(rng):
    x, y = _f32(rng, (2, 3, 4)), _f32(rng, (3, 4, 6))
    _bad(single_op_model("BATCH_MATMUL", [x, y]), [x, y], "broadcast")


def test_pool_filter_bigger_than_input_valid(rng):
    x = _f32(rng, (1, 3, 3, 2))
    content = single_op_model("MAX_POOL_2D", [x], options_type="Pool2DOptions", padding="VALID", stride_w=1,
                              stride_h=1, filter_width=5, filter_height=5)
    _bad(content, [x], "smaller than")


def test_pool_zero_stride(rng):
    x = _f32(rng, (1, 4, 4, 2))
    content = single_op_model("AVERAGE_POOL_2D", [x], options_type="Pool2DOptions", padding="SAME", stride_w=0,
                              stride_h=1, filter_width=2, filter_height=2)
    _bad(content, [x], "positive")


def test_conv_filter_bigger_than_input_valid(rng):
    x = _f32(rng, (1, 3, 3, 2))
    w = _f32(rng, (2, 5, 5, 2))
    content = single_op_model("CONV_2D", [x, w, _f32(rng, (2,))], const_inputs=(1, 2), padding="VALID",
                              stride_w=1, stride_h=1)
    _bad(content, [x], "smaller than")


def test_conv_zero_stride(rng):
    x = _f32(rng, (1, 4, 4, 2))
    content = single_op_model("DEPTHWISE_CONV_2D", [x, _f32(rng, (1, 3, 3, 2)), _f32(rng, (2,))],
                              const_inputs=(1, 2), padding="SAME", stride_w=0, stride_h=1, depth_multiplier=1)
    _bad(content, [x], "stride")


def test_transpose_conv_bad_output_shape(rng):
    x = _f32(rng, (1, 4, 4, 3))
    w = _f32(rng, (2, 3, 3, 3))
    oshape = np.array([1, 8, 8, 5], np.int32)      # 5 channels, the filter makes 2
    content = single_op_model("TRANSPOSE_CONV", [oshape, w, x, None], const_inputs=(0, 1), padding="SAME",
                              stride_w=2, stride_h=2)
    _bad(content, [x], "output_shape")


def test_depthwise_bad_channel_multiple(rng):
    x = _f32(rng, (1, 5, 5, 3))
    content = single_op_model("DEPTHWISE_CONV_2D", [x, _f32(rng, (1, 3, 3, 4)), _f32(rng, (4,))],
                              const_inputs=(1, 2), padding="SAME", stride_w=1, stride_h=1, depth_multiplier=1)
    _bad(content, [x], "multiple")


def test_transpose_conv_absurd_output_shape(rng):
    x = _f32(rng, (1, 4, 4, 3))
    w = _f32(rng, (2, 3, 3, 3))
    oshape = np.array([1, 2_000_000_000, 2_000_000_000, 2], np.int32)
    content = single_op_model("TRANSPOSE_CONV", [oshape, w, x, None], const_inputs=(0, 1), padding="SAME",
                              stride_w=2, stride_h=2)
    _bad(content, [x], "bytes")


def test_fully_connected_runtime_bias_and_4d_keep_dims(rng):
    x = _f32(rng, (2, 3, 2, 5))
    w = _f32(rng, (7, 5))
    b = _f32(rng, (7,))
    content = single_op_model("FULLY_CONNECTED", [x, w, b], const_inputs=(1,), keep_num_dims=True,
                              fused_activation_function="RELU6")
    assert_same_as_litert(content, [x, b])


def test_batch_matmul_rank5_broadcast(rng):
    x, y = _f32(rng, (2, 1, 3, 4, 5)), _f32(rng, (1, 2, 3, 5, 2))
    assert_same_as_litert(single_op_model("BATCH_MATMUL", [x, y]), [x, y])
