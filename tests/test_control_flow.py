"""IF / WHILE / CALL_ONCE, resource variables and variable tensors, checked against LiteRT; cancellation."""
import threading
import time

import numpy as np
import pytest

import tfl_gpu
from oracle import assert_close, litert
from tfl_gpu.writer import ModelBuilder


def _both(content, **kw):
    lite = litert()
    return [lite.Interpreter(model_content=content, **kw), tfl_gpu.Interpreter(model_content=content, **kw)]


def _outputs(it):
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def _run_both(content, inputs):
    res = []
    for it in _both(content):
        it.allocate_tensors()
        for d, v in zip(it.get_input_details(), inputs):
            it.set_tensor(d["index"], v)
        it.invoke()
        res.append(_outputs(it))
    return res


def _assert_same(ref, ours):
    assert len(ref) == len(ours)
    for r, o in zip(ref, ours):
        assert type(o) is type(r), (type(o), type(r))
        assert_close(o, r)


# ----------------------------------------------------------------------------------------------- models

def counter_while(limit_as_input=False, xshape=(2,)):
    """i, x -> while i < limit: i += 1, x = x + x."""
    mb = ModelBuilder()
    i = mb.input("i", [], "INT32")
    x = mb.input("x", list(xshape), "FLOAT32")
    ins = [i, x]
    if limit_as_input:
        ins.append(mb.input("limit", [], "INT32"))
    outs = [mb.tensor("i_out", [], "INT32"), mb.tensor("x_out", list(xshape), "FLOAT32")]
    if limit_as_input:
        outs.append(mb.tensor("limit_out", [], "INT32"))
    mb.op("WHILE", ins, outs, cond_subgraph_index=1, body_subgraph_index=2)
    mb.output(*outs[:2])
    mb.subgraph("cond")
    ci = mb.input("ci", [], "INT32")
    mb.input("cx", list(xshape), "FLOAT32")
    lim = mb.input("cl", [], "INT32") if limit_as_input else mb.const("lim", np.array(10, np.int32))
    c = mb.tensor("c", [], "BOOL")
    mb.op("LESS", [ci, lim], [c])
    mb.output(c)
    mb.subgraph("body")
    bi = mb.input("bi", [], "INT32")
    bx = mb.input("bx", list(xshape), "FLOAT32")
    bouts = [mb.tensor("bio", [], "INT32"), mb.tensor("bxo", list(xshape), "FLOAT32")]
    mb.op("ADD", [bi, mb.const("one", np.array(1, np.int32))], [bouts[0]])
    mb.op("ADD", [bx, bx], [bouts[1]])
    if limit_as_input:
        bl = mb.input("bl", [], "INT32")
        bouts.append(bl)            # pass-through output
    mb.output(*bouts)
    return mb.build()


def growing_while():
    """x doubles its first dimension each iteration (the loop variable changes shape)."""
    mb = ModelBuilder()
    i = mb.input("i", [], "INT32")
    x = mb.input("x", [1, 3], "FLOAT32")
    io, xo = mb.tensor("io", [], "INT32"), mb.tensor("xo", [1, 3], "FLOAT32")
    mb.op("WHILE", [i, x], [io, xo], cond_subgraph_index=1, body_subgraph_index=2)
    mb.output(io, xo)
    mb.subgraph("cond")
    ci = mb.input("ci", [], "INT32")
    mb.input("cx", [1, 3], "FLOAT32")
    c = mb.tensor("c", [], "BOOL")
    mb.op("LESS", [ci, mb.const("lim", np.array(4, np.int32))], [c])
    mb.output(c)
    mb.subgraph("body")
    bi, bx = mb.input("bi", [], "INT32"), mb.input("bx", [1, 3], "FLOAT32")
    bio, bxo = mb.tensor("bio", [], "INT32"), mb.tensor("bxo", [2, 3], "FLOAT32")
    mb.op("ADD", [bi, mb.const("one", np.array(1, np.int32))], [bio])
    half = mb.tensor("half", [1, 3], "FLOAT32")
    mb.op("MUL", [bx, mb.const("k", np.array([0.5], np.float32))], [half])
    mb.op("CONCATENATION", [bx, half], [bxo], axis=0)
    mb.output(bio, bxo)
    return mb.build()


def if_model(nested_while=False):
    """cond, x, y -> (then: x + y [, while loop on x] | else: x * y), and y passed through."""
    mb = ModelBuilder()
    c = mb.input("cond", [1], "BOOL")
    x = mb.input("x", [2, 3], "FLOAT32")
    y = mb.input("y", [2, 3], "FLOAT32")
    o1, o2 = mb.tensor("o1", [2, 3], "FLOAT32"), mb.tensor("o2", [2, 3], "FLOAT32")
    mb.op("IF", [c, x, y], [o1, o2], then_subgraph_index=1, else_subgraph_index=2 if not nested_while else 2)
    mb.output(o1, o2)
    # then
    mb.subgraph("then")
    tx, ty = mb.input("tx", [2, 3], "FLOAT32"), mb.input("ty", [2, 3], "FLOAT32")
    ts = mb.tensor("ts", [2, 3], "FLOAT32")
    mb.op("ADD", [tx, ty], [ts])
    if nested_while:
        i0 = mb.const("i0", np.array(7, np.int32))
        io, lo = mb.tensor("io", [], "INT32"), mb.tensor("lo", [2, 3], "FLOAT32")
        mb.op("WHILE", [i0, ts], [io, lo], cond_subgraph_index=3, body_subgraph_index=4)
        mb.output(lo, ty)
    else:
        mb.output(ts, ty)
    # else
    mb.subgraph("else")
    ex, ey = mb.input("ex", [2, 3], "FLOAT32"), mb.input("ey", [2, 3], "FLOAT32")
    ep = mb.tensor("ep", [2, 3], "FLOAT32")
    mb.op("MUL", [ex, ey], [ep])
    mb.output(ep, ey)
    if nested_while:
        mb.subgraph("cond")
        ci = mb.input("ci", [], "INT32")
        mb.input("cx", [2, 3], "FLOAT32")
        cc = mb.tensor("cc", [], "BOOL")
        mb.op("LESS", [ci, mb.const("lim", np.array(10, np.int32))], [cc])
        mb.output(cc)
        mb.subgraph("body")
        bi, bx = mb.input("bi", [], "INT32"), mb.input("bx", [2, 3], "FLOAT32")
        bio, bxo = mb.tensor("bio", [], "INT32"), mb.tensor("bxo", [2, 3], "FLOAT32")
        mb.op("ADD", [bi, mb.const("one", np.array(1, np.int32))], [bio])
        mb.op("SUB", [bx, mb.const("d", np.array([0.25], np.float32))], [bxo])
        mb.output(bio, bxo)
    return mb.build()


def variable_model(two_vars=False):
    """CALL_ONCE initialises resource variable 'v' to [5, 6]; each invoke: v += x, output v."""
    mb = ModelBuilder()
    x = mb.input("x", [2], "FLOAT32")
    h = mb.tensor("h", [], "RESOURCE")
    mb.op("CALL_ONCE", [], [], init_subgraph_index=1)
    mb.op("VAR_HANDLE", [], [h], container="", shared_name="v")
    r, s = mb.tensor("r", [2], "FLOAT32"), mb.tensor("s", [2], "FLOAT32")
    mb.op("READ_VARIABLE", [h], [r])
    mb.op("ADD", [r, x], [s])
    mb.op("ASSIGN_VARIABLE", [h, s], [])
    mb.output(s)
    if two_vars:
        h2 = mb.tensor("h2", [], "RESOURCE")
        mb.op("VAR_HANDLE", [], [h2], container="", shared_name="w")
        r2, s2 = mb.tensor("r2", [2], "FLOAT32"), mb.tensor("s2", [2], "FLOAT32")
        mb.op("READ_VARIABLE", [h2], [r2])
        mb.op("MUL", [r2, x], [s2])
        mb.op("ASSIGN_VARIABLE", [h2, s2], [])
        mb.output(s2)
    mb.subgraph("init")
    hi = mb.tensor("hi", [], "RESOURCE")
    mb.op("VAR_HANDLE", [], [hi], container="", shared_name="v")
    mb.op("ASSIGN_VARIABLE", [hi, mb.const("c", np.array([5, 6], np.float32))], [])
    if two_vars:
        hw = mb.tensor("hw", [], "RESOURCE")
        mb.op("VAR_HANDLE", [], [hw], container="", shared_name="w")
        mb.op("ASSIGN_VARIABLE", [hw, mb.const("c2", np.array([1, -2], np.float32))], [])
    return mb.build()


def variable_tensor_model():
    mb = ModelBuilder()
    x = mb.input("x", [2], "FLOAT32")
    v = mb.tensor("v", [2], "FLOAT32", is_variable=True)
    mb.tensor("q", [3], "INT8", is_variable=True, quant={"scale": [0.5], "zero_point": [3]})
    y = mb.tensor("y", [2], "FLOAT32")
    mb.op("ADD", [x, v], [y])
    mb.output(y)
    return mb.build()


# ------------------------------------------------------------------------------------------------ tests

@pytest.mark.parametrize("start", [0, 3, 9, 10, 25, -4])
def test_while_counter(start, rng):
    x = rng.standard_normal(2).astype(np.float32)
    ref, ours = _run_both(counter_while(), [np.array(start, np.int32), x])
    _assert_same(ref, ours)
    assert int(ours[0]) == max(start, 10)


def test_while_limit_input_and_passthrough(rng):
    x = rng.standard_normal((4,)).astype(np.float32)
    content = counter_while(limit_as_input=True, xshape=(4,))
    for lim in (0, 1, 6):
        ref, ours = _run_both(content, [np.array(0, np.int32), x, np.array(lim, np.int32)])
        _assert_same(ref, ours)


def test_while_shape_changes_between_iterations(rng):
    x = rng.standard_normal((1, 3)).astype(np.float32)
    content = growing_while()
    its = _both(content)
    for it in its:
        it.allocate_tensors()
        it.set_tensor(0, np.array(0, np.int32))
        it.set_tensor(1, x)
        it.invoke()
    ref, ours = _outputs(its[0]), _outputs(its[1])
    _assert_same(ref, ours)
    assert ours[1].shape == (16, 3)
    # the output's reported shape follows the computed value, as in LiteRT
    np.testing.assert_array_equal(its[1].get_output_details()[1]["shape"], its[0].get_output_details()[1]["shape"])
    # a second invoke from a different start gives a different output shape
    for it in its:
        it.set_tensor(0, np.array(2, np.int32))
        it.invoke()
    _assert_same(_outputs(its[0]), _outputs(its[1]))
    assert _outputs(its[1])[1].shape == (4, 3)


@pytest.mark.parametrize("model", ["counter", "growing", "if"])
def test_details_of_control_flow_models(model):
    """Main-graph details after allocate_tensors and after invoke, as LiteRT reports them (a WHILE output
    whose shape changes in the loop keeps its declared shape until invoke)."""
    content, inputs = {
        "counter": (counter_while(), [np.array(0, np.int32), np.ones(2, np.float32)]),
        "growing": (growing_while(), [np.array(0, np.int32), np.ones((1, 3), np.float32)]),
        "if": (if_model(True), [np.array([True]), np.ones((2, 3), np.float32), np.ones((2, 3), np.float32)]),
    }[model]
    its = _both(content)
    for stage in ("allocate", "invoke"):
        for it in its:
            if stage == "allocate":
                it.allocate_tensors()
            else:
                for d, v in zip(it.get_input_details(), inputs):
                    it.set_tensor(d["index"], v)
                it.invoke()
        ref, ours = its[0].get_tensor_details(), its[1].get_tensor_details()
        assert len(ref) == len(ours)
        for r, o in zip(ref, ours):
            assert r["name"] == o["name"] and r["dtype"] == o["dtype"], (stage, r, o)
            np.testing.assert_array_equal(o["shape"], r["shape"], err_msg=f"{stage}: {r['name']}")
            np.testing.assert_array_equal(o["shape_signature"], r["shape_signature"], err_msg=f"{stage}: {r['name']}")


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("cond", [True, False])
def test_if_branches(cond, nested, rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    y = rng.standard_normal((2, 3)).astype(np.float32)
    ref, ours = _run_both(if_model(nested), [np.array([cond]), x, y])
    _assert_same(ref, ours)


def test_if_passthrough_output_is_not_aliased(rng):
    """The IF output that passes y through must not change when y is set again."""
    x = rng.standard_normal((2, 3)).astype(np.float32)
    y = rng.standard_normal((2, 3)).astype(np.float32)
    it = tfl_gpu.Interpreter(model_content=if_model())
    it.allocate_tensors()
    it.set_tensor(0, np.array([True]))
    it.set_tensor(1, x)
    it.set_tensor(2, y)
    it.invoke()
    out_idx = it.get_output_details()[1]["index"]
    it.set_tensor(2, y + 100)
    np.testing.assert_array_equal(it.get_tensor(out_idx), y)


def test_call_once_and_resource_variables_match_litert():
    content = variable_model(two_vars=True)
    seqs = []
    for it in _both(content):
        seq = []
        it.allocate_tensors()
        for k in range(3):
            it.set_tensor(0, np.array([1, 2], np.float32) * (k + 1))
            it.invoke()
            seq.extend(_outputs(it))
        # reset_all_variables resets variable tensors only: resource variables and CALL_ONCE keep their state
        it.reset_all_variables()
        it.invoke()
        seq.extend(_outputs(it))
        it.allocate_tensors()
        it.invoke()
        seq.extend(_outputs(it))
        seqs.append(seq)
    _assert_same(*seqs)


def test_resource_tensor_details_and_read():
    content = variable_model()
    its = _both(content)
    for it in its:
        it.allocate_tensors()
        it.set_tensor(0, np.ones(2, np.float32))
        it.invoke()
    d_ref = its[0].get_tensor_details()
    d_ours = its[1].get_tensor_details()
    assert [(d["name"], d["dtype"], tuple(d["shape"])) for d in d_ref] == \
           [(d["name"], d["dtype"], tuple(d["shape"])) for d in d_ours]
    for it in its:      # LiteRT reports no data for a resource tensor
        with pytest.raises(ValueError):
            it.get_tensor(1)


def test_read_of_unassigned_variable_is_an_error():
    mb = ModelBuilder()
    x = mb.input("x", [2], "FLOAT32")
    h = mb.tensor("h", [], "RESOURCE")
    r, s = mb.tensor("r", [2], "FLOAT32"), mb.tensor("s", [2], "FLOAT32")
    mb.op("VAR_HANDLE", [], [h], shared_name="never")
    mb.op("READ_VARIABLE", [h], [r])
    mb.op("ADD", [r, x], [s])
    mb.output(s)
    it = tfl_gpu.Interpreter(model_content=mb.build())
    it.allocate_tensors()
    with pytest.raises(RuntimeError, match="never assigned"):
        it.invoke()


def test_variable_tensors_match_litert():
    content = variable_tensor_model()
    seqs = []
    for it in _both(content):
        out = []
        it.allocate_tensors()
        out.append(it.get_tensor(2))                        # INT8 variable starts at its zero point
        it.set_tensor(1, np.array([10, 20], np.float32))
        it.set_tensor(0, np.array([1, 2], np.float32))
        it.invoke()
        out.append(it.get_tensor(3))
        it.allocate_tensors()                               # nothing changed: variables are kept
        it.invoke()
        out.append(it.get_tensor(3))
        it.reset_all_variables()
        out.append(it.get_tensor(1))
        out.append(it.get_tensor(2))
        it.invoke()
        out.append(it.get_tensor(3))
        it.set_tensor(1, np.array([10, 20], np.float32))
        it.resize_tensor_input(0, [2])                      # same shape: not a reallocation
        it.allocate_tensors()
        it.invoke()
        out.append(it.get_tensor(3))
        it.resize_tensor_input(0, [1])                      # a real reallocation resets variables
        it.allocate_tensors()
        out.append(it.get_tensor(1))
        seqs.append(out)
    _assert_same(*seqs)


def test_reset_all_variables_updates_tensor_views():
    it = tfl_gpu.Interpreter(model_content=variable_tensor_model())
    it.allocate_tensors()
    it.set_tensor(1, np.array([10, 20], np.float32))
    view = it.tensor(1)
    assert view()[1] == 20
    it.reset_all_variables()
    np.testing.assert_array_equal(view(), [0, 0])


def _bad_control_flow(kind):
    mb = ModelBuilder()
    x = mb.input("x", [2], "FLOAT32")
    c = mb.input("c", [], "BOOL")
    y = mb.tensor("y", [2], "FLOAT32")
    if kind == "out_of_range":
        mb.op("IF", [c, x], [y], then_subgraph_index=1, else_subgraph_index=5)
    elif kind == "recursive":
        mb.op("IF", [c, x], [y], then_subgraph_index=1, else_subgraph_index=1)
    elif kind == "arity":
        mb.op("IF", [c, x], [y], then_subgraph_index=2, else_subgraph_index=2)
    elif kind == "while_arity":
        mb.op("WHILE", [x], [y], cond_subgraph_index=1, body_subgraph_index=2)
    mb.output(y)
    mb.subgraph("one")          # 1: x -> IF back into subgraph 1 when recursive, else identity
    a = mb.input("a", [2], "FLOAT32")
    if kind == "recursive":
        a2 = mb.tensor("a2", [2], "FLOAT32")
        cc = mb.const("cc", np.array(True))
        mb.op("IF", [cc, a], [a2], then_subgraph_index=1, else_subgraph_index=1)
        mb.output(a2)
    else:
        mb.output(a)
    mb.subgraph("two")          # 2: two inputs
    p, q = mb.input("p", [2], "FLOAT32"), mb.input("q", [2], "FLOAT32")
    mb.output(p, q)
    return mb.build()


@pytest.mark.parametrize("kind", ["out_of_range", "recursive", "arity", "while_arity"])
def test_bad_control_flow_fails_at_allocate(kind):
    it = tfl_gpu.Interpreter(model_content=_bad_control_flow(kind))
    with pytest.raises(RuntimeError, match="failed to prepare"):
        it.allocate_tensors()
    if kind != "recursive":     # LiteRT agrees (a recursive model is not safe to hand to LiteRT)
        lite = litert()
        with pytest.raises(RuntimeError, match="failed to prepare"):
            lite.Interpreter(model_content=_bad_control_flow(kind)).allocate_tensors()


def test_cancel_stops_endless_while_and_interpreter_recovers(rng):
    content = counter_while(limit_as_input=True)
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    x = np.ones(2, np.float32) * 0.0     # x + x stays finite
    it.set_tensor(0, np.array(0, np.int32))
    it.set_tensor(1, x)
    it.set_tensor(2, np.array(np.iinfo(np.int32).max, np.int32))   # ~2e9 iterations: effectively endless
    errors = []

    def run():
        try:
            it.invoke()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    deadline = time.monotonic() + 10
    while not it._busy.locked() and time.monotonic() < deadline:     # wait until invoke() is running
        time.sleep(0.01)
    time.sleep(0.2)
    assert th.is_alive()
    it.cancel()
    th.join(10)
    assert not th.is_alive(), "cancel() did not stop the loop"
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert isinstance(errors[0], tfl_gpu.CancelledError)
    # the interpreter is usable again and gives LiteRT's answer
    xs = rng.standard_normal(2).astype(np.float32)
    it.set_tensor(0, np.array(0, np.int32))
    it.set_tensor(1, xs)
    it.set_tensor(2, np.array(5, np.int32))
    it.invoke()
    lite = litert().Interpreter(model_content=content)
    lite.allocate_tensors()
    for i, v in enumerate([np.array(0, np.int32), xs, np.array(5, np.int32)]):
        lite.set_tensor(i, v)
    lite.invoke()
    _assert_same(_outputs(lite), _outputs(it))


def test_cancel_without_running_invoke_is_harmless(rng):
    content = counter_while()
    it = tfl_gpu.Interpreter(model_content=content)
    it.allocate_tensors()
    it.cancel()
    it.set_tensor(0, np.array(0, np.int32))
    it.set_tensor(1, np.ones(2, np.float32))
    it.invoke()
    assert int(it.get_tensor(it.get_output_details()[0]["index"])) == 10
