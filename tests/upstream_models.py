"""Re-creations of the testdata models that TensorFlow Lite's / LiteRT's own Python interpreter tests use
(``tensorflow/lite/python/testdata`` and models those tests convert with ``tf.lite.TFLiteConverter``),
built with :class:`tfl_gpu.writer.ModelBuilder` so no TensorFlow is needed.

Each builder documents which upstream file it stands for and what the upstream test relies on (tensor
order and names, shapes, quantization). Models are built once per process (``functools.cache``).
"""
from __future__ import annotations

import functools

import numpy as np

from tfl_gpu.writer import ModelBuilder

# The permutation used by permute_float/permute_uint8: output = input reversed ([1,2,3,4] -> [4,3,2,1]).
# FULLY_CONNECTED computes out[b, o] = sum_i in[b, i] * W[o, i], so W is the anti-diagonal identity.
_PERM = np.eye(4, dtype=np.float32)[::-1].copy()


@functools.cache
def permute_float() -> bytes:
    """testdata/permute_float.tflite: tensor 0 'input' f32[1,4], tensor 1 the weights, tensor 2 'output';
    one FULLY_CONNECTED with inputs [0, 1, -1] (no bias) and outputs [2]."""
    mb = ModelBuilder()
    x = mb.input("input", [1, 4], "FLOAT32")
    w = mb.const("weights", _PERM)
    y = mb.tensor("output", [1, 4], "FLOAT32")
    mb.op("FULLY_CONNECTED", [x, w, -1], [y], fused_activation_function="NONE")
    mb.output(y)
    return mb.build()


@functools.cache
def permute_uint8() -> bytes:
    """testdata/permute_uint8.tflite: the same graph in uint8 with scale 1.0 / zero point 0 on input and
    output (the weights are uint8 too, zero point 0, so the permutation is exact)."""
    q = {"scale": [1.0], "zero_point": [0]}
    mb = ModelBuilder()
    x = mb.input("input", [1, 4], "UINT8", quant=q)
    w = mb.const("weights", _PERM.astype(np.uint8), quant=q)
    y = mb.tensor("output", [1, 4], "UINT8", quant=q)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y], fused_activation_function="NONE")
    mb.output(y)
    return mb.build()


@functools.cache
def gather_string() -> bytes:
    """testdata/gather_string.tflite: inputs 'input' string[10] and 'indices' int64[3], GATHER (axis 0)
    -> 'output' string[3]."""
    mb = ModelBuilder()
    x = mb.input("input", [10], "STRING")
    i = mb.input("indices", [3], "INT64")
    y = mb.tensor("output", [3], "STRING")
    mb.op("GATHER", [x, i], [y], axis=0)
    mb.output(y)
    return mb.build()


@functools.cache
def gather_string_0d() -> bytes:
    """testdata/gather_string_0d.tflite: its first input is a 0-d string tensor (the upstream test only
    sets and reads that input back). Here: GATHER of a 0-d index from a 1-element string vector made by
    RESHAPE of the 0-d input."""
    mb = ModelBuilder()
    x = mb.input("input", [], "STRING")
    r = mb.tensor("reshaped", [1], "STRING")
    mb.op("RESHAPE", [x, mb.const("shape", np.array([1], np.int32))], [r], new_shape=[1])
    i = mb.const("index", np.array(0, np.int32))
    y = mb.tensor("output", [], "STRING")
    mb.op("GATHER", [r, i], [y], axis=0)
    mb.output(y)
    return mb.build()


@functools.cache
def pc_conv(channels: int = 128) -> bytes:
    """testdata/pc_conv.bin: an int8 CONV_2D whose weights (tensor index 1) are quantized per output
    channel (``channels`` scales, quantized_dimension 0); dense tensors only."""
    rng = np.random.default_rng(7)
    mb = ModelBuilder()
    x = mb.input("input", [1, 5, 5, 3], "INT8", quant={"scale": [0.05], "zero_point": [-3]})
    wscale = (0.01 + 0.02 * rng.random(channels)).astype(np.float32)
    w = mb.const("weights", rng.integers(-127, 128, (channels, 3, 3, 3)).astype(np.int8),
                 quant={"scale": wscale, "zero_point": [0] * channels, "quantized_dimension": 0})
    b = mb.const("bias", rng.integers(-500, 500, channels).astype(np.int32),
                 quant={"scale": wscale * np.float32(0.05), "zero_point": [0] * channels,
                        "quantized_dimension": 0})
    y = mb.tensor("output", [1, 5, 5, channels], "INT8", quant={"scale": [0.5], "zero_point": [1]})
    mb.op("CONV_2D", [x, w, b], [y], padding="SAME", stride_w=1, stride_h=1, fused_activation_function="NONE")
    mb.output(y)
    return mb.build()


SPARSE_VALUES = [1, 0, 0, 4, 2, 3, 0, 0, 5, 0, 0, 6]


@functools.cache
def sparse_tensor() -> bytes:
    """testdata/sparse_tensor.bin: tensor 0 is a constant 4x4 float matrix stored block-sparse (2x2
    blocks, traversal order [0, 1, 2, 3], block map [0, 1], dimension 1 in CSR with segments [0, 2, 3]
    and indices [0, 1, 1]; 12 stored values). A DENSIFY turns it into the graph output; an ADD with an
    input keeps the model runnable with inputs."""
    mb = ModelBuilder()
    sp = {"traversal_order": [0, 1, 2, 3], "block_map": [0, 1],
          "dim_metadata": [{"format": "DENSE", "dense_size": 2},
                           {"format": "SPARSE_CSR", "array_segments": [0, 2, 3], "array_indices": [0, 1, 1]},
                           {"format": "DENSE", "dense_size": 2},
                           {"format": "DENSE", "dense_size": 2}]}
    s = mb.tensor("sparse", [4, 4], "FLOAT32", data=np.array(SPARSE_VALUES, np.float32), sparsity=sp)
    d = mb.tensor("dense", [4, 4], "FLOAT32")
    mb.op("DENSIFY", [s], [d])
    x = mb.input("x", [4, 4], "FLOAT32")
    y = mb.tensor("y", [4, 4], "FLOAT32")
    mb.op("ADD", [d, x], [y], fused_activation_function="NONE")
    mb.output(y)
    return mb.build()


def sparse_dense_reference() -> np.ndarray:
    """The dense 4x4 matrix that ``sparse_tensor()`` encodes (decoded by hand from the format)."""
    dense = np.zeros((4, 4), np.float32)
    blocks = np.array(SPARSE_VALUES, np.float32).reshape(3, 2, 2)
    # block row 0 holds block columns 0 and 1; block row 1 holds block column 1.
    for k, (br, bc) in enumerate([(0, 0), (0, 1), (1, 1)]):
        dense[2 * br:2 * br + 2, 2 * bc:2 * bc + 2] = blocks[k]
    return dense


@functools.cache
def two_signatures() -> bytes:
    """testdata/two_signatures.tflite: subgraph 0 'add' (tensors 'add_x:0', 'add_y:0', output) and
    subgraph 1 'multiply' (tensors 'multiply_x:0', 'multiply_y:0', output), one signature each."""
    mb = ModelBuilder()
    for k, (key, op) in enumerate([("add", "ADD"), ("multiply", "MUL")]):
        if k:
            mb.subgraph(key)
        x = mb.input(f"{key}_x:0", [1], "FLOAT32")
        y = mb.input(f"{key}_y:0", [1], "FLOAT32")
        o = mb.tensor(f"StatefulPartitionedCall_{key}:0", [1], "FLOAT32")
        mb.op(op, [x, y], [o], fused_activation_function="NONE")
        mb.output(o)
        mb.signature(key, {"x": x, "y": y}, {"output_0": o}, subgraph=k)
    return mb.build()


@functools.cache
def dynamic_sum() -> bytes:
    """InterpreterTestErrorPropagation.testEmptyInputTensor: a converted tf.function
    ``Sum(x, axis=[0])`` with x: f32[None]; one signature 'serving_default' (x -> output_0)."""
    mb = ModelBuilder()
    x = mb.input("serving_default_x:0", [1], "FLOAT32", shape_signature=[-1])
    axis = mb.const("axis", np.array([0], np.int32))
    o = mb.tensor("PartitionedCall:0", [], "FLOAT32")
    mb.op("SUM", [x, axis], [o], keep_dims=False)
    mb.output(o)
    mb.signature("serving_default", {"x": x}, {"output_0": o})
    return mb.build()


@functools.cache
def add_model(shape=(1, 16, 16, 3), signature=None, name="Placeholder") -> bytes:
    """lite_test's ``in_tensor + in_tensor`` models: input 'Placeholder' of ``shape`` (a -1 marks an
    unknown dimension: stored as 1, shape_signature keeps -1), output 'add'."""
    stored = [1 if d == -1 else int(d) for d in shape]
    sig = list(shape) if -1 in shape else None
    mb = ModelBuilder()
    x = mb.input(name, stored, "FLOAT32", shape_signature=sig)
    o = mb.tensor("add", stored, "FLOAT32", shape_signature=sig)
    mb.op("ADD", [x, x], [o], fused_activation_function="NONE")
    mb.output(o)
    return mb.build()


@functools.cache
def batch_matmul_model() -> bytes:
    """lite_test.testBatchSizeNonZero: inputs 'input1' f32[None,4] and 'input2' f32[4,10], MatMul."""
    mb = ModelBuilder()
    a = mb.input("input1", [1, 4], "FLOAT32", shape_signature=[-1, 4])
    b = mb.input("input2", [4, 10], "FLOAT32")
    o = mb.tensor("MatMul", [1, 10], "FLOAT32", shape_signature=[-1, 10])
    mb.op("BATCH_MATMUL", [a, b], [o], adj_x=False, adj_y=False)
    mb.output(o)
    return mb.build()


@functools.cache
def string_reshape() -> bytes:
    """lite_test.testString: a string[4] placeholder reshaped to [2, 2] (output named 'Reshape')."""
    mb = ModelBuilder()
    x = mb.input("Placeholder", [4], "STRING")
    o = mb.tensor("Reshape", [2, 2], "STRING")
    mb.op("RESHAPE", [x, mb.const("shape", np.array([2, 2], np.int32))], [o], new_shape=[2, 2])
    mb.output(o)
    return mb.build()


@functools.cache
def multi_function(dynamic: bool = False) -> bytes:
    """lite_v2_test_util._getMultiFunctionModel converted with all its functions as signatures, one
    subgraph each: 'add' (x + 2), 'sub' (x - 3), 'mul_add' (x * 3 + y); outputs 'output_0'. With
    ``dynamic`` the inputs are f32[None] (shape_signature [-1])."""
    sig = [-1] if dynamic else None
    mb = ModelBuilder()
    specs = [("add", "ADD", 2.0), ("sub", "SUB", 3.0), ("mul_add", None, 3.0)]
    for k, (key, op, c) in enumerate(specs):
        if k:
            mb.subgraph(key)
        x = mb.input(f"{key}_x:0", [1], "FLOAT32", shape_signature=sig)
        o = mb.tensor(f"{key}_out:0", [1], "FLOAT32", shape_signature=sig)
        const = mb.const(f"{key}_c", np.array([c], np.float32))
        if op is not None:
            mb.op(op, [x, const], [o], fused_activation_function="NONE")
            mb.signature(key, {"x": x}, {"output_0": o}, subgraph=k)
        else:
            y = mb.input(f"{key}_y:0", [1], "FLOAT32", shape_signature=sig)
            t = mb.tensor(f"{key}_t:0", [1], "FLOAT32", shape_signature=sig)
            mb.op("MUL", [x, const], [t], fused_activation_function="NONE")
            mb.op("ADD", [t, y], [o], fused_activation_function="NONE")
            mb.signature(key, {"x": x, "y": y}, {"output_0": o}, subgraph=k)
        mb.output(o)
    return mb.build()


@functools.cache
def assign_add_model() -> bytes:
    """lite_v2_test_util._getSimpleModelWithVariables converted: var = zeros((1, 10)) (a resource variable
    initialised by CALL_ONCE); assign_add(x): var += x; return var. Signature 'serving_default'."""
    mb = ModelBuilder()
    x = mb.input("serving_default_x:0", [1, 10], "FLOAT32")
    h = mb.tensor("var_handle", [], "RESOURCE")
    mb.op("CALL_ONCE", [], [], init_subgraph_index=1)
    mb.op("VAR_HANDLE", [], [h], container="", shared_name="var")
    r = mb.tensor("ReadVariableOp", [1, 10], "FLOAT32")
    mb.op("READ_VARIABLE", [h], [r])
    s = mb.tensor("AssignAddVariableOp", [1, 10], "FLOAT32")
    mb.op("ADD", [r, x], [s], fused_activation_function="NONE")
    mb.op("ASSIGN_VARIABLE", [h, s], [])
    o = mb.tensor("StatefulPartitionedCall:0", [1, 10], "FLOAT32")
    mb.op("READ_VARIABLE", [h], [o])
    mb.output(o)
    mb.signature("serving_default", {"x": x}, {"output_0": o})
    mb.subgraph("init")
    hi = mb.tensor("hi", [], "RESOURCE")
    mb.op("VAR_HANDLE", [], [hi], container="", shared_name="var")
    mb.op("ASSIGN_VARIABLE", [hi, mb.const("zeros", np.zeros((1, 10), np.float32))], [])
    return mb.build()


@functools.cache
def resource_variable_model() -> bytes:
    """A converted tf.Variable model (lite_v2_test's variable tests): CALL_ONCE initialises resource
    variable 'v' to [1, 2]; each invoke assigns v = v + x and outputs the new value."""
    mb = ModelBuilder()
    x = mb.input("x", [2], "FLOAT32")
    h = mb.tensor("h", [], "RESOURCE")
    mb.op("CALL_ONCE", [], [], init_subgraph_index=1)
    mb.op("VAR_HANDLE", [], [h], container="", shared_name="v")
    r, s = mb.tensor("r", [2], "FLOAT32"), mb.tensor("s", [2], "FLOAT32")
    mb.op("READ_VARIABLE", [h], [r])
    mb.op("ADD", [r, x], [s], fused_activation_function="NONE")
    mb.op("ASSIGN_VARIABLE", [h, s], [])
    mb.output(s)
    mb.signature("serving_default", {"x": x}, {"output_0": s})
    mb.subgraph("init")
    hi = mb.tensor("hi", [], "RESOURCE")
    mb.op("VAR_HANDLE", [], [hi], container="", shared_name="v")
    mb.op("ASSIGN_VARIABLE", [hi, mb.const("init", np.array([1, 2], np.float32))], [])
    return mb.build()


@functools.cache
def variable_tensor_model() -> bytes:
    """A model with a variable tensor (is_variable, the state tensors of LSTM/SVDF): y = x + v; v starts
    at its buffer value [0.5, -1] (the writer stores it) and ``reset_all_variables`` zeroes it."""
    mb = ModelBuilder()
    x = mb.input("x", [2], "FLOAT32")
    v = mb.tensor("v", [2], "FLOAT32", is_variable=True)
    y = mb.tensor("y", [2], "FLOAT32")
    mb.op("ADD", [x, v], [y], fused_activation_function="NONE")
    mb.output(y)
    return mb.build()


@functools.cache
def chain_model() -> bytes:
    """x -> ADD(x, x)=t1 -> MUL(t1, t1)=t2 -> SUB(t2, x)=t3 -> RELU=out: intermediates t1, t2, t3 for the
    experimental_preserve_all_tensors tests (their buffers may be reused without the flag)."""
    mb = ModelBuilder()
    x = mb.input("x", [2, 3], "FLOAT32")
    t1, t2, t3 = (mb.tensor(n, [2, 3], "FLOAT32") for n in ("t1", "t2", "t3"))
    o = mb.tensor("out", [2, 3], "FLOAT32")
    mb.op("ADD", [x, x], [t1], fused_activation_function="NONE")
    mb.op("MUL", [t1, t1], [t2], fused_activation_function="NONE")
    mb.op("SUB", [t2, x], [t3], fused_activation_function="NONE")
    mb.op("RELU", [t3], [o])
    mb.output(o)
    return mb.build()


@functools.cache
def add_sub_signatures() -> bytes:
    """lite_v2_test.testConvertMultipleFunctions: _getMultiFunctionModel's add (x + 2) and sub (x - 3)
    converted together: one subgraph per signature, inputs 'add_x:0' / 'sub_x:0', outputs
    'StatefulPartitionedCall:0' / 'StatefulPartitionedCall_1:0', signature names x -> output_0."""
    mb = ModelBuilder()
    for k, (key, op, c) in enumerate([("add", "ADD", 2.0), ("sub", "SUB", 3.0)]):
        if k:
            mb.subgraph(key)
        x = mb.input(f"{key}_x:0", [1], "FLOAT32")
        o = mb.tensor("StatefulPartitionedCall:0" if k == 0 else "StatefulPartitionedCall_1:0", [1], "FLOAT32")
        mb.op(op, [x, mb.const(f"{key}_c", np.array([c], np.float32))], [o], fused_activation_function="NONE")
        mb.output(o)
        mb.signature(key, {"x": x}, {"output_0": o}, subgraph=k)
    return mb.build()


@functools.cache
def string_identity(n: int = 11) -> bytes:
    """lite_v2_test.testStringInput: a tf.function returning its string[11] input (here a RESHAPE to the
    same shape), one signature 'serving_default' x -> output_0."""
    mb = ModelBuilder()
    x = mb.input("serving_default_x:0", [n], "STRING")
    o = mb.tensor("Identity", [n], "STRING")
    mb.op("RESHAPE", [x, mb.const("shape", np.array([n], np.int32))], [o], new_shape=[n])
    mb.output(o)
    mb.signature("serving_default", {"x": x}, {"output_0": o})
    return mb.build()


@functools.cache
def input_shape_model(shape) -> bytes:
    """lite_v2_test._createModelWithInputShape: ``input + input`` with input 'input' of ``shape``; None
    means an unknown rank (has_rank False, empty shape), as the converter writes it."""
    mb = ModelBuilder()
    if shape is None:
        x = mb.input("input", [], "FLOAT32", has_rank=False)
        o = mb.tensor("output", [], "FLOAT32", has_rank=False)
    else:
        x = mb.input("input", list(shape), "FLOAT32")
        o = mb.tensor("output", list(shape), "FLOAT32")
    mb.op("ADD", [x, x], [o], fused_activation_function="NONE")
    mb.output(o)
    mb.signature("serving_default", {"input": x}, {"output": o})
    return mb.build()


@functools.cache
def unknown_shape_matmul() -> bytes:
    """lite_v2_test.UnknownShapes.testMatMul: x: f32[None, 4]; fill = transpose(fill(shape(x), 1.0));
    out = matmul(fill, x) (shapes known only at invoke)."""
    mb = ModelBuilder()
    x = mb.input("in_tensor", [1, 4], "FLOAT32", shape_signature=[-1, 4])
    s = mb.tensor("Shape", [2], "INT32")
    mb.op("SHAPE", [x], [s], out_type=2)   # TensorType INT32
    f = mb.tensor("Fill", [1, 4], "FLOAT32", shape_signature=[-1, 4])
    mb.op("FILL", [s, mb.const("one", np.array(1.0, np.float32))], [f])
    t = mb.tensor("transpose", [4, 1], "FLOAT32", shape_signature=[4, -1])
    mb.op("TRANSPOSE", [f, mb.const("perm", np.array([1, 0], np.int32))], [t])
    o = mb.tensor("MatMul", [4, 4], "FLOAT32")
    mb.op("BATCH_MATMUL", [t, x], [o], adj_x=False, adj_y=False)
    mb.output(o)
    return mb.build()


@functools.cache
def int8_batch_matmul_int32() -> bytes:
    """lite_v2_test.UnknownShapes.testBatchMatMulInputInt8Int8OutputInt32: int8[None,20,30] x
    int8[None,30,10] -> int32 (tf.matmul output_type=tf.int32, no quantization parameters)."""
    mb = ModelBuilder()
    a = mb.input("in_tensor_1", [1, 20, 30], "INT8", shape_signature=[-1, 20, 30])
    b = mb.input("in_tensor_2", [1, 30, 10], "INT8", shape_signature=[-1, 30, 10])
    o = mb.tensor("MatMul", [1, 20, 10], "INT32", shape_signature=[-1, 20, 10])
    mb.op("BATCH_MATMUL", [a, b], [o], adj_x=False, adj_y=False)
    mb.output(o)
    return mb.build()


@functools.cache
def no_input_model() -> bytes:
    """lite_v2_test.testModelWithoutInputs: a model with no inputs (upstream: tf.random.uniform; here a
    deterministic FILL of a constant shape so that the value can be checked)."""
    mb = ModelBuilder()
    o = mb.tensor("output", [1], "FLOAT32")
    mb.op("FILL", [mb.const("dims", np.array([1], np.int32)), mb.const("v", np.array(0.25, np.float32))], [o])
    mb.output(o)
    mb.signature("serving_default", {}, {"output_0": o})
    return mb.build()


@functools.cache
def quantized_add() -> bytes:
    """lite_test.testQuantization-style: uint8 inputs 'inputA' (scale 1/128, zero point 128) and
    'inputB' (scale 0.1, zero point 3), ADD -> 'output' uint8 (scale 0.2, zero point 50)."""
    mb = ModelBuilder()
    a = mb.input("inputA", [1, 4], "UINT8", quant={"scale": [1 / 128], "zero_point": [128]})
    b = mb.input("inputB", [1, 4], "UINT8", quant={"scale": [0.1], "zero_point": [3]})
    o = mb.tensor("output", [1, 4], "UINT8", quant={"scale": [0.2], "zero_point": [50]})
    mb.op("ADD", [a, b], [o], fused_activation_function="NONE")
    mb.output(o)
    return mb.build()


@functools.cache
def int64_model() -> bytes:
    """int64 arithmetic: 'a' int64[3] + 'b' int64[3] -> 'sum'; also 'sum' * const -> 'prod'."""
    mb = ModelBuilder()
    a = mb.input("a", [3], "INT64")
    b = mb.input("b", [3], "INT64")
    s = mb.tensor("sum", [3], "INT64")
    mb.op("ADD", [a, b], [s], fused_activation_function="NONE")
    p = mb.tensor("prod", [3], "INT64")
    mb.op("MUL", [s, mb.const("k", np.array([3, -2, 1 << 33], np.int64))], [p], fused_activation_function="NONE")
    mb.output(s, p)
    return mb.build()


@functools.cache
def freeze_graph_topk() -> bytes:
    """lite_test.testFreezeGraph: top_k(in + weights)[1] with in f32[1,16,16,3]; only the second output
    of TOPK_V2 ('top_k:1', int32 [1,16,16,1]) is a graph output."""
    rng = np.random.default_rng(4)
    mb = ModelBuilder()
    x = mb.input("Placeholder", [1, 16, 16, 3], "FLOAT32")
    w = mb.const("weights", rng.standard_normal((1, 16, 16, 3)).astype(np.float32))
    a = mb.tensor("add", [1, 16, 16, 3], "FLOAT32")
    mb.op("ADD", [x, w], [a], fused_activation_function="NONE")
    v = mb.tensor("top_k", [1, 16, 16, 1], "FLOAT32")
    i = mb.tensor("top_k:1", [1, 16, 16, 1], "INT32")
    mb.op("TOPK_V2", [a, mb.const("k", np.array(1, np.int32))], [v, i])
    mb.output(i)
    return mb.build()


@functools.cache
def intermediate_input_array() -> bytes:
    """lite_test.testIntermediateInputArray: converting from the intermediate 'add' (= in + in) makes
    'add' the input and 'add_1' = add + add the output."""
    mb = ModelBuilder()
    x = mb.input("add", [1, 16, 16, 3], "FLOAT32")
    o = mb.tensor("add_1", [1, 16, 16, 3], "FLOAT32")
    mb.op("ADD", [x, x], [o], fused_activation_function="NONE")
    mb.output(o)
    return mb.build()


@functools.cache
def simple_variable_model(shape=(1,)) -> bytes:
    """lite_v2_test_util._getSimpleVariableModel converted (variables frozen): f(x) = v1 * v2 * x with
    v1 = 3, v2 = 2, i.e. MUL(x, 6)."""
    mb = ModelBuilder()
    x = mb.input("x", list(shape), "FLOAT32")
    o = mb.tensor("Identity", list(shape), "FLOAT32")
    mb.op("MUL", [x, mb.const("mul/y", np.array(6.0, np.float32))], [o], fused_activation_function="NONE")
    mb.output(o)
    return mb.build()


@functools.cache
def inf_constant_model() -> bytes:
    """lite_v2_test_util._getInfFloatModel converted: f(x) = inf, a graph with no operators whose output
    is a constant tensor (the input is unused)."""
    mb = ModelBuilder()
    mb.input("x", [1], "FLOAT32")
    o = mb.const("Const", np.array(np.inf, np.float32))
    mb.output(o)
    return mb.build()


@functools.cache
def int4_dequantize() -> bytes:
    """An INT4 input (scale 0.5) dequantized to float32: set_tensor takes INT4 values as an int8 array
    (LiteRT's numpy bridge packs them two per byte)."""
    mb = ModelBuilder()
    x = mb.input("x", [5], "INT4", quant={"scale": [0.5], "zero_point": [0]})
    y = mb.tensor("y", [5], "FLOAT32")
    mb.op("DEQUANTIZE", [x], [y])
    mb.output(y)
    return mb.build()


# ------------------------------------------------------------------ a custom-op registerer (tfl_gpu flavour)
# Upstream's TF_TestRegisterer (testdata/test_registerer.cc) counts its calls. tfl_gpu's registerers are
# Python callables (or their dotted names) that receive tfl_gpu.register_op.
TEST_REGISTERER_CALLS = [0]


def TF_TestRegisterer(register_op):  # noqa: N802 - upstream's name
    TEST_REGISTERER_CALLS[0] += 1


def get_num_test_registerer_calls() -> int:
    return TEST_REGISTERER_CALLS[0]
