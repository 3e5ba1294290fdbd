"""Quantized FULLY_CONNECTED / CONV_2D / DEPTHWISE_CONV_2D: bit-exact with LiteRT (both resolvers)."""
import numpy as np
import pytest

from qhelpers import both_resolvers, qp, rand_q
from tfl_gpu.writer import ModelBuilder

BIAS_TYPE = {"INT8": "INT32", "UINT8": "INT32", "INT16": "INT64"}


def _fc_model(rng, tin, batch_shape, depth, units, per_channel, act, keep_dims, in_q, out_q, with_bias=True):
    mb = ModelBuilder()
    x = mb.input("x", list(batch_shape) + [depth], tin, quant=qp(*in_q))
    wtype = "UINT8" if tin == "UINT8" else "INT8"
    w = rand_q(rng, (units, depth), wtype)
    if wtype == "INT8":
        w[w == -128] = -127
    if per_channel:
        wscale = rng.uniform(0.002, 0.02, units)
        wq = qp(wscale, [0] * units, dim=0)
    else:
        wscale = np.array([0.0123])
        wq = qp(wscale, 131 if wtype == "UINT8" else 0)
    wi = mb.const("w", w, wtype, quant=wq)
    inputs = [x, wi]
    if with_bias:
        bscale = np.float32(in_q[0]) * wscale.astype(np.float32)
        bt = BIAS_TYPE[tin]
        bias = rng.integers(-3000, 3000, units).astype(np.int64 if bt == "INT64" else np.int32)
        inputs.append(mb.const("b", bias, bt, quant=qp(bscale, [0] * len(bscale), dim=0)))
    else:
        inputs.append(-1)
    out_shape = list(batch_shape) + [units] if keep_dims else [int(np.prod(batch_shape)), units]
    y = mb.tensor("y", out_shape, tin, quant=qp(*out_q))
    mb.op("FULLY_CONNECTED", inputs, [y], fused_activation_function=act, keep_num_dims=keep_dims)
    mb.output(y)
    return mb.build(), rand_q(rng, list(batch_shape) + [depth], tin)


@pytest.mark.parametrize("tin,batch,depth,units,per_channel,act,keep", [
    ("INT8", (1,), 64, 10, False, "NONE", False),
    ("INT8", (300,), 40, 31, False, "NONE", False),
    ("INT8", (200,), 40, 31, True, "NONE", False),
    ("UINT8", (200,), 40, 31, False, "NONE", False),
    ("INT8", (3,), 37, 17, True, "RELU", False),
    ("INT8", (2, 5), 129, 33, True, "RELU6", True),
    ("INT8", (4,), 1100, 9, True, "NONE", False),          # float64 GEMM path
    ("INT8", (1,), 16, 16, False, "RELU_N1_TO_1", False),
    ("UINT8", (2,), 50, 12, False, "NONE", False),
    ("UINT8", (3,), 300, 7, False, "RELU", False),
    ("INT16", (2,), 40, 11, True, "NONE", False),
    ("INT16", (3,), 24, 5, False, "RELU6", False),
])
def test_fc(rng, tin, batch, depth, units, per_channel, act, keep):
    zp = {"INT8": (-5, 7), "UINT8": (120, 133), "INT16": (0, 0)}[tin]
    sc = (0.05, 0.11) if tin != "INT16" else (0.0007, 0.002)
    content, x = _fc_model(rng, tin, batch, depth, units, per_channel, act, keep, (sc[0], zp[0]), (sc[1], zp[1]))
    both_resolvers(content, [x])


def test_fc_no_bias(rng):
    content, x = _fc_model(rng, "INT8", (5,), 20, 6, True, "NONE", False, (0.04, 3), (0.2, -2), with_bias=False)
    both_resolvers(content, [x])


def _conv_model(rng, op, tin, in_shape, kh, kw, oc_or_mult, per_channel, stride, dil, padding, act,
                in_q, out_q):
    mb = ModelBuilder()
    n, h, w, c = in_shape
    x = mb.input("x", list(in_shape), tin, quant=qp(*in_q))
    wtype = "UINT8" if tin == "UINT8" else "INT8"
    if op == "CONV_2D":
        oc = oc_or_mult
        wshape, qdim = (oc, kh, kw, c), 0
    else:
        oc = c * oc_or_mult
        wshape, qdim = (1, kh, kw, oc), 3
    wv = rand_q(rng, wshape, wtype)
    if wtype == "INT8":
        wv[wv == -128] = -127
    if per_channel:
        wscale = rng.uniform(0.002, 0.03, oc)
        wq = qp(wscale, [0] * oc, dim=qdim)
    else:
        wscale = np.array([0.0093])
        wq = qp(wscale, 127 if wtype == "UINT8" else 0)
    wi = mb.const("w", wv, wtype, quant=wq)
    bt = BIAS_TYPE[tin]
    bscale = np.float32(in_q[0]) * wscale.astype(np.float32)
    bias = rng.integers(-5000, 5000, oc).astype(np.int64 if bt == "INT64" else np.int32)
    bi = mb.const("b", bias, bt, quant=qp(bscale, [0] * len(bscale), dim=0))
    # output scale from the accumulated range so that outputs are mostly not saturated
    k = kh * kw * (c if op == "CONV_2D" else 1)
    out_scale = float(in_q[0] * np.mean(wscale) * 70 * 70 * np.sqrt(k) / 40)
    y = mb.tensor("y", [], tin, quant=qp(out_scale, out_q[1]))
    opts = dict(padding=padding, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dil[0],
                dilation_w_factor=dil[1], fused_activation_function=act)
    if op == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = oc_or_mult
    mb.op(op, [x, wi, bi], [y], **opts)
    mb.output(y)
    return mb.build(), rand_q(rng, in_shape, tin)


QP = {"INT8": ((0.05, -3), (0.2, 5)), "UINT8": ((0.04, 127), (0.15, 120)), "INT16": ((0.001, 0), (0.004, 0))}

CONV_CASES = [
    ("INT8", (1, 9, 9, 3), 3, 3, 8, True, (1, 1), (1, 1), "SAME", "NONE"),
    ("INT8", (2, 10, 7, 5), 3, 2, 6, True, (2, 2), (1, 1), "VALID", "RELU"),
    ("INT8", (1, 12, 12, 4), 3, 3, 5, True, (1, 2), (2, 2), "SAME", "RELU6"),
    ("INT8", (1, 8, 8, 16), 1, 1, 24, True, (1, 1), (1, 1), "SAME", "NONE"),
    ("INT8", (1, 9, 9, 16), 1, 1, 8, True, (2, 2), (1, 1), "VALID", "RELU6"),
    ("INT8", (1, 7, 7, 130), 3, 3, 4, True, (1, 1), (1, 1), "SAME", "NONE"),   # K > 1023: float64 GEMM
    ("INT8", (1, 6, 6, 4), 3, 3, 4, False, (1, 1), (1, 1), "SAME", "NONE"),
    ("UINT8", (1, 9, 9, 3), 3, 3, 8, False, (1, 1), (1, 1), "SAME", "RELU"),
    ("UINT8", (1, 11, 11, 8), 3, 3, 4, False, (2, 2), (1, 1), "VALID", "NONE"),
    ("INT16", (1, 8, 8, 3), 3, 3, 4, True, (1, 1), (1, 1), "SAME", "NONE"),
    ("INT16", (1, 9, 9, 2), 2, 2, 3, True, (2, 1), (1, 1), "VALID", "RELU6"),
    ("INT8", (1, 24, 24, 8), 3, 3, 16, True, (1, 1), (1, 1), "SAME", "NONE"),
    ("INT8", (1, 20, 20, 24), 1, 1, 13, True, (1, 1), (1, 1), "SAME", "RELU6"),
    ("UINT8", (1, 24, 24, 8), 3, 3, 16, False, (1, 1), (1, 1), "SAME", "NONE"),
]


@pytest.mark.parametrize("tin,shape,kh,kw,oc,pc,stride,dil,padding,act", CONV_CASES)
def test_conv2d(rng, tin, shape, kh, kw, oc, pc, stride, dil, padding, act):
    content, x = _conv_model(rng, "CONV_2D", tin, shape, kh, kw, oc, pc, stride, dil, padding, act, *QP[tin])
    both_resolvers(content, [x])


DW_CASES = [
    ("INT8", (1, 9, 9, 8), 3, 3, 1, True, (1, 1), (1, 1), "SAME", "NONE"),
    ("INT8", (2, 10, 7, 5), 3, 3, 1, True, (2, 2), (1, 1), "SAME", "RELU6"),
    ("INT8", (1, 12, 12, 4), 3, 3, 2, True, (1, 1), (2, 2), "VALID", "RELU"),
    ("INT8", (1, 8, 8, 3), 5, 5, 3, True, (2, 1), (1, 1), "SAME", "NONE"),
    ("INT8", (1, 8, 8, 16), 3, 3, 1, False, (1, 1), (1, 1), "SAME", "NONE"),
    ("UINT8", (1, 9, 9, 8), 3, 3, 1, False, (1, 1), (1, 1), "SAME", "RELU6"),
    ("UINT8", (1, 10, 10, 3), 3, 3, 2, False, (2, 2), (1, 1), "VALID", "NONE"),
    ("INT16", (1, 8, 8, 4), 3, 3, 1, True, (1, 1), (1, 1), "SAME", "NONE"),
    ("INT8", (1, 24, 24, 13), 3, 3, 1, True, (1, 1), (1, 1), "SAME", "NONE"),
    ("INT8", (1, 24, 24, 32), 3, 3, 1, True, (2, 2), (1, 1), "SAME", "RELU6"),
    ("UINT8", (1, 24, 24, 16), 3, 3, 1, False, (1, 1), (1, 1), "SAME", "NONE"),
    ("INT8", (1, 20, 20, 13), 3, 3, 1, True, (1, 1), (1, 1), "SAME", "NONE"),
    ("INT8", (1, 20, 20, 9), 3, 3, 2, True, (2, 2), (1, 1), "VALID", "NONE"),
    ("INT8", (1, 20, 20, 7), 3, 3, 1, True, (1, 1), (1, 1), "SAME", "RELU"),
]


@pytest.mark.parametrize("tin,shape,kh,kw,mult,pc,stride,dil,padding,act", DW_CASES)
def test_depthwise(rng, tin, shape, kh, kw, mult, pc, stride, dil, padding, act):
    content, x = _conv_model(rng, "DEPTHWISE_CONV_2D", tin, shape, kh, kw, mult, pc, stride, dil, padding, act,
                             *QP[tin])
    both_resolvers(content, [x])


@pytest.mark.parametrize("tin,sa,sb,adj_x,adj_y", [
    ("INT8", (2, 7, 9), (2, 9, 5), False, False), ("INT8", (3, 9, 7), (3, 5, 9), True, True),
    ("INT8", (2, 1, 30, 40), (3, 40, 20), False, False), ("INT8", (64, 33), (33, 48), False, False),
    ("INT16", (2, 7, 9), (2, 9, 5), False, False),
])
def test_batch_matmul(rng, tin, sa, sb, adj_x, adj_y):
    zp = (0, 0, 0) if tin == "INT16" else (-3, 5, 2)
    sc = (0.001, 0.002, 0.01) if tin == "INT16" else (0.05, 0.04, 0.3)
    mb = ModelBuilder()
    a = mb.input("a", list(sa), tin, quant=qp(sc[0], zp[0]))
    b = mb.input("b", list(sb), tin, quant=qp(sc[1], zp[1]))
    y = mb.tensor("y", [], tin, quant=qp(sc[2], zp[2]))
    mb.op("BATCH_MATMUL", [a, b], [y], adj_x=adj_x, adj_y=adj_y)
    mb.output(y)
    both_resolvers(mb.build(), [rand_q(rng, sa, tin), rand_q(rng, sb, tin)])


@pytest.mark.parametrize("tin,in_shape,oc,k,stride,padding,out_hw,with_bias", [
    ("INT8", (1, 4, 4, 3), 5, 3, 2, "SAME", (8, 8), True),
    ("INT8", (2, 5, 4, 2), 4, 3, 2, "VALID", (11, 9), True),
    ("INT8", (1, 6, 6, 8), 6, 2, 2, "SAME", (12, 12), False),
    ("INT8", (1, 5, 5, 4), 3, 3, 1, "SAME", (5, 5), True),
    ("INT16", (1, 4, 4, 3), 5, 3, 2, "SAME", (8, 8), True),
])
def test_transpose_conv(rng, tin, in_shape, oc, k, stride, padding, out_hw, with_bias):
    mb = ModelBuilder()
    n, h, w_, c = in_shape
    zp = 0 if tin == "INT16" else -4
    xs = 0.001 if tin == "INT16" else 0.05
    x = mb.input("x", list(in_shape), tin, quant=qp(xs, zp))
    wv = rand_q(rng, (oc, k, k, c), "INT8")
    wv[wv == -128] = -127
    wsc = rng.uniform(0.005, 0.02, oc)
    wi = mb.const("w", wv, "INT8", quant=qp(wsc, [0] * oc, dim=0))
    shape = mb.const("shape", np.array([n, out_hw[0], out_hw[1], oc], np.int32))
    ins = [shape, wi, x]
    if with_bias:
        bt = "INT64" if tin == "INT16" else "INT32"
        bias = rng.integers(-3000, 3000, oc).astype(np.int64 if bt == "INT64" else np.int32)
        ins.append(mb.const("b", bias, bt, quant=qp(xs * wsc, [0] * oc, dim=0)))
    out_scale = float(xs * np.mean(wsc) * 70 * 70 * np.sqrt(k * k * c / stride ** 2) / 40)
    y = mb.tensor("y", [n, out_hw[0], out_hw[1], oc], tin, quant=qp(out_scale, 0 if tin == "INT16" else 3))
    mb.op("TRANSPOSE_CONV", ins, [y], padding=padding, stride_w=stride, stride_h=stride)
    mb.output(y)
    both_resolvers(mb.build(), [rand_q(rng, in_shape, tin)])


@pytest.mark.parametrize("op", ["CONV_2D", "FULLY_CONNECTED"])
def test_int4_weights(rng, op):
    mb = ModelBuilder()
    if op == "CONV_2D":
        x = mb.input("x", [1, 8, 8, 6], "INT8", quant=qp(0.05, -3))
        w = rng.integers(-7, 8, (5, 3, 3, 6)).astype(np.int8)
        xin = rand_q(rng, (1, 8, 8, 6), "INT8")
        version, opts = 7, dict(padding="SAME", stride_w=1, stride_h=1)
    else:
        x = mb.input("x", [3, 20], "INT8", quant=qp(0.05, -3))
        w = rng.integers(-7, 8, (5, 20)).astype(np.int8)
        xin = rand_q(rng, (3, 20), "INT8")
        version, opts = 10, {}
    wi = mb.const("w", w, "INT4", quant=qp(rng.uniform(0.01, 0.1, 5), [0] * 5, dim=0))
    b = mb.const("b", rng.integers(-500, 500, 5).astype(np.int32), "INT32", quant=qp(0.001, 0))
    y = mb.tensor("y", [], "INT8", quant=qp(0.3, 2))
    mb.op(op, [x, wi, b], [y], version=version, **opts)
    mb.output(y)
    both_resolvers(mb.build(), [xin])


@pytest.mark.parametrize("tin_b,tout", [("INT8", "INT32"), ("INT8", "INT16")])
def test_batch_matmul_mixed_types(rng, tin_b, tout):
    mb = ModelBuilder()
    tin_a = "INT8" if tout == "INT32" else "INT16"
    a = mb.input("a", [2, 5, 7], tin_a, quant=qp(0.05 if tin_a == "INT8" else 0.001, -3 if tin_a == "INT8" else 0))
    b = mb.input("b", [2, 7, 4], tin_b, quant=qp(0.04, 0))
    y = mb.tensor("y", [], tout, quant=None if tout == "INT32" else qp(0.01, 0))
    mb.op("BATCH_MATMUL", [a, b], [y])
    mb.output(y)
    both_resolvers(mb.build(), [rand_q(rng, (2, 5, 7), tin_a), rand_q(rng, (2, 7, 4), tin_b)])
