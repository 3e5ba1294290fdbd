"""The load-time validation pass: each malformed model is a ValueError (ModelError) naming the problem."""
import numpy as np
import pytest

import tfl_gpu
from tfl_gpu.writer import ModelBuilder


def _load(content):
    return tfl_gpu.Interpreter(model_content=content)


def _relu_model(**tensor_kw):
    mb = ModelBuilder()
    x = mb.input("x", [4], "INT8", **tensor_kw)
    y = mb.tensor("y", [4], "INT8", quant={"scale": [0.1], "zero_point": [0]})
    mb.op("RELU", [x], [y])
    mb.output(y)
    return mb.build()


@pytest.mark.parametrize("scale,match", [(float("nan"), "finite"), (float("inf"), "finite"), (-0.5, "non-negative"),
                                         (0.0, "scale 0")])
def test_bad_quantization_scales(scale, match):
    with pytest.raises(ValueError, match=match) as e:
        _load(_relu_model(quant={"scale": [scale], "zero_point": [0]}))
    assert "tensor 0 ('x')" in str(e.value)


def test_per_axis_quantization_must_match_the_quantized_dimension():
    mb = ModelBuilder()
    w = mb.const("w", np.ones((3, 2), np.int8), type_name="INT8",
                 quant={"scale": [0.1, 0.2], "zero_point": [0, 0], "quantized_dimension": 0})
    x = mb.input("x", [1, 2], "INT8", quant={"scale": [0.1], "zero_point": [0]})
    y = mb.tensor("y", [1, 3], "INT8", quant={"scale": [0.1], "zero_point": [0]})
    mb.op("FULLY_CONNECTED", [x, w, -1], [y])
    mb.output(y)
    with pytest.raises(ValueError, match=r"2 per-axis scales but dimension 0 has size 3"):
        _load(mb.build())


def test_reading_a_later_output_is_a_cycle():
    mb = ModelBuilder()
    x = mb.input("x", [2])
    a = mb.tensor("a", [2])
    b = mb.tensor("b", [2])
    mb.op("ADD", [x, b], [a])       # reads b, which the next operator writes
    mb.op("RELU", [a], [b])
    mb.output(b)
    with pytest.raises(ValueError, match=r"operator 0 \(ADD\): reads tensor 2 \('b'\) that operator 1 writes"):
        _load(mb.build())


def test_recursive_control_flow_is_rejected():
    mb = ModelBuilder()
    x = mb.input("x", [1])
    mb.op("CALL_ONCE", [], [], init_subgraph_index=1)
    y = mb.tensor("y", [1])
    mb.op("RELU", [x], [y])
    mb.output(y)
    mb.subgraph("init")
    mb.op("CALL_ONCE", [], [], init_subgraph_index=1)
    it = _load(mb.build())
    with pytest.raises(ValueError, match="recursive control flow between subgraphs: 0 -> 1 -> 1") as e:
        it.allocate_tensors()
    assert isinstance(e.value, RuntimeError)        # LiteRT's error type at allocate_tensors, too


def test_recursion_through_a_list_of_subgraphs_is_rejected():
    """STABLEHLO_CASE names its branches in a list; a branch calling back into the caller is recursion too."""
    mb = ModelBuilder()
    i = mb.input("index", [], "INT32")
    x = mb.input("x", [2])
    y = mb.tensor("y", [2])
    mb.op("STABLEHLO_CASE", [i, x], [y], branch_subgraph_indices=[1])
    mb.output(y)
    mb.subgraph("branch")
    bi, bx = mb.input("bi", [], "INT32"), mb.input("bx", [2])
    by = mb.tensor("by", [2])
    mb.op("STABLEHLO_CASE", [bi, bx], [by], branch_subgraph_indices=[0])
    mb.output(by)
    it = _load(mb.build())
    with pytest.raises(RuntimeError, match="recursive control flow between subgraphs: 0 -> 1 -> 0"):
        it.allocate_tensors()


def test_subgraph_index_out_of_range():
    mb = ModelBuilder()
    x = mb.input("x", [1])
    mb.op("CALL_ONCE", [], [], init_subgraph_index=7)
    y = mb.tensor("y", [1])
    mb.op("RELU", [x], [y])
    mb.output(y)
    it = _load(mb.build())
    with pytest.raises(RuntimeError, match="init_subgraph_index 7 out of range"):
        it.allocate_tensors()


def test_inconsistent_sparsity():
    mb = ModelBuilder()
    sp = mb.tensor("sp", [2, 4], "FLOAT32", data=np.array([1, 2, 3], np.float32), sparsity={
        "traversal_order": [0, 1],
        "dim_metadata": [{"format": "DENSE", "dense_size": 2},
                         {"format": "SPARSE_CSR", "array_segments": [0, 2, 9], "array_indices": [0, 3, 2]}]})
    y = mb.tensor("y", [2, 4])
    mb.op("DENSIFY", [sp], [y])
    mb.output(y)
    with pytest.raises(ValueError, match="inconsistent array_segments"):
        _load(mb.build())


def test_non_utf8_names_load():
    mb = ModelBuilder()
    x = mb.input("x", [2])
    y = mb.tensor("y", [2])
    mb.op("RELU", [x], [y])
    mb.output(y)
    content = mb.build().replace(b"\x00x\x00", b"\x00\xff\x00", 1)
    it = _load(content)
    assert isinstance(it.get_input_details()[0]["name"], str)


def test_buffer_too_small_for_shape():
    mb = ModelBuilder()
    c = mb.tensor("c", [10, 10], "FLOAT32", data=np.zeros(3, np.float32))
    x = mb.input("x", [10, 10])
    y = mb.tensor("y", [10, 10])
    mb.op("ADD", [x, c], [y])
    mb.output(y)
    with pytest.raises(ValueError, match=r"tensor 0 \('c'\): buffer holds 12 bytes but shape \[10, 10\]"):
        _load(mb.build())


def test_omitted_required_input():
    mb = ModelBuilder()
    x = mb.input("x", [2])
    y = mb.tensor("y", [2])
    mb.op("ADD", [x, -1], [y])
    mb.output(y)
    with pytest.raises(ValueError, match=r"operator 0 \(ADD\): input 1 is omitted \(-1\), but ADD requires it"):
        _load(mb.build())


def test_omitted_optional_bias_is_fine():
    mb = ModelBuilder()
    x = mb.input("x", [1, 3])
    y = mb.tensor("y", [1, 2])
    mb.op("FULLY_CONNECTED", [x, mb.const("w", np.ones((2, 3), np.float32)), -1], [y])
    mb.output(y)
    it = _load(mb.build())
    it.allocate_tensors()
    it.set_tensor(0, np.array([[1, 2, 3]], np.float32))
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(y), [[6, 6]])


def test_operator_without_outputs_is_a_clear_error():
    """Long fuzz run finding: a quantized CONV_2D with no outputs made a kernel predicate raise IndexError."""
    mb = ModelBuilder()
    q = {"scale": [0.1], "zero_point": [0]}
    x = mb.input("x", [1, 2, 2, 1], "INT8", quant=q)
    w = mb.const("w", np.ones((1, 1, 1, 1), np.int8), type_name="INT8", quant=q)
    mb.op("CONV_2D", [x, w, -1], [], padding="VALID", stride_w=1, stride_h=1)
    mb.output(x)
    it = _load(mb.build())
    with pytest.raises(RuntimeError):
        it.allocate_tensors()
