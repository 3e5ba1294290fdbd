"""Helpers for quantized single-op test models (built with tfl_gpu.writer) and exact LiteRT comparison."""
from __future__ import annotations

import numpy as np

from tfl_gpu.writer import ModelBuilder
from oracle import assert_same_as_litert

INFO = {"INT8": (np.int8, -128, 127), "UINT8": (np.uint8, 0, 255), "INT16": (np.int16, -32768, 32767)}


def qp(scale, zp=0, dim=None):
    d = {"scale": list(np.atleast_1d(np.asarray(scale, np.float64))),
         "zero_point": list(np.atleast_1d(np.asarray(zp, np.int64)))}
    if dim is not None:
        d["quantized_dimension"] = dim
    return d


def rand_q(rng, shape, type_name="INT8"):
    dt, lo, hi = INFO[type_name]
    return rng.integers(lo, hi + 1, size=shape).astype(dt)


def both_resolvers(content, inputs):
    """Bit-exact against LiteRT's default kernels and against its reference kernels."""
    assert_same_as_litert(content, inputs, resolver="BUILTIN", exact=True)
    assert_same_as_litert(content, inputs, resolver="BUILTIN_REF", exact=True)


def build(fn):
    mb = ModelBuilder()
    fn(mb)
    return mb.build()
