"""User-defined operators: give a numpy kernel for a custom op code and models using it run.

    import tfl_gpu

    @tfl_gpu.register_op("MyScale")
    def my_scale(node, x):
        # node.custom_options holds the op's raw custom options (bytes); node.options is empty
        return x * np.float32(2)

A kernel is a plain function ``fn(node, *inputs) -> array | tuple`` or a class ``K(node)`` called as
``k(*inputs)`` (precompute in ``__init__``), exactly like the builtin kernels; it is bound at
``allocate_tensors``. The output shape is the shape of the array the kernel returns. Registering a name that
LiteRT also defines replaces nothing: user kernels (``priority`` 100 by default) are tried before the builtin
ones, and among kernels of equal priority the first registered wins.
"""
from __future__ import annotations

from typing import Callable

from .kernels.registry import register, unregister


def register_op(name: str, kernel: Callable | None = None, *, when: Callable | None = None, priority: int = 100,
                side_effects: bool = True):
    """Registers ``kernel`` for the custom (or builtin) op ``name``; usable as a decorator.

    ``side_effects=True`` (the safe default for code we cannot see) keeps the op in its file order relative
    to other ops with side effects when delegates partition the graph; pass False for a pure function of
    its inputs, which the partitioner may then schedule by its data edges alone."""
    if not isinstance(name, str) or not name:
        raise ValueError("register_op needs the op's custom code as a non-empty string")

    def deco(fn):
        if not callable(fn):
            raise ValueError(f"kernel for {name!r} must be callable, got {type(fn).__name__}")
        register(name, when=when, priority=priority, side_effects=side_effects)(fn)
        return fn
    return deco(kernel) if kernel is not None else deco


def unregister_op(name: str, kernel: Callable | None = None) -> None:
    """Removes user kernels for ``name`` (all of them, or those defined in ``kernel``'s module)."""
    unregister(name, None if kernel is None else kernel.__module__)
