"""RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR, DEPTH_TO_SPACE, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND,
SPACE_TO_BATCH_ND against LiteRT."""
import numpy as np
import pytest

from oracle import assert_same_as_litert, litert_interpreter, run_ours
from tfl_gpu.writer import ModelBuilder, single_op_model

SIZES = [((5, 7), (10, 14)), ((4, 4), (8, 8)), ((6, 9), (3, 4)), ((3, 5), (7, 11)), ((1, 1), (3, 2)),
         ((7, 3), (1, 1)), ((8, 8), (8, 8)), ((13, 17), (29, 5)), ((2, 3), (9, 1))]
MODES = [(False, False), (True, False), (False, True)]


@pytest.mark.parametrize("align,half", MODES)
@pytest.mark.parametrize("const_size", [True, False])
@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_resize_bilinear(rng, align, half, const_size, resolver):
    """Bit-exact: the same float32 operations as LiteRT's optimized kernel (corner weights, exact-2x
    kernel) and reference kernel."""
    for k, ((ih, iw), (oh, ow)) in enumerate(SIZES + [((6, 5), (12, 10)), ((1, 9), (2, 18))]):
        x = rng.standard_normal((2, ih, iw, (3, 8, 1, 5)[k % 4])).astype(np.float32)
        size = np.array([oh, ow], np.int32)
        c = single_op_model("RESIZE_BILINEAR", [x, size], const_inputs=(1,) if const_size else (),
                            align_corners=align, half_pixel_centers=half)
        assert_same_as_litert(c, [x] if const_size else [x, size], resolver=resolver, exact=True)


@pytest.mark.parametrize("align,half", MODES + [(True, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint8, np.int8, np.int16])
def test_resize_nearest(rng, align, half, dtype):
    tn = {np.float32: "FLOAT32", np.int32: "INT32", np.uint8: "UINT8", np.int8: "INT8", np.int16: "INT16"}[dtype]
    for (ih, iw), (oh, ow) in SIZES + [((10, 10), (3, 7)), ((3, 7), (10, 10)), ((100, 60), (33, 59))]:
        x = (rng.standard_normal((1, ih, iw, 2)) * 30).astype(dtype)
        c = single_op_model("RESIZE_NEAREST_NEIGHBOR", [x, np.array([oh, ow], np.int32)], output_types=(tn,),
                            const_inputs=(1,), align_corners=align, half_pixel_centers=half)
        assert_same_as_litert(c, [x], exact=True)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_resize_nearest_exhaustive_index_rule(rng, resolver):
    """Every (in, out) pair up to 24 in one dimension, all option combos: catches float32 rounding
    differences in the index computation."""
    for align, half in MODES + [(True, True)]:
        mb = ModelBuilder()
        outs = []
        ins = []
        for n_in in range(1, 25, 1):
            x = mb.input(f"x{n_in}", [1, n_in, 1, 1], "INT32")
            ins.append(x)
            for n_out in range(1, 25):
                s = mb.const(f"s{n_in}_{n_out}", np.array([n_out, 1], np.int32))
                y = mb.tensor(f"y{n_in}_{n_out}", [], "INT32")
                mb.op("RESIZE_NEAREST_NEIGHBOR", [x, s], [y], align_corners=align, half_pixel_centers=half)
                outs.append(y)
        mb.output(*outs)
        feeds = [np.arange(n, dtype=np.int32).reshape(1, n, 1, 1) for n in range(1, 25)]
        assert_same_as_litert(mb.build(), feeds, resolver=resolver, exact=True)


def test_resize_bilinear_bad_options(rng):
    x = rng.standard_normal((1, 4, 4, 1)).astype(np.float32)
    c = single_op_model("RESIZE_BILINEAR", [x, np.array([8, 8], np.int32)], const_inputs=(1,),
                        align_corners=True, half_pixel_centers=True)
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(c, [x])


def test_resize_bad_rank(rng):
    x = rng.standard_normal((4, 4, 1)).astype(np.float32)
    c = single_op_model("RESIZE_NEAREST_NEIGHBOR", [x, np.array([8, 8], np.int32)], const_inputs=(1,))
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(c, [x])


# ------------------------------------------------------------------------------------ depth/space

@pytest.mark.parametrize("bs", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int32])
def test_depth_to_space(rng, bs, dtype):
    tn = {np.float32: "FLOAT32", np.int8: "INT8", np.int32: "INT32"}[dtype]
    for shape in [(1, 3, 5, bs * bs * 2), (2, 1, 2, bs * bs), (1, 4, 4, bs * bs * 3)]:
        x = (rng.standard_normal(shape) * 20).astype(dtype)
        c = single_op_model("DEPTH_TO_SPACE", [x], output_types=(tn,), block_size=bs)
        assert_same_as_litert(c, [x], exact=True)


@pytest.mark.parametrize("bs", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.int64])
def test_space_to_depth(rng, bs, dtype):
    tn = {np.float32: "FLOAT32", np.uint8: "UINT8", np.int64: "INT64"}[dtype]
    for shape in [(1, 3 * bs, 2 * bs, 2), (2, bs, bs, 3), (1, 2 * bs, 4 * bs, 1)]:
        x = (rng.standard_normal(shape) * 20).astype(dtype)
        c = single_op_model("SPACE_TO_DEPTH", [x], output_types=(tn,), block_size=bs)
        assert_same_as_litert(c, [x], exact=True)


S2B_CASES = [
    ((1, 4, 4, 3), [2, 2], [[0, 0], [0, 0]]),
    ((2, 5, 3, 2), [2, 3], [[1, 0], [0, 3]]),
    ((1, 6, 7, 1), [3, 2], [[0, 3], [2, 3]]),
    ((3, 4, 4, 2), [1, 4], [[0, 0], [2, 2]]),
    ((2, 6, 2), [3], [[1, 2]]),
]


@pytest.mark.parametrize("shape,block,pads", S2B_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_space_to_batch_nd(rng, shape, block, pads, dtype):
    x = (rng.standard_normal(shape) * 9).astype(dtype)
    c = single_op_model("SPACE_TO_BATCH_ND", [x, np.array(block, np.int32), np.array(pads, np.int32)],
                        output_types=("FLOAT32" if dtype == np.float32 else "INT32",), const_inputs=(1, 2))
    assert_same_as_litert(c, [x], exact=True)


def test_space_to_batch_nd_quantized_pads_with_zero_point(rng):
    x = rng.integers(-128, 127, (1, 3, 3, 2)).astype(np.int8)
    mb = ModelBuilder()
    q = {"scale": [0.5], "zero_point": [7]}
    xi = mb.input("x", list(x.shape), "INT8", quant=q)
    y = mb.tensor("y", [], "INT8", quant=q)
    mb.op("SPACE_TO_BATCH_ND", [xi, mb.const("b", np.array([2, 2], np.int32)),
                                mb.const("p", np.array([[1, 0], [0, 1]], np.int32))], [y])
    mb.output(y)
    assert_same_as_litert(mb.build(), [x], exact=True)


B2S_CASES = [
    ((4, 2, 2, 3), [2, 2], [[0, 0], [0, 0]]),
    ((12, 2, 3, 1), [2, 3], [[1, 0], [0, 2]]),
    ((6, 3, 4, 2), [3, 2], [[2, 1], [1, 1]]),
    ((6, 4, 2), [3], [[1, 2]]),
    ((8, 1, 2, 2), [1, 4], [[0, 0], [3, 2]]),
]


@pytest.mark.parametrize("shape,block,crops", B2S_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.int8])
def test_batch_to_space_nd(rng, shape, block, crops, dtype):
    x = (rng.standard_normal(shape) * 9).astype(dtype)
    c = single_op_model("BATCH_TO_SPACE_ND", [x, np.array(block, np.int32), np.array(crops, np.int32)],
                        output_types=("FLOAT32" if dtype == np.float32 else "INT8",), const_inputs=(1, 2))
    assert_same_as_litert(c, [x], exact=True)


def test_space_batch_dynamic_inputs(rng):
    x = rng.standard_normal((2, 4, 6, 3)).astype(np.float32)
    block = np.array([2, 3], np.int32)
    pads = np.array([[0, 2], [3, 0]], np.int32)
    c = single_op_model("SPACE_TO_BATCH_ND", [x, block, pads])
    assert_same_as_litert(c, [x, block, pads], exact=True)
    y = rng.standard_normal((12, 3, 2, 2)).astype(np.float32)
    c = single_op_model("BATCH_TO_SPACE_ND", [y, block, pads])
    assert_same_as_litert(c, [y, block, pads], exact=True)


def test_space_to_batch_block_rank_mismatch(rng):
    x = rng.standard_normal((1, 4, 4, 2)).astype(np.float32)
    c = single_op_model("SPACE_TO_BATCH_ND", [x, np.array([2], np.int32), np.array([[0, 0]], np.int32)],
                        const_inputs=(1, 2))
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(c, [x])


def test_depth_to_space_bad_depth(rng):
    x = rng.standard_normal((1, 2, 2, 3)).astype(np.float32)
    c = single_op_model("DEPTH_TO_SPACE", [x], output_shapes=[[1, 4, 4, 1]], block_size=2)
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(c, [x])


def test_resize_after_resize_tensor_input(rng):
    """Index tables are cached per shape: a new input shape gives a fresh, correct plan."""
    import tfl_gpu
    mb = ModelBuilder()
    xi = mb.input("x", [1, 4, 6, 2], "FLOAT32")
    s = mb.const("s", np.array([9, 5], np.int32))
    y1 = mb.tensor("y1", [], "FLOAT32")
    y2 = mb.tensor("y2", [], "FLOAT32")
    mb.op("RESIZE_BILINEAR", [xi, s], [y1], half_pixel_centers=True)
    mb.op("RESIZE_NEAREST_NEIGHBOR", [xi, s], [y2], align_corners=True)
    mb.output(y1, y2)
    c = mb.build()
    ours = tfl_gpu.Interpreter(model_content=c)
    ref = litert_interpreter(model_content=c)
    for shape in [(1, 4, 6, 2), (2, 7, 3, 3), (1, 4, 6, 2)]:
        x = rng.standard_normal(shape).astype(np.float32)
        for it in (ours, ref):
            it.resize_tensor_input(0, list(shape))
            it.allocate_tensors()
            it.set_tensor(0, x)
            it.invoke()
        for d in ref.get_output_details():
            r = ref.get_tensor(d["index"])
            o = ours.get_tensor(d["index"])
            assert o.shape == r.shape
            np.testing.assert_array_equal(o, r)


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
@pytest.mark.parametrize("type_name,dtype", [("INT8", np.int8), ("UINT8", np.uint8), ("INT16", np.int16)])
@pytest.mark.parametrize("align,half", MODES)
def test_resize_bilinear_integer(rng, resolver, type_name, dtype, align, half):
    """Integer inputs, bit-exact: int8/int16 run TFLite's 10-bit fixed-point kernel, uint8 a float32
    formula that differs between the optimized and the reference kernels."""
    info = np.iinfo(dtype)
    sizes = SIZES + [((9, 7), (18, 14)), ((17, 3), (5, 19)), ((11, 13), (12, 14))]
    for k, ((ih, iw), (oh, ow)) in enumerate(sizes):
        ch = (1, 3, 8, 5)[k % 4]
        x = rng.integers(info.min, info.max + 1, (2, ih, iw, ch)).astype(dtype)
        c = single_op_model("RESIZE_BILINEAR", [x, np.array([oh, ow], np.int32)], output_types=(type_name,),
                            const_inputs=(1,), align_corners=align, half_pixel_centers=half)
        assert_same_as_litert(c, [x], resolver=resolver, exact=True)


def test_resize_bilinear_quantized_int8_ignores_parameters(rng):
    x = rng.integers(-128, 128, (1, 5, 6, 4)).astype(np.int8)
    mb = ModelBuilder()
    xi = mb.input("x", list(x.shape), "INT8", quant={"scale": [0.05], "zero_point": [-3]})
    y = mb.tensor("y", [], "INT8", quant={"scale": [0.05], "zero_point": [-3]})
    mb.op("RESIZE_BILINEAR", [xi, mb.const("s", np.array([11, 9], np.int32))], [y], half_pixel_centers=True)
    mb.output(y)
    assert_same_as_litert(mb.build(), [x], exact=True)


def test_resize_absurd_size_is_refused(rng):
    x = rng.standard_normal((1, 2, 2, 4)).astype(np.float32)
    c = single_op_model("RESIZE_BILINEAR", [x, np.array([4, 4], np.int32)])
    with pytest.raises((ValueError, RuntimeError), match="limit|bytes"):
        run_ours(c, [x, np.array([2 ** 30, 2 ** 30], np.int32)])
