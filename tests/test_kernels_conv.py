"""CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV (float32) against LiteRT."""
import numpy as np
import pytest

from oracle import assert_same_as_litert, run_litert, run_ours, assert_close
from tfl_gpu.writer import ModelBuilder, single_op_model

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"]


def _f32(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _check_optional_bias(op, x, w, b, o, opts):
    """With a bias: compare with LiteRT directly. Without one (LiteRT 2.3's float kernels refuse a missing
    bias, and its depthwise kernel crashes), our 2-input model must equal LiteRT's with a zero bias."""
    if b is not None:
        assert_same_as_litert(single_op_model(op, [x, w, b], const_inputs=(1, 2), **opts), [x])
        return
    ref = run_litert(single_op_model(op, [x, w, np.zeros(o, np.float32)], const_inputs=(1, 2), **opts), [x])
    ours = run_ours(single_op_model(op, [x, w], const_inputs=(1,), **opts), [x])
    assert_close(ours[0], ref[0])


# (input NHWC, out channels, kh, kw, stride_h, stride_w, dil_h, dil_w)
CONV_CASES = [
    ((1, 7, 9, 3), 5, 3, 3, 1, 1, 1, 1),
    ((2, 8, 8, 4), 6, 3, 3, 2, 2, 1, 1),
    ((1, 11, 10, 3), 4, 3, 2, 2, 3, 1, 1),
    ((1, 9, 9, 2), 3, 3, 3, 1, 1, 2, 2),
    ((1, 12, 13, 5), 7, 5, 5, 2, 1, 1, 2),
    ((1, 6, 6, 8), 16, 1, 1, 1, 1, 1, 1),
    ((2, 9, 7, 8), 4, 1, 1, 2, 2, 1, 1),
    ((1, 5, 5, 3), 2, 5, 5, 1, 1, 1, 1),
    ((1, 16, 16, 3), 8, 3, 3, 2, 2, 1, 1),
    ((1, 4, 4, 6), 3, 2, 2, 3, 3, 1, 1),
    # large outputs: GEMM by row blocks with bias/activation per block
    ((1, 64, 64, 8), 40, 3, 3, 1, 1, 1, 1),
    ((1, 48, 48, 16), 64, 1, 1, 1, 1, 1, 1),
    # stride 1, <= 4 output channels: per-tap products on the flat padded input
    ((1, 20, 17, 8), 1, 3, 3, 1, 1, 1, 1),
    ((2, 9, 11, 5), 3, 3, 5, 1, 1, 2, 1),
    ((1, 12, 12, 4), 4, 5, 5, 1, 1, 1, 1),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "x".join(map(str, c[0])) + f"-o{c[1]}k{c[2]}{c[3]}"
                         f"s{c[4]}{c[5]}d{c[6]}{c[7]}")
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(rng, case, padding, bias):
    shape, o, kh, kw, sh, sw, dh, dw = case
    x = _f32(rng, shape)
    w = _f32(rng, (o, kh, kw, shape[3]))
    b = _f32(rng, (o,)) if bias else None
    act = ACTS[(sum(shape) + o + kh) % len(ACTS)]
    opts = dict(padding=padding, stride_w=sw, stride_h=sh, dilation_w_factor=dw, dilation_h_factor=dh,
                fused_activation_function=act)
    _check_optional_bias("CONV_2D", x, w, b, o, opts)


@pytest.mark.parametrize("act", ACTS + ["SIGN_BIT"])
def test_conv2d_activations(rng, act):
    x = _f32(rng, (1, 6, 5, 3), 3.0)
    w = _f32(rng, (4, 3, 3, 3))
    b = _f32(rng, (4,))
    content = single_op_model("CONV_2D", [x, w, b], const_inputs=(1, 2), padding="SAME", stride_w=1,
                              stride_h=1, fused_activation_function=act)
    assert_same_as_litert(content, [x])


def test_conv2d_runtime_weights(rng):
    """Weights fed as a graph input: two invokes with different weights must both be right."""
    x = _f32(rng, (1, 8, 8, 3))
    w1, w2 = _f32(rng, (4, 3, 3, 3)), _f32(rng, (4, 3, 3, 3))
    b = _f32(rng, (4,))
    content = single_op_model("CONV_2D", [x, w1, b], const_inputs=(2,), padding="SAME", stride_w=1,
                              stride_h=1)
    import tfl_gpu
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    d = it.get_input_details()
    for w in (w1, w2, w1):
        it.set_tensor(d[0]["index"], x)
        it.set_tensor(d[1]["index"], w)
        it.invoke()
        ours = it.get_tensor(it.get_output_details()[0]["index"])
        ref = run_litert(content, [x, w])[0]
        assert_close(ours, ref)


def test_conv2d_grouped(rng):
    """Input channels = 3 * filter channels: a grouped convolution (LiteRT's builtin kernels run it)."""
    x = _f32(rng, (1, 7, 7, 6))
    w = _f32(rng, (9, 3, 3, 2))
    b = _f32(rng, (9,))
    content = single_op_model("CONV_2D", [x, w, b], const_inputs=(1, 2), padding="SAME", stride_w=1,
                              stride_h=1)
    try:
        ref = run_litert(content, [x])
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"LiteRT cannot run grouped conv here: {e}")
    ours = run_ours(content, [x])
    assert_close(ours[0], ref[0])


def test_conv2d_batch_resize(rng):
    x = _f32(rng, (1, 6, 6, 3))
    w = _f32(rng, (4, 3, 3, 3))
    content = single_op_model("CONV_2D", [x, w, np.zeros(4, np.float32)], const_inputs=(1, 2), padding="SAME",
                              stride_w=2, stride_h=2)
    assert_same_as_litert(content, [_f32(rng, (3, 9, 11, 3))])


def test_conv2d_float16_weights_through_dequantize(rng):
    mb = ModelBuilder()
    x = mb.input("x", [1, 9, 9, 4])
    w16 = mb.const("w16", _f32(rng, (6, 3, 3, 4)).astype(np.float16))
    wf = mb.tensor("w", [6, 3, 3, 4])
    mb.op("DEQUANTIZE", [w16], [wf])
    b = mb.const("b", _f32(rng, (6,)))
    y = mb.tensor("y", [1, 9, 9, 6])
    mb.op("CONV_2D", [x, wf, b], [y], padding="SAME", stride_w=1, stride_h=1,
          fused_activation_function="RELU")
    mb.output(y)
    content = mb.build()
    import tfl_gpu
    it = tfl_gpu.Interpreter(model_content=content)
    try:
        it.allocate_tensors()
    except tfl_gpu.UnsupportedOperatorError as e:
        pytest.skip(f"float16 DEQUANTIZE not available yet: {e}")
    for _ in range(3):      # repeated invokes reuse the cached weight layout
        xv = _f32(rng, (1, 9, 9, 4))
        it.set_tensor(it.get_input_details()[0]["index"], xv)
        it.invoke()
        ours = it.get_tensor(it.get_output_details()[0]["index"])
        assert_close(ours, run_litert(content, [xv])[0])


# (input NHWC, multiplier, kh, kw, stride_h, stride_w, dil_h, dil_w)
DW_CASES = [
    ((1, 7, 9, 3), 1, 3, 3, 1, 1, 1, 1),
    ((2, 8, 8, 4), 1, 3, 3, 2, 2, 1, 1),
    ((1, 11, 10, 3), 2, 3, 3, 2, 1, 1, 1),
    ((1, 9, 9, 2), 3, 3, 3, 1, 1, 2, 2),
    ((1, 12, 13, 5), 1, 5, 5, 2, 2, 1, 1),
    ((1, 10, 10, 6), 1, 5, 3, 1, 2, 2, 1),
    ((1, 6, 6, 8), 1, 1, 1, 1, 1, 1, 1),
    ((1, 9, 7, 4), 2, 1, 1, 2, 2, 1, 1),
    ((1, 4, 4, 3), 1, 4, 4, 1, 1, 1, 1),
]


@pytest.mark.parametrize("case", DW_CASES, ids=lambda c: "x".join(map(str, c[0])) + f"-m{c[1]}k{c[2]}{c[3]}"
                         f"s{c[4]}{c[5]}d{c[6]}{c[7]}")
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("bias", [True, False])
def test_depthwise(rng, case, padding, bias):
    shape, m, kh, kw, sh, sw, dh, dw = case
    c = shape[3]
    x = _f32(rng, shape)
    w = _f32(rng, (1, kh, kw, c * m))
    b = _f32(rng, (c * m,)) if bias else None
    act = ACTS[(sum(shape) + m + kh) % len(ACTS)]
    opts = dict(padding=padding, stride_w=sw, stride_h=sh, dilation_w_factor=dw, dilation_h_factor=dh,
                depth_multiplier=m, fused_activation_function=act)
    _check_optional_bias("DEPTHWISE_CONV_2D", x, w, b, c * m, opts)


# stride-1 images of >= 576 output pixels take the flat blocked algorithm (several blocks each)
DW_LARGE = [
    ((1, 40, 33, 8), 1, 3, 3, 1, 1, "SAME", "RELU6"),
    ((2, 31, 29, 5), 1, 5, 5, 1, 1, "SAME", "RELU"),
    ((1, 36, 30, 4), 2, 3, 3, 1, 1, "VALID", "NONE"),
    ((1, 40, 40, 6), 1, 3, 3, 2, 2, "SAME", "RELU_N1_TO_1"),
    ((1, 34, 37, 3), 1, 3, 5, 2, 1, "VALID", "NONE"),
    ((3, 26, 26, 130), 1, 3, 3, 1, 1, "SAME", "RELU6"),
    ((1, 28, 28, 1), 1, 7, 7, 1, 1, "SAME", "NONE"),
]


@pytest.mark.parametrize("case", DW_LARGE, ids=lambda c: "x".join(map(str, c[0])) + f"-m{c[1]}k{c[2]}{c[3]}"
                         f"d{c[4]}{c[5]}-{c[6]}-{c[7]}")
def test_depthwise_large_flat(rng, case):
    shape, m, kh, kw, dh, dw, padding, act = case
    c = shape[3]
    x = _f32(rng, shape, 2.0)
    w = _f32(rng, (1, kh, kw, c * m))
    b = _f32(rng, (c * m,))
    opts = dict(padding=padding, stride_w=1, stride_h=1, dilation_w_factor=dw, dilation_h_factor=dh,
                depth_multiplier=m, fused_activation_function=act)
    _check_optional_bias("DEPTHWISE_CONV_2D", x, w, b, c * m, opts)
    _check_optional_bias("DEPTHWISE_CONV_2D", x, w, None, c * m, opts)
    # weights and bias as runtime inputs (no cached layout) give the same result
    content = single_op_model("DEPTHWISE_CONV_2D", [x, w, b], **opts)
    assert_same_as_litert(content, [x, w, b])


# strided, <= 64 channels, >= 576 output pixels: the phase-split algorithm
DW_STRIDED_LARGE = [
    ((1, 50, 47, 6), 1, 3, 3, 2, 2, "SAME", "RELU6"),
    ((2, 61, 60, 4), 1, 5, 5, 2, 2, "VALID", "NONE"),
    ((1, 70, 75, 3), 2, 3, 3, 2, 3, "SAME", "RELU"),
    ((1, 70, 70, 8), 1, 4, 4, 3, 3, "SAME", "RELU_N1_TO_1"),
    ((1, 64, 64, 16), 1, 5, 5, 2, 2, "SAME", "NONE"),
    ((1, 49, 51, 5), 1, 2, 3, 2, 2, "VALID", "RELU6"),
    ((1, 30, 29, 80), 1, 3, 3, 2, 2, "SAME", "RELU6"),      # many channels, 3x3/2: window einsum
    ((1, 30, 29, 80), 1, 5, 5, 2, 2, "SAME", "NONE"),       # many channels, 5x5/2: phases
    ((1, 33, 31, 6), 1, 3, 3, 2, 2, "SAME", "RELU"),        # strided + dilated: window einsum
]


@pytest.mark.parametrize("case", DW_STRIDED_LARGE, ids=lambda c: "x".join(map(str, c[0])) +
                         f"-m{c[1]}k{c[2]}{c[3]}s{c[4]}{c[5]}-{c[6]}-{c[7]}")
def test_depthwise_large_strided(rng, case):
    shape, m, kh, kw, sh, sw, padding, act = case
    c = shape[3]
    x = _f32(rng, shape, 2.0)
    w = _f32(rng, (1, kh, kw, c * m))
    b = _f32(rng, (c * m,))
    dil = 2 if shape == (1, 33, 31, 6) else 1
    opts = dict(padding=padding, stride_w=sw, stride_h=sh, depth_multiplier=m, fused_activation_function=act,
                dilation_w_factor=dil, dilation_h_factor=dil)
    _check_optional_bias("DEPTHWISE_CONV_2D", x, w, b, c * m, opts)
    _check_optional_bias("DEPTHWISE_CONV_2D", x, w, None, c * m, opts)
    # a second, different input through the same interpreter (the phase buffers are reused)
    content = single_op_model("DEPTHWISE_CONV_2D", [x, w, b], const_inputs=(1, 2), **opts)
    import tfl_gpu
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    for _ in range(2):
        xv = _f32(rng, shape)
        it.set_tensor(it.get_input_details()[0]["index"], xv)
        it.invoke()
        assert_close(it.get_tensor(it.get_output_details()[0]["index"]), run_litert(content, [xv])[0])


@pytest.mark.parametrize("act", ACTS)
def test_depthwise_activations(rng, act):
    x = _f32(rng, (1, 6, 5, 4), 3.0)
    w = _f32(rng, (1, 3, 3, 4))
    b = _f32(rng, (4,))
    content = single_op_model("DEPTHWISE_CONV_2D", [x, w, b], const_inputs=(1, 2), padding="SAME",
                              stride_w=1, stride_h=1, depth_multiplier=1, fused_activation_function=act)
    assert_same_as_litert(content, [x])


def test_depthwise_runtime_weights(rng):
    x = _f32(rng, (1, 8, 8, 3))
    w = _f32(rng, (1, 3, 3, 3))
    content = single_op_model("DEPTHWISE_CONV_2D", [x, w, _f32(rng, (3,))], const_inputs=(2,), padding="VALID", stride_w=1, stride_h=1,
                              depth_multiplier=1)
    assert_same_as_litert(content, [x, w])


# (input NHWC, out channels, kh, kw, stride_h, stride_w)
TCONV_CASES = [
    ((1, 4, 4, 3), 2, 3, 3, 2, 2),
    ((1, 5, 3, 2), 4, 2, 2, 2, 2),
    ((2, 3, 4, 4), 3, 3, 3, 1, 1),
    ((1, 4, 5, 3), 5, 4, 4, 2, 3),
    ((1, 3, 3, 2), 2, 1, 1, 2, 2),
    ((1, 6, 6, 4), 3, 5, 5, 3, 3),
]


def _tconv_out(n, size, k, s, padding):
    return size * s if padding == "SAME" else (size - 1) * s + k


@pytest.mark.parametrize("case", TCONV_CASES, ids=lambda c: "x".join(map(str, c[0])) + f"-o{c[1]}k{c[2]}{c[3]}"
                         f"s{c[4]}{c[5]}")
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("bias", [True, False])
def test_transpose_conv(rng, case, padding, bias):
    shape, o, kh, kw, sh, sw = case
    x = _f32(rng, shape)
    w = _f32(rng, (o, kh, kw, shape[3]))
    b = _f32(rng, (o,)) if bias else None
    oshape = np.array([shape[0], _tconv_out(0, shape[1], kh, sh, padding),
                       _tconv_out(0, shape[2], kw, sw, padding), o], np.int32)
    act = ["NONE", "RELU", "RELU6"][(sum(shape) + o) % 3]
    content = single_op_model("TRANSPOSE_CONV", [oshape, w, x, b], const_inputs=(0, 1, 3), padding=padding,
                              stride_w=sw, stride_h=sh, fused_activation_function=act)
    assert_same_as_litert(content, [x])


def test_transpose_conv_odd_output_shape(rng):
    """output_shape not equal to input*stride (e.g. 7 from 4 with stride 2)."""
    x = _f32(rng, (1, 4, 4, 3))
    w = _f32(rng, (2, 3, 3, 3))
    oshape = np.array([1, 7, 7, 2], np.int32)
    content = single_op_model("TRANSPOSE_CONV", [oshape, w, x, None], const_inputs=(0, 1), padding="SAME",
                              stride_w=2, stride_h=2)
    assert_same_as_litert(content, [x])


def test_conv_bad_channels(rng):
    x = _f32(rng, (1, 5, 5, 4))
    w = _f32(rng, (2, 3, 3, 3))
    content = single_op_model("CONV_2D", [x, w], const_inputs=(1,), padding="SAME", stride_w=1,
                              stride_h=1)
    with pytest.raises((ValueError, RuntimeError), match="channels"):
        run_ours(content, [x])


def test_weights_from_graph_are_not_cached_stale(rng):
    """Filter computed in the graph from an input (RESHAPE of a graph input): new values every invoke."""
    import tfl_gpu
    mb = ModelBuilder()
    x = mb.input("x", [1, 6, 6, 3])
    wflat = mb.input("wflat", [4 * 3 * 3 * 3])
    w = mb.tensor("w", [4, 3, 3, 3])
    mb.op("RESHAPE", [wflat, mb.const("shape", np.array([4, 3, 3, 3], np.int32))], [w])
    y = mb.tensor("y", [1, 6, 6, 4])
    mb.op("CONV_2D", [x, w, mb.const("b", _f32(rng, (4,)))], [y], padding="SAME", stride_w=1, stride_h=1)
    mb.output(y)
    content = mb.build()
    it = tfl_gpu.Interpreter(model_content=content)
    try:
        it.allocate_tensors()
    except tfl_gpu.UnsupportedOperatorError as e:
        pytest.skip(f"RESHAPE not available yet: {e}")
    xv = _f32(rng, (1, 6, 6, 3))
    for _ in range(3):
        wv = _f32(rng, (108,))
        it.set_tensor(it.get_input_details()[0]["index"], xv)
        it.set_tensor(it.get_input_details()[1]["index"], wv)
        it.invoke()
        assert_close(it.get_tensor(it.get_output_details()[0]["index"]), run_litert(content, [xv, wv])[0])


def test_dequantized_weights_layout_is_cached(rng):
    """float16 weights through DEQUANTIZE count as static: the prepared layout is reused across invokes."""
    import tfl_gpu
    mb = ModelBuilder()
    x = mb.input("x", [1, 8, 8, 4])
    w16 = mb.const("w16", _f32(rng, (1, 3, 3, 4)).astype(np.float16))
    wf = mb.tensor("w", [1, 3, 3, 4])
    mb.op("DEQUANTIZE", [w16], [wf])
    y = mb.tensor("y", [1, 8, 8, 4])
    mb.op("DEPTHWISE_CONV_2D", [x, wf, mb.const("b", _f32(rng, (4,)))], [y], padding="SAME", stride_w=1,
          stride_h=1, depth_multiplier=1)
    mb.output(y)
    content = mb.build()
    it = tfl_gpu.Interpreter(model_content=content)
    try:
        it.allocate_tensors()
    except tfl_gpu.UnsupportedOperatorError as e:
        pytest.skip(f"float16 DEQUANTIZE not available yet: {e}")
    kernel = next(st.kernel for st in it._runtime.subgraphs[0].steps if st.label == "DEPTHWISE_CONV_2D")
    assert kernel.weights.static
    for _ in range(2):
        xv = _f32(rng, (1, 8, 8, 4))
        it.set_tensor(it.get_input_details()[0]["index"], xv)
        it.invoke()
        assert_close(it.get_tensor(it.get_output_details()[0]["index"]), run_litert(content, [xv])[0])


def test_transpose_conv_runtime_inputs(rng):
    """output_shape, filter and bias all fed at runtime (no precomputed layout)."""
    x = _f32(rng, (1, 5, 4, 3))
    w = _f32(rng, (4, 3, 3, 3))
    b = _f32(rng, (4,))
    oshape = np.array([1, 10, 8, 4], np.int32)
    content = single_op_model("TRANSPOSE_CONV", [oshape, w, x, b], padding="SAME", stride_w=2, stride_h=2)
    assert_same_as_litert(content, [oshape, w, x, b])


def test_depthwise_multiplier_with_input_resize(rng):
    """Resizing the input re-plans the geometry (new padded buffers) for a depth-multiplier layer."""
    x = _f32(rng, (1, 8, 8, 3))
    w = _f32(rng, (1, 3, 3, 6))
    b = _f32(rng, (6,))
    content = single_op_model("DEPTHWISE_CONV_2D", [x, w, b], const_inputs=(1, 2), padding="SAME", stride_w=2,
                              stride_h=2, depth_multiplier=2, fused_activation_function="RELU6")
    for shape in [(1, 8, 8, 3), (2, 33, 29, 3), (1, 5, 7, 3)]:
        assert_same_as_litert(content, [_f32(rng, shape, 3.0)])
