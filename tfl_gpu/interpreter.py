"""The public API: a drop-in for ``tf.lite.Interpreter`` / ``ai_edge_litert.interpreter.Interpreter``."""
from __future__ import annotations

import enum
import os
import threading
import warnings
import weakref

import numpy as np

from . import device_arrays as _device_arrays
from .errors import CancelledError, ModelError
from .executor import Runtime
from .model import encode_string_tensor, load_bytes, read_model  # noqa: F401

_UNSAFE_MESSAGE = """There is at least 1 reference to internal data
      in the interpreter in the form of a numpy array or slice. Be sure to
      only hold the function returned from tensor() if you are using raw
      data access."""


@enum.unique
class OpResolverType(enum.Enum):
    """Which kernels run the builtin ops (LiteRT's names).

    * ``AUTO`` / ``BUILTIN`` / ``BUILTIN_WITHOUT_DEFAULT_DELEGATES``: LiteRT's optimized kernels' arithmetic.
    * ``BUILTIN_REF``: LiteRT's reference kernels' arithmetic, where the two differ (int8 softmax, FC
      requantization).
    """
    AUTO = 0
    BUILTIN = 1
    BUILTIN_REF = 2
    BUILTIN_WITHOUT_DEFAULT_DELEGATES = 3


class _ViewToken:
    """Owner of every numpy view handed out by ``tensor()``: views (and views of views) keep it alive,
    so a live token means the user still holds internal data."""
    __slots__ = ("__array_interface__", "_arr", "__weakref__")

    def __init__(self, arr: np.ndarray):
        self._arr = arr
        self.__array_interface__ = arr.__array_interface__


_controller = None
_controller_lock = threading.Lock()


def _thread_controller():
    global _controller
    if _controller is not None:     # set once (double-checked): no lock on every invoke
        return _controller
    with _controller_lock:
        if _controller is None:
            try:
                from threadpoolctl import ThreadpoolController
                _controller = ThreadpoolController()
            except Exception:  # noqa: BLE001 - no BLAS control available: run with numpy's default
                _controller = False
    return _controller


class Interpreter:
    """Runs a TensorFlow Lite model with numpy kernels (and, through delegates, elsewhere)."""

    def __init__(self, model_path=None, model_content=None, experimental_delegates=None, num_threads=None,
                 experimental_op_resolver_type=OpResolverType.AUTO, experimental_preserve_all_tensors=False,
                 **experimental_flags):
        unknown = set(experimental_flags) - {
            "experimental_disable_delegate_clustering", "experimental_default_delegate_latest_features",
            "experimental_compress_quantization_zero_points", "experimental_disable_delegate_node_fusion",
            "experimental_force_delegate_node_profiling"}
        if unknown:
            raise TypeError(f"Interpreter() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
        if not isinstance(experimental_op_resolver_type, OpResolverType):
            raise ValueError(f"Unrecognized passed in op resolver type: {experimental_op_resolver_type}")
        if num_threads is not None:
            if not isinstance(num_threads, int):        # bool is an int to LiteRT too
                raise ValueError("type of num_threads should be int")
            if num_threads < -1:
                raise ValueError("num_threads should >= -1")
        self._num_threads = self._resolve_threads(num_threads)
        has_path = model_path is not None and model_path != ""
        has_content = model_content is not None and len(model_content) > 0
        if not has_path and not has_content:
            raise ValueError("`model_path` or `model_content` must be specified.")
        if has_path and has_content:
            raise ValueError("Can't both provide `model_path` and `model_content`")
        buf, self._keepalive = load_bytes(model_path if has_path else None, model_content if has_content else None)
        self._model = read_model(buf)
        self._model._keepalive = self._keepalive
        self._resolver = "BUILTIN_REF" if experimental_op_resolver_type == OpResolverType.BUILTIN_REF else "BUILTIN"
        self._resolver_type = experimental_op_resolver_type
        self._preserve_all = bool(experimental_preserve_all_tensors)
        from .delegates_api import check_delegates
        self._delegates = check_delegates(experimental_delegates)   # tfl_gpu.load_delegate() objects
        if self._preserve_all and self._delegates:
            warnings.warn("experimental_preserve_all_tensors=True disables delegation: every op runs on the "
                          "numpy kernels so that every intermediate tensor stays readable.", stacklevel=2)
        self._runtime = Runtime(self._model)
        self._allocated = False
        self._unsure_shapes: set = set()
        self._views: weakref.WeakSet = weakref.WeakSet()
        self._warned_released: set = set()
        self._busy = threading.Lock()
        self._signature_defs = self.get_signature_list()
        self._experimental_compress_quantization_zero_points = bool(
            experimental_flags.get("experimental_compress_quantization_zero_points", False))

    @property
    def experimental_compress_quantization_zero_points(self):
        """The flag as passed (LiteRT's read-only property; it does not change results here)."""
        return self._experimental_compress_quantization_zero_points

    @staticmethod
    def _resolve_threads(n):
        # None: one thread, as LiteRT's Python API (``int(num_threads or 1)``); OpenBLAS workers competing
        # with other processes for the cores can make an invoke many times slower, so more threads are
        # opt-in. -1: let us choose = every core.
        if n is None:
            return 1
        if n == -1:
            return os.cpu_count() or 1
        return max(1, int(n))

    # ------------------------------------------------------------------ lifecycle
    def _safe_to_run(self):
        """True when no numpy view from ``tensor()`` is alive (LiteRT's name for the same check)."""
        return not any(True for _ in self._views)

    def _ensure_safe(self):
        # len() of the WeakSet counts live views (dead ones leave it through their weakref callbacks) and
        # costs far less than iterating it, on every invoke
        if len(self._views):
            raise RuntimeError(_UNSAFE_MESSAGE)

    def allocate_tensors(self):
        self._ensure_safe()
        with self._exclusive("allocate_tensors"):
            if not self._allocated:     # as LiteRT: nothing to redo (variables keep their values)
                self._allocate()

    def _allocate(self):
        from .delegation import apply_delegates
        from .validate import validate_control_flow
        validate_control_flow(self._model)
        rt = self._runtime
        for sub in rt.subgraphs:
            sub.plan(self._resolver, self._preserve_all)
        if self._delegates and not self._preserve_all:
            for sub in rt.subgraphs:
                apply_delegates(sub, self._delegates)
        for sub in rt.subgraphs:
            if sub.resized:
                sub.propagate_shapes()
        # Shapes the file leaves unknown (rank-less outputs, -1 dims) are computed on demand, the first time
        # details are asked for before an invoke (LiteRT knows them after allocate_tensors).
        self._unsure_shapes = {sub.sg.index for sub in rt.subgraphs if not sub.resized and _shapes_unsure(sub)}
        self._allocated = True

    def invoke(self):
        self._ensure_safe()
        if not self._allocated:
            raise RuntimeError("Invoke called on model that is not ready.")
        with self._exclusive("invoke"), self._threads():
            self._runtime.subgraphs[0].run()
        self._unsure_shapes.discard(0)

    def _invoke_subgraph(self, index: int, timings=None):
        with self._exclusive("invoke"), self._threads():
            self._runtime.subgraphs[index].run(timings)
        self._unsure_shapes.discard(index)

    def _check_not_busy(self, what):
        if self._busy.locked():
            raise RuntimeError(f"{what}() called while another thread is running this Interpreter; "
                               "an Interpreter is not thread-safe: use one per thread")

    def cancel(self):
        """Asks a running ``invoke()`` (from another thread) to stop; it raises ``CancelledError``
        (a RuntimeError) at the next node or loop iteration. Without a running invoke this does nothing."""
        if self._busy.locked():
            self._runtime.cancel_requested = True

    def _threads(self):
        ctl = _thread_controller()
        if not ctl or self._num_threads == _default_blas_threads(ctl):
            return _NULL_CONTEXT     # BLAS already runs with this many threads: no per-invoke cost
        return _BlasLimit(ctl, self._num_threads)

    def _exclusive(self, what):
        return _Exclusive(self, what)

    def reset_all_variables(self):
        # As LiteRT: variable tensors go back to zero (INT8: their zero point); resource variables
        # (VAR_HANDLE/ASSIGN_VARIABLE) and CALL_ONCE's "done" flags are kept.
        self._check_not_busy("reset_all_variables")
        for sub in self._runtime.subgraphs:
            sub.reset_variables()

    def num_subgraphs(self):
        return len(self._model.subgraphs)

    # ------------------------------------------------------------------ details
    def _sub(self, subgraph_index):
        n = len(self._runtime.subgraphs)
        if not isinstance(subgraph_index, (int, np.integer)) or not 0 <= int(subgraph_index) < n:
            raise ValueError(f"subgraph_index is out of range: {subgraph_index} for the model, "
                             f"which has {n} subgraphs.")
        return self._runtime.subgraphs[int(subgraph_index)]

    def _check_index(self, sub, tensor_index):
        n = len(sub.tensors)
        if not isinstance(tensor_index, (int, np.integer)) or not 0 <= int(tensor_index) < n:
            raise ValueError(f"Invalid tensor index {tensor_index} exceeds max tensor index {n}")
        return int(tensor_index)

    def _get_tensor_details(self, tensor_index, subgraph_index):
        sub = self._sub(subgraph_index)
        i = self._check_index(sub, tensor_index)
        if self._allocated and sub.sg.index in self._unsure_shapes and self._busy.acquire(blocking=False):
            try:
                self._unsure_shapes.discard(sub.sg.index)
                declared = list(sub.shapes)
                sub.propagate_shapes()
                for t in sub.tensors:       # as LiteRT: a shape the file states stays until invoke
                    if not _tensor_shape_unsure(t):
                        sub.shapes[t.index] = declared[t.index]
            finally:
                self._busy.release()
        t = sub.tensors[i]
        q = t.quantization
        shape = np.array(sub.shapes[i] if t.is_constant else sub.shape_of(i), dtype=np.int32)
        return {
            "name": t.name,
            "index": i,
            "shape": shape,
            # without a shape_signature in the file LiteRT reports the current shape
            "shape_signature": (np.array(t.shape_signature, dtype=np.int32)
                                if getattr(t, "explicit_signature", True) else shape.copy()),
            "dtype": t.reported_dtype,
            "quantization": (float(q.scales[0]), int(q.zero_points[0])) if q.scales.size == 1 else (0.0, 0),
            "quantization_parameters": {
                "scales": q.scales.astype(np.float32).copy(),
                "zero_points": q.zero_points.astype(np.int32).copy(),
                "quantized_dimension": int(q.quantized_dimension),
                "block_size": int(q.block_size),
            },
            "sparsity_parameters": _sparsity_dict(t.sparsity),
        }

    def get_tensor_details(self, subgraph_index=0):
        sub = self._sub(subgraph_index)
        return [self._get_tensor_details(i, subgraph_index) for i in range(len(sub.tensors))]

    def get_input_details(self):
        return [self._get_tensor_details(i, 0) for i in self._model.subgraphs[0].inputs]

    def get_output_details(self):
        return [self._get_tensor_details(i, 0) for i in self._model.subgraphs[0].outputs]

    def _get_op_details(self, op_index):
        sg = self._model.subgraphs[0]
        n = len(sg.operators)
        if not isinstance(op_index, (int, np.integer)) or not 0 <= int(op_index) < n:
            raise ValueError(f"Invalid node index {op_index} exceeds max node index {n}")
        op = sg.operators[int(op_index)]
        return {
            "index": int(op_index),
            "op_name": op.name,
            "inputs": np.array(op.inputs, dtype=np.int32),
            "outputs": np.array(op.outputs, dtype=np.int32),
            "operand_types": [sg.tensors[i].reported_dtype for i in op.inputs if i != -1],
            "result_types": [sg.tensors[i].reported_dtype for i in op.outputs if i != -1],
        }

    def _get_ops_details(self):
        return [self._get_op_details(i) for i in range(len(self._model.subgraphs[0].operators))]

    # ------------------------------------------------------------------ tensors
    def set_tensor(self, tensor_index, value, subgraph_index=0):
        self._check_not_busy("set_tensor")
        sub = self._sub(subgraph_index)
        i = self._check_index(sub, tensor_index)
        t = sub.tensors[i]
        if not self._allocated:
            raise ValueError("Cannot set tensor: Tensor is unallocated. Try calling allocate_tensors() first")
        if t.is_constant:
            raise ValueError(f"Cannot set tensor: tensor {i} ('{t.name}') is a constant of the model")
        device = t.type_name not in ("STRING", "INT4", "UINT4") and _device_arrays.is_device_array(value)
        if device:      # CuPy, PyTorch, any DLPack producer: checked from its shape/dtype attributes
            arr = value
            dt = _device_arrays.array_dtype(value)
            if dt != t.dtype:
                raise ValueError(f"Cannot set tensor: Got value of type {_type_name(dt)} but expected "
                                 f"type {t.type_name} for input {i}, name: {t.name} ")
        elif t.type_name == "STRING":
            if not isinstance(value, np.ndarray):     # as LiteRT (e.g. a tf.Tensor or a list is refused)
                raise ValueError(f"Passed in value type is not a numpy array, got type {type(value).__name__}.")
            arr = value
            if arr.dtype.kind not in "OSU":
                raise ValueError(f"Cannot set tensor: Got value of type {_type_name(arr.dtype)} but expected "
                                 f"type STRING for input {i}, name: {t.name} ")
            arr = _to_bytes_array(arr)
        elif t.type_name in ("INT4", "UINT4"):      # held unpacked, one value per int8/uint8 (as LiteRT takes them)
            arr = _device_arrays.to_host(value) if _device_arrays.is_device_array(value) else np.asarray(value)
            want_dt, lo, hi = (np.int8, -8, 7) if t.type_name == "INT4" else (np.uint8, 0, 15)
            if arr.dtype != want_dt:
                raise ValueError(f"Cannot set tensor: Expected a numpy array of {np.dtype(want_dt).name} for "
                                 f"{t.type_name} input {i}, name: {t.name}, but got {_type_name(arr.dtype)}")
            if arr.size and (arr.min() < lo or arr.max() > hi):
                raise ValueError(f"Cannot set tensor: Values for {t.type_name} input must be between {lo} and {hi}.")
        else:
            arr = np.asarray(value)
            if arr.dtype != t.dtype:
                raise ValueError(f"Cannot set tensor: Got value of type {_type_name(arr.dtype)} but expected "
                                 f"type {t.type_name} for input {i}, name: {t.name} ")
        want = sub.shape_of(i)
        got_shape = tuple(int(d) for d in arr.shape)
        if len(got_shape) != len(want):
            raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {len(got_shape)} but expected "
                             f"{len(want)} for input {i}.")
        for d, (got, exp) in enumerate(zip(got_shape, want)):
            if got != exp:
                raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {got} but expected {exp} for "
                                 f"dimension {d} of input {i}.")
        if device:
            if sub.takes_device_value(i):
                # every reader is a delegate taking device arrays: kept as it is (no copy: the
                # interpreter holds a reference, so the caller must not modify it before invoke)
                sub.values[i] = value
                return
            arr = _device_arrays.to_host(value)       # the one host copy, for the CPU kernels
            if arr.dtype != t.dtype:
                arr = arr.astype(t.dtype)
        cur = sub.values[i]
        if (type(cur) is np.ndarray and t.type_name != "STRING" and cur.shape == arr.shape
                and cur.flags.writeable):
            np.copyto(cur, arr)     # keeps the buffer that tensor() views point at
        else:
            sub.values[i] = np.array(arr, dtype=t.dtype, copy=True)

    def get_tensor(self, tensor_index, subgraph_index=0):
        n = len(self._runtime.subgraphs)
        if not isinstance(subgraph_index, (int, np.integer)) or not 0 <= int(subgraph_index) < n:
            raise ValueError(f"Invalid subgraph index {subgraph_index} exceeds max subgraph index {n}")
        sub = self._sub(subgraph_index)
        i = self._check_index(sub, tensor_index)
        if not self._allocated:
            raise ValueError("Tensor data is null. Run allocate_tensors() first")
        if sub.tensors[i].type_name in ("RESOURCE", "VARIANT"):
            raise ValueError("Tensor data is null. Run allocate_tensors() first")   # as LiteRT: opaque handles
        v = self._value(sub, i)
        if v.dtype.byteorder not in "=|":      # constants view the file as little-endian: hand out native
            v = v.astype(v.dtype.newbyteorder("="))
        if v.ndim == 0 and v.dtype != object:     # as LiteRT: numbers as numpy scalars, strings as 0-d arrays
            return v[()]
        return v.copy()

    def experimental_get_device_tensor(self, tensor_index, subgraph_index=0):
        """A tensor's value without a host copy where there is a device copy (tfl_gpu extension).

        * The output of a delegated partition (after ``invoke()``): the delegate's own array for it, as the
          delegate handed it to ``delegate_copy_out`` (the ``cuda`` delegate: a CuPy array on a GPU, an
          emulator array otherwise). It belongs to the delegate and is valid until the next ``invoke()``:
          copy it to keep it; do not modify it.
        * An input set with ``set_tensor`` to a device array (CuPy, any DLPack producer) that was kept on
          the device (every reader is a delegate that takes device arrays): that array.
        * Anything else (CPU results, delegates that return host arrays): ``get_tensor()``'s numpy value.
        """
        n = len(self._runtime.subgraphs)
        if not isinstance(subgraph_index, (int, np.integer)) or not 0 <= int(subgraph_index) < n:
            raise ValueError(f"Invalid subgraph index {subgraph_index} exceeds max subgraph index {n}")
        sub = self._sub(subgraph_index)
        i = self._check_index(sub, tensor_index)
        if not self._allocated:
            raise ValueError("Tensor data is null. Run allocate_tensors() first")
        v = sub.device_values.get(i)
        if v is not None:
            return v
        v = sub.values[i]
        if v is not None and type(v) is not np.ndarray and _device_arrays.is_device_array(v):
            return v
        return self.get_tensor(i, subgraph_index)

    def _value(self, sub, i):
        v = sub.values[i]
        t = sub.tensors[i]
        if v is None:
            key = (sub.sg.index, i)
            released = any(i in st.release for st in sub.steps)     # freed after its last reader
            if released and key not in self._warned_released and not self._preserve_all:
                self._warned_released.add(key)
                warnings.warn(f"tensor {i} ('{t.name}') is an intermediate whose buffer was reused; its value "
                              "is not kept. Pass experimental_preserve_all_tensors=True to read it.",
                              stacklevel=3)
            from .executor import _zeros
            return _zeros(sub.shape_of(i), t.dtype)
        if type(v) is not np.ndarray:
            v = _device_arrays.to_host(v)        # a device array set with set_tensor
        return v

    def tensor(self, tensor_index):
        sub = self._sub(0)
        i = self._check_index(sub, tensor_index)
        if sub.tensors[i].type_name == "STRING":
            raise ValueError("tensor() gives raw views of numeric tensors only; use get_tensor()/set_tensor() "
                             f"for string tensor {i}")

        def view():
            if not self._allocated:
                raise ValueError("Tensor data is null. Run allocate_tensors() first")
            v = sub.values[i]
            if v is None or type(v) is not np.ndarray:
                v = self._value(sub, i)
                sub.values[i] = v
            if not v.flags.writeable:
                v = v.copy()       # constants are read-only views of the model: hand out a private copy
                sub.values[i] = v
            if not v.flags.c_contiguous:
                v = np.ascontiguousarray(v)
                sub.values[i] = v
            token = _ViewToken(v)
            self._views.add(token)
            return np.asarray(token)
        return view

    def resize_tensor_input(self, input_index, tensor_size, strict=False):
        self._ensure_safe()
        self._check_not_busy("resize_tensor_input")
        sub = self._sub(0)
        try:
            i = self._check_index(sub, input_index)
        except ValueError as e:
            raise RuntimeError(str(e)) from None        # LiteRT's type for a bad index here
        t = sub.tensors[i]
        try:
            new = np.array(tensor_size, dtype=np.int64)
        except (TypeError, ValueError):
            raise ValueError(f"tensor_size must be a list of ints, got {tensor_size!r}") from None
        if new.ndim != 1:
            raise ValueError(f"tensor_size must be 1-D, got shape {new.shape}")
        if t.is_constant or t.type_name in ("RESOURCE", "VARIANT"):
            raise RuntimeError("Attempting to resize a fixed-size tensor.")
        if np.any(new < 0) or np.any(new > np.iinfo(np.int32).max):
            raise ValueError(f"tensor_size {[int(d) for d in new]} has a negative dimension or one that does not "
                             "fit in int32")
        if strict:
            sig = t.shape_signature
            if len(sig) != len(new):
                raise RuntimeError(f"ResizeInputTensorStrict only allows mutating unknown dimensions identified "
                                   f"by -1; rank {len(new)} differs from the signature's {len(sig)}.")
            for d, (s, n) in enumerate(zip(sig, new)):
                if s != -1 and s != n:
                    raise RuntimeError(f"Attempting to resize dimension {d} of tensor {i} with value {s} to {n}. "
                                       "ResizeInputTensorStrict only allows mutating unknown dimensions "
                                       "identified by -1.")
        from .limits import check_allocation
        check_allocation(tuple(int(d) for d in new), t.dtype, f"tensor {i} ('{t.name}')")
        new_shape = tuple(int(d) for d in new)
        if new_shape != sub.shape_of(i):
            sub.shapes[i] = new_shape
            sub.values[i] = None
            sub.resized = True
            self._allocated = False

    # ------------------------------------------------------------------ signatures
    def _get_full_signature_list(self):
        out = {}
        for sd in self._model.signatures:
            out[sd.key] = {"inputs": dict(sd.inputs), "outputs": dict(sd.outputs)}
        return out

    def get_signature_list(self):
        return {k: {"inputs": list(v["inputs"]), "outputs": list(v["outputs"])}
                for k, v in self._get_full_signature_list().items()}

    def get_signature_runner(self, signature_key=None):
        if signature_key is None:
            if len(self._signature_defs) != 1:
                raise ValueError(
                    "SignatureDef signature_key is None and model has {0} Signatures. "
                    "None is only allowed when the model has 1 SignatureDef".format(len(self._signature_defs)))
            signature_key = next(iter(self._signature_defs))
        return SignatureRunner(self, signature_key)

    # ------------------------------------------------------------------ delegation
    def get_delegation_report(self, subgraph_index=0):
        """Where each node of a subgraph runs, after ``allocate_tensors``: a list with one dict per node,
        ``index``, ``op``, ``executor`` ("cpu" or the delegate's name), ``partition`` (the delegated
        partition's id, None on the CPU) and ``refusals`` (delegate name -> why it did not take the node;
        only for CPU nodes). ``tfl_gpu.delegation.format_report(report)`` renders it as a table."""
        sub = self._sub(subgraph_index)
        if not self._allocated:
            raise ValueError("The delegation plan is made by allocate_tensors(): run it first")
        return [{"index": n.index, "op": n.op, "executor": n.executor, "partition": n.partition,
                 "refusals": dict(n.refusals)} for n in sub.node_info]

    # ------------------------------------------------------------------ profiling
    def experimental_profile_invoke(self, subgraph_index=0):
        """Runs one invoke while timing every step; returns a list of per-step records
        (``nodes``, ``op``, ``executor``, ``seconds``), in execution order."""
        self._ensure_safe()
        if not self._allocated:
            raise RuntimeError("Invoke called on model that is not ready.")
        timings = []
        self._invoke_subgraph(subgraph_index, timings)
        return [{"nodes": list(st.nodes), "op": st.label, "executor": st.executor, "seconds": dt}
                for st, dt in timings]


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


_NULL_CONTEXT = _NullContext()


class _Exclusive:
    """Holds an interpreter for one call; a second thread using it meanwhile gets a RuntimeError."""
    __slots__ = ("interp", "what")

    def __init__(self, interp, what):
        self.interp, self.what = interp, what

    def __enter__(self):
        if not self.interp._busy.acquire(blocking=False):
            raise RuntimeError(f"{self.what}() called while another thread is using this Interpreter; "
                               "an Interpreter is not thread-safe: use one per thread")
        self.interp._runtime.cancel_requested = False
        return self

    def __exit__(self, *exc):
        self.interp._busy.release()
        return False
_blas_default = None
_limit_lock = threading.Lock()
_active_limits: list = []


class _BlasLimit:
    """Sets the (process-wide) BLAS thread count for one invoke. Limits of interpreters running at the same
    time in other threads nest like a stack, and the last one out restores the default, so a limit never
    outlives the invokes that asked for it (threadpoolctl's own restore would, with overlapping invokes)."""
    __slots__ = ("ctl", "n")

    def __init__(self, ctl, n):
        self.ctl, self.n = ctl, n

    def __enter__(self):
        with _limit_lock:
            _active_limits.append(self.n)
            _set_blas_threads(self.ctl, self.n)
        return self

    def __exit__(self, *exc):
        with _limit_lock:
            _active_limits.remove(self.n)
            _set_blas_threads(self.ctl, _active_limits[-1] if _active_limits else _default_blas_threads(self.ctl))
        return False


def _set_blas_threads(ctl, n: int) -> None:
    # threadpoolctl's per-library controllers directly: its limit() context costs ~0.5 ms per call
    # (set unconditionally: a get_num_threads() check first cost one more foreign call per library, on every
    # invoke, and the limit and its restore always change the count)
    for lib in ctl.lib_controllers:
        lib.set_num_threads(n)


def _default_blas_threads(ctl) -> int:
    """Thread count the BLAS libraries use outside any interpreter (read once)."""
    global _blas_default
    if _blas_default is None:
        counts = [lib.get("num_threads", 0) for lib in ctl.info()]
        _blas_default = max(counts) if counts else 0
    return _blas_default


class InterpreterWithCustomOps(Interpreter):
    """LiteRT's ``InterpreterWithCustomOps``: an Interpreter that first runs custom-op registerers.

    Each entry of ``custom_op_registerers`` is a callable, or the dotted name of one
    (``"package.module.function"``), that is called with :func:`tfl_gpu.register_op` and registers numpy
    kernels with it (LiteRT's registerers are C functions taking an op resolver; ours are Python)."""

    def __init__(self, custom_op_registerers=None, **kwargs):
        from .custom_ops import register_op
        self._custom_op_registerers = list(custom_op_registerers or [])
        for reg in self._custom_op_registerers:
            if isinstance(reg, str):
                import importlib
                name = reg
                module, _, attr = reg.rpartition(".")
                try:
                    reg = getattr(importlib.import_module(module), attr) if module else None
                except (ImportError, AttributeError):
                    reg = None
                if reg is None:     # LiteRT's wording: "Looking up symbol 'Name' failed with error '...'."
                    raise ValueError(f"Looking up symbol '{attr}' failed with error 'custom op registerer "
                                     f"{name!r}: cannot import {attr!r}'.")
            if not callable(reg):
                raise ValueError(f"custom op registerer {reg!r} is not callable")
            reg(register_op)
        super().__init__(**kwargs)


class SignatureRunner:
    """Callable that runs one SignatureDef with inputs and outputs keyed by signature names."""

    def __init__(self, interpreter=None, signature_key=None):
        if not interpreter:
            raise ValueError("None interpreter provided.")
        if not signature_key:
            raise ValueError("None signature_key provided.")
        self._interpreter = interpreter
        self._signature_key = signature_key
        defs = interpreter._get_full_signature_list()
        if signature_key not in defs:
            raise ValueError(f'Invalid signature_key provided: "{signature_key}".')
        sd = next(s for s in interpreter._model.signatures if s.key == signature_key)
        self._inputs = sd.inputs
        self._outputs = sd.outputs
        self._subgraph_index = sd.subgraph_index

    def __call__(self, **kwargs):
        it = self._interpreter
        if len(kwargs) != len(self._inputs):
            raise ValueError("Invalid number of inputs provided for running a SignatureDef, "
                             "expected %s vs provided %s" % (len(self._inputs), len(kwargs)))
        sub = it._sub(self._subgraph_index)
        arrays = {}
        for name, value in kwargs.items():
            if name not in self._inputs:
                raise ValueError("Invalid Input name (%s) for SignatureDef" % name)
            idx = self._inputs[name]
            t = sub.tensors[idx]
            if t.type_name == "STRING" and not isinstance(value, np.ndarray):
                raise ValueError(f"Passed in value type is not a numpy array, got type {type(value).__name__}.")
            if t.type_name == "STRING":
                arr = _to_bytes_array(value)
            elif _device_arrays.is_device_array(value):
                arr = value            # set_tensor keeps it on the device when a delegate reads it
            else:
                arr = np.asarray(value)
            arrays[name] = arr
            if tuple(arr.shape) != sub.shape_of(idx):
                it._ensure_safe()
                from .limits import check_allocation
                check_allocation(arr.shape, t.dtype, f"input '{name}'")
                sub.shapes[idx] = tuple(arr.shape)
                sub.values[idx] = None
                sub.resized = True
                it._allocated = False
        if not it._allocated:
            it.allocate_tensors()
        for name, arr in arrays.items():
            it.set_tensor(self._inputs[name], arr, self._subgraph_index)
        it._ensure_safe()
        it._invoke_subgraph(self._subgraph_index)
        return {name: it.get_tensor(idx, self._subgraph_index) for name, idx in self._outputs.items()}

    def get_input_details(self):
        return {n: self._interpreter._get_tensor_details(i, self._subgraph_index) for n, i in self._inputs.items()}

    def get_output_details(self):
        return {n: self._interpreter._get_tensor_details(i, self._subgraph_index)
                for n, i in self._outputs.items()}


def _type_name(dt) -> str:
    dt = np.dtype(dt)
    names = {np.float32: "FLOAT32", np.float16: "FLOAT16", np.float64: "FLOAT64", np.int32: "INT32",
             np.int64: "INT64", np.int16: "INT16", np.int8: "INT8", np.uint8: "UINT8", np.bool_: "BOOL",
             np.complex64: "COMPLEX64", np.complex128: "COMPLEX128", np.uint16: "UINT16", np.uint32: "UINT32",
             np.uint64: "UINT64"}
    for k, v in names.items():
        if dt == np.dtype(k):
            return v
    if dt.kind in "SUO":
        return "STRING"
    return str(dt).upper()


def _to_bytes_array(arr: np.ndarray) -> np.ndarray:
    out = np.empty(arr.shape, dtype=object)
    if arr.ndim == 0 and arr.dtype.kind == "S":
        # As LiteRT: a 0-d bytes array gives its whole buffer, trailing NULs included (numpy's item()
        # would drop them). (For 1-d and larger arrays LiteRT drops them, as item() does.)
        out[()] = arr.tobytes()
        return out
    flat_in = arr.ravel()
    flat_out = out.ravel()
    for k, v in enumerate(flat_in):
        if isinstance(v, str):
            v = v.encode("utf-8")
        elif isinstance(v, (np.bytes_, bytearray, memoryview)):
            v = bytes(v)
        elif not isinstance(v, bytes):
            raise ValueError(f"Cannot set tensor: string tensors take str or bytes values, got {type(v).__name__}")
        flat_out[k] = v
    return out


def _shapes_unsure(sub) -> bool:
    """True when some op output's shape in the file may not be the computed one."""
    return any(_tensor_shape_unsure(sub.tensors[o]) for op in sub.sg.operators for o in op.outputs if o >= 0)


def _tensor_shape_unsure(t) -> bool:
    return bool((t.shape.size == 0 and not t.has_rank) or (t.shape_signature.size and (t.shape_signature < 0).any()))


def _sparsity_dict(sp):
    if sp is None:
        return {}
    dims = []
    for d in sp.dim_metadata:
        if d.format == "DENSE":
            dims.append({"format": 0, "dense_size": d.dense_size})
        else:
            dims.append({"format": 1, "array_segments": _int32(d.array_segments),
                         "array_indices": _int32(d.array_indices)})
    # As LiteRT: int32 arrays, and no "block_map" key when the model has none.
    out = {"traversal_order": _int32(sp.traversal_order)}
    if sp.block_map is not None and len(sp.block_map):
        out["block_map"] = _int32(sp.block_map)
    out["dim_metadata"] = dims
    return out


def _int32(a):
    return np.asarray(a if a is not None else [], dtype=np.int32).copy()
