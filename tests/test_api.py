"""The public API against LiteRT's: constructor checks, details dicts, set/get_tensor, tensor() views,
resize, signatures, preserve_all_tensors, num_threads, threads."""
import concurrent.futures
import gc
import os
import threading
import time

import numpy as np
import pytest

import tfl_gpu
from oracle import assert_close, litert, litert_interpreter
from tfl_gpu.writer import ModelBuilder, single_op_model


pytestmark = pytest.mark.filterwarnings("ignore")    # LiteRT's and numpy's warnings are not under test


def outcome(fn):
    """('ok', value) or (exception type name, message) -- what a call did."""
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001
        return (type(e).__name__, str(e))


def same_structure(a, b, path="details"):
    """Field-by-field equality of LiteRT's and our details (types, dtypes, shapes, values)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__} ({a!r} vs {b!r})"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            same_structure(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: {len(a)} != {len(b)} items"
        for k, (x, y) in enumerate(zip(a, b)):
            same_structure(x, y, f"{path}[{k}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


# ------------------------------------------------------------------------------------------- models

def add_fc_model():
    """x (dynamic batch) + y -> FULLY_CONNECTED with constant weights."""
    mb = ModelBuilder()
    x = mb.input("x", [1, 3], "FLOAT32", shape_signature=[-1, 3])
    y = mb.input("y", [1, 3], "FLOAT32")
    w = mb.const("w", np.arange(12, dtype=np.float32).reshape(4, 3) / 7)
    s, o = mb.tensor("s", [1, 3]), mb.tensor("o", [1, 4])
    mb.op("ADD", [x, y], [s])
    mb.op("FULLY_CONNECTED", [s, w, -1], [o])
    mb.output(o)
    return mb.build()


def zoo_model():
    """Tensors of many types and kinds (no ops): inputs, per-axis quantized constant, string, int64,
    variable, sparse and block-sparse constants, INT4."""
    mb = ModelBuilder()
    for tn, shape in [("FLOAT32", [1, 3]), ("INT64", [2]), ("STRING", [2]), ("BOOL", [3]), ("UINT8", [2]),
                      ("INT16", [2]), ("FLOAT16", [2]), ("COMPLEX64", [2]), ("INT32", []), ("FLOAT64", [2])]:
        mb.output(mb.input("in_" + tn, shape, tn))
    mb.output(mb.input("q8", [1, 4], "INT8", quant={"scale": [0.25], "zero_point": [-3]}))
    mb.const("qaxis", np.arange(24, dtype=np.int8).reshape(3, 2, 4), "INT8",
             quant={"scale": [0.1, 0.2, 0.3, 0.4], "zero_point": [0, 0, 0, 0], "quantized_dimension": 2})
    mb.output(mb.input("qu", [2], "UINT8", quant={"scale": [0.5], "zero_point": [128], "min": [-64.0],
                                                  "max": [63.5]}))
    mb.output(mb.input("dyn", [1, 5], "FLOAT32", shape_signature=[-1, 5]))
    mb.const("sconst", np.array([b"ab", b"", b"xyz"], dtype=object))
    mb.const("i64c", np.array([1, 2 ** 40], np.int64))
    mb.tensor("var", [2, 2], "FLOAT32", is_variable=True)
    mb.tensor("sparse", [2, 3], "FLOAT32", data=np.array([1, 2, 3], np.float32), sparsity={"traversal_order": [0, 1], "dim_metadata": [
        {"format": "DENSE", "dense_size": 2},
        {"format": "SPARSE_CSR", "array_segments": [0, 1, 3], "array_indices": [1, 0, 2]}]})
    mb.tensor("blocksparse", [2, 4], "FLOAT32", data=np.array([1, 2, 3, 4], np.float32), sparsity={
        "traversal_order": [0, 1, 2, 3], "block_map": [0, 1], "dim_metadata": [
            {"format": "DENSE", "dense_size": 1},
            {"format": "SPARSE_CSR", "array_segments": [0, 1], "array_indices": [0]},
            {"format": "DENSE", "dense_size": 2}, {"format": "DENSE", "dense_size": 2}]})
    mb.const("int4c", np.array([1, -2, 3], np.int8), "INT4")
    mb.const("i32scalar", np.array(7, np.int32))
    return mb.build()


def signature_model():
    mb = ModelBuilder()
    a = mb.input("a", [1, 3], "FLOAT32", shape_signature=[-1, 3])
    b = mb.input("b", [1, 3], "FLOAT32", shape_signature=[-1, 3])
    s = mb.tensor("s", [1, 3], shape_signature=[-1, 3])
    mb.op("ADD", [a, b], [s])
    mb.output(s)
    mb.signature("add", {"x": a, "y": b}, {"sum": s})
    mb.subgraph("mulsg")
    p, q = mb.input("p", [2], "FLOAT32"), mb.input("q", [2], "INT32")
    m = mb.tensor("m", [2])
    mb.op("MUL", [p, p], [m])
    mb.output(m)
    mb.signature("mul", {"p": p, "q": q}, {"prod": m, "qq": q}, subgraph=1)
    return mb.build()


# ---------------------------------------------------------------------------------------- constructor

def test_constructor_model_sources(tmp_path):
    content = add_fc_model()
    path = tmp_path / "m.tflite"
    path.write_bytes(content)
    lite = litert()
    for kw in (dict(model_path=path), dict(model_path=str(path)), dict(model_content=content)):
        ours, ref = tfl_gpu.Interpreter(**kw), lite.Interpreter(**kw)
        same_structure(ref.get_input_details(), ours.get_input_details())
    bad = [dict(), dict(model_path=""), dict(model_content=b""), dict(model_path=str(path), model_content=content),
           dict(model_path=str(tmp_path / "missing.tflite"))]
    for kw in bad:
        ref, ours = outcome(lambda: lite.Interpreter(**kw)), outcome(lambda: tfl_gpu.Interpreter(**kw))
        assert ref[0] == ours[0] == "ValueError", (kw, ref, ours)
        if "missing" not in str(kw):
            assert ours[1] == ref[1]
        else:
            assert ours[1].startswith(f"Could not open '{tmp_path / 'missing.tflite'}'")


@pytest.mark.parametrize("value", ["2", 1.5, np.int64(2), None.__class__, [1]])
def test_num_threads_type_is_checked_like_litert(value):
    content = add_fc_model()
    ref = outcome(lambda: litert().Interpreter(model_content=content, num_threads=value))
    ours = outcome(lambda: tfl_gpu.Interpreter(model_content=content, num_threads=value))
    assert ours == ref == ("ValueError", "type of num_threads should be int")


def test_num_threads_range():
    content = add_fc_model()
    with pytest.raises(ValueError, match=">= -1"):
        tfl_gpu.Interpreter(model_content=content, num_threads=-2)
    # TF's documented meaning: 0 behaves as 1, -1 lets the interpreter choose (all cores); bool is an int
    assert tfl_gpu.Interpreter(model_content=content, num_threads=0)._num_threads == 1
    assert tfl_gpu.Interpreter(model_content=content, num_threads=-1)._num_threads == (os.cpu_count() or 1)
    assert tfl_gpu.Interpreter(model_content=content, num_threads=3)._num_threads == 3
    assert tfl_gpu.Interpreter(model_content=content)._num_threads == 1     # LiteRT's default: one thread
    assert outcome(lambda: litert().Interpreter(model_content=content, num_threads=True))[0] == "ok"
    assert outcome(lambda: tfl_gpu.Interpreter(model_content=content, num_threads=True))[0] == "ok"


def test_op_resolver_type_enum():
    content = add_fc_model()
    lite = litert()
    assert {m.name for m in tfl_gpu.OpResolverType} == {"AUTO", "BUILTIN", "BUILTIN_REF",
                                                        "BUILTIN_WITHOUT_DEFAULT_DELEGATES"}
    for m in tfl_gpu.OpResolverType:
        tfl_gpu.Interpreter(model_content=content, experimental_op_resolver_type=m).allocate_tensors()
    for bad in (1, "BUILTIN", lite.OpResolverType.BUILTIN):
        ours = outcome(lambda: tfl_gpu.Interpreter(model_content=content, experimental_op_resolver_type=bad))
        assert ours[0] == "ValueError" and "Unrecognized passed in op resolver type" in ours[1]
    for bad in (1, "BUILTIN"):
        ref = outcome(lambda: lite.Interpreter(model_content=content, experimental_op_resolver_type=bad))
        ours = outcome(lambda: tfl_gpu.Interpreter(model_content=content, experimental_op_resolver_type=bad))
        assert ours == ref


# ------------------------------------------------------------------------------------------ num_threads

@pytest.fixture
def thread_probe():
    """A custom op that records the BLAS thread count it sees while it runs."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not threadpoolctl.threadpool_info():
        pytest.skip("no BLAS library visible to threadpoolctl")
    seen = []

    def probe(node, x):
        seen.append(max(lib["num_threads"] for lib in threadpoolctl.threadpool_info()))
        return x.copy()
    tfl_gpu.register_op("ThreadProbe", probe)
    try:
        yield seen, threadpoolctl
    finally:
        tfl_gpu.unregister_op("ThreadProbe", probe)


def _probe_model():
    return single_op_model("CUSTOM", [np.zeros((2,), np.float32)], output_shapes=[[2]], custom_code="ThreadProbe")


def _blas_threads(threadpoolctl):
    return max(lib["num_threads"] for lib in threadpoolctl.threadpool_info())


def test_num_threads_limits_blas_during_invoke_only(thread_probe):
    seen, threadpoolctl = thread_probe
    before = _blas_threads(threadpoolctl)
    for n, expect in ((1, 1), (0, 1), (-1, os.cpu_count()), (2, 2)):
        it = tfl_gpu.Interpreter(model_content=_probe_model(), num_threads=n)
        it.allocate_tensors()
        it.invoke()
        assert seen[-1] == expect, (n, seen)
        assert _blas_threads(threadpoolctl) == before, "the limit leaked out of invoke()"


def test_num_threads_does_not_leak_between_concurrent_interpreters(thread_probe):
    seen, threadpoolctl = thread_probe
    before = _blas_threads(threadpoolctl)
    its = [tfl_gpu.Interpreter(model_content=_probe_model(), num_threads=n) for n in (1, 3, 1, 2)]
    for it in its:
        it.allocate_tensors()

    def work(it):
        for _ in range(25):
            it.invoke()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(work, its))
    assert _blas_threads(threadpoolctl) == before


# --------------------------------------------------------------------------------------------- details

def _compare_details(content, invoke_inputs=None, n_model_tensors=None):
    ref, ours = litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)
    for stage in ("before allocate", "after allocate", "after invoke"):
        if stage == "after allocate":
            ref.allocate_tensors()
            ours.allocate_tensors()
        if stage == "after invoke":
            if invoke_inputs is None:
                break
            for d, v in zip(ref.get_input_details(), invoke_inputs):
                ref.set_tensor(d["index"], v)
                ours.set_tensor(d["index"], v)
            ref.invoke()
            ours.invoke()
        same_structure(ref.get_input_details(), ours.get_input_details(), stage + ": input details")
        same_structure(ref.get_output_details(), ours.get_output_details(), stage + ": output details")
        # LiteRT adds kernel scratch tensors after allocation; the model's own tensors must match
        n = n_model_tensors or len(ours.get_tensor_details())
        ref_t, ours_t = ref.get_tensor_details()[:n], ours.get_tensor_details()
        assert len(ref_t) == len(ours_t)
        # LiteRT evaluates DENSIFY of constants at allocate time and renames the result "Densify_output"
        keep = [k for k, d in enumerate(ref_t) if d["name"] != "Densify_output"]
        same_structure([ref_t[k] for k in keep], [ours_t[k] for k in keep], stage + ": tensor details")
        same_structure(ref.get_signature_list(), ours.get_signature_list(), stage + ": signatures")


def test_details_of_many_tensor_kinds():
    _compare_details(zoo_model())


def test_details_of_float_model(rng):
    _compare_details(add_fc_model(), [rng.standard_normal((1, 3)).astype(np.float32)] * 2)


def test_details_of_multi_signature_model():
    _compare_details(signature_model())


@pytest.mark.parametrize("name", ["tfmicro_sine_float", "mp_pose_detection", "mp_hand_recrop"])
def test_details_of_shared_models(shared_models, name):
    _compare_details((shared_models / f"{name}.tflite").read_bytes())


def test_quantized_details_fields():
    it = tfl_gpu.Interpreter(model_content=zoo_model())
    d = {x["name"]: x for x in it.get_tensor_details()}
    assert d["q8"]["quantization"] == (0.25, -3)
    assert type(d["q8"]["quantization"][0]) is float and type(d["q8"]["quantization"][1]) is int
    qp = d["qaxis"]["quantization_parameters"]
    assert qp["quantized_dimension"] == 2 and qp["scales"].dtype == np.float32 and qp["zero_points"].dtype == np.int32
    assert d["qaxis"]["quantization"] == (0.0, 0)        # per-axis: no single (scale, zero_point)
    assert d["in_STRING"]["dtype"] is np.bytes_ and d["in_INT64"]["dtype"] is np.int64


# ------------------------------------------------------------------------------------ set / get tensor

SET_CASES = [
    (0, lambda: np.zeros((1, 3), np.float64)), (0, lambda: np.zeros((1, 4), np.float32)),
    (0, lambda: np.zeros((3,), np.float32)), (0, lambda: [[1.0, 2.0, 3.0]]), (0, lambda: np.zeros((1, 3), np.int32)),
    (1, lambda: np.zeros((2,), np.int32)), (1, lambda: [1, 2]), (2, lambda: np.array([b"a", b"bc"])),
    (2, lambda: np.array(["a", "bc\u00e9"])), (2, lambda: np.array([1, 2])), (2, lambda: np.array([b"a", b"b", b"c"])),
    (8, lambda: 5), (8, lambda: np.int32(5)), (3, lambda: np.array([True, False, True])),
    (7, lambda: np.array([1 + 2j, 3j], np.complex64)), (99, lambda: np.zeros(2, np.float32)),
    (-1, lambda: np.zeros(2, np.float32)), (16, lambda: np.ones((2, 2), np.float32)),
]


@pytest.mark.parametrize("index,value", SET_CASES)
def test_set_tensor_checks_and_messages(index, value):
    content = zoo_model()
    ref, ours = litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)
    before = (outcome(lambda: ref.set_tensor(0, np.zeros((1, 3), np.float32))),
              outcome(lambda: ours.set_tensor(0, np.zeros((1, 3), np.float32))))
    assert before[0] == before[1]
    assert before[1][0] == "ValueError"
    ref.allocate_tensors()
    ours.allocate_tensors()
    r, o = outcome(lambda: ref.set_tensor(index, value())), outcome(lambda: ours.set_tensor(index, value()))
    assert o == r
    if r[0] == "ok":
        rv, ov = ref.get_tensor(index), ours.get_tensor(index)
        assert type(ov) is type(rv)
        same_structure(rv, ov) if isinstance(rv, np.ndarray) else None
        assert np.array_equal(rv, ov)


def test_get_tensor_values_types_and_copies():
    content = zoo_model()
    ref, ours = litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)
    assert outcome(lambda: ours.get_tensor(0)) == outcome(lambda: ref.get_tensor(0))
    ref.allocate_tensors()
    ours.allocate_tensors()
    names = {d["name"]: d["index"] for d in ours.get_tensor_details()}
    # constants, INT4 (unpacked to int8), sparse constants (packed values, as LiteRT), strings, scalars
    for name in ("qaxis", "sconst", "i64c", "sparse", "blocksparse", "int4c", "i32scalar", "var"):
        i = names[name]
        rv, ov = ref.get_tensor(i), ours.get_tensor(i)
        assert type(ov) is type(rv), name
        assert ov.dtype == rv.dtype and ov.dtype.str == rv.dtype.str, name      # native byte order
        assert np.array_equal(ov, rv), name
    s = ours.get_tensor(names["sconst"])
    assert s.dtype == object and all(type(v) is bytes for v in s)
    # 0-d tensors come back as numpy scalars, as LiteRT
    ref.set_tensor(8, np.int32(4))
    ours.set_tensor(8, np.int32(4))
    assert type(ours.get_tensor(8)) is type(ref.get_tensor(8)) is np.int32
    # a copy: writing to it changes nothing inside
    ours.set_tensor(0, np.ones((1, 3), np.float32))
    a = ours.get_tensor(0)
    a[:] = 5
    assert np.array_equal(ours.get_tensor(0), np.ones((1, 3)))
    for bad in (99, -1):
        assert outcome(lambda: ours.get_tensor(bad)) == outcome(lambda: ref.get_tensor(bad))
    assert outcome(lambda: ours.get_tensor(0, 3)) == outcome(lambda: ref.get_tensor(0, 3))
    assert outcome(lambda: ours.get_tensor_details(1)) == outcome(lambda: ref.get_tensor_details(1))


def test_string_tensor_roundtrip():
    content = zoo_model()
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    assert list(it.get_tensor(2)) == [b"", b""]          # never written: empty strings (LiteRT crashes here)
    it.set_tensor(2, np.array(["x", "\u00e9"]))
    v = it.get_tensor(2)
    assert v.dtype == object and list(v) == [b"x", "\u00e9".encode()]
    with pytest.raises(ValueError):
        it.tensor(2)                                    # no raw view of a string tensor (LiteRT crashes)


def test_scalar_string_tensor_like_litert():
    mb = ModelBuilder()
    mb.output(mb.input("s", [], "STRING"))
    content = mb.build()
    ref, ours = litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)
    for it in (ref, ours):
        it.allocate_tensors()
        it.set_tensor(0, np.array(b"abc"))
    r, o = ref.get_tensor(0), ours.get_tensor(0)
    assert type(o) is type(r) and o.dtype == r.dtype and o.shape == r.shape == () and o[()] == r[()] == b"abc"


def test_invoke_and_get_before_allocate():
    content = add_fc_model()
    ref, ours = litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)
    assert outcome(ours.invoke) == outcome(ref.invoke) == ("RuntimeError", "Invoke called on model that is not ready.")
    assert outcome(lambda: ours.get_tensor(0)) == outcome(lambda: ref.get_tensor(0))
    assert outcome(lambda: ours.tensor(0)()) == outcome(lambda: ref.tensor(0)())


# ----------------------------------------------------------------------------------------- tensor()

def test_tensor_views_and_reference_error(rng):
    content = add_fc_model()
    x = rng.standard_normal((1, 3)).astype(np.float32)
    y = rng.standard_normal((1, 3)).astype(np.float32)
    results = []
    for it in (litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)):
        r = []
        it.allocate_tensors()
        xv = it.tensor(0)                 # holding the function is fine
        a = xv()
        a[...] = x                        # writes go to the interpreter's input
        r.append(outcome(it.invoke))
        r.append(outcome(it.allocate_tensors))
        r.append(outcome(lambda: it.resize_tensor_input(0, [2, 3])))
        b = a[0]                          # a view of a view keeps the data referenced
        del a
        gc.collect()
        r.append(outcome(it.invoke))
        c = b.reshape(-1)[1:]
        del b
        r.append(outcome(it.invoke))
        del c
        it.tensor(1)()[...] = y
        r.append(outcome(it.invoke))
        out = it.get_output_details()[0]["index"]
        r.append(it.get_tensor(out))
        r.append(it.tensor(out)().copy())
        xv()[...] = 0
        r.append(outcome(it.invoke))
        r.append(it.get_tensor(out))
        results.append(r)
    ref, ours = results
    for k, (a, b) in enumerate(zip(ref, ours)):
        if isinstance(a, np.ndarray):
            assert_close(b, a, what=f"step {k}")
        else:
            assert a == b, f"step {k}: {a} != {b}"
    assert ours[0][0] == "RuntimeError" and "at least 1 reference" in ours[0][1]


def test_tensor_views_do_not_depend_on_refcount_details():
    """A view stored in a container or a closure still counts; a view dropped through gc stops counting."""
    it = tfl_gpu.Interpreter(model_content=add_fc_model())
    it.allocate_tensors()
    holder = {"v": it.tensor(0)()[:, 1:]}
    with pytest.raises(RuntimeError, match="at least 1 reference"):
        it.invoke()
    cycle = [holder]
    cycle.append(cycle)
    del holder
    with pytest.raises(RuntimeError, match="at least 1 reference"):
        it.invoke()
    del cycle
    gc.collect()
    it.invoke()


# ------------------------------------------------------------------------------------------- resize

RESIZE_CASES = [(1, [2, 3], True), (0, [2, 4], True), (2, [2, 3], False), (0, [2, 3], True), (0, [5, 3], False),
                (0, [0, 3], False), (9, [2, 3], False), (-1, [2, 3], False)]


@pytest.mark.parametrize("index,shape,strict", RESIZE_CASES)
def test_resize_tensor_input(index, shape, strict, rng):
    content = add_fc_model()
    ref, ours = litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)
    r = outcome(lambda: ref.resize_tensor_input(index, shape, strict=strict))
    o = outcome(lambda: ours.resize_tensor_input(index, shape, strict=strict))
    assert o[0] == r[0], (o, r)
    if r[0] != "ok":
        if "tensor_index" not in r[1]:
            assert o[1] == r[1]
        return
    assert outcome(ours.invoke) == outcome(ref.invoke)         # not allocated yet
    if index == 0:
        for it in (ref, ours):
            it.resize_tensor_input(1, shape)
    for it in (ref, ours):
        it.allocate_tensors()
    # shapes are propagated to every tensor at allocate_tensors, before any invoke
    same_structure(ref.get_input_details(), ours.get_input_details())
    same_structure(ref.get_output_details(), ours.get_output_details())
    same_structure(ref.get_tensor_details()[:5], ours.get_tensor_details())
    xs = [rng.standard_normal(d["shape"]).astype(np.float32) for d in ours.get_input_details()]
    for it in (ref, ours):
        for d, v in zip(it.get_input_details(), xs):
            it.set_tensor(d["index"], v)
        it.invoke()
    o_idx = ours.get_output_details()[0]["index"]
    assert_close(ours.get_tensor(o_idx), ref.get_tensor(o_idx))


def test_resize_rejects_absurd_sizes():
    it = tfl_gpu.Interpreter(model_content=add_fc_model())
    with pytest.raises(ValueError):
        it.resize_tensor_input(0, [2, -3])
    with pytest.raises(ValueError):
        it.resize_tensor_input(0, [2 ** 31, 3])
    with pytest.raises(ValueError, match="limit"):
        it.resize_tensor_input(0, [2 ** 30, 2 ** 30])
    with pytest.raises(ValueError):
        it.resize_tensor_input(0, [[2, 3]])
    it.allocate_tensors()                 # still usable
    it.invoke()


def test_output_shapes_known_after_allocate():
    """A file whose output shape is left empty: LiteRT reports the computed shape after allocate_tensors."""
    content = single_op_model("ADD", [np.zeros((2, 3), np.float32), np.zeros((1, 3), np.float32)])
    ref, ours = litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)
    ref.allocate_tensors()
    ours.allocate_tensors()
    same_structure(ref.get_output_details(), ours.get_output_details())


# ---------------------------------------------------------------------------------------- signatures

def test_signatures_match_litert():
    content = signature_model()
    lite = litert()
    runs = []
    for k, it in enumerate((litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content))):
        SR = lite.SignatureRunner if k == 0 else tfl_gpu.SignatureRunner
        r = [it.get_signature_list(), it._get_full_signature_list()]
        r.append(outcome(lambda: it.get_signature_runner()))          # two signatures: a key is needed
        r.append(outcome(lambda: it.get_signature_runner("nope")))
        r.append(outcome(lambda: SR(None, "add")))
        r.append(outcome(lambda: SR(it, None)))
        add, mul = it.get_signature_runner("add"), it.get_signature_runner("mul")
        r.append(add.get_input_details())
        r.append(mul.get_output_details())
        r.append(add(x=np.ones((1, 3), np.float32), y=np.full((1, 3), 2, np.float32)))
        r.append(add(x=np.ones((4, 3), np.float32), y=np.full((4, 3), 2, np.float32)))   # resizes itself
        r.append(add.get_output_details())
        r.append(outcome(lambda: add(x=np.ones((4, 3), np.float32))))
        r.append(outcome(lambda: add(x=np.ones((4, 3), np.float32), z=np.ones((4, 3), np.float32))))
        r.append(outcome(lambda: add(x=np.ones((4, 3), np.float64), y=np.ones((4, 3), np.float32))))
        r.append(outcome(lambda: add(np.ones((4, 3), np.float32))))
        r.append(mul(p=np.array([3, 4], np.float32), q=np.array([7, 8], np.int32)))
        r.append(outcome(lambda: mul(p=np.array([3, 4], np.float32), q=np.array([7, 8], np.int64))))
        r.append(it.get_input_details())
        r.append(it.get_tensor(0, 1))
        r.append(it.get_tensor_details(1))
        runs.append(r)
    for k, (a, b) in enumerate(zip(*runs)):
        if isinstance(a, tuple) and a[0] == "ok":
            assert b[0] == "ok", (k, b)
        else:
            same_structure(a, b, f"step {k}")


def test_single_signature_runner_without_key_and_num_subgraphs():
    content = single_op_model("ADD", [np.zeros((2,), np.float32), np.zeros((2,), np.float32)])
    mb = ModelBuilder()
    a, b = mb.input("a", [2]), mb.input("b", [2])
    s = mb.tensor("s", [2])
    mb.op("ADD", [a, b], [s])
    mb.output(s)
    mb.signature("serving_default", {"a": a, "b": b}, {"s": s})
    content = mb.build()
    ref, ours = litert_interpreter(model_content=content), tfl_gpu.Interpreter(model_content=content)
    r = ref.get_signature_runner()(a=np.ones(2, np.float32), b=np.ones(2, np.float32))
    o = ours.get_signature_runner()(a=np.ones(2, np.float32), b=np.ones(2, np.float32))
    same_structure(r, o)
    assert ours.num_subgraphs() == ref.num_subgraphs() == 1
    assert tfl_gpu.Interpreter(model_content=signature_model()).num_subgraphs() == 2


# ------------------------------------------------------------------------------------ preserve tensors

def _all_tensors_equal(content, rng):
    ref = litert_interpreter(model_content=content, experimental_preserve_all_tensors=True)
    ours = tfl_gpu.Interpreter(model_content=content, experimental_preserve_all_tensors=True)
    for it in (ref, ours):
        it.allocate_tensors()
    for d in ours.get_input_details():
        v = rng.standard_normal(d["shape"]).astype(d["dtype"])
        ref.set_tensor(d["index"], v)
        ours.set_tensor(d["index"], v)
    ref.invoke()
    ours.invoke()
    n = len(ours.get_tensor_details())
    for i in range(n):
        assert_close(ours.get_tensor(i), ref.get_tensor(i), what=f"tensor {i}")
    return n


def test_preserve_all_tensors_built_model(rng):
    assert _all_tensors_equal(add_fc_model(), rng) == 5


@pytest.mark.parametrize("name", ["tfmicro_sine_float", "mp_hand_recrop"])
def test_preserve_all_tensors_shared_models(shared_models, name, rng):
    _all_tensors_equal((shared_models / f"{name}.tflite").read_bytes(), rng)


def test_without_preserve_intermediates_may_be_released(rng):
    it = tfl_gpu.Interpreter(model_content=add_fc_model())
    it.allocate_tensors()
    it.invoke()
    # tensor 3 ('s') is an intermediate: readable (shape and dtype right) but its value is not promised
    v = it.get_tensor(3)
    assert v.shape == (1, 3) and v.dtype == np.float32


# -------------------------------------------------------------------------------------------- threads

def test_one_interpreter_from_two_threads_is_refused():
    from test_control_flow import counter_while
    it = tfl_gpu.Interpreter(model_content=counter_while(limit_as_input=True))
    it.allocate_tensors()
    it.set_tensor(0, np.array(0, np.int32))
    it.set_tensor(1, np.zeros(2, np.float32))
    it.set_tensor(2, np.array(np.iinfo(np.int32).max, np.int32))
    errors = []
    th = threading.Thread(target=lambda: errors.append(outcome(it.invoke)), daemon=True)
    th.start()
    deadline = time.monotonic() + 10
    while not it._busy.locked() and time.monotonic() < deadline:     # wait until invoke() is running
        time.sleep(0.01)
    try:
        for call in (it.invoke, it.allocate_tensors, lambda: it.set_tensor(0, np.array(1, np.int32)),
                     lambda: it.resize_tensor_input(1, [3]), it.reset_all_variables):
            with pytest.raises(RuntimeError, match="another thread"):
                call()
    finally:
        it.cancel()
        th.join(10)
    assert not th.is_alive()
    assert errors and errors[0][0] == "CancelledError"


def test_many_interpreters_in_many_threads(rng, shared_models):
    content = (shared_models / "mp_hand_recrop.tflite").read_bytes()
    ref = litert_interpreter(model_content=content)
    ref.allocate_tensors()
    d_in = ref.get_input_details()[0]
    inputs = [rng.standard_normal(d_in["shape"]).astype(np.float32) for _ in range(6)]
    expected = []
    for x in inputs:
        ref.set_tensor(d_in["index"], x)
        ref.invoke()
        expected.append([ref.get_tensor(d["index"]) for d in ref.get_output_details()])

    def work(k):
        it = tfl_gpu.Interpreter(model_content=content, num_threads=1 + k % 2)
        it.allocate_tensors()
        outs = []
        for j in range(3):
            x = inputs[(k + j) % len(inputs)]
            it.set_tensor(d_in["index"], x)
            it.invoke()
            outs.append(((k + j) % len(inputs), [it.get_tensor(d["index"]) for d in it.get_output_details()]))
        return outs
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for outs in pool.map(work, range(6)):
            for idx, got in outs:
                for g, e in zip(got, expected[idx]):
                    assert_close(g, e)


# ------------------------------------------------------------------------ LiteRT's other entry points

def _register_triple(register_op):
    register_op("Triple", lambda node, x: x * 3)


def test_interpreter_with_custom_ops():
    from tfl_gpu.kernels.registry import unregister
    content = single_op_model("CUSTOM", [np.zeros((2,), np.float32)], output_shapes=[[2]], custom_code="Triple")
    try:
        for reg in (_register_triple, "test_api._register_triple"):
            unregister("Triple")
            it = tfl_gpu.InterpreterWithCustomOps(custom_op_registerers=[reg], model_content=content)
            it.allocate_tensors()
            it.set_tensor(0, np.array([1, -2], np.float32))
            it.invoke()
            np.testing.assert_array_equal(it.get_tensor(1), [3, -6])
        for bad in (["no_such_module.fn"], [42]):
            with pytest.raises(ValueError):
                tfl_gpu.InterpreterWithCustomOps(custom_op_registerers=bad, model_content=content)
    finally:
        unregister("Triple")


def test_safe_to_run():
    it = tfl_gpu.Interpreter(model_content=add_fc_model())
    it.allocate_tensors()
    assert it._safe_to_run()
    v = it.tensor(0)()
    assert not it._safe_to_run()
    del v
    assert it._safe_to_run()
