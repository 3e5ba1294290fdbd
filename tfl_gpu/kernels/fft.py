"""RFFT2D and the complex helpers COMPLEX_ABS, REAL, IMAG."""
from __future__ import annotations

import numpy as np

from ..limits import check_allocation
from .registry import register


def _fft_length(v) -> tuple[int, int]:
    f = np.asarray(v).reshape(-1)
    if f.size != 2:
        raise ValueError(f"RFFT2D fft_length must hold 2 values, got {f.size}")
    fh, fw = int(f[0]), int(f[1])
    for n in (fh, fw):
        if n < 1 or n & (n - 1):
            raise ValueError(f"RFFT2D fft_length values must be powers of 2, got [{fh}, {fw}]")
    return fh, fw


@register("RFFT2D", types=("FLOAT32",))
class Rfft2d:
    """Real 2-D FFT over the two innermost dimensions; the input is cropped or zero-padded to
    ``fft_length`` and the output holds ``fft_length[1] // 2 + 1`` columns (computed in float64 like
    TFLite's double-precision FFT, returned as complex64)."""

    def __init__(self, node):
        c = node.const(1)
        self.fl = None if c is None else _fft_length(c)

    def __call__(self, x, fft_length):
        fh, fw = self.fl if self.fl is not None else _fft_length(fft_length)
        if x.ndim < 2:
            raise ValueError(f"RFFT2D input must have rank >= 2, got {x.ndim}")
        check_allocation(x.shape[:-2] + (fh, fw), np.complex128, "RFFT2D")
        y = np.fft.rfft2(x.astype(np.float64), s=(fh, fw), axes=(-2, -1))
        return y.astype(np.complex64)


def _complex_in(x, op):
    if x.dtype.kind != "c":
        raise ValueError(f"{op} input must be complex64 or complex128, got {x.dtype}")
    return x


@register("COMPLEX_ABS", types=("COMPLEX64", "COMPLEX128"))
def complex_abs(node, x):
    return np.abs(_complex_in(x, "COMPLEX_ABS"))


@register("REAL", types=("COMPLEX64", "COMPLEX128"))
def real(node, x):
    return np.ascontiguousarray(_complex_in(x, "REAL").real)


@register("IMAG", types=("COMPLEX64", "COMPLEX128"))
def imag(node, x):
    return np.ascontiguousarray(_complex_in(x, "IMAG").imag)
