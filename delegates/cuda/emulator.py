"""Runs CUDA kernel source on the CPU: the emulator backend of the CUDA delegate.

The very same ``.cu`` source that ``cupy.RawModule`` compiles for a GPU is compiled here by ``g++`` together
with ``emu/cuda_emu.h``, a header in which every CUDA thread of a block is a fiber (a small stack and a
hand-written x86-64 context switch).  ``__syncthreads()``, static and dynamic ``__shared__`` memory, warp
shuffles and votes, and atomics therefore behave as on a GPU; blocks run one after another.

The compiled ``.so`` is cached by a hash of the source, the header, the flags and the compiler version in
``$TFL_GPU_CACHE_DIR`` (default ``~/.cache/tfl_gpu/cuda_emu``).  Kernels are launched with CuPy's call shape
``kernel(grid, block, args, shared_mem=0)`` where ``args`` holds numpy arrays (device pointers) and scalars.
Python ints and floats are converted to the width of the declared parameter; numpy scalars must match the
declared type exactly (a mismatch would corrupt the argument buffer on a real GPU, so it is an error here).

Sanitizer mode (``sanitize=True`` or ``TFL_GPU_EMU_SANITIZE=1``) builds with
``-fsanitize=address,undefined``; every array argument is then copied into an ASan-allocated buffer so an
out-of-bounds access is reported with the ``.cu`` line.  ASan must be the first library loaded: run python
with ``LD_PRELOAD=$(g++ -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0``.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

HEADER = Path(__file__).with_name("emu") / "cuda_emu.h"

_CTYPES = {
    "float": ctypes.c_float, "double": ctypes.c_double,
    "int": ctypes.c_int32, "signed int": ctypes.c_int32, "signed": ctypes.c_int32,
    "unsigned": ctypes.c_uint32, "unsigned int": ctypes.c_uint32,
    "long": ctypes.c_int64, "long int": ctypes.c_int64, "long long": ctypes.c_int64,
    "long long int": ctypes.c_int64, "unsigned long": ctypes.c_uint64, "unsigned long long": ctypes.c_uint64,
    "unsigned long long int": ctypes.c_uint64, "size_t": ctypes.c_uint64, "ptrdiff_t": ctypes.c_int64,
    "short": ctypes.c_int16, "unsigned short": ctypes.c_uint16, "char": ctypes.c_int8,
    "signed char": ctypes.c_int8, "unsigned char": ctypes.c_uint8, "bool": ctypes.c_bool,
    "int32_t": ctypes.c_int32, "uint32_t": ctypes.c_uint32, "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64, "int8_t": ctypes.c_int8, "uint8_t": ctypes.c_uint8,
    "int16_t": ctypes.c_int16, "uint16_t": ctypes.c_uint16,
}
_NP_OF_CTYPE = {
    ctypes.c_float: np.float32, ctypes.c_double: np.float64, ctypes.c_int32: np.int32,
    ctypes.c_uint32: np.uint32, ctypes.c_int64: np.int64, ctypes.c_uint64: np.uint64,
    ctypes.c_int16: np.int16, ctypes.c_uint16: np.uint16, ctypes.c_int8: np.int8, ctypes.c_uint8: np.uint8,
    ctypes.c_bool: np.bool_,
}

_KERNEL_RE = re.compile(
    r'extern\s+"C"\s+__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?void\s+'
    r'(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(([^)]*)\)', re.S)
_DYN_SMEM_RE = re.compile(
    r'extern\s+__shared__\s+((?:__align__\s*\(\s*\d+\s*\)\s*)?)([A-Za-z_][\w\s]*?)\s*(\w+)\s*\[\s*\]\s*;')
_COMMENT_RE = re.compile(r'//[^\n]*|/\*.*?\*/', re.S)


class EmulatorError(RuntimeError):
    """A kernel failed in the emulator (deadlock, divergent barrier, bad launch configuration)."""


class Param:
    __slots__ = ("name", "ctype_src", "pointer", "ctype")

    def __init__(self, decl: str):
        decl = " ".join(decl.split())
        m = re.match(r"(.*?)(\w+)\s*$", decl)
        if not m:
            raise ValueError(f"cannot parse kernel parameter {decl!r}")
        self.ctype_src = m.group(1).strip()
        self.name = m.group(2)
        self.pointer = "*" in self.ctype_src
        if self.pointer:
            self.ctype = ctypes.c_void_p
        else:
            base = " ".join(w for w in self.ctype_src.split() if w not in ("const", "__restrict__", "volatile"))
            if base not in _CTYPES:
                raise ValueError(f"unsupported kernel parameter type {self.ctype_src!r} for {self.name}")
            self.ctype = _CTYPES[base]


def parse_kernels(src: str) -> dict[str, list[Param]]:
    """extern "C" __global__ kernels of a source: name -> parameter list."""
    out = {}
    for m in _KERNEL_RE.finditer(_COMMENT_RE.sub(" ", src)):
        params = [p for p in m.group(2).split(",") if p.strip() and p.strip() != "void"]
        out[m.group(1)] = [Param(p) for p in params]
    return out


_SYNC_RE = re.compile(r"__syncthreads|__syncwarp|_sync\s*\(|__shfl|__ballot|__activemask")
_FUNC_RE = re.compile(r"\b(\w+)\s*\([^;{}()]*(?:\([^()]*\)[^;{}()]*)*\)\s*(?:const\s*)?\{")


def _bodies(src: str) -> dict[str, str]:
    """Function name -> body text (brace matched), for every function definition of the source."""
    out = {}
    for m in _FUNC_RE.finditer(src):
        name = m.group(1)
        if name in ("if", "for", "while", "switch", "return", "catch", "sizeof"):
            continue
        depth, i = 0, m.end() - 1
        while i < len(src):
            c = src[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out[name] = out.get(name, "") + src[m.end():i]
    return out


def sync_free_kernels(src: str) -> set[str]:
    """Kernels that (transitively, by name) use no barrier or warp collective: they run as plain calls."""
    code = _COMMENT_RE.sub(" ", src)
    bodies = _bodies(code)
    syncing = {n for n, b in bodies.items() if _SYNC_RE.search(b)}
    changed = True
    while changed:
        changed = False
        for n, b in bodies.items():
            if n not in syncing and any(re.search(rf"\b{re.escape(f)}\s*\(", b) for f in syncing):
                syncing.add(n)
                changed = True
    return {k for k in parse_kernels(src) if k in bodies and k not in syncing}


_CUDA_INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"](cuda_fp16\.h|cuda_runtime\.h|cuda\.h)[>"].*$', re.M)


def _transform(src: str) -> str:
    # CUDA headers: the emulator header provides what the kernels use (__half, vector types, intrinsics)
    src = _CUDA_INCLUDE_RE.sub(lambda m: f"// {m.group(0).strip()} (provided by cuda_emu.h)", src)
    # `extern __shared__ T name[];` -> a pointer to the launch's dynamic shared memory: a local inside a
    # function (evaluated per call), a macro at file scope
    code = _COMMENT_RE.sub(lambda m: " " * len(m.group(0)), src)   # same offsets, no braces in comments

    def rep(m):
        t, name = m.group(2).strip(), m.group(3)
        depth = code.count("{", 0, m.start()) - code.count("}", 0, m.start())
        if depth > 0:
            return f"{t}* const {name} = ({t}*)emu_dyn_smem_ptr;"
        return f"#define {name} (({t}*)emu_dyn_smem_ptr)\n"
    return _DYN_SMEM_RE.sub(rep, src)


def _launchers(kernels: dict[str, list[Param]], direct: set) -> str:
    parts = []
    for name, params in kernels.items():
        decls = "".join(f"    {p.ctype_src} a{i}; memcpy(&a{i}, args[{i}], sizeof(a{i}));\n"
                        for i, p in enumerate(params))
        call = ", ".join(f"a{i}" for i in range(len(params)))
        parts.append(
            f'EMU_EXPORT int emu_launch__{name}(const unsigned* g, const unsigned* b, size_t smem, '
            f'void** args, size_t stack) {{\n{decls}'
            f"    auto body = [&]() {{ {name}({call}); }};\n"
            f"    return emu_launch_grid(g, b, smem, [](void* c) {{ (*(decltype(body)*)c)(); }}, &body, stack, "
            f"{1 if name in direct else 0});\n"
            f"}}\n")
    return "\n".join(parts)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def cache_dir() -> Path:
    d = os.environ.get("TFL_GPU_CACHE_DIR")
    base = Path(d) if d else Path.home() / ".cache" / "tfl_gpu"
    out = base / "cuda_emu"
    try:
        out.mkdir(parents=True, exist_ok=True)
        return out
    except OSError:
        out = Path(tempfile.gettempdir()) / f"tfl_gpu_cuda_emu_{os.getuid()}"
        out.mkdir(parents=True, exist_ok=True)
        return out


_COMPILER_ID: dict = {}
_LIB_LOCKS: dict = {}      # one lock per loaded .so (dlopen shares one copy of its globals)
_LOCK = threading.Lock()


def _compiler() -> str:
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        raise EmulatorError("the CUDA emulator needs a C++ compiler (g++); none was found on PATH")
    if cxx not in _COMPILER_ID:
        try:
            _COMPILER_ID[cxx] = subprocess.run([cxx, "--version"], capture_output=True, text=True,
                                               timeout=60).stdout
        except (OSError, subprocess.SubprocessError) as e:
            raise EmulatorError(f"cannot run the C++ compiler {cxx}: {e}") from e
    return cxx


def _cpu_id() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        import platform
        return platform.processor() or platform.machine()
    lines = [ln for ln in info.splitlines() if ln.startswith(("model name", "flags"))]
    return "\n".join(sorted(set(lines)))


def asan_loaded() -> bool:
    try:
        with open("/proc/self/maps") as f:
            return "libasan" in f.read()
    except OSError:
        return False


def compile_source(src: str, sanitize: bool = False, name: str = "kernels") -> tuple[Path, dict]:
    """Compiles `src` (CUDA C++) for the emulator; returns (path of the cached .so, kernels)."""
    kernels = parse_kernels(src)
    if not kernels:
        raise EmulatorError(f"{name}: no extern \"C\" __global__ kernels found")
    cxx = _compiler()
    header = HEADER.read_text()
    full = (f'#include "{HEADER}"\n#line 1 "{name}"\n' + _transform(src) + "\n#line 1 \"<emu-launchers>\"\n"
            + _launchers(kernels, sync_free_kernels(src) if not _env_flag("TFL_GPU_EMU_NO_DIRECT") else set()))
    flags = [os.environ.get("TFL_GPU_EMU_OPT", "-O3"), "-march=native", "-std=c++17", "-fPIC", "-shared", "-fvisibility=hidden", "-Wl,-Bsymbolic", "-fstack-clash-protection", "-fno-strict-aliasing", "-w", "-x", "c++"]
    if sanitize:
        flags += ["-fsanitize=address,undefined", "-fno-sanitize=alignment", "-fno-omit-frame-pointer",
                  "-g", "-O1", "-fno-sanitize-recover=undefined"]
    # -march=native: the host CPU is part of the key (a cache directory may be shared between machines)
    key = hashlib.sha256("\0".join([full, header, " ".join(flags), cxx, _COMPILER_ID[cxx], _cpu_id()]).encode()
                         ).hexdigest()
    d = cache_dir()
    so = d / f"{re.sub(r'[^A-Za-z0-9_]', '_', name)}-{key[:24]}{'-san' if sanitize else ''}.so"
    with _LOCK:
        if not so.exists():
            fd, tmp_src = tempfile.mkstemp(suffix=".cu.cpp", dir=d)
            with os.fdopen(fd, "w") as f:
                f.write(full)
            tmp_so = tmp_src + ".so"
            try:
                r = subprocess.run([cxx, *flags, tmp_src, "-o", tmp_so], capture_output=True, text=True,
                                   timeout=600)
                if r.returncode != 0:
                    raise EmulatorError(f"emulator build of {name} failed:\n{r.stderr[-4000:]}")
                os.replace(tmp_so, so)
            finally:
                for p in (tmp_src, tmp_so):
                    try:
                        os.unlink(p)
                    except OSError:
                        pass
    return so, kernels


def _dim3(v) -> tuple[int, int, int]:
    if isinstance(v, (int, np.integer)):
        v = (int(v),)
    v = tuple(int(x) for x in v)
    if not 1 <= len(v) <= 3 or any(x < 0 for x in v):
        raise ValueError(f"grid/block must be 1 to 3 non-negative ints, got {v}")
    return v + (1,) * (3 - len(v))


class EmuFunction:
    """One kernel; called like cupy.RawKernel: ``f(grid, block, args, shared_mem=0)``."""

    def __init__(self, module: "EmuModule", name: str, params: list[Param]):
        self.module = module
        self.name = name
        self.params = params
        self._fn = getattr(module.lib, f"emu_launch__{name}")
        self._fn.restype = ctypes.c_int
        self._fn.argtypes = [ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint), ctypes.c_size_t,
                             ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t]
        self.launches = 0

    def _arg(self, p: Param, a, keep: list, copies: list):
        if p.pointer:
            if a is None:
                raise TypeError(f"{self.name}: argument {p.name} is None; pass numpy.uint64(0) for a NULL "
                                "pointer (CuPy turns None into 0xffffffff, not NULL)")
            if isinstance(a, np.ndarray):
                if not a.flags.c_contiguous:
                    raise ValueError(f"{self.name}: argument {p.name} must be a C-contiguous array")
                if self.module.sanitize:
                    buf = self.module.lib.emu_malloc(max(a.nbytes, 1))
                    ctypes.memmove(buf, a.ctypes.data, a.nbytes)
                    copies.append((a, buf))
                    return ctypes.c_void_p(buf)
                return ctypes.c_void_p(a.ctypes.data)
            if isinstance(a, (int, np.integer)):      # an address (0: NULL); before numpy scalars'
                return ctypes.c_void_p(int(a))         # own __array_interface__
            if hasattr(a, "__array_interface__"):
                return ctypes.c_void_p(a.__array_interface__["data"][0])
            raise TypeError(f"{self.name}: argument {p.name} ({p.ctype_src}) needs an array, got {type(a).__name__}")
        if isinstance(a, np.ndarray) and a.ndim == 0:
            a = a[()]
        if isinstance(a, np.generic):
            want = _NP_OF_CTYPE[p.ctype]
            if a.dtype != want:
                raise TypeError(f"{self.name}: argument {p.name} is declared {p.ctype_src} but got numpy "
                                f"{a.dtype} (on a GPU this would corrupt the argument buffer); pass "
                                f"np.{np.dtype(want).name}(...) or a Python number")
            return p.ctype(a.item())
        if isinstance(a, bool) or isinstance(a, int):
            if p.ctype in (ctypes.c_float, ctypes.c_double):
                return p.ctype(float(a))
            return p.ctype(int(a))
        if isinstance(a, float):
            if p.ctype not in (ctypes.c_float, ctypes.c_double):
                raise TypeError(f"{self.name}: argument {p.name} is declared {p.ctype_src}, got a float")
            return p.ctype(a)
        raise TypeError(f"{self.name}: argument {p.name} ({p.ctype_src}): unsupported {type(a).__name__}")

    def __call__(self, grid, block, args, shared_mem: int = 0, stream=None):
        args = tuple(args)
        if len(args) != len(self.params):
            raise TypeError(f"{self.name} takes {len(self.params)} arguments, got {len(args)}")
        keep: list = []
        copies: list = []
        vals = [self._arg(p, a, keep, copies) for p, a in zip(self.params, args)]
        ptrs = (ctypes.c_void_p * max(len(vals), 1))(*[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p)
                                                       for v in vals])
        g = (ctypes.c_uint * 3)(*_dim3(grid))
        b = (ctypes.c_uint * 3)(*_dim3(block))
        try:
            with self.module.lock:          # the emulator's scheduler state is per library, not per thread
                rc = self._fn(g, b, int(shared_mem), ptrs, self.module.stack_size)
                err = self.module.lib.emu_last_error() if rc != 0 else None
        finally:
            for a, buf in copies:
                if a.flags.writeable:
                    ctypes.memmove(a.ctypes.data, buf, a.nbytes)
                self.module.lib.emu_free(ctypes.c_void_p(buf))
        self.launches += 1
        if rc != 0:
            raise EmulatorError(f"kernel {self.name} grid={_dim3(grid)} block={_dim3(block)}: "
                                f"{err.decode() if err else 'failed'}")


class EmuModule:
    """The emulator's counterpart of ``cupy.RawModule(code=src)``."""

    def __init__(self, code: str, name: str = "kernels", sanitize: bool | None = None,
                 stack_size: int | None = None):
        if sanitize is None:
            sanitize = _env_flag("TFL_GPU_EMU_SANITIZE")
        if sanitize and not asan_loaded():
            raise EmulatorError(
                "sanitizer mode needs the ASan runtime loaded first: run python with "
                "LD_PRELOAD=$(g++ -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0")
        self.sanitize = bool(sanitize)
        if stack_size is None:
            stack_size = int(os.environ.get("TFL_GPU_EMU_STACK_KB", "64")) * 1024
        self.stack_size = int(stack_size) * (4 if self.sanitize else 1)
        self.path, self.kernels = compile_source(code, self.sanitize, name)
        self.lib = ctypes.CDLL(str(self.path))
        self.lib.emu_last_error.restype = ctypes.c_char_p
        self.lib.emu_malloc.restype = ctypes.c_void_p
        self.lib.emu_malloc.argtypes = [ctypes.c_size_t]
        self.lib.emu_free.argtypes = [ctypes.c_void_p]
        self._functions: dict[str, EmuFunction] = {}
        self.lock = _LIB_LOCKS.setdefault(str(self.path), threading.Lock())

    def get_function(self, name: str) -> EmuFunction:
        f = self._functions.get(name)
        if f is None:
            if name not in self.kernels:
                raise KeyError(f"no extern \"C\" __global__ kernel named {name!r} "
                               f"(have: {', '.join(sorted(self.kernels))})")
            f = self._functions[name] = EmuFunction(self, name, self.kernels[name])
        return f
