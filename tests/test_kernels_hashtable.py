"""HASHTABLE / HASHTABLE_IMPORT / HASHTABLE_FIND / HASHTABLE_SIZE and HASHTABLE_LOOKUP against LiteRT."""
from __future__ import annotations

import numpy as np
import pytest

import tfl_gpu
from tfl_gpu.writer import ModelBuilder
from oracle import assert_same_as_litert, litert_interpreter, run_litert, run_ours

TYPE_CODES = {"FLOAT32": 0, "INT32": 2, "INT64": 4, "STRING": 5}


def _keys(kt, items):
    if kt == "STRING":
        return np.array([str(i).encode() for i in items], dtype=object)
    return np.array(items, dtype=np.int64 if kt == "INT64" else np.int32)


def _vals(vt, items):
    if vt == "STRING":
        return np.array([f"v{i}".encode() for i in items], dtype=object)
    return np.array(items, dtype={"INT64": np.int64, "INT32": np.int32, "FLOAT32": np.float32}[vt])


def _table_model(kt, vt, keys, vals, query_shape, import_inputs=False, table_id=3, with_init_subgraph=False):
    """HASHTABLE -> HASHTABLE_IMPORT(keys, values) -> HASHTABLE_FIND(query) and HASHTABLE_SIZE."""
    mb = ModelBuilder()
    q = mb.input("q", query_shape, kt)
    if import_inputs:
        k = mb.input("k", list(keys.shape), kt)
        v = mb.input("v", list(vals.shape), vt)
    h = mb.tensor("h", [1], "RESOURCE")
    mb.op("HASHTABLE", [], [h], table_id=table_id, key_dtype=TYPE_CODES[kt], value_dtype=TYPE_CODES[vt])
    if with_init_subgraph:
        mb.op("CALL_ONCE", [], [], init_subgraph_index=1)
    elif not import_inputs:
        k = mb.const("k", keys, type_name=kt)
        v = mb.const("v", vals, type_name=vt)
    if not with_init_subgraph:
        mb.op("HASHTABLE_IMPORT", [h, k, v], [])
    default = _vals(vt, [-1]) if vt != "STRING" else np.array([b"<unk>"], dtype=object)
    d = mb.const("d", default, type_name=vt)
    out = mb.tensor("out", query_shape, vt)
    mb.op("HASHTABLE_FIND", [h, q, d], [out])
    s = mb.tensor("s", [1], "INT64")
    mb.op("HASHTABLE_SIZE", [h], [s])
    mb.output(out, s)
    if with_init_subgraph:
        mb.subgraph("init")
        h2 = mb.tensor("h2", [1], "RESOURCE")
        mb.op("HASHTABLE", [], [h2], table_id=table_id, key_dtype=TYPE_CODES[kt], value_dtype=TYPE_CODES[vt])
        k2 = mb.const("k2", keys, type_name=kt)
        v2 = mb.const("v2", vals, type_name=vt)
        mb.op("HASHTABLE_IMPORT", [h2, k2, v2], [])
        mb.use_subgraph(0)
    return mb.build()


def _compare(ours, ref):
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert o.shape == r.shape, (o.shape, r.shape)
        assert o.dtype == r.dtype, (o.dtype, r.dtype)
        assert np.array_equal(o, r), (o, r)


@pytest.mark.parametrize("kt,vt", [("STRING", "INT64"), ("INT64", "STRING")])
@pytest.mark.parametrize("init", ["inline", "call_once"])
def test_find_and_size(rng, kt, vt, init):
    n = 20
    key_items = rng.choice(1000, size=n, replace=False)
    key_items[5] = key_items[2]                  # a repeated key: the first value wins
    keys = _keys(kt, key_items)
    vals = _vals(vt, rng.integers(-50, 50, size=n))
    content = _table_model(kt, vt, keys, vals, [2, 3], with_init_subgraph=init == "call_once")
    q_items = np.concatenate([key_items[[0, 2, 7]], [5000, 5001], key_items[[19]]]).reshape(2, 3)
    q = _keys(kt, q_items.ravel()).reshape(2, 3)
    ref = run_litert(content, [q])
    ours = run_ours(content, [q])
    _compare(ours, ref)
    # independent formula: a dict filled first-wins, default for misses
    d = {}
    for k, v in zip(keys, vals):
        d.setdefault(k, v)
    default = -1 if vt != "STRING" else b"<unk>"
    expect = np.array([d.get(k, default) for k in q.ravel()], dtype=ours[0].dtype).reshape(2, 3)
    np.testing.assert_array_equal(ours[0], expect)
    assert ours[1].tolist() == [len(d)]


def _interpreters(content):
    return tfl_gpu.Interpreter(model_content=content), litert_interpreter(model_content=content)


def test_table_persists_across_invokes_and_imports_once(rng):
    """The table is filled by the first import only: a second invoke with new keys/values keeps the first
    contents; reset_all_variables leaves the table as LiteRT does."""
    keys = _keys("STRING", ["a", "b", "c"])
    vals = _vals("INT64", [1, 2, 3])
    content = _table_model("STRING", "INT64", keys, vals, [4], import_inputs=True)
    q = _keys("STRING", ["a", "b", "x", "c"])
    ours, ref = _interpreters(content)
    for it in (ours, ref):
        it.allocate_tensors()
    det = [d["index"] for d in ref.get_input_details()]
    feeds = [(keys, vals), (_keys("STRING", ["x", "y", "z"]), _vals("INT64", [7, 8, 9]))]
    for step, (k, v) in enumerate(feeds + feeds[:1]):
        if step == 2:
            for it in (ours, ref):
                it.reset_all_variables()
        results = []
        for it in (ours, ref):
            for idx, val in zip(det, (q, k, v)):
                it.set_tensor(idx, val)
            it.invoke()
            results.append([it.get_tensor(o["index"]) for o in it.get_output_details()])
        _compare(*results)
        np.testing.assert_array_equal(results[0][0], [1, 2, -1, 3])


def test_find_before_import_fails():
    mb = ModelBuilder()
    q = mb.input("q", [2], "STRING")
    h = mb.tensor("h", [1], "RESOURCE")
    mb.op("HASHTABLE", [], [h], table_id=1, key_dtype=5, value_dtype=4)
    d = mb.const("d", np.array([0], np.int64))
    out = mb.tensor("out", [2], "INT64")
    mb.op("HASHTABLE_FIND", [h, q, d], [out])
    mb.output(out)
    content = mb.build()
    q = np.array([b"a", b"b"], dtype=object)
    with pytest.raises(Exception):
        run_litert(content, [q])
    with pytest.raises(Exception, match="initialized"):
        run_ours(content, [q])


def test_size_before_import_is_zero():
    mb = ModelBuilder()
    h = mb.tensor("h", [1], "RESOURCE")
    mb.op("HASHTABLE", [], [h], table_id=1, key_dtype=4, value_dtype=5)
    s = mb.tensor("s", [1], "INT64")
    mb.op("HASHTABLE_SIZE", [h], [s])
    mb.output(s)
    content = mb.build()
    _compare(run_ours(content, []), run_litert(content, []))


def test_two_tables_are_separate():
    mb = ModelBuilder()
    q = mb.input("q", [2], "STRING")
    outs = []
    for tid, vals in ((1, [1, 2]), (2, [10, 20])):
        h = mb.tensor(f"h{tid}", [1], "RESOURCE")
        mb.op("HASHTABLE", [], [h], table_id=tid, key_dtype=5, value_dtype=4)
        k = mb.const(f"k{tid}", np.array([b"a", b"b"], dtype=object), type_name="STRING")
        v = mb.const(f"v{tid}", np.array(vals, np.int64))
        mb.op("HASHTABLE_IMPORT", [h, k, v], [])
        d = mb.const(f"d{tid}", np.array([0], np.int64))
        out = mb.tensor(f"out{tid}", [2], "INT64")
        mb.op("HASHTABLE_FIND", [h, q, d], [out])
        outs.append(out)
    mb.output(*outs)
    content = mb.build()
    q = np.array([b"b", b"a"], dtype=object)
    ours = run_ours(content, [q])
    _compare(ours, run_litert(content, [q]))
    assert ours[0].tolist() == [2, 1] and ours[1].tolist() == [20, 10]


@pytest.mark.parametrize("kt,vt", [("INT32", "FLOAT32"), ("STRING", "INT32")])
def test_types_litert_refuses(kt, vt):
    """LiteRT's HASHTABLE only accepts int64->string and string->int64; we also run other scalar tables.
    Reference: a Python dict."""
    keys = _keys(kt, [3, 1, 4])
    vals = _vals(vt, [7, 8, 9])
    content = _table_model(kt, vt, keys, vals, [3])
    q = _keys(kt, [4, 5, 3])
    out, size = run_ours(content, [q])
    np.testing.assert_array_equal(out, _vals(vt, [9, -1, 7]))
    assert size.tolist() == [3]


# ---------------------------------------------------------------------------------- HASHTABLE_LOOKUP

def _lookup_model(key_shape, keys, values, vt):
    mb = ModelBuilder()
    lk = mb.input("lookup", key_shape, "INT32")
    k = mb.const("keys", keys)
    v = mb.const("values", values, type_name=vt)
    out = mb.tensor("out", [], vt)
    hits = mb.tensor("hits", [], "UINT8")
    mb.op("HASHTABLE_LOOKUP", [lk, k, v], [out, hits])
    mb.output(out, hits)
    return mb.build()


@pytest.mark.parametrize("vt,vshape", [("FLOAT32", (6, 3)), ("FLOAT32", (6,)), ("INT32", (6, 2, 2)),
                                       ("UINT8", (6, 4)), ("INT8", (6, 2))])
def test_hashtable_lookup(rng, vt, vshape):
    keys = np.array([-3, 0, 4, 9, 12, 40], np.int32)               # sorted, as the op requires
    dt = {"FLOAT32": np.float32, "INT32": np.int32, "UINT8": np.uint8, "INT8": np.int8}[vt]
    values = (rng.standard_normal(vshape) * 20).astype(dt)
    lookup = np.array([9, 1, -3, 40, 41, 4, 4], np.int32)
    ours, _ = assert_same_as_litert(_lookup_model([7], keys, values, vt), [lookup], exact=True)
    expect_hits = np.isin(lookup, keys)
    np.testing.assert_array_equal(ours[1], expect_hits.astype(np.uint8))
    pos = np.searchsorted(keys, lookup)
    expect = np.where(expect_hits.reshape((-1,) + (1,) * (values.ndim - 1)),
                      values[np.minimum(pos, len(keys) - 1)], 0).astype(dt)
    np.testing.assert_array_equal(ours[0], expect)


def test_hashtable_lookup_strings():
    keys = np.array([1, 5, 7], np.int32)
    values = np.array([b"one", b"five", b"seven"], dtype=object)
    lookup = np.array([7, 2, 1, 5], np.int32)
    ours, _ = assert_same_as_litert(_lookup_model([4], keys, values, "STRING"), [lookup], exact=True)
    assert ours[0].tolist() == [b"seven", b"", b"one", b"five"]


def test_hashtable_ops_missing_from_litert_ref_resolver():
    keys = _keys("STRING", ["a"])
    content = _table_model("STRING", "INT64", keys, _vals("INT64", [1]), [1])
    q = _keys("STRING", ["a"])
    with pytest.raises(Exception, match="Didn't find op"):
        run_litert(content, [q], "BUILTIN_REF")
    with pytest.raises(Exception, match="Didn't find op"):
        run_ours(content, [q], "BUILTIN_REF")
