"""Views of kernel inputs, made safe.

Data-movement kernels (RESHAPE, SQUEEZE, SLICE, ...) return numpy views of their input where they can: the
executor never writes into values. Two kinds of values are written in place after an invoke, though: graph
(or control-flow body) inputs, which ``set_tensor`` fills with ``np.copyto`` so that ``tensor()`` views stay
valid, and variable tensors. An output that is a view of those would change under the user's feet, so the
``owning`` decorator makes such kernels copy their result when (and only when) it shares memory with an
input of that kind. For every other node the kernel is returned unwrapped: no per-invoke cost.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np


def mutable_input(node, i: int = 0) -> bool:
    """True when input ``i`` of ``node`` may be written in place after the kernel ran."""
    if i >= len(node.inputs):
        return False
    t = node.inputs[i]
    if t is None or t.data is not None:
        return False
    if t.is_variable:
        return True
    rt = getattr(node, "_runtime", None)
    try:
        return t.index in rt.subgraphs[node.subgraph_index].sg.inputs
    except (AttributeError, IndexError, TypeError):
        return True     # unknown context: be safe


class _Owning:
    __slots__ = ("inner", "idx")

    def __init__(self, inner, idx):
        self.inner = inner
        self.idx = idx

    def __call__(self, *args):
        out = self.inner(*args)
        x = args[self.idx]
        if type(out) is tuple:
            return tuple(o.copy() if np.may_share_memory(o, x) else o for o in out)
        if isinstance(out, np.ndarray) and np.may_share_memory(out, x):
            return out.copy()
        return out


def owning(idx: int = 0):
    """Class decorator/function decorator for kernels that may return views of input ``idx``."""
    def deco(obj):
        factory = obj if inspect.isclass(obj) else (lambda node: functools.partial(obj, node))

        class Wrapped:
            def __new__(cls, node):
                inner = factory(node)
                return _Owning(inner, idx) if mutable_input(node, idx) else inner

        Wrapped.__name__ = Wrapped.__qualname__ = getattr(obj, "__name__", "kernel")
        Wrapped.__module__ = obj.__module__
        Wrapped.__doc__ = obj.__doc__
        Wrapped.wrapped = obj
        return Wrapped
    return deco
