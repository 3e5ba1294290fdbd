"""Applying delegates to a planned subgraph (the contract is :mod:`tfl_gpu.hookspecs`).

``apply_delegates(subgraph_runtime, delegates)`` runs after ``SubgraphRuntime.plan`` (one CPU step per
node). For each delegate in order:

1. every node still on the CPU is described as a :class:`~tfl_gpu.hookspecs.NodeSpec` and offered to
   ``delegate_supports_node`` (nodes the core never delegates — control flow calling subgraphs, nodes
   updating variable tensors — are refused with a reason without asking);
2. the steps are partitioned as TFLite does (``PartitionGraphIntoIndependentNodeSubsets``): walking the
   dependency graph in topological order, all ready steps of the current kind (claimed / not claimed) are
   gathered into one subset before switching kind, so every subset depends only on earlier subsets and no
   cycle can pass through a CPU node;
3. the claimed subsets are taken largest first, at most ``max_delegated_partitions`` of them (<= 0: all),
   none smaller than ``min_nodes_per_partition``; the others stay on the CPU (and the next delegate may
   take them);
4. each taken subset is prepared by ``delegate_prepare`` and replaces its steps with ONE step whose
   inputs/outputs are the partition's boundary tensors (outputs: only those read outside the partition
   and the subgraph outputs).

Nodes with side effects (resource variables, subgraph calls, variable tensors) keep their relative order
through control edges. Release lists are recomputed afterwards; ``SubgraphRuntime.node_info`` records
the placement of every node and each delegate's refusal reason.
"""
from __future__ import annotations

import heapq
import weakref

import numpy as np

from .delegates_api import check_delegates
from .hookspecs import FrozenOptions, NodeSpec, PartitionSpec, QuantSpec, TensorSpec
from .kernels.registry import find
from .validate import called_subgraphs

#: Seconds the shape-propagation run at allocate_tensors may take before it is cancelled (the shapes it
#: did not reach are then marked dynamic).
SHAPE_PROPAGATION_BUDGET_S = 20.0

def apply_delegates(sub, delegates) -> None:
    """Partitions ``sub`` (an executor.SubgraphRuntime, planned) among ``delegates`` in order."""
    delegates = check_delegates(delegates)
    release_partitions(sub)
    if not delegates or not sub.steps:
        return
    known = propagate_shapes(sub)
    ctx = _Context(sub, known)
    labels = _unique_labels(delegates)
    kernels: list = []
    next_pid = 0
    for d, label in zip(delegates, labels):
        steps = sub.steps
        claimed = [False] * len(steps)
        for si, st in enumerate(steps):
            if st.executor != "cpu" or len(st.nodes) != 1:
                continue
            ni = st.nodes[0]
            reason = ctx.core_refusal(ni)
            if reason is None:
                try:
                    ok, reason = d.supports(ctx.node_spec(ni))
                except Exception as e:  # noqa: BLE001 - re-raised naming the delegate
                    raise RuntimeError(f"delegate '{label}' failed in delegate_supports_node for node {ni} "
                                       f"({sub.nodes[ni].op.name}): {type(e).__name__}: {e}") from e
                claimed[si] = ok
            if reason is not None:
                sub.node_info[ni].refusals[label] = reason
        if not any(claimed):
            continue
        subsets = partition_steps(steps, claimed, ctx.side_effect_steps(steps), sub.sg.outputs)
        cand = [k for k, (is_del, _) in enumerate(subsets) if is_del]
        cand.sort(key=lambda k: -len(subsets[k][1]))      # stable: earlier first among equals
        chosen = set()
        for k in cand:
            size = len(subsets[k][1])
            if size < d.min_nodes_per_partition:
                why = (f"its partition has {size} node(s), fewer than min_nodes_per_partition="
                       f"{d.min_nodes_per_partition}")
            elif 0 < d.max_delegated_partitions <= len(chosen):
                why = (f"max_delegated_partitions={d.max_delegated_partitions} reached (larger partitions "
                       "were delegated)")
            else:
                chosen.add(k)
                continue
            for si in subsets[k][1]:
                sub.node_info[steps[si].nodes[0]].refusals[label] = why
        new_steps = []
        for k, (is_del, members) in enumerate(subsets):
            if k in chosen:
                pspec = ctx.partition_spec(next_pid, [steps[si] for si in members], steps, members)
                try:
                    handle = d.call("delegate_prepare", partition=pspec)
                except Exception as e:  # noqa: BLE001 - re-raised naming delegate and partition
                    raise RuntimeError(f"delegate '{label}' failed to prepare partition {next_pid} (nodes "
                                       f"{list(pspec.node_indices)}): {type(e).__name__}: {e}") from e
                if handle is not None:
                    new_steps.append(_partition_step(d, label, handle, pspec, [steps[si] for si in members],
                                                     sub.values, sub.device_values))
                    kernels.append((d, handle))
                    for n in pspec.nodes:
                        info = sub.node_info[n.index]
                        info.executor = label
                        info.partition = next_pid
                        info.refusals.pop(label, None)
                    next_pid += 1
                    continue
                for si in members:
                    sub.node_info[steps[si].nodes[0]].refusals[label] = "the delegate declined its partition"
            new_steps.extend(steps[si] for si in members)
        sub.steps = new_steps
    for info in sub.node_info:       # a node some delegate runs needs no refusal list
        if info.executor != "cpu":
            info.refusals.clear()
    sub.set_release(False)
    sub.delegate_kernels = kernels
    sub._delegate_finalizer = weakref.finalize(sub, _release_all, kernels)


def release_partitions(sub) -> None:
    """Calls ``delegate_release`` for the kernels of ``sub``'s previous plan."""
    fin = getattr(sub, "_delegate_finalizer", None)
    if fin is not None:
        fin()
    sub._delegate_finalizer = None
    sub.delegate_kernels = []


def _release_all(kernels) -> None:
    for d, handle in kernels:
        try:
            d.call("delegate_release", kernel=handle)
        except Exception:  # noqa: BLE001 - releasing must not raise (may run at interpreter teardown)
            pass
    kernels.clear()


# ------------------------------------------------------------------------------------------ partitioning
def partition_steps(steps, claimed, side_effect, graph_outputs=()) -> list:
    """TFLite's partitioning: returns ``[(is_claimed, [step indices])]`` in an executable order.

    Dependencies are the data edges between steps plus control edges keeping side-effect steps in their
    original relative order. Starting with the kind of the first ready step, all ready steps of the
    current kind (and those they make ready) form one subset; then the kind switches."""
    n = len(steps)
    producer = {}
    for si, st in enumerate(steps):
        for o in st.outputs:
            producer[o] = si
    preds = [set() for _ in range(n)]
    for si, st in enumerate(steps):
        for i in st.inputs:
            p = producer.get(i)
            if p is not None and p != si:
                preds[si].add(p)
    prev = None
    for si in range(n):
        if side_effect[si]:
            if prev is not None:
                preds[si].add(prev)
            prev = si
    succs = [[] for _ in range(n)]
    for si in range(n):
        for p in preds[si]:
            succs[p].append(si)
    indeg = [len(p) for p in preds]
    ready = {True: [], False: []}
    for si in range(n):
        if indeg[si] == 0:
            heapq.heappush(ready[bool(claimed[si])], si)
    if not n:
        return []
    first = min(ready[True][:1] + ready[False][:1])
    kind = bool(claimed[first])
    out = []
    placed = 0
    idle_switches = 0
    while placed < n:
        heap = ready[kind]
        subset = []
        while heap:
            si = heapq.heappop(heap)
            subset.append(si)
            placed += 1
            for s in succs[si]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    heapq.heappush(ready[bool(claimed[s])], s)
        if subset:
            out.append((kind, subset))
            idle_switches = 0
        else:
            idle_switches += 1
            if idle_switches > 2:
                raise RuntimeError("the graph has a dependency cycle; cannot partition it")
        kind = not kind
    return out


# ------------------------------------------------------------------------------------------ specs
class _Context:
    """Builds delegate-neutral specs for one subgraph (cached per node / tensor)."""

    def __init__(self, sub, known_shapes):
        self.sub = sub
        self.known = known_shapes
        self._tensors: dict = {}
        self._nodes: dict = {}
        self._cpu_steps = {st.nodes[0]: st for st in sub.steps if len(st.nodes) == 1 and st.executor == "cpu"}
        self._side = [self._node_side_effect(k) for k in range(len(sub.nodes))]

    def tensor_spec(self, i: int) -> TensorSpec | None:
        if i < 0:
            return None
        ts = self._tensors.get(i)
        if ts is None:
            sub = self.sub
            t = sub.tensors[i]
            q = t.quantization
            qs = None
            if q is not None and q.is_quantized:
                qs = QuantSpec(np.asarray(q.scales, np.float32).copy(), np.asarray(q.zero_points, np.int64).copy(),
                               int(q.quantized_dimension))
            shape = tuple(int(x) for x in sub.shapes[i])
            dynamic = not (t.is_constant or i in self.known) or any(x < 0 for x in shape)
            ts = TensorSpec(index=i, name=t.name, type_name=t.type_name, dtype=np.dtype(t.dtype), shape=shape,
                            shape_signature=tuple(int(x) for x in t.shape_signature),
                            quantization=qs, constant=t.data if t.is_constant else None,
                            is_variable=bool(t.is_variable), dynamic=bool(dynamic), sparsity=t.sparsity)
            self._tensors[i] = ts
        return ts

    def node_spec(self, k: int) -> NodeSpec:
        ns = self._nodes.get(k)
        if ns is None:
            node = self.sub.nodes[k]
            op = node.op
            st = self._cpu_steps.get(k)
            cpu = _cpu_kernel(st.kernel, st.out_dtypes) if st is not None else None
            ns = NodeSpec(index=op.index, subgraph=self.sub.sg.index, op=op.opcode, version=int(op.version or 1),
                          options=FrozenOptions(op.options or {}),
                          inputs=tuple(self.tensor_spec(i) for i in op.inputs),
                          outputs=tuple(self.tensor_spec(i) for i in op.outputs),
                          custom_code=op.custom_code, custom_options=op.custom_options, _cpu_kernel=cpu)
            self._nodes[k] = ns
        return ns

    def core_refusal(self, k: int) -> str | None:
        op = self.sub.nodes[k].op
        if called_subgraphs(op):
            return "calls subgraphs (control flow runs on the CPU)"
        ts = self.sub.tensors
        for i in list(op.inputs) + list(op.outputs):
            if i >= 0 and ts[i].is_variable:
                return "reads or updates a variable tensor (stateful ops run on the CPU)"
        return None

    def _node_side_effect(self, k: int) -> bool:
        node = self.sub.nodes[k]
        op = node.op
        # the kernel's registration says whether the op acts outside its data edges; an op without a
        # kernel is treated as if it did
        entry = find(node)
        if entry is None or entry.side_effects:
            return True
        ts = self.sub.tensors
        for i in list(op.inputs) + list(op.outputs):
            if i >= 0 and (ts[i].is_variable or ts[i].type_name in ("RESOURCE", "VARIANT")):
                return True
        return bool(called_subgraphs(op))

    def side_effect_steps(self, steps) -> list:
        return [any(self._side[k] for k in st.nodes) for st in steps]

    def partition_spec(self, pid: int, members, all_steps, member_idx) -> PartitionSpec:
        sub = self.sub
        inside = set(member_idx)
        produced = set()
        nodes = []
        for st in members:
            nodes.append(self.node_spec(st.nodes[0]))
            produced.update(st.outputs)
        inputs = []
        seen = set()
        for st in members:
            for i in st.inputs:
                if i < 0 or i in produced or i in seen or sub.tensors[i].is_constant:
                    continue
                seen.add(i)
                inputs.append(i)
        read_outside = set(sub.sg.outputs)
        for si, st in enumerate(all_steps):
            if si not in inside:
                read_outside.update(st.inputs)
        outputs = []
        for st in members:
            for o in st.outputs:
                if o in read_outside and o not in outputs:
                    outputs.append(o)
        return PartitionSpec(id=pid, subgraph=sub.sg.index, nodes=tuple(nodes),
                             inputs=tuple(self.tensor_spec(i) for i in inputs),
                             outputs=tuple(self.tensor_spec(o) for o in outputs))


def _cpu_kernel(kernel, out_dtypes):
    from .executor import _as_dtype

    def run(*args):
        out = kernel(*args)
        if type(out) is list:
            out = tuple(out)
        elif type(out) is not tuple:
            out = (out,)
        return tuple(v if (type(v) is np.ndarray and v.dtype == dt) else _as_dtype(v, dt)
                     for v, dt in zip(out, out_dtypes))
    return run


def _partition_step(d, label, handle, pspec, cpu_steps, values, device_values=None):
    from .device_arrays import to_host
    from .executor import Step, _as_dtype
    if device_values is None:
        device_values = {}
    in_specs = pspec.inputs
    out_specs = pspec.outputs
    copy_in = d.bound("delegate_copy_in", kernel=handle)
    copy_out = d.bound("delegate_copy_out", kernel=handle)
    invoke = d.bound("delegate_invoke", kernel=handle)
    n_out = len(out_specs)
    in_shapes = tuple(t.shape for t in in_specs)
    in_idx = tuple(t.index for t in in_specs)
    out_idx = tuple(t.index for t in out_specs)
    inside = {o for st in cpu_steps for o in st.outputs}
    consts = {i: values[i] for st in cpu_steps for i in st.inputs
              if i >= 0 and i not in inside and i not in in_idx}
    warned = []

    def run_on_cpu(arrays):
        """Input shapes differ from those the partition was prepared for (data-dependent shapes, or a
        control-flow body called with other shapes): run the partition's nodes with the numpy kernels."""
        if not warned:
            warned.append(True)
            import warnings
            warnings.warn(f"delegate '{label}' partition {pspec.id} was prepared for input shapes {in_shapes} "
                          f"but got {tuple(tuple(getattr(a, 'shape', ())) for a in arrays)}; its nodes run on the "
                          "CPU when that happens", RuntimeWarning, stacklevel=2)
        env = dict(consts)
        for i, a in zip(in_idx, arrays):
            env[i] = a if isinstance(a, np.ndarray) else to_host(a)
        for o in out_idx:
            device_values.pop(o, None)
        env[-1] = None
        for st in cpu_steps:
            out = st.kernel(*[env[i] for i in st.inputs])
            if type(out) is list:
                out = tuple(out)
            elif type(out) is not tuple:
                out = (out,)
            for o, v, dt in zip(st.outputs, out, st.out_dtypes):
                env[o] = v if (type(v) is np.ndarray and v.dtype == dt) else _as_dtype(v, dt)
        return tuple(env[o] for o in out_idx)

    def run_partition(*arrays):
        for a, shp in zip(arrays, in_shapes):
            if getattr(a, "shape", None) != shp:
                return run_on_cpu(arrays)
        if copy_in is not None:
            arrays = [copy_in(array=a, tensor=t) for a, t in zip(arrays, in_specs)]
        else:
            arrays = list(arrays)
        outs = invoke(inputs=arrays)
        if outs is None:
            outs = ()
        outs = tuple(outs)
        if len(outs) != n_out:
            raise RuntimeError(f"delegate '{label}' returned {len(outs)} outputs for partition {pspec.id}, "
                               f"which has {n_out} boundary outputs")
        if copy_out is not None:
            # the delegate's own arrays stay readable (Interpreter.experimental_get_device_tensor)
            for o, a in zip(out_idx, outs):
                if type(a) is np.ndarray:
                    device_values.pop(o, None)
                else:
                    device_values[o] = a
            return tuple(copy_out(array=a, tensor=t) for a, t in zip(outs, out_specs))
        return tuple(a if type(a) is np.ndarray else np.asarray(a) for a in outs)

    return Step(run_partition, in_idx, out_idx,
                tuple(t.dtype for t in out_specs), pspec.node_indices, executor=label,
                label=f"{label} partition {pspec.id}", device_inputs=copy_in is not None)


def _unique_labels(delegates) -> list:
    labels, counts = [], {}
    for d in delegates:
        c = counts.get(d.name, 0) + 1
        counts[d.name] = c
        labels.append(d.name if c == 1 else f"{d.name}#{c}")
    return labels


# ------------------------------------------------------------------------------------------ shapes
def propagate_shapes(sub) -> set:
    """Every tensor's shape for the current inputs, before nodes are offered (see
    SubgraphRuntime.propagate_shapes); returns the tensors whose shape is known."""
    return sub.propagate_shapes(budget_s=SHAPE_PROPAGATION_BUDGET_S)


# ------------------------------------------------------------------------------------------ report
def format_report(report) -> str:
    """Renders ``Interpreter.get_delegation_report()`` as a text table (one line per node)."""
    lines = [f"{'node':>4}  {'op':<24} {'executor':<14} {'part':>4}  why not delegated"]
    for r in report:
        part = "" if r["partition"] is None else str(r["partition"])
        why = "; ".join(f"{k}: {v}" for k, v in r["refusals"].items())
        lines.append(f"{r['index']:>4}  {r['op']:<24} {r['executor']:<14} {part:>4}  {why}".rstrip())
    return "\n".join(lines)


def summarize_report(report) -> str:
    """A few lines from ``Interpreter.get_delegation_report()``: nodes and partitions per executor, and
    the CPU nodes grouped by op and refusal reason."""
    by_exec: dict = {}
    for r in report:
        e = by_exec.setdefault(r["executor"], [0, set()])
        e[0] += 1
        if r["partition"] is not None:
            e[1].add(r["partition"])
    parts = []
    for name, (count, pids) in by_exec.items():
        parts.append(f"{count} on {name}" + (f" ({len(pids)} partition{'s' if len(pids) != 1 else ''})"
                                              if name != "cpu" else ""))
    lines = [f"{len(report)} nodes: " + ", ".join(parts)]
    groups: dict = {}
    for r in report:
        if r["executor"] == "cpu":
            why = "; ".join(f"{k}: {v}" for k, v in r["refusals"].items()) or "no delegate claimed it"
            groups.setdefault((r["op"], why), []).append(r["index"])
    for (op, why), nodes in groups.items():
        shown = ", ".join(map(str, nodes[:8])) + (", ..." if len(nodes) > 8 else "")
        lines.append(f"  cpu {op} x{len(nodes)} (nodes {shown}): {why}")
    return "\n".join(lines)
