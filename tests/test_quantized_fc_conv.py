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
