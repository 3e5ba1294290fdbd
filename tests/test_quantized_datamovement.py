"""Quantized tensors through data-movement / selection / comparison ops (kernels shared with the float
ones): bit-exact with LiteRT, default and reference kernels."""
import numpy as np
import pytest

from qhelpers import both_resolvers, qp, rand_q
from tfl_gpu.writer import ModelBuilder

QA = qp(0.05, -3)
QB = qp(0.07, 4)


def _model(op, ins, out_q, out_type="INT8", **opts):
    mb = ModelBuilder()
    idx, feeds = [], []
    for k, (kind, arr, tn, q) in enumerate(ins):
        if kind == "in":
            idx.append(mb.input(f"i{k}", list(arr.shape), tn, quant=q))
            feeds.append(arr)
        else:
            idx.append(mb.const(f"c{k}", arr, tn, quant=q))
    y = mb.tensor("y", [], out_type, quant=out_q)
    mb.op(op, idx, [y], **opts)
    mb.output(y)
    return mb.build(), feeds


def _cases():
    rng = np.random.default_rng(7)
    x = rand_q(rng, (1, 6, 6, 4), "INT8")
    x2 = rand_q(rng, (1, 6, 6, 4), "INT8")
    u = rand_q(rng, (1, 6, 6, 4), "UINT8")
    i32 = lambda v: ("c", np.array(v, np.int32), "INT32", None)  # noqa: E731
    return {
        "concat": ("CONCATENATION", [("in", x, "INT8", QA), ("in", x2, "INT8", QA)], QA, "INT8", dict(axis=3)),
        "reshape": ("RESHAPE", [("in", x, "INT8", QA), i32([1, 36, 4])], QA, "INT8", {}),
        "pad": ("PAD", [("in", x, "INT8", QA), i32([[0, 0], [1, 1], [2, 0], [0, 0]])], QA, "INT8", {}),
        "padv2": ("PADV2", [("in", x, "INT8", QA), i32([[0, 0], [1, 1], [2, 0], [0, 0]]),
                            ("c", np.array([5], np.int8), "INT8", QA)], QA, "INT8", {}),
        "resize_bilinear": ("RESIZE_BILINEAR", [("in", x, "INT8", QA), i32([11, 9])], QA, "INT8", {}),
        "resize_bilinear_hp": ("RESIZE_BILINEAR", [("in", x, "INT8", QA), i32([11, 9])], QA, "INT8",
                               dict(half_pixel_centers=True)),
        "resize_bilinear_u8": ("RESIZE_BILINEAR", [("in", u, "UINT8", qp(0.05, 120)), i32([12, 12])],
                               qp(0.05, 120), "UINT8", {}),
        "resize_nn": ("RESIZE_NEAREST_NEIGHBOR", [("in", x, "INT8", QA), i32([12, 12])], QA, "INT8", {}),
        "maximum": ("MAXIMUM", [("in", x, "INT8", QA), ("in", x2, "INT8", QA)], QA, "INT8", {}),
        "minimum": ("MINIMUM", [("in", x, "INT8", QA), ("in", x2, "INT8", QA)], QA, "INT8", {}),
        "transpose": ("TRANSPOSE", [("in", x, "INT8", QA), i32([0, 3, 1, 2])], QA, "INT8", {}),
        "strided_slice": ("STRIDED_SLICE", [("in", x, "INT8", QA), i32([0, 1, 0, 0]), i32([1, 5, 6, 4]),
                                            i32([1, 2, 1, 1])], QA, "INT8", {}),
        "gather": ("GATHER", [("in", x, "INT8", QA), i32([3, 0, 2])], QA, "INT8", dict(axis=1)),
        "space_to_depth": ("SPACE_TO_DEPTH", [("in", x, "INT8", QA)], QA, "INT8", dict(block_size=2)),
        "depth_to_space": ("DEPTH_TO_SPACE", [("in", x, "INT8", QA)], QA, "INT8", dict(block_size=2)),
        "less": ("LESS", [("in", x, "INT8", QA), ("in", x2, "INT8", QB)], None, "BOOL", {}),
        "equal": ("EQUAL", [("in", x, "INT8", QA), ("in", x2, "INT8", QA)], None, "BOOL", {}),
        "greater_u8": ("GREATER", [("in", u, "UINT8", qp(0.05, 120)), ("in", u[:, ::-1].copy(), "UINT8",
                                                                        qp(0.03, 128))], None, "BOOL", {}),
        "reduce_max": ("REDUCE_MAX", [("in", x, "INT8", QA), i32([1, 2])], QA, "INT8", {}),
        "pack": ("PACK", [("in", x, "INT8", QA), ("in", x2, "INT8", QA)], QA, "INT8", dict(values_count=2, axis=0)),
        "tile": ("TILE", [("in", x, "INT8", QA), i32([1, 2, 1, 2])], QA, "INT8", {}),
        "mirror_pad": ("MIRROR_PAD", [("in", x, "INT8", QA), i32([[0, 0], [1, 1], [2, 0], [0, 0]])], QA, "INT8", {}),
    }


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_quantized_passthrough_ops(name):
    op, ins, out_q, out_type, opts = CASES[name]
    content, feeds = _model(op, ins, out_q, out_type, **opts)
    both_resolvers(content, feeds)
