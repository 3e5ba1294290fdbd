"""Control flow: IF, WHILE, CALL_ONCE.

The bodies are other subgraphs of the model, run through ``node.call_subgraph``. Each kernel checks at
``allocate_tensors`` that its subgraph indices are in range and that the input/output counts agree; that no
subgraph can reach itself through control flow (a recursive model would recurse forever) is checked for the
whole model before any kernel is built (``validate.validate_control_flow``).
"""
from __future__ import annotations

import numpy as np

from .registry import register


def check_subgraph(node, index: int, what: str) -> int:
    n = node.num_subgraphs()
    if not isinstance(index, (int, np.integer)) or not 0 <= int(index) < n:
        raise ValueError(f"{node.name}: {what} subgraph index {index} out of range (the model has {n} subgraphs)")
    return int(index)


def check_arity(node, index: int, n_in: int, n_out: int | None, what: str) -> None:
    ins, outs = node.subgraph_io(index)
    if len(ins) != n_in:
        raise ValueError(f"{node.name}: {what} subgraph {index} takes {len(ins)} inputs, the op passes {n_in}")
    if n_out is not None and len(outs) != n_out:
        raise ValueError(f"{node.name}: {what} subgraph {index} has {len(outs)} outputs, the op has {n_out}")


def _cond_value(c, what: str) -> bool:
    c = np.asarray(c)
    if c.size != 1:
        raise ValueError(f"{what} must hold exactly one element, got shape {list(c.shape)}")
    return bool(c.reshape(-1)[0])


def detach_outputs(outs, args) -> tuple:
    """Subgraph outputs that are one of the op's own input arrays (a pass-through) are copied, so that
    writing one tensor of the caller (set_tensor, tensor() views) never changes another."""
    ids = {id(a) for a in args if a is not None}
    return tuple(o.copy() if isinstance(o, np.ndarray) and id(o) in ids else o for o in outs)


@register("IF", types=("BOOL",), side_effects=True)
class If:
    def __init__(self, node):
        self.node = node
        if not node.inputs or node.inputs[0] is None:
            raise ValueError("IF needs a condition input")
        o = node.options
        self.then_index = check_subgraph(node, o.get("then_subgraph_index", 0), "then")
        self.else_index = check_subgraph(node, o.get("else_subgraph_index", 0), "else")
        n_in, n_out = len(node.inputs) - 1, len(node.outputs)
        check_arity(node, self.then_index, n_in, n_out, "then")
        check_arity(node, self.else_index, n_in, n_out, "else")

    def __call__(self, cond, *args):
        branch = self.then_index if _cond_value(cond, "IF condition") else self.else_index
        outs = self.node.call_subgraph(branch, list(args))
        return detach_outputs(outs, args)


@register("WHILE", side_effects=True)
class While:
    def __init__(self, node):
        self.node = node
        o = node.options
        self.cond_index = check_subgraph(node, o.get("cond_subgraph_index", 0), "cond")
        self.body_index = check_subgraph(node, o.get("body_subgraph_index", 0), "body")
        n = len(node.inputs)
        if len(node.outputs) != n:
            raise ValueError(f"WHILE has {n} inputs but {len(node.outputs)} outputs; they must match")
        check_arity(node, self.cond_index, n, 1, "cond")
        check_arity(node, self.body_index, n, n, "body")

    def __call__(self, *args):
        node = self.node
        vals = list(args)
        while True:
            node.check_cancelled()
            (c,) = node.call_subgraph(self.cond_index, vals)
            if not _cond_value(c, "WHILE condition"):
                break
            # The body's outputs become the next iteration's inputs; their shapes may change.
            vals = list(node.call_subgraph(self.body_index, vals))
        return detach_outputs(vals, args)


@register("CALL_ONCE", side_effects=True)
class CallOnce:
    """Runs the init subgraph the first time it is invoked in this interpreter (the flag lives with the
    interpreter's resources)."""

    def __init__(self, node):
        self.node = node
        self.init_index = check_subgraph(node, node.options.get("init_subgraph_index", 0), "init")
        check_arity(node, self.init_index, 0, 0, "init")

    def __call__(self, *args):
        done = self.node.resources.setdefault("call_once_done", set())
        if self.init_index in done:
            return ()
        self.node.call_subgraph(self.init_index, [])
        done.add(self.init_index)
        return ()
