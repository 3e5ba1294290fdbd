"""Structural checks on untrusted model bytes, kept apart from the reader and the kernels."""
from __future__ import annotations

import struct

import numpy as np

from .errors import ModelError, PrepareError


def check_flatbuffer_bounds(buf) -> None:
    """Cheap checks before the generated binding touches the bytes: root table and its vtable in range."""
    size = len(buf)
    (root,) = struct.unpack_from("<I", buf, 0)
    if root + 4 > size:
        raise ModelError(f"Malformed model file: root table offset {root} is outside the {size}-byte file")
    (vt_rel,) = struct.unpack_from("<i", buf, root)
    vt = root - vt_rel
    if not 0 <= vt <= size - 4:
        raise ModelError("Malformed model file: root vtable lies outside the file")
    vt_size, _ = struct.unpack_from("<HH", buf, vt)
    if vt + vt_size > size or vt_size < 4:
        raise ModelError("Malformed model file: root vtable is truncated")


_QUANTIZABLE = ("INT8", "UINT8", "INT16", "INT4", "INT2")

# Input positions the schema documents as optional (index -1 allowed). Recurrent ops (LSTM/RNN/SVDF families)
# have many optional inputs and are left to their kernels; custom and StableHLO ops likewise.
_OPTIONAL_INPUTS = {
    "CONV_2D": {2}, "DEPTHWISE_CONV_2D": {2}, "FULLY_CONNECTED": {2}, "TRANSPOSE_CONV": {3},
    "CONV_3D": {2}, "CONV_3D_TRANSPOSE": {3}, "RESHAPE": {1}, "BATCH_MATMUL": set(),
}
_OPTIONAL_UNCHECKED = ("LSTM", "RNN", "SVDF", "STABLEHLO", "CUSTOM", "DELEGATE")


def _check_omitted_inputs(op, where: str) -> None:
    if any(k in op.opcode for k in _OPTIONAL_UNCHECKED):
        return
    allowed = _OPTIONAL_INPUTS.get(op.opcode, set())
    for pos, i in enumerate(op.inputs):
        if i == -1 and pos not in allowed:
            raise ModelError(f"{where}: input {pos} is omitted (-1), but {op.opcode} requires it")


def validate_model(model) -> None:
    """Semantic checks on a parsed model (indices, quantization, sparsity, graph order, control flow).
    Each failure is a ModelError that names the subgraph and the op or tensor."""
    for sg in model.subgraphs:
        where_sg = f"subgraph {sg.index}"
        for t in sg.tensors:
            _check_tensor(t, where_sg)
        produced_by: dict[int, int] = {}
        for op in sg.operators:
            for o in op.outputs:
                if o < 0:
                    raise ModelError(f"{where_sg} operator {op.index} ({op.name}): output index -1 is not allowed")
                produced_by.setdefault(o, op.index)
        for op in sg.operators:
            where = f"{where_sg} operator {op.index} ({op.name})"
            _check_omitted_inputs(op, where)
            for i in op.inputs:
                if i < 0:
                    continue
                t = sg.tensors[i]
                p = produced_by.get(i)
                # operators run in file order; reading what a later operator writes is a cycle (a variable
                # tensor is state that persists between invokes and may be read first)
                if p is not None and p >= op.index and not t.is_variable:
                    raise ModelError(f"{where}: reads tensor {i} ('{t.name}') that operator {p} writes later "
                                     "(the graph has a cycle or is not in execution order)")


def validate_control_flow(model) -> None:
    """Subgraph references of control-flow ops: in range and never recursive. Run at allocate_tensors, where
    LiteRT reports these (PrepareError is both a RuntimeError, as LiteRT's, and a ValueError)."""
    n_sub = len(model.subgraphs)
    calls: dict[int, set[int]] = {sg.index: set() for sg in model.subgraphs}
    for sg in model.subgraphs:
        for op in sg.operators:
            for key, value in op.options.items():
                if "subgraph" not in key:
                    continue
                for v in _subgraph_refs(value):
                    if not 0 <= v < n_sub:
                        raise PrepareError(f"subgraph {sg.index} operator {op.index} ({op.name}): {key} {v} out of "
                                           f"range ({n_sub} subgraphs). Node number {op.index} ({op.name}) "
                                           "failed to prepare.")
                    calls[sg.index].add(v)
    _check_recursion(calls)


def called_subgraphs(op) -> list[int]:
    """The subgraphs an operator's options name: what IF, WHILE, CALL_ONCE and the StableHLO ops with a body
    or branches run (every option whose name mentions a subgraph holds one index or a list of them)."""
    return [v for key, value in (op.options or {}).items() if "subgraph" in key for v in _subgraph_refs(value)]


def _subgraph_refs(value) -> list[int]:
    """The subgraph indices one option names: a single index, or a list (STABLEHLO_CASE's branches)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [int(value)]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [int(v) for v in np.ravel(value)]
    return []


def _check_tensor(t, where_sg: str) -> None:
    what = f"{where_sg} tensor {t.index} ('{t.name}')"
    if np.any(t.shape < 0):
        raise ModelError(f"{what}: negative dimension in shape {list(t.shape)}")
    q = t.quantization
    if q.scales.size:
        if not np.all(np.isfinite(q.scales)) or np.any(q.scales < 0):
            raise ModelError(f"{what}: quantization scales must be finite and non-negative, got "
                             f"{q.scales[:8].tolist()}")
        if t.type_name in _QUANTIZABLE and np.any(q.scales == 0):
            raise ModelError(f"{what}: quantization scale 0 on a {t.type_name} tensor")
        if q.zero_points.size not in (0, q.scales.size):
            raise ModelError(f"{what}: {q.scales.size} scales but {q.zero_points.size} zero points")
        if q.scales.size > 1:
            rank = len(t.shape)
            if not 0 <= q.quantized_dimension < max(rank, 1):
                raise ModelError(f"{what}: quantized_dimension {q.quantized_dimension} out of range for rank {rank}")
            if rank and int(t.shape[q.quantized_dimension]) != q.scales.size:
                raise ModelError(f"{what}: {q.scales.size} per-axis scales but dimension {q.quantized_dimension} "
                                 f"has size {int(t.shape[q.quantized_dimension])}")
    if t.sparsity is not None:
        _check_sparsity(t, what)


def _check_sparsity(t, what: str) -> None:
    sp = t.sparsity
    rank = len(t.shape)
    order = [int(v) for v in sp.traversal_order]
    block_map = [int(v) for v in sp.block_map]
    n_dims = rank + len(block_map)
    if sorted(order) != list(range(n_dims)):
        raise ModelError(f"{what}: sparsity traversal_order {order} is not a permutation of 0..{n_dims - 1}")
    if any(not 0 <= b < rank for b in block_map):
        raise ModelError(f"{what}: sparsity block_map {block_map} names dimensions outside rank {rank}")
    if len(sp.dim_metadata) != n_dims:
        raise ModelError(f"{what}: sparsity has {len(sp.dim_metadata)} dim_metadata entries, expected {n_dims}")
    for k, d in enumerate(sp.dim_metadata):
        if d.format == "DENSE":
            if d.dense_size < 0:
                raise ModelError(f"{what}: sparsity dimension {k} has negative dense_size")
        else:
            seg, idx = d.array_segments, d.array_indices
            if seg is None or idx is None or seg.size == 0:
                raise ModelError(f"{what}: sparse dimension {k} lacks array_segments/array_indices")
            if seg[0] != 0 or np.any(np.diff(seg) < 0) or seg[-1] > idx.size:
                raise ModelError(f"{what}: sparse dimension {k} has inconsistent array_segments")
            if idx.size and (idx.min() < 0):
                raise ModelError(f"{what}: sparse dimension {k} has negative array_indices")


def _check_recursion(calls: dict[int, set[int]]) -> None:
    """Control flow may call subgraphs, but never (directly or not) the calling subgraph again."""
    state: dict[int, int] = {}

    def visit(s, stack):
        state[s] = 1
        for c in calls.get(s, ()):
            if state.get(c) == 1:
                cycle = " -> ".join(str(x) for x in stack + [c])
                raise PrepareError(f"recursive control flow between subgraphs: {cycle} (a subgraph may not "
                                   "call itself); failed to prepare.")
            if state.get(c) is None:
                visit(c, stack + [c])
        state[s] = 2

    for s in calls:
        if state.get(s) is None:
            visit(s, [s])
