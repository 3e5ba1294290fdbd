"""The contract between the tfl_gpu core and delegates: pluggy hook specifications plus the plain data
types a delegate receives. This module is the ONLY thing a delegate needs to import from tfl_gpu.

A delegate is a pluggy plugin: a module, an object, or a class (instantiated once per
``load_delegate`` call) whose hook functions are marked with :data:`hookimpl`::

    from tfl_gpu.hookspecs import hookimpl

    @hookimpl
    def delegate_supports_node(node, config):
        return node.op in ("ADD", "MUL") or f"{node.op} has no kernel here"

It is published under the entry-point group ``tfl_gpu.delegates`` (``name = "package.module:plugin"``)
and loaded by name with ``tfl_gpu.load_delegate(name, options)``.

The life of a delegate, modelled on TFLite's ``SimpleDelegateInterface`` and ONNX Runtime's
``GetCapability``/``Compile``:

1. ``load_delegate`` validates the options: ``min_nodes_per_partition`` and ``max_delegated_partitions`` are
   handled by the core (TFLite's meaning); every other key must be declared by
   :func:`delegate_option_schema` and is then checked by :func:`delegate_configure`, which returns the
   delegate's ``config`` object (passed to every later hook).
2. At ``allocate_tensors`` the core asks :func:`delegate_supports_node` for every node still on the CPU.
   The node is described without any flatbuffer detail (:class:`NodeSpec`: op name, parsed options, tensor
   specs with dtype, shape, quantization and constant values). Answer ``True`` to claim it, or a string
   saying why not (shown in ``Interpreter.get_delegation_report()``).
3. The core groups claimed nodes into partitions (TFLite's algorithm: no cycle through CPU nodes, largest
   first, ``min_nodes_per_partition`` / ``max_delegated_partitions``) and calls :func:`delegate_prepare`
   once per partition (:class:`PartitionSpec`: its nodes in execution order plus the boundary tensors).
   It returns a kernel object (anything), or ``None`` to give the partition back to the CPU.
4. On every ``invoke`` the core runs the partition as one step: each boundary input goes through
   :func:`delegate_copy_in`, then :func:`delegate_invoke` computes the boundary outputs, and each of them
   goes through :func:`delegate_copy_out` (host numpy array required). Inside a partition tensors may stay
   on the device: the core never sees them. Device arrays given by the user (CuPy, DLPack) reach
   :func:`delegate_copy_in` as they are when only delegates implementing it read them, and the arrays
   handed to :func:`delegate_copy_out` stay readable through ``Interpreter.experimental_get_device_tensor``. If the boundary inputs' shapes differ from the
   ``TensorSpec.shape`` the partition was prepared for (a control-flow body called with other shapes,
   data-dependent shapes), the core runs the partition's nodes with its numpy kernels instead, warning
   once: ``delegate_invoke`` always gets the prepared shapes.
5. When the plan is replaced (``allocate_tensors`` after ``resize_tensor_input``) or dropped, the core
   calls :func:`delegate_release` for each kernel it had prepared.

Hook names are checked when a delegate is registered: a hook function whose name is not one of those
below, or whose arguments are not a subset of the specification's, is a ``ValueError``; so is a
function named ``delegate_*`` that lacks the ``@hookimpl`` mark. A hook implementation may take any
subset of the specification's arguments (by name), like every pluggy hook.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np
import pluggy

PROJECT = "tfl_gpu"
#: Marks the hook specifications below (core side).
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marks a delegate's hook implementations.
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Options handled by the core for every delegate (TFLite's meaning).
GENERIC_OPTIONS = {
    # Partitions with fewer nodes stay on the CPU.
    "min_nodes_per_partition": 1,
    # At most this many partitions (the largest ones) are delegated; <= 0 means no limit.
    "max_delegated_partitions": 0,
}


# ---------------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class QuantSpec:
    """Affine quantization of a tensor: ``real = scale * (q - zero_point)``.

    ``scales``/``zero_points`` hold one value (per-tensor) or one per slice along ``quantized_dimension``
    (per-axis)."""
    scales: np.ndarray            # float32, shape (n,)
    zero_points: np.ndarray       # int64, shape (n,)
    quantized_dimension: int = 0

    @property
    def per_axis(self) -> bool:
        return self.scales.size > 1

    @property
    def scale(self) -> float:
        return float(self.scales[0])

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0])


@dataclass(frozen=True)
class TensorSpec:
    """A tensor as a delegate sees it.

    ``shape`` is the shape the planner knows for the current input shapes (after ``resize_tensor_input``,
    the new one). ``shape_signature`` has -1 for dimensions that may change between allocations.
    ``dynamic`` is True when the shape could not be determined before running (data-dependent shapes):
    a delegate that needs static shapes should refuse nodes touching such tensors.
    ``constant`` is the read-only value of a constant tensor (weights, biases, shape operands), else None.
    For a sparse constant, ``constant`` holds the stored (compressed) values and ``sparsity`` the model's
    sparsity parameters (``traversal_order``, ``block_map``, ``dim_metadata``)."""
    index: int                    # tensor index inside its subgraph
    name: str
    type_name: str                # "FLOAT32", "INT8", "STRING", ...
    dtype: np.dtype               # numpy dtype of host arrays (object for STRING)
    shape: tuple
    shape_signature: tuple
    quantization: Optional[QuantSpec] = None
    constant: Optional[np.ndarray] = None
    is_variable: bool = False
    dynamic: bool = False
    sparsity: Any = None

    @property
    def is_constant(self) -> bool:
        return self.constant is not None


@dataclass(frozen=True, eq=False)
class NodeSpec:
    """One operator of the graph, delegate-neutral.

    ``op`` is the builtin name ("CONV_2D", "ADD", ...; "CUSTOM" for custom ops, whose name is
    ``custom_code``). ``options`` is the parsed options table with the schema's snake_case names
    (``padding``, ``stride_w``, ``fused_activation_function``, ...): it is empty when the model stored
    none, so read it with ``node.options.get(name, default)``. ``inputs`` holds one :class:`TensorSpec`
    per operator input, ``None`` for an omitted optional input."""
    index: int                    # operator index inside its subgraph
    subgraph: int
    op: str
    version: int
    options: Mapping
    inputs: tuple
    outputs: tuple
    custom_code: Optional[str] = None
    custom_options: Optional[bytes] = None
    _cpu_kernel: Optional[Callable] = field(default=None, repr=False)

    def cpu_kernel(self) -> Callable:
        """The core's numpy kernel for this node, as a callable ``f(*input_arrays) -> tuple of arrays``
        (one per output, with the outputs' dtypes). A delegate may use it for a node it cannot run
        itself (at the cost of a host round trip), and the ``reference`` delegate runs everything
        with it."""
        if self._cpu_kernel is None:
            raise RuntimeError(f"node {self.index} ({self.op}) has no CPU kernel")
        return self._cpu_kernel


@dataclass(frozen=True, eq=False)
class PartitionSpec:
    """A set of nodes handed to one delegate, to run as a single step.

    ``nodes`` are in an execution order that respects data dependencies. ``inputs`` are the boundary
    inputs: the non-constant tensors that partition nodes read and that are produced outside it
    (graph inputs, CPU nodes, other partitions), in the order the core passes them to
    :func:`delegate_invoke`. Constants are not boundary inputs: read them from ``TensorSpec.constant``.
    ``outputs`` are the tensors the partition must return, in that order: those read by nodes outside
    the partition and the subgraph's outputs. Every other tensor produced inside is private to the
    delegate (it is never read by the core, so it may live on the device only)."""
    id: int
    subgraph: int
    nodes: tuple
    inputs: tuple
    outputs: tuple

    @property
    def node_indices(self) -> tuple:
        return tuple(n.index for n in self.nodes)


# ---------------------------------------------------------------------------------------------- hooks
@hookspec(firstresult=True)
def delegate_option_schema() -> Mapping[str, Any]:
    """Optional. The delegate's own options and their defaults, e.g. ``{"device_id": 0, "precision":
    "fp32"}``. Options given to ``load_delegate`` that are neither in this mapping nor core options
    (``min_nodes_per_partition``, ``max_delegated_partitions``) are rejected with a ValueError listing the
    valid ones. Missing options are filled with these defaults before :func:`delegate_configure`.
    Without this hook the delegate takes no options of its own."""


@hookspec(firstresult=True)
def delegate_configure(options: dict) -> Any:
    """Optional. Validates the delegate's own options (defaults filled in; core options removed) and
    returns the delegate's configuration object: any object (a dict, a dataclass, a device context),
    passed as ``config`` to every other hook. Raise ``ValueError`` with a clear message for a bad value.
    Without this hook (or when it returns None) ``config`` is the options dict."""


@hookspec(firstresult=True)
def delegate_supports_node(node: NodeSpec, config: Any) -> Any:
    """Required. Says whether the delegate can run ``node`` (a :class:`NodeSpec`).

    Return ``True`` to claim it; return a string to refuse with that reason (shown in the delegation
    report); ``False``/``None`` refuse without a reason. Called at every ``allocate_tensors`` that
    re-plans, only for nodes not yet taken by an earlier delegate; shapes are the current ones, so a
    delegate that cannot handle a shape (or a dynamic one) simply refuses the node."""


@hookspec(firstresult=True)
def delegate_prepare(partition: PartitionSpec, config: Any) -> Any:
    """Required. Builds the kernel for one partition (a :class:`PartitionSpec`): upload constants, plan
    device memory, compile... Returns a kernel object of the delegate's choosing, handed back to
    :func:`delegate_invoke`, :func:`delegate_copy_in`, :func:`delegate_copy_out` and
    :func:`delegate_release`. Return ``None`` to decline the partition: its nodes then run on the CPU.
    An exception aborts ``allocate_tensors`` with a RuntimeError naming the delegate and partition."""


@hookspec(firstresult=True)
def delegate_invoke(kernel: Any, inputs: list, config: Any) -> Sequence:
    """Required. Runs a prepared partition. ``inputs`` holds one array per ``partition.inputs`` (each
    the result of :func:`delegate_copy_in`). Returns one array per ``partition.outputs``, in order (each
    then passed to :func:`delegate_copy_out`). Must not modify the input arrays."""


@hookspec(firstresult=True)
def delegate_copy_in(kernel: Any, array: Any, tensor: TensorSpec, config: Any) -> Any:
    """Optional. Moves one boundary input to the delegate (e.g. host to device). ``array`` is usually a
    numpy array, but may be whatever the user stored in an input tensor (e.g. the delegate's own device
    array): return it unchanged when it already lives on the device. Default: unchanged.

    Implementing this hook declares that the delegate takes non-numpy arrays: when the user passes
    ``Interpreter.set_tensor`` an array object that is not a numpy array but exposes ``__dlpack__`` or
    ``__cuda_array_interface__`` (a CuPy array, a ``torch.cuda`` tensor, ...), with the tensor's dtype
    and shape, and every node reading that graph input runs in partitions of delegates implementing
    this hook, the core hands that object here as it is (no host copy; it may be non-contiguous, on
    another device, or owned by another library: import it with DLPack and make it usable). Otherwise
    the core converts it to numpy once, so CPU kernels and delegates without this hook only ever see
    numpy arrays."""


@hookspec(firstresult=True)
def delegate_copy_out(kernel: Any, array: Any, tensor: TensorSpec, config: Any) -> Any:
    """Optional. Moves one boundary output back to the host: must return a numpy array with
    ``tensor.dtype`` (the core coerces other dtypes). Default: ``numpy.asarray(array)``.

    ``array`` (what :func:`delegate_invoke` returned for this output) is also what
    ``Interpreter.experimental_get_device_tensor`` hands the user until the next invoke, when it is not
    a plain numpy array: so users can read a result on the device without a host copy. Return
    fresh arrays from ``delegate_invoke`` (or buffers that stay valid until the next invoke) and do not
    modify them after returning them."""


@hookspec
def delegate_release(kernel: Any, config: Any) -> None:
    """Optional. The core no longer uses ``kernel`` (the plan was replaced): free its device memory."""


#: Hooks every delegate must implement.
REQUIRED_HOOKS = ("delegate_supports_node", "delegate_prepare", "delegate_invoke")
#: Every hook name of the contract.
HOOK_NAMES = ("delegate_option_schema", "delegate_configure", "delegate_supports_node", "delegate_prepare",
              "delegate_invoke", "delegate_copy_in", "delegate_copy_out", "delegate_release")


class FrozenOptions(Mapping):
    """A read-only mapping of a node's options, also readable as attributes (``options.padding``)."""
    __slots__ = ("_d",)

    def __init__(self, d: Mapping = ()):
        object.__setattr__(self, "_d", MappingProxyType(dict(d)))

    def __getitem__(self, k):
        return self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __getattr__(self, k):
        try:
            return self._d[k]
        except KeyError:
            raise AttributeError(k) from None

    def __setattr__(self, k, v):
        raise AttributeError("node options are read-only")

    def __repr__(self):
        return f"FrozenOptions({dict(self._d)!r})"
