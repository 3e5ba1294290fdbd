"""FULLY_CONNECTED (float32): one float32 GEMM per invoke.

Weights are [units, depth]. Their transposed contiguous [depth, units] layout is prepared once: in
``__init__`` for constant weights, or cached by the identity of the incoming array when the weights come from
DEQUANTIZE/DENSIFY of constants (float16 MediaPipe models). Non-constant weights work too.
"""
from __future__ import annotations

import numpy as np

from .conv import WeightCache, static_input
from .registry import apply_activation, float_node, register


def float_fc_node(node) -> bool:
    """Float input with float weights (int8-weight hybrid FC is a quantized-family kernel)."""
    if not float_node(node) or len(node.inputs) < 2:
        return False
    x, w = node.inputs[0], node.inputs[1]
    return (x is not None and x.type_name == "FLOAT32" and w is not None
            and w.type_name in ("FLOAT32", "FLOAT16"))


def _prepare_fc(w):
    w = np.asarray(w)
    if w.ndim != 2:
        raise ValueError(f"FULLY_CONNECTED weights must be 2-D [units, depth], got shape {list(w.shape)}")
    if w.dtype != np.float32:
        w = w.astype(np.float32)
    return np.ascontiguousarray(w.T)


@register("FULLY_CONNECTED", when=float_fc_node, types=("FLOAT32",))
class FullyConnected:
    def __init__(self, node):
        o = node.options
        fmt = o.get("weights_format", "DEFAULT")
        if fmt not in ("DEFAULT", 0):
            raise ValueError(f"FULLY_CONNECTED weights_format {fmt} is only defined for quantized weights")
        self.keep_dims = bool(o.get("keep_num_dims", False))
        self.act = o.get("fused_activation_function", "NONE")
        if self.act not in ("NONE", "RELU", "RELU_N1_TO_1", "RELU6"):
            # LiteRT's FULLY_CONNECTED Prepare rejects TANH / SIGN_BIT
            raise ValueError(f"FULLY_CONNECTED does not support fused activation {self.act}")
        self.weights = WeightCache(_prepare_fc, static_input(node, 1), node.const(1))
        self.bias = WeightCache(_prepare_bias, len(node.inputs) > 2 and static_input(node, 2),
                                node.const(2) if len(node.inputs) > 2 else None)
        self.lo, self.hi = _CLAMP.get(self.act, (None, None))

    def __call__(self, x, w, b=None):
        wt = self.weights.get(w)
        depth, units = wt.shape
        if depth == 0:
            raise ValueError("FULLY_CONNECTED weights have depth 0")
        if x.size % depth:
            raise ValueError(f"FULLY_CONNECTED input of shape {list(x.shape)} does not divide into rows of "
                             f"depth {depth}")
        if self.keep_dims and x.shape[-1:] != (depth,):
            raise ValueError(f"FULLY_CONNECTED keep_num_dims needs the last input dim == {depth}, "
                             f"got shape {list(x.shape)}")
        if x.dtype is not _F32 and x.dtype != _F32:
            x = x.astype(np.float32)
        y = np.matmul(x.reshape(-1, depth), wt)
        if b is not None:
            if b.size != units:
                raise ValueError(f"FULLY_CONNECTED bias has {b.size} values for {units} units")
            y += self.bias.get(b)
        lo = self.lo
        if lo is not None:
            if self.hi is None:
                np.maximum(y, lo, out=y)
            else:
                _clip(y, lo, self.hi, out=y)
        if self.keep_dims:
            return y.reshape(x.shape[:-1] + (units,))
        return y


_F32 = np.dtype(np.float32)
# clamp bounds of the fused activations (TANH / SIGN_BIT are refused in __init__)
_CLAMP = {"RELU": (np.float32(0), None), "RELU6": (np.float32(0), np.float32(6)),
          "RELU_N1_TO_1": (np.float32(-1), np.float32(1))}
try:        # the clip ufunc itself: np.clip's Python wrapper costs ~5 us a call
    from numpy._core.umath import clip as _clip
except ImportError:  # pragma: no cover - numpy < 2
    _clip = np.clip


def _prepare_bias(b):
    b = np.asarray(b).reshape(-1)
    return b if b.dtype == np.float32 else b.astype(np.float32)
