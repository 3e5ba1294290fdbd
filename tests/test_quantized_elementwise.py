"""Quantized ADD / SUB / MUL: bit-exact with LiteRT (both resolvers)."""
import numpy as np
import pytest

from qhelpers import both_resolvers, qp, rand_q
from tfl_gpu.writer import ModelBuilder


def _binary(rng, op, tin, sa, sb, q_a, q_b, q_o, act="NONE"):
    mb = ModelBuilder()
    a = mb.input("a", list(sa), tin, quant=qp(*q_a))
    b = mb.input("b", list(sb), tin, quant=qp(*q_b))
    y = mb.tensor("y", [], tin, quant=qp(*q_o))
    opts = {} if act is None else dict(fused_activation_function=act)
    mb.op(op, [a, b], [y], **opts)
    mb.output(y)
    return mb.build(), [rand_q(rng, sa, tin), rand_q(rng, sb, tin)]


CASES = [
    ("INT8", (1, 8, 8, 16), (1, 8, 8, 16), (0.05, -3), (0.07, 4), (0.1, -1), "NONE"),
    ("INT8", (2, 5, 7), (2, 5, 7), (0.031, 10), (0.031, 10), (0.05, 0), "RELU"),
    ("INT8", (2, 5, 7), (7,), (0.02, 0), (0.09, -20), (0.08, 3), "RELU6"),
    ("INT8", (3, 1, 6), (1, 4, 1), (0.11, 5), (0.013, -9), (0.1, -7), "NONE"),
    ("INT8", (1, 10, 10, 33), (1, 10, 10, 33), (0.2, -128), (0.01, 127), (0.15, 0), "NONE"),
    ("INT8", (1, 4103), (1, 4103), (0.05, -3), (0.07, 4), (0.1, -1), "NONE"),
    ("INT8", (8, 8, 20), (8, 1, 20), (0.05, -3), (0.07, 4), (0.1, -1), "RELU"),
    ("INT8", (4, 20, 20), (4, 1, 1), (0.05, -3), (0.07, 4), (0.1, -1), "NONE"),
    ("INT8", (3, 40, 1), (1, 1, 24), (0.05, -3), (0.07, 4), (0.1, -1), "NONE"),
    ("INT8", (5, 3, 1, 7), (5, 1, 6, 7), (0.05, -3), (0.07, 4), (0.1, -1), "NONE"),
    ("INT8", (1,), (3, 37), (0.05, -3), (0.07, 4), (0.1, -1), "NONE"),
    ("UINT8", (1, 6, 6, 9), (1, 6, 6, 9), (0.05, 128), (0.04, 120), (0.08, 125), "NONE"),
    ("UINT8", (4, 9), (9,), (0.02, 3), (0.03, 250), (0.05, 100), "RELU6"),
    ("UINT8", (2, 1030), (2, 1030), (0.05, 128), (0.04, 120), (0.08, 125), "NONE"),
    ("UINT8", (6, 20, 20), (6, 1, 1), (0.05, 128), (0.04, 120), (0.08, 125), "NONE"),
    ("UINT8", (6, 20, 20), (1, 1, 20), (0.05, 128), (0.04, 120), (0.08, 125), "NONE"),
    ("INT16", (2, 30), (2, 30), (0.0011, 0), (0.0007, 0), (0.0019, 0), "NONE"),
    ("INT16", (2, 3, 30), (30,), (0.0011, 0), (0.0003, 0), (0.0009, 0), "RELU"),
    ("INT16", (2, 1030), (2, 1030), (0.0011, 0), (0.0007, 0), (0.0019, 0), "NONE"),
    ("INT16", (6, 20, 20), (6, 1, 1), (0.0011, 0), (0.0007, 0), (0.0019, 0), "NONE"),
]


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("tin,sa,sb,q_a,q_b,q_o,act", CASES)
def test_binary(rng, op, tin, sa, sb, q_a, q_b, q_o, act):
    if op == "MUL":
        q_o = (q_o[0] * 10, q_o[1])
    content, inputs = _binary(rng, op, tin, sa, sb, q_a, q_b, q_o, act)
    both_resolvers(content, inputs)


@pytest.mark.parametrize("tin,sa,sb,q_a,q_b,q_o", [
    ("INT8", (2, 5, 7), (2, 5, 7), (0.05, -3), (0.07, 4), (0.2, -100)),
    ("INT8", (3, 1, 6), (1, 4, 1), (0.11, 5), (0.013, -9), (0.5, -128)),
    ("INT8", (4, 1030), (4, 1030), (0.02, 3), (0.03, -20), (0.1, -128)),
])
def test_squared_difference(rng, tin, sa, sb, q_a, q_b, q_o):
    content, inputs = _binary(rng, "SQUARED_DIFFERENCE", tin, sa, sb, q_a, q_b, q_o, act=None)
    both_resolvers(content, inputs)


@pytest.mark.parametrize("tin,q_in,q_out", [("INT8", (0.05, -3), (0.05, -3)), ("INT8", (0.05, -3), (0.03, -128)),
                                            ("INT16", (0.001, 0), (0.0007, 0))])
def test_abs(rng, tin, q_in, q_out):
    mb = ModelBuilder()
    x = mb.input("x", [3, 50], tin, quant=qp(*q_in))
    y = mb.tensor("y", [], tin, quant=qp(*q_out))
    mb.op("ABS", [x], [y])
    mb.output(y)
    both_resolvers(mb.build(), [rand_q(rng, (3, 50), tin)])


@pytest.mark.parametrize("op", ["ADD", "SUB"])
@pytest.mark.parametrize("q_a,q_b,q_o", [((2 ** -12, 0), (2 ** -10, 0), (2 ** -10, 0)),
                                         ((2 ** -10, 0), (2 ** -13, 0), (2 ** -10, 0)),
                                         ((2 ** -11, 0), (2 ** -11, 0), (2 ** -11, 0))])
def test_int16_pot_scales(rng, op, q_a, q_b, q_o):
    content, inputs = _binary(rng, op, "INT16", (2, 300), (2, 300), q_a, q_b, q_o)
    both_resolvers(content, inputs)


@pytest.mark.parametrize("sa,sb,q_a,q_b,q_o", [
    ((3, 40), (3, 40), (0.05, 120), (0.04, 100), (0.1, 10)),
    ((2, 5, 7), (7,), (0.02, 3), (0.03, 128), (0.05, 100)),
    ((4, 300), (4, 300), (0.1, 128), (0.1, 128), (0.2, 128)),
])
def test_div_uint8(rng, sa, sb, q_a, q_b, q_o):
    content, inputs = _binary(rng, "DIV", "UINT8", sa, sb, q_a, q_b, q_o)
    inputs[1][inputs[1] == q_b[1]] = q_b[1] + 1        # no division by a quantized zero
    both_resolvers(content, inputs)
