"""Bad files and bad models: every failure is a ValueError or RuntimeError that names the problem, never a
crash or a hang, and the process (and the interpreter, where it makes sense) stays usable."""
import threading

import numpy as np
import pytest

import tfl_gpu
import tfl_gpu.limits
import tfl_gpu.writer
from oracle import assert_close, litert
from tfl_gpu.writer import ModelBuilder, single_op_model

EXPECTED = (ValueError, RuntimeError)


pytestmark = pytest.mark.filterwarnings("ignore")    # LiteRT's and numpy's warnings are not under test


def good_model():
    mb = ModelBuilder()
    x = mb.input("x", [1, 3], "FLOAT32")
    y = mb.input("y", [1, 3], "FLOAT32")
    w = mb.const("w", np.arange(12, dtype=np.float32).reshape(4, 3) / 5)
    s, o = mb.tensor("s", [1, 3]), mb.tensor("o", [1, 4])
    mb.op("ADD", [x, y], [s])
    mb.op("FULLY_CONNECTED", [s, w, -1], [o])
    mb.output(o)
    return mb.build()


def exercise(content, timeout=5.0):
    """Load, inspect, allocate, fill inputs, invoke (cancelled after ``timeout`` seconds), read outputs."""
    it = tfl_gpu.Interpreter(model_content=content)
    it.get_input_details()
    it.get_output_details()
    it.get_tensor_details()
    it.get_signature_list()
    it.allocate_tensors()
    for d in it.get_input_details():
        if d["dtype"] is np.bytes_:
            it.set_tensor(d["index"], np.full(d["shape"], b"a", dtype=object))
        else:
            it.set_tensor(d["index"], np.ones(d["shape"], d["dtype"]))
    timer = threading.Timer(timeout, it.cancel)
    timer.start()
    try:
        it.invoke()
    finally:
        timer.cancel()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def check_still_working():
    """After a failure the process goes on: a good model still runs and matches LiteRT."""
    x = np.array([[1, 2, 3]], np.float32)
    ours = exercise(good_model())
    ref = litert().Interpreter(model_content=good_model())
    ref.allocate_tensors()
    for d in ref.get_input_details():
        ref.set_tensor(d["index"], np.ones(d["shape"], d["dtype"]))
    ref.invoke()
    assert_close(ours[0], ref.get_tensor(ref.get_output_details()[0]["index"]))
    del x


def expect_clean_failure(content, match=None):
    with pytest.raises(EXPECTED) as info:
        exercise(content)
    if match:
        assert match in str(info.value), str(info.value)
    return info.value


class patched_writer:
    """Rewrites fields of the tables the writer emits (to produce inconsistent files on purpose)."""

    def __init__(self, table, edit):
        self.table, self.edit = table, edit

    def __enter__(self):
        self.orig = tfl_gpu.writer._table

        def table(b, name, values):
            if name == self.table:
                values = dict(values)
                self.edit(values)
            return self.orig(b, name, values)
        tfl_gpu.writer._table = table
        return self

    def __exit__(self, *exc):
        tfl_gpu.writer._table = self.orig
        return False


# ------------------------------------------------------------------------------------- bytes, not models

@pytest.mark.parametrize("size", [0, 1, 7, 8, 16, 100, 4096])
def test_random_bytes(size):
    rng = np.random.default_rng(size)
    data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    for blob in (data, data[:4] + b"TFL3" + data[8:] if size >= 8 else data):
        if not blob:
            with pytest.raises(ValueError):
                tfl_gpu.Interpreter(model_content=blob)
            continue
        expect_clean_failure(blob)
    check_still_working()


def test_not_a_model_file(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello, this is not a tflite model at all")
    with pytest.raises(ValueError, match="not a valid Flatbuffer"):
        tfl_gpu.Interpreter(model_path=p)
    with pytest.raises(ValueError, match="Could not open"):
        tfl_gpu.Interpreter(model_path=tmp_path / "absent.tflite")
    with pytest.raises(ValueError, match="Could not open"):
        tfl_gpu.Interpreter(model_path=tmp_path)          # a directory


def _seed_models():
    from test_control_flow import counter_while, variable_model
    return {"fc": good_model(), "while": counter_while(), "variables": variable_model(True)}


@pytest.mark.parametrize("seed", ["fc", "while", "variables"])
def test_truncated_files(seed):
    content = _seed_models()[seed]
    for cut in np.unique(np.linspace(0, len(content) - 1, 60).astype(int)):
        try:
            exercise(content[:cut])
        except EXPECTED:
            pass
    check_still_working()


@pytest.mark.parametrize("seed", ["fc", "while", "variables"])
def test_corrupted_files(seed):
    """Seeded byte mutations: any outcome is fine except an exception outside ValueError/RuntimeError
    (a crash or a hang would stop the test run)."""
    content = _seed_models()[seed]
    rng = np.random.default_rng(7)
    failures = 0
    for _ in range(150):
        b = bytearray(content)
        for _ in range(int(rng.integers(1, 6))):
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        try:
            exercise(bytes(b))
        except EXPECTED:
            failures += 1
    assert failures > 0
    check_still_working()


# ------------------------------------------------------------------------------ inconsistent models

def _model_with(table, edit):
    with patched_writer(table, edit):
        return good_model()


def test_tensor_index_out_of_range():
    mb = ModelBuilder()
    x = mb.input("x", [2])
    y = mb.tensor("y", [2])
    mb.op("ADD", [x, 7], [y])
    mb.output(y)
    err = expect_clean_failure(mb.build(), "tensor index 7")
    assert "operator 0" in str(err)
    mb = ModelBuilder()
    x = mb.input("x", [2])
    y = mb.tensor("y", [2])
    mb.op("ADD", [x, x], [y])
    mb.output(9)
    expect_clean_failure(mb.build(), "tensor index 9")


def test_buffer_index_out_of_range():
    def edit(v):
        if v.get("buffer") == 3:       # the constant weights
            v["buffer"] = 999
    expect_clean_failure(_model_with("Tensor", edit), "buffer index 999")


def test_opcode_index_out_of_range():
    def edit(v):
        v["opcode_index"] = 42
    expect_clean_failure(_model_with("Operator", edit), "opcode index 42")


def test_unknown_builtin_operator():
    def edit(v):
        if v.get("builtin_code") == 0:          # ADD
            v["builtin_code"] = 250
            v["deprecated_builtin_code"] = 127
    content = _model_with("OperatorCode", edit)
    err = expect_clean_failure(content, "250")
    assert isinstance(err, ValueError)
    with pytest.raises(ValueError):             # LiteRT refuses it at load as well
        litert().Interpreter(model_content=content)


def test_buffer_too_small_for_shape():
    def edit(v):
        if v.get("name") is not None and v.get("buffer") == 3:
            v["shape"] = np.array([40, 3], np.int32)
    expect_clean_failure(_model_with("Tensor", edit), "needs")


def test_unresolved_custom_op_message_and_recovery():
    content = single_op_model("CUSTOM", [np.zeros((2,), np.float32)], output_shapes=[[2]], custom_code="NoSuchOp")
    ref = litert().Interpreter(model_content=content)
    with pytest.raises(RuntimeError) as r:
        ref.allocate_tensors()
    it = tfl_gpu.Interpreter(model_content=content)
    with pytest.raises(RuntimeError) as o:
        it.allocate_tensors()
    assert str(o.value) == str(r.value)
    assert str(o.value).startswith("Encountered unresolved custom op: NoSuchOp.")
    with pytest.raises(RuntimeError, match="not ready"):
        it.invoke()
    # the interpreter stays usable: once a kernel exists the same interpreter allocates and runs

    def double(node, x):
        return x * 2
    tfl_gpu.register_op("NoSuchOp", double)
    try:
        it.allocate_tensors()
        it.set_tensor(0, np.array([1.5, -2], np.float32))
        it.invoke()
        np.testing.assert_array_equal(it.get_tensor(1), [3, -4])
    finally:
        tfl_gpu.unregister_op("NoSuchOp", double)


def test_minus_one_for_a_required_input():
    """LiteRT crashes on these; we raise."""
    mb = ModelBuilder()
    x = mb.input("x", [2])
    y = mb.tensor("y", [2])
    mb.op("ADD", [x, -1], [y])
    mb.output(y)
    expect_clean_failure(mb.build())
    mb = ModelBuilder()
    x = mb.input("x", [1, 2])
    y = mb.tensor("y", [1, 2])
    mb.op("FULLY_CONNECTED", [x, -1, -1], [y])
    mb.output(y)
    expect_clean_failure(mb.build())
    check_still_working()


def test_wrong_number_of_op_inputs():
    mb = ModelBuilder()
    x = mb.input("x", [2])
    y = mb.tensor("y", [2])
    mb.op("ADD", [x], [y])
    mb.output(y)
    err = expect_clean_failure(mb.build())
    assert "ADD" in str(err)


def test_undecodable_names_do_not_break_details():
    mb = ModelBuilder()
    x = mb.input(b"in\xff\xfename", [2])
    y = mb.tensor(b"\xc3(", [2])
    mb.op("ADD", [x, x], [y])
    mb.output(y)
    it = tfl_gpu.Interpreter(model_content=mb.build())
    names = [d["name"] for d in it.get_tensor_details()]
    assert all(isinstance(n, str) for n in names) and names[0].startswith("in")
    exercise(mb.build())


# ------------------------------------------------------------------------------------- absurd sizes

def _input_model(shape, variable_shape=None, intermediate_shape=None):
    mb = ModelBuilder()
    x = mb.input("x", shape)
    if variable_shape is not None:
        mb.tensor("v", variable_shape, is_variable=True)
    y = mb.tensor("y", intermediate_shape or shape)
    mb.op("ADD", [x, x], [y])
    mb.output(y)
    return mb.build()


@pytest.mark.parametrize("kind", ["input", "variable", "overflow"])
def test_absurd_tensor_sizes_rejected_before_allocation(kind):
    if kind == "input":
        content = _input_model([2 ** 20, 2 ** 20])
    elif kind == "variable":
        content = _input_model([2], variable_shape=[2 ** 20, 2 ** 20])
    else:
        content = _input_model([2 ** 31 - 1] * 3)
    it = tfl_gpu.Interpreter(model_content=content)
    with pytest.raises(ValueError) as e:
        it.allocate_tensors()
    assert "tensor" in str(e.value) and ("limit" in str(e.value) or "overflow" in str(e.value))
    check_still_working()


def test_absurd_declared_intermediate_is_computed_like_litert():
    """A wrong (huge) declared shape of an op output is not allocated: the computed shape is used."""
    content = _input_model([2], intermediate_shape=[2 ** 20, 2 ** 20])
    ours = exercise(content)
    ref = litert().Interpreter(model_content=content)
    ref.allocate_tensors()
    ref.set_tensor(0, np.ones(2, np.float32))
    ref.invoke()
    assert_close(ours[0], ref.get_tensor(ref.get_output_details()[0]["index"]))


def test_memory_cap_is_configurable(monkeypatch):
    content = _input_model([1000])
    monkeypatch.setattr(tfl_gpu.limits, "MAX_TENSOR_BYTES", 1024)
    it = tfl_gpu.Interpreter(model_content=content)
    with pytest.raises(ValueError, match="1024-byte limit"):
        it.allocate_tensors()
    small = tfl_gpu.Interpreter(model_content=_input_model([100]))
    small.allocate_tensors()
    with pytest.raises(ValueError, match="limit"):
        small.resize_tensor_input(0, [1000])
    small.invoke()                       # the refused resize changed nothing
    monkeypatch.undo()
    it.allocate_tensors()
    it.invoke()


def test_failed_invoke_leaves_interpreter_usable():
    mb = ModelBuilder()
    x, z = mb.input("x", [2]), mb.input("z", [2])
    y = mb.tensor("y", [2])
    mb.op("ADD", [x, z], [y])
    mb.output(y)
    it = tfl_gpu.Interpreter(model_content=mb.build())
    it.resize_tensor_input(1, [3])          # shapes that cannot broadcast
    it.allocate_tensors()
    with pytest.raises(RuntimeError, match="ADD"):
        it.invoke()
    it.resize_tensor_input(1, [2])
    it.allocate_tensors()
    it.set_tensor(0, np.array([1, 2], np.float32))
    it.set_tensor(1, np.array([3, 4], np.float32))
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(2), [4, 6])


def test_set_tensor_on_a_constant_of_a_path_loaded_model(tmp_path):
    """LiteRT crashes writing into a memory-mapped constant; we refuse with a ValueError."""
    path = tmp_path / "m.tflite"
    path.write_bytes(good_model())
    it = tfl_gpu.Interpreter(model_path=path)
    it.allocate_tensors()
    with pytest.raises(ValueError, match="constant"):
        it.set_tensor(2, np.zeros((4, 3), np.float32))
    exercise(path.read_bytes())


def test_api_misuse_is_an_exception():
    it = tfl_gpu.Interpreter(model_content=good_model())
    with pytest.raises(ValueError):
        it.get_tensor(0)
    with pytest.raises(ValueError):
        it.tensor(0)()
    with pytest.raises(ValueError):
        it.set_tensor(0, np.ones((1, 3), np.float32))
    it.allocate_tensors()
    for bad in (lambda: it.get_tensor(100), lambda: it.get_tensor(-5), lambda: it.tensor(100),
                lambda: it.set_tensor(0, np.ones((2, 3), np.float32)), lambda: it.set_tensor(0, "text"),
                lambda: it.get_tensor_details(3), lambda: it.get_signature_runner("missing"),
                lambda: it.resize_tensor_input(100, [1]), lambda: it.resize_tensor_input(2, [1, 1])):
        with pytest.raises(EXPECTED):
            bad()
    it.invoke()
