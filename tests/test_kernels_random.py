"""Seeded random ops reproduce LiteRT's numbers (Philox4x32-10), invoke after invoke."""
import numpy as np
import pytest

import tfl_gpu
from oracle import litert_interpreter
from tfl_gpu.writer import ModelBuilder


def _model(op, shape, seed, seed2, out_type="FLOAT32", logits=None, num_samples=None):
    mb = ModelBuilder()
    if op == "MULTINOMIAL":
        lg = mb.input("logits", list(logits.shape))
        ns = mb.const("n", np.array(num_samples, np.int32))
        out = mb.tensor("out", [], out_type)
        mb.op(op, [lg, ns], [out], seed=seed, seed2=seed2)
    else:
        s = mb.input("shape", [len(shape)], "INT32")
        out = mb.tensor("out", [], out_type)
        mb.op(op, [s], [out], seed=seed, seed2=seed2)
    mb.output(out)
    return mb.build()


def _three_invokes(make_interpreter, content, feed):
    it = make_interpreter(model_content=content)
    it.resize_tensor_input(0, list(np.shape(feed)))
    it.allocate_tensors()
    outs = []
    for _ in range(3):
        it.set_tensor(it.get_input_details()[0]["index"], feed)
        it.invoke()
        outs.append(it.get_tensor(it.get_output_details()[0]["index"]))
    return outs


@pytest.mark.parametrize("op", ["RANDOM_UNIFORM", "RANDOM_STANDARD_NORMAL"])
@pytest.mark.parametrize("shape,seed,seed2", [((3, 5), 42, 7), ((7,), 1, 0), ((2, 3, 4), 0, 123456789012)])
def test_random_matches_litert(op, shape, seed, seed2):
    content = _model(op, shape, seed, seed2)
    feed = np.array(shape, np.int32)
    ref = _three_invokes(litert_interpreter, content, feed)
    ours = _three_invokes(tfl_gpu.Interpreter, content, feed)
    for r, o in zip(ref, ours):
        assert o.shape == r.shape == shape
        if op == "RANDOM_UNIFORM":
            np.testing.assert_array_equal(o, r)
        else:
            np.testing.assert_allclose(o, r, rtol=1e-5, atol=1e-6)
    assert not np.array_equal(ours[0], ours[1])     # the generator advances between invokes


@pytest.mark.parametrize("out_type", ["INT64", "INT32"])
def test_multinomial_matches_litert(out_type):
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], np.float32))
    logits[1, 2] = -np.inf
    content = _model("MULTINOMIAL", None, 5, 9, out_type, logits=logits, num_samples=13)
    ref = _three_invokes(litert_interpreter, content, logits)
    ours = _three_invokes(tfl_gpu.Interpreter, content, logits)
    for r, o in zip(ref, ours):
        np.testing.assert_array_equal(o, r)
    assert np.all(ours[0][1] != 2)                   # a -inf logit is never drawn


def test_uniform_statistics_from_definition():
    content = _model("RANDOM_UNIFORM", (20000,), 3, 4)
    it = tfl_gpu.Interpreter(model_content=content)
    it.resize_tensor_input(0, [1])
    it.allocate_tensors()
    it.set_tensor(0, np.array([20000], np.int32))
    it.invoke()
    u = it.get_tensor(it.get_output_details()[0]["index"])
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
