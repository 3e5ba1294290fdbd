"""Oracle tests for the fast paths added for CPU speed (bench/cpu_bench.py): each one is a separate code path
that the general kernel tests may not reach with the shapes and values that select it.

* PRELU's two-pass max(x, alpha * x) for alphas <= 1 and non-zero (negative ones included), chosen per alpha
  array, also when alpha is dequantized from float16 at every invoke (MediaPipe models), checked on inf, NaN
  and signed zeros; alphas with a zero or a value > 1 keep the exact general path.
* Convolutions with < 32 output channels: bias added as a row tiled along the output width (plain and row
  blocked GEMM, 1x1 depthwise with the weights tiled the same way).
* The compiled executor loop: multi-input/multi-output steps, released intermediates, invoke repeated.
"""
import numpy as np
import pytest

from oracle import assert_close, assert_same_as_litert, run_litert, run_ours
from tfl_gpu.writer import ModelBuilder, single_op_model

F32 = np.float32


def _prelu_f16_alpha_model(xshape, alpha16):
    mb = ModelBuilder()
    x = mb.input("x", list(xshape), "FLOAT32")
    a16 = mb.const("a16", alpha16)
    a = mb.tensor("a", list(alpha16.shape), "FLOAT32")
    mb.op("DEQUANTIZE", [a16], [a])
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("PRELU", [x, a], [y])
    mb.output(y)
    return mb.build()


def _special_x(rng, shape):
    x = rng.uniform(-8, 8, size=shape).astype(F32)
    flat = x.reshape(-1)
    flat[:8] = [np.inf, -np.inf, np.nan, 0.0, -0.0, 3e38, -3e38, 1e-40]
    return x


def _prelu_formula(x, a):
    xd, ad = x.astype(np.float64), np.asarray(a, np.float64)
    with np.errstate(all="ignore"):
        return np.where(xd >= 0, xd, xd * ad).astype(F32)


@pytest.mark.parametrize("alpha_range", [(-1.5, 1.0), (0.05, 1.0), (-2.0, 2.0), (-0.5, -0.01)])
@pytest.mark.parametrize("with_zero", [False, True])
@pytest.mark.parametrize("shape", [(1, 9, 11, 16), (1, 40, 40, 8)])
def test_prelu_alpha_paths_const_and_dequantized(alpha_range, with_zero, shape, rng):
    x = _special_x(rng, shape)
    a = rng.uniform(*alpha_range, size=(1, 1, shape[-1])).astype(np.float16)
    if with_zero:
        a.reshape(-1)[1] = 0
    a32 = a.astype(F32)
    for content, feed in ((single_op_model("PRELU", [x, a32], const_inputs=(1,)), [x]),
                          (_prelu_f16_alpha_model(shape, a), [x])):
        ref = run_litert(content, feed)[0]
        for _ in range(2):        # the second invoke uses the cached decision for the dequantized alpha
            ours = run_ours(content, feed)[0]
            np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
            assert_close(np.nan_to_num(ours), np.nan_to_num(ref))
            assert_close(np.nan_to_num(ours), np.nan_to_num(_prelu_formula(x, a32)), 1e-6, "formula")


def test_prelu_dequantized_alpha_repeated_invokes(rng):
    """One interpreter, several invokes with new inputs: the cached alpha decision stays right."""
    import tfl_gpu
    a = rng.uniform(-1, 1, size=(1, 1, 8)).astype(np.float16)
    content = _prelu_f16_alpha_model((1, 20, 20, 8), a)
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    for _ in range(3):
        x = _special_x(rng, (1, 20, 20, 8))
        it.set_tensor(inp, x)
        it.invoke()
        got = it.get_tensor(out)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(_prelu_formula(x, a.astype(F32))))
        assert_close(np.nan_to_num(got), np.nan_to_num(_prelu_formula(x, a.astype(F32))), 1e-6, "formula")


@pytest.mark.parametrize("hw,o,k,stride,act", [
    ((40, 40), 8, 3, 1, "NONE"), ((40, 40), 16, 1, 1, "RELU6"), ((64, 64), 8, 3, 2, "RELU"),
    ((129, 130), 8, 3, 1, "RELU6"),
    ((257, 250), 9, 3, 1, "RELU6"),          # m * o over 8 GEMM blocks: row-blocked GEMM, tiled bias
    ((130, 129), 4, 1, 1, "NONE"), ((33, 35), 24, 2, 2, "RELU_N1_TO_1"), ((20, 20), 40, 3, 1, "NONE")])
def test_conv_few_channels_bias(hw, o, k, stride, act, rng):
    c = 3 if k == 3 else 8
    x = rng.uniform(-1, 1, size=(1, *hw, c)).astype(F32)
    w = rng.uniform(-1, 1, size=(o, k, k, c)).astype(F32)
    b = rng.uniform(-1, 1, size=(o,)).astype(F32)
    content = single_op_model("CONV_2D", [x, w, b], const_inputs=(1, 2), padding="SAME", stride_w=stride,
                              stride_h=stride, fused_activation_function=act)
    assert_same_as_litert(content, [x])


@pytest.mark.parametrize("hw,c,mult,stride,act", [
    ((64, 64), 8, 1, 1, "NONE"), ((40, 41), 16, 1, 1, "RELU6"), ((50, 50), 4, 2, 1, "RELU"),
    ((64, 64), 8, 1, 2, "NONE"), ((3, 3), 8, 1, 1, "NONE"), ((40, 40), 40, 1, 1, "NONE")])
def test_depthwise_1x1_few_channels(hw, c, mult, stride, act, rng):
    x = rng.uniform(-2, 2, size=(1, *hw, c)).astype(F32)
    w = rng.uniform(-1, 1, size=(1, 1, 1, c * mult)).astype(F32)
    b = rng.uniform(-1, 1, size=(c * mult,)).astype(F32)      # (LiteRT's depthwise requires a bias)
    content = single_op_model("DEPTHWISE_CONV_2D", [x, w, b], const_inputs=(1, 2), padding="VALID",
                              stride_w=stride, stride_h=stride, depth_multiplier=mult,
                              fused_activation_function=act)
    assert_same_as_litert(content, [x])


def test_executor_multi_io_and_release(rng):
    """SPLIT (two outputs) -> ADD (two inputs) -> MUL with a graph input, intermediates released; repeated
    invokes with new inputs give LiteRT's values each time."""
    import tfl_gpu
    mb = ModelBuilder()
    x = mb.input("x", [2, 6], "FLOAT32")
    z = mb.input("z", [2, 3], "FLOAT32")
    axis = mb.const("axis", np.array(1, np.int32))
    s0, s1 = mb.tensor("s0", [2, 3], "FLOAT32"), mb.tensor("s1", [2, 3], "FLOAT32")
    mb.op("SPLIT", [axis, x], [s0, s1], num_splits=2)
    t = mb.tensor("t", [2, 3], "FLOAT32")
    mb.op("ADD", [s0, s1], [t])
    y = mb.tensor("y", [2, 3], "FLOAT32")
    mb.op("MUL", [t, z], [y])
    mb.output(y)
    content = mb.build()
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    for _ in range(3):
        xv = rng.uniform(-1, 1, size=(2, 6)).astype(F32)
        zv = rng.uniform(-1, 1, size=(2, 3)).astype(F32)
        ref = run_litert(content, [xv, zv])[0]
        it.set_tensor(it.get_input_details()[0]["index"], xv)
        it.set_tensor(it.get_input_details()[1]["index"], zv)
        it.invoke()
        assert_close(it.get_tensor(it.get_output_details()[0]["index"]), ref)
    assert_close(run_ours(content, [xv, zv])[0], ref)


@pytest.mark.parametrize("op,hw,c,o,k,stride,dil,pad", [
    ("CONV_2D", (8, 8), 128, 64, 2, 2, 1, "VALID"), ("CONV_2D", (2, 2), 16, 21, 2, 1, 1, "VALID"),
    ("CONV_2D", (13, 11), 5, 7, 3, 2, 2, "SAME"), ("CONV_2D", (12, 12), 6, 8, 3, 1, 3, "VALID"),
    ("CONV_2D", (9, 10), 4, 6, 5, 3, 1, "SAME"),
    ("DEPTHWISE_CONV_2D", (14, 14), 96, 96, 3, 2, 1, "SAME"),      # window einsum (many channels)
    ("DEPTHWISE_CONV_2D", (15, 13), 8, 8, 3, 2, 2, "SAME"),        # window einsum (strided + dilated)
    ("DEPTHWISE_CONV_2D", (7, 7), 80, 80, 3, 2, 1, "VALID")])
def test_patch_views(op, hw, c, o, k, stride, dil, pad, rng):
    """The im2col / window views built directly from the padded buffer's strides."""
    x = rng.uniform(-1, 1, size=(1, *hw, c)).astype(F32)
    if op == "CONV_2D":
        w = rng.uniform(-1, 1, size=(o, k, k, c)).astype(F32)
        extra = {}
    else:
        w = rng.uniform(-1, 1, size=(1, k, k, o)).astype(F32)
        extra = {"depth_multiplier": o // c}
    b = rng.uniform(-1, 1, size=(o,)).astype(F32)
    content = single_op_model(op, [x, w, b], const_inputs=(1, 2), padding=pad, stride_w=stride,
                              stride_h=stride, dilation_w_factor=dil, dilation_h_factor=dil,
                              fused_activation_function="RELU", **extra)
    assert_same_as_litert(content, [x])


def test_conv_after_strided_view(rng):
    """A convolution fed by a view (STRIDED_SLICE may return one): non-contiguous input, no padding."""
    mb = ModelBuilder()
    x = mb.input("x", [1, 10, 10, 6], "FLOAT32")
    begin = mb.const("b", np.array([0, 0, 0, 1], np.int32))
    end = mb.const("e", np.array([1, 10, 10, 5], np.int32))
    strides = mb.const("s", np.array([1, 1, 1, 1], np.int32))
    sl = mb.tensor("sl", [1, 10, 10, 4], "FLOAT32")
    mb.op("STRIDED_SLICE", [x, begin, end, strides], [sl])
    w = mb.const("w", rng.uniform(-1, 1, size=(5, 3, 3, 4)).astype(F32))
    bias = mb.const("bias", rng.uniform(-1, 1, size=(5,)).astype(F32))
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("CONV_2D", [sl, w, bias], [y], padding="VALID", stride_w=2, stride_h=1)
    mb.output(y)
    xv = rng.uniform(-1, 1, size=(1, 10, 10, 6)).astype(F32)
    assert_same_as_litert(mb.build(), [xv])


@pytest.mark.parametrize("contiguous", [True, False])
def test_patches_view_matches_loops(contiguous, rng):
    """conv._patches (ndarray-constructor view, or the sliding-window fallback for non-contiguous buffers)
    against explicit loops over the receptive fields."""
    from tfl_gpu.kernels.conv import _Geometry, _patches
    base = rng.uniform(-1, 1, size=(2, 11, 12, 9)).astype(F32)
    xp = base if contiguous else base[:, :, :, 2:7]
    kh, kw, sh, sw, dh, dw = 3, 2, 2, 3, 2, 1
    g = _Geometry(xp.shape[1], xp.shape[2], kh, kw, sh, sw, dh, dw, "VALID")
    v = _patches(xp, g, kh, kw, sh, sw, dh, dw)
    assert v.shape == (2, g.oh, g.ow, kh, kw, xp.shape[3])
    for n in range(2):
        for a in range(g.oh):
            for b in range(g.ow):
                for i in range(kh):
                    for j in range(kw):
                        np.testing.assert_array_equal(v[n, a, b, i, j], xp[n, a * sh + i * dh, b * sw + j * dw])


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV"])
@pytest.mark.parametrize("sa,sb", [((1, 64, 64, 16), (1, 1, 1, 16)), ((1, 1, 1, 8), (1, 40, 33, 8)),
                                   ((2, 30, 20, 12), (12,)), ((1, 1, 24), (1, 50, 90, 24)),
                                   ((1, 64, 64, 40), (1, 1, 1, 40)), ((1, 80, 80, 1), ()),
                                   ((), (1, 70, 70, 1)), ((1, 80, 80, 1), (1,))])
@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_binary_channel_vector_broadcast(op, sa, sb, act, rng):
    """Per-channel vectors with few channels go through a tiled row (elementwise._row_broadcast)."""
    a = rng.uniform(-3, 3, size=sa).astype(F32)
    b = rng.uniform(0.5, 3, size=sb).astype(F32)
    content = single_op_model(op, [a, b], fused_activation_function=act)
    assert_same_as_litert(content, [a, b])
