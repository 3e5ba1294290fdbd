"""Ported from TensorFlow Lite's kernel unit tests conv3d_test.cc and densify_test.cc: the same models and
inputs, asserting the upstream values and LiteRT's outputs on the same model (see upstream_helpers.case)."""
import numpy as np
import pytest

from oracle import run_ours
from shape_helpers import both_fail, litert_outputs
from tfl_gpu.writer import ModelBuilder
from upstream_helpers import F32, I8, arr, case


def rng_(n):
    return np.arange(n, dtype=F32)


# ------------------------------------------------------------------------------------------ conv3d_test.cc
F1 = [-1, -1, -1, -1, -1, 1, -1, 1, -1, 1, 1, 1, 1, 1, -1, -1, 1, -1, 1, 1, 1, 1, -1, 1, -1, -1, -1, 1, 1, -1, 1, -1]
F_VALID = [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 1, 1, -1, -1, 1, 1, -1, 1, -1, 1, -1, 1, -1, -1, -1, 1,
           -1, 1, 1, 1]
F_SAME = [1, -1, 1, -1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, -1, 1, -1, 1, -1, -1, -1, 1, 1, 1, 1, 1, -1, 1, -1, 1]
F_STRIDE = [1, -1, 1, 1, -1, 1, 1, -1, 1, -1, -1, -1, -1, 1, 1, 1] * 2
F_SS = [-1, 1, -1, 1, 1, 1, 1, 1, -1, 1, -1, -1, -1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, 1, 1, 1, -1, -1, -1, -1, 1]
CONV3D = [  # (input shape, filter shape, filter, bias, options, expected, output shape)
    ([1, 2, 2, 4, 2], [2, 2, 2, 2, 2], F1, None, {}, [30, 6, 26, 10, 22, 14], [1, 1, 1, 3, 2]),
    ([1, 3, 4, 5, 2], [2, 2, 2, 2, 2], F_VALID, None, {},
     [-214, 266, -234, 270, -254, 274, -274, 278, -314, 286, -334, 290, -354, 294, -374, 298, -414, 306, -434, 310,
      -454, 314, -474, 318, -614, 346, -634, 350, -654, 354, -674, 358, -714, 366, -734, 370, -754, 374, -774, 378,
      -814, 386, -834, 390, -854, 394, -874, 398], [1, 2, 3, 4, 2]),
    ([1, 3, 4, 5, 2], [2, 2, 2, 2, 2], F_SAME, None, {"padding": "SAME"},
     [-172, 290, -176, 298, -180, 306, -184, 314, 36, 198, -192, 330, -196, 338, -200, 346, -204, 354, 56, 218, -212,
      370, -216, 378, -220, 386, -224, 394, 76, 238, -226, 82, -230, 82, -234, 82, -238, 82, -80, 80, -252, 450,
      -256, 458, -260, 466, -264, 474, 116, 278, -272, 490, -276, 498, -280, 506, -284, 514, 136, 298, -292, 530,
      -296, 538, -300, 546, -304, 554, 156, 318, -306, 82, -310, 82, -314, 82, -318, 82, -80, 80, 158, -158, 162,
      -162, 166, -166, 170, -170, 176, -176, 178, -178, 182, -182, 186, -186, 190, -190, 196, -196, 198, -198, 202,
      -202, 206, -206, 210, -210, 216, -216, 220, -220, 224, -224, 228, -228, 232, -232, 237, -237], [1, 3, 4, 5, 2]),
    ([2, 2, 3, 4, 2], [2, 2, 2, 2, 2], F_STRIDE, None, {"stride_d": 2, "stride_w": 2, "stride_h": 2},
     [52, 8, 68, 8, 244, 8, 260, 8], [2, 1, 1, 2, 2]),
    ([2, 2, 3, 4, 2], [2, 2, 2, 2, 2], F_SS, None, {"padding": "SAME", "stride_d": 2, "stride_w": 2, "stride_h": 2},
     [-70, -28, -86, -12, -82, -16, -90, -8, -262, 164, -278, 180, -178, 80, -186, 88], [2, 1, 2, 2, 2]),
    ([2, 2, 3, 4, 2], [2, 2, 2, 2, 2], list(range(32)), None, {"dilation_h_factor": 2},
     [7248, 7592, 7728, 8104, 8208, 8616, 18768, 19880, 19248, 20392, 19728, 20904], [2, 1, 1, 3, 2]),
    ([2, 2, 3, 4, 2], [2, 2, 2, 2, 2], F_STRIDE, [1, 2], {"stride_d": 2, "stride_w": 2, "stride_h": 2},
     [53, 10, 69, 10, 245, 10, 261, 10], [2, 1, 1, 2, 2]),
    ([1, 2, 2, 2, 4], [1, 1, 1, 4, 4], list(range(16)), None, {},
     [56, 62, 68, 74, 152, 174, 196, 218, 248, 286, 324, 362, 344, 398, 452, 506, 440, 510, 580, 650, 536, 622, 708,
      794, 632, 734, 836, 938, 728, 846, 964, 1082], [1, 2, 2, 2, 4]),
]


def _opts(o):
    base = {"padding": "VALID", "stride_d": 1, "stride_w": 1, "stride_h": 1, "fused_activation_function": "NONE",
            "dilation_d_factor": 1, "dilation_w_factor": 1, "dilation_h_factor": 1}
    base.update(o)
    return base


@pytest.mark.parametrize("const_filter", [False, True], ids=["filter_input", "filter_const"])
@pytest.mark.parametrize("k", range(len(CONV3D)))
def test_conv3d(k, const_filter):
    ishape, fshape, f, bias, o, exp, oshape = CONV3D[k]
    ins = [rng_(int(np.prod(ishape))).reshape(ishape), arr(f, F32, fshape)]
    if bias is not None:
        ins.append(arr(bias, F32))
    case("CONV_3D", ins, exp, const=(1,) if const_filter else (), shapes=[oshape], **_opts(o))


@pytest.mark.parametrize("ishape,fshape,bshape", [([2, 2, 4, 1], [3, 2, 2, 1], None),
                                                  ([1, 2, 2, 4, 1], [3, 2, 2, 1], None),
                                                  ([1, 2, 2, 4, 1], [1, 3, 2, 2, 2], None),
                                                  ([1, 2, 2, 4, 2], [1, 3, 2, 2, 1], [2])])
def test_conv3d_bad_shapes_fail(ishape, fshape, bshape):
    ins = [np.zeros(ishape, F32), np.zeros(fshape, F32)] + ([np.zeros(bshape, F32)] if bshape else [])
    both_fail("CONV_3D", ins, const=(1,), **_opts({}))


# ----------------------------------------------------------------------------------------- densify_test.cc
DENSE = [6, 0, 9, 8, 0, 0, 0, 0, 5, 0, 0, 7]
SPARSE = [6, 9, 8, 5, 7]


def _densify(dtype, shape, sparsity):
    mb = ModelBuilder()
    s = mb.tensor("sparse", shape, dtype, data=np.asarray(SPARSE, dtype), sparsity=sparsity)
    out = mb.tensor("dense", shape, dtype)
    mb.op("DENSIFY", [s], [out])
    mb.output(out)
    return mb.build()


@pytest.mark.parametrize("dtype,shape,sparsity", [
    (F32, [3, 4], {"traversal_order": [0, 1], "dim_metadata": [
        {"format": "DENSE", "dense_size": 3},
        {"format": "SPARSE_CSR", "array_segments": [0, 3, 3, 5], "array_indices": [0, 2, 3, 0, 3]}]}),
    (F32, [3, 2, 2], {"traversal_order": [0, 1, 2], "dim_metadata": [
        {"format": "DENSE", "dense_size": 3}, {"format": "DENSE", "dense_size": 2},
        {"format": "SPARSE_CSR", "array_segments": [0, 1, 3, 3, 3, 4, 5], "array_indices": [0, 0, 1, 0, 1]}]}),
    (I8, [3, 4], {"traversal_order": [0, 1], "dim_metadata": [
        {"format": "DENSE", "dense_size": 3},
        {"format": "SPARSE_CSR", "array_segments": [0, 3, 3, 5], "array_indices": [0, 2, 3, 0, 3]}]}),
], ids=["float", "float3d", "int8"])
def test_densify(dtype, shape, sparsity):
    content = _densify(dtype, shape, sparsity)
    ours = run_ours(content, [])
    ref = litert_outputs(content, [])
    assert ours[0].shape == tuple(shape) and ours[0].ravel().tolist() == DENSE
    assert np.array_equal(ours[0], ref[0]) and ours[0].dtype == ref[0].dtype
