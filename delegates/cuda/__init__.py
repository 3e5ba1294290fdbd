"""The ``cuda`` delegate: runs float32 TFLite nodes with the hand-written CUDA kernels of ``kernels_cuda/``.

``tfl_gpu.load_delegate("cuda", options)`` with options

* ``backend``: ``"auto"`` (default: CuPy when a GPU is usable, otherwise the CPU emulator with a
  warning), ``"cupy"`` (real GPU, error without one) or ``"emulator"`` (runs the same .cu source on the
  CPU through g++ and fibers: slow, for tests and CI);
* ``device_id`` (default 0), ``precision`` (``"fp32"``; ``"tf32"``/``"fp16"`` are reserved and refused
  for now), ``cuda_graphs`` (default True: replay each partition as a CUDA graph after its first run,
  real GPU only), ``sanitize`` (emulator built with AddressSanitizer/UBSan; also
  ``TFL_GPU_EMU_SANITIZE=1``).

It claims the nodes it has kernels for (others are refused with a reason), folds DEQUANTIZE/DENSIFY of
constant weights on the host once, uploads constants once per partition, and keeps every tensor private to
a partition on the device.  See docs/cuda.md.
"""
from __future__ import annotations

import warnings

import numpy as np

try:
    from tfl_gpu.hookspecs import hookimpl
except ImportError:  # pragma: no cover - the core without delegate support
    def hookimpl(f=None, **_):
        return f if f is not None else (lambda g: g)

from . import ops as _ops
from .backend import get_backend, gpu_available  # noqa: F401

OPTIONS = {"device_id": 0, "backend": "auto", "precision": "fp32", "cuda_graphs": True, "sanitize": None,
           "arena": True}


class Config:
    def __init__(self, options: dict):
        self.device_id = options["device_id"]
        self.backend_kind = options["backend"]
        self.precision = options["precision"]
        self.cuda_graphs = options["cuda_graphs"]
        self.sanitize = options["sanitize"]
        self.arena = bool(options["arena"])
        self._backend = None

    @property
    def backend(self):
        if self._backend is None:
            self._backend = get_backend(self.backend_kind, self.device_id, self.precision, self.sanitize)
        return self._backend


def _folded_ok(node) -> str | None:
    """DEQUANTIZE/DENSIFY of constants are computed once on the host at preparation."""
    if all(t is None or t.constant is not None for t in node.inputs):
        return None
    if node.op == "DEQUANTIZE":      # of a computed (e.g. DENSIFY'd) float16 tensor: device kernel
        return _ops.DequantizeF16.refuse(node)
    return f"{node.op} of a non-constant tensor runs on the CPU (only constant weights are folded)"


def refusal(node) -> str | None:
    """None when the delegate can run ``node`` (a NodeSpec), else the reason."""
    name = node.custom_code if node.op == "CUSTOM" else node.op
    if node.op in _ops.HOST_FOLDED and (node.op != "DEQUANTIZE" or node.inputs[0].type_name != "INT8"
                                        or node.inputs[0].constant is not None):
        return _folded_ok(node)
    cls = _ops.op_class(node)
    if cls is None:
        return f"no CUDA kernel for {name}"
    for t in list(node.inputs) + list(node.outputs):
        if t is not None and getattr(t, "dynamic", False):
            return "data-dependent (dynamic) tensor shape"
    try:
        return cls.refuse(node)
    except Exception as e:  # noqa: BLE001 - a malformed node is refused, not fatal
        return f"cannot run this {node.op}: {type(e).__name__}: {e}"


class Program:
    """A prepared partition: device ops in execution order, constants on the device, private tensors kept
    on the device and released after their last use."""

    def __init__(self, partition, config: Config):
        self.partition = partition
        self.be = be = config.backend
        self.use_graphs = bool(config.cuda_graphs) and be.is_gpu
        self.graph = None
        self.graph_failed = False
        self.runs = 0
        self.last_outputs: dict = {}    # tensor index -> device array of the last run
        host_consts: dict = {}          # folded (DEQUANTIZE/DENSIFY) values, by tensor index
        self.const_env: dict = {}       # device copies of constants read as data inputs
        self.steps = []
        pending_upload: dict = {}
        for node in partition.nodes:
            if node.op in _ops.HOST_FOLDED and _ops.op_class(node) is not _ops.QLut and all(
                    t is None or t.constant is not None or t.index in host_consts for t in node.inputs):
                args = [None if t is None else (t.constant if t.constant is not None else host_consts[t.index])
                        for t in node.inputs]
                res = node.cpu_kernel()(*args)
                if not isinstance(res, (tuple, list)):
                    res = (res,)
                for t, v in zip(node.outputs, res):
                    host_consts[t.index] = np.ascontiguousarray(np.asarray(v, dtype=t.dtype))
                continue
            op = _ops.op_class(node)(node, host_consts, be)
            ins = []
            for pos, t in enumerate(node.inputs):
                if t is None:
                    ins.append(None)
                    continue
                if pos in op.captured:
                    ins.append(None)        # the op holds this constant on the device itself
                    continue
                ins.append(t.index)
                if t.constant is not None:
                    pending_upload[t.index] = np.asarray(t.constant)
                elif t.index in host_consts:
                    pending_upload[t.index] = host_consts[t.index]
            self.steps.append((op, ins, [t.index for t in node.outputs], node))
        for idx, v in pending_upload.items():
            if v.dtype == np.float64:
                v = v.astype(np.float32)
            self.const_env[idx] = be.to_device(np.ascontiguousarray(v))
        # partition outputs that are folded constants
        for t in partition.outputs:
            if t.index in host_consts and t.index not in self.const_env:
                self.const_env[t.index] = be.to_device(host_consts[t.index])
        self.input_ids = [t.index for t in partition.inputs]
        self.output_ids = [t.index for t in partition.outputs]
        keep = set(self.output_ids) | set(self.const_env)
        last: dict = {}
        for si, (_, ins, outs, _) in enumerate(self.steps):
            for i in ins:
                if i is not None:
                    last[i] = si
        self.release = [[] for _ in self.steps]
        for i, si in last.items():
            if i not in keep:
                self.release[si].append(i)
        self.arena = None
        self.arena_floats = 0
        self.arena_saved_floats = 0
        if config.arena:
            self._plan_arena()

    def _plan_arena(self):
        """Planned device arena: every float32 intermediate with a static shape that does not leave the
        partition gets a fixed slice of one buffer; slices of tensors alive at the same time never overlap
        (greedy first fit, largest first). RESHAPE-like ops alias their input's slice. No allocator call on
        the invoke path, and fixed addresses for CUDA graphs."""
        buf_of: dict = {}        # tensor index -> buffer id (the producing tensor)
        first: dict = {}
        last: dict = {}
        size: dict = {}
        outputs = set(self.output_ids)
        for si, (op, ins, outs, node) in enumerate(self.steps):
            for i in ins:
                if i is not None and i in buf_of:
                    last[buf_of[i]] = max(last[buf_of[i]], si)
            if isinstance(op, _ops.Reshape):
                if ins and ins[0] is not None and ins[0] in buf_of:
                    buf_of[outs[0]] = buf_of[ins[0]]
                continue
            for t in node.outputs:
                shp = tuple(int(d) for d in t.shape)
                if (t.type_name != "FLOAT32" or getattr(t, "dynamic", False) or not shp
                        or any(d <= 0 for d in shp)):
                    continue
                buf_of[t.index] = t.index
                first[t.index] = last[t.index] = si
                size[t.index] = (int(np.prod(shp, dtype=np.int64)) + 63) // 64 * 64
        escaping = {buf_of[t] for t in outputs if t in buf_of}
        bufs = [b for b in size if b not in escaping]
        placed: list = []        # (offset, size, first, last)
        offset_of: dict = {}
        for b in sorted(bufs, key=lambda b: (-size[b], first[b])):
            conflicts = sorted((o, n) for o, n, f, l in placed if not (l < first[b] or last[b] < f))
            off = 0
            for o, n in conflicts:
                if off + size[b] <= o:
                    break
                off = max(off, o + n)
            offset_of[b] = off
            placed.append((off, size[b], first[b], last[b]))
        total = max((o + n for o, n, _, _ in placed), default=0)
        if total == 0:
            return
        self.arena = self.be.empty((total,), np.float32)
        self.arena_floats = total
        self.arena_saved_floats = sum(size[b] for b in bufs) - total
        for op, ins, outs, node in self.steps:
            if isinstance(op, _ops.Reshape):
                continue
            op.out_bufs = [self.arena[offset_of[t]:offset_of[t] + size[t]] if t in offset_of else None
                           for t in outs]

    def _run_eager(self, inputs, keep_all: list | None = None):
        env = dict(self.const_env)
        env.update(zip(self.input_ids, inputs))
        for (op, ins, outs, node), rel in zip(self.steps, self.release):
            try:
                res = op([env[i] if i is not None else None for i in ins])
            except Exception as e:
                raise RuntimeError(f"cuda delegate: node {node.index} ({node.op}) failed: "
                                   f"{type(e).__name__}: {e}") from e
            for o, v in zip(outs, res):
                env[o] = v
            if keep_all is not None:
                keep_all.extend(res)        # graph capture: no buffer may return to the pool
            else:
                for r in rel:
                    env.pop(r, None)
        outs = [env[o] for o in self.output_ids]
        self.last_outputs = dict(zip(self.output_ids, outs))
        return outs

    def run(self, inputs):
        self.runs += 1
        if not self.use_graphs or self.graph_failed or self.runs < 2:
            return self._run_eager(inputs)
        return self._run_graph(inputs)

    # CUDA graphs (CuPy only): after one eager run (kernels compiled, metadata uploaded, memory pool warm),
    # the partition is captured once into a graph over static input buffers, then replayed. Every buffer
    # the captured run allocates stays referenced by the program, so the pool never hands it out again.
    def _run_graph(self, inputs):
        cp = self.be.cp
        shapes = tuple((tuple(a.shape), str(a.dtype)) for a in inputs)
        if self.graph is not None and self.graph_shapes != shapes:
            self.graph = None
        if self.graph is None:
            try:
                with self.be.device:
                    static_in = [cp.empty(a.shape, a.dtype) for a in inputs]
                    for dst, src in zip(static_in, inputs):
                        dst[...] = src
                    stream = cp.cuda.Stream(non_blocking=True)
                    keep: list = []
                    cp.cuda.Device().synchronize()
                    with stream:
                        stream.begin_capture()
                        self.be.keep_alive = keep        # op temporaries too, not only outputs
                        try:
                            outs = self._run_eager(static_in, keep_all=keep)
                        finally:
                            self.be.keep_alive = None
                            graph = stream.end_capture()
                    graph.upload(stream)
                self.graph, self.graph_stream, self.graph_outputs = graph, stream, outs
                self.graph_inputs, self.graph_keep, self.graph_shapes = static_in, keep, shapes
            except Exception as e:  # noqa: BLE001 - graphs are an optimisation: fall back to eager
                warnings.warn(f"cuda delegate: CUDA graph capture failed ({type(e).__name__}: {e}); "
                              "running without graphs", RuntimeWarning, stacklevel=2)
                self.graph_failed = True
                self.graph = None
                return self._run_eager(inputs)
        cp.cuda.Stream.null.synchronize()     # inputs were uploaded on the default stream; ours does not wait
        with self.graph_stream:
            for dst, src in zip(self.graph_inputs, inputs):
                dst[...] = src
            self.graph.launch(self.graph_stream)
            outs = [o.copy() for o in self.graph_outputs]
        self.graph_stream.synchronize()
        self.last_outputs = dict(zip(self.output_ids, outs))
        return outs


class CudaDelegate:
    """The pluggy plugin (one instance per ``load_delegate`` call)."""

    def __init__(self):
        self.programs: list[Program] = []

    def device_outputs(self) -> dict:
        """Partition outputs of the last invoke as device arrays (CuPy arrays on a GPU, numpy on the
        emulator), keyed by tensor index: read results without a host round trip."""
        out = {}
        for p in self.programs:
            out.update(p.last_outputs)
        return out

    @hookimpl
    def delegate_option_schema(self):
        return dict(OPTIONS)

    @hookimpl
    def delegate_configure(self, options):
        b = options["backend"]
        if b not in ("auto", "cupy", "emulator"):
            raise ValueError(f"cuda delegate: backend must be 'auto', 'cupy' or 'emulator', got {b!r}")
        d = options["device_id"]
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise ValueError(f"cuda delegate: device_id must be a non-negative int, got {d!r}")
        p = options["precision"]
        if p not in ("fp32", "tf32", "fp16"):
            raise ValueError(f"cuda delegate: precision must be 'fp32', 'tf32' or 'fp16', got {p!r}")
        if p != "fp32":
            raise ValueError(f"cuda delegate: precision {p!r} is not implemented yet (only 'fp32')")
        if not isinstance(options["cuda_graphs"], (bool, np.bool_)):
            raise ValueError(f"cuda delegate: cuda_graphs must be a bool, got {options['cuda_graphs']!r}")
        if not isinstance(options["arena"], (bool, np.bool_)):
            raise ValueError(f"cuda delegate: arena must be a bool, got {options['arena']!r}")
        s = options["sanitize"]
        if s is not None and not isinstance(s, (bool, np.bool_)):
            raise ValueError(f"cuda delegate: sanitize must be a bool or None, got {s!r}")
        cfg = Config(options)
        cfg.backend   # noqa: B018 - resolve the backend now: errors and the fallback warning at load time
        return cfg

    @hookimpl
    def delegate_supports_node(self, node, config):
        r = refusal(node)
        return True if r is None else r

    @hookimpl
    def delegate_prepare(self, partition, config):
        prog = Program(partition, config)
        self.programs.append(prog)
        return prog

    @hookimpl
    def delegate_invoke(self, kernel, inputs):
        return kernel.run(inputs)

    @hookimpl
    def delegate_copy_in(self, kernel, array, tensor):
        be = kernel.be
        if be.is_device_array(array):
            if not be.is_gpu:
                return array
            return _on_our_device(be, array)    # a user's CuPy array: used in place when it can be
        if not be.is_gpu:
            a = np.asarray(_from_dlpack_host(array) if not isinstance(array, np.ndarray) else array)
            if a.dtype != tensor.dtype:
                a = a.astype(tensor.dtype)
            return be.to_device(a)
        a = array
        if not isinstance(a, np.ndarray) and hasattr(a, "__dlpack__"):
            with be.device:
                a = be.cp.from_dlpack(a)      # a device producer (e.g. torch.cuda): no host round trip
            return _on_our_device(be, a)
        return be.to_device(a)

    @hookimpl
    def delegate_copy_out(self, kernel, array, tensor):
        a = np.asarray(kernel.be.to_host(array))
        return a if a.flags.c_contiguous else a.copy()    # (ascontiguousarray would make 0-d arrays 1-d)

    @hookimpl
    def delegate_release(self, kernel):
        if kernel in self.programs:
            self.programs.remove(kernel)


def _on_our_device(be, a):
    """A CuPy array given as an input, as the kernels need it: C-contiguous, with the tensor's layout, on
    the delegate's device. Used in place (no copy) when it already is."""
    dev = getattr(getattr(a, "device", None), "id", be.device_id)
    if dev != be.device_id:
        with be.device:
            return be.cp.array(a, copy=True, order="C")       # peer copy to our device
    if not a.flags.c_contiguous:
        with be.device:
            return be.cp.ascontiguousarray(a)
    return a


def _from_dlpack_host(a):
    if hasattr(a, "__dlpack__"):
        try:
            return np.from_dlpack(a)
        except Exception:  # noqa: BLE001 - e.g. a device array: go through its host copy
            pass
    if hasattr(a, "get"):
        return a.get()
    return np.asarray(a)


plugin = CudaDelegate
