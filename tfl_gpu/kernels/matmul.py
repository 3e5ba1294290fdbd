"""BATCH_MATMUL (float32): numpy matmul with broadcast batch dimensions, adj_x / adj_y transposes.

A constant right-hand side is transposed (adj_y) once in ``__init__``.
"""
from __future__ import annotations

import numpy as np

from .conv import WeightCache, static_input
from .registry import float_node, register


def float_bmm_node(node) -> bool:
    return (float_node(node) and len(node.inputs) >= 2 and node.inputs[0] is not None
            and node.inputs[0].type_name == "FLOAT32" and node.inputs[1] is not None
            and node.inputs[1].type_name in ("FLOAT32", "FLOAT16"))


@register("BATCH_MATMUL", when=float_bmm_node, types=("FLOAT32",))
class BatchMatMul:
    def __init__(self, node):
        o = node.options
        self.adj_x = bool(o.get("adj_x", False))
        self.adj_y = bool(o.get("adj_y", False))
        self.rhs = WeightCache(self._prepare_rhs, static_input(node, 1), node.const(1))

    def _prepare_rhs(self, y):
        y = np.asarray(y)
        if y.ndim < 2:
            raise ValueError(f"BATCH_MATMUL operands need rank >= 2, got rhs shape {list(y.shape)}")
        if y.dtype != np.float32:
            y = y.astype(np.float32)
        return np.ascontiguousarray(np.swapaxes(y, -1, -2)) if self.adj_y else y

    def __call__(self, x, y):
        if x.ndim < 2:
            raise ValueError(f"BATCH_MATMUL operands need rank >= 2, got lhs shape {list(x.shape)}")
        if x.ndim > 5 or y.ndim > 5:
            raise ValueError("BATCH_MATMUL supports ranks up to 5")
        yy = self.rhs.get(y)
        if x.dtype != np.float32:
            x = x.astype(np.float32)
        xx = np.swapaxes(x, -1, -2) if self.adj_x else x
        if xx.shape[-1] != yy.shape[-2]:
            raise ValueError(f"BATCH_MATMUL inner dimensions differ: lhs {list(x.shape)} (adj_x={self.adj_x}), "
                             f"rhs {list(y.shape)} (adj_y={self.adj_y})")
        if xx.ndim == 2 and yy.ndim == 2:
            return np.matmul(xx, yy)
        try:
            np.broadcast_shapes(xx.shape[:-2], yy.shape[:-2])
        except ValueError:
            raise ValueError(f"BATCH_MATMUL batch dimensions do not broadcast: {list(x.shape)} vs "
                             f"{list(y.shape)}") from None
        return np.matmul(xx, yy)
