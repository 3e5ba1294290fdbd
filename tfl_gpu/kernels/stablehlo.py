"""The StableHLO operators LiteRT's builtin resolver runs.

STABLEHLO_ADD / MULTIPLY / MAXIMUM / MINIMUM / AND / SHIFT_LEFT (same-shape elementwise, no broadcasting),
STABLEHLO_PAD (edge padding that may be negative = cropping, plus interior padding), STABLEHLO_GATHER,
STABLEHLO_SCATTER (update computation given by a subgraph), STABLEHLO_REDUCE_WINDOW (body subgraph),
STABLEHLO_COMPOSITE (runs its decomposition subgraph), STABLEHLO_CASE (runs one of its branch subgraphs),
STABLEHLO_RNG_BIT_GENERATOR (Threefry / Philox bits).

Semantics follow the StableHLO specification as LiteRT implements it (see the notes at each kernel for the
places where LiteRT picks one of the behaviours the specification leaves open).
"""
from __future__ import annotations

import numpy as np

from ..limits import check_allocation
from .control_flow import check_arity, check_subgraph, detach_outputs
from .registry import register
from .window import reduce_windows

_INT_TYPES = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
_NUM_TYPES = ("FLOAT32", "FLOAT16", "FLOAT64") + _INT_TYPES


def not_ref(node) -> bool:
    """LiteRT's BUILTIN_REF resolver lacks STABLEHLO_AND, STABLEHLO_SHIFT_LEFT and STABLEHLO_CASE."""
    return node.resolver != "BUILTIN_REF"


def int_list(options, name: str) -> list[int]:
    """An integer-vector option of the StableHLO option tables (absent: empty)."""
    return [int(v) for v in options.get(name, [])]


def _same_shapes(name, a, b):
    if a.shape != b.shape:
        raise ValueError(f"{name}: operand shapes {list(a.shape)} and {list(b.shape)} differ "
                         "(StableHLO elementwise ops do not broadcast)")
    if a.dtype != b.dtype:
        raise ValueError(f"{name}: operand types {a.dtype} and {b.dtype} differ")


def _elementwise(name, fn, allowed=None):
    class Elementwise:
        def __init__(self, node):
            if len(node.inputs) != 2 or len(node.outputs) != 1:
                raise ValueError(f"{name} takes 2 inputs and has 1 output")
            tn = node.inputs[0].type_name if node.inputs[0] is not None else None
            if allowed is not None and tn not in allowed:
                raise ValueError(f"{name} does not support {tn} tensors (supported: {', '.join(allowed)})")

        def __call__(self, a, b):
            a, b = np.asarray(a), np.asarray(b)
            _same_shapes(name, a, b)
            with np.errstate(over="ignore", invalid="ignore"):
                return np.asarray(fn(a, b)).astype(a.dtype, copy=False)
    Elementwise.__name__ = Elementwise.__qualname__ = name.title().replace("_", "")
    Elementwise.__module__ = __name__
    return Elementwise


def _max(a, b):
    # LiteRT: a >= b ? a : b (a NaN in a yields b)
    return np.where(a >= b, a, b)


def _min(a, b):
    return np.where(a <= b, a, b)


def _and(a, b):
    if a.dtype == np.bool_:
        return np.logical_and(a, b)
    return np.bitwise_and(a, b)


register("STABLEHLO_ADD", types=_NUM_TYPES)(_elementwise("STABLEHLO_ADD", np.add))
register("STABLEHLO_MULTIPLY", types=_NUM_TYPES)(_elementwise("STABLEHLO_MULTIPLY", np.multiply))
register("STABLEHLO_MAXIMUM", types=_NUM_TYPES)(_elementwise("STABLEHLO_MAXIMUM", _max))
register("STABLEHLO_MINIMUM", types=_NUM_TYPES)(_elementwise("STABLEHLO_MINIMUM", _min))
register("STABLEHLO_AND", when=not_ref, types=("BOOL",) + _INT_TYPES)(
    _elementwise("STABLEHLO_AND", _and, ("BOOL",) + _INT_TYPES))


def _shift_left(a, b):
    # C++ promotes to int and truncates on store: shift in 64 bits, keep the low bits (two's complement).
    s = b.astype(np.int64)
    return np.where((s >= 0) & (s < 64), a.astype(np.int64) << np.clip(s, 0, 63), 0)


register("STABLEHLO_SHIFT_LEFT", when=not_ref, types=("INT8", "INT16", "INT32"))(
    _elementwise("STABLEHLO_SHIFT_LEFT", _shift_left, ("INT8", "INT16", "INT32")))


# ----------------------------------------------------------------------------------------------- pad

def _opt_vec(node, name, rank, default):
    v = node.options.get(name)
    if v is None or len(v) == 0:
        return np.full(rank, default, np.int64)
    v = np.asarray(v, np.int64).ravel()
    return v


def stablehlo_pad_array(x, value, low, high, interior):
    """Pads ``x`` as stablehlo.pad: ``interior`` elements between neighbours, ``low``/``high`` at the edges
    (negative: crop)."""
    rank = x.ndim
    low, high, interior = (np.asarray(v, np.int64) for v in (low, high, interior))
    if len(low) != rank or len(high) != rank or len(interior) != rank:
        raise ValueError(f"STABLEHLO_PAD: padding vectors must have {rank} entries (the input rank), got "
                         f"{len(low)}/{len(high)}/{len(interior)}")
    if np.any(interior < 0):
        raise ValueError("STABLEHLO_PAD: interior padding must be non-negative")
    step = interior + 1
    out_shape = [(int(d) - 1) * int(st) + 1 + int(lo) + int(hi) for d, st, lo, hi in zip(x.shape, step, low, high)]
    if any(s <= 0 for s in out_shape):
        return np.zeros([0] * rank, x.dtype)      # LiteRT: every dimension 0 when any would be <= 0
    # full (uncropped) tensor with non-negative edges, then crop
    full_shape = [(int(d) - 1) * int(st) + 1 + max(int(lo), 0) + max(int(hi), 0) if d > 0 else
                  max(int(lo), 0) + max(int(hi), 0) for d, st, lo, hi in zip(x.shape, step, low, high)]
    check_allocation(full_shape, x.dtype, "STABLEHLO_PAD output")
    full = np.full(full_shape, value, dtype=x.dtype)
    if x.size:
        sl = tuple(slice(max(int(lo), 0), max(int(lo), 0) + (int(d) - 1) * int(st) + 1, int(st))
                   for d, st, lo in zip(x.shape, step, low))
        full[sl] = x
    crop = tuple(slice(max(-int(lo), 0), max(-int(lo), 0) + s) for lo, s in zip(low, out_shape))
    return np.ascontiguousarray(full[crop])


@register("STABLEHLO_PAD", types=_NUM_TYPES + ("BOOL",))
def stablehlo_pad(node, x, padding_value):
    x = np.asarray(x)
    pv = np.asarray(padding_value)
    if pv.size != 1:
        raise ValueError(f"STABLEHLO_PAD: the padding value must hold one element, got {pv.size}")
    if pv.dtype != x.dtype:
        raise ValueError(f"STABLEHLO_PAD: padding value type {pv.dtype} differs from the input type {x.dtype}")
    if x.ndim == 0:
        raise ValueError("STABLEHLO_PAD: the input rank must be at least 1")
    r = x.ndim
    return stablehlo_pad_array(x, pv.reshape(-1)[0], _opt_vec(node, "edge_padding_low", r, 0),
                               _opt_vec(node, "edge_padding_high", r, 0), _opt_vec(node, "interior_padding", r, 0))


# -------------------------------------------------------------------------------------------- gather

def _index_vectors(indices, index_vector_dim):
    """Moves the index vector dimension last (adding a length-1 one when it equals the rank)."""
    ind = np.asarray(indices).astype(np.int64)
    ivd = int(index_vector_dim)
    if ivd == ind.ndim:
        return ind[..., None]
    if not 0 <= ivd < ind.ndim:
        raise ValueError(f"index_vector_dim {ivd} out of range for indices of rank {ind.ndim}")
    return np.moveaxis(ind, ivd, -1)


@register("STABLEHLO_GATHER", types=_NUM_TYPES)
class StablehloGather:
    def __init__(self, node):
        o = node.options
        self.offset_dims = int_list(o, "offset_dims")
        self.collapsed = int_list(o, "collapsed_slice_dims")
        self.start_index_map = int_list(o, "start_index_map")
        self.ivd = int(o.get("index_vector_dim", 0))
        self.slice_sizes = np.asarray(o.get("slice_sizes", []), np.int64)
        if node.inputs[1] is not None and node.inputs[1].type_name not in ("INT32", "INT64"):
            raise ValueError(f"STABLEHLO_GATHER: start indices must be int32 or int64, "
                             f"got {node.inputs[1].type_name}")

    def __call__(self, operand, start_indices):
        operand = np.asarray(operand)
        r = operand.ndim
        if len(self.slice_sizes) != r:
            raise ValueError(f"STABLEHLO_GATHER: slice_sizes has {len(self.slice_sizes)} entries, "
                             f"the operand rank is {r}")
        if any(d < 0 or d >= r for d in self.collapsed + self.start_index_map):
            raise ValueError("STABLEHLO_GATHER: collapsed_slice_dims/start_index_map out of the operand's range")
        if np.any(self.slice_sizes < 0) or np.any(self.slice_sizes > np.asarray(operand.shape)):
            raise ValueError(f"STABLEHLO_GATHER: slice_sizes {self.slice_sizes.tolist()} exceed the operand "
                             f"shape {list(operand.shape)}")
        idx = _index_vectors(start_indices, self.ivd)            # batch + [K]
        if idx.shape[-1] != len(self.start_index_map):
            raise ValueError(f"STABLEHLO_GATHER: index vectors have {idx.shape[-1]} entries, start_index_map "
                             f"has {len(self.start_index_map)}")
        batch_shape = idx.shape[:-1]
        start = np.zeros(batch_shape + (r,), np.int64)
        for k, d in enumerate(self.start_index_map):
            start[..., d] = idx[..., k]
        start = np.clip(start, 0, np.asarray(operand.shape, np.int64) - self.slice_sizes)
        offset_operand_dims = [d for d in range(r) if d not in self.collapsed]
        off_shape = tuple(int(self.slice_sizes[d]) for d in offset_operand_dims)
        if len(off_shape) != len(self.offset_dims):
            raise ValueError("STABLEHLO_GATHER: offset_dims does not match the uncollapsed slice dimensions")
        nb = len(batch_shape)
        check_allocation(batch_shape + off_shape, np.int64, "STABLEHLO_GATHER index grid")
        # operand index per operand dim: start (batch dims) + offset (offset dims)
        grids = np.indices(off_shape, dtype=np.int64) if off_shape else np.zeros((0,), np.int64)
        full = []
        for d in range(r):
            s = start[..., d].reshape(batch_shape + (1,) * len(off_shape))
            if d in offset_operand_dims:
                g = grids[offset_operand_dims.index(d)].reshape((1,) * nb + off_shape)
                full.append(s + g)
            else:
                full.append(s)
        gathered = operand[tuple(np.broadcast_arrays(*full))] if r else operand[...]
        gathered = np.broadcast_to(gathered, batch_shape + off_shape)
        # place offset dims at offset_dims, batch dims elsewhere in order
        out_rank = nb + len(off_shape)
        order = [None] * out_rank
        for k, d in enumerate(sorted(self.offset_dims)):
            if not 0 <= d < out_rank:
                raise ValueError(f"STABLEHLO_GATHER: offset dim {d} out of range for result rank {out_rank}")
            order[d] = nb + k
        rest = iter(range(nb))
        order = [next(rest) if o is None else o for o in order]
        return np.ascontiguousarray(np.transpose(gathered, order))


# ------------------------------------------------------------------------------ subgraph body helpers

_BODY_UFUNCS = {
    "ADD": np.add, "STABLEHLO_ADD": np.add, "MUL": np.multiply, "STABLEHLO_MULTIPLY": np.multiply,
    "MAXIMUM": "max", "STABLEHLO_MAXIMUM": "max", "MINIMUM": "min", "STABLEHLO_MINIMUM": "min",
    "LOGICAL_AND": "all", "STABLEHLO_AND": "all", "LOGICAL_OR": "any", "STABLEHLO_OR": "any",
}


def _body_ops(node, index):
    n = node.num_subgraphs()
    if not 0 <= index < n:
        raise ValueError(f"{node.name}: body subgraph index {index} out of range (the model has {n} subgraphs)")
    if index == node.subgraph_index:
        raise ValueError(f"{node.name}: the body subgraph is the subgraph holding the op")
    return [op.name for op in node.subgraph(index).operators]


# -------------------------------------------------------------------------------------------- scatter

@register("STABLEHLO_SCATTER", types=_NUM_TYPES)
class StablehloScatter:
    """Updates ``inputs`` at the places ``scatter_indices`` name. The update computation subgraph is read as
    LiteRT reads it: no op = replace, one ADD/MULTIPLY/MAXIMUM/MINIMUM = that combination. Any other body is
    run through the subgraph element by element (LiteRT refuses those). Out-of-bounds updates are skipped
    (the reference interpreter's choice, which LiteRT follows). Updates apply in row-major order of
    ``updates``."""

    _COMBINE = {"STABLEHLO_ADD": "add", "STABLEHLO_MULTIPLY": "mul", "STABLEHLO_MAXIMUM": "max",
                "STABLEHLO_MINIMUM": "min"}

    def __init__(self, node):
        self.node = node
        o = node.options
        self.update_window_dims = int_list(o, "update_window_dims")
        self.inserted = int_list(o, "inserted_window_dims")
        self.to_operand = int_list(o, "scatter_dims_to_operand_dims")
        self.ivd = int(o.get("index_vector_dim", 0))
        self.body = int(o.get("update_computation_subgraph_index", 0))
        ops = _body_ops(node, self.body)
        if not ops:
            self.kind = "update"
        elif len(ops) == 1 and ops[0] in self._COMBINE:
            self.kind = self._COMBINE[ops[0]]
        else:
            self.kind = "subgraph"
        if len(node.inputs) != 3:
            raise ValueError(f"STABLEHLO_SCATTER takes 3 inputs, got {len(node.inputs)}")
        if node.inputs[1] is not None and node.inputs[1].type_name not in ("INT32", "INT64"):
            raise ValueError(f"STABLEHLO_SCATTER: indices must be int32 or int64, got {node.inputs[1].type_name}")

    def __call__(self, inputs, scatter_indices, updates):
        x = np.asarray(inputs)
        upd = np.asarray(updates)
        if upd.dtype != x.dtype:
            raise ValueError(f"STABLEHLO_SCATTER: updates type {upd.dtype} differs from the input type {x.dtype}")
        r = x.ndim
        out = np.array(x, copy=True)
        if upd.size == 0:
            return out
        idx = _index_vectors(scatter_indices, self.ivd)               # scatter_batch + [K]
        if idx.shape[-1] != len(self.to_operand):
            raise ValueError("STABLEHLO_SCATTER: index vector length differs from scatter_dims_to_operand_dims")
        scatter_dims = [d for d in range(upd.ndim) if d not in self.update_window_dims]
        if tuple(upd.shape[d] for d in scatter_dims) != idx.shape[:-1]:
            raise ValueError(f"STABLEHLO_SCATTER: updates shape {list(upd.shape)} does not match the indices' "
                             f"batch shape {list(idx.shape[:-1])}")
        window_operand_dims = [d for d in range(r) if d not in self.inserted]
        if len(window_operand_dims) != len(self.update_window_dims):
            raise ValueError("STABLEHLO_SCATTER: update_window_dims and inserted_window_dims do not match the "
                             "input rank")
        grid = np.indices(upd.shape, dtype=np.int64)                  # U x updates.shape
        batch_index = tuple(grid[d] for d in scatter_dims)
        vec = idx[batch_index] if scatter_dims else np.broadcast_to(idx, upd.shape + idx.shape[-1:])
        target = []
        for d in range(r):
            t = np.zeros(upd.shape, np.int64)
            if d in self.to_operand:
                t = t + vec[..., self.to_operand.index(d)]
            if d in window_operand_dims:
                t = t + grid[self.update_window_dims[window_operand_dims.index(d)]]
            target.append(t.ravel())
        shape = np.asarray(x.shape, np.int64)
        valid = np.ones(upd.size, bool)
        for d in range(r):
            valid &= (target[d] >= 0) & (target[d] < shape[d])
        flat = np.ravel_multi_index(tuple(t[valid] for t in target), x.shape) if r else np.zeros(int(valid.sum()),
                                                                                                   np.int64)
        vals = upd.ravel()[valid]
        of = out.reshape(-1)
        if self.kind == "update":
            # the last write in row-major update order wins
            rev = flat[::-1]
            uniq, first = np.unique(rev, return_index=True)
            of[uniq] = vals[::-1][first]
        elif self.kind == "add":
            np.add.at(of, flat, vals)
        elif self.kind == "mul":
            np.multiply.at(of, flat, vals)
        elif self.kind in ("max", "min"):
            if vals.dtype.kind == "f" and (np.isnan(vals).any() or np.isnan(of[flat]).any()):
                # std::max(a, b) = a < b ? b : a; std::min(a, b) = b < a ? b : a (NaN order as LiteRT)
                for f, v in zip(flat.tolist(), vals):
                    if (of[f] < v) if self.kind == "max" else (v < of[f]):
                        of[f] = v
            else:
                (np.maximum if self.kind == "max" else np.minimum).at(of, flat, vals)
        else:
            for f, v in zip(flat.tolist(), vals):
                self.node.check_cancelled()
                (res,) = self.node.call_subgraph(self.body, [np.asarray(of[f]), np.asarray(v)])
                of[f] = np.asarray(res).reshape(-1)[0]
        return out


# -------------------------------------------------------------------------------------- reduce window

@register("STABLEHLO_REDUCE_WINDOW", types=_NUM_TYPES + ("BOOL",))
class StablehloReduceWindow:
    """Base dilation and padding (filled with the init value, negative padding crops), then a strided,
    dilated window reduction. The body subgraph is recognised as LiteRT recognises it (one ADD/MUL/MAXIMUM/
    MINIMUM/AND/OR, TFLite or StableHLO); any other body is applied through the subgraph, which is then
    run elementwise on whole arrays once per window element."""

    def __init__(self, node):
        self.node = node
        o = node.options
        self.window = o.get("window_dimensions")
        self.strides = o.get("window_strides")
        self.base = o.get("base_dilations")
        self.wdil = o.get("window_dilations")
        self.padding = o.get("padding")
        self.body = int(o.get("body_subgraph_index", 0))
        ops = _body_ops(node, self.body)
        self.fn = _BODY_UFUNCS.get(ops[0]) if len(ops) == 1 else None
        if self.fn is None:
            self.fn = self._call_body
        if len(node.inputs) != 2:
            raise ValueError(f"STABLEHLO_REDUCE_WINDOW takes 2 inputs (operand, init value), got "
                             f"{len(node.inputs)}")

    def _call_body(self, acc, x):
        self.node.check_cancelled()
        (res,) = self.node.call_subgraph(self.body, [acc, x])
        return np.asarray(res)

    def _vec(self, v, rank, default):
        if v is None or len(v) == 0:
            return np.full(rank, default, np.int64)
        v = np.asarray(v, np.int64).ravel()
        if len(v) != rank:
            raise ValueError(f"STABLEHLO_REDUCE_WINDOW: attribute has {len(v)} entries, the input rank is {rank}")
        return v

    def __call__(self, x, init):
        x = np.asarray(x)
        init = np.asarray(init)
        if init.dtype != x.dtype or init.size != 1:
            raise ValueError("STABLEHLO_REDUCE_WINDOW: the init value must be one element of the input type")
        r = x.ndim
        if not 1 <= r <= 6:
            raise ValueError(f"STABLEHLO_REDUCE_WINDOW: input rank must be 1..6, got {r}")
        window = self._vec(self.window, r, 1)
        strides = self._vec(self.strides, r, 1)
        base = self._vec(self.base, r, 1)
        wdil = self._vec(self.wdil, r, 1)
        pad = np.asarray(self.padding if self.padding is not None and len(self.padding) else np.zeros(2 * r),
                         np.int64).ravel()
        if len(pad) != 2 * r:
            raise ValueError(f"STABLEHLO_REDUCE_WINDOW: padding has {len(pad)} entries, expected {2 * r}")
        for name, v in (("base_dilations", base), ("window_dimensions", window), ("window_strides", strides),
                        ("window_dilations", wdil)):
            if np.any(v <= 0):
                raise ValueError(f"STABLEHLO_REDUCE_WINDOW: {name} must be positive, got {v.tolist()}")
        iv = init.reshape(-1)[0]
        y = stablehlo_pad_array(x, iv, pad[0::2], pad[1::2], base - 1) if (np.any(base != 1) or np.any(pad)) \
            else x
        return reduce_windows(y, iv, window, strides, wdil, self.fn)


# ------------------------------------------------------------------------------------------ composite

@register("STABLEHLO_COMPOSITE")
class StablehloComposite:
    """Runs the decomposition subgraph on the op's inputs (the composite's name and attributes are
    metadata for delegates)."""

    def __init__(self, node):
        self.node = node
        self.index = check_subgraph(node, node.options.get("decomposition_subgraph_index", 0), "decomposition")
        check_arity(node, self.index, len(node.inputs), len(node.outputs), "decomposition")

    def __call__(self, *args):
        outs = self.node.call_subgraph(self.index, list(args))
        return detach_outputs(outs, args)


@register("STABLEHLO_CASE", when=not_ref, types=("INT32",))
class StablehloCase:
    """Runs branch ``index`` (an int32 scalar, the first input) on the other inputs; an index out of range
    selects the last branch, as in stablehlo.case."""

    def __init__(self, node):
        self.node = node
        idx = node.options.get("branch_subgraph_indices")
        if idx is None or len(idx) == 0:
            raise ValueError("STABLEHLO_CASE needs at least one branch (branch_subgraph_indices)")
        if not node.inputs or node.inputs[0] is None or node.inputs[0].type_name != "INT32":
            raise ValueError("STABLEHLO_CASE: the first input must be an int32 branch index")
        self.branches = [check_subgraph(node, int(b), f"branch {k}") for k, b in enumerate(np.ravel(idx))]
        for k, b in enumerate(self.branches):
            check_arity(node, b, len(node.inputs) - 1, len(node.outputs), f"branch {k}")

    def __call__(self, index, *args):
        index = np.asarray(index)
        if index.size != 1:
            raise ValueError(f"STABLEHLO_CASE: the index must hold one element, got shape {list(index.shape)}")
        i = int(index.reshape(-1)[0])
        if not 0 <= i < len(self.branches):
            i = len(self.branches) - 1
        outs = self.node.call_subgraph(self.branches[i], list(args))
        return detach_outputs(outs, args)


# ------------------------------------------------------------------------------------ rng bit generator

def _u32(x):
    return np.asarray(x, np.uint64).astype(np.uint32)


def threefry2x32(key0: int, key1: int, c0: np.ndarray, c1: np.ndarray):
    """Threefry-2x32 with 20 rounds on counter vectors (c0, c1); returns the two output words."""
    rot = ((13, 15, 26, 6), (17, 29, 16, 24))
    k0, k1 = np.uint32(key0), np.uint32(key1)
    k2 = np.uint32(key0 ^ key1 ^ 0x1BD11BDA)
    x0 = (c0.astype(np.uint32) + k0).astype(np.uint32)
    x1 = (c1.astype(np.uint32) + k1).astype(np.uint32)
    schedule = ((0, k1, k2, 1), (1, k2, k0, 2), (0, k0, k1, 3), (1, k1, k2, 4), (0, k2, k0, 5))
    with np.errstate(over="ignore"):
        for r, ks0, ks1, b in schedule:
            for s in rot[r]:
                x0 = x0 + x1
                x1 = (x1 << np.uint32(s)) | (x1 >> np.uint32(32 - s))
                x1 = x1 ^ x0
            x0 = x0 + ks0
            x1 = x1 + np.uint32((int(ks1) + b) & 0xFFFFFFFF)
    return x0, x1


def philox4x32(key0: int, key1: int, c0, c1, c2, c3):
    """Philox-4x32 with 10 rounds on counter vectors; returns the four output words."""
    k0, k1 = key0 & 0xFFFFFFFF, key1 & 0xFFFFFFFF
    x = [np.asarray(c, np.uint64) for c in (c0, c1, c2, c3)]
    for _ in range(10):
        p0 = x[0] * np.uint64(0xD2511F53)
        p1 = x[2] * np.uint64(0xCD9E8D57)
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(0xFFFFFFFF)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(0xFFFFFFFF)
        x = [hi1 ^ x[1] ^ np.uint64(k0), lo1, hi0 ^ x[3] ^ np.uint64(k1), lo0]
        k0 = (k0 + 0x9E3779B9) & 0xFFFFFFFF
        k1 = (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return [_u32(v) for v in x]


@register("STABLEHLO_RNG_BIT_GENERATOR", types=("UINT64",))
class StablehloRngBitGenerator:
    """(initial_state u64[2|3]) -> (new_state, random bits of the output's static shape). THREEFRY uses a
    u64[2] state (key, 64-bit counter), PHILOX/DEFAULT a u64[2] or u64[3] state (key, counter words); the
    counter advances by one per block of 2 (Threefry) or 4 (Philox) 32-bit words, as in LiteRT."""

    def __init__(self, node):
        if len(node.inputs) != 1 or len(node.outputs) != 2:
            raise ValueError("STABLEHLO_RNG_BIT_GENERATOR takes one state input and has two outputs")
        self.algorithm = int(node.options.get("algorithm", 0))
        if self.algorithm not in (0, 1, 2):
            raise ValueError(f"STABLEHLO_RNG_BIT_GENERATOR: unknown algorithm {self.algorithm}")
        out = node.outputs[1]
        if out.type_name not in ("INT32", "INT64", "UINT32", "UINT64"):
            raise ValueError(f"STABLEHLO_RNG_BIT_GENERATOR: output type must be a 32/64-bit integer, got "
                             f"{out.type_name}")
        if node.inputs[0] is not None and node.inputs[0].type_name != "UINT64":
            raise ValueError("STABLEHLO_RNG_BIT_GENERATOR: the state must be uint64")
        self.shape = tuple(int(d) for d in out.shape)
        if any(d < 0 for d in self.shape):
            raise ValueError("STABLEHLO_RNG_BIT_GENERATOR: the output needs a static shape")
        self.dtype = out.dtype
        check_allocation(self.shape, self.dtype, "STABLEHLO_RNG_BIT_GENERATOR output")

    def __call__(self, state):
        st = np.asarray(state)
        if st.dtype != np.uint64 or st.ndim != 1:
            raise ValueError("STABLEHLO_RNG_BIT_GENERATOR: the state must be a 1-D uint64 tensor")
        words = np.ascontiguousarray(st).astype("<u8").view("<u4").astype(np.uint32)
        n = int(np.prod(self.shape)) * (2 if self.dtype.itemsize == 8 else 1)
        if self.algorithm == 2:
            if st.shape[0] != 2:
                raise ValueError(f"STABLEHLO_RNG_BIT_GENERATOR: THREEFRY needs a u64[2] state, got "
                                 f"{list(st.shape)}")
            block = 2
        else:
            if st.shape[0] not in (2, 3):
                raise ValueError(f"STABLEHLO_RNG_BIT_GENERATOR: PHILOX needs a u64[2] or u64[3] state, got "
                                 f"{list(st.shape)}")
            block = 4
        key0, key1 = int(words[0]), int(words[1])
        start = int(words[2]) | (int(words[3]) << 32)
        nblocks = -(-n // block)
        ctr = (np.uint64(start) + np.arange(nblocks, dtype=np.uint64)) if nblocks else np.zeros(0, np.uint64)
        c0 = ctr & np.uint64(0xFFFFFFFF)
        c1 = ctr >> np.uint64(32)
        if block == 2:
            outs = threefry2x32(key0, key1, c0, c1)
        else:
            if st.shape[0] == 3:
                c2, c3 = int(words[4]), int(words[5])
            else:
                c2, c3 = key0, key1
            outs = philox4x32(key0, key1, c0, c1, np.full(nblocks, c2, np.uint64), np.full(nblocks, c3, np.uint64))
        bits = np.stack(outs, axis=1).reshape(-1)[:n].astype(np.uint32) if nblocks else np.zeros(0, np.uint32)
        end = (start + nblocks) & ((1 << 64) - 1)
        new_words = words.copy()
        new_words[0], new_words[1] = key0, key1
        new_words[2], new_words[3] = end & 0xFFFFFFFF, end >> 32
        new_state = new_words.astype("<u4").view("<u8").astype(np.uint64)
        out = bits.astype("<u4")
        out = out.view("<u8") if self.dtype.itemsize == 8 else out
        return new_state, out.view(self.dtype.newbyteorder("<")).astype(self.dtype).reshape(self.shape)
