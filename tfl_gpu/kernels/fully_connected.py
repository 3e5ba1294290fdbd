"""FULLY_CONNECTED (float)."""
import numpy as np

from .registry import apply_activation, float_node, register


@register("FULLY_CONNECTED", when=float_node, types=("FLOAT32",))
class FullyConnected:
    def __init__(self, node):
        self.opts = node.options
        w = node.const(1)
        # Weights are [units, depth]; keep a contiguous transposed copy so invoke is one GEMM.
        self.wt = None if w is None else np.ascontiguousarray(np.asarray(w, np.float32).T)
        self.keep_dims = bool(node.options.get("keep_num_dims", False))
        self.act = node.options.get("fused_activation_function", "NONE")

    def __call__(self, x, w, b=None):
        wt = self.wt if self.wt is not None else np.asarray(w, np.float32).T
        depth = wt.shape[0]
        x2 = x.reshape(-1, depth)
        y = x2 @ wt
        if b is not None:
            y += b
        y = apply_activation(y, self.act)
        if self.keep_dims:
            return y.reshape(x.shape[:-1] + (wt.shape[1],))
        return y
