"""GATHER (axis, batch_dims), GATHER_ND, SCATTER_ND.

GATHER and GATHER_ND only move data, so they serve every dtype (quantized tensors pass through).
Out-of-range indices raise ValueError, as LiteRT fails the invoke.
"""
from __future__ import annotations

import numpy as np

from ..limits import check_allocation
from .registry import register

_ALL = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL", "STRING")


def _check_indices(idx: np.ndarray, limit: int, what: str) -> None:
    if idx.size and (idx.min() < 0 or idx.max() >= limit):
        bad = idx[(idx < 0) | (idx >= limit)].reshape(-1)[0]
        raise ValueError(f"{what}: index {int(bad)} is out of bounds for a dimension of size {limit}")


@register("GATHER", types=_ALL)
class Gather:
    def __init__(self, node):
        self.axis = int(node.options.get("axis", 0))
        self.batch_dims = int(node.options.get("batch_dims", 0))

    def __call__(self, params, indices):
        if indices.dtype.kind not in "iu":
            raise ValueError(f"GATHER: indices must be integers, got {indices.dtype}")
        pr, ir = params.ndim, indices.ndim
        axis = self.axis + pr if self.axis < 0 else self.axis
        bd = self.batch_dims + ir if self.batch_dims < 0 else self.batch_dims
        if not 0 <= axis < pr:
            raise ValueError(f"GATHER: axis {self.axis} is out of range for params of rank {pr}")
        if not 0 <= bd <= ir or bd > axis:
            raise ValueError(f"GATHER: batch_dims {self.batch_dims} is invalid for axis {axis} and indices "
                             f"of rank {ir}")
        if params.shape[:bd] != indices.shape[:bd]:
            raise ValueError(f"GATHER: the first {bd} dimensions of params {params.shape} and indices "
                             f"{indices.shape} differ")
        n = params.shape[axis]
        check_allocation(params.shape[:axis] + indices.shape[bd:] + params.shape[axis + 1:], params.dtype,
                         "GATHER output")
        if bd == 0:
            # an unsigned view turns negative indices into huge ones, so np.take's own bounds check
            # rejects both kinds of out-of-range index in one pass
            if indices.dtype.kind == "i":
                uidx = indices.view(np.dtype(f"u{indices.dtype.itemsize}"))
            else:
                uidx = indices
            try:
                return np.take(params, uidx, axis=axis)
            except IndexError:
                _check_indices(indices, n, "GATHER")
                raise
        _check_indices(indices, n, "GATHER")
        idx = indices.astype(np.intp, copy=False)
        batch = int(np.prod(params.shape[:bd], dtype=np.int64))
        outer = int(np.prod(params.shape[bd:axis], dtype=np.int64))
        inner = int(np.prod(params.shape[axis + 1:], dtype=np.int64))
        p = params.reshape(batch, outer, n, inner)
        k = idx.reshape(batch, -1)
        y = p[np.arange(batch)[:, None, None], np.arange(outer)[None, :, None], k[:, None, :]]
        return y.reshape(params.shape[:axis] + indices.shape[bd:] + params.shape[axis + 1:])


def _nd_index(indices: np.ndarray, shape, what: str):
    if indices.dtype.kind not in "iu":
        raise ValueError(f"{what}: indices must be integers, got {indices.dtype}")
    if indices.ndim < 1:
        raise ValueError(f"{what}: indices must have rank >= 1")
    k = indices.shape[-1]
    if k > len(shape):
        raise ValueError(f"{what}: index depth {k} exceeds the rank {len(shape)}")
    cols = []
    for j in range(k):
        c = indices[..., j]
        _check_indices(c, shape[j], what)
        cols.append(c.astype(np.intp, copy=False))
    return tuple(cols), k


@register("GATHER_ND", types=_ALL)
def gather_nd(node, params, indices):
    cols, k = _nd_index(indices, params.shape, "GATHER_ND")
    check_allocation(indices.shape[:-1] + params.shape[k:], params.dtype, "GATHER_ND output")
    if k == 0:
        return np.broadcast_to(params, indices.shape[:-1] + params.shape).copy()
    return params[cols]


@register("SCATTER_ND", types=("FLOAT32", "INT32", "INT64", "INT8", "UINT8", "BOOL"))
def scatter_nd(node, indices, updates, shape):
    s = [int(v) for v in np.asarray(shape).reshape(-1)]
    if np.ndim(shape) != 1 or any(v < 0 for v in s):
        raise ValueError(f"SCATTER_ND: invalid shape {s}")
    cols, k = _nd_index(indices, s, "SCATTER_ND")
    expect = indices.shape[:-1] + tuple(s[k:])
    if updates.shape != expect:
        raise ValueError(f"SCATTER_ND: updates of shape {updates.shape} do not match indices "
                         f"{indices.shape} and shape {s} (expected {expect})")
    check_allocation(s, updates.dtype, "SCATTER_ND output")
    out = np.zeros(s, dtype=updates.dtype)
    if k == 0:
        if updates.size:
            if out.dtype == np.bool_:
                out |= np.logical_or.reduce(updates.reshape((-1,) + tuple(s)), axis=0)
            else:
                out += updates.reshape((-1,) + tuple(s)).sum(axis=0, dtype=out.dtype)
        return out
    if out.dtype == np.bool_:
        np.logical_or.at(out, cols, updates)
    else:
        np.add.at(out, cols, updates)
    return out
