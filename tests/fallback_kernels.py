"""Minimal stand-ins for a few elementwise kernels, used by the API / control-flow tests only while the real
kernels are not registered (they register nothing when the real ones exist). The models these tests build are
always compared with LiteRT, so a wrong stand-in would fail the test, not hide a bug.

Use as a pytest fixture (``use_fallback_kernels``): the stand-ins are removed again afterwards so that no
other test sees them."""
from __future__ import annotations

import contextlib

import numpy as np

from tfl_gpu.kernels.registry import has_kernel, register, unregister

_SOURCE = __name__


def _binary(f):
    def kernel(node, a, b):
        return f(a, b)
    kernel.__module__ = _SOURCE
    return kernel


_STAND_INS = {
    "ADD": _binary(np.add), "SUB": _binary(np.subtract), "MUL": _binary(np.multiply),
    "LESS": _binary(np.less), "GREATER": _binary(np.greater), "MAXIMUM": _binary(np.maximum),
}


@contextlib.contextmanager
def fallback_kernels():
    added = []
    for name, fn in _STAND_INS.items():
        if not has_kernel(name):
            register(name)(fn)
            added.append(name)
    try:
        yield added
    finally:
        for name in added:
            unregister(name, _SOURCE)
