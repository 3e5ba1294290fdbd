"""Ported from TensorFlow Lite's hashtable_ops_test.cc (HASHTABLE / HASHTABLE_IMPORT / HASHTABLE_FIND /
HASHTABLE_SIZE, here as the builtin ops): the default graph for int64->string and string->int64 tables, a
second import being ignored, two tables side by side, a find before any import, and mismatched key/value
sizes; asserting the upstream values and LiteRT's outputs on the same model."""
import numpy as np
import pytest

import tfl_gpu
from oracle import litert
from tfl_gpu.writer import ModelBuilder

CODES = {"INT64": 4, "STRING": 5}


def _vals(t, values):
    if t == "STRING":
        a = np.empty(len(values), dtype=object)
        a[:] = [v.encode() for v in values]
        return a
    return np.asarray(values, np.int64)


def _graph(tables, imports=1):
    """tables: list of (key type, value type, keys, values, queries, default); one HASHTABLE (table ids 1, 2, ...)
    each with ``imports`` HASHTABLE_IMPORT nodes, then FIND and SIZE. Inputs: keys, values, queries, default
    of each table (in that order); outputs: find result and size of each table."""
    mb = ModelBuilder()
    outs = []
    for t, (kt, vt, keys, vals, queries, default) in enumerate(tables):
        k = mb.input(f"k{t}", [len(keys)], kt)
        v = mb.input(f"v{t}", [len(vals)], vt)
        q = mb.input(f"q{t}", [len(queries)], kt)
        d = mb.input(f"d{t}", [1], vt)
        h = mb.tensor(f"h{t}", [1], "RESOURCE")
        mb.op("HASHTABLE", [], [h], table_id=t + 1, key_dtype=CODES[kt], value_dtype=CODES[vt])
        for _ in range(imports):
            mb.op("HASHTABLE_IMPORT", [h, k, v], [])
        r = mb.tensor(f"r{t}", [len(queries)], vt)
        mb.op("HASHTABLE_FIND", [h, q, d], [r])
        s = mb.tensor(f"s{t}", [1], "INT64")
        mb.op("HASHTABLE_SIZE", [h], [s])
        outs += [r, s]
    mb.output(*outs)
    feeds = []
    for kt, vt, keys, vals, queries, default in tables:
        feeds += [_vals(kt, keys), _vals(vt, vals), _vals(kt, queries), _vals(vt, [default])]
    return mb.build(), feeds


def _run(content, feeds):
    res = []
    for it in (litert().Interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)):
        it.allocate_tensors()
        for d, v in zip(it.get_input_details(), feeds):
            it.set_tensor(d["index"], v)
        it.invoke()
        res.append([it.get_tensor(d["index"]) for d in it.get_output_details()])
    return res


def _check(content, feeds, expected):
    ref, ours = _run(content, feeds)
    for o, r, e in zip(ours, ref, expected):
        assert [x.decode() if isinstance(x, bytes) else int(x) for x in np.ravel(o)] == e
        assert np.array_equal(o, r), f"differs from LiteRT: {o} vs {r}"


def test_int64_to_string_hashtable():
    content, feeds = _graph([("INT64", "STRING", [1, 2, 3], ["a", "b", "c"], [2, 3, 4], "d")])
    _check(content, feeds, [["b", "c", "d"], [3]])


def test_string_to_int64_hashtable():
    content, feeds = _graph([("STRING", "INT64", ["A", "B", "C"], [4, 5, 6], ["B", "C", "D"], -1)])
    _check(content, feeds, [[5, 6, -1], [3]])


def test_import_twice_second_import_ignored():
    content, feeds = _graph([("STRING", "INT64", ["1", "2", "3"], [4, 5, 6], ["2", "3", "4"], -1)], imports=2)
    _check(content, feeds, [[5, 6, -1], [3]])


def test_two_hashtables():
    content, feeds = _graph([("STRING", "INT64", ["1", "2", "3"], [4, 5, 6], ["2", "3", "4"], -1),
                             ("STRING", "INT64", ["-1", "-2", "-3"], [7, 8, 9], ["-4", "-2", "-3"], -2)])
    _check(content, feeds, [[5, 6, -1], [3], [-2, 8, 9], [3]])


def _must_fail(content, feeds):
    for it in (litert().Interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)):
        with pytest.raises(Exception):
            it.allocate_tensors()
            for d, v in zip(it.get_input_details(), feeds):
                it.set_tensor(d["index"], v)
            it.invoke()


def test_find_without_import_fails():
    content, feeds = _graph([("STRING", "INT64", ["1"], [4], ["1", "2", "3"], -1)], imports=0)
    _must_fail(content, feeds)


def test_import_different_key_and_value_size_fails():
    content, feeds = _graph([("STRING", "INT64", ["1", "2", "3"], [4, 5], ["2", "3", "4"], -1)])
    _must_fail(content, feeds)
