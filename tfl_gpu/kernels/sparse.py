"""DENSIFY: a constant sparse tensor (TFLite sparsity parameters) -> its dense value, decoded once.

Format (TFLite's ``SparsityParameters``): the dense shape has rank n; ``block_map`` (length k, ascending)
names the original dimensions split into blocks, and the tensor is traversed over n + k dimensions in
``traversal_order`` (the first n are the original dims, blocked ones counting whole blocks, the last k
the positions inside a block). ``dim_metadata[l]`` describes traversal level l: DENSE with ``dense_size``
or SPARSE_CSR with ``array_segments``/``array_indices`` (the children of parent position p are
``indices[segments[p]:segments[p+1]]``). The packed values are the leaves in traversal order.
"""
from __future__ import annotations

import numpy as np

from ..limits import check_allocation
from ._frozen import freeze
from .registry import register


def densify(values: np.ndarray, shape, sparsity) -> np.ndarray:
    """Dense array of ``shape`` from the packed ``values`` and ``sparsity`` (a model.Sparsity)."""
    shape = [int(d) for d in shape]
    n = len(shape)
    order = [int(v) for v in np.asarray(sparsity.traversal_order).reshape(-1)]
    bmap = [int(v) for v in np.asarray(sparsity.block_map if sparsity.block_map is not None else []).reshape(-1)]
    meta = list(sparsity.dim_metadata)
    k = len(bmap)
    total = n + k
    if len(order) != total or sorted(order) != list(range(total)) or sorted(order[:n]) != list(range(n)):
        raise ValueError(f"sparsity traversal_order {order} is not a valid order of {n} dims + {k} block dims")
    if len(meta) != total:
        raise ValueError(f"sparsity has {len(meta)} dim_metadata entries, expected {total}")
    if bmap != sorted(set(bmap)) or any(not 0 <= d < n for d in bmap):
        raise ValueError(f"sparsity block_map {bmap} must be ascending, distinct dims of a rank-{n} tensor")
    # Block sizes come from the dense size of the block levels, as TFLite reads them.
    block_size = []
    for b in range(k):
        lvl = order[n + b]
        bs = int(meta[lvl].dense_size) if lvl < total else 0
        if bs <= 0 or shape[bmap[b]] % bs:
            raise ValueError(f"sparsity block size {bs} does not divide dimension {bmap[b]} of shape {shape}")
        block_size.append(bs)

    check_allocation(shape, np.asarray(values).dtype, "DENSIFY output")
    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    values = np.asarray(values).reshape(-1)
    pos = np.zeros(1, np.int64)              # parent position of every live path
    coords: list[np.ndarray] = []
    for lvl, md in enumerate(meta):
        if md.format == "DENSE":
            s = int(md.dense_size)
            if s < 0 or len(pos) * max(s, 1) > max(size, 1):
                raise ValueError(f"sparsity level {lvl}: dense_size {s} exceeds the tensor size")
            ar = np.arange(s, dtype=np.int64)
            coords = [np.repeat(c, s) for c in coords] + [np.tile(ar, len(pos))]
            pos = (pos[:, None] * s + ar[None, :]).reshape(-1)
        elif md.format == "SPARSE_CSR":
            seg = np.asarray(md.array_segments if md.array_segments is not None else [], np.int64).reshape(-1)
            ind = np.asarray(md.array_indices if md.array_indices is not None else [], np.int64).reshape(-1)
            ok = pos + 1 < len(seg)
            start = np.where(ok, seg[np.minimum(pos, max(len(seg) - 1, 0))] if len(seg) else 0, 0)
            end = np.where(ok, seg[np.minimum(pos + 1, max(len(seg) - 1, 0))] if len(seg) else 0, 0)
            if (start < 0).any() or (end > len(ind)).any():
                raise ValueError(f"sparsity level {lvl}: array_segments point outside array_indices")
            counts = np.maximum(end - start, 0)
            m = int(counts.sum())
            if m > max(size, 1):
                raise ValueError(f"sparsity level {lvl}: more entries than the dense tensor holds")
            offs = np.cumsum(counts) - counts
            newpos = np.arange(m, dtype=np.int64) - np.repeat(offs, counts) + np.repeat(start, counts)
            coords = [np.repeat(c, counts) for c in coords] + [ind[newpos]]
            pos = newpos
        else:
            raise ValueError(f"sparsity level {lvl}: unknown dimension format {md.format!r}")

    leaves = len(pos)
    if leaves > values.size:
        raise ValueError(f"sparse tensor holds {values.size} values, its sparsity parameters address {leaves}")
    orig = [None] * n
    for lvl in range(n):
        orig[order[lvl]] = coords[lvl]
    for lvl in range(n, total):
        b = order[lvl] - n
        d = bmap[b]
        orig[d] = orig[d] * block_size[b] + coords[lvl]
    flat = np.zeros(leaves, np.int64)
    for d in range(n):
        c = orig[d]
        if leaves and (c.min() < 0 or c.max() >= shape[d]):
            raise ValueError(f"sparse index out of range for dimension {d} of shape {shape}")
        flat = flat * shape[d] + c
    out = np.zeros(size, dtype=values.dtype)
    out[flat] = values[:leaves]
    return out.reshape(shape)


@register("DENSIFY", types=("FLOAT32", "FLOAT16", "INT8"))
class Densify:
    def __init__(self, node):
        t = node.inputs[0]
        data = node.const(0)
        if t is None or t.sparsity is None:
            raise ValueError("DENSIFY input must be a constant tensor with sparsity parameters")
        if data is None:
            if t.buffer <= 0 and not t.is_variable:
                raise ValueError("DENSIFY input must be a constant tensor")
            data = np.zeros(0, t.dtype)      # an all-zero sparse constant stores no values at all
        self.dense = freeze(densify(data, t.shape, t.sparsity).astype(node.outputs[0].dtype, copy=False))

    def __call__(self, x):
        return self.dense
