"""Whole quantized models bit-exact with LiteRT: the shared int8 MobileNetV2, and generated models."""
import numpy as np
import pytest

from oracle import SHARED_MODELS, run_litert, run_ours
from qhelpers import both_resolvers, qp, rand_q
from tfl_gpu.writer import ModelBuilder

MOBILENET_INT8 = SHARED_MODELS / "bench" / "mobilenet_v2_1.0_224_int8.tflite"


@pytest.mark.skipif(not MOBILENET_INT8.is_file(), reason="shared int8 MobileNetV2 not present")
def test_mobilenet_v2_int8_bit_exact():
    content = MOBILENET_INT8.read_bytes()
    x = np.random.default_rng(0).integers(-128, 128, (1, 224, 224, 3)).astype(np.int8)
    ref = run_litert(content, [x], "BUILTIN_WITHOUT_DEFAULT_DELEGATES")[0]
    ours = run_ours(content, [x], "BUILTIN")[0]
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    assert np.array_equal(ours, ref), f"{np.sum(ours != ref)} outputs differ"
    # (LiteRT's BUILTIN_REF aborts the process on this model, so the reference flavour is checked on the
    # generated models below.)


@pytest.mark.skipif(not MOBILENET_INT8.is_file(), reason="shared int8 MobileNetV2 not present")
def test_mobilenet_quantization_details_match():
    import tfl_gpu
    from oracle import litert
    lite = litert()
    content = MOBILENET_INT8.read_bytes()
    a = tfl_gpu.Interpreter(model_content=content)
    b = lite.Interpreter(model_content=content)
    for da, db in zip(a.get_input_details() + a.get_output_details(),
                      b.get_input_details() + b.get_output_details()):
        assert da["quantization"] == db["quantization"]
        qa, qb = da["quantization_parameters"], db["quantization_parameters"]
        assert np.array_equal(qa["scales"], qb["scales"]) and np.array_equal(qa["zero_points"], qb["zero_points"])
        assert qa["quantized_dimension"] == qb["quantized_dimension"]


def _mobilenet_like(rng, tin="INT8", in_shape=(1, 32, 32, 3)):
    """conv -> depthwise -> 1x1 conv -> residual add -> avg pool -> mean -> fc -> softmax, int8 or uint8."""
    mb = ModelBuilder()
    signed = tin == "INT8"
    wt = "INT8" if signed else "UINT8"

    def act_q(scale, zp_signed):
        return qp(scale, zp_signed if signed else zp_signed + 128)

    def weights(name, shape, qdim, oc):
        w = rand_q(rng, shape, wt)
        if signed:
            w[w == -128] = -127
            return mb.const(name, w, wt, quant=qp(rng.uniform(0.005, 0.02, oc), [0] * oc, dim=qdim))
        return mb.const(name, w, wt, quant=qp(0.01, 127))

    def bias(name, n, in_scale, wq_scale=0.01):
        return mb.const(name, rng.integers(-2000, 2000, n).astype(np.int32), "INT32",
                        quant=qp(in_scale * wq_scale, 0))

    x = mb.input("x", list(in_shape), tin, quant=act_q(0.02, -1))
    c1 = mb.tensor("c1", [], tin, quant=act_q(0.05, -128))
    mb.op("CONV_2D", [x, weights("w1", (16, 3, 3, 3), 0, 16), bias("b1", 16, 0.02)], [c1], padding="SAME",
          stride_w=2, stride_h=2, fused_activation_function="RELU6")
    d1 = mb.tensor("d1", [], tin, quant=act_q(0.06, -128))
    mb.op("DEPTHWISE_CONV_2D", [c1, weights("w2", (1, 3, 3, 16), 3, 16), bias("b2", 16, 0.05)], [d1],
          padding="SAME", stride_w=1, stride_h=1, depth_multiplier=1, fused_activation_function="RELU6")
    p1 = mb.tensor("p1", [], tin, quant=act_q(0.08, 3))
    mb.op("CONV_2D", [d1, weights("w3", (16, 1, 1, 16), 0, 16), bias("b3", 16, 0.06)], [p1], padding="SAME",
          stride_w=1, stride_h=1)
    r1 = mb.tensor("r1", [], tin, quant=act_q(0.1, 0))
    mb.op("ADD", [p1, c1], [r1])
    a1 = mb.tensor("a1", [], tin, quant=act_q(0.1, 0))
    mb.op("AVERAGE_POOL_2D", [r1], [a1], options_type="Pool2DOptions", padding="VALID", stride_w=2, stride_h=2,
          filter_width=2, filter_height=2)
    m1 = mb.tensor("m1", [], tin, quant=act_q(0.05, 2))
    mb.op("MEAN", [a1, mb.const("axes", np.array([1, 2], np.int32))], [m1], keep_dims=False)
    f1 = mb.tensor("f1", [], tin, quant=act_q(0.2, 5))
    mb.op("FULLY_CONNECTED", [m1, weights("w4", (10, 16), 0, 10), bias("b4", 10, 0.05)], [f1])
    y = mb.tensor("y", [], tin, quant=qp(1.0 / 256, -128 if signed else 0))
    mb.op("SOFTMAX", [f1], [y], beta=1.0)
    mb.output(y)
    return mb.build(), [rand_q(rng, in_shape, tin)]


@pytest.mark.parametrize("tin", ["INT8", "UINT8"])
def test_generated_mobilenet_like(rng, tin):
    content, inputs = _mobilenet_like(rng, tin)
    both_resolvers(content, inputs)


def test_float_in_float_out_int8_model(rng):
    """QUANTIZE -> int8 conv -> DEQUANTIZE, as converters emit for float-interface integer models."""
    mb = ModelBuilder()
    x = mb.input("x", [1, 12, 12, 4], "FLOAT32")
    q = mb.tensor("q", [], "INT8", quant=qp(0.03, 2))
    mb.op("QUANTIZE", [x], [q])
    w = rand_q(rng, (8, 3, 3, 4), "INT8")
    w[w == -128] = -127
    wi = mb.const("w", w, "INT8", quant=qp(rng.uniform(0.005, 0.02, 8), [0] * 8, dim=0))
    b = mb.const("b", rng.integers(-500, 500, 8).astype(np.int32), "INT32", quant=qp(0.0003, 0))
    c = mb.tensor("c", [], "INT8", quant=qp(0.07, -5))
    mb.op("CONV_2D", [q, wi, b], [c], padding="SAME", stride_w=1, stride_h=1)
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("DEQUANTIZE", [c], [y])
    mb.output(y)
    both_resolvers(mb.build(), [rng.normal(0, 1.5, (1, 12, 12, 4)).astype(np.float32)])


def test_generated_int16x8_model(rng):
    """int16 activations with int8 weights: conv -> depthwise -> add -> mean -> fc -> softmax."""
    mb = ModelBuilder()

    def w8(name, shape, qdim, oc):
        w = rand_q(rng, shape, "INT8")
        w[w == -128] = -127
        return mb.const(name, w, "INT8", quant=qp(rng.uniform(0.005, 0.02, oc), [0] * oc, dim=qdim))

    def b64(name, n, s):
        return mb.const(name, rng.integers(-20000, 20000, n).astype(np.int64), "INT64", quant=qp(s, 0))

    x = mb.input("x", [1, 12, 12, 3], "INT16", quant=qp(0.0005, 0))
    c1 = mb.tensor("c1", [], "INT16", quant=qp(0.002, 0))
    mb.op("CONV_2D", [x, w8("w1", (8, 3, 3, 3), 0, 8), b64("b1", 8, 0.0005 * 0.01)], [c1], padding="SAME",
          stride_w=1, stride_h=1, fused_activation_function="RELU")
    d1 = mb.tensor("d1", [], "INT16", quant=qp(0.003, 0))
    mb.op("DEPTHWISE_CONV_2D", [c1, w8("w2", (1, 3, 3, 8), 3, 8), b64("b2", 8, 0.002 * 0.01)], [d1],
          padding="SAME", stride_w=2, stride_h=2, depth_multiplier=1)
    a1 = mb.tensor("a1", [], "INT16", quant=qp(0.004, 0))
    mb.op("ADD", [d1, d1], [a1])
    m1 = mb.tensor("m1", [], "INT16", quant=qp(0.002, 0))
    mb.op("MEAN", [a1, mb.const("axes", np.array([1, 2], np.int32))], [m1], keep_dims=False)
    f1 = mb.tensor("f1", [], "INT16", quant=qp(0.001, 0))
    mb.op("FULLY_CONNECTED", [m1, w8("w3", (10, 8), 0, 10), b64("b3", 10, 0.002 * 0.01)], [f1])
    y = mb.tensor("y", [], "INT16", quant=qp(1.0 / 32768, 0))
    mb.op("SOFTMAX", [f1], [y], beta=1.0)
    mb.output(y)
    both_resolvers(mb.build(), [rand_q(rng, (1, 12, 12, 3), "INT16")])


def test_generated_dynamic_range_model(rng):
    """Float model with int8 weights everywhere (dynamic-range quantization)."""
    mb = ModelBuilder()

    def w8(name, shape, qdim, oc):
        w = rand_q(rng, shape, "INT8")
        w[w == -128] = -127
        return mb.const(name, w, "INT8", quant=qp(rng.uniform(0.005, 0.02, oc), [0] * oc, dim=qdim))

    x = mb.input("x", [2, 10, 10, 3], "FLOAT32")
    c1 = mb.tensor("c1", [], "FLOAT32")
    mb.op("CONV_2D", [x, w8("w1", (6, 3, 3, 3), 0, 6), mb.const("b1", rng.normal(0, 1, 6).astype(np.float32))],
          [c1], padding="SAME", stride_w=2, stride_h=2, fused_activation_function="RELU6")
    d1 = mb.tensor("d1", [], "FLOAT32")
    mb.op("DEPTHWISE_CONV_2D", [c1, w8("w2", (1, 3, 3, 6), 3, 6), mb.const("b2", np.zeros(6, np.float32))],
          [d1], padding="SAME", stride_w=1, stride_h=1, depth_multiplier=1)
    r1 = mb.tensor("r1", [], "FLOAT32")
    mb.op("RESHAPE", [d1, mb.const("shape", np.array([2, -1], np.int32))], [r1])
    f1 = mb.tensor("f1", [], "FLOAT32")
    mb.op("FULLY_CONNECTED", [r1, w8("w3", (5, 150), 0, 5), mb.const("b3", rng.normal(0, 1, 5).astype(np.float32))],
          [f1], asymmetric_quantize_inputs=True)
    mb.output(f1)
    content = mb.build()
    inputs = [rng.normal(0, 1, (2, 10, 10, 3)).astype(np.float32)]
    from oracle import assert_same_as_litert
    assert_same_as_litert(content, inputs, resolver="BUILTIN", exact=True)
    assert_same_as_litert(content, inputs, resolver="BUILTIN_REF", exact=True)
