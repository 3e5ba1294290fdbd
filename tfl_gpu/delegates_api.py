"""Finding, loading and configuring delegates (the contract itself is :mod:`tfl_gpu.hookspecs`).

Delegates are pluggy plugins published under the entry-point group ``tfl_gpu.delegates``; the built-in
ones (``reference``, ``cuda``) are declared the same way in tfl_gpu's own package metadata.
``register_delegate(name, plugin)`` adds one in-process (tests, notebooks).
"""
from __future__ import annotations

import inspect
import os
import threading
from importlib import metadata
from typing import Any, Mapping

import numpy as np
import pluggy

from . import hookspecs
from .hookspecs import GENERIC_OPTIONS, HOOK_NAMES, PROJECT, REQUIRED_HOOKS

ENTRY_POINT_GROUP = "tfl_gpu.delegates"
_NATIVE_SUFFIXES = (".so", ".dll", ".dylib")

_registry_lock = threading.Lock()
_in_process: dict[str, Any] = {}


class Delegate:
    """A configured delegate, to pass in ``Interpreter(experimental_delegates=[...])``.

    Wraps one plugin in its own pluggy ``PluginManager`` (so hook names and signatures are checked at
    registration) with validated options. Attributes: ``name``, ``options`` (the delegate's own options,
    defaults filled in), ``config`` (what ``delegate_configure`` returned), ``min_nodes_per_partition``,
    ``max_delegated_partitions``."""

    def __init__(self, plugin: Any, options: Mapping | None = None, name: str | None = None):
        if inspect.isclass(plugin):
            plugin = plugin()            # a class is a factory: one instance (and state) per delegate
        self.plugin = plugin
        self.name = str(name or getattr(plugin, "__name__", None) or type(plugin).__name__)
        self.pm = _make_plugin_manager(plugin, self.name)
        opts = _check_options_mapping(options, self.name)
        generic = {k: opts.pop(k) for k in list(opts) if k in GENERIC_OPTIONS}
        self.min_nodes_per_partition = _int_option(generic, "min_nodes_per_partition", self.name, minimum=1)
        self.max_delegated_partitions = _int_option(generic, "max_delegated_partitions", self.name, minimum=None)
        schema = self.pm.hook.delegate_option_schema()
        schema = dict(schema or {})
        unknown = sorted(set(opts) - set(schema))
        if unknown:
            valid = sorted(set(schema) | set(GENERIC_OPTIONS))
            raise ValueError(f"delegate '{self.name}' got unknown option(s) {', '.join(map(repr, unknown))}; "
                             f"valid options: {', '.join(valid)}")
        full = dict(schema)
        full.update(opts)
        self.options = full
        try:
            config = self.pm.hook.delegate_configure(options=dict(full))
        except ValueError:
            raise
        except Exception as e:  # noqa: BLE001 - a delegate's own failure, named
            raise RuntimeError(f"delegate '{self.name}' failed to configure: {type(e).__name__}: {e}") from e
        self.config = full if config is None else config
        self._impls = {h: _single_impl(self.pm, h) for h in HOOK_NAMES}

    def __repr__(self):
        return f"<tfl_gpu Delegate {self.name!r} options={self.options!r}>"

    # --------------------------------------------------------------- calls used by the core
    def call(self, hook: str, **kwargs):
        """Calls one hook of this delegate with the arguments its implementation takes (None when the
        delegate does not implement it)."""
        impl = self._impls.get(hook)
        if impl is None:
            return None
        fn, names = impl
        kwargs.setdefault("config", self.config)
        return fn(*[kwargs[n] for n in names])

    def bound(self, hook: str, **fixed):
        """A fast callable for the invoke path: ``f(**rest)`` with ``fixed`` arguments already bound, or
        None when the hook is not implemented."""
        impl = self._impls.get(hook)
        if impl is None:
            return None
        fn, names = impl
        fixed.setdefault("config", self.config)

        def call(**kw):
            return fn(*[kw[n] if n in kw else fixed[n] for n in names])
        return call

    def supports(self, node) -> tuple[bool, str | None]:
        """(claimed, refusal reason) for a :class:`~tfl_gpu.hookspecs.NodeSpec`."""
        ans = self.call("delegate_supports_node", node=node)
        if ans is True:
            return True, None
        if isinstance(ans, str) and ans:
            return False, ans
        if ans is None or ans is False:
            return False, f"not supported by delegate '{self.name}'"
        if isinstance(ans, (bool, np.bool_)):
            return (True, None) if ans else (False, f"not supported by delegate '{self.name}'")
        raise TypeError(f"delegate '{self.name}': delegate_supports_node must return True or a refusal "
                        f"reason (str), got {type(ans).__name__}")


# ------------------------------------------------------------------------------------------------ loading
def register_delegate(name: str, plugin: Any) -> None:
    """Makes ``plugin`` loadable as ``load_delegate(name)`` in this process (it takes precedence over an
    entry point of the same name). The plugin is validated now."""
    if not isinstance(name, str) or not name:
        raise ValueError("delegate name must be a non-empty string")
    _make_plugin_manager(plugin() if inspect.isclass(plugin) else plugin, name)
    with _registry_lock:
        _in_process[name] = plugin


def unregister_delegate(name: str) -> None:
    with _registry_lock:
        _in_process.pop(name, None)


def _entry_points() -> dict:
    found: dict = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


def available_delegates() -> list[str]:
    """Names that ``load_delegate`` accepts: entry points of group ``tfl_gpu.delegates`` plus in-process
    registrations."""
    with _registry_lock:
        names = set(_in_process)
    return sorted(names | set(_entry_points()))


def load_delegate(name_or_path, options: Mapping | None = None) -> Delegate:
    """Returns a configured delegate for a registered name (e.g. ``load_delegate("cuda", {"device_id":
    0})``), to pass in ``Interpreter(experimental_delegates=[...])``.

    A path to a native TFLite delegate library is rejected with a ValueError (native delegates are not
    supported); an unknown name raises a ValueError listing the available delegates; bad options raise
    a ValueError naming the option."""
    if isinstance(name_or_path, os.PathLike):
        name_or_path = os.fspath(name_or_path)
    if isinstance(name_or_path, bytes):
        name_or_path = name_or_path.decode("utf-8", "replace")
    if not isinstance(name_or_path, str) or not name_or_path:
        raise ValueError(f"load_delegate() takes a delegate name (str), got {name_or_path!r}")
    s = name_or_path
    if (s.lower().endswith(_NATIVE_SUFFIXES) or ".so." in os.path.basename(s) or os.sep in s
            or (os.altsep and os.altsep in s) or os.path.isfile(s)):
        raise ValueError(f"Failed to load delegate from {s}\n"
                         f"'{s}' looks like a native TensorFlow Lite delegate library: native (C/C++) "
                         "delegates are not supported by tfl_gpu. Use a tfl_gpu delegate by name "
                         f"(available: {', '.join(available_delegates()) or 'none'}).")
    with _registry_lock:
        plugin = _in_process.get(s)
    if plugin is None:
        ep = _entry_points().get(s)
        if ep is None:
            avail = available_delegates()
            raise ValueError(f"Failed to load delegate from {s}\n"
                             f"unknown delegate '{s}'; available delegates: {', '.join(avail) or 'none'} "
                             f"(delegates register under the entry-point group '{ENTRY_POINT_GROUP}')")
        try:
            plugin = ep.load()
        except Exception as e:  # noqa: BLE001 - a broken plugin package, named
            raise RuntimeError(f"delegate '{s}' ({ep.value}) failed to load: {type(e).__name__}: {e}") from e
    try:
        return Delegate(plugin, options, name=s)
    except ValueError as e:     # LiteRT's wording for a delegate that refuses its options
        raise ValueError(f"Failed to load delegate from {s}\n{e}") from e


# ------------------------------------------------------------------------------------------------ helpers
def _make_plugin_manager(plugin: Any, name: str) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    try:
        pm.register(plugin, name=f"{name}:{id(plugin)}")
        pm.check_pending()
    except (pluggy.PluginValidationError, ValueError) as e:
        raise ValueError(f"delegate '{name}' is not a valid tfl_gpu delegate plugin: {e} (valid hooks: "
                         f"{', '.join(HOOK_NAMES)})") from e
    # A function that looks like a hook but lacks @hookimpl would silently never be called.
    for attr in dir(plugin):
        if attr.startswith("delegate_"):
            obj = getattr(plugin, attr, None)
            if callable(obj) and pm.parse_hookimpl_opts(plugin, attr) is None:
                raise ValueError(f"delegate '{name}': '{attr}' looks like a hook but is not marked with "
                                 "@tfl_gpu.hookspecs.hookimpl")
    missing = [h for h in REQUIRED_HOOKS if not getattr(pm.hook, h).get_hookimpls()]
    if missing:
        raise ValueError(f"delegate '{name}' does not implement the required hook(s) {', '.join(missing)} "
                         "(see tfl_gpu.hookspecs)")
    return pm


def _single_impl(pm: pluggy.PluginManager, hook: str):
    impls = getattr(pm.hook, hook).get_hookimpls()
    if not impls:
        return None
    impl = impls[-1]
    return impl.function, tuple(impl.argnames)


def _check_options_mapping(options, name) -> dict:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ValueError(f"delegate '{name}': options must be a dict, got {type(options).__name__}")
    out = {}
    for k, v in options.items():
        if not isinstance(k, str):
            raise ValueError(f"delegate '{name}': option names must be strings, got {k!r}")
        out[k] = v
    return out


def _int_option(opts: dict, key: str, name: str, minimum: int | None) -> int:
    if key not in opts:
        return GENERIC_OPTIONS[key]
    v = opts[key]
    if isinstance(v, str) and v.strip().lstrip("+-").isdigit():   # LiteRT passes option values as strings
        v = int(v.strip())
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"delegate '{name}': option {key} must be an integer, got {v!r}")
    v = int(v)
    if minimum is not None and v < minimum:
        raise ValueError(f"delegate '{name}': option {key} must be >= {minimum}, got {v}")
    return v


def check_delegates(delegates) -> list:
    """Validates an ``experimental_delegates`` list; returns it as a list."""
    out = list(delegates or [])
    for k, d in enumerate(out):
        if not isinstance(d, Delegate):
            raise ValueError(f"experimental_delegates[{k}] is a {type(d).__module__}.{type(d).__name__}, not a "
                             "tfl_gpu delegate: create delegates with tfl_gpu.load_delegate(name, options) "
                             "(native TensorFlow Lite delegates are not supported)")
    return out
