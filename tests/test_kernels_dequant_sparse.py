"""DEQUANTIZE and DENSIFY against LiteRT (and against the dense array the sparse constant encodes)."""
import numpy as np
import pytest

from oracle import assert_same_as_litert, litert_interpreter
from tfl_gpu import Interpreter
from tfl_gpu.kernels.registry import Node, find
from tfl_gpu.model import read_model
from tfl_gpu.writer import ModelBuilder


# ------------------------------------------------------------------------------------------ DEQUANTIZE

def _dq_model(x, type_name, quant, const):
    mb = ModelBuilder()
    if const:
        xi = mb.tensor("x", list(x.shape), type_name, data=x, quant=quant)
    else:
        xi = mb.input("x", list(x.shape), type_name, quant=quant)
    y = mb.tensor("y", list(x.shape), "FLOAT32")
    mb.op("DEQUANTIZE", [xi], [y])
    mb.output(y)
    return mb.build()


@pytest.mark.parametrize("const", [False, True])
def test_dequantize_float16(rng, const):
    x = (rng.standard_normal((3, 5, 7)) * 100).astype(np.float16)
    x.flat[:4] = [np.inf, -np.inf, 6.1e-5, -0.0]
    c = _dq_model(x, "FLOAT16", None, const)
    assert_same_as_litert(c, [] if const else [x], exact=True)


@pytest.mark.parametrize("const", [False, True])
@pytest.mark.parametrize("type_name,dtype,zp", [("INT8", np.int8, -7), ("UINT8", np.uint8, 131),
                                                ("INT16", np.int16, 0), ("INT8", np.int8, 0)])
def test_dequantize_per_tensor(rng, const, type_name, dtype, zp):
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (2, 9, 4)).astype(dtype)
    q = {"scale": [0.0371], "zero_point": [zp]}
    c = _dq_model(x, type_name, q, const)
    ours, _ = assert_same_as_litert(c, [] if const else [x], exact=True)
    # LiteRT's optimized loop rounds differently from the textbook formula: only close to it
    np.testing.assert_allclose(ours[0], (x.astype(np.float64) - zp) * 0.0371, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("axis", [0, 3])
@pytest.mark.parametrize("const", [False, True])
def test_dequantize_per_axis_int8(rng, axis, const):
    shape = (6, 3, 3, 5)
    x = rng.integers(-127, 128, shape).astype(np.int8)
    n = shape[axis]
    q = {"scale": list(rng.uniform(0.001, 0.2, n).astype(np.float32)), "zero_point": [0] * n,
         "quantized_dimension": axis}
    c = _dq_model(x, "INT8", q, const)
    assert_same_as_litert(c, [] if const else [x], exact=True)


def _kernel(content, op_index=0):
    m = read_model(content)
    sg = m.subgraphs[0]
    node = Node(sg.operators[op_index], sg.tensors)
    return find(node).factory(node)


def test_dequantize_constant_is_computed_once(rng):
    x = rng.standard_normal((4, 4)).astype(np.float16)
    k = _kernel(_dq_model(x, "FLOAT16", None, True))
    a, b = k(x), k(x)
    assert a is b and not a.flags.writeable
    np.testing.assert_array_equal(a, x.astype(np.float32))


def test_dequantize_runtime_input_not_cached(rng):
    x = rng.standard_normal((4, 4)).astype(np.float16)
    k = _kernel(_dq_model(x, "FLOAT16", None, False))
    x2 = x.copy()
    a = k(x2)
    x2 += 1          # same array object, new values: must not return a stale result
    np.testing.assert_array_equal(k(x2), x2.astype(np.float32))
    assert a is not None


def test_dequantize_graph_input_repeated_invokes(rng):
    x = rng.standard_normal((3, 3)).astype(np.float16)
    it = Interpreter(model_content=_dq_model(x, "FLOAT16", None, False))
    it.allocate_tensors()
    for k in range(3):
        v = (x + k).astype(np.float16)
        it.set_tensor(it.get_input_details()[0]["index"], v)
        it.invoke()
        np.testing.assert_array_equal(it.get_tensor(it.get_output_details()[0]["index"]), v.astype(np.float32))


# ------------------------------------------------------------------------------------------ DENSIFY

def encode_sparse(dense, traversal_order, formats, block_map=(), block_size=()):
    """Independent encoder following the format's definition: the dense tensor is split into blocks,
    traversed in ``traversal_order``; a SPARSE_CSR level keeps the children whose subtree holds a nonzero."""
    n = dense.ndim
    shape = list(dense.shape)
    split = []
    for d in range(n):
        if d in block_map:
            bs = block_size[list(block_map).index(d)]
            split += [shape[d] // bs, bs]
        else:
            split += [shape[d]]
    e = dense.reshape(split)
    outer_axes, inner_axes, ax = [], [], 0
    for d in range(n):
        outer_axes.append(ax)
        ax += 1
        if d in block_map:
            inner_axes.append(ax)
            ax += 1
    e = e.transpose(outer_axes + inner_axes)                # expanded dims: n outer + k inner
    t = e.transpose(list(traversal_order))
    total = t.ndim
    segs = [[0] for _ in range(total)]
    inds = [[] for _ in range(total)]
    values = []

    def rec(level, sub):
        if level == total:
            values.append(sub)
            return
        for i in range(sub.shape[0]):
            if formats[level] == "DENSE":
                rec(level + 1, sub[i])
            elif np.any(sub[i] != 0):
                inds[level].append(i)
                rec(level + 1, sub[i])
        if formats[level] != "DENSE":
            segs[level].append(len(inds[level]))

    rec(0, t)
    meta = []
    for level in range(total):
        if formats[level] == "DENSE":
            meta.append({"format": "DENSE", "dense_size": t.shape[level]})
        else:
            meta.append({"format": "SPARSE_CSR", "array_segments": segs[level], "array_indices": inds[level]})
    sp = {"traversal_order": list(traversal_order), "dim_metadata": meta}
    if block_map:
        sp["block_map"] = list(block_map)
    return np.asarray(values, dense.dtype).reshape(-1), sp


def _sparse_dense(rng, shape, dtype, density=0.3, block=None):
    x = rng.standard_normal(shape) * 3
    if block is None:
        x[rng.random(shape) > density] = 0
    else:                                  # zero whole blocks, as block sparsity would
        bshape = [s // b for s, b in zip(shape, block)]
        keep = rng.random(bshape) < density
        keep.flat[-1] = True
        for d, b in enumerate(block):
            keep = np.repeat(keep, b, axis=d)
        x[~keep] = 0
    return x.astype(dtype)


def _densify_model(dense, sp_values, sp, with_dequant=False):
    mb = ModelBuilder()
    type_name = {np.dtype(np.float32): "FLOAT32", np.dtype(np.float16): "FLOAT16",
                 np.dtype(np.int8): "INT8"}[dense.dtype]
    s = mb.tensor("sparse", list(dense.shape), type_name, data=sp_values, sparsity=sp)
    y = mb.tensor("dense", list(dense.shape), type_name)
    mb.op("DENSIFY", [s], [y])
    outs = [y]
    if with_dequant:
        z = mb.tensor("deq", list(dense.shape), "FLOAT32")
        mb.op("DEQUANTIZE", [y], [z])
        outs.append(z)
    mb.output(*outs)
    return mb.build()


DENSIFY_CASES = [
    # shape, traversal_order, formats, block_map, block_size
    ((5, 7), (0, 1), ("DENSE", "SPARSE_CSR"), (), ()),
    ((5, 7), (1, 0), ("DENSE", "SPARSE_CSR"), (), ()),
    ((6, 4), (0, 1), ("SPARSE_CSR", "SPARSE_CSR"), (), ()),
    ((6, 4), (0, 1), ("SPARSE_CSR", "DENSE"), (), ()),
    ((3, 4, 5), (2, 0, 1), ("DENSE", "SPARSE_CSR", "SPARSE_CSR"), (), ()),
    ((8, 1, 1, 12), (0, 1, 2, 3), ("DENSE", "DENSE", "DENSE", "SPARSE_CSR"), (), ()),  # like the mp models
    ((4, 8), (0, 1, 2), ("DENSE", "SPARSE_CSR", "DENSE"), (1,), (4,)),                   # 1x4 blocks
    ((6, 8), (0, 1, 2, 3), ("DENSE", "SPARSE_CSR", "DENSE", "DENSE"), (0, 1), (2, 2)),   # 2x2 blocks
    ((6, 8), (0, 1, 2, 3), ("DENSE", "SPARSE_CSR", "DENSE", "DENSE"), (0, 1), (3, 4)),
    ((2, 4, 6), (0, 1, 2, 3), ("DENSE", "DENSE", "SPARSE_CSR", "DENSE"), (2,), (3,)),
]


@pytest.mark.parametrize("case", DENSIFY_CASES, ids=[f"case{i}" for i in range(len(DENSIFY_CASES))])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8])
def test_densify(rng, case, dtype):
    shape, order, formats, bmap, bsize = case
    block = None
    if bmap:
        block = [1] * len(shape)
        for d, b in zip(bmap, bsize):
            block[d] = b
    dense = _sparse_dense(rng, shape, np.float32, block=block)
    dense = (dense * 20).astype(dtype) if dtype == np.int8 else dense.astype(dtype)
    vals, sp = encode_sparse(dense, order, formats, bmap, bsize)
    assert vals.size < dense.size or not any(f == "SPARSE_CSR" for f in formats)
    c = _densify_model(dense, vals, sp)
    ours, ref = assert_same_as_litert(c, [], exact=True)
    np.testing.assert_array_equal(ours[0], dense)


def test_densify_all_zero_constant(rng):
    """A sparse constant with no nonzero values stores an empty buffer."""
    dense = np.zeros((4, 6), np.float32)
    vals, sp = encode_sparse(dense, (0, 1), ("DENSE", "SPARSE_CSR"))
    assert vals.size == 0
    ours, _ = assert_same_as_litert(_densify_model(dense, vals, sp), [], exact=True)
    np.testing.assert_array_equal(ours[0], dense)


def test_densify_then_dequantize_float16_cached(rng):
    dense = _sparse_dense(rng, (16, 1, 1, 24), np.float16)
    vals, sp = encode_sparse(dense, (0, 1, 2, 3), ("DENSE", "DENSE", "DENSE", "SPARSE_CSR"))
    c = _densify_model(dense, vals, sp, with_dequant=True)
    ours, ref = assert_same_as_litert(c, [], exact=True)
    np.testing.assert_array_equal(ours[1], dense.astype(np.float32))
    # DENSIFY is decoded at kernel construction; DEQUANTIZE of its frozen output is computed once.
    kd, kq = _kernel(c, 0), _kernel(c, 1)
    d1 = kd(None)
    assert kd(None) is d1 and not d1.flags.writeable
    q1 = kq(d1)
    assert kq(d1) is q1
    it = Interpreter(model_content=c)
    it.allocate_tensors()
    for _ in range(2):
        it.invoke()
        np.testing.assert_array_equal(it.get_tensor(it.get_output_details()[1]["index"]), dense.astype(np.float32))


def test_densify_bad_sparsity_raises(rng):
    dense = _sparse_dense(rng, (4, 6), np.float32)
    vals, sp = encode_sparse(dense, (0, 1), ("DENSE", "SPARSE_CSR"))
    sp["dim_metadata"][1]["array_indices"] = [9] * len(sp["dim_metadata"][1]["array_indices"])  # out of range
    c = _densify_model(dense, vals, sp)
    with pytest.raises((ValueError, RuntimeError)):
        it = Interpreter(model_content=c)
        it.allocate_tensors()
        it.invoke()
    vals, sp = encode_sparse(dense, (0, 1), ("DENSE", "SPARSE_CSR"))
    c = _densify_model(dense, vals[:2], sp)       # fewer values than the metadata addresses
    with pytest.raises((ValueError, RuntimeError)):
        it = Interpreter(model_content=c)
        it.allocate_tensors()
        it.invoke()


# ------------------------------------------------------------------------------------------ shared models

@pytest.mark.parametrize("name", ["mp_pose_detection", "mp_face_detection_full_range_sparse"])
def test_shared_model_densify_and_dequantize_tensors(shared_models, name):
    """Every DENSIFY and DEQUANTIZE output of the sparse MediaPipe models equals LiteRT's bit for bit
    (LiteRT run with experimental_preserve_all_tensors; ours through the kernels on the same inputs)."""
    content = (shared_models / f"{name}.tflite").read_bytes()
    it = litert_interpreter(model_content=content, experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], np.random.default_rng(0).random(d["shape"]).astype(d["dtype"]))
    it.invoke()
    m = read_model(content)
    sg = m.subgraphs[0]
    checked = 0
    for op in sg.operators:
        if op.opcode not in ("DENSIFY", "DEQUANTIZE"):
            continue
        node = Node(op, sg.tensors)
        k = find(node).factory(node)
        src = sg.tensors[op.inputs[0]]
        x = src.data if src.data is not None else it.get_tensor(op.inputs[0])
        ours = k(x)
        ref = it.get_tensor(op.outputs[0])
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        np.testing.assert_array_equal(ours, ref, err_msg=f"{op.opcode} node {op.index}")
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("name", ["mp_pose_detection", "mp_face_detection_full_range_sparse"])
def test_shared_model_whole(shared_models, name):
    """Whole-model outputs and DENSIFY intermediates against LiteRT, both preserving all tensors."""
    content = (shared_models / f"{name}.tflite").read_bytes()
    try:
        ours_it = Interpreter(model_content=content, experimental_preserve_all_tensors=True)
        ours_it.allocate_tensors()
    except (RuntimeError, ValueError) as e:
        pytest.skip(f"model needs kernels that are not there yet: {e}")
    ref_it = litert_interpreter(model_content=content, experimental_preserve_all_tensors=True)
    ref_it.allocate_tensors()
    rng = np.random.default_rng(7)
    for d in ref_it.get_input_details():
        v = rng.random(d["shape"]).astype(d["dtype"])
        ref_it.set_tensor(d["index"], v)
        ours_it.set_tensor(d["index"], v)
    ref_it.invoke()
    ours_it.invoke()
    sg = read_model(content).subgraphs[0]
    for op in sg.operators:
        if op.opcode == "DENSIFY":
            np.testing.assert_array_equal(ours_it.get_tensor(op.outputs[0]), ref_it.get_tensor(op.outputs[0]))
    for d in ref_it.get_output_details():
        r = ref_it.get_tensor(d["index"])
        o = ours_it.get_tensor(d["index"])
        scale = max(1.0, float(np.max(np.abs(r))))
        assert o.shape == r.shape and o.dtype == r.dtype
        assert float(np.max(np.abs(o.astype(np.float64) - r))) <= 1e-4 * scale, d["name"]
