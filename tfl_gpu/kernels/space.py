"""DEPTH_TO_SPACE, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND (NHWC data movement, any dtype;
SPACE_TO_BATCH_ND pads quantized tensors with the output zero point like TFLite)."""
from __future__ import annotations

import numpy as np

from ..limits import check_allocation
from .registry import is_quantized, register


class _BlockSizeOp:
    """DEPTH_TO_SPACE / SPACE_TO_DEPTH: the block_size option, and a 4-D (NHWC) input."""
    OP = ""

    def __init__(self, node):
        self.bs = int(node.options.get("block_size", 0))
        if self.bs < 1:
            raise ValueError(f"{node.name}: block_size must be >= 1, got {self.bs}")

    def _check(self, x):
        if x.ndim != 4:
            raise ValueError(f"{self.OP} input must be 4-D, got rank {x.ndim}")


@register("DEPTH_TO_SPACE")
class DepthToSpace(_BlockSizeOp):
    OP = "DEPTH_TO_SPACE"

    def __call__(self, x):
        self._check(x)
        bs = self.bs
        b, h, w, c = x.shape
        if c % (bs * bs):
            raise ValueError(f"DEPTH_TO_SPACE: depth {c} is not a multiple of block_size^2 = {bs * bs}")
        co = c // (bs * bs)
        y = x.reshape(b, h, w, bs, bs, co).transpose(0, 1, 3, 2, 4, 5)
        return np.ascontiguousarray(y).reshape(b, h * bs, w * bs, co)


@register("SPACE_TO_DEPTH")
class SpaceToDepth(_BlockSizeOp):
    OP = "SPACE_TO_DEPTH"

    def __call__(self, x):
        self._check(x)
        bs = self.bs
        b, h, w, c = x.shape
        if h % bs or w % bs:
            raise ValueError(f"SPACE_TO_DEPTH: height {h} and width {w} must be multiples of block_size {bs}")
        y = x.reshape(b, h // bs, bs, w // bs, bs, c).transpose(0, 1, 3, 2, 4, 5)
        return np.ascontiguousarray(y).reshape(b, h // bs, w // bs, bs * bs * c)


def _block_shape(v, rank) -> list[int]:
    bsh = [int(d) for d in np.asarray(v).reshape(-1)]
    if not bsh:
        raise ValueError("block_shape must not be empty")
    if rank not in (3, 4) or len(bsh) != rank - 2:
        raise ValueError(f"input must be 3-D or 4-D with rank-2 block_shape entries; got rank {rank} and "
                         f"{len(bsh)} block_shape entries")
    if any(d < 1 for d in bsh):
        raise ValueError(f"block_shape values must be >= 1, got {bsh}")
    return bsh


@register("SPACE_TO_BATCH_ND")
class SpaceToBatchND:
    def __init__(self, node):
        out = node.outputs[0]
        self.pad_value = out.quantization.zero_point if is_quantized(out) else 0

    def __call__(self, x, block_shape, paddings):
        bsh = _block_shape(block_shape, x.ndim)
        m = len(bsh)
        pads = np.asarray(paddings).reshape(-1, 2).astype(np.int64)
        if pads.shape[0] != m or (pads < 0).any():
            raise ValueError(f"paddings must be a non-negative [{m}, 2] tensor, got {np.asarray(paddings).shape}")
        full = [(0, 0)] + [tuple(p) for p in pads.tolist()] + [(0, 0)] * (x.ndim - 1 - m)
        check_allocation([d + a + b for d, (a, b) in zip(x.shape, full)], x.dtype, "SPACE_TO_BATCH_ND")
        xp = np.pad(x, full, constant_values=self.pad_value) if pads.any() else x
        b = x.shape[0]
        sp = xp.shape[1:m + 1]
        for s, k in zip(sp, bsh):
            if s % k:
                raise ValueError(f"padded spatial size {s} is not a multiple of block size {k}")
        rest = xp.shape[m + 1:]
        shape = [b]
        for s, k in zip(sp, bsh):
            shape += [s // k, k]
        y = xp.reshape(shape + list(rest))
        # [b, s1, k1, ..., sm, km, rest] -> [k1..km, b, s1..sm, rest]
        perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + \
            list(range(1 + 2 * m, y.ndim))
        y = np.ascontiguousarray(y.transpose(perm))
        return y.reshape([b * int(np.prod(bsh))] + [s // k for s, k in zip(sp, bsh)] + list(rest))


@register("BATCH_TO_SPACE_ND")
def batch_to_space_nd(node, x, block_shape, crops):
    bsh = _block_shape(block_shape, x.ndim)
    m = len(bsh)
    cr = np.asarray(crops).reshape(-1, 2).astype(np.int64)
    if cr.shape[0] != m or (cr < 0).any():
        raise ValueError(f"crops must be a non-negative [{m}, 2] tensor, got {np.asarray(crops).shape}")
    prod = int(np.prod(bsh))
    if x.shape[0] % prod:
        raise ValueError(f"batch {x.shape[0]} is not a multiple of the block size product {prod}")
    b = x.shape[0] // prod
    sp = list(x.shape[1:m + 1])
    rest = list(x.shape[m + 1:])
    y = x.reshape(bsh + [b] + sp + rest)
    # [k1..km, b, s1..sm, rest] -> [b, s1, k1, ..., sm, km, rest]
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, y.ndim))
    y = y.transpose(perm).reshape([b] + [s * k for s, k in zip(sp, bsh)] + rest)
    sl = [slice(None)]
    for i in range(m):
        full = sp[i] * bsh[i]
        lo, hi = int(cr[i, 0]), int(cr[i, 1])
        if lo + hi > full:
            raise ValueError(f"crops {lo}+{hi} exceed the spatial size {full}")
        sl.append(slice(lo, full - hi))
    return np.ascontiguousarray(y[tuple(sl)])
