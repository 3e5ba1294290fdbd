"""Ported from TensorFlow Lite's random_ops_test.cc: RANDOM_UNIFORM / RANDOM_STANDARD_NORMAL (seeded determinism,
fresh values per invoke, mean and variance) and MULTINOMIAL (the exact per-invoke sample sequences upstream
asserts, which TFLite matches with TensorFlow's Philox streams), also compared with LiteRT where it is seeded."""
import math

import numpy as np
import pytest

import tfl_gpu
from oracle import litert
from tfl_gpu.writer import ModelBuilder

SHAPE = [100, 50, 5]


def _random_model(op, const, seed, seed2):
    mb = ModelBuilder()
    if const:
        s = mb.const("shape", np.asarray(SHAPE, np.int32))
    else:
        s = mb.input("shape", [3], "INT32")
    out = mb.tensor("out", [], "FLOAT32")
    mb.op(op, [s], [out], seed=seed, seed2=seed2)
    mb.output(out)
    return mb.build()


def _invokes(content, inputs, n, interpreter=None):
    it = interpreter or tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    res = []
    for _ in range(n):
        for d, v in zip(it.get_input_details(), inputs):
            it.set_tensor(d["index"], v)
        it.invoke()
        res.append(it.get_tensor(it.get_output_details()[0]["index"]))
    return res


def _feeds(const):
    return [] if const else [np.asarray(SHAPE, np.int32)]


@pytest.mark.parametrize("const", [True, False], ids=["const_input", "dynamic_input"])
@pytest.mark.parametrize("op", ["RANDOM_UNIFORM", "RANDOM_STANDARD_NORMAL"])
def test_non_deterministic_output_with_seeds_equal_to_zero(op, const):
    content = _random_model(op, const, 0, 0)
    a1, b1 = _invokes(content, _feeds(const), 2)
    a2, b2 = _invokes(content, _feeds(const), 2)
    assert a1.size == 100 * 50 * 5
    assert not np.array_equal(a1, b1) and not np.array_equal(a2, b2)
    assert not np.array_equal(a1, a2) and not np.array_equal(b1, b2)


@pytest.mark.parametrize("const", [True, False], ids=["const_input", "dynamic_input"])
@pytest.mark.parametrize("op", ["RANDOM_UNIFORM", "RANDOM_STANDARD_NORMAL"])
def test_deterministic_output_with_non_zero_seeds(op, const):
    content = _random_model(op, const, 1234, 5678)
    a1, b1 = _invokes(content, _feeds(const), 2)
    a2, b2 = _invokes(content, _feeds(const), 2)
    assert a1.size == 100 * 50 * 5 and list(a1.shape) == SHAPE
    assert not np.array_equal(a1, b1)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2)
    # and the same streams as LiteRT (uniform bit-exact; normal within float rounding of its sin/cos/log)
    lite = litert()
    ra, rb = _invokes(content, _feeds(const), 2, lite.Interpreter(model_content=content))
    tol = 0.0 if op == "RANDOM_UNIFORM" else 1e-5
    for o, r in ((a1, ra), (b1, rb)):
        assert np.max(np.abs(o.astype(np.float64) - r)) <= tol * max(1.0, float(np.abs(r).max()))


@pytest.mark.parametrize("op,mean,var", [("RANDOM_UNIFORM", 0.5, 1.0 / 12), ("RANDOM_STANDARD_NORMAL", 0.0, 1.0)])
def test_output_mean_and_variance(op, mean, var):
    out = _invokes(_random_model(op, True, 1234, 5678), [], 1)[0].astype(np.float64)
    assert np.all(np.isfinite(out))
    m = out.mean()
    assert abs(m - mean) < 0.05
    assert abs(((out - m) ** 2).mean() - var) < 0.05


def _multinomial_model(logits, batches, classes, samples, seed, seed2, out_type="INT64", const=True):
    mb = ModelBuilder()
    lg = np.asarray(logits, np.float32).reshape(batches, classes)
    x = mb.const("logits", lg) if const else mb.input("logits", [batches, classes])
    n = mb.const("num_samples", np.asarray(samples, np.int32))
    out = mb.tensor("out", [], out_type)
    mb.op("MULTINOMIAL", [x, n], [out], seed=seed, seed2=seed2)
    mb.output(out)
    return mb.build(), ([] if const else [lg])


LOGITS = [math.log(np.float32(0.3)), math.log(np.float32(0.7))]


@pytest.mark.parametrize("const", [True, False], ids=["const_input", "dynamic_input"])
def test_multinomial_non_deterministic_with_zero_seeds(const):
    content, feeds = _multinomial_model(LOGITS, 1, 2, 30, 0, 0, const=const)
    a1, b1 = _invokes(content, feeds, 2)
    a2, b2 = _invokes(content, feeds, 2)
    assert a1.size == 30
    assert not np.array_equal(a1, b1) and not np.array_equal(a2, b2)
    assert not np.array_equal(a1, a2) and not np.array_equal(b1, b2)


@pytest.mark.parametrize("const", [True, False], ids=["const_input", "dynamic_input"])
def test_multinomial_deterministic_with_non_zero_seeds(const):
    content, feeds = _multinomial_model(LOGITS, 1, 2, 30, 123, 456, const=const)
    a1, b1 = _invokes(content, feeds, 2)
    a2, b2 = _invokes(content, feeds, 2)
    assert a1.size == 30 and not np.array_equal(a1, b1)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2)


MULTI = [  # (logits, batches, classes, samples, seed, seed2, output type, expected per invoke)
    ([-1.2039728, -0.35667497], 1, 2, 10, 1234, 5678, "INT32",
     [[1, 0, 1, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 1, 1, 0, 0, 0, 1], [0, 1, 1, 0, 1, 1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1, 0, 0, 0, 1, 0]]),
    ([-1.609438, -1.2039728, -0.6931472], 1, 3, 15, 5678, 1234, "INT64",
     [[1, 2, 1, 2, 1, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2], [1, 2, 0, 0, 2, 1, 2, 0, 1, 0, 2, 2, 0, 2, 2],
      [1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 0, 0, 2, 2, 2], [0, 1, 1, 1, 2, 0, 1, 2, 1, 1, 2, 2, 1, 2, 2],
      [0, 2, 2, 0, 2, 0, 2, 0, 1, 1, 2, 2, 0, 0, 1]]),
    ([math.log(np.float32(p)) for p in (0.1, 0.2, 0.7, 0.2, 0.3, 0.5, 0.1, 0.1, 0.8)], 3, 3, 10, 1234, 5678, "INT64",
     [[2, 1, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 1, 1, 2, 2, 2, 1, 2, 2, 1, 2, 2, 2, 2],
      [2, 2, 2, 0, 2, 1, 0, 0, 2, 0, 2, 0, 2, 1, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 1, 2, 1, 1, 2, 2],
      [2, 0, 0, 0, 1, 2, 1, 2, 0, 0, 2, 2, 2, 2, 0, 2, 1, 2, 2, 1, 2, 2, 1, 2, 2, 2, 1, 2, 2, 2]]),
]


@pytest.mark.parametrize("k", range(len(MULTI)), ids=["int32_output", "three_classes", "multi_batch_multi_invoke"])
def test_multinomial_same_as_tf_output(k):
    logits, b, c, n, s1, s2, ot, expected = MULTI[k]
    content, feeds = _multinomial_model(logits, b, c, n, s1, s2, ot)
    got = _invokes(content, feeds, len(expected))
    for g, e in zip(got, expected):
        assert g.dtype == (np.int32 if ot == "INT32" else np.int64)
        assert g.ravel().tolist() == e


def test_multinomial_class_probabilities():
    probs = [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.5, 0.5]
    content, feeds = _multinomial_model([math.log(np.float32(p)) for p in probs], 5, 2, 10000, 1234, 5678)
    out = _invokes(content, feeds, 1)[0].reshape(5, 10000)
    assert out.min() >= 0 and out.max() <= 1
    for b in range(5):
        freq = np.bincount(out[b], minlength=2) / 10000.0
        assert np.all(np.abs(freq - np.asarray(probs[2 * b:2 * b + 2])) < 0.05)
