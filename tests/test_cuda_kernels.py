"""Every CUDA kernel, run on the CPU emulator through the cuda delegate, against LiteRT on odd shapes:
sizes that are not multiples of the tiles, strides, dilations, paddings, broadcasting, batch > 1."""
import numpy as np
import pytest

from cuda_helpers import check_vs_litert, f32, needs_gxx, run_cuda
from oracle import assert_close, run_ours
from tfl_gpu.writer import ModelBuilder, single_op_model

pytestmark = needs_gxx


# ------------------------------------------------------------------------------------------- conv family
CONV = [  # input, out channels, kh, kw, sh, sw, dh, dw
    ((2, 13, 11, 5), 7, 3, 3, 1, 2, 1, 1),
    ((1, 9, 10, 3), 70, 3, 3, 2, 2, 1, 1),       # OC > 64: two column tiles
    ((1, 12, 9, 4), 5, 3, 2, 1, 1, 2, 3),        # dilations
    ((3, 5, 7, 17), 9, 1, 1, 1, 1, 1, 1),        # 1x1 -> SGEMM path, batch 3
    ((1, 7, 6, 6), 3, 1, 1, 2, 2, 1, 1),         # strided 1x1 -> implicit GEMM path
    ((1, 17, 19, 2), 4, 5, 5, 3, 2, 1, 1),
]


@pytest.mark.parametrize("case", CONV)
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_conv2d(rng, case, padding):
    shape, o, kh, kw, sh, sw, dh, dw = case
    x, w, b = f32(rng, shape), f32(rng, (o, kh, kw, shape[3])), f32(rng, (o,))
    act = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"][(sum(shape) + o) % 5]
    m = single_op_model("CONV_2D", [x, w, b], const_inputs=(1, 2), padding=padding, stride_h=sh, stride_w=sw,
                        dilation_h_factor=dh, dilation_w_factor=dw, fused_activation_function=act)
    check_vs_litert(m, [x])


def test_conv2d_weights_from_dequantize(rng):
    """float16 weights feeding DEQUANTIZE (as in the MediaPipe models) are folded at preparation."""
    x = f32(rng, (1, 8, 8, 3))
    w16 = f32(rng, (4, 3, 3, 3)).astype(np.float16)
    mb = ModelBuilder()
    xi = mb.input("x", x.shape, "FLOAT32")
    wq = mb.const("w16", w16)
    wf = mb.tensor("w", [4, 3, 3, 3], "FLOAT32")
    mb.op("DEQUANTIZE", [wq], [wf])
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("CONV_2D", [xi, wf, mb.const("b", f32(rng, (4,)))], [y], padding="SAME", stride_w=1, stride_h=1)
    mb.output(y)
    check_vs_litert(mb.build(), [x])


DW = [  # input, multiplier, kh, kw, sh, sw, dh, dw
    ((2, 11, 9, 5), 1, 3, 3, 1, 1, 1, 1),
    ((1, 10, 13, 3), 2, 3, 3, 2, 2, 1, 1),
    ((1, 9, 9, 4), 1, 5, 5, 1, 2, 2, 2),
    ((1, 7, 8, 33), 1, 3, 3, 2, 1, 1, 1),
]


@pytest.mark.parametrize("case", DW)
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_depthwise(rng, case, padding):
    shape, mult, kh, kw, sh, sw, dh, dw = case
    oc = shape[3] * mult
    x, w, b = f32(rng, shape), f32(rng, (1, kh, kw, oc)), f32(rng, (oc,))
    m = single_op_model("DEPTHWISE_CONV_2D", [x, w, b], const_inputs=(1, 2), padding=padding, stride_h=sh,
                        stride_w=sw, dilation_h_factor=dh, dilation_w_factor=dw, depth_multiplier=mult,
                        fused_activation_function="RELU6")
    check_vs_litert(m, [x])


@pytest.mark.parametrize("padding,stride,out_hw", [("SAME", 2, (10, 14)), ("VALID", 2, (11, 15)),
                                                   ("SAME", 1, (5, 7))])
def test_transpose_conv(rng, padding, stride, out_hw):
    x = f32(rng, (2, 5, 7, 3))
    w = f32(rng, (4, 3, 3, 3))
    b = f32(rng, (4,))
    shape = np.array([2, *out_hw, 4], np.int32)
    m = single_op_model("TRANSPOSE_CONV", [shape, w, x, b], const_inputs=(0, 1, 3), padding=padding,
                        stride_h=stride, stride_w=stride)
    check_vs_litert(m, [x])


@pytest.mark.parametrize("in_shape,units,keep", [((3, 37), 70, False), ((2, 3, 20), 5, True), ((1, 1), 1, False),
                                                 ((65, 9), 66, False)])
def test_fully_connected(rng, in_shape, units, keep):
    x = f32(rng, in_shape)
    w, b = f32(rng, (units, in_shape[-1])), f32(rng, (units,))
    m = single_op_model("FULLY_CONNECTED", [x, w, b], const_inputs=(1, 2), keep_num_dims=keep,
                        fused_activation_function="RELU")
    check_vs_litert(m, [x])


@pytest.mark.parametrize("a_shape,b_shape,adj_x,adj_y", [
    ((2, 5, 7), (2, 7, 66), False, False),
    ((3, 9, 4), (3, 6, 9), True, True),
    ((2, 3, 4, 5), (1, 3, 5, 6), False, False),      # broadcast batch
    ((4, 6), (2, 6, 3), False, False),
])
def test_batch_matmul(rng, a_shape, b_shape, adj_x, adj_y):
    a, b = f32(rng, a_shape), f32(rng, b_shape)
    m = single_op_model("BATCH_MATMUL", [a, b], adj_x=adj_x, adj_y=adj_y)
    check_vs_litert(m, [a, b])


# ------------------------------------------------------------------------------------------- elementwise
SHAPES = [((2, 3, 4, 5), (2, 3, 4, 5)), ((2, 3, 4, 5), (5,)), ((2, 1, 4, 1), (1, 3, 1, 5)),
          ((3, 1, 6), (1,)), ((7,), (2, 3, 7)), ((4, 1), (3,))]


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_binary_broadcast(rng, op, shapes):
    a, b = f32(rng, shapes[0]), f32(rng, shapes[1])
    if op == "DIV":
        b = np.where(np.abs(b) < 0.1, 1.0, b).astype(np.float32)
    opts = {"fused_activation_function": "RELU6"} if op in ("ADD", "MUL") else {}
    if op == "SUB":
        opts = {"fused_activation_function": "RELU_N1_TO_1"}
    m = single_op_model(op, [a, b], **opts)
    check_vs_litert(m, [a, b])


def test_binary_constant_operand_and_pow(rng):
    a = np.abs(f32(rng, (2, 5, 3))) + 0.1
    e = f32(rng, (3,))
    check_vs_litert(single_op_model("POW", [a, e], const_inputs=(1,)), [a])
    check_vs_litert(single_op_model("ADD", [a, e], const_inputs=(1,)), [a])


@pytest.mark.parametrize("alpha_shape", [(1, 1, 6), (6,), (5, 1, 6)])
def test_prelu(rng, alpha_shape):
    x, alpha = f32(rng, (2, 5, 4, 6)), f32(rng, alpha_shape)
    check_vs_litert(single_op_model("PRELU", [x, alpha], const_inputs=(1,)), [x])


UNARY = ["RELU", "RELU6", "RELU_N1_TO_1", "ELU", "HARD_SWISH", "LOGISTIC", "TANH", "EXP", "LOG", "SQRT",
         "RSQRT", "ABS", "NEG", "SQUARE"]


@pytest.mark.parametrize("op", UNARY)
def test_unary(rng, op):
    x = f32(rng, (2, 7, 5, 3), 3.0)
    if op in ("LOG", "SQRT", "RSQRT"):
        x = np.abs(x) + 0.05
    check_vs_litert(single_op_model(op, [x]), [x])


def test_leaky_relu_and_gelu(rng):
    x = f32(rng, (3, 17), 3.0)
    check_vs_litert(single_op_model("LEAKY_RELU", [x], alpha=0.3), [x])
    for approx in (False, True):
        m = single_op_model("GELU", [x], approximate=approx)
        # LiteRT's GELU uses a lookup-free formula: compare to the definition instead
        ours = run_cuda(m, [x])[0]
        if approx:
            ref = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x.astype(np.float64) ** 3)))
        else:
            from math import erf
            ref = 0.5 * x * (1 + np.vectorize(erf)(x.astype(np.float64) / np.sqrt(2)))
        assert_close(ours, ref.astype(np.float32))


# ------------------------------------------------------------------------------------------- pooling / reductions
@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("k,s", [((3, 3), (2, 2)), ((2, 3), (1, 2)), ((5, 4), (3, 3))])
def test_pool(rng, op, padding, k, s):
    x = f32(rng, (2, 11, 13, 5))
    m = single_op_model(op, [x], options_type="Pool2DOptions", padding=padding, filter_height=k[0],
                        filter_width=k[1], stride_h=s[0], stride_w=s[1], fused_activation_function="RELU")
    check_vs_litert(m, [x])


@pytest.mark.parametrize("shape,beta", [((3, 37), 1.0), ((2, 5, 1000), 0.5), ((4, 1), 1.0), ((1, 2016, 2), 2.0)])
def test_softmax(rng, shape, beta):
    x = f32(rng, shape, 4.0)
    check_vs_litert(single_op_model("SOFTMAX", [x], beta=beta), [x])


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_MAX"])
@pytest.mark.parametrize("axes,keep", [([1, 2], True), ([1, 2], False), ([0, 2], False), ([-1], True),
                                       ([3], False), ([0, 1, 2, 3], False)])
def test_reduce(rng, op, axes, keep):
    x = f32(rng, (2, 9, 7, 5))
    m = single_op_model(op, [x, np.array(axes, np.int32)], const_inputs=(1,), keep_dims=keep)
    check_vs_litert(m, [x])


def test_reduce_long_rows(rng):
    x = f32(rng, (3, 5000))
    m = single_op_model("SUM", [x, np.array([1], np.int32)], const_inputs=(1,), keep_dims=False)
    check_vs_litert(m, [x])


# ------------------------------------------------------------------------------------------- data movement
@pytest.mark.parametrize("axis", [0, 1, 3, -1])
def test_concatenation(rng, axis):
    shapes = [[2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5]]
    for s, k in zip(shapes, (1, 3, 2)):
        s[axis] = k
    xs = [f32(rng, s) for s in shapes]
    check_vs_litert(single_op_model("CONCATENATION", xs, axis=axis), xs)


@pytest.mark.parametrize("pads", [[[0, 0], [1, 2], [2, 1], [0, 0]], [[1, 0], [0, 0], [0, 3], [2, 2]]])
def test_pad(rng, pads):
    x = f32(rng, (2, 5, 4, 3))
    p = np.array(pads, np.int32)
    check_vs_litert(single_op_model("PAD", [x, p], const_inputs=(1,)), [x])
    check_vs_litert(single_op_model("PADV2", [x, p, np.array([-2.5], np.float32)], const_inputs=(1, 2)), [x])


@pytest.mark.parametrize("perm", [[0, 3, 1, 2], [2, 0, 3, 1], [0, 1, 3, 2]])
def test_transpose(rng, perm):
    x = f32(rng, (2, 3, 5, 7))
    check_vs_litert(single_op_model("TRANSPOSE", [x, np.array(perm, np.int32)], const_inputs=(1,)), [x])


def test_slice(rng):
    x = f32(rng, (3, 7, 6, 5))
    m = single_op_model("SLICE", [x, np.array([1, 2, 0, 1], np.int32), np.array([2, -1, 4, 3], np.int32)],
                        const_inputs=(1, 2))
    check_vs_litert(m, [x])


@pytest.mark.parametrize("begin,end,strides,bm,em,sm", [
    ([0, 1, 0, 0], [1, 6, 5, 5], [1, 2, 1, 2], 0, 0, 0),
    ([0, -1, 0, 4], [3, 0, 6, 0], [1, -2, 2, -1], 0, 0, 0),
    ([1, 0, 0, 0], [2, 7, 6, 5], [1, 1, 3, 1], 0b0110, 0b1110, 0b0001),
    ([0, 0, 2], [0, 0, 3], [1, 1, 1], 0b011, 0b011, 0b100),
])
def test_strided_slice(rng, begin, end, strides, bm, em, sm):
    x = f32(rng, (3, 7, 6, 5))
    m = single_op_model("STRIDED_SLICE", [x, np.array(begin, np.int32), np.array(end, np.int32),
                                          np.array(strides, np.int32)], const_inputs=(1, 2, 3),
                        begin_mask=bm, end_mask=em, shrink_axis_mask=sm)
    check_vs_litert(m, [x])


@pytest.mark.parametrize("op", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])
@pytest.mark.parametrize("ac,hp", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("size", [(9, 13), (3, 2)])
def test_resize(rng, op, ac, hp, size):
    x = f32(rng, (2, 5, 6, 3))
    m = single_op_model(op, [x, np.array(size, np.int32)], const_inputs=(1,), align_corners=ac,
                        half_pixel_centers=hp)
    check_vs_litert(m, [x])


@pytest.mark.parametrize("op,shape", [("DEPTH_TO_SPACE", (2, 3, 5, 12)), ("SPACE_TO_DEPTH", (2, 6, 4, 3))])
def test_depth_space(rng, op, shape):
    x = f32(rng, shape)
    check_vs_litert(single_op_model(op, [x], block_size=2), [x])


@pytest.mark.parametrize("axis,idx", [(0, [2, 0, 1, 2]), (1, [[3, 0], [1, 1]]), (-1, [4, 0])])
def test_gather(rng, axis, idx):
    x = f32(rng, (3, 4, 5))
    m = single_op_model("GATHER", [x, np.array(idx, np.int32)], const_inputs=(1,), axis=axis)
    check_vs_litert(m, [x])


def test_reshape_squeeze_expand_chain(rng):
    x = f32(rng, (2, 1, 6, 4))
    mb = ModelBuilder()
    xi = mb.input("x", x.shape, "FLOAT32")
    r = mb.tensor("r", [], "FLOAT32")
    mb.op("RESHAPE", [xi, mb.const("s", np.array([2, -1, 3], np.int32))], [r])
    sq = mb.tensor("sq", [], "FLOAT32")
    mb.op("RELU", [r], [sq])
    e = mb.tensor("e", [], "FLOAT32")
    mb.op("EXPAND_DIMS", [sq, mb.const("ax", np.array([1], np.int32))], [e])
    s2 = mb.tensor("s2", [], "FLOAT32")
    mb.op("SQUEEZE", [e], [s2], squeeze_dims=[1])
    mb.output(s2)
    check_vs_litert(mb.build(), [x])


def test_partition_boundaries_and_refusal(rng):
    """A node without a kernel (CUMSUM) splits the graph: two partitions and a CPU node in between."""
    x = f32(rng, (2, 5, 3))
    mb = ModelBuilder()
    xi = mb.input("x", x.shape, "FLOAT32")
    a = mb.tensor("a", [], "FLOAT32")
    mb.op("RELU", [xi], [a])
    c = mb.tensor("c", [], "FLOAT32")
    mb.op("CUMSUM", [a, mb.const("ax", np.array(1, np.int32))], [c])
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("ADD", [c, a], [y], fused_activation_function="NONE")
    mb.output(y)
    m = mb.build()
    ref = run_ours(m, [x])
    ours = run_cuda(m, [x], expect_all=False)
    assert_close(ours[0], ref[0])
    import tfl_gpu
    from cuda_helpers import emu_delegate
    it = tfl_gpu.Interpreter(model_content=m, experimental_delegates=[emu_delegate()])
    it.allocate_tensors()
    rep = it.get_delegation_report()
    assert [r["executor"] for r in rep] == ["cuda", "cpu", "cuda"]
    assert "CUMSUM" in rep[1]["refusals"]["cuda"]


@pytest.mark.parametrize("padding,stride", [(1, 2), (2, 2), (1, 3), (2, 1)])
def test_mediapipe_convolution2d_transpose_bias(rng, padding, stride):
    """MediaPipe's custom transposed convolution (selfie segmentation) against the CPU kernel."""
    import struct
    x = f32(rng, (2, 5, 6, 3))
    w, b = f32(rng, (4, 3, 3, 3)), f32(rng, (4,))
    m = single_op_model("CUSTOM", [x, w, b], const_inputs=(1, 2), custom_code="Convolution2DTransposeBias",
                        custom_options=struct.pack("<3i", padding, stride, stride))
    ref = run_ours(m, [x])[0]
    # independent check of the CPU kernel's formula: the full transposed convolution, cropped
    n, h, wd, c = x.shape
    full = np.zeros((n, stride * (h - 1) + 3, stride * (wd - 1) + 3, 4), np.float64)
    for i in range(h):
        for j in range(wd):
            full[:, i * stride:i * stride + 3, j * stride:j * stride + 3, :] += np.einsum(
                "nc,okwc->nkwo", x[:, i, j, :], w)
    p = max(0, 3 - (h - 1) % stride - 1) if padding == 1 else 0
    q = max(0, 3 - (wd - 1) % stride - 1) if padding == 1 else 0
    expect = full[:, p // 2:p // 2 + full.shape[1] - p, q // 2:q // 2 + full.shape[2] - q, :] + b
    assert_close(ref, expect.astype(np.float32))
    assert_close(run_cuda(m, [x])[0], ref)


@pytest.mark.parametrize("shape", [(3, 37), (2, 4, 1000)])
def test_log_softmax(rng, shape):
    x = f32(rng, shape, 4.0)
    check_vs_litert(single_op_model("LOG_SOFTMAX", [x]), [x])


def test_split_and_split_v(rng):
    x = f32(rng, (2, 6, 5))
    m = single_op_model("SPLIT", [np.array(1, np.int32), x], output_types=("FLOAT32",) * 3, const_inputs=(0,),
                        num_splits=3)
    check_vs_litert(m, [x])
    m = single_op_model("SPLIT_V", [x, np.array([2, -1, 1], np.int32), np.array(-1, np.int32)],
                        output_types=("FLOAT32",) * 3, const_inputs=(1, 2), num_splits=3)
    check_vs_litert(m, [x])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_pack_unpack(rng, axis):
    xs = [f32(rng, (3, 4)) for _ in range(3)]
    check_vs_litert(single_op_model("PACK", xs, values_count=3, axis=axis), xs)
    x = f32(rng, (3, 4, 2))
    n = x.shape[axis]
    check_vs_litert(single_op_model("UNPACK", [x], output_types=("FLOAT32",) * n, num=n, axis=axis), [x])


def test_tile_and_broadcast_to(rng):
    x = f32(rng, (2, 1, 3))
    check_vs_litert(single_op_model("TILE", [x, np.array([2, 3, 1], np.int32)], const_inputs=(1,)), [x])
    mb = ModelBuilder()
    xi = mb.input("x", x.shape, "FLOAT32")
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("BROADCAST_TO", [xi, mb.const("s", np.array([4, 2, 5, 3], np.int32))], [y], version=2)
    mb.output(y)
    check_vs_litert(mb.build(), [x])


def test_ops_validate_runtime_shapes_instead_of_reading_out_of_bounds(rng):
    """Mismatched operands are a clear ValueError before any kernel runs (no out-of-bounds access)."""
    from types import SimpleNamespace
    from tfl_gpu.delegates.cuda import ops
    from tfl_gpu.delegates.cuda.backend import EmulatorBackend
    be = EmulatorBackend()
    spec = SimpleNamespace(constant=None, index=0, type_name="FLOAT32")
    node = SimpleNamespace(op="CONV_2D", options={"padding": "SAME"}, inputs=[spec, spec, spec], outputs=[spec])
    conv = ops.Conv2D(node, {}, be)
    x, w = be.to_device(f32(rng, (1, 5, 5, 3))), be.to_device(f32(rng, (4, 3, 3, 2)))
    with pytest.raises(ValueError, match="channels"):
        conv([x, w, be.to_device(f32(rng, (4,)))])
    with pytest.raises(ValueError, match="bias"):
        conv([x, be.to_device(f32(rng, (4, 3, 3, 3))), be.to_device(f32(rng, (7,)))])
    node = SimpleNamespace(op="FULLY_CONNECTED", options={}, inputs=[spec, spec, spec], outputs=[spec])
    fc = ops.FullyConnected(node, {}, be)
    with pytest.raises(ValueError, match="multiple"):
        fc([be.to_device(f32(rng, (2, 5))), be.to_device(f32(rng, (3, 4))), None])
    node = SimpleNamespace(op="CONCATENATION", options={"axis": 1}, inputs=[spec, spec], outputs=[spec])
    cat = ops.Concatenation(node, {}, be)
    with pytest.raises(ValueError, match="differ"):
        cat([be.to_device(f32(rng, (2, 3))), be.to_device(f32(rng, (3, 3)))])
