"""Planning and running subgraphs.

``allocate_tensors`` plans once per subgraph: each operator is bound to a kernel from the registry,
tensor lifetimes give each step the list of intermediate values it frees (so their memory is reused by
later steps: the arena is numpy's allocator fed by exact lifetimes), and delegates may replace runs of
steps with partitions. ``invoke`` is then a tight loop over precomputed steps.

The core knows no op by name: it only asks the registry for a kernel.
"""
from __future__ import annotations

import threading
import time
from operator import itemgetter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import kernels as _kernels  # noqa: F401  (fills the registry)
from .errors import CancelledError, InvokeError, ModelError, UnsupportedOperatorError
from .kernels.registry import Node, find
from .model import Model, Subgraph, Tensor

#: Longest a shape-propagation dry run may loop before shapes are left to invoke time.
DRY_RUN_SECONDS = 2.0
CUSTOM_OP_HELP = "See instructions: https://www.tensorflow.org/lite/guide/ops_custom"


@dataclass
class Step:
    """One entry of the execution plan: a CPU kernel for one node, or a delegate partition."""
    kernel: Callable
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    out_dtypes: tuple
    nodes: tuple[int, ...]            # operator indices this step runs
    executor: str = "cpu"             # "cpu" or the delegate's name
    release: tuple[int, ...] = ()     # values freed after this step
    label: str = ""
    # True when the kernel takes non-numpy (device) arrays as inputs as they are (a delegate partition whose
    # delegate implements delegate_copy_in): an input tensor read only by such steps may hold a device array
    device_inputs: bool = False


@dataclass
class NodeInfo:
    """Per-node placement, for reports: which executor runs it and why a delegate refused it."""
    index: int
    op: str
    executor: str = "cpu"
    partition: int | None = None
    refusals: dict = field(default_factory=dict)    # delegate name -> reason


class SubgraphRuntime:
    def __init__(self, runtime: "Runtime", sg: Subgraph):
        self.runtime = runtime
        self.sg = sg
        n = len(sg.tensors)
        self.tensors: list[Tensor] = sg.tensors
        self.shapes: list[tuple] = [tuple(int(d) for d in t.shape) for t in sg.tensors]
        # values[-1] is a permanent None so an omitted optional input (index -1) reads as None.
        self.values: list = [None] * (n + 1)
        self.nodes: list[Node] = []
        self._steps: list[Step] = []
        self._prog = None                 # the compiled run loop (see _compile), rebuilt after changes
        self.node_info: list[NodeInfo] = []
        # tensor index -> the delegate's own (device) array of a partition output at the last invoke, as
        # handed to delegate_copy_out (see Interpreter.experimental_get_device_tensor)
        self.device_values: dict = {}
        self.planned = False
        self.resized = False

    @property
    def steps(self) -> list[Step]:
        return self._steps

    @steps.setter
    def steps(self, steps: list[Step]) -> None:
        self._steps = steps
        self._prog = None
        self._device_ok = None

    def takes_device_value(self, i: int) -> bool:
        """True when tensor ``i`` is read by at least one step and every step reading it takes device
        arrays as they are (so a device array set by the user needs no host copy)."""
        ok = getattr(self, "_device_ok", None)
        if ok is None:
            readers: dict = {}
            for st in self._steps:
                for k in set(st.inputs):
                    readers[k] = readers.get(k, True) and st.device_inputs
            ok = self._device_ok = readers
        return ok.get(i, False)

    # ------------------------------------------------------------------ planning
    def plan(self, resolver: str, preserve_all: bool) -> None:
        sg = self.sg
        self.nodes = []
        steps = []
        for op in sg.operators:
            node = Node(op, self.tensors, resolver, sg.index, self.runtime)
            self.nodes.append(node)
            entry = find(node)
            if entry is None:
                raise UnsupportedOperatorError(_unresolved_message(op))
            try:
                kernel = entry.factory(node)
            except (ValueError, NotImplementedError, TypeError, KeyError, IndexError) as e:
                raise RuntimeError(f"Node number {op.index} ({op.name}) failed to prepare: {e}") from e
            steps.append(Step(kernel, tuple(op.inputs), tuple(op.outputs),
                              tuple(self.tensors[o].dtype for o in op.outputs), (op.index,), "cpu",
                              label=op.name))
        self.node_info = [NodeInfo(op.index, op.name) for op in sg.operators]
        self.device_values.clear()
        self.steps = steps
        self._allocate_values()
        self.set_release(preserve_all)
        self.planned = True

    def set_release(self, preserve_all: bool) -> None:
        """Frees each intermediate value after its last reader (unless every tensor is to be preserved)."""
        keep = set(self.sg.inputs) | set(self.sg.outputs)
        keep |= {t.index for t in self.tensors if t.is_constant or t.is_variable}
        # a value no step produces (e.g. an empty constant stored without a buffer) can never be rebuilt
        keep |= {i for st in self.steps for i in st.inputs} - {o for st in self.steps for o in st.outputs}
        last_use: dict[int, int] = {}
        for si, st in enumerate(self.steps):
            for i in st.inputs:
                if i >= 0:
                    last_use[i] = si
            for o in st.outputs:
                last_use.setdefault(o, si)
        release = [[] for _ in self.steps]
        if not preserve_all:
            for t, si in last_use.items():
                if t not in keep:
                    release[si].append(t)
        for st, rel in zip(self.steps, release):
            st.release = tuple(rel)
        self._prog = None

    def _check_sizes(self) -> None:
        """Before anything is allocated: no tensor's declared size may overflow, and the tensors allocated
        here (inputs, variables) must fit the per-tensor memory cap (tfl_gpu.limits)."""
        from .limits import check_allocation, tensor_bytes
        inputs = set(self.sg.inputs)
        for t in self.tensors:
            if t.is_constant:
                continue
            what = f"subgraph {self.sg.index} tensor {t.index} ('{t.name}')"
            shape = self.shapes[t.index]
            if t.is_variable or t.index in inputs:
                check_allocation(shape, t.dtype, what)
            elif t.dtype != np.object_ and tensor_bytes(shape, t.dtype) >= 1 << 63:
                raise ModelError(f"{what}: the byte size of shape {list(shape)} overflows")

    def _allocate_values(self) -> None:
        self._check_sizes()
        vals = self.values
        for t in self.tensors:
            if t.is_constant:
                vals[t.index] = t.data
            elif t.is_variable:
                vals[t.index] = self.initial_variable(t)
            elif t.index not in self.sg.inputs:
                vals[t.index] = None        # values of an earlier plan: stale shapes after a resize
        for i in self.sg.inputs:
            t = self.tensors[i]
            if not t.is_constant:
                cur = vals[i]
                shape = self.shapes[i]
                if cur is not None and not isinstance(cur, np.ndarray):     # a device array set by the user:
                    from .device_arrays import to_host                      # the new plan may run it on the CPU
                    cur = vals[i] = to_host(cur)
                if cur is None or cur.shape != shape or cur.dtype != t.dtype:
                    vals[i] = _zeros(shape, t.dtype)
        # A zero-element tensor that no op writes and no buffer holds (an empty constant such as the shape
        # [] of a FILL or of a RESHAPE to a scalar) reads as an empty array, as in LiteRT.
        produced = {o for op in self.sg.operators for o in op.outputs} | set(self.sg.inputs)
        for t in self.tensors:
            if vals[t.index] is None and t.index not in produced and t.shape.size and not t.shape.all():
                vals[t.index] = _zeros(self.shapes[t.index], t.dtype)

    def initial_variable(self, t: Tensor) -> np.ndarray:
        # LiteRT resets variable tensors to 0, except INT8 ones which hold their zero point.
        if t.type_name == "INT8" and t.quantization.is_quantized:
            return np.full(self.shapes[t.index], t.quantization.zero_point, dtype=np.int8)
        return _zeros(self.shapes[t.index], t.dtype)

    def reset_variables(self) -> None:
        for t in self.tensors:
            if t.is_variable and not t.is_constant:
                init = self.initial_variable(t)
                cur = self.values[t.index]
                if (isinstance(cur, np.ndarray) and cur.shape == init.shape and cur.dtype == init.dtype
                        and cur.flags.writeable and cur.dtype != np.object_):
                    cur[...] = init         # in place, as LiteRT: tensor() views see the reset
                else:
                    self.values[t.index] = init

    # ------------------------------------------------------------------ running
    def run(self, timings: list | None = None) -> None:
        # Floating-point warnings are silenced once per invoke (LiteRT is silent on inf/NaN arithmetic), so
        # kernels need no np.errstate context of their own (~2 us each); nested subgraph calls inherit it.
        rt = self.runtime
        if not rt.fp_quiet:
            rt.fp_quiet = True
            token = _fp_quiet_enter()
            try:
                self._run(timings)
            finally:
                _fp_quiet_exit(token)
                rt.fp_quiet = False
        else:
            self._run(timings)

    def _run(self, timings: list | None) -> None:
        if timings is not None:
            return self._run_timed(timings)
        prog = self._prog
        if prog is None:
            prog = self._prog = self._compile()
        vals = self.values
        rt = self.runtime
        for st, mode, arg, out1, dt, rel in prog:
            if rt.cancel_requested:
                rt.raise_cancelled()
            try:
                if mode == 1:
                    out = st.kernel(vals[arg])
                elif mode == 2:
                    out = st.kernel(*arg(vals))
                else:
                    out = st.kernel()
            except (CancelledError, ModelError):
                raise
            except Exception as e:  # noqa: BLE001 - re-raised with the node named
                raise InvokeError(f"Node number {st.nodes[0]} ({st.label}) failed to invoke: "
                                  f"{type(e).__name__}: {e}") from e
            if type(out) is np.ndarray and out1 is not None and (out.dtype is dt or out.dtype == dt):
                vals[out1] = out            # the common case: one output array of the declared type
            else:
                self._store(st, out)
            for r in rel:
                vals[r] = None

    def _compile(self) -> list:
        """Per step: (step, argument mode, index or getter, single output index or None, its dtype,
        values to release): the loop then builds no argument list and no output tuple per step."""
        prog = []
        for st in self.steps:
            ins = st.inputs
            if len(ins) == 1:
                mode, arg = 1, ins[0]
            elif len(ins) == 0:
                mode, arg = 0, None
            else:
                mode, arg = 2, itemgetter(*ins)
            single = len(st.outputs) == 1
            prog.append((st, mode, arg, st.outputs[0] if single else None,
                         st.out_dtypes[0] if single else None, tuple(st.release)))
        return prog

    def _store(self, st: Step, out) -> None:
        vals = self.values
        if type(out) is not tuple:
            if type(out) is list:
                out = tuple(out)
            else:
                out = (out,)
        if len(out) != len(st.outputs):
            raise InvokeError(f"Node number {st.nodes[0]} ({st.label}) produced {len(out)} outputs, "
                              f"the model declares {len(st.outputs)}")
        for o, v, dt in zip(st.outputs, out, st.out_dtypes):
            if type(v) is not np.ndarray or v.dtype != dt:
                v = _as_dtype(v, dt)
            vals[o] = v

    def _run_timed(self, timings: list) -> None:
        vals = self.values
        rt = self.runtime
        for st in self.steps:
            if rt.cancel_requested:
                rt.raise_cancelled()
            args = [vals[i] for i in st.inputs]
            t0 = time.perf_counter()
            try:
                out = st.kernel(*args)
            except (CancelledError, ModelError):
                raise
            except Exception as e:  # noqa: BLE001 - re-raised with the node named
                raise InvokeError(f"Node number {st.nodes[0]} ({st.label}) failed to invoke: "
                                  f"{type(e).__name__}: {e}") from e
            self._store(st, out)
            for r in st.release:
                vals[r] = None
            timings.append((st, time.perf_counter() - t0))

    def shape_of(self, i: int) -> tuple:
        v = self.values[i]
        if v is not None and hasattr(v, "shape"):
            return tuple(v.shape)
        return self.shapes[i]

    def propagate_shapes(self, budget_s: float | None = None) -> set:
        """Runs the plan once on zero inputs to learn every tensor's shape for the current input shapes
        (LiteRT computes them in Prepare). Variables, resources and values are restored afterwards, and
        kernels see ``node.dry_run`` so internal state (random generators) does not advance. A loop may run
        at most ``budget_s`` seconds. Returns the indices of the tensors whose shape was computed; shapes of
        the others (data-dependent graphs) become known at invoke."""
        rt = self.runtime
        saved_vals = list(self.values)
        saved_res = rt.snapshot_resources()
        saved_release = [st.release for st in self.steps]
        saved_device = dict(self.device_values)     # a dry run's delegate outputs are not results
        # stateful kernels update variable tensors in place: keep copies to put back
        saved_vars = {t.index: self.values[t.index].copy() for t in self.tensors
                      if t.is_variable and isinstance(self.values[t.index], np.ndarray)}
        known = set()
        try:
            for st in self.steps:
                st.release = ()
            self._prog = None
            rt.dry_run_deadline = time.monotonic() + (DRY_RUN_SECONDS if budget_s is None else budget_s)
            with np.errstate(all="ignore"):
                self.run()
        except Exception:  # noqa: BLE001 - data-dependent graphs: the shapes reached so far are kept
            pass
        finally:
            rt.dry_run_deadline = None
            for t in self.tensors:
                v = self.values[t.index]
                if v is not None and hasattr(v, "shape") and not t.is_constant:
                    self.shapes[t.index] = tuple(int(x) for x in v.shape)
                    known.add(t.index)
            for st, rel in zip(self.steps, saved_release):
                st.release = rel
            self._prog = None
            self.values[:] = saved_vals
            self.device_values.clear()
            self.device_values.update(saved_device)
            rt.restore_resources(saved_res)
            for i, v in saved_vars.items():
                cur = self.values[i]
                if isinstance(cur, np.ndarray) and cur.shape == v.shape and cur.flags.writeable:
                    np.copyto(cur, v)
                else:
                    self.values[i] = v
        return known


class Runtime:
    """Interpreter-wide execution state: every subgraph's runtime, resources, cancellation."""

    def __init__(self, model: Model):
        self.model = model
        self.subgraphs = [SubgraphRuntime(self, sg) for sg in model.subgraphs]
        self.resources: dict = {}
        self.cancel_requested = False
        self.dry_run_deadline: float | None = None
        self._depth = 0
        self.fp_quiet = False             # inside a run that silences floating-point warnings
        self.lock = threading.Lock()

    def num_subgraphs(self) -> int:
        return len(self.subgraphs)

    def subgraph_io(self, index: int):
        sg = self.subgraphs[index].sg
        return [sg.tensors[i] for i in sg.inputs], [sg.tensors[i] for i in sg.outputs]

    def call_subgraph(self, index: int, args: list) -> list:
        if not 0 <= index < len(self.subgraphs):
            raise ModelError(f"subgraph index {index} out of range ({len(self.subgraphs)} subgraphs)")
        sub = self.subgraphs[index]
        if len(args) != len(sub.sg.inputs):
            raise ModelError(f"subgraph {index} takes {len(sub.sg.inputs)} inputs, got {len(args)}")
        if self._depth > 64:
            raise ModelError("control flow nests deeper than 64 subgraph calls (recursive model?)")
        self._depth += 1
        try:
            for i, a in zip(sub.sg.inputs, args):
                sub.values[i] = a
            sub.run()
            return [sub.values[o] for o in sub.sg.outputs]
        finally:
            self._depth -= 1

    def snapshot_resources(self):
        import copy
        return copy.deepcopy(self.resources), [list(s.values) for s in self.subgraphs]

    def restore_resources(self, snap) -> None:
        res, vals = snap
        self.resources.clear()
        self.resources.update(res)
        for s, v in zip(self.subgraphs, vals):
            s.values[:] = v

    def check_cancelled(self) -> None:
        if self.cancel_requested:
            self.raise_cancelled()
        if self.dry_run_deadline is not None and time.monotonic() > self.dry_run_deadline:
            # shape propagation must not hang on a loop whose trip count depends on real input values
            raise TimeoutError("shape propagation stopped: a loop ran past its time budget")

    def raise_cancelled(self):
        self.cancel_requested = False
        raise CancelledError("invoke() was cancelled")


try:    # np.errstate(all="ignore") without its per-use object and option parsing (~2 us): the same context
    # variable numpy's errstate sets, with the "ignore" state derived once per enclosing state
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
    _make_extobj(all="ignore")
except Exception:  # noqa: BLE001 - other numpy versions: the public context manager
    _extobj_contextvar = None
_quiet_cache: list = [None, None]       # [enclosing state, its "ignore all" variant]


def _fp_quiet_enter():
    if _extobj_contextvar is None:
        ctx = np.errstate(all="ignore")
        ctx.__enter__()
        return ctx
    cur = _extobj_contextvar.get()
    cache = _quiet_cache
    if cache[0] is not cur:
        cache[1] = _make_extobj(all="ignore")       # derived from the current state (keeps bufsize, call)
        cache[0] = cur
    return _extobj_contextvar.set(cache[1])


def _fp_quiet_exit(token) -> None:
    if _extobj_contextvar is None:
        token.__exit__(None, None, None)
    else:
        _extobj_contextvar.reset(token)


def _zeros(shape, dtype) -> np.ndarray:
    if dtype == np.object_:
        a = np.empty(shape, dtype=object)
        a.fill(b"")
        return a
    return np.zeros(shape, dtype=dtype)


def _as_dtype(v, dt) -> np.ndarray:
    if dt == np.object_:
        return np.asarray(v, dtype=object)
    a = np.asarray(v)
    if a.dtype != dt:
        a = a.astype(dt)
    return a


def _unresolved_message(op) -> str:
    if op.opcode == "CUSTOM":
        return (f"Encountered unresolved custom op: {op.custom_code}.\n{CUSTOM_OP_HELP} "
                f"Node number {op.index} ({op.custom_code}) failed to prepare.")
    return (f"Didn't find op for builtin opcode '{op.opcode}' version '{op.version}'. "
            f"An older version of this builtin might be supported.\n"
            f"Node number {op.index} ({op.opcode}) failed to prepare.")
