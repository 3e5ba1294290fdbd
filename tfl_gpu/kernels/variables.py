"""Resource variables: VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE.

A VAR_HANDLE op yields a resource id for its ``(container, shared_name)`` pair: the same pair gives the same
id everywhere in the interpreter (all subgraphs), ids are numbered in order of first use. Variable values
live in the interpreter's resource store (``node.resources``) under ``("variable", id)``.
"""
from __future__ import annotations

import numpy as np

from .registry import register

_IDS = "variable_ids"


def _variable_key(handle) -> tuple:
    h = np.asarray(handle)
    if h.size < 1:
        raise ValueError("resource handle tensor is empty")
    return ("variable", int(h.reshape(-1)[0]))


@register("VAR_HANDLE", types=("RESOURCE",), side_effects=True)
class VarHandle:
    def __init__(self, node):
        self.node = node
        self.key = (str(node.options.get("container", "") or ""), str(node.options.get("shared_name", "") or ""))
        self.shape = tuple(int(d) for d in node.outputs[0].shape) if node.outputs else ()

    def __call__(self, *args):
        ids = self.node.resources.setdefault(_IDS, {})
        rid = ids.setdefault(self.key, len(ids))
        return np.full(self.shape, rid, dtype=np.int32)


@register("READ_VARIABLE", side_effects=True)
class ReadVariable:
    def __init__(self, node):
        self.node = node
        self.out_dtype = node.outputs[0].dtype if node.outputs else None

    def __call__(self, handle):
        key = _variable_key(handle)
        value = self.node.resources.get(key)
        if value is None:
            raise RuntimeError(f"READ_VARIABLE of resource variable {key[1]}, which was never assigned")
        if self.out_dtype is not None and value.dtype != self.out_dtype:
            raise ValueError(f"READ_VARIABLE: variable {key[1]} holds {value.dtype}, the output is {self.out_dtype}")
        return value.copy()


@register("ASSIGN_VARIABLE", side_effects=True)
class AssignVariable:
    def __init__(self, node):
        self.node = node

    def __call__(self, handle, value):
        key = _variable_key(handle)
        old = self.node.resources.get(key)
        value = np.asarray(value)
        if old is not None and old.dtype != value.dtype:
            raise ValueError(f"ASSIGN_VARIABLE: variable {key[1]} holds {old.dtype}, cannot assign {value.dtype}")
        self.node.resources[key] = np.array(value, copy=True)
        return ()
