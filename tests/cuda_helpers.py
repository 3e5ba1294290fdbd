"""Shared helpers of the CUDA delegate tests: run a model through load_delegate("cuda") on the emulator."""
import numpy as np
import pytest

import tfl_gpu
from oracle import _run, assert_close, run_litert

import os

_DELEGATES = {}
# TFL_GPU_TEST_BACKEND=cupy runs the kernel and delegate suites on a real GPU instead of the emulator
BACKEND = os.environ.get("TFL_GPU_TEST_BACKEND", "emulator")


def emu_delegate(**opts):
    key = tuple(sorted(opts.items()))
    d = _DELEGATES.get(key)
    if d is None:
        d = _DELEGATES[key] = tfl_gpu.load_delegate("cuda", {"backend": BACKEND, **opts})
    return d


def run_cuda(content, inputs, delegate=None, expect_all=True, outputs=None):
    """Runs `content` with the cuda delegate (emulator); checks every node was delegated when asked."""
    d = delegate or emu_delegate()
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=[d])
    res = _run(it, inputs, outputs)
    if expect_all:
        rep = it.get_delegation_report()
        cpu = [(r["op"], r["refusals"]) for r in rep if r["executor"] == "cpu"]
        assert not cpu, f"nodes left on the CPU: {cpu}"
    return res


def check_vs_litert(content, inputs, tol=1e-4, expect_all=True):
    ref = run_litert(content, inputs)
    ours = run_cuda(content, inputs, expect_all=expect_all)
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert o.shape == r.shape, (o.shape, r.shape)
        assert_close(o, r, tol)
    return ours


needs_gxx = pytest.mark.skipif(
    not __import__("shutil").which("g++"), reason="the CUDA emulator needs g++")


def f32(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)
