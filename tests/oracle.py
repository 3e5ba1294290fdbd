"""Running a model on LiteRT (the oracle) and on tfl_gpu with the same inputs."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

import tfl_gpu

SHARED_MODELS = pathlib.Path(os.environ.get("TFL_GPU_SHARED", pathlib.Path(__file__).resolve().parents[1].parent
                                            / "shared")) / "models"


def litert():
    """The ai_edge_litert interpreter module, or skip the test when it is not installed."""
    return pytest.importorskip("ai_edge_litert.interpreter")


def litert_interpreter(resolver: str = "BUILTIN_WITHOUT_DEFAULT_DELEGATES", **kw):
    """A LiteRT interpreter with op resolver ``resolver`` (by default LiteRT's builtin kernels without the
    XNNPACK delegate, the oracle for the CPU path); ``kw`` as for ``Interpreter``."""
    lite = litert()
    kw.setdefault("experimental_op_resolver_type", getattr(lite.OpResolverType, resolver))
    return lite.Interpreter(**kw)


def run_litert(content: bytes, inputs: dict | list, resolver: str = "BUILTIN_WITHOUT_DEFAULT_DELEGATES",
               outputs=None):
    """Runs LiteRT; ``inputs`` maps tensor index -> array (or is a list in input order). Returns the
    graph outputs as a list (or the tensors named by index in ``outputs``)."""
    return _run(litert_interpreter(resolver, model_content=content), inputs, outputs)


def run_ours(content: bytes, inputs: dict | list, resolver: str = "BUILTIN", outputs=None, **kw):
    it = tfl_gpu.Interpreter(model_content=content,
                             experimental_op_resolver_type=getattr(tfl_gpu.OpResolverType, resolver), **kw)
    return _run(it, inputs, outputs)


def _run(it, inputs, outputs):
    details = it.get_input_details()
    if isinstance(inputs, (list, tuple)):
        inputs = {d["index"]: v for d, v in zip(details, inputs)}
    for idx, v in inputs.items():
        cur = next(d for d in details if d["index"] == idx)
        if tuple(cur["shape"]) != tuple(np.shape(v)):
            it.resize_tensor_input(idx, list(np.shape(v)))
    it.allocate_tensors()
    for idx, v in inputs.items():
        it.set_tensor(idx, v)
    it.invoke()
    if outputs is None:
        outputs = [d["index"] for d in it.get_output_details()]
    return [it.get_tensor(i) for i in outputs]


def assert_close(ours, ref, tol=1e-4, what=""):
    """Float bar of the project: max abs error <= tol * max(1, max|ref|)."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != LiteRT {ref.shape}"
    assert ours.dtype == ref.dtype, f"{what}: dtype {ours.dtype} != LiteRT {ref.dtype}"
    if ref.dtype.kind in "fc":
        scale = max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
        wide = np.complex128 if ref.dtype.kind == "c" else np.float64   # keep imaginary parts
        err = float(np.max(np.abs(ours.astype(wide) - ref.astype(wide)))) if ref.size else 0.0
        assert np.array_equal(np.isnan(ours), np.isnan(ref)), f"{what}: NaN positions differ"
        finite = np.isfinite(ref)
        err = float(np.max(np.abs(ours[finite].astype(wide) - ref[finite]))) if finite.any() else 0.0
        assert err <= tol * scale, f"{what}: max abs error {err:.3g} > {tol * scale:.3g}"
    else:
        assert np.array_equal(ours, ref), f"{what}: values differ from LiteRT ({np.sum(ours != ref)} elements)"


def assert_same_as_litert(content: bytes, inputs, tol=1e-4, resolver="BUILTIN", exact=False):
    """Runs both and compares every output (exactly for integer outputs or when ``exact``)."""
    lite_resolver = "BUILTIN_REF" if resolver == "BUILTIN_REF" else "BUILTIN_WITHOUT_DEFAULT_DELEGATES"
    ref = run_litert(content, inputs, lite_resolver)
    ours = run_ours(content, inputs, resolver)
    assert len(ours) == len(ref)
    for k, (o, r) in enumerate(zip(ours, ref)):
        if exact:
            assert o.shape == r.shape and o.dtype == r.dtype, f"output {k}: {o.shape}/{o.dtype} vs {r.shape}/{r.dtype}"
            diff = np.abs(o.astype(np.int64) - r.astype(np.int64)) if o.dtype.kind in "iub" else None
            assert np.array_equal(o, r), (f"output {k} differs from LiteRT: max diff "
                                          f"{diff.max() if diff is not None else '?'}")
        else:
            assert_close(o, r, tol, f"output {k}")
    return ours, ref
