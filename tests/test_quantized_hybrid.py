"""Hybrid (dynamic-range) kernels: float in/out with int8 weights, compared with LiteRT."""
import numpy as np
import pytest

from oracle import assert_same_as_litert
from qhelpers import qp, rand_q
from tfl_gpu.writer import ModelBuilder


def _hybrid_fc(rng, batch, depth, units, per_channel, asym, act="NONE", bias=True):
    mb = ModelBuilder()
    x = mb.input("x", [batch, depth], "FLOAT32")
    w = rand_q(rng, (units, depth), "INT8")
    w[w == -128] = -127
    wq = qp(rng.uniform(0.005, 0.03, units), [0] * units, dim=0) if per_channel else qp(0.017, 0)
    wi = mb.const("w", w, "INT8", quant=wq)
    bi = mb.const("b", rng.normal(0, 1, units).astype(np.float32)) if bias else -1
    y = mb.tensor("y", [batch, units], "FLOAT32")
    mb.op("FULLY_CONNECTED", [x, wi, bi], [y], fused_activation_function=act, asymmetric_quantize_inputs=asym)
    mb.output(y)
    data = rng.normal(0, 2, (batch, depth)).astype(np.float32)
    return mb.build(), [data]


@pytest.mark.parametrize("batch,depth,units,per_channel,asym,act", [
    (1, 64, 10, False, False, "NONE"), (3, 37, 17, False, False, "RELU"), (4, 100, 33, True, False, "NONE"),
    (2, 50, 12, False, True, "NONE"), (5, 70, 9, True, True, "RELU6"), (1, 16, 16, True, False, "NONE"),
])
@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_hybrid_fc(rng, batch, depth, units, per_channel, asym, act, resolver):
    content, inputs = _hybrid_fc(rng, batch, depth, units, per_channel, asym, act)
    assert_same_as_litert(content, inputs, resolver=resolver, exact=True)


def test_hybrid_fc_zero_row(rng):
    content, inputs = _hybrid_fc(rng, 3, 20, 5, False, False)
    inputs[0][1] = 0
    assert_same_as_litert(content, inputs, resolver="BUILTIN", exact=True)


def _hybrid_conv(rng, shape, oc, k, stride, padding, per_channel, act="NONE"):
    mb = ModelBuilder()
    n, h, w_, c = shape
    x = mb.input("x", list(shape), "FLOAT32")
    w = rand_q(rng, (oc, k, k, c), "INT8")
    w[w == -128] = -127
    wq = qp(rng.uniform(0.005, 0.03, oc), [0] * oc, dim=0) if per_channel else qp(0.013, 0)
    wi = mb.const("w", w, "INT8", quant=wq)
    bi = mb.const("b", rng.normal(0, 1, oc).astype(np.float32))
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("CONV_2D", [x, wi, bi], [y], padding=padding, stride_w=stride, stride_h=stride,
          fused_activation_function=act)
    mb.output(y)
    return mb.build(), [rng.normal(0, 2, shape).astype(np.float32)]


@pytest.mark.parametrize("shape,oc,k,stride,padding,per_channel,act", [
    ((1, 8, 8, 3), 4, 3, 1, "SAME", False, "NONE"), ((2, 9, 9, 4), 5, 3, 2, "VALID", False, "RELU"),
    ((1, 8, 8, 3), 4, 3, 1, "SAME", True, "NONE"), ((2, 10, 7, 5), 6, 3, 2, "SAME", True, "RELU6"),
    ((1, 6, 6, 8), 8, 1, 1, "SAME", True, "NONE"),
])
@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_hybrid_conv(rng, shape, oc, k, stride, padding, per_channel, act, resolver):
    content, inputs = _hybrid_conv(rng, shape, oc, k, stride, padding, per_channel, act)
    assert_same_as_litert(content, inputs, resolver=resolver, exact=True)


@pytest.mark.parametrize("shape,k,mult,stride,padding,act", [
    ((1, 8, 8, 4), 3, 1, 1, "SAME", "NONE"), ((2, 9, 9, 3), 3, 2, 2, "VALID", "RELU"),
    ((1, 10, 10, 16), 3, 1, 2, "SAME", "RELU6"), ((1, 7, 7, 5), 5, 1, 1, "SAME", "NONE"),
    ((2, 7, 7, 7), 3, 1, 1, "SAME", "NONE"), ((1, 6, 6, 3), 3, 3, 1, "VALID", "NONE"),
])
@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_hybrid_depthwise(rng, shape, k, mult, stride, padding, act, resolver):
    mb = ModelBuilder()
    c = shape[3]
    oc = c * mult
    x = mb.input("x", list(shape), "FLOAT32")
    w = rand_q(rng, (1, k, k, oc), "INT8")
    w[w == -128] = -127
    wi = mb.const("w", w, "INT8", quant=qp(rng.uniform(0.005, 0.03, oc), [0] * oc, dim=3))
    bi = mb.const("b", rng.normal(0, 1, oc).astype(np.float32))
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("DEPTHWISE_CONV_2D", [x, wi, bi], [y], padding=padding, stride_w=stride, stride_h=stride,
          depth_multiplier=mult, fused_activation_function=act)
    mb.output(y)
    assert_same_as_litert(mb.build(), [rng.normal(0, 2, shape).astype(np.float32)], resolver=resolver, exact=True)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_hybrid_conv_int4_weights(rng, resolver):
    mb = ModelBuilder()
    x = mb.input("x", [1, 8, 8, 3], "FLOAT32")
    w = rng.integers(-7, 8, (4, 3, 3, 3)).astype(np.int8)
    wi = mb.const("w", w, "INT4", quant=qp(rng.uniform(0.01, 0.1, 4), [0] * 4, dim=0))
    bi = mb.const("b", rng.normal(0, 1, 4).astype(np.float32))
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("CONV_2D", [x, wi, bi], [y], padding="SAME", stride_w=1, stride_h=1, version=7)
    mb.output(y)
    assert_same_as_litert(mb.build(), [rng.normal(0, 2, (1, 8, 8, 3)).astype(np.float32)], resolver=resolver,
                          exact=True)


@pytest.mark.parametrize("sx,sw,adj_x,adj_y,per_channel,asym", [
    ((2, 5, 16), (16, 8), False, False, False, False), ((3, 7, 12), (12, 6), False, False, True, False),
    ((4, 9), (9, 5), False, False, False, True), ((2, 12, 5), (6, 12), True, True, False, False),
    ((2, 3, 10), (2, 10, 4), False, False, True, True),
])
@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_hybrid_batch_matmul(rng, sx, sw, adj_x, adj_y, per_channel, asym, resolver):
    mb = ModelBuilder()
    x = mb.input("x", list(sx), "FLOAT32")
    w = rand_q(rng, sw, "INT8")
    w[w == -128] = -127
    n = sw[-2] if adj_y else sw[-1]
    wq = qp(rng.uniform(0.005, 0.03, n), [0] * n, dim=len(sw) - (2 if adj_y else 1)) if per_channel else qp(0.02, 0)
    wi = mb.const("w", w, "INT8", quant=wq)
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("BATCH_MATMUL", [x, wi], [y], adj_x=adj_x, adj_y=adj_y, asymmetric_quantize_inputs=asym)
    mb.output(y)
    assert_same_as_litert(mb.build(), [rng.normal(0, 2, sx).astype(np.float32)], resolver=resolver, exact=True)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
@pytest.mark.parametrize("asym", [False, True])
def test_hybrid_fc_rounding_ties(resolver, asym):
    """Exact halves after scaling: LiteRT's vector loop rounds them to even, its scalar tail away from
    zero (here the range is 127 so the symmetric scale is exactly 1)."""
    row = np.array([127, 2.5, -3.5, 0.5, -0.5, 1.5, 6.5, -7.5,       # vector block
                    2.5, -3.5, 0.5, -0.5, 1.5, 6.5, -7.5, 4.5,       # vector block
                    2.5, -3.5, 0.5, -0.5, 1.5], np.float32)          # scalar tail
    mb = ModelBuilder()
    x = mb.input("x", [1, row.size], "FLOAT32")
    w = np.eye(row.size, dtype=np.int8)
    wi = mb.const("w", w, "INT8", quant=qp(1.0, 0))
    y = mb.tensor("y", [1, row.size], "FLOAT32")
    mb.op("FULLY_CONNECTED", [x, wi, -1], [y], asymmetric_quantize_inputs=asym)
    mb.output(y)
    assert_same_as_litert(mb.build(), [row[None]], resolver=resolver, exact=True)
