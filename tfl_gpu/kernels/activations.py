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

from .conv import static_input
from .elementwise import float_node_not_ref
from .registry import float_node, register

try:        # the clip ufunc itself: np.clip's Python wrapper costs ~5 us a call
    from numpy._core.umath import clip
except ImportError:  # numpy < 2
    try:
        from numpy.core.umath import clip
    except ImportError:
        clip = np.clip

_F32 = np.float32
_F32_DT = np.dtype(np.float32)


def _f32(x):
    return x if x.dtype == _F32 else x.astype(_F32)


def _back(y, x):
    return y if x.dtype == _F32 else y.astype(x.dtype)


_BLOCK = 65536      # elements per block for multi-pass kernels: the temporaries stay in the L2 cache


class _Elementwise:
    """Base for x -> f(x) activations computed in float32. ``f`` takes a float32 array of rank >= 1; kernels
    that make several passes (``blocked = True``) run it over cache-sized blocks of the flattened input."""

    blocked = False

    def __init__(self, node):
        self.node = node

    def __call__(self, x):
        xf = x if x.dtype is _F32_DT else _f32(x)
        if xf.ndim == 0:                   # kernels work in place on arrays: give them one
            xf = xf.reshape(1)
        # (floating-point warnings are silenced by the executor for the whole invoke)
        if self.blocked and xf.size > 2 * _BLOCK:
            flat = xf.reshape(-1)
            y = np.empty(flat.shape, _F32)
            f_out = getattr(self, "f_out", None)
            if f_out is not None:           # writes each block straight into the output
                tmp = np.empty(_BLOCK, _F32)
                for i in range(0, flat.size, _BLOCK):
                    xb = flat[i:i + _BLOCK]
                    f_out(xb, y[i:i + _BLOCK], tmp[:xb.size])
            else:
                f = self.f
                for i in range(0, flat.size, _BLOCK):
                    y[i:i + _BLOCK] = f(flat[i:i + _BLOCK])
            y = y.reshape(xf.shape)
        else:
            y = self.f(xf)
        if x.ndim == 0:
            y = y.reshape(())
        return _back(y, x)


def _clip_fn(lo, hi):
    def f(x):
        if x.ndim == 0:
            return clip(x, lo, hi).astype(_F32)
        return clip(x, lo, hi)
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
    """1 / (1 + exp(-x)) in float32; exp overflows to inf for x < -88.7, giving 0 (LiteRT gives denormals)."""
    y = np.negative(x)
    if y.ndim == 0:
        return _F32(1) / (np.exp(y) + _F32(1))
    np.exp(y, out=y)
    y += _F32(1)
    return np.reciprocal(y, out=y)


@register("LOGISTIC", when=float_node, types=("FLOAT32", "FLOAT16"))
class Logistic(_Elementwise):
    blocked = True
    f = staticmethod(logistic)

    @staticmethod
    def f_out(x, out, tmp):
        np.negative(x, out=out)
        np.exp(out, out=out)
        out += _F32(1)
        np.reciprocal(out, out=out)


@register("ELU", when=float_node_not_ref, types=("FLOAT32",))
class Elu(_Elementwise):
    blocked = True
    @staticmethod
    def f(x):
        # expm1(min(x, 0)) + max(x, 0): exact, branch-free (np.where with random masks is slow)
        return np.expm1(np.minimum(x, _F32(0))) + np.maximum(x, _F32(0))

    @staticmethod
    def f_out(x, out, tmp):
        np.minimum(x, _F32(0), out=out)
        np.expm1(out, out=out)
        np.maximum(x, _F32(0), out=tmp)
        out += tmp


@register("HARD_SWISH", when=float_node, types=("FLOAT32",))
class HardSwish(_Elementwise):
    blocked = True
    @staticmethod
    def f(x):
        # (x / 6) * relu6(x + 3), in LiteRT's order: bit-exact, and no overflow near FLT_MAX
        if x.ndim == 0:
            return (x * _F32(1.0 / 6.0)) * clip(x + _F32(3), _F32(0), _F32(6))
        r = np.add(x, _F32(3))
        clip(r, _F32(0), _F32(6), out=r)
        r *= x * _F32(1.0 / 6.0)
        return r

    @staticmethod
    def f_out(x, out, tmp):
        np.add(x, _F32(3), out=tmp)
        clip(tmp, _F32(0), _F32(6), out=tmp)
        np.multiply(x, _F32(1.0 / 6.0), out=out)
        out *= tmp


@register("LEAKY_RELU", when=float_node, types=("FLOAT32",))
class LeakyRelu(_Elementwise):
    blocked = True
    def __init__(self, node):
        super().__init__(node)
        self.alpha = _F32(node.options.get("alpha", 0.0))

    def f(self, x):
        if 0 < self.alpha <= 1:        # max(x, alpha * x): exact here, two passes
            y = np.multiply(x, self.alpha)
            return np.maximum(y, x, out=y)
        # x > 0 ? x : alpha * x, as max(x, 0) + alpha * min(x, 0): exact for every alpha, branch-free
        return _relu_plus_scaled_neg(x, self.alpha)

    def f_out(self, x, out, tmp):
        if 0 < self.alpha <= 1:
            np.multiply(x, self.alpha, out=out)
            np.maximum(out, x, out=out)
        else:
            np.minimum(x, _F32(0), out=out)
            out *= self.alpha
            np.maximum(x, _F32(0), out=tmp)
            out += tmp


def _relu_plus_scaled_neg(x, alpha):
    """max(x, 0) + alpha * min(x, 0): equals ``x > 0 ? x : alpha * x`` exactly, for any alpha, branch-free."""
    y = np.minimum(x, _F32(0))
    if y.ndim and np.broadcast_shapes(y.shape, np.shape(alpha)) == y.shape:
        np.multiply(y, alpha, out=y)
    else:
        y = y * alpha
    if y.ndim:
        np.add(y, np.maximum(x, _F32(0)), out=y)
        return y
    return y + np.maximum(x, _F32(0))


def _max_form_exact(a) -> bool:
    """True when ``max(x, a * x)`` equals PRELU's ``x >= 0 ? x : a * x`` for every x (inf and NaN included):
    every alpha is <= 1 and non-zero (a zero alpha would turn x = +inf into max(inf, NaN)). A negative alpha
    qualifies: for x >= 0, a * x <= 0 <= x; for x < 0, a * x > 0 > x."""
    return a.size > 0 and bool(np.all((a <= 1) & (a != 0)))


@register("PRELU", when=float_node, types=("FLOAT32",))
class Prelu:
    """x >= 0 ? x : alpha * x, alpha broadcast against x.

    When alpha only varies over x's trailing dims (the usual per-channel alpha), x is viewed as rows of
    those dims and processed in cache-sized blocks of rows; an alpha that is the same array at every invoke
    (a constant, or dequantized from one) with every value <= 1 and non-zero takes the two-pass
    max(x, alpha * x)."""

    def __init__(self, node):
        a = node.const(1)
        self.fast = a is not None and _max_form_exact(a)
        self._rows = {}        # (x.shape, alpha.shape) -> (row length, alpha row) or None
        # alpha computed from constants (float16 weights through DEQUANTIZE): the same array every invoke,
        # so whether it lies in (0, 1] is decided once per array
        self._alpha_src = a
        self._static = a is None and static_input(node, 1)
        self._tmp = None

    def _is_fast(self, alpha):
        if alpha is self._alpha_src:
            return self.fast
        fast = _max_form_exact(alpha)
        if self._static:
            self._alpha_src, self.fast = alpha, fast
        return fast

    def _plan(self, x, alpha):
        key = (x.shape, alpha.shape)
        plan = self._rows.get(key, False)
        if plan is False:
            plan = None
            a_shape = list(alpha.shape)
            while a_shape and a_shape[0] == 1:
                a_shape.pop(0)
            n = len(a_shape)
            if n <= x.ndim and np.broadcast_shapes(x.shape, alpha.shape) == x.shape:
                tail = x.shape[x.ndim - n:]
                k = int(np.prod(tail)) if n else 1
                row = np.ascontiguousarray(np.broadcast_to(alpha.reshape(a_shape), tail), _F32).reshape(k)
                # alpha tiled to a whole block, so each block is plain contiguous 1-D arithmetic
                reps = max(1, _BLOCK // max(k, 1))
                plan = (reps * k, np.tile(row, reps))
            if len(self._rows) < 8:
                self._rows[key] = plan
        return plan

    def __call__(self, x, alpha):
        if alpha.dtype != x.dtype:
            raise ValueError(f"PRELU alpha type {alpha.dtype} differs from the input type {x.dtype}")
        # (floating-point warnings are silenced by the executor for the whole invoke)
        plan = self._plan(x, alpha) if x.ndim and x.size else None
        if plan is None:
            return _relu_plus_scaled_neg(x, alpha)
        length, tiled = plan
        flat = x.reshape(-1)
        out = np.empty(flat.shape, _F32)
        multiply, maximum = np.multiply, np.maximum
        if self._is_fast(alpha):
            # max(x, alpha * x) == (x >= 0 ? x : alpha * x) for alpha <= 1, alpha != 0: two passes
            for i in range(0, flat.size, length):
                xb = flat[i:i + length]
                ob = out[i:i + length]
                multiply(xb, tiled[:xb.size], out=ob)
                maximum(xb, ob, out=ob)
        else:
            tmp = self._tmp
            if tmp is None or tmp.size < length:
                tmp = self._tmp = np.empty(length, _F32)
            for i in range(0, flat.size, length):
                xb = flat[i:i + length]
                ob = out[i:i + length]
                tb = tmp[:xb.size]
                np.minimum(xb, _F32(0), out=ob)
                ob *= tiled[:xb.size]
                maximum(xb, _F32(0), out=tb)
                ob += tb
        return out.reshape(x.shape)


_ERFC = [_F32(c) for c in (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
                           0.09678418, 0.37409196, 1.00002368, -1.26551223)]


def erfc_abs(x):
    """erfc(|x|) in float32: the Chebyshev-fitted erfc of Numerical Recipes (relative error 1.2e-7 as a
    formula; evaluated in float32 the rounding of x*x brings it to ~1e-5 relative for |x| near 9, where
    erfc is below 1e-35)."""
    z = np.abs(x)
    if z.ndim == 0:
        z = np.array(z)
    t = np.multiply(z, _F32(0.5))
    t += _F32(1)
    np.reciprocal(t, out=t)
    p = t * _ERFC[0]
    for c in _ERFC[1:-1]:
        p += c
        p *= t
    p += _ERFC[-1]
    np.square(z, out=z)
    p -= z
    np.exp(p, out=p)
    p *= t
    return p


def erf(x):
    y = _F32(1) - erfc_abs(x)
    return np.where(x < 0, -y, y).astype(_F32, copy=False)


@register("GELU", when=float_node, types=("FLOAT32", "FLOAT16"))
class Gelu(_Elementwise):
    blocked = True
    _K = _F32(np.sqrt(2.0 / np.pi))

    def __init__(self, node):
        super().__init__(node)
        self.approximate = bool(node.options.get("approximate", False))

    def f(self, x):
        if self.approximate:
            y = np.square(x)
            if y.ndim == 0:
                y = np.array(y)
            y *= _F32(0.044715)
            y += _F32(1)
            y *= x
            y *= self._K
            np.tanh(y, out=y)
            y += _F32(1)
        else:
            # 1 + erf(x / sqrt 2) = erfc(-x / sqrt 2) = e + [x > 0] * (2 - 2e) with e = erfc(|x| / sqrt 2):
            # keeps the tiny negative tail LiteRT has, without a slow masked select
            e = erfc_abs(x * _F32(np.sqrt(0.5)))
            y = np.multiply(e, _F32(-2))
            y += _F32(2)
            y *= np.greater(x, _F32(0))
            y += e
        y *= _F32(0.5)      # exact, and keeps x * y from overflowing near FLT_MAX
        y *= x
        return y

    def f_out(self, x, out, tmp):
        """``f`` for one block, the same operations in the same order, in preallocated buffers."""
        if self.approximate:
            np.square(x, out=out)
            out *= _F32(0.044715)
            out += _F32(1)
            out *= x
            out *= self._K
            np.tanh(out, out=out)
            out += _F32(1)
        else:
            scratch = getattr(self, "_scratch", None)
            if scratch is None:
                scratch = self._scratch = np.empty(_BLOCK, _F32)
            z, t = tmp, scratch[:x.size]
            np.multiply(x, _F32(np.sqrt(0.5)), out=z)
            np.abs(z, out=z)
            np.multiply(z, _F32(0.5), out=t)
            t += _F32(1)
            np.reciprocal(t, out=t)
            np.multiply(t, _ERFC[0], out=out)
            for c in _ERFC[1:-1]:
                out += c
                out *= t
            out += _ERFC[-1]
            np.square(z, out=z)
            out -= z
            np.exp(out, out=out)
            out *= t                                   # e = erfc(|x| / sqrt 2)
            np.multiply(out, _F32(-2), out=t)
            t += _F32(2)
            np.greater(x, _F32(0), out=z, casting="unsafe")
            t *= z
            out += t
        out *= _F32(0.5)
        out *= x


# ---------------------------------------------------------------------------------- normalizations

def _check_rank(x, op):
    if x.ndim < 1:
        raise ValueError(f"{op} needs an input of rank >= 1, got a scalar")


def _shifted(x2, beta):
    """(x - c) * beta for a 2-D [rows, depth] view, c the row max. When the whole tensor spans less than 64
    (after beta) the global max is used instead: the same result up to float rounding (no row can underflow
    entirely), and much faster than numpy's per-row max over a short last axis."""
    gmax, gmin = x2.max(), x2.min()
    if beta > 0 and np.isfinite(gmax) and np.isfinite(gmin) and (gmax - gmin) * beta < 64:
        y = np.subtract(x2, gmax)
    else:
        y = x2 - x2.max(axis=1, keepdims=True)
    if beta != 1:
        y *= beta
    return y


@register("SOFTMAX", when=float_node, types=("FLOAT32",))
class Softmax:
    """exp((x - max) * beta) / sum over the last axis, any rank >= 1."""

    def __init__(self, node):
        self.beta = _F32(node.options.get("beta", 0.0))

    def __call__(self, x):
        _check_rank(x, "SOFTMAX")
        x = _f32(x)
        if x.size == 0:
            return np.empty(x.shape, _F32)
        # (floating-point warnings are silenced by the executor for the whole invoke)
        y = _shifted(x.reshape(-1, x.shape[-1]), self.beta)
        np.exp(y, out=y)
        y /= y.sum(axis=1, keepdims=True)
        return y.reshape(x.shape)


@register("LOG_SOFTMAX", when=float_node, types=("FLOAT32",))
class LogSoftmax:
    """(x - max) - log(sum(exp(x - max))) over the last axis."""

    def __init__(self, node):
        pass

    def __call__(self, x):
        if x.ndim == 0:               # LiteRT accepts a scalar: log(1) = 0
            return self(x.reshape(1)).reshape(())
        x = _f32(x)
        if x.size == 0:
            return np.empty(x.shape, _F32)
        with np.errstate(all="ignore"):
            y = _shifted(x.reshape(-1, x.shape[-1]), _F32(1))
            s = np.log(np.exp(y).sum(axis=1, keepdims=True))
            y -= s
        return y.reshape(x.shape)


@register("L2_NORMALIZATION", when=float_node, types=("FLOAT32",))
class L2Normalization:
    """x / max(||x||_2, 1e-6) over the last axis (LiteRT's epsilon). LiteRT's float kernel refuses any
    fused activation other than NONE."""

    def __init__(self, node):
        act = node.options.get("fused_activation_function", "NONE")
        if act != "NONE":
            raise ValueError(f"L2_NORMALIZATION supports no fused activation, got {act}")

    def __call__(self, x):
        _check_rank(x, "L2_NORMALIZATION")
        x = _f32(x)
        if x.size == 0:
            return np.empty(x.shape, _F32)
        with np.errstate(all="ignore"):
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

    @staticmethod
    def _window_sum(sq, r, exact_nonfinite=False):
        depth = sq.shape[-1]
        if r <= 16 or depth <= 32 or exact_nonfinite:
            acc = sq.copy()
            for k in range(1, min(r, depth - 1) + 1):
                acc[..., k:] += sq[..., :-k]
                acc[..., :-k] += sq[..., k:]
            return acc
        c = np.cumsum(sq, axis=-1, dtype=np.float64)
        c = np.concatenate([np.zeros(c.shape[:-1] + (1,)), c], axis=-1)
        idx = np.arange(depth)
        hi = np.minimum(idx + r, depth - 1) + 1
        lo = np.maximum(idx - r, 0)
        return (c[..., hi] - c[..., lo]).astype(_F32)

    def __call__(self, x):
        if x.ndim != 4:
            raise ValueError(f"LOCAL_RESPONSE_NORMALIZATION needs a 4-D input, got rank {x.ndim}")
        x = _f32(x)
        r = self.radius
        with np.errstate(all="ignore"):
            sq = x * x
            finite = np.isfinite(sq)
            if finite.all():
                acc = self._window_sum(sq, r)
            else:
                # LiteRT's optimized kernel slides a running sum along the depth: an inf/NaN square that has
                # left the window leaves NaN behind (inf - inf) for every later channel: reproduce that
                acc = self._window_sum(sq, r, exact_nonfinite=True)
                left = np.cumsum(~finite, axis=-1)      # non-finite squares at index <= j
                depth = x.shape[-1]
                if depth > r + 1:
                    poisoned = left[..., :depth - r - 1] > 0     # channel c = j + r + 1
                    acc[..., r + 1:][poisoned] = np.nan
        with np.errstate(all="ignore"):
            acc *= self.alpha
            acc += self.bias
            np.power(acc, -self.beta, out=acc)
            acc *= x
        return acc
