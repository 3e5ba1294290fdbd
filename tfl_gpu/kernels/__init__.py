"""numpy kernels, one module per op family. Every module in this package is imported here so that its
``@register`` decorators fill the registry; the interpreter core looks kernels up by op name only."""
import importlib
import pkgutil

from .registry import Node, register, find, registered, has_kernel  # noqa: F401

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name != "registry" and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")
