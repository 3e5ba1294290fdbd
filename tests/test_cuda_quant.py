"""int8 CUDA kernels (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D) on the emulator:
bit-exact with LiteRT's default (BUILTIN) kernels, which the CPU path also matches."""
import numpy as np
import pytest

from cuda_helpers import needs_gxx, run_cuda
from oracle import run_litert, run_ours
from qhelpers import qp, rand_q
from tfl_gpu.writer import ModelBuilder

pytestmark = needs_gxx


def _exact(content, inputs):
    ref = run_litert(content, inputs)
    cpu = run_ours(content, inputs)
    ours = run_cuda(content, inputs)
    for o, r, c in zip(ours, ref, cpu):
        assert o.dtype == r.dtype and o.shape == r.shape
        diff = np.abs(o.astype(np.int64) - r)
        assert diff.max() == 0, f"{int((diff > 0).sum())} of {diff.size} values differ from LiteRT (max {diff.max()})"
        np.testing.assert_array_equal(o, c)


def _conv(rng, op, in_shape, kh, kw, oc_or_mult, per_channel, stride, dil, padding, act, in_q=(0.05, -3),
          out_zp=5):
    mb = ModelBuilder()
    n, h, w, c = in_shape
    x = mb.input("x", list(in_shape), "INT8", quant=qp(*in_q))
    if op == "CONV_2D":
        oc = oc_or_mult
        wshape, qdim = (oc, kh, kw, c), 0
    else:
        oc = c * oc_or_mult
        wshape, qdim = (1, kh, kw, oc), 3
    wv = rand_q(rng, wshape, "INT8")
    wv[wv == -128] = -127
    wscale = rng.uniform(0.002, 0.03, oc) if per_channel else np.array([0.0093])
    wq = qp(wscale, [0] * oc, dim=qdim) if per_channel else qp(wscale, 0)
    wi = mb.const("w", wv, "INT8", quant=wq)
    bscale = np.float32(in_q[0]) * wscale.astype(np.float32)
    bias = rng.integers(-5000, 5000, oc).astype(np.int32)
    bi = mb.const("b", bias, "INT32", quant=qp(bscale, [0] * len(bscale), dim=0))
    k = kh * kw * (c if op == "CONV_2D" else 1)
    out_scale = float(in_q[0] * np.mean(wscale) * 70 * 70 * np.sqrt(k) / 40)
    y = mb.tensor("y", [], "INT8", quant=qp(out_scale, out_zp))
    opts = dict(padding=padding, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dil[0],
                dilation_w_factor=dil[1], fused_activation_function=act)
    if op == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = oc_or_mult
    mb.op(op, [x, wi, bi], [y], **opts)
    mb.output(y)
    return mb.build(), rand_q(rng, in_shape, "INT8")


@pytest.mark.parametrize("in_shape,oc,k,stride,dil,padding,per_channel,act", [
    ((1, 9, 11, 5), 7, (3, 3), (1, 1), (1, 1), "SAME", True, "NONE"),
    ((2, 10, 9, 3), 70, (3, 3), (2, 2), (1, 1), "VALID", True, "RELU6"),
    ((1, 8, 8, 16), 24, (1, 1), (1, 1), (1, 1), "SAME", True, "RELU"),
    ((1, 12, 9, 4), 6, (3, 2), (1, 2), (2, 1), "SAME", False, "NONE"),
    ((1, 7, 7, 33), 9, (5, 5), (2, 1), (1, 1), "SAME", True, "RELU_N1_TO_1"),
])
def test_int8_conv2d(rng, in_shape, oc, k, stride, dil, padding, per_channel, act):
    content, x = _conv(rng, "CONV_2D", in_shape, k[0], k[1], oc, per_channel, stride, dil, padding, act)
    _exact(content, [x])


@pytest.mark.parametrize("in_shape,mult,k,stride,dil,padding,per_channel,act", [
    ((1, 9, 11, 13), 1, (3, 3), (1, 1), (1, 1), "SAME", True, "RELU6"),       # 13 channels: 8 + scalar tail
    ((2, 10, 9, 16), 1, (3, 3), (2, 2), (1, 1), "VALID", True, "NONE"),
    ((1, 8, 8, 3), 2, (5, 5), (1, 2), (2, 2), "SAME", True, "RELU"),
    ((1, 7, 6, 24), 1, (3, 3), (1, 1), (1, 1), "SAME", False, "NONE"),
])
def test_int8_depthwise(rng, in_shape, mult, k, stride, dil, padding, per_channel, act):
    content, x = _conv(rng, "DEPTHWISE_CONV_2D", in_shape, k[0], k[1], mult, per_channel, stride, dil, padding,
                       act)
    _exact(content, [x])


@pytest.mark.parametrize("batch,depth,units,per_channel,act,keep", [
    ((1,), 64, 10, False, "NONE", False),
    ((70,), 40, 31, True, "RELU", False),
    ((2, 5), 129, 66, True, "RELU6", True),
])
def test_int8_fully_connected(rng, batch, depth, units, per_channel, act, keep):
    mb = ModelBuilder()
    in_q, out_q = (0.05, -5), (0.11, 7)
    x = mb.input("x", list(batch) + [depth], "INT8", quant=qp(*in_q))
    w = rand_q(rng, (units, depth), "INT8")
    w[w == -128] = -127
    wscale = rng.uniform(0.002, 0.02, units) if per_channel else np.array([0.0123])
    wq = qp(wscale, [0] * units, dim=0) if per_channel else qp(wscale, 0)
    wi = mb.const("w", w, "INT8", quant=wq)
    bscale = np.float32(in_q[0]) * wscale.astype(np.float32)
    bias = rng.integers(-3000, 3000, units).astype(np.int32)
    bi = mb.const("b", bias, "INT32", quant=qp(bscale, [0] * len(bscale), dim=0))
    out_shape = list(batch) + [units] if keep else [int(np.prod(batch)), units]
    y = mb.tensor("y", out_shape, "INT8", quant=qp(*out_q))
    mb.op("FULLY_CONNECTED", [x, wi, bi], [y], fused_activation_function=act, keep_num_dims=keep)
    mb.output(y)
    _exact(mb.build(), [rand_q(rng, list(batch) + [depth], "INT8")])


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("pool", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
def test_int8_pool_and_reshape(rng, padding, pool):
    mb = ModelBuilder()
    q = qp(0.07, -4)
    x = mb.input("x", [2, 9, 11, 5], "INT8", quant=q)
    p = mb.tensor("p", [], "INT8", quant=q)
    mb.op(pool, [x], [p], options_type="Pool2DOptions", padding=padding, filter_height=3,
          filter_width=2, stride_h=2, stride_w=2, fused_activation_function="RELU")
    r = mb.tensor("r", [], "INT8", quant=q)
    mb.op("RESHAPE", [p, mb.const("s", np.array([2, -1], np.int32))], [r])
    mb.output(r)
    _exact(mb.build(), [rand_q(rng, (2, 9, 11, 5), "INT8")])


def test_int8_chain_stays_on_the_device(rng):
    """conv -> depthwise -> max pool -> FC, all int8, as one partition."""
    import tfl_gpu
    from cuda_helpers import emu_delegate
    mb = ModelBuilder()
    qa = qp(0.05, -3)
    x = mb.input("x", [1, 8, 8, 4], "INT8", quant=qa)

    def wconst(name, shape, dim, n):
        w = rand_q(rng, shape, "INT8")
        w[w == -128] = -127
        s = rng.uniform(0.005, 0.02, n)
        return mb.const(name, w, "INT8", quant=qp(s, [0] * n, dim=dim)), s

    w1, s1 = wconst("w1", (8, 3, 3, 4), 0, 8)
    b1 = mb.const("b1", rng.integers(-500, 500, 8).astype(np.int32), "INT32",
                  quant=qp(np.float32(0.05) * s1.astype(np.float32), [0] * 8, dim=0))
    c1 = mb.tensor("c1", [], "INT8", quant=qp(0.08, 2))
    mb.op("CONV_2D", [x, w1, b1], [c1], padding="SAME", stride_h=1, stride_w=1, fused_activation_function="RELU")
    w2, s2 = wconst("w2", (1, 3, 3, 8), 3, 8)
    b2 = mb.const("b2", rng.integers(-500, 500, 8).astype(np.int32), "INT32",
                  quant=qp(np.float32(0.08) * s2.astype(np.float32), [0] * 8, dim=0))
    c2 = mb.tensor("c2", [], "INT8", quant=qp(0.06, -1))
    mb.op("DEPTHWISE_CONV_2D", [c1, w2, b2], [c2], padding="SAME", stride_h=2, stride_w=2, depth_multiplier=1,
          fused_activation_function="RELU6")
    p = mb.tensor("p", [], "INT8", quant=qp(0.06, -1))
    mb.op("MAX_POOL_2D", [c2], [p], options_type="Pool2DOptions", padding="VALID", filter_height=2,
          filter_width=2, stride_h=2, stride_w=2, fused_activation_function="NONE")
    w3, s3 = wconst("w3", (5, 32), 0, 5)
    b3 = mb.const("b3", rng.integers(-500, 500, 5).astype(np.int32), "INT32",
                  quant=qp(np.float32(0.06) * s3.astype(np.float32), [0] * 5, dim=0))
    y = mb.tensor("y", [], "INT8", quant=qp(0.1, 3))
    mb.op("FULLY_CONNECTED", [p, w3, b3], [y], fused_activation_function="NONE")
    mb.output(y)
    content = mb.build()
    xin = rand_q(rng, (1, 8, 8, 4), "INT8")
    _exact(content, [xin])
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=[emu_delegate()])
    it.allocate_tensors()
    assert {r["partition"] for r in it.get_delegation_report()} == {0}


@pytest.mark.parametrize("op", ["PAD", "PADV2"])
def test_int8_pad(rng, op):
    mb = ModelBuilder()
    q = qp(0.07, -4)
    x = mb.input("x", [2, 5, 4, 3], "INT8", quant=q)
    ins = [x, mb.const("p", np.array([[0, 1], [2, 1], [1, 0], [0, 2]], np.int32))]
    if op == "PADV2":
        ins.append(mb.const("v", np.array([17], np.int8), "INT8", quant=q))
    y = mb.tensor("y", [], "INT8", quant=q)
    mb.op(op, ins, [y])
    mb.output(y)
    _exact(mb.build(), [rand_q(rng, (2, 5, 4, 3), "INT8")])


@pytest.mark.parametrize("shape,act", [((2, 9, 7, 5), "NONE"), ((1, 33), "RELU6"), ((3, 16), "RELU"), ((5,), "NONE")])
@pytest.mark.parametrize("scales", [((0.05, -3), (0.07, 4), (0.09, -1)), ((0.1, 0), (0.1, 0), (0.3, 10))])
def test_int8_add(rng, shape, act, scales):
    """Sizes with and without a tail past the last 16-element block (LiteRT's vector loop vs scalar path)."""
    mb = ModelBuilder()
    a = mb.input("a", list(shape), "INT8", quant=qp(*scales[0]))
    b = mb.input("b", list(shape), "INT8", quant=qp(*scales[1]))
    y = mb.tensor("y", [], "INT8", quant=qp(*scales[2]))
    mb.op("ADD", [a, b], [y], fused_activation_function=act)
    mb.output(y)
    _exact(mb.build(), [rand_q(rng, shape, "INT8"), rand_q(rng, shape, "INT8")])


@pytest.mark.skipif(not __import__("oracle").SHARED_MODELS.is_dir(), reason="../shared/models is not present")
def test_int8_mobilenet_v2_bit_exact(rng):
    """The int8 MobileNetV2 entirely on the device, bit-exact with the CPU path."""
    import tfl_gpu
    from cuda_helpers import emu_delegate
    from oracle import SHARED_MODELS
    content = (SHARED_MODELS / "bench" / "mobilenet_v2_1.0_224_int8.tflite").read_bytes()
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=[emu_delegate()])
    it.allocate_tensors()
    rep = it.get_delegation_report()
    assert all(r["executor"] == "cuda" for r in rep), [(r["op"], r["refusals"]) for r in rep]
    det = it.get_input_details()[0]
    x = rand_q(rng, tuple(det["shape"]), "INT8")
    it.set_tensor(det["index"], x)
    it.invoke()
    out = it.get_tensor(it.get_output_details()[0]["index"])
    np.testing.assert_array_equal(out, run_ours(content, [x])[0])


@pytest.mark.parametrize("shape,axes,keep", [((2, 7, 5, 20), [1, 2], True), ((2, 7, 5, 20), [1, 2], False),
                                             ((3, 40), [1], False), ((2, 3, 9), [0, 1], True)])
def test_int8_mean(rng, shape, axes, keep):
    mb = ModelBuilder()
    x = mb.input("x", list(shape), "INT8", quant=qp(0.05, -3))
    y = mb.tensor("y", [], "INT8", quant=qp(0.04, 2))
    mb.op("MEAN", [x, mb.const("ax", np.array(axes, np.int32))], [y], keep_dims=keep)
    mb.output(y)
    _exact(mb.build(), [rand_q(rng, shape, "INT8")])


@pytest.mark.parametrize("shape,beta,in_scale", [((2, 1000), 1.0, 0.1), ((3, 17), 0.7, 0.05), ((4, 1), 1.0, 0.2)])
def test_int8_softmax(rng, shape, beta, in_scale):
    mb = ModelBuilder()
    x = mb.input("x", list(shape), "INT8", quant=qp(in_scale, 3))
    y = mb.tensor("y", [], "INT8", quant=qp(1 / 256, -128))
    mb.op("SOFTMAX", [x], [y], beta=beta)
    mb.output(y)
    _exact(mb.build(), [rand_q(rng, shape, "INT8")])


def test_int8_nodes_stay_on_cpu_under_builtin_ref(rng):
    """With LiteRT's reference kernels selected the CPU path rounds differently: the delegate refuses."""
    import tfl_gpu
    from cuda_helpers import emu_delegate
    content, x = _conv(rng, "CONV_2D", (1, 6, 6, 3), 3, 3, 4, True, (1, 1), (1, 1), "SAME", "NONE")
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=[emu_delegate()],
                             experimental_op_resolver_type=tfl_gpu.OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    rep = it.get_delegation_report()
    assert rep[0]["executor"] == "cpu" and "BUILTIN_REF" in rep[0]["refusals"]["cuda"]


@pytest.mark.parametrize("op,opts", [("LOGISTIC", {}), ("TANH", {}), ("HARD_SWISH", {}), ("LEAKY_RELU", {"alpha": 0.2}),
                                     ("RELU6", {}), ("ELU", {}), ("ABS", {})])
def test_int8_pointwise_tables(rng, op, opts):
    mb = ModelBuilder()
    x = mb.input("x", [2, 7, 9], "INT8", quant=qp(0.06, -7))
    oq = {"LOGISTIC": qp(1 / 256, -128), "TANH": qp(1 / 128, 0)}.get(op, qp(0.05, 3))
    y = mb.tensor("y", [], "INT8", quant=oq)
    mb.op(op, [x], [y], **opts)
    mb.output(y)
    _exact(mb.build(), [rand_q(rng, (2, 7, 9), "INT8")])


def test_int8_dequantize_of_activations(rng):
    mb = ModelBuilder()
    x = mb.input("x", [3, 11], "INT8", quant=qp(0.06, -7))
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("DEQUANTIZE", [x], [y])
    mb.output(y)
    content = mb.build()
    xin = rand_q(rng, (3, 11), "INT8")
    ours = run_cuda(content, [xin])[0]
    np.testing.assert_array_equal(ours, run_litert(content, [xin])[0])
    np.testing.assert_array_equal(ours, run_ours(content, [xin])[0])


def test_int8_data_movement(rng):
    """int8 TRANSPOSE, STRIDED_SLICE, CONCATENATION (with an int8 constant), DEPTH_TO_SPACE, SPLIT, PACK and
    TILE on the device, bit-exact (pure copies)."""
    q = qp(0.05, -2)
    mb = ModelBuilder()
    x = mb.input("x", [2, 4, 6, 8], "INT8", quant=q)
    t = mb.tensor("t", [], "INT8", quant=q)
    mb.op("TRANSPOSE", [x, mb.const("perm", np.array([0, 2, 1, 3], np.int32))], [t])
    s_ = mb.tensor("s", [], "INT8", quant=q)
    mb.op("STRIDED_SLICE", [t, mb.const("b", np.array([0, 1, 0, 0], np.int32)), mb.const("e", np.array([2, 6, 4, 8], np.int32)),
                            mb.const("st", np.array([1, 2, 1, 1], np.int32))], [s_])
    c = mb.tensor("c", [], "INT8", quant=q)
    k = mb.const("k", rand_q(rng, (2, 3, 4, 4), "INT8"), "INT8", quant=q)
    mb.op("CONCATENATION", [s_, k], [c], axis=3)
    d = mb.tensor("d", [], "INT8", quant=q)
    mb.op("DEPTH_TO_SPACE", [c], [d], block_size=2)
    parts = [mb.tensor(f"p{i}", [], "INT8", quant=q) for i in range(2)]
    mb.op("SPLIT", [mb.const("ax", np.array(2, np.int32)), d], parts, num_splits=2)
    pk = mb.tensor("pk", [], "INT8", quant=q)
    mb.op("PACK", parts, [pk], values_count=2, axis=0)
    tl = mb.tensor("tl", [], "INT8", quant=q)
    mb.op("TILE", [pk, mb.const("m", np.array([1, 1, 2, 1, 1], np.int32))], [tl])
    mb.output(tl)
    content = mb.build()
    _exact(content, [rand_q(rng, (2, 4, 6, 8), "INT8")])
    import tfl_gpu
    from cuda_helpers import emu_delegate
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=[emu_delegate()])
    it.allocate_tensors()
    assert all(r["executor"] == "cuda" for r in it.get_delegation_report())


@pytest.mark.parametrize("n", [13, 16, 1000])
def test_float_to_int8_quantize_and_back(rng, n):
    """float input -> QUANTIZE -> int8 conv-free chain -> DEQUANTIZE: a float-I/O quantized graph on the
    device; values on rounding ties included (x = (k + 0.5) * scale)."""
    scale = 0.25
    mb = ModelBuilder()
    x = mb.input("x", [n], "FLOAT32")
    q = mb.tensor("q", [], "INT8", quant=qp(scale, 3))
    mb.op("QUANTIZE", [x], [q])
    r = mb.tensor("r", [], "INT8", quant=qp(1 / 256, -128))
    mb.op("LOGISTIC", [q], [r])
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("DEQUANTIZE", [r], [y])
    mb.output(y, q)
    xin = ((rng.integers(-70, 70, n) + 0.5) * scale).astype(np.float32)
    xin[:3] = [np.nan, np.inf, -1e9]
    content = mb.build()
    ours = run_cuda(content, [xin])
    ref = run_litert(content, [xin])
    cpu = run_ours(content, [xin])
    for o, r_, c in zip(ours, ref, cpu):
        np.testing.assert_array_equal(o, c)
        np.testing.assert_array_equal(o, r_)


@pytest.mark.parametrize("sa,sb", [((2, 9, 7, 5), (2, 9, 7, 5)), ((2, 9, 7, 5), (5,)), ((2, 1, 7, 1), (1, 3, 1, 4)),
                                   ((4, 6), (1,))])
def test_int8_mul_broadcast(rng, sa, sb):
    mb = ModelBuilder()
    a = mb.input("a", list(sa), "INT8", quant=qp(0.05, -3))
    b = mb.input("b", list(sb), "INT8", quant=qp(0.07, 4))
    y = mb.tensor("y", [], "INT8", quant=qp(0.02, -1))
    mb.op("MUL", [a, b], [y], fused_activation_function="RELU6")
    mb.output(y)
    _exact(mb.build(), [rand_q(rng, sa, "INT8"), rand_q(rng, sb, "INT8")])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_int8_gather(rng, axis):
    q = qp(0.05, -2)
    mb = ModelBuilder()
    x = mb.input("x", [3, 4, 5], "INT8", quant=q)
    y = mb.tensor("y", [], "INT8", quant=q)
    mb.op("GATHER", [x, mb.const("i", np.array([[2, 0], [1, 2]], np.int32))], [y], axis=axis)
    mb.output(y)
    _exact(mb.build(), [rand_q(rng, (3, 4, 5), "INT8")])


@pytest.mark.parametrize("alpha_shape", [(1, 1, 6), (6,), (5, 1, 6)])
def test_int8_prelu(rng, alpha_shape):
    mb = ModelBuilder()
    x = mb.input("x", [2, 5, 4, 6], "INT8", quant=qp(0.05, -3))
    a = mb.const("a", rand_q(rng, alpha_shape, "INT8"), "INT8", quant=qp(0.01, 2))
    y = mb.tensor("y", [], "INT8", quant=qp(0.04, 1))
    mb.op("PRELU", [x, a], [y])
    mb.output(y)
    _exact(mb.build(), [rand_q(rng, (2, 5, 4, 6), "INT8")])
