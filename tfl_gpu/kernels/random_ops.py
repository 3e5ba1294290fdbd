"""RANDOM_UNIFORM, RANDOM_STANDARD_NORMAL, MULTINOMIAL: seeded exactly like LiteRT (Philox4x32-10).

Like LiteRT, each op owns a generator created when the interpreter is allocated (from the ``seed`` and
``seed2`` options; both 0 means a non-deterministic seed) and advanced by every invoke, so a seeded model
gives LiteRT's sequence of outputs invoke after invoke.
"""
from __future__ import annotations

import os

import numpy as np

from ..limits import check_allocation
from .registry import register

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)


class Philox:
    """Counter-based generator: each call of ``blocks(n)`` returns n blocks of 4 uint32 and advances."""

    def __init__(self, seed: int, seed2: int):
        seed &= (1 << 64) - 1
        seed2 &= (1 << 64) - 1
        self.key = (seed & 0xFFFFFFFF, seed >> 32)
        self.counter = (seed2 << 64)          # 128-bit counter: words 2, 3 hold seed2; words 0, 1 start at 0

    def skip(self, count: int) -> None:
        self.counter = (self.counter + count) % (1 << 128)

    def copy(self) -> "Philox":
        other = Philox.__new__(Philox)
        other.key, other.counter = self.key, self.counter
        return other

    def blocks(self, n: int) -> np.ndarray:
        start = self.counter
        self.skip(n)
        k = np.arange(n, dtype=object) + start
        k = np.array([int(v) % (1 << 128) for v in k], dtype=object) if n else np.zeros(0, object)
        c = [np.array([(int(v) >> (32 * w)) & 0xFFFFFFFF for v in k], np.uint64) for w in range(4)]
        k0, k1 = self.key
        for r in range(10):
            p0 = _M0 * c[0]
            p1 = _M1 * c[2]
            hi0, lo0 = p0 >> np.uint64(32), p0 & _MASK
            hi1, lo1 = p1 >> np.uint64(32), p1 & _MASK
            c = [hi1 ^ c[1] ^ np.uint64(k0), lo1, hi0 ^ c[3] ^ np.uint64(k1), lo0]
            k0 = (k0 + _W0) & 0xFFFFFFFF
            k1 = (k1 + _W1) & 0xFFFFFFFF
        return np.stack(c, axis=1).astype(np.uint32)


def _uint32_to_float(x: np.ndarray) -> np.ndarray:
    """[0, 1) from the 23 low bits: 1.mantissa - 1 (exact, as TensorFlow does it)."""
    bits = (np.uint32(127 << 23) | (x & np.uint32(0x7FFFFF))).astype(np.uint32)
    return bits.view(np.float32) - np.float32(1)


def _uint64_to_double(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    man = ((x0.astype(np.uint64) & np.uint64(0xFFFFF)) << np.uint64(32)) | x1.astype(np.uint64)
    bits = np.uint64(1023 << 52) | man
    return bits.view(np.float64) - 1.0


def _as_int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _seeded(node) -> Philox:
    # The schema stores int64 seeds, but LiteRT's params struct holds C ints: the values wrap to 32 bits
    # (and sign-extend when widened back to int64) before they seed the generator.
    seed = _as_int32(int(node.options.get("seed", 0)))
    seed2 = _as_int32(int(node.options.get("seed2", 0)))
    if seed == 0 and seed2 == 0:
        seed, seed2 = (int.from_bytes(os.urandom(8), "little") for _ in range(2))
    return Philox(seed, seed2)


def _shape(shape_arr) -> tuple[int, ...]:
    shp = tuple(int(d) for d in np.asarray(shape_arr).reshape(-1))
    if any(d < 0 for d in shp):
        raise ValueError(f"random op: negative dimension in shape {list(shp)}")
    check_allocation(shp, np.float32, "random op output")
    return shp


class _RandomOp:
    """An op owning a generator, seeded once from its options and advanced by every invoke."""

    def __init__(self, node):
        self.node = node
        self.rng = _seeded(node)

    def _draw(self, shape):
        """(output shape, element count, the uint32 words of ceil(count / 4) Philox blocks); a dry run
        draws from a copy so the invoke sequence stays LiteRT's."""
        shp = _shape(shape)
        n = int(np.prod(shp, dtype=np.int64))
        rng = self.rng.copy() if self.node.dry_run else self.rng
        return shp, n, rng.blocks((n + 3) // 4).reshape(-1)


@register("RANDOM_UNIFORM", types=("INT32",))
class RandomUniform(_RandomOp):
    def __call__(self, shape):
        shp, n, raw = self._draw(shape)
        return _uint32_to_float(raw[:n]).reshape(shp)


@register("RANDOM_STANDARD_NORMAL", types=("INT32",))
class RandomStandardNormal(_RandomOp):
    def __call__(self, shape):
        shp, n, raw = self._draw(shape)
        f32 = np.float32
        # Box-Muller on consecutive pairs, in float32 as TensorFlow's BoxMullerFloat
        u1 = np.maximum(_uint32_to_float(raw[0::2]), f32(1.0e-7))
        v1 = f32(2.0 * np.pi) * _uint32_to_float(raw[1::2])
        u2 = np.sqrt(f32(-2.0) * np.log(u1))
        out = np.empty(raw.size, np.float32)
        out[0::2] = np.sin(v1) * u2
        out[1::2] = np.cos(v1) * u2
        return out[:n].reshape(shp)


@register("MULTINOMIAL", types=("FLOAT32",))
class Multinomial(_RandomOp):
    def __init__(self, node):
        super().__init__(node)
        self.out_dtype = node.outputs[0].dtype

    def __call__(self, logits, num_samples):
        if logits.ndim != 2 or logits.shape[1] == 0:
            raise ValueError(f"MULTINOMIAL logits must be [batch, classes>0], got {list(logits.shape)}")
        m = int(np.asarray(num_samples).reshape(-1)[0])
        if m < 0:
            raise ValueError(f"MULTINOMIAL num_samples {m} is negative")
        batch = logits.shape[0]
        rng = self.rng.copy()
        if not self.node.dry_run:
            # LiteRT skips a fixed budget per invoke so every invoke draws fresh numbers
            self.rng.skip(batch * ((m + 3) // 4 * 4) * 2 * 256)
        need = batch * m                                   # two uint32 per sample
        raw = rng.blocks((2 * need + 3) // 4).reshape(-1)[: 2 * need]
        u = _uint64_to_double(raw[0::2], raw[1::2]).reshape(batch, m) if need else np.zeros((batch, m))
        out = np.empty((batch, m), self.out_dtype)
        lg = logits.astype(np.float32)
        for b in range(batch):
            row = lg[b]
            finite = np.isfinite(row)
            mx = float(np.max(row[finite])) if finite.any() else float(np.finfo(np.float32).min)
            terms = np.where(finite, np.exp(row.astype(np.float64) - mx), 0.0)
            cdf = np.cumsum(terms)
            out[b] = np.searchsorted(cdf, u[b] * cdf[-1], side="right")
        return out
