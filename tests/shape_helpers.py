"""Single-op models checked against LiteRT: shared by the kernel tests (shape, slicing, misc, ...)."""
from __future__ import annotations

import numpy as np

from oracle import litert_interpreter, run_litert, run_ours
from tfl_gpu.writer import ModelBuilder, _type_of

DTYPES = [np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_]


def make(dtype, shape, rng):
    """Random values of ``dtype`` (np.object_ gives byte strings)."""
    shape = tuple(shape)
    dt = np.dtype(dtype)
    if dt == np.object_:
        flat = [bytes(rng.integers(97, 123, size=int(rng.integers(0, 5))).astype(np.uint8)) for _ in
                range(int(np.prod(shape, dtype=np.int64)))]
        a = np.empty(len(flat), dtype=object)
        a[:] = flat
        return a.reshape(shape)
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt) * 3
    info = np.iinfo(dt)
    lo, hi = max(info.min, -1000), min(info.max, 1000)
    return rng.integers(lo, hi, size=shape, endpoint=True).astype(dt)


def build(op, inputs, const=(), out_types=None, n_out=1, version=1, quant=None, out_quant=None, **opts):
    """A model running ``op``; ``inputs`` are arrays (None = omitted), indices in ``const`` become
    constants, the others graph inputs. ``quant`` maps input index -> quant dict. Returns (content, feeds)."""
    mb = ModelBuilder()
    idx, feeds = [], []
    quant = quant or {}
    for k, a in enumerate(inputs):
        if a is None:
            idx.append(-1)
            continue
        a = np.asarray(a)
        if k in const:
            idx.append(mb.const(f"c{k}", a, quant=quant.get(k)))
        else:
            idx.append(mb.input(f"in{k}", list(a.shape), _type_of(a.dtype), quant=quant.get(k)))
            feeds.append(a)
    if out_types is None:
        out_types = [_type_of(np.asarray(inputs[0]).dtype)] * n_out
    outs = [mb.tensor(f"out{j}", [], t if isinstance(t, str) else _type_of(t), quant=out_quant)
            for j, t in enumerate(out_types)]
    mb.op(op, idx, outs, version=version, **opts)
    mb.output(*outs)
    return mb.build(), feeds


def litert_outputs(content, feeds):
    """LiteRT's outputs; LiteRT's Python get_tensor refuses zero-element tensors ("Invalid tensor size"),
    so those are rebuilt from the output details (their shape and dtype are all they hold)."""
    it = litert_interpreter(model_content=content)
    ins = it.get_input_details()
    for d, v in zip(ins, feeds):
        if tuple(d["shape"]) != np.shape(v):
            it.resize_tensor_input(d["index"], list(np.shape(v)))
    it.allocate_tensors()
    for d, v in zip(ins, feeds):
        it.set_tensor(d["index"], v)
    it.invoke()
    outs = []
    for d in it.get_output_details():
        try:
            outs.append(it.get_tensor(d["index"]))
        except ValueError as e:
            if "Invalid tensor size" not in str(e) or np.prod(d["shape"]) != 0:
                raise
            dt = object if d["dtype"] in (np.bytes_, np.object_) else d["dtype"]
            outs.append(np.zeros(tuple(d["shape"]), dt))
    return outs


def check(op, inputs, const=(), **kw):
    """Builds the model, runs LiteRT and tfl_gpu, asserts identical outputs (shape, dtype, values)."""
    content, feeds = build(op, inputs, const, **kw)
    ref = litert_outputs(content, feeds)
    ours = run_ours(content, feeds)
    assert len(ours) == len(ref), f"{len(ours)} outputs, LiteRT has {len(ref)}"
    for k, (o, r) in enumerate(zip(ours, ref)):
        o, r = np.asarray(o), np.asarray(r)
        assert o.shape == r.shape and o.dtype == r.dtype, \
            f"{op} output {k}: {o.shape}/{o.dtype}, LiteRT {r.shape}/{r.dtype}"
        assert np.array_equal(o, r), f"{op} output {k} differs from LiteRT in {int(np.sum(o != r))} elements"
    return ours, ref


def both_fail(op, inputs, const=(), **kw):
    """LiteRT rejects the model or its invoke; tfl_gpu must raise a clear error too (never return)."""
    import pytest
    content, feeds = build(op, inputs, const, **kw)
    with pytest.raises(Exception):
        run_litert(content, feeds)
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(content, feeds)
