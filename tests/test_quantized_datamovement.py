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


def _model_multi(op, ins, outs, **opts):
    mb = ModelBuilder()
    idx, feeds = [], []
    for k, (kind, arr, tn, q) in enumerate(ins):
        if kind == "in":
            idx.append(mb.input(f"i{k}", list(arr.shape), tn, quant=q))
            feeds.append(arr)
        else:
            idx.append(mb.const(f"c{k}", arr, tn, quant=q))
    ys = [mb.tensor(f"y{j}", [], tn, quant=q) for j, (tn, q) in enumerate(outs)]
    mb.op(op, idx, ys, **opts)
    mb.output(*ys)
    return mb.build(), feeds


def _more_cases():
    rng = np.random.default_rng(8)
    x = rand_q(rng, (2, 6, 6, 4), "INT8")
    i32 = lambda v: ("c", np.array(v, np.int32), "INT32", None)  # noqa: E731
    q8 = ("INT8", QA)
    return {
        "split": ("SPLIT", [i32(3), ("in", x, "INT8", QA)], [q8, q8], dict(num_splits=2)),
        "split_v": ("SPLIT_V", [("in", x, "INT8", QA), i32([1, 3]), i32(3)], [q8, q8], dict(num_splits=2)),
        "unpack": ("UNPACK", [("in", x, "INT8", QA)], [q8, q8], dict(num=2, axis=0)),
        "broadcast_to": ("BROADCAST_TO", [("in", x[:1], "INT8", QA), i32([3, 6, 6, 4])], [q8], dict(version=2)),
        "select_v2": ("SELECT_V2", [("c", x > 0, "BOOL", None), ("in", x, "INT8", QA),
                                    ("in", x[::-1].copy(), "INT8", QA)], [q8], {}),
        "reverse_v2": ("REVERSE_V2", [("in", x, "INT8", QA), i32([1])], [q8], {}),
        "slice": ("SLICE", [("in", x, "INT8", QA), i32([0, 1, 1, 0]), i32([2, 3, 4, -1])], [q8], {}),
        "space_to_batch": ("SPACE_TO_BATCH_ND", [("in", x, "INT8", QA), i32([2, 2]), i32([[0, 0], [0, 0]])], [q8], {}),
        "batch_to_space": ("BATCH_TO_SPACE_ND", [("in", rand_q(rng, (4, 3, 3, 4), "INT8"), "INT8", QA), i32([2, 2]),
                                                 i32([[0, 0], [0, 0]])], [q8], {}),
        "arg_max": ("ARG_MAX", [("in", x, "INT8", QA), i32([3])], [("INT32", None)], dict(output_type=2)),
        "reduce_min": ("REDUCE_MIN", [("in", x, "INT8", QA), i32([1, 2])], [q8], {}),
        "gather_nd": ("GATHER_ND", [("in", x, "INT8", QA), i32([[0, 1], [1, 2]])], [q8], {}),
        "expand_dims": ("EXPAND_DIMS", [("in", x, "INT8", QA), i32([1])], [q8], {}),
    }


MORE = _more_cases()


@pytest.mark.parametrize("name", sorted(MORE))
def test_quantized_passthrough_more(name):
    op, ins, outs, opts = MORE[name]
    content, feeds = _model_multi(op, ins, outs, **opts)
    both_resolvers(content, feeds)
