"""Locates the CUDA kernel sources (``kernels_cuda/*.cu``) and inlines their local includes, so each file
becomes one self-contained string for NVRTC, cupy.RawModule or the emulator."""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

_INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*$', re.M)


def kernel_dir() -> Path:
    """The folder holding the .cu files: $TFL_GPU_CUDA_KERNELS, the installed package copy, or the repo."""
    env = os.environ.get("TFL_GPU_CUDA_KERNELS")
    cands = [Path(env)] if env else []
    here = Path(__file__).resolve().parent
    cands += [here / "kernels_cuda", here.parent.parent / "kernels_cuda", here.parents[2] / "kernels_cuda"
              if len(here.parents) > 2 else here]
    try:
        import tfl_gpu
        cands.append(Path(tfl_gpu.__file__).resolve().parent / "kernels_cuda")
        cands.append(Path(tfl_gpu.__file__).resolve().parent.parent / "kernels_cuda")
    except ImportError:  # pragma: no cover
        pass
    for c in cands:
        if c.is_dir() and any(c.glob("*.cu")):
            return c
    raise FileNotFoundError("cannot find the CUDA kernel sources (kernels_cuda/*.cu); set TFL_GPU_CUDA_KERNELS")


def kernel_files() -> list[Path]:
    return sorted(kernel_dir().glob("*.cu"))


@lru_cache(maxsize=None)
def _load(path: str) -> str:
    p = Path(path)
    seen: set = set()

    def inline(text: str, base: Path) -> str:
        def rep(m):
            inc = (base / m.group(1)).resolve()
            if inc in seen:
                return ""
            seen.add(inc)
            body = inc.read_text().replace("#pragma once", "")
            return f'#line 1 "{inc}"\n' + inline(body, inc.parent) + f'\n#line 1 "{p}"\n'
        return _INCLUDE_RE.sub(rep, text)

    return f'#line 1 "{p}"\n' + inline(p.read_text(), p.parent)


def load_source(name: str) -> str:
    """Source of kernels_cuda/<name>.cu with local includes inlined."""
    if not name.endswith(".cu"):
        name += ".cu"
    return _load(str(kernel_dir() / name))
