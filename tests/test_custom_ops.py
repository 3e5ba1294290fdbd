"""User-defined custom ops through tfl_gpu.register_op."""
import numpy as np
import pytest

import tfl_gpu
from tfl_gpu.writer import ModelBuilder


def _model(custom_options=b"\x03"):
    mb = ModelBuilder()
    x = mb.input("x", [2, 3])
    y = mb.tensor("y", [2, 3])
    mb.op("CUSTOM", [x], [y], custom_code="ScaleByOption", custom_options=custom_options)
    mb.output(y)
    return mb.build(), x, y


def test_unregistered_custom_op_fails_at_allocate_like_litert():
    content, _, _ = _model()
    it = tfl_gpu.Interpreter(model_content=content)
    with pytest.raises(RuntimeError, match="Encountered unresolved custom op: ScaleByOption"):
        it.allocate_tensors()


def test_registered_custom_op_runs_and_reads_its_options():
    content, x, y = _model(b"\x05")

    def scale(node, v):
        return v * np.float32(node.custom_options[0])

    tfl_gpu.register_op("ScaleByOption", scale)
    try:
        it = tfl_gpu.Interpreter(model_content=content)
        it.allocate_tensors()
        v = np.arange(6, dtype=np.float32).reshape(2, 3)
        it.set_tensor(x, v)
        it.invoke()
        np.testing.assert_array_equal(it.get_tensor(y), v * 5)
    finally:
        tfl_gpu.unregister_op("ScaleByOption")
    with pytest.raises(RuntimeError, match="unresolved custom op"):
        tfl_gpu.Interpreter(model_content=content).allocate_tensors()


def test_class_kernel_precomputes_once():
    content, x, y = _model(b"\x02")
    built = []

    @tfl_gpu.register_op("ScaleByOption")
    class Scale:
        def __init__(self, node):
            built.append(node)
            self.k = np.float32(node.custom_options[0])

        def __call__(self, v):
            return v * self.k

    try:
        it = tfl_gpu.Interpreter(model_content=content)
        it.allocate_tensors()
        for k in range(3):
            it.set_tensor(x, np.full((2, 3), k, np.float32))
            it.invoke()
            np.testing.assert_array_equal(it.get_tensor(y), np.full((2, 3), 2 * k, np.float32))
        assert len(built) == 1
    finally:
        tfl_gpu.unregister_op("ScaleByOption")


def test_register_op_rejects_bad_arguments():
    with pytest.raises(ValueError):
        tfl_gpu.register_op("", lambda node, x: x)
    with pytest.raises(ValueError):
        tfl_gpu.register_op("X", 3)


def test_side_effects_flag_comes_from_the_registration():
    """The partitioner learns which ops act outside their data edges from the kernel registry, not from a
    list of op names in the core: a user op is conservative by default and can declare itself pure."""
    from tfl_gpu.kernels.registry import Node, find
    content, _, _ = _model()
    it = tfl_gpu.Interpreter(model_content=content)
    op = it._model.subgraphs[0].operators[0]
    node = Node(op, it._model.subgraphs[0].tensors)
    try:
        tfl_gpu.register_op("ScaleByOption", lambda node, v: v)
        assert find(node).side_effects is True
    finally:
        tfl_gpu.unregister_op("ScaleByOption")
    try:
        tfl_gpu.register_op("ScaleByOption", lambda node, v: v, side_effects=False)
        assert find(node).side_effects is False
    finally:
        tfl_gpu.unregister_op("ScaleByOption")
    from tfl_gpu.kernels.registry import registered
    reg = registered()
    for name in ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "IF", "WHILE", "CALL_ONCE", "HASHTABLE",
                 "HASHTABLE_IMPORT", "HASHTABLE_FIND", "HASHTABLE_SIZE"):
        assert all(e.side_effects for e in reg[name]), name
    assert not any(e.side_effects for e in reg["ADD"])
