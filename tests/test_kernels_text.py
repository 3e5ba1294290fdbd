"""SKIP_GRAM, LSH_PROJECTION and EMBEDDING_LOOKUP_SPARSE against LiteRT."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from tfl_gpu.kernels.text_ops import fingerprint64, fingerprint64_many
from tfl_gpu.writer import ModelBuilder
from oracle import assert_same_as_litert, assert_close, run_ours


# ------------------------------------------------------------------------------------------ SKIP_GRAM

def _skip_gram_model(n, skip, include_all):
    mb = ModelBuilder()
    x = mb.input("x", [1], "STRING")
    y = mb.tensor("y", [], "STRING")
    mb.op("SKIP_GRAM", [x], [y], ngram_size=n, max_skip_size=skip, include_all_ngrams=include_all)
    mb.output(y)
    return mb.build()


SENTENCES = [b"the quick brown fox jumps over the lazy dog", b"a b c d e", b"one", b"",
             b"  leading and  double   spaces ", b"tabs\tand\nnewlines here", b"x y"]


@pytest.mark.parametrize("n,skip,include_all", [(0, 1, True), (1, 0, False), (2, 0, False), (2, 1, False), (3, 2, False),
                                                (3, 1, True), (2, 3, True), (4, 0, False)])
@pytest.mark.parametrize("sentence", SENTENCES)
def test_skip_gram(n, skip, include_all, sentence):
    x = np.array([sentence], dtype=object)
    assert_same_as_litert(_skip_gram_model(n, skip, include_all), [x], exact=True)


def test_skip_gram_formula():
    """Independent check on a clean sentence: the set of skip-grams is every increasing choice of n words
    whose consecutive gaps skip at most max_skip_size words."""
    words = b"a b c d e f".split()
    out = run_ours(_skip_gram_model(3, 1, False), [np.array([b" ".join(words)], dtype=object)])[0]
    expect = {b" ".join(words[i] for i in c) for c in itertools.combinations(range(len(words)), 3)
              if all(c[k + 1] - c[k] <= 2 for k in range(2))}
    assert sorted(out.tolist()) == sorted(expect)
    assert len(out) == len(expect)


# ------------------------------------------------------------------------------------- LSH_PROJECTION

def test_fingerprint64_known_values():

    # Computed by Google's farmhash (pyfarmhash / the C++ library) for these inputs.
    pytest.importorskip("farmhash")
    import farmhash
    rng = np.random.default_rng(0)
    for n in list(range(0, 70)) + [128, 129, 200, 1000]:
        s = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert fingerprint64(s) == farmhash.fingerprint64(s)


def test_fingerprint64_vectorized_matches_scalar():
    rng = np.random.default_rng(1)
    for n in list(range(0, 70)) + [127, 128, 129, 300]:
        keys = rng.integers(0, 256, (5, n), dtype=np.uint8)
        assert fingerprint64_many(keys).tolist() == [fingerprint64(k.tobytes()) for k in keys]


def _lsh_model(hash_shape, in_shape, in_type, with_weight, ptype, weight_shape=None):
    mb = ModelBuilder()
    h = mb.input("hash", hash_shape, "FLOAT32")
    x = mb.input("x", in_shape, in_type)
    ins = [h, x]
    if with_weight:
        ins.append(mb.input("w", weight_shape or [in_shape[0]], "FLOAT32"))
    y = mb.tensor("y", [], "INT32")
    mb.op("LSH_PROJECTION", ins, [y], type=ptype)
    mb.output(y)
    return mb.build()


@pytest.mark.parametrize("ptype", [1, 2])
@pytest.mark.parametrize("hash_shape,in_shape,in_type,with_weight", [
    ([4, 2], [3], "INT32", False),
    ([4, 2], [3], "INT32", True),
    ([6, 3], [5, 2], "INT32", True),
    ([3, 8], [7], "FLOAT32", False),
    ([2, 5], [4, 3, 2], "INT64", True),           # 48-byte keys: farmhash's 33..64 branch
    ([2, 3], [2, 20], "FLOAT32", False),          # 84-byte keys: the long branch
    ([1, 16], [9], "UINT8", True),
    ([8, 12], [50, 3], "FLOAT32", True),
])
def test_lsh_projection(rng, ptype, hash_shape, in_shape, in_type, with_weight):
    hashes = rng.standard_normal(hash_shape).astype(np.float32)
    if in_type == "FLOAT32":
        x = rng.standard_normal(in_shape).astype(np.float32)
    else:
        dt = {"INT32": np.int32, "INT64": np.int64, "UINT8": np.uint8}[in_type]
        x = rng.integers(0, 100, size=in_shape).astype(dt)
    inputs = [hashes, x]
    if with_weight:
        inputs.append(rng.random(in_shape[0]).astype(np.float32))
    assert_same_as_litert(_lsh_model(hash_shape, in_shape, in_type, with_weight, ptype), inputs, exact=True)


def test_lsh_projection_sparse_packs_dense_bits(rng):
    """Independent check: a SPARSE signature is the DENSE bits of its row read as a binary number, plus
    k << num_bits."""
    hashes = rng.standard_normal((5, 4)).astype(np.float32)
    x = rng.integers(0, 1000, size=(6,)).astype(np.int32)
    dense = run_ours(_lsh_model([5, 4], [6], "INT32", False, 2), [hashes, x])[0].reshape(5, 4)
    sparse = run_ours(_lsh_model([5, 4], [6], "INT32", False, 1), [hashes, x])[0]
    expect = [int("".join(map(str, row)), 2) + k * 16 for k, row in enumerate(dense)]
    assert sparse.tolist() == expect
    # and each bit is the sign of the summed fingerprints
    for j in range(4):
        score = sum(float(np.int64(np.uint64(fingerprint64(hashes[0, j].tobytes() + v.tobytes())).view(np.int64)))
                    for v in x)
        assert dense[0, j] == (1 if score > 0 else 0)


# ---------------------------------------------------------------------------- EMBEDDING_LOOKUP_SPARSE

def _els_model(n, lookup_rank, params_shape, combiner):
    mb = ModelBuilder()
    ids = mb.input("ids", [n], "INT32")
    ind = mb.input("indices", [n, lookup_rank], "INT32")
    shp = mb.input("dense_shape", [lookup_rank], "INT32")
    w = mb.input("weights", [n], "FLOAT32")
    p = mb.input("params", params_shape, "FLOAT32")
    y = mb.tensor("y", [], "FLOAT32")
    mb.op("EMBEDDING_LOOKUP_SPARSE", [ids, ind, shp, w, p], [y], combiner=combiner)
    mb.output(y)
    return mb.build()


def _els_reference(ids, indices, dense_shape, weights, params, combiner):
    lead = tuple(dense_shape[:-1])
    out = np.zeros(lead + params.shape[1:], np.float64)
    tot = {}
    for i, w, idx in zip(ids, weights, indices):
        key = tuple(idx[:-1])
        out[key] += params[i] * w
        t = tot.setdefault(key, [0.0, 0.0])
        t[0] += w
        t[1] += w * w
    for key, (s, sq) in tot.items():
        if combiner == 1:
            out[key] /= s
        elif combiner == 2:
            out[key] /= np.sqrt(sq)
    return out.astype(np.float32)


@pytest.mark.parametrize("combiner", [0, 1, 2])
@pytest.mark.parametrize("dense_shape,params_shape", [([3, 4], [10, 5]), ([2, 3, 4], [8, 2, 3]), ([4, 2], [6, 1])])
def test_embedding_lookup_sparse(rng, combiner, dense_shape, params_shape):
    lead = dense_shape[:-1]
    # sorted sparse entries; some rows left empty
    cells = [c for c in itertools.product(*[range(d) for d in dense_shape]) if rng.random() < 0.4]
    if not cells:
        cells = [tuple([0] * len(dense_shape))]
    indices = np.array(cells, np.int32)
    n = len(indices)
    ids = rng.integers(0, params_shape[0], n).astype(np.int32)
    weights = (rng.random(n) + 0.25).astype(np.float32)
    params = rng.standard_normal(params_shape).astype(np.float32)
    content = _els_model(n, len(dense_shape), params_shape, combiner)
    inputs = [ids, indices, np.array(dense_shape, np.int32), weights, params]
    ours, _ = assert_same_as_litert(content, inputs)
    assert ours[0].shape == tuple(lead) + tuple(params_shape[1:])
    assert_close(ours[0], _els_reference(ids, indices, dense_shape, weights, params, combiner))


def test_embedding_lookup_sparse_bad_id():
    content = _els_model(2, 2, [4, 3], 0)
    inputs = [np.array([1, 7], np.int32), np.array([[0, 0], [1, 0]], np.int32), np.array([2, 2], np.int32),
              np.ones(2, np.float32), np.zeros((4, 3), np.float32)]
    with pytest.raises(Exception, match="out of bounds"):
        run_ours(content, inputs)
