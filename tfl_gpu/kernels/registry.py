"""The kernel registry: op name -> kernel implementations.

A kernel is either

* a plain function ``fn(node, *inputs) -> ndarray | tuple[ndarray, ...]``, or
* a class ``K(node)`` whose instances are called as ``k(*inputs)``; its ``__init__`` may precompute
  from constant inputs (``node.const(i)``) and options.

``inputs`` are numpy arrays in the order of the operator's inputs (``None`` for an omitted optional input,
index -1 in the model). A kernel never writes into its inputs, except stateful ops that update a variable
tensor in place (``node.inputs[i].is_variable``).

Several implementations may be registered for one op name with a ``when`` predicate (e.g. the float and
the quantized CONV_2D live in different modules); the first whose predicate accepts the node wins,
higher ``priority`` first. Resolution happens once, at ``allocate_tensors``.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..model import Operator, Tensor


class Node:
    """What a kernel sees of one operator: parsed options, tensor metadata, constants, and callbacks."""

    __slots__ = ("op", "inputs", "outputs", "intermediates", "options", "resolver", "subgraph_index",
                 "_runtime")

    def __init__(self, op: Operator, tensors: list[Tensor], resolver: str = "BUILTIN",
                 subgraph_index: int = 0, runtime=None):
        self.op = op
        self.inputs: list[Tensor | None] = [tensors[i] if i >= 0 else None for i in op.inputs]
        self.outputs: list[Tensor] = [tensors[i] for i in op.outputs]
        self.intermediates: list[Tensor] = [tensors[i] for i in op.intermediates]
        self.options = op.options
        self.resolver = resolver          # "BUILTIN" or "BUILTIN_REF": kernels whose algorithms differ
        self.subgraph_index = subgraph_index
        self._runtime = runtime           # the executor: subgraph calls, resources

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def custom_options(self) -> bytes | None:
        return self.op.custom_options

    def const(self, i: int) -> np.ndarray | None:
        """The constant value of input ``i``, or None when it is not a constant (or absent)."""
        if i >= len(self.inputs) or self.inputs[i] is None:
            return None
        return self.inputs[i].data

    def call_subgraph(self, index: int, args: list[np.ndarray]) -> list[np.ndarray]:
        """Runs subgraph ``index`` on ``args`` (control flow ops) and returns its outputs."""
        return self._runtime.call_subgraph(index, args)

    def num_subgraphs(self) -> int:
        return self._runtime.num_subgraphs()

    def subgraph_io(self, index: int):
        """(input tensors, output tensors) of a subgraph, for control-flow ops checking signatures."""
        return self._runtime.subgraph_io(index)

    def subgraph(self, index: int):
        """The model's subgraph ``index`` (its operators, inputs, outputs), for kernels that read a body's
        ops to pick a fast path."""
        return self._runtime.model.subgraphs[index]

    @property
    def resources(self) -> dict:
        """Interpreter-wide resource store (VAR_HANDLE variables, hash tables), reset by reset_all_variables."""
        return self._runtime.resources

    @property
    def dry_run(self) -> bool:
        """True while the interpreter runs the graph on zeros to learn shapes (after a resize, or for outputs
        the file leaves unknown). A kernel with internal state (a random generator, say) must not advance it
        then; variables and resources are restored by the executor."""
        return self._runtime is not None and self._runtime.dry_run_deadline is not None

    def check_cancelled(self) -> None:
        """Loops call this each iteration so Interpreter.cancel() can stop them."""
        self._runtime.check_cancelled()

    def __repr__(self):
        return f"<Node {self.op.index} {self.op.name}>"


@dataclass
class KernelEntry:
    name: str
    factory: Callable          # node -> callable(*inputs)
    when: Callable | None
    priority: int
    source: str                # module that registered it
    types: tuple = ()          # documentation: the input type names this entry handles
    # the op acts through state outside its data edges (resources, variables, subgraph calls): when
    # delegates partition the graph, such ops keep their relative file order
    side_effects: bool = False


_REGISTRY: dict[str, list[KernelEntry]] = {}


def _factory(obj) -> Callable:
    if inspect.isclass(obj):
        return obj
    return lambda node: functools.partial(obj, node)


def register(*names: str, when: Callable[[Node], bool] | None = None, priority: int = 0, types=(),
             side_effects: bool = False):
    """Decorator registering a kernel function or class under one or more op names."""
    def deco(obj):
        for name in names:
            entries = _REGISTRY.setdefault(name, [])
            entries.append(KernelEntry(name, _factory(obj), when, priority, obj.__module__, tuple(types),
                                       side_effects))
            entries.sort(key=lambda e: -e.priority)
        return obj
    return deco


def unregister(name: str, source: str | None = None) -> None:
    """Removes the kernels registered for ``name`` (all, or only those from module ``source``)."""
    if source is None:
        _REGISTRY.pop(name, None)
    else:
        _REGISTRY[name] = [e for e in _REGISTRY.get(name, []) if e.source != source]


def find(node: Node) -> KernelEntry | None:
    for entry in _REGISTRY.get(node.name, ()):
        if entry.when is None:
            return entry
        try:
            fits = entry.when(node)
        except (IndexError, KeyError, TypeError, AttributeError):
            fits = False        # a malformed node (wrong arity, missing tensor) fits no kernel's predicate
        if fits:
            return entry
    return None


def has_kernel(name: str) -> bool:
    return bool(_REGISTRY.get(name))


def registered() -> dict[str, list[KernelEntry]]:
    return {k: list(v) for k, v in _REGISTRY.items() if v}


# ------------------------------------------------------------------------- helpers shared by kernels

def is_quantized(t: Tensor | None) -> bool:
    return t is not None and t.quantization.is_quantized and t.type_name in ("INT8", "UINT8", "INT16", "INT4")


def quantized_node(node: Node) -> bool:
    """True when the op computes on quantized integers (its first input is a quantized integer tensor)."""
    return bool(node.inputs) and is_quantized(node.inputs[0])


def float_node(node: Node) -> bool:
    return not quantized_node(node)


def flexbuffer_options(node: Node) -> dict:
    """The custom options of ``node`` decoded as the FlexBuffer map custom ops (TFLite's detection
    post-processing, MediaPipe's transform ops) store their parameters in."""
    from flatbuffers import flexbuffers
    raw = node.custom_options or b""
    if not raw:
        raise ValueError(f"{node.name}: missing custom options")
    try:
        opts = flexbuffers.Loads(raw)
    except Exception as e:  # noqa: BLE001 - any decoding failure is a malformed model
        raise ValueError(f"{node.name}: custom options are not a valid FlexBuffer map: {e}") from None
    if not isinstance(opts, dict):
        raise ValueError(f"{node.name}: custom options must be a FlexBuffer map")
    return opts


def apply_activation(x: np.ndarray, act: str) -> np.ndarray:
    """Fused activation of TFLite's float kernels. TANH and SIGN_BIT are ignored by the float kernels
    of conv/FC/add (they only clamp), so they are ignored here too: we match the runtime, not the name."""
    if act == "NONE" or act is None or act == "TANH" or act == "SIGN_BIT":
        return x
    if act == "RELU":
        return np.maximum(x, 0, out=x) if x.flags.writeable else np.maximum(x, 0)
    if act == "RELU6":
        return np.clip(x, 0, 6, out=x) if x.flags.writeable else np.clip(x, 0, 6)
    if act == "RELU_N1_TO_1":
        return np.clip(x, -1, 1, out=x) if x.flags.writeable else np.clip(x, -1, 1)
    raise ValueError(f"unknown fused activation {act!r}")
