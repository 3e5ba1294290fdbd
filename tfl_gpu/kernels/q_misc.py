"""Quantized ops whose integer rule is a requantization of values: CONCATENATION with differing uint8
scales (LiteRT's ConcatenationWithScaling: round(x * s + b) in float32, halves away from zero)."""
from __future__ import annotations

import numpy as np

from .. import quant as Q
from .registry import is_quantized, register


def _concat_rescale_node(node) -> bool:
    ins = [t for t in node.inputs if t is not None]
    o = node.outputs[0]
    if not ins or not is_quantized(o) or o.type_name != "UINT8":
        return False
    return any(is_quantized(t) and (t.quantization.scale != o.quantization.scale
                                    or t.quantization.zero_point != o.quantization.zero_point) for t in ins)


@register("CONCATENATION", when=_concat_rescale_node, priority=10, types=("UINT8 (requantizing)",))
class QConcatRescale:
    def __init__(self, node):
        o = node.outputs[0]
        self.axis = int(node.options.get("axis", 0))
        self.act = node.options.get("fused_activation_function", "NONE")
        os_ = np.float32(o.quantization.scale)
        self.zo = o.quantization.zero_point
        inv = np.float32(np.float32(1.0) / os_)
        self.params = []
        for t in node.inputs:
            si, zi = np.float32(t.quantization.scale), t.quantization.zero_point
            if si == os_ and zi == self.zo:
                self.params.append(None)
            else:
                s = np.float32(si * inv)
                self.params.append((s, np.float32(np.float32(-zi) * s)))
        self.dtype = o.dtype

    def __call__(self, *xs):
        ax = self.axis % xs[0].ndim
        parts = []
        for x, p in zip(xs, self.params):
            if p is None:
                parts.append(x.astype(self.dtype))
            else:
                s, b = p
                v = (x.astype(np.float32) * s + b).astype(np.float64)
                r = Q.round_half_away(v).astype(np.int64) + self.zo
                parts.append(np.clip(r, 0, 255).astype(self.dtype))
        return np.concatenate(parts, axis=ax)
