"""CONV_3D and CONV_3D_TRANSPOSE against LiteRT."""
import numpy as np
import pytest

from oracle import assert_same_as_litert
from tfl_gpu.writer import ModelBuilder

CASES = [((1, 5, 6, 7, 3), (2, 3, 3, 3, 4), "SAME", (1, 1, 1), (1, 1, 1), "NONE", True),
         ((2, 6, 5, 4, 2), (3, 2, 2, 2, 3), "VALID", (2, 1, 2), (1, 1, 1), "RELU", False),
         ((1, 7, 7, 7, 1), (2, 2, 3, 1, 2), "SAME", (2, 2, 2), (1, 1, 1), "RELU6", True),
         ((1, 8, 6, 6, 2), (2, 2, 2, 2, 2), "VALID", (1, 1, 1), (2, 1, 2), "NONE", True),
         ((1, 6, 6, 6, 2), (3, 3, 3, 2, 2), "SAME", (1, 2, 1), (2, 2, 1), "RELU_N1_TO_1", False)]


@pytest.mark.parametrize("xs,ws,pad,strides,dil,act,bias", CASES)
def test_conv3d(xs, ws, pad, strides, dil, act, bias):
    rng = np.random.default_rng(sum(xs))
    mb = ModelBuilder()
    x = mb.input("x", list(xs))
    w = mb.const("w", rng.standard_normal(ws).astype(np.float32))
    b = mb.const("b", rng.standard_normal(ws[-1]).astype(np.float32)) if bias else -1
    y = mb.tensor("y", [])
    mb.op("CONV_3D", [x, w, b], [y], padding=pad, stride_d=strides[0], stride_h=strides[1], stride_w=strides[2],
          dilation_d_factor=dil[0], dilation_h_factor=dil[1], dilation_w_factor=dil[2], fused_activation_function=act)
    mb.output(y)
    assert_same_as_litert(mb.build(), [rng.standard_normal(xs).astype(np.float32)])


@pytest.mark.parametrize("xs,ws,pad,strides,out,bias", [
    ((1, 3, 4, 5, 2), (2, 3, 3, 4, 2), "SAME", (2, 2, 2), (1, 6, 8, 10, 4), True),
    ((1, 3, 3, 3, 3), (3, 2, 2, 2, 3), "VALID", (1, 2, 1), (1, 5, 6, 4, 2), False),
    ((2, 2, 4, 3, 1), (2, 3, 2, 3, 1), "SAME", (1, 1, 1), (2, 2, 4, 3, 3), True)])
def test_conv3d_transpose(xs, ws, pad, strides, out, bias):
    rng = np.random.default_rng(sum(xs))
    mb = ModelBuilder()
    shape = mb.const("shape", np.array(out, np.int32))
    w = mb.const("w", rng.standard_normal(ws).astype(np.float32))
    x = mb.input("x", list(xs))
    b = mb.const("b", rng.standard_normal(ws[3]).astype(np.float32)) if bias else -1
    y = mb.tensor("y", list(out))
    mb.op("CONV_3D_TRANSPOSE", [shape, w, x, b], [y], padding=pad, stride_d=strides[0], stride_h=strides[1],
          stride_w=strides[2])
    mb.output(y)
    assert_same_as_litert(mb.build(), [rng.standard_normal(xs).astype(np.float32)])
