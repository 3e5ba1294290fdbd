"""The op-coverage table, generated from the kernel registry (never typed by hand).

``python -m tfl_gpu.coverage > docs/ops.md`` rewrites the table; a test checks the committed file is current.
"""
from __future__ import annotations

import pathlib
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


_LITERT_LIST = pathlib.Path(__file__).resolve().parents[1] / "docs" / "litert_builtin_ops.txt"


def litert_registered() -> set[str] | None:
    """Builtin ops LiteRT's default resolver registers, as probed by tools/probe_litert_ops.py."""
    if not _LITERT_LIST.is_file():
        return None
    return {ln.strip() for ln in _LITERT_LIST.read_text().splitlines() if ln.strip() and not ln.startswith("#")}


def table() -> str:
    reg = registered()
    lite = litert_registered() or set()
    lines = ["# Operator coverage", "",
             "Generated from the kernel registry by `python -m tfl_gpu.coverage` — do not edit by hand.", "",
             "Types lists the input types the registered CPU kernels declare (`all` = type-agnostic data movement;",
             "`float`/`quantized` = the kernel family chosen by the input's type). *LiteRT* marks the builtins",
             "LiteRT's default resolver registers ([litert_builtin_ops.txt](litert_builtin_ops.txt)).",
             "", "| code | op | LiteRT | CPU kernel | types | module |", "| ---: | --- | :---: | :---: | --- | --- |"]
    n_builtin = 0
    n_supported = 0
    n_lite_supported = 0
    for code in sorted(BUILTIN_OPERATORS):
        name = BUILTIN_OPERATORS[code]
        if name in ("CUSTOM", "PLACEHOLDER_FOR_GREATER_OP_CODES", "DELEGATE"):
            continue
        n_builtin += 1
        entries = reg.get(name)
        in_lite = "yes" if name in lite else ""
        if entries:
            n_supported += 1
            n_lite_supported += name in lite
            types, mods = _describe(entries)
            lines.append(f"| {code} | {name} | {in_lite} | yes | {types} | {mods} |")
        else:
            lines.append(f"| {code} | {name} | {in_lite} | — | | |")
    customs = sorted(n for n in reg if n not in set(BUILTIN_OPERATORS.values()))
    lines += ["", f"Builtin operators with a CPU kernel: **{n_supported} of {n_builtin}**; of the {len(lite)} that "
              f"LiteRT registers: **{n_lite_supported}**.", ""]
    missing = sorted(n for n in lite if n not in reg)
    if missing:
        lines += ["Registered by LiteRT but not here yet: " + ", ".join(missing) + ".", ""]
    if customs:
        lines += ["## Custom operators", "", "| custom code | types | module |", "| --- | --- | --- |"]
        for name in customs:
            types, mods = _describe(reg[name])
            lines.append(f"| {name} | {types} | {mods} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(table())
