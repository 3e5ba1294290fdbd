"""Hash tables: HASHTABLE, HASHTABLE_IMPORT, HASHTABLE_FIND, HASHTABLE_SIZE (resource tables, as TF's
static lookup tables are converted) and HASHTABLE_LOOKUP (the older op on sorted key tensors).

A HASHTABLE op yields a resource handle (an int32 ``[1]`` tensor holding its ``table_id``) and creates the
table in the interpreter's resource store the first time it runs; the table then lives as long as the
interpreter (every subgraph sees it, invokes keep it). As in LiteRT, a table is filled once: the first
HASHTABLE_IMPORT inserts its pairs (for a repeated key the first value wins) and later imports are no-ops;
finding in a table never imported is an error.
"""
from __future__ import annotations

import numpy as np

from ..model import _TENSOR_TYPE_NAMES, _NUMPY_TYPES
from .registry import register

_TABLE_TYPES = ("INT32", "INT64", "STRING", "FLOAT32")


def not_ref(node) -> bool:
    """LiteRT's BUILTIN_REF resolver has no resource hash table ops: under it they are unresolved."""
    return node.resolver != "BUILTIN_REF"


class Table:
    __slots__ = ("key_type", "value_type", "map", "initialized", "_sorted")

    def __init__(self, key_type: str, value_type: str):
        self.key_type, self.value_type = key_type, value_type
        self.map: dict = {}
        self.initialized = False
        self._sorted = None

    def sorted_arrays(self, value_dtype):
        """(sorted numeric keys, values in that order), built once: the table never changes after import."""
        if self._sorted is None:
            keys = np.array(list(self.map.keys()))
            vals = np.array(list(self.map.values()), dtype=value_dtype)
            order = np.argsort(keys, kind="stable")
            self._sorted = (keys[order], vals[order] if vals.size else vals)
        return self._sorted

    def __deepcopy__(self, memo):
        t = Table(self.key_type, self.value_type)
        t.map = dict(self.map)
        t.initialized = self.initialized
        t._sorted = self._sorted
        return t


def _key(v, type_name):
    if type_name == "STRING":
        return v if isinstance(v, bytes) else (v.encode("utf-8") if isinstance(v, str) else bytes(v))
    return v.item() if hasattr(v, "item") else v


def _table(node, handle, op):
    h = np.asarray(handle)
    if h.size != 1:
        raise ValueError(f"{op}: the resource handle must hold one element, got shape {list(h.shape)}")
    tid = int(h.reshape(-1)[0])
    table = node.resources.get(("hashtable", tid))
    if table is None:
        raise RuntimeError(f"{op}: hash table {tid} does not exist (no HASHTABLE op created it)")
    return table


def _check_types(op, table, key_type, value_type):
    if key_type != table.key_type or value_type != table.value_type:
        raise ValueError(f"{op}: hash table holds {table.key_type} -> {table.value_type}, the op uses "
                         f"{key_type} -> {value_type}")


@register("HASHTABLE", when=not_ref, types=("RESOURCE",), side_effects=True)
class Hashtable:
    def __init__(self, node):
        if node.inputs:
            raise ValueError(f"HASHTABLE takes no inputs, got {len(node.inputs)}")
        o = node.options
        self.node = node
        self.table_id = int(o.get("table_id", 0))
        self.key_type = _TENSOR_TYPE_NAMES.get(int(o.get("key_dtype", 0)), "?")
        self.value_type = _TENSOR_TYPE_NAMES.get(int(o.get("value_dtype", 0)), "?")
        if self.key_type not in _TABLE_TYPES or self.value_type not in _TABLE_TYPES:
            raise ValueError(f"HASHTABLE: unsupported key/value types {self.key_type}/{self.value_type}")
        if self.key_type == "STRING" and self.value_type == "STRING":
            raise ValueError("HASHTABLE: string -> string tables are not supported")

    def __call__(self):
        self.node.resources.setdefault(("hashtable", self.table_id), Table(self.key_type, self.value_type))
        return np.array([self.table_id], np.int32)


@register("HASHTABLE_IMPORT", when=not_ref, types=_TABLE_TYPES, side_effects=True)
class HashtableImport:
    def __init__(self, node):
        if len(node.inputs) != 3 or node.outputs:
            raise ValueError("HASHTABLE_IMPORT takes (handle, keys, values) and has no outputs")
        self.node = node
        self.key_type = node.inputs[1].type_name
        self.value_type = node.inputs[2].type_name

    def __call__(self, handle, keys, values):
        table = _table(self.node, handle, "HASHTABLE_IMPORT")
        _check_types("HASHTABLE_IMPORT", table, self.key_type, self.value_type)
        keys, values = np.asarray(keys), np.asarray(values)
        if keys.shape != values.shape:
            raise ValueError(f"HASHTABLE_IMPORT: keys shape {list(keys.shape)} differs from values shape "
                             f"{list(values.shape)}")
        if table.initialized:
            return ()
        m = table.map
        for k, v in zip(keys.reshape(-1), values.reshape(-1)):
            m.setdefault(_key(k, self.key_type), v)
        table.initialized = True
        return ()


@register("HASHTABLE_FIND", when=not_ref, types=_TABLE_TYPES, side_effects=True)
class HashtableFind:
    def __init__(self, node):
        if len(node.inputs) != 3 or len(node.outputs) != 1:
            raise ValueError("HASHTABLE_FIND takes (handle, keys, default value) and has one output")
        self.node = node
        self.key_type = node.inputs[1].type_name
        self.value_type = node.outputs[0].type_name
        if node.inputs[2] is not None and node.inputs[2].type_name != self.value_type:
            raise ValueError(f"HASHTABLE_FIND: default value type {node.inputs[2].type_name} differs from the "
                             f"output type {self.value_type}")
        self.dtype = np.dtype(_NUMPY_TYPES[self.value_type])

    def __call__(self, handle, keys, default):
        table = _table(self.node, handle, "HASHTABLE_FIND")
        _check_types("HASHTABLE_FIND", table, self.key_type, self.value_type)
        if not table.initialized:
            raise RuntimeError("HASHTABLE_FIND: the hash table must be initialized (HASHTABLE_IMPORT) before use")
        keys = np.asarray(keys)
        d = np.asarray(default).reshape(-1)
        if d.size < 1:
            raise ValueError("HASHTABLE_FIND: the default value is empty")
        dv = d[0]
        m = table.map
        if self.key_type != "STRING" and m:
            sk, sv = table.sorted_arrays(self.dtype)
            flat = keys.reshape(-1)
            pos = np.minimum(np.searchsorted(sk, flat), len(sk) - 1)
            hit = sk[pos] == flat
            out = np.full(flat.shape, dv, dtype=self.dtype)
            out[hit] = sv[pos[hit]]
            return out.reshape(keys.shape)
        out = np.empty(keys.size, dtype=self.dtype)
        for i, k in enumerate(keys.reshape(-1)):
            out[i] = m.get(_key(k, self.key_type), dv)
        return out.reshape(keys.shape)


@register("HASHTABLE_SIZE", when=not_ref, types=("RESOURCE",), side_effects=True)
class HashtableSize:
    def __init__(self, node):
        if len(node.inputs) != 1 or len(node.outputs) != 1:
            raise ValueError("HASHTABLE_SIZE takes one handle and has one output")
        if node.outputs[0].type_name != "INT64":
            raise ValueError(f"HASHTABLE_SIZE: the output must be int64, got {node.outputs[0].type_name}")
        self.node = node

    def __call__(self, handle):
        table = _table(self.node, handle, "HASHTABLE_SIZE")
        return np.array([len(table.map)], np.int64)


@register("HASHTABLE_LOOKUP", types=("INT32",))
def hashtable_lookup(node, lookup, keys, values):
    """Looks int32 ``lookup`` ids up in the sorted int32 ``keys``: output rows are the matching rows of
    ``values`` (zeros / empty strings for misses), ``hits`` is 1 where a key was found."""
    lookup, keys, values = np.asarray(lookup), np.asarray(keys), np.asarray(values)
    if lookup.ndim != 1 or keys.ndim != 1:
        raise ValueError(f"HASHTABLE_LOOKUP: lookup and keys must be 1-D, got ranks {lookup.ndim}/{keys.ndim}")
    if lookup.dtype != np.int32 or keys.dtype != np.int32:
        raise ValueError("HASHTABLE_LOOKUP: lookup and keys must be int32")
    if values.ndim < 1 or values.shape[0] != keys.shape[0]:
        raise ValueError(f"HASHTABLE_LOOKUP: values must have one row per key ({keys.shape[0]}), got shape "
                         f"{list(values.shape)}")
    if values.dtype == object and values.ndim != 1:
        raise ValueError("HASHTABLE_LOOKUP: string values must be 1-D")
    n = keys.shape[0]
    pos = np.searchsorted(keys, lookup) if n else np.zeros(lookup.shape, np.int64)
    pos_c = np.minimum(pos, max(n - 1, 0))
    hit = (pos < n) & (keys[pos_c] == lookup) if n else np.zeros(lookup.shape, bool)
    if values.dtype == object:
        out = np.empty(lookup.shape[0], dtype=object)
        out.fill(b"")
        out[hit] = values[pos_c[hit]]
    else:
        out = np.zeros((lookup.shape[0],) + values.shape[1:], values.dtype)
        out[hit] = values[pos_c[hit]]
    return out, hit.astype(np.uint8)
