"""Text and sparse-feature ops of the old TFLite builtin set: SKIP_GRAM (word n-grams with skips),
LSH_PROJECTION (locality-sensitive hashing with FarmHash's Fingerprint64) and EMBEDDING_LOOKUP_SPARSE
(weighted, combined embedding rows of a sparse id tensor)."""
from __future__ import annotations

import numpy as np

from ..limits import check_allocation
from .registry import register

# ------------------------------------------------------------------------------------------- SKIP_GRAM

_C_SPACE = b" \t\n\v\f\r"


def _split_words(s: bytes) -> list[bytes]:
    """Splits like LiteRT's SKIP_GRAM: a word ends at a C-locale space; a piece that starts with a space
    (only possible at position 0) is dropped, and the tail after the last space is kept as is."""
    words = []
    prev = 0
    n = len(s)
    for i in range(1, n):
        if s[i] in _C_SPACE:
            if i > prev and s[prev] not in _C_SPACE:
                words.append(s[prev:i])
            prev = i + 1
    if n > prev:
        words.append(s[prev:])
    return words


def skip_grams(sentence: bytes, ngram_size: int, max_skip_size: int, include_all_ngrams: bool) -> list[bytes]:
    """The n-grams of ``sentence`` (words joined by one space): ``ngram_size`` words (or 1..ngram_size with
    ``include_all_ngrams``) where consecutive chosen words skip at most ``max_skip_size`` words. The
    enumeration order is LiteRT's depth-first order."""
    words = _split_words(sentence)
    num_words = len(words)
    out: list[bytes] = []
    if num_words < ngram_size or ngram_size <= 0:
        return out

    def include(size):
        if size <= 0:
            return False
        return size <= ngram_size if include_all_ngrams else size == ngram_size

    stack = [0] * ngram_size
    depth = 1
    while depth >= 0:
        step = False
        if depth < ngram_size and stack[depth] + 1 < num_words:
            step = depth == 0 or stack[depth] - stack[depth - 1] <= max_skip_size
        if step:
            stack[depth] += 1
            depth += 1
            if depth < ngram_size:
                stack[depth] = stack[depth - 1]
        else:
            if include(depth):
                out.append(b" ".join(words[stack[k]] for k in range(depth)))
            depth -= 1
    return out


@register("SKIP_GRAM", types=("STRING",))
class SkipGram:
    def __init__(self, node):
        if len(node.inputs) != 1 or len(node.outputs) != 1:
            raise ValueError("SKIP_GRAM takes one string input and has one output")
        if node.inputs[0].type_name != "STRING" or node.outputs[0].type_name != "STRING":
            raise ValueError("SKIP_GRAM input and output must be strings")
        o = node.options
        self.n = int(o.get("ngram_size", 0))
        self.skip = int(o.get("max_skip_size", 0))
        self.all = bool(o.get("include_all_ngrams", False))

    def __call__(self, x):
        x = np.asarray(x, dtype=object).reshape(-1)
        if x.size < 1:
            raise ValueError("SKIP_GRAM: the input holds no string")
        s = x[0]
        s = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        grams = skip_grams(s, self.n, self.skip, self.all)
        out = np.empty(len(grams), dtype=object)
        out[:] = grams
        return out


# ------------------------------------------------------------------------------ FarmHash Fingerprint64

_M = (1 << 64) - 1
_K0 = 0xc3a5c85c97cb3127
_K1 = 0xb492b66fbe98f273
_K2 = 0x9ae16a3b2f90404f


def _f64(s, i):
    return int.from_bytes(s[i:i + 8], "little")


def _f32(s, i):
    return int.from_bytes(s[i:i + 4], "little")


def _rot(v, r):
    return v if r == 0 else ((v >> r) | (v << (64 - r))) & _M


def _smix(v):
    return v ^ (v >> 47)


def _len16(u, v, mul):
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _len0to16(s, n):
    if n >= 8:
        mul = (_K2 + n * 2) & _M
        a = (_f64(s, 0) + _K2) & _M
        b = _f64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _len16(c, d, mul)
    if n >= 4:
        mul = (_K2 + n * 2) & _M
        a = _f32(s, 0)
        return _len16((n + (a << 3)) & _M, _f32(s, n - 4), mul)
    if n > 0:
        a, b, c = s[0], s[n >> 1], s[n - 1]
        y = (a + (b << 8)) & 0xFFFFFFFF
        z = (n + (c << 2)) & 0xFFFFFFFF
        return (_smix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _len17to32(s, n):
    mul = (_K2 + n * 2) & _M
    a = (_f64(s, 0) * _K1) & _M
    b = _f64(s, 8)
    c = (_f64(s, n - 8) * mul) & _M
    d = (_f64(s, n - 16) * _K2) & _M
    return _len16((_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M,
                  (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)


def _len33to64(s, n):
    mul = (_K2 + n * 2) & _M
    a = (_f64(s, 0) * _K2) & _M
    b = _f64(s, 8)
    c = (_f64(s, n - 8) * mul) & _M
    d = (_f64(s, n - 16) * _K2) & _M
    y = (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M
    z = _len16(y, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)
    e = (_f64(s, 16) * mul) & _M
    f = _f64(s, 24)
    g = ((y + _f64(s, n - 32)) * mul) & _M
    h = ((z + _f64(s, n - 24)) * mul) & _M
    return _len16((_rot((e + f) & _M, 43) + _rot(g, 30) + h) & _M, (e + _rot((f + a) & _M, 18) + g) & _M, mul)


def _weak32(s, i, a, b):
    w, x, y, z = _f64(s, i), _f64(s, i + 8), _f64(s, i + 16), _f64(s, i + 24)
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def fingerprint64(s: bytes) -> int:
    """FarmHash ``Fingerprint64`` (farmhashna::Hash64) of ``s`` as an unsigned 64-bit integer."""
    s = bytes(s)
    n = len(s)
    if n <= 16:
        return _len0to16(s, n)
    if n <= 32:
        return _len17to32(s, n)
    if n <= 64:
        return _len33to64(s, n)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _M
    z = (_smix((y * _K2 + 113) & _M) * _K2) & _M
    v0 = v1 = w0 = w1 = 0
    x = (x * _K2 + _f64(s, 0)) & _M
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    p = 0
    while True:
        x = (_rot((x + y + v0 + _f64(s, p + 8)) & _M, 37) * _K1) & _M
        y = (_rot((y + v1 + _f64(s, p + 48)) & _M, 42) * _K1) & _M
        x ^= w1
        y = (y + v0 + _f64(s, p + 40)) & _M
        z = (_rot((z + w0) & _M, 33) * _K1) & _M
        v0, v1 = _weak32(s, p, (v1 * _K1) & _M, (x + w0) & _M)
        w0, w1 = _weak32(s, p + 32, (z + w1) & _M, (y + _f64(s, p + 16)) & _M)
        z, x = x, z
        p += 64
        if p == end:
            break
    mul = (_K1 + ((z & 0xFF) << 1)) & _M
    p = last64
    w0 = (w0 + ((n - 1) & 63)) & _M
    v0 = (v0 + w0) & _M
    w0 = (w0 + v0) & _M
    x = (_rot((x + y + v0 + _f64(s, p + 8)) & _M, 37) * mul) & _M
    y = (_rot((y + v1 + _f64(s, p + 48)) & _M, 42) * mul) & _M
    x ^= (w1 * 9) & _M
    y = (y + v0 * 9 + _f64(s, p + 40)) & _M
    z = (_rot((z + w0) & _M, 33) * mul) & _M
    v0, v1 = _weak32(s, p, (v1 * mul) & _M, (x + w0) & _M)
    w0, w1 = _weak32(s, p + 32, (z + w1) & _M, (y + _f64(s, p + 16)) & _M)
    z, x = x, z
    return _len16((_len16(v0, w0, mul) + _smix(y) * _K0 + z) & _M, (_len16(v1, w1, mul) + x) & _M, mul)



# Vectorized Fingerprint64 over many keys of one length (rows of a uint8 matrix): the same arithmetic on
# uint64 arrays (numpy wraps modulo 2**64).
def _vf64(k, i):
    return np.ascontiguousarray(k[:, i:i + 8]).view("<u8")[:, 0].astype(np.uint64)


def _vf32(k, i):
    return np.ascontiguousarray(k[:, i:i + 4]).view("<u4")[:, 0].astype(np.uint64)


def _vrot(v, r):
    return v if r == 0 else (v >> np.uint64(r)) | (v << np.uint64(64 - r))


def _vsmix(v):
    return v ^ (v >> np.uint64(47))


def _vlen16(u, v, mul):
    a = (u ^ v) * mul
    a ^= a >> np.uint64(47)
    b = (v ^ a) * mul
    b ^= b >> np.uint64(47)
    return b * mul


def _vweak32(k, i, a, b):
    w, x, y, z = _vf64(k, i), _vf64(k, i + 8), _vf64(k, i + 16), _vf64(k, i + 24)
    a = a + w
    b = _vrot(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _vrot(a, 44)
    return a + z, b + c


def fingerprint64_many(keys: np.ndarray) -> np.ndarray:
    """Fingerprint64 of every row of the uint8 matrix ``keys`` (all keys have the same length)."""
    k = np.ascontiguousarray(keys, dtype=np.uint8)
    rows, n = k.shape
    U = np.uint64
    K0, K1, K2 = U(_K0), U(_K1), U(_K2)
    with np.errstate(over="ignore"):
        if n <= 16:
            if n >= 8:
                mul = U((_K2 + n * 2) & _M)
                a = _vf64(k, 0) + K2
                b = _vf64(k, n - 8)
                c = _vrot(b, 37) * mul + a
                d = (_vrot(a, 25) + b) * mul
                return _vlen16(c, d, mul)
            if n >= 4:
                mul = U((_K2 + n * 2) & _M)
                a = _vf32(k, 0)
                return _vlen16(U(n) + (a << U(3)), _vf32(k, n - 4), mul)
            if n > 0:
                a, b, c = (k[:, j].astype(U) for j in (0, n >> 1, n - 1))
                y = (a + (b << U(8))) & U(0xFFFFFFFF)
                z = (U(n) + (c << U(2))) & U(0xFFFFFFFF)
                return _vsmix((y * K2) ^ (z * K0)) * K2
            return np.full(rows, K2, U)
        if n <= 32:
            mul = U((_K2 + n * 2) & _M)
            a = _vf64(k, 0) * K1
            b = _vf64(k, 8)
            c = _vf64(k, n - 8) * mul
            d = _vf64(k, n - 16) * K2
            return _vlen16(_vrot(a + b, 43) + _vrot(c, 30) + d, a + _vrot(b + K2, 18) + c, mul)
        if n <= 64:
            mul = U((_K2 + n * 2) & _M)
            a = _vf64(k, 0) * K2
            b = _vf64(k, 8)
            c = _vf64(k, n - 8) * mul
            d = _vf64(k, n - 16) * K2
            y = _vrot(a + b, 43) + _vrot(c, 30) + d
            z = _vlen16(y, a + _vrot(b + K2, 18) + c, mul)
            e = _vf64(k, 16) * mul
            f = _vf64(k, 24)
            g = (y + _vf64(k, n - 32)) * mul
            h = (z + _vf64(k, n - 24)) * mul
            return _vlen16(_vrot(e + f, 43) + _vrot(g, 30) + h, e + _vrot(f + a, 18) + g, mul)
        seed = 81
        x = np.full(rows, U(seed), U)
        y = np.full(rows, U((seed * _K1 + 113) & _M), U)
        z = _vsmix(y * K2 + U(113)) * K2
        v0 = v1 = w0 = w1 = np.zeros(rows, U)
        x = x * K2 + _vf64(k, 0)
        end = ((n - 1) // 64) * 64
        last64 = end + ((n - 1) & 63) - 63
        p = 0
        while True:
            x = _vrot(x + y + v0 + _vf64(k, p + 8), 37) * K1
            y = _vrot(y + v1 + _vf64(k, p + 48), 42) * K1
            x = x ^ w1
            y = y + v0 + _vf64(k, p + 40)
            z = _vrot(z + w0, 33) * K1
            v0, v1 = _vweak32(k, p, v1 * K1, x + w0)
            w0, w1 = _vweak32(k, p + 32, z + w1, y + _vf64(k, p + 16))
            z, x = x, z
            p += 64
            if p == end:
                break
        mul = K1 + ((z & U(0xFF)) << U(1))
        p = last64
        w0 = w0 + U((n - 1) & 63)
        v0 = v0 + w0
        w0 = w0 + v0
        x = _vrot(x + y + v0 + _vf64(k, p + 8), 37) * mul
        y = _vrot(y + v1 + _vf64(k, p + 48), 42) * mul
        x = x ^ (w1 * U(9))
        y = y + v0 * U(9) + _vf64(k, p + 40)
        z = _vrot(z + w0, 33) * mul
        v0, v1 = _vweak32(k, p, v1 * mul, x + w0)
        w0, w1 = _vweak32(k, p + 32, z + w1, y + _vf64(k, p + 16))
        z, x = x, z
        return _vlen16(_vlen16(v0, w0, mul) + _vsmix(y) * K0 + z, _vlen16(v1, w1, mul) + x, mul)


# -------------------------------------------------------------------------------------- LSH_PROJECTION

@register("LSH_PROJECTION", types=("FLOAT32", "INT32", "INT64", "UINT8", "INT8", "INT16", "FLOAT64", "BOOL"))
class LshProjection:
    """Each hash seed (a float of the ``hash`` matrix) gives one bit: the sign of
    sum_i weight_i * int64(Fingerprint64(seed bytes + bytes of input row i)), accumulated in double.
    SPARSE (type 1) packs a row of bits into an int32 plus ``k << num_bits``; DENSE (type 2) outputs the
    bits."""

    def __init__(self, node):
        if len(node.inputs) not in (2, 3) or len(node.outputs) != 1:
            raise ValueError("LSH_PROJECTION takes (hash, input[, weight]) and has one output")
        self.type = int(node.options.get("type", 0))
        if self.type not in (1, 2):
            raise ValueError(f"LSH_PROJECTION: projection type must be SPARSE (1) or DENSE (2), got {self.type}")
        if node.inputs[1] is not None and node.inputs[1].type_name == "STRING":
            raise ValueError("LSH_PROJECTION on string inputs is not supported")
        self.cache = {}

    def __call__(self, hashes, x, weight=None):
        h = np.asarray(hashes)
        x = np.asarray(x)
        if h.ndim != 2 or h.dtype != np.float32:
            raise ValueError(f"LSH_PROJECTION: hash must be a 2-D float32 tensor, got {h.dtype} "
                             f"{list(h.shape)}")
        if h.shape[1] > 32:
            raise ValueError(f"LSH_PROJECTION: at most 32 bits per hash function, got {h.shape[1]}")
        if x.ndim < 1:
            raise ValueError("LSH_PROJECTION: the input must have rank >= 1")
        if weight is not None:
            weight = np.asarray(weight, np.float32)
            if weight.ndim != 1 or weight.shape[0] != x.shape[0]:
                raise ValueError(f"LSH_PROJECTION: weight must be 1-D with {x.shape[0]} entries, got "
                                 f"{list(weight.shape)}")
        num_hash, num_bits = h.shape
        n_rows = x.shape[0]
        if n_rows == 0:
            bits = np.zeros((num_hash, num_bits), np.int32)
        else:
            row_bytes = np.ascontiguousarray(x).reshape(-1).view(np.uint8).reshape(n_rows, x.nbytes // n_rows)
            seeds = np.ascontiguousarray(h).reshape(-1, 1).view(np.uint8)          # (S, 4)
            s_count = seeds.shape[0]
            check_allocation((s_count * n_rows, 4 + row_bytes.shape[1]), np.uint8, "LSH_PROJECTION hash keys")
            keys = np.concatenate([np.repeat(seeds, n_rows, axis=0),
                                   np.tile(row_bytes, (s_count, 1))], axis=1)        # (S * rows, 4 + L)
            fp = fingerprint64_many(keys).view(np.int64).astype(np.float64).reshape(s_count, n_rows)
            if weight is not None:
                fp = weight.astype(np.float64)[None, :] * fp
            score = np.cumsum(fp, axis=1)[:, -1]          # sequential double sum, as LiteRT
            bits = (score > 0).astype(np.int32).reshape(num_hash, num_bits)
        if self.type == 2:
            return bits.reshape(-1)
        out = np.zeros(num_hash, np.int64)
        for i in range(num_hash):
            sig = 0
            for j in range(num_bits):
                sig = ((sig << 1) | int(bits[i, j])) & 0xFFFFFFFF
            out[i] = sig + i * (1 << num_bits)
        return (out & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


# ----------------------------------------------------------------------------- EMBEDDING_LOOKUP_SPARSE

@register("EMBEDDING_LOOKUP_SPARSE", types=("FLOAT32",))
class EmbeddingLookupSparse:
    """(ids, indices, dense_shape, weights, params) -> for each row of the sparse tensor (all index columns
    but the last), the weighted sum of the ``params`` rows of its ids, divided by the total weight (MEAN) or
    by sqrt(sum of squared weights) (SQRTN). Consecutive entries of one row form one aggregation, as in
    LiteRT (indices are expected sorted)."""

    def __init__(self, node):
        if len(node.inputs) != 5 or len(node.outputs) != 1:
            raise ValueError("EMBEDDING_LOOKUP_SPARSE takes 5 inputs and has one output")
        self.combiner = int(node.options.get("combiner", 0))
        if self.combiner not in (0, 1, 2):
            raise ValueError(f"EMBEDDING_LOOKUP_SPARSE: unknown combiner {self.combiner}")
        for i, (what, tn) in enumerate((("ids", "INT32"), ("indices", "INT32"), ("dense shape", "INT32"),
                                        ("weights", "FLOAT32"))):
            if node.inputs[i] is not None and node.inputs[i].type_name != tn:
                raise ValueError(f"EMBEDDING_LOOKUP_SPARSE: {what} must be {tn}, got {node.inputs[i].type_name}")
        if node.inputs[4] is not None and node.inputs[4].type_name != "FLOAT32":
            raise ValueError(f"EMBEDDING_LOOKUP_SPARSE: params must be FLOAT32, got {node.inputs[4].type_name}")

    def __call__(self, ids, indices, dense_shape, weights, params):
        ids, indices = np.asarray(ids), np.asarray(indices)
        dense_shape, weights = np.asarray(dense_shape), np.asarray(weights, np.float32)
        params = np.asarray(params, np.float32)
        if ids.ndim != 1 or indices.ndim != 2 or dense_shape.ndim != 1 or weights.ndim != 1:
            raise ValueError("EMBEDDING_LOOKUP_SPARSE: ids, dense_shape and weights must be 1-D, indices 2-D")
        n = ids.shape[0]
        if indices.shape[0] != n or weights.shape[0] != n:
            raise ValueError(f"EMBEDDING_LOOKUP_SPARSE: {n} ids but {indices.shape[0]} index rows and "
                             f"{weights.shape[0]} weights")
        if params.ndim < 2:
            raise ValueError("EMBEDDING_LOOKUP_SPARSE: params must have rank >= 2")
        lookup_rank = indices.shape[1]
        if dense_shape.shape[0] != lookup_rank:
            raise ValueError(f"EMBEDDING_LOOKUP_SPARSE: dense_shape has {dense_shape.shape[0]} entries, indices "
                             f"have {lookup_rank} columns")
        if lookup_rank < 1:
            raise ValueError("EMBEDDING_LOOKUP_SPARSE: indices need at least one column")
        lead = tuple(int(d) for d in dense_shape[:lookup_rank - 1])
        if any(d < 0 for d in lead):
            raise ValueError(f"EMBEDDING_LOOKUP_SPARSE: negative dense shape {dense_shape.tolist()}")
        emb_shape = params.shape[1:]
        emb = int(np.prod(emb_shape))
        num_rows = params.shape[0]
        check_allocation(lead + emb_shape, np.float32, "EMBEDDING_LOOKUP_SPARSE output")
        out = np.zeros((int(np.prod(lead)), emb), np.float32)
        if n == 0:
            return out.reshape(lead + emb_shape)
        if np.any(ids < 0) or np.any(ids >= num_rows):
            bad = ids[(ids < 0) | (ids >= num_rows)][0]
            raise ValueError(f"EMBEDDING_LOOKUP_SPARSE: id {bad} out of bounds [0, {num_rows - 1}]")
        cols = indices[:, :lookup_rank - 1].astype(np.int64)
        dims = np.asarray(lead, np.int64)
        if np.any(cols < 0) or np.any(cols >= dims):
            raise ValueError("EMBEDDING_LOOKUP_SPARSE: an index is out of the dense shape")
        bucket = np.ravel_multi_index(tuple(cols.T), lead) if lead else np.zeros(n, np.int64)
        flat = params.reshape(num_rows, emb)
        weighted = flat[ids] * weights[:, None]
        # runs of equal consecutive buckets are one aggregation each
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        ends = np.r_[starts[1:], n]
        for s, e in zip(starts, ends):
            b = bucket[s]
            acc = out[b].copy()
            for k in range(s, e):          # sequential float32 accumulation, like LiteRT
                acc += weighted[k]
            if self.combiner != 0:
                w = weights[s:e]
                tot = np.float32(0)
                sq = np.float32(0)
                for wk in w:
                    tot = np.float32(tot + wk)
                    sq = np.float32(sq + np.float32(wk * wk))
                div = tot if self.combiner == 1 else np.float32(np.sqrt(sq))
                with np.errstate(divide="ignore", invalid="ignore"):
                    acc = acc / div
            out[b] = acc
        return out.reshape(lead + emb_shape)
