"""Delegates: discovery (entry points, in-process), hook validation, TFLite partitioning, reports,
preserve_all_tensors, resizing, and the writing-a-delegate docs example."""
from __future__ import annotations

import pathlib
import random
import re
import sys
import textwrap
import warnings

import numpy as np
import pytest

import tfl_gpu
from tfl_gpu import delegates_api
from tfl_gpu.delegation import format_report, partition_steps
from tfl_gpu.executor import Step
from tfl_gpu.hookspecs import hookimpl
from tfl_gpu.writer import ModelBuilder

ROOT = pathlib.Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ test plugin
class _Dev:
    """A fake device array: copy_in wraps, copy_out unwraps, invoke refuses anything else."""

    def __init__(self, a):
        self.a = np.array(a, copy=True)


class RecordingDelegate:
    """Runs claimed nodes with the core's numpy kernels on "device" arrays, recording what the core asks."""

    def __init__(self):
        self.partitions = []
        self.invocations = 0
        self.released = 0
        self.copies_in = 0
        self.copies_out = 0

    @hookimpl
    def delegate_option_schema(self):
        return {"ops": None, "max_batch": None, "decline": False}

    @hookimpl
    def delegate_configure(self, options):
        if options["max_batch"] is not None and not isinstance(options["max_batch"], int):
            raise ValueError("max_batch must be an int")
        return dict(options)

    @hookimpl
    def delegate_supports_node(self, node, config):
        if config["ops"] is not None and node.op not in config["ops"]:
            return f"no {node.op} here"
        mb = config["max_batch"]
        if mb is not None:
            for t in node.inputs + node.outputs:
                if t is not None and t.constant is None and t.shape and t.shape[0] > mb:
                    return f"batch {t.shape[0]} > {mb}"
        return True

    @hookimpl
    def delegate_prepare(self, partition, config):
        if config["decline"]:
            return None
        self.partitions.append(partition)
        return {"p": partition, "run": [(n.cpu_kernel(), n.inputs, n.outputs) for n in partition.nodes]}

    @hookimpl
    def delegate_copy_in(self, array, tensor):
        assert isinstance(array, np.ndarray) and array.dtype == tensor.dtype
        self.copies_in += 1
        return _Dev(array)

    @hookimpl
    def delegate_invoke(self, kernel, inputs):
        assert all(isinstance(a, _Dev) for a in inputs)
        env = {t.index: a.a for t, a in zip(kernel["p"].inputs, inputs)}
        for fn, ins, outs in kernel["run"]:
            args = [None if t is None else (t.constant if t.constant is not None else env[t.index]) for t in ins]
            for t, v in zip(outs, fn(*args)):
                env[t.index] = v
        self.invocations += 1
        return [_Dev(env[t.index]) for t in kernel["p"].outputs]

    @hookimpl
    def delegate_copy_out(self, array, tensor):
        assert isinstance(array, _Dev)
        self.copies_out += 1
        return array.a

    @hookimpl
    def delegate_release(self, kernel):
        self.released += 1


@pytest.fixture(autouse=True)
def _registered():
    delegates_api.register_delegate("recording", RecordingDelegate)
    yield
    delegates_api.unregister_delegate("recording")


def rec(**opts):
    return tfl_gpu.load_delegate("recording", opts)


# ------------------------------------------------------------------------------------------ models
def cycle_model(batch=2):
    """x -> ADD -> a -> TANH -> t ; MUL(a, t) -> m ; ADD(m, x) -> y.
    ADD/MUL/ADD delegated, TANH on the CPU: {ADD} and {MUL, ADD} must be separate partitions."""
    mb = ModelBuilder()
    x = mb.input("x", [batch, 3], "FLOAT32", shape_signature=[-1, 3])
    c = mb.const("c", np.full((1, 3), 0.5, np.float32))
    a = mb.tensor("a", [batch, 3])
    mb.op("ADD", [x, c], [a])
    t = mb.tensor("t", [batch, 3])
    mb.op("TANH", [a], [t])
    m = mb.tensor("m", [batch, 3])
    mb.op("MUL", [a, t], [m])
    y = mb.tensor("y", [batch, 3])
    mb.op("ADD", [m, x], [y])
    mb.output(y)
    return mb.build()


def chain_model(pattern):
    """A chain of unary ops (e.g. "RRTRRRT": R = RELU, T = TANH, ...) on [2, 5]."""
    names = {"R": "RELU", "T": "TANH", "L": "LOGISTIC", "N": "NEG"}
    mb = ModelBuilder()
    cur = mb.input("x", [2, 5], "FLOAT32")
    for k, ch in enumerate(pattern):
        nxt = mb.tensor(f"t{k}", [2, 5])
        mb.op(names[ch], [cur], [nxt])
        cur = nxt
    mb.output(cur)
    return mb.build()


def run(content, x, delegates=None, **kw):
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=delegates, **kw)
    inp = it.get_input_details()[0]["index"]
    if tuple(it.get_input_details()[0]["shape"]) != x.shape:
        it.resize_tensor_input(inp, list(x.shape))
    it.allocate_tensors()
    it.set_tensor(inp, x)
    it.invoke()
    return it, [it.get_tensor(d["index"]) for d in it.get_output_details()]


def executors(it, sg=0):
    return [r["executor"] for r in it.get_delegation_report(sg)]


def partitions(it, sg=0):
    return [r["partition"] for r in it.get_delegation_report(sg)]


# ------------------------------------------------------------------------------------------ running
def test_cycle_graph_partitions_and_outputs(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    _, ref = run(cycle_model(), x)
    np.testing.assert_allclose(ref[0], (np.tanh(x + 0.5) * (x + 0.5)) + x, rtol=1e-6, atol=1e-6)
    d = rec(ops=["ADD", "MUL"])
    it, out = run(cycle_model(), x, [d])
    assert np.array_equal(out[0], ref[0])
    assert executors(it) == ["recording", "cpu", "recording", "recording"]
    assert partitions(it) == [0, None, 1, 1]
    rep = it.get_delegation_report()
    assert rep[1]["refusals"] == {"recording": "no TANH here"}
    assert all(r["refusals"] == {} for r in rep if r["executor"] != "cpu")
    p0, p1 = d.plugin.partitions
    assert p0.node_indices == (0,) and p1.node_indices == (2, 3)
    # boundary tensors: p0 exports a (read by TANH and MUL), p1 reads a, t, x and exports only y
    names = lambda ts: sorted(t.name for t in ts)  # noqa: E731
    assert names(p0.inputs) == ["x"] and names(p0.outputs) == ["a"]
    assert names(p1.inputs) == ["a", "t", "x"] and names(p1.outputs) == ["y"]
    assert d.plugin.invocations == 2 and d.plugin.copies_in == 4 and d.plugin.copies_out == 2
    # one step per partition; the intermediate m never reaches the core
    steps = it._runtime.subgraphs[0].steps
    assert [s.executor for s in steps] == ["recording", "cpu", "recording"]
    assert "MUL" in format_report(rep) and "no TANH here" in format_report(rep)


def test_node_spec_is_delegate_neutral():
    d = rec()
    run(cycle_model(), np.zeros((2, 3), np.float32), [d])
    node = d.plugin.partitions[0].nodes[0]
    assert node.op == "ADD" and node.index == 0 and node.subgraph == 0
    assert node.options.get("fused_activation_function", "NONE") == "NONE"
    x, c = node.inputs
    assert x.type_name == "FLOAT32" and x.dtype == np.float32 and x.shape == (2, 3) and x.constant is None
    assert x.shape_signature == (-1, 3) and not x.dynamic
    assert c.constant is not None and c.constant.shape == (1, 3) and not c.constant.flags.writeable
    with pytest.raises((TypeError, AttributeError)):
        node.options["x"] = 1


def test_reference_delegate_from_entry_point_matches_cpu(rng):
    assert "reference" in delegates_api.available_delegates()
    x = rng.standard_normal((2, 3)).astype(np.float32)
    _, ref = run(cycle_model(), x)
    it, out = run(cycle_model(), x, [tfl_gpu.load_delegate("reference")])
    assert np.array_equal(out[0], ref[0])
    assert set(executors(it)) == {"reference"} and partitions(it) == [0, 0, 0, 0]


def test_shared_model_through_two_reference_delegates_is_identical(shared_models):
    path = shared_models / "mp_hand_recrop.tflite"
    if not path.exists():
        pytest.skip("model absent")
    rng = np.random.default_rng(1)
    cpu = tfl_gpu.Interpreter(model_path=str(path))
    first = tfl_gpu.load_delegate("reference", {"exclude_ops": ["ADD"]})
    dlg = tfl_gpu.Interpreter(model_path=str(path),
                              experimental_delegates=[first, tfl_gpu.load_delegate("reference")])
    outs = []
    for it in (cpu, dlg):
        it.allocate_tensors()
        for d in it.get_input_details():
            it.set_tensor(d["index"], rng.standard_normal(d["shape"]).astype(d["dtype"]))
        rng = np.random.default_rng(1)
        it.invoke()
        outs.append([it.get_tensor(d["index"]) for d in it.get_output_details()])
    for a, b in zip(*outs):
        assert np.array_equal(a, b)
    rep = dlg.get_delegation_report()
    assert {r["executor"] for r in rep} == {"reference", "reference#2"}
    for r in rep:       # only ADDs went to the second delegate
        assert (r["executor"] == "reference#2") == (r["op"] == "ADD")
    ids = {r["partition"] for r in rep}
    assert None not in ids and len(ids) == len(dlg._runtime.subgraphs[0].steps)


# ------------------------------------------------------------------------------------------ partitioning
def _check_partition(n, edges, claimed, parts):
    seen = []
    for kind, members in parts:
        assert members and all(bool(claimed[m]) == kind for m in members)
        seen.extend(members)
    assert sorted(seen) == list(range(n))
    where = {m: k for k, (_, members) in enumerate(parts) for m in members}
    for a, b in edges:                  # every dependency points to an earlier subset or inside one
        assert where[a] <= where[b]
    pos = {m: i for i, m in enumerate(seen)}
    for a, b in edges:
        assert pos[a] < pos[b]


def _steps_for(n, edges):
    ins = {k: [] for k in range(n)}
    for a, b in edges:
        ins[b].append(1000 + a)
    return [Step(None, tuple(ins[k]), (1000 + k,), (), (k,)) for k in range(n)]


def test_partition_random_dags_have_no_cycles_and_keep_order():
    r = random.Random(7)
    for _ in range(300):
        n = r.randint(1, 14)
        edges = [(a, b) for b in range(n) for a in range(b) if r.random() < 0.25]
        claimed = [r.random() < 0.6 for _ in range(n)]
        parts = partition_steps(_steps_for(n, edges), claimed, [False] * n)
        _check_partition(n, edges, claimed, parts)
        # Subsets of one kind are maximal: a claimed and an unclaimed subset alternate
        assert all(parts[k][0] != parts[k + 1][0] for k in range(len(parts) - 1))


def test_partition_diamond_merges_independent_branches():
    # 0 -> 1(cpu) -> 3 ; 0 -> 2 -> 3 ; claimed: 0, 2, 3.  {0, 2} then {1} then {3}
    edges = [(0, 1), (0, 2), (1, 3), (2, 3)]
    parts = partition_steps(_steps_for(4, edges), [True, False, True, True], [False] * 4)
    assert parts == [(True, [0, 2]), (False, [1]), (True, [3])]


def test_side_effect_order_is_kept():
    # 0 and 2 have side effects (no data edge): 2 must stay after 0 although 2 is claimed and ready first
    parts = partition_steps(_steps_for(3, []), [False, True, True], [True, False, True])
    order = [m for _, members in parts for m in members]
    assert order.index(0) < order.index(2)


def test_min_nodes_per_partition(rng):
    content = chain_model("RRTRRRT")     # claimed runs of RELUs: 2 and 3 nodes
    x = rng.standard_normal((2, 5)).astype(np.float32)
    _, ref = run(content, x)
    it, out = run(content, x, [rec(ops=["RELU"], min_nodes_per_partition=3)])
    assert np.array_equal(out[0], ref[0])
    assert executors(it) == ["cpu", "cpu", "cpu", "recording", "recording", "recording", "cpu"]
    why = it.get_delegation_report()[0]["refusals"]["recording"]
    assert "min_nodes_per_partition=3" in why and "2 node" in why


def test_max_delegated_partitions_takes_largest(rng):
    content = chain_model("RTRRRTRR")    # runs of 1, 3, 2 RELUs
    x = rng.standard_normal((2, 5)).astype(np.float32)
    _, ref = run(content, x)
    it, out = run(content, x, [rec(ops=["RELU"], max_delegated_partitions=2)])
    assert np.array_equal(out[0], ref[0])
    assert executors(it) == ["cpu", "cpu", "recording", "recording", "recording", "cpu", "recording", "recording"]
    assert "max_delegated_partitions=2" in it.get_delegation_report()[0]["refusals"]["recording"]
    it, _ = run(content, x, [rec(ops=["RELU"], max_delegated_partitions=1)])
    assert partitions(it) == [None, None, 0, 0, 0, None, None, None]


def test_two_delegates_second_takes_what_first_left(rng):
    content = chain_model("RRTRL")
    x = rng.standard_normal((2, 5)).astype(np.float32)
    _, ref = run(content, x)
    first = rec(ops=["RELU"], min_nodes_per_partition=2)
    delegates_api.register_delegate("second", RecordingDelegate)
    try:
        second = tfl_gpu.load_delegate("second", {"ops": ["RELU", "TANH"]})
        it, out = run(content, x, [first, second])
    finally:
        delegates_api.unregister_delegate("second")
    assert np.array_equal(out[0], ref[0])
    # the lone RELU (3) is too small for the first; the second takes TANH and that RELU together
    assert executors(it) == ["recording", "recording", "second", "second", "cpu"]
    assert partitions(it) == [0, 0, 1, 1, None]
    refusals = it.get_delegation_report()[4]["refusals"]
    assert refusals == {"recording": "no LOGISTIC here", "second": "no LOGISTIC here"}


def test_declined_partition_stays_on_cpu(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    _, ref = run(cycle_model(), x)
    it, out = run(cycle_model(), x, [rec(decline=True)])
    assert np.array_equal(out[0], ref[0])
    assert executors(it) == ["cpu"] * 4
    assert "declined" in it.get_delegation_report()[0]["refusals"]["recording"]


def test_delegate_errors_are_named(rng):
    class Broken(RecordingDelegate):
        @hookimpl
        def delegate_invoke(self, kernel, inputs):
            raise ArithmeticError("boom")
    d = delegates_api.Delegate(Broken, name="broken")
    with pytest.raises(tfl_gpu.InvokeError, match="broken partition 0.*boom"):
        run(cycle_model(), np.ones((2, 3), np.float32), [d])

    class BadPrepare(RecordingDelegate):
        @hookimpl
        def delegate_prepare(self, partition):
            raise MemoryError("no room")
    it = tfl_gpu.Interpreter(model_content=cycle_model(),
                             experimental_delegates=[delegates_api.Delegate(BadPrepare, name="bad")])
    with pytest.raises(RuntimeError, match="delegate 'bad' failed to prepare partition 0.*no room"):
        it.allocate_tensors()

    class ShortOutputs(RecordingDelegate):
        @hookimpl
        def delegate_invoke(self, kernel, inputs):
            return []
    with pytest.raises(tfl_gpu.InvokeError, match="returned 0 outputs for partition 0, which has 1"):
        run(cycle_model(), np.ones((2, 3), np.float32), [delegates_api.Delegate(ShortOutputs, name="short")])

    class Vague(RecordingDelegate):
        @hookimpl
        def delegate_supports_node(self, node):
            return 1
    it = tfl_gpu.Interpreter(model_content=cycle_model(),
                             experimental_delegates=[delegates_api.Delegate(Vague, name="vague")])
    with pytest.raises(RuntimeError, match="delegate 'vague' failed in delegate_supports_node for node 0.*True or a"):
        it.allocate_tensors()


# ------------------------------------------------------------------------------------------ lifecycle
def test_preserve_all_tensors_disables_delegation(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    d = rec()
    with pytest.warns(UserWarning, match="disables delegation"):
        it = tfl_gpu.Interpreter(model_content=cycle_model(), experimental_delegates=[d],
                                 experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    assert executors(it) == ["cpu"] * 4 and d.plugin.invocations == 0 and not d.plugin.partitions
    a = next(t["index"] for t in it.get_tensor_details() if t["name"] == "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(it.get_tensor(a), np.tanh(x + 0.5) * (x + 0.5), rtol=1e-6)


def test_resize_then_reallocate_repartitions(rng):
    d = rec(max_batch=2)
    content = cycle_model(batch=2)
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=[d])
    it.allocate_tensors()
    assert executors(it) == ["recording", "recording", "recording", "recording"]
    assert d.plugin.released == 0
    inp = it.get_input_details()[0]["index"]
    it.resize_tensor_input(inp, [4, 3])
    it.allocate_tensors()
    assert d.plugin.released == 1                      # the old partition's kernel was released
    assert executors(it) == ["cpu"] * 4               # batch 4 refused by this delegate
    assert it.get_delegation_report()[0]["refusals"]["recording"] == "batch 4 > 2"
    x = rng.standard_normal((4, 3)).astype(np.float32)
    it.set_tensor(inp, x)
    it.invoke()
    y = it.get_tensor(it.get_output_details()[0]["index"])
    np.testing.assert_allclose(y, np.tanh(x + 0.5) * (x + 0.5) + x, rtol=1e-6, atol=1e-6)
    it.resize_tensor_input(inp, [1, 3])
    it.allocate_tensors()
    assert executors(it) == ["recording"] * 4
    assert d.plugin.partitions[-1].nodes[0].inputs[0].shape == (1, 3)
    x = rng.standard_normal((1, 3)).astype(np.float32)
    it.set_tensor(inp, x)
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"]),
                               np.tanh(x + 0.5) * (x + 0.5) + x, rtol=1e-6, atol=1e-6)


def test_report_needs_allocate():
    it = tfl_gpu.Interpreter(model_content=cycle_model(), experimental_delegates=[rec()])
    with pytest.raises(ValueError, match="allocate_tensors"):
        it.get_delegation_report()


# ------------------------------------------------------------------------------------------ validation
def _plugin(src):
    ns = {"hookimpl": hookimpl, "np": np}
    exec(textwrap.dedent(src), ns)
    return ns["P"]


_GOOD = """
class P:
    @hookimpl
    def delegate_supports_node(self, node):
        return True
    @hookimpl
    def delegate_prepare(self, partition):
        return partition
    @hookimpl
    def delegate_invoke(self, kernel, inputs):
        return inputs
"""


def test_valid_plugin_registers():
    d = delegates_api.Delegate(_plugin(_GOOD), name="good")
    assert d.name == "good" and d.options == {} and d.min_nodes_per_partition == 1


@pytest.mark.parametrize("src, match", [
    (_GOOD + "    @hookimpl\n    def delegate_suports_node(self, node):\n        return True\n",
     "delegate_suports_node"),
    (_GOOD + "    def delegate_copy_in(self, array):\n        return array\n", "not marked with @"),
    (_GOOD + "    @hookimpl\n    def delegate_copy_out(self, arr):\n        return arr\n", "arr"),
    (_GOOD.replace("delegate_invoke", "invoke"), "unknown hook 'invoke'.*valid hooks: .*delegate_invoke"),
    (_GOOD.split("    @hookimpl\n    def delegate_invoke")[0], "required hook.*delegate_invoke"),
])
def test_bad_plugins_are_rejected(src, match):
    with pytest.raises(ValueError, match=match):
        delegates_api.Delegate(_plugin(src), name="bad")
    with pytest.raises(ValueError, match=match):
        delegates_api.register_delegate("bad", _plugin(src))
    assert "bad" not in delegates_api.available_delegates()


def test_load_delegate_errors(tmp_path):
    lib = tmp_path / "libtensorflowlite_gpu_delegate.so"
    with pytest.raises(ValueError, match="native"):
        tfl_gpu.load_delegate(str(lib))
    lib.write_bytes(b"\x7fELF")
    with pytest.raises(ValueError, match="native"):
        tfl_gpu.load_delegate(lib)
    for name in ("delegate.dll", "libdelegate.dylib", "libx.so.2"):
        with pytest.raises(ValueError, match="not supported"):
            tfl_gpu.load_delegate(name)
    with pytest.raises(ValueError, match=r"unknown delegate 'nope'.*available delegates: .*recording.*reference"):
        tfl_gpu.load_delegate("nope")
    with pytest.raises(ValueError, match="delegate name"):
        tfl_gpu.load_delegate(None)
    with pytest.raises(ValueError, match="unknown option.*'colour'.*valid options: .*max_batch"):
        rec(colour="red")
    with pytest.raises(ValueError, match="max_batch must be an int"):
        rec(max_batch="x")
    with pytest.raises(ValueError, match="min_nodes_per_partition must be >= 1"):
        rec(min_nodes_per_partition=0)
    for bad in (1.5, True, "two", None):
        with pytest.raises(ValueError, match="max_delegated_partitions must be an integer"):
            rec(max_delegated_partitions=bad)
    with pytest.raises(ValueError, match="options must be a dict"):
        tfl_gpu.load_delegate("recording", ["ops"])
    with pytest.raises(ValueError, match="unknown option"):
        tfl_gpu.load_delegate("reference", {"device_id": 0})
    # LiteRT passes option values as strings
    assert tfl_gpu.load_delegate("reference", {"min_nodes_per_partition": "3"}).min_nodes_per_partition == 3
    with pytest.raises(ValueError, match="not a tfl_gpu delegate"):
        tfl_gpu.Interpreter(model_content=cycle_model(), experimental_delegates=[object()])


def test_entry_point_of_installed_package(tmp_path, monkeypatch, rng):
    """A tiny third-party package with a dist-info declaring a tfl_gpu.delegates entry point."""
    pkg = tmp_path / "tiny_delegate_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from tfl_gpu.hookspecs import hookimpl

        @hookimpl
        def delegate_supports_node(node):
            return node.op == "TANH" or "tiny runs TANH only"

        @hookimpl
        def delegate_prepare(partition):
            return [n.cpu_kernel() for n in partition.nodes]

        @hookimpl
        def delegate_invoke(kernel, inputs):
            (x,) = inputs
            for k in kernel:
                (x,) = k(x)
            return [x]
    '''))
    dist = tmp_path / "tiny_delegate_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-delegate-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[tfl_gpu.delegates]\ntiny = tiny_delegate_pkg\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "tiny" in delegates_api.available_delegates()
    d = tfl_gpu.load_delegate("tiny")
    assert d.name == "tiny"
    x = rng.standard_normal((2, 3)).astype(np.float32)
    _, ref = run(cycle_model(), x)
    it, out = run(cycle_model(), x, [d])
    assert np.array_equal(out[0], ref[0])
    assert executors(it) == ["cpu", "tiny", "cpu", "cpu"]
    assert it.get_delegation_report()[0]["refusals"] == {"tiny": "tiny runs TANH only"}
    with pytest.raises(ValueError, match="unknown option"):
        tfl_gpu.load_delegate("tiny", {"x": 1})
    monkeypatch.delitem(sys.modules, "tiny_delegate_pkg", raising=False)


def test_control_flow_nodes_stay_on_cpu(rng):
    """A WHILE node is never offered to delegates; its body subgraph is delegated on its own."""
    mb = ModelBuilder()
    cond = mb.subgraph("cond")
    i_c = mb.input("i", [], "INT32")
    mb.input("x", [2], "FLOAT32")
    lim = mb.const("lim", np.array(3, np.int32))
    b = mb.tensor("b", [], "BOOL")
    mb.op("LESS", [i_c, lim], [b])
    mb.output(b)
    body = mb.subgraph("body")
    i_b = mb.input("i", [], "INT32")
    x_b = mb.input("x", [2], "FLOAT32")
    one = mb.const("one", np.array(1, np.int32))
    i2 = mb.tensor("i2", [], "INT32")
    mb.op("ADD", [i_b, one], [i2])
    x2 = mb.tensor("x2", [2], "FLOAT32")
    mb.op("TANH", [x_b], [x2])
    mb.output(i2, x2)
    mb.use_subgraph(0)
    i0 = mb.input("i0", [], "INT32")
    x0 = mb.input("x0", [2], "FLOAT32")
    io = mb.tensor("io", [], "INT32")
    xo = mb.tensor("xo", [2], "FLOAT32")
    mb.op("WHILE", [i0, x0], [io, xo], cond_subgraph_index=cond, body_subgraph_index=body)
    mb.output(io, xo)
    content = mb.build()
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=[tfl_gpu.load_delegate("reference")])
    it.allocate_tensors()
    ins = it.get_input_details()
    xv = rng.standard_normal(2).astype(np.float32)
    it.set_tensor(ins[0]["index"], np.array(0, np.int32))
    it.set_tensor(ins[1]["index"], xv)
    it.invoke()
    outs = it.get_output_details()
    assert int(it.get_tensor(outs[0]["index"])) == 3
    np.testing.assert_allclose(it.get_tensor(outs[1]["index"]), np.tanh(np.tanh(np.tanh(xv))), rtol=1e-6)
    rep = it.get_delegation_report(0)
    assert rep[0]["executor"] == "cpu" and "subgraphs" in rep[0]["refusals"]["reference"]
    assert executors(it, body) == ["reference", "reference"]
    # The body's partition was prepared for x of shape (2,); called with (3,) it falls back to the CPU.
    it.resize_tensor_input(ins[1]["index"], [3])
    xv = rng.standard_normal(3).astype(np.float32)
    with pytest.warns(RuntimeWarning, match=r"partition 0 was prepared for input shapes .*\(2,\).*run on the CPU"):
        it.allocate_tensors()
        it.set_tensor(ins[0]["index"], np.array(1, np.int32))
        it.set_tensor(ins[1]["index"], xv)
        it.invoke()
    assert int(it.get_tensor(outs[0]["index"])) == 3
    np.testing.assert_allclose(it.get_tensor(outs[1]["index"]), np.tanh(np.tanh(xv)), rtol=1e-6)


def test_branching_op_stays_on_cpu(rng):
    """STABLEHLO_CASE names its branch subgraphs in a list: it is control flow too and is never delegated."""
    mb = ModelBuilder()
    i = mb.input("index", [], "INT32")
    x = mb.input("x", [2, 3])
    y = mb.tensor("y", [2, 3])
    mb.op("STABLEHLO_CASE", [i, x], [y], branch_subgraph_indices=[1, 2])
    mb.output(y)
    for op in ("STABLEHLO_MULTIPLY", "STABLEHLO_ADD"):
        mb.subgraph(op)
        p = mb.input("p", [2, 3])
        r = mb.tensor("r", [2, 3])
        mb.op(op, [p, p], [r])
        mb.output(r)
    mb.use_subgraph(0)
    it = tfl_gpu.Interpreter(model_content=mb.build(), experimental_delegates=[tfl_gpu.load_delegate("reference")])
    it.allocate_tensors()
    xv = rng.standard_normal((2, 3)).astype(np.float32)
    it.set_tensor(it.get_input_details()[0]["index"], np.array(1, np.int32))
    it.set_tensor(it.get_input_details()[1]["index"], xv)
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(it.get_output_details()[0]["index"]), xv + xv)
    rep = it.get_delegation_report(0)
    assert rep[0]["executor"] == "cpu" and "subgraphs" in rep[0]["refusals"]["reference"]
    assert executors(it, 1) == ["reference"] and executors(it, 2) == ["reference"]


# ------------------------------------------------------------------------------------------ docs
def test_writing_a_delegate_docs_example_runs(capsys):
    doc = (ROOT / "docs" / "writing-a-delegate.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert len(blocks) == 1
    try:
        exec(compile(blocks[0], "docs/writing-a-delegate.md", "exec"), {"__name__": "doc_example"})
    finally:
        delegates_api.unregister_delegate("elementwise")
    printed = capsys.readouterr().out.strip()
    shown = re.search(r"which prints\n\n```text\n(.*?)```", doc, re.S).group(1).strip()
    assert printed == shown


# ------------------------------------------------------------------------------------------ packaging
def _package_dirs():
    import tomllib
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = cfg.get("package-dir", {})

    def where(pkg):
        for prefix in sorted(mapping, key=len, reverse=True):
            if pkg == prefix or pkg.startswith(prefix + "."):
                return ROOT / mapping[prefix] / pkg[len(prefix):].lstrip(".").replace(".", "/")
        return ROOT / pkg.replace(".", "/")
    return cfg, {p: where(p) for p in cfg["packages"]}


def test_pyproject_ships_delegates_folder_as_tfl_gpu_delegates():
    cfg, dirs = _package_dirs()
    assert cfg["package-dir"]["tfl_gpu.delegates"] == "delegates"
    for pkg, d in dirs.items():
        assert d.is_dir(), f"package {pkg} maps to missing folder {d}"
    listed = {d.resolve() for d in dirs.values()}
    for top in ("tfl_gpu", "delegates"):      # every Python package folder must be listed
        for init in (ROOT / top).rglob("__init__.py"):
            assert init.parent.resolve() in listed, f"{init.parent} is not in [tool.setuptools] packages"
    import tomllib
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["tfl_gpu.delegates"]
    assert eps["reference"] == "tfl_gpu.delegates.reference:plugin"


@pytest.mark.slow
def test_non_editable_install_has_delegates(tmp_path):
    """``pip install .`` (a real wheel build) ships tfl_gpu.delegates and its entry points."""
    import os
    import subprocess
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                        str(ROOT)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    deps = {pathlib.Path(m.__file__).resolve().parents[1] for m in (np, __import__("pluggy"))}
    code = ("import tfl_gpu, tfl_gpu.delegates.reference as r\n"
            "from tfl_gpu.delegates_api import available_delegates\n"
            "print(tfl_gpu.__file__); print(r.__file__); print(available_delegates())\n"
            "d = tfl_gpu.load_delegate('reference'); print(type(d.plugin).__name__)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target)] + [str(p) for p in deps]))
    # -S: no site-packages .pth files, so the editable install of the checkout cannot answer
    r = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    assert lines[0].startswith(str(target)) and lines[1].startswith(str(target / "tfl_gpu" / "delegates"))
    assert "reference" in lines[2] and lines[3] == "ReferenceDelegate"


def test_summarize_report():
    from tfl_gpu.delegation import summarize_report
    it, _ = run(chain_model("RRTRL"), np.ones((2, 5), np.float32), [rec(ops=["RELU"])])
    assert summarize_report(it.get_delegation_report()).splitlines() == [
        "5 nodes: 3 on recording (2 partitions), 2 on cpu",
        "  cpu TANH x1 (nodes 2): recording: no TANH here",
        "  cpu LOGISTIC x1 (nodes 4): recording: no LOGISTIC here"]


def test_shape_propagation_of_an_endless_loop_is_cut(monkeypatch):
    """With zero inputs this WHILE never ends; allocate_tensors must still return."""
    from tfl_gpu import delegation
    monkeypatch.setattr(delegation, "SHAPE_PROPAGATION_BUDGET_S", 0.3)
    mb = ModelBuilder()
    cond = mb.subgraph("cond")
    x_c = mb.input("x", [1], "FLOAT32")
    mb.input("s", [1], "FLOAT32")
    ten = mb.const("ten", np.array([10.0], np.float32))
    b = mb.tensor("b", [1], "BOOL")
    mb.op("LESS", [x_c, ten], [b])
    r = mb.tensor("r", [], "BOOL")
    mb.op("REDUCE_ALL", [b, mb.const("ax", np.array([0], np.int32))], [r], keep_dims=False)
    mb.output(r)
    body = mb.subgraph("body")
    x_b = mb.input("x", [1], "FLOAT32")
    s_b = mb.input("s", [1], "FLOAT32")
    x2 = mb.tensor("x2", [1], "FLOAT32")
    mb.op("ADD", [x_b, s_b], [x2])
    mb.output(x2, s_b)
    mb.use_subgraph(0)
    x0 = mb.input("x0", [1], "FLOAT32")
    s0 = mb.input("s0", [1], "FLOAT32")
    xo = mb.tensor("xo", [1], "FLOAT32")
    so = mb.tensor("so", [1], "FLOAT32")
    mb.op("WHILE", [x0, s0], [xo, so], cond_subgraph_index=cond, body_subgraph_index=body)
    mb.output(xo)
    it = tfl_gpu.Interpreter(model_content=mb.build(), experimental_delegates=[tfl_gpu.load_delegate("reference")])
    it.allocate_tensors()
    ins = it.get_input_details()
    it.set_tensor(ins[0]["index"], np.array([0.0], np.float32))
    it.set_tensor(ins[1]["index"], np.array([3.0], np.float32))
    it.invoke()
    assert it.get_tensor(it.get_output_details()[0]["index"])[0] == 12.0
    assert executors(it, body) == ["reference"]


def test_quantization_reaches_the_delegate(rng):
    mb = ModelBuilder()
    x = mb.input("x", [2, 3], "FLOAT32")
    q = mb.tensor("q", [2, 3], "INT8", quant={"scale": [0.5], "zero_point": [3]})
    mb.op("QUANTIZE", [x], [q])
    xq = mb.tensor("xq", [2, 3], "FLOAT32")
    mb.op("DEQUANTIZE", [q], [xq])
    w = mb.const("w", np.array([[1, -2, 3], [4, 5, -6]], np.int8),
                 quant={"scale": [0.25, 0.125], "zero_point": [0, 0], "quantized_dimension": 0})
    wf = mb.tensor("wf", [2, 3], "FLOAT32")
    mb.op("DEQUANTIZE", [w], [wf])
    y = mb.tensor("y", [2, 3], "FLOAT32")
    mb.op("ADD", [xq, wf], [y])
    mb.output(y)
    content = mb.build()
    xv = (rng.standard_normal((2, 3)) * 4).astype(np.float32)
    _, ref = run(content, xv)
    d = rec()
    it, out = run(content, xv, [d])
    assert np.array_equal(out[0], ref[0]) and executors(it) == ["recording"] * 4
    expect = np.clip(np.round(xv / 0.5) + 3, -128, 127).astype(np.float32) * 0.5 - 1.5 + \
        np.array([[0.25, -0.5, 0.75], [0.5, 0.625, -0.75]], np.float32)
    np.testing.assert_allclose(out[0], expect, rtol=1e-6, atol=1e-6)
    nodes = d.plugin.partitions[0].nodes
    qs = nodes[0].outputs[0].quantization
    assert (qs.scale, qs.zero_point, qs.per_axis) == (0.5, 3, False) and nodes[0].outputs[0].type_name == "INT8"
    ws = nodes[2].inputs[0]
    assert ws.quantization.per_axis and ws.quantization.quantized_dimension == 0
    np.testing.assert_array_equal(ws.quantization.scales, np.array([0.25, 0.125], np.float32))
    np.testing.assert_array_equal(ws.constant, [[1, -2, 3], [4, 5, -6]])
    assert nodes[0].inputs[0].quantization is None
