"""Float activations and normalizations: TANH LOGISTIC RELU RELU6 RELU_N1_TO_1 RELU_0_TO_1 LEAKY_RELU PRELU ELU
HARD_SWISH GELU, SOFTMAX LOG_SOFTMAX L2_NORMALIZATION LOCAL_RESPONSE_NORMALIZATION.

Everything computes in float32 (float16 inputs, which LiteRT accepts for a few of these, are computed in float32
and rounded back). The quantized variants live in the quantized kernel modules (``when=quantized_node``).

LOCAL_RESPONSE_NORMALIZATION follows LiteRT's BUILTIN (optimized) kernel: the window over the depth axis is
``[c - radius, c + radius]`` inclusive. LiteRT's BUILTIN_REF kernel stops the window one channel short
(``c + radius`` exclusive), a known bug of the reference implementation that we do not reproduce.
"""
from __future__ import annotations

import numpy as np

from .registry import float_node, register

_F32 = np.float32


def _f32(x):
    return x if x.dtype == _F32 else x.astype(_F32)


def _back(y, x):
    return y if x.dtype == _F32 else y.astype(x.dtype)


class _Elementwise:
    """Base for x -> f(x) activations computed in float32."""

    def __init__(self, node):
        self.node = node

    def __call__(self, x):
        xf = _f32(x)
        with np.errstate(all="ignore"):
            y = self.f(xf)
        return _back(y, x)


def _clip_fn(lo, hi):
    def f(x):
        if x.ndim == 0:
            return np.clip(x, lo, hi).astype(_F32)
        return np.clip(x, lo, hi)
    return f


@register("RELU", when=float_node, types=("FLOAT32",))
class Relu(_Elementwise):
    @staticmethod
    def f(x):
        return np.maximum(x, _F32(0))


@register("RELU6", when=float_node, types=("FLOAT32",))
class Relu6(_Elementwise):
    f = staticmethod(_clip_fn(_F32(0), _F32(6)))


@register("RELU_N1_TO_1", when=float_node, types=("FLOAT32",))
class ReluN1To1(_Elementwise):
    f = staticmethod(_clip_fn(_F32(-1), _F32(1)))


@register("RELU_0_TO_1", when=float_node, types=("FLOAT32",))
class Relu0To1(_Elementwise):
    f = staticmethod(_clip_fn(_F32(0), _F32(1)))


@register("TANH", when=float_node, types=("FLOAT32", "FLOAT16"))
class Tanh(_Elementwise):
    f = staticmethod(np.tanh)


def logistic(x):
    """1 / (1 + exp(-x)) without overflow: exp of -|x| only."""
    e = np.exp(-np.abs(x))
    r = _F32(1) / (e + _F32(1))
    return np.where(x >= 0, r, e * r).astype(_F32, copy=False)


@register("LOGISTIC", when=float_node, types=("FLOAT32", "FLOAT16"))
class Logistic(_Elementwise):
    f = staticmethod(logistic)


@register("ELU", when=float_node, types=("FLOAT32",))
class Elu(_Elementwise):
    @staticmethod
    def f(x):
        return np.where(x < 0, np.expm1(np.minimum(x, _F32(0))), x).astype(_F32, copy=False)


@register("HARD_SWISH", when=float_node, types=("FLOAT32",))
class HardSwish(_Elementwise):
    @staticmethod
    def f(x):
        # (x / 6) * relu6(x + 3), in LiteRT's order: bit-exact, and no overflow near FLT_MAX
        r = np.clip(x + _F32(3), _F32(0), _F32(6))
        return ((x * _F32(1.0 / 6.0)) * r).astype(_F32, copy=False)


@register("LEAKY_RELU", when=float_node, types=("FLOAT32",))
class LeakyRelu(_Elementwise):
    def __init__(self, node):
        super().__init__(node)
        self.alpha = _F32(node.options.get("alpha", 0.0))

    def f(self, x):
        return np.where(x > 0, x, x * self.alpha).astype(_F32, copy=False)


@register("PRELU", when=float_node, types=("FLOAT32",))
def prelu(node, x, alpha):
    with np.errstate(all="ignore"):
        return np.where(x >= 0, x, x * alpha).astype(x.dtype, copy=False)


def erfc_abs(x):
    """erfc(|x|) in float32, relative error < 1.2e-7 (the Chebyshev-fitted erfc of Numerical Recipes)."""
    z = np.abs(x)
    t = _F32(1) / (_F32(1) + _F32(0.5) * z)
    p = _F32(0.17087277)
    for c in (-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
              1.00002368):
        p = p * t + _F32(c)
    p = p * t - _F32(1.26551223)
    return t * np.exp(p - z * z)


def erf(x):
    y = _F32(1) - erfc_abs(x)
    return np.where(x < 0, -y, y).astype(_F32, copy=False)


@register("GELU", when=float_node, types=("FLOAT32", "FLOAT16"))
class Gelu(_Elementwise):
    _K = _F32(np.sqrt(2.0 / np.pi))

    def __init__(self, node):
        super().__init__(node)
        self.approximate = bool(node.options.get("approximate", False))

    def f(self, x):
        if self.approximate:
            inner = x * x
            inner = (inner * _F32(0.044715) + _F32(1)) * x * self._K
            y = np.tanh(inner) + _F32(1)
        else:
            # 1 + erf(x / sqrt 2) = erfc(-x / sqrt 2): keeps the tiny negative tail LiteRT has
            e = erfc_abs(x * _F32(np.sqrt(0.5)))
            y = np.where(x < 0, e, _F32(2) - e)
        return ((x * _F32(0.5)) * y).astype(_F32, copy=False)


# ---------------------------------------------------------------------------------- normalizations

def _check_rank(x, op):
    if x.ndim < 1:
        raise ValueError(f"{op} needs an input of rank >= 1, got a scalar")


@register("SOFTMAX", when=float_node, types=("FLOAT32",))
class Softmax:
    def __init__(self, node):
        self.beta = _F32(node.options.get("beta", 0.0))

    def __call__(self, x):
        _check_rank(x, "SOFTMAX")
        x = _f32(x)
        if x.size == 0:
            return np.empty(x.shape, _F32)
        with np.errstate(all="ignore"):
            y = x - x.max(axis=-1, keepdims=True)
            if self.beta != 1:
                y *= self.beta
            np.exp(y, out=y)
            y /= y.sum(axis=-1, keepdims=True)
        return y


@register("LOG_SOFTMAX", when=float_node, types=("FLOAT32",))
class LogSoftmax:
    def __init__(self, node):
        pass

    def __call__(self, x):
        _check_rank(x, "LOG_SOFTMAX")
        x = _f32(x)
        if x.size == 0:
            return np.empty(x.shape, _F32)
        with np.errstate(all="ignore"):
            y = x - x.max(axis=-1, keepdims=True)
            s = np.log(np.exp(y).sum(axis=-1, keepdims=True))
            y -= s
        return y


@register("L2_NORMALIZATION", when=float_node, types=("FLOAT32",))
class L2Normalization:
    """x / max(||x||_2, 1e-6) over the last axis (LiteRT's epsilon)."""

    def __init__(self, node):
        pass

    def __call__(self, x):
        _check_rank(x, "L2_NORMALIZATION")
        x = _f32(x)
        if x.size == 0:
            return np.empty(x.shape, _F32)
        n = np.einsum("...i,...i->...", x, x)[..., None]
        np.sqrt(n, out=n)
        np.maximum(n, _F32(1e-6), out=n)
        return x / n


@register("LOCAL_RESPONSE_NORMALIZATION", when=float_node, types=("FLOAT32",))
class LocalResponseNormalization:
    """out = x * (bias + alpha * sum_{|j - c| <= radius} x_j^2) ^ -beta over the depth (last) axis."""

    def __init__(self, node):
        o = node.options
        self.radius = int(o.get("radius", 0))
        self.bias = _F32(o.get("bias", 0.0))
        self.alpha = _F32(o.get("alpha", 0.0))
        self.beta = _F32(o.get("beta", 0.0))

    def __call__(self, x):
        if x.ndim != 4:
            raise ValueError(f"LOCAL_RESPONSE_NORMALIZATION needs a 4-D input, got rank {x.ndim}")
        x = _f32(x)
        depth = x.shape[-1]
        sq = x * x
        r = self.radius
        if r <= 16 or depth <= 32:
            acc = sq.copy()
            for k in range(1, min(r, depth - 1) + 1):
                acc[..., k:] += sq[..., :-k]
                acc[..., :-k] += sq[..., k:]
        else:
            c = np.cumsum(sq, axis=-1, dtype=np.float64)
            c = np.concatenate([np.zeros(c.shape[:-1] + (1,)), c], axis=-1)
            idx = np.arange(depth)
            hi = np.minimum(idx + r, depth - 1) + 1
            lo = np.maximum(idx - r, 0)
            acc = (c[..., hi] - c[..., lo]).astype(_F32)
        with np.errstate(all="ignore"):
            acc *= self.alpha
            acc += self.bias
            np.power(acc, -self.beta, out=acc)
            acc *= x
        return acc
