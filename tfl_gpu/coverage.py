"""The op-coverage table, generated from the kernel registry (never typed by hand).

``python -m tfl_gpu.coverage > docs/ops.md`` rewrites the table; a test checks the committed file is current.
"""
from __future__ import annotations

import sys

from . import kernels as _kernels  # noqa: F401  (fills the registry)
from .kernels.registry import registered
from .model import BUILTIN_OPERATORS


def _describe(entries) -> tuple[str, str]:
    """(types, modules) for an op's registered kernels."""
    types: list[str] = []
    modules = []
    for e in entries:
        for t in e.types or ():
            if t not in types:
                types.append(t)
        mod = e.source.rsplit(".", 1)[-1]
        if mod not in modules:
            modules.append(mod)
        if not e.types:
            label = {"float_node": "float", "quantized_node": "quantized"}.get(getattr(e.when, "__name__", ""), "")
            if label and label not in types:
                types.append(label)
    return ", ".join(types) or "all", ", ".join(modules)


def table() -> str:
    reg = registered()
    lines = ["# Operator coverage", "",
             "Generated from the kernel registry by `python -m tfl_gpu.coverage` — do not edit by hand.", "",
             "Types lists the input types the registered CPU kernels declare (`all` = type-agnostic data movement).",
             "", "| code | op | CPU kernel | types | module |", "| ---: | --- | :---: | --- | --- |"]
    n_builtin = 0
    n_supported = 0
    for code in sorted(BUILTIN_OPERATORS):
        name = BUILTIN_OPERATORS[code]
        if name in ("CUSTOM", "PLACEHOLDER_FOR_GREATER_OP_CODES", "DELEGATE"):
            continue
        n_builtin += 1
        entries = reg.get(name)
        if entries:
            n_supported += 1
            types, mods = _describe(entries)
            lines.append(f"| {code} | {name} | yes | {types} | {mods} |")
        else:
            lines.append(f"| {code} | {name} | — | | |")
    customs = sorted(n for n in reg if n not in set(BUILTIN_OPERATORS.values()))
    lines += ["", f"Builtin operators with a CPU kernel: **{n_supported} of {n_builtin}**.", ""]
    if customs:
        lines += ["## Custom operators", "", "| custom code | types | module |", "| --- | --- | --- |"]
        for name in customs:
            types, mods = _describe(reg[name])
            lines.append(f"| {name} | {types} | {mods} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(table())
