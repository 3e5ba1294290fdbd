"""Assorted builtin ops: segments, diagonals, sequences, bit ops, NMS V4/V5, embeddings and friends."""
from __future__ import annotations

import heapq
import math

import numpy as np

from .registry import float_node, register

_INT_TYPES = ("INT8", "UINT8", "INT16", "INT32", "INT64", "UINT32", "UINT16")


def _scalar(v, what: str):
    a = np.asarray(v)
    if a.size != 1:
        raise ValueError(f"{what} must hold one value, got shape {list(a.shape)}")
    return a.reshape(())[()]


# ------------------------------------------------------------------------------------ elementwise

@register("ATAN2", types=("FLOAT32", "FLOAT64"))
def atan2(node, y, x):
    return np.arctan2(y, x).astype(y.dtype)


@register("BITWISE_XOR", types=_INT_TYPES)
def bitwise_xor(node, a, b):
    return np.bitwise_xor(a, b)


@register("RIGHT_SHIFT", types=_INT_TYPES)
def right_shift(node, a, b):
    # shifting by the bit width or more is undefined in C++; LiteRT's kernel does x >> y on the promoted type:
    # clamp the count so numpy gives the arithmetic result (all sign bits) instead of wrapping
    bits = np.dtype(a.dtype).itemsize * 8
    return np.right_shift(a, np.clip(b, 0, bits - 1).astype(a.dtype)).astype(a.dtype)


@register("BITCAST")
def bitcast(node, x):
    out = node.outputs[0]
    dt = out.dtype
    x = np.ascontiguousarray(x)
    if dt.itemsize == x.dtype.itemsize:
        return x.view(dt).copy()
    if dt.itemsize < x.dtype.itemsize:
        ratio = x.dtype.itemsize // dt.itemsize
        return x.view(dt).reshape(x.shape + (ratio,)).copy()
    ratio = dt.itemsize // x.dtype.itemsize
    if not x.shape or x.shape[-1] != ratio:
        raise ValueError(f"BITCAST from {x.dtype} to {dt} needs a last dimension of {ratio}, got {list(x.shape)}")
    return x.view(dt).reshape(x.shape[:-1]).copy()


@register("BUCKETIZE", types=("FLOAT32", "FLOAT64", "INT32", "INT64"))
class Bucketize:
    def __init__(self, node):
        b = np.asarray(node.options.get("boundaries", np.zeros(0)), np.float32)
        if b.size > 1 and np.any(np.diff(b) < 0):
            raise ValueError("BUCKETIZE boundaries must be sorted")
        self.boundaries = b

    def __call__(self, x):
        # index of the first boundary greater than x (x == boundary falls in the upper bucket)
        return np.searchsorted(self.boundaries, x, side="right").astype(np.int32)


@register("FAKE_QUANT", types=("FLOAT32",))
class FakeQuant:
    """Nudged min/max quantize-dequantize (TensorFlow's FakeQuantWithMinMaxArgs), in float32."""

    def __init__(self, node):
        o = node.options
        f32 = np.float32
        if o.get("narrow_range", False):
            # LiteRT refuses it at Prepare: narrow range is meant for weights only
            raise NotImplementedError("narrow_range FAKE_QUANT is not supported at runtime (LiteRT refuses it too)")
        qmin = 0
        bits = int(o.get("num_bits", 8))
        if not 2 <= bits <= 16:
            raise ValueError(f"FAKE_QUANT num_bits must be in [2, 16], got {bits}")
        qmax = (1 << bits) - 1
        mn, mx = f32(o.get("min", 0.0)), f32(o.get("max", 0.0))
        if not mn <= mx:
            raise ValueError(f"FAKE_QUANT min {mn} > max {mx}")
        scale = f32((mx - mn) / f32(qmax - qmin)) if mx > mn else f32(0)
        if scale == 0:
            self.nmin = self.nmax = f32(0)
            self.scale = f32(0)
            return
        zp_from_min = f32(f32(qmin) - mn / scale)
        if zp_from_min < qmin:
            nzp = qmin
        elif zp_from_min > qmax:
            nzp = qmax
        else:
            nzp = math.floor(float(zp_from_min) + 0.5) if zp_from_min >= 0 else -math.floor(-float(zp_from_min) + 0.5)
        self.nmin = f32(f32(qmin - nzp) * scale)
        self.nmax = f32(f32(qmax - nzp) * scale)
        self.scale = scale

    def __call__(self, x):
        f32 = np.float32
        if self.scale == 0:
            return np.zeros_like(x, dtype=f32)
        inv = f32(f32(1) / self.scale)
        clamped = np.clip(x.astype(f32), self.nmin, self.nmax)
        shifted = clamped - self.nmin
        return (np.floor(shifted * inv + f32(0.5)) * self.scale + self.nmin).astype(f32)


# -------------------------------------------------------------------------------------- segments

@register("SEGMENT_SUM", types=("FLOAT32", "INT32"))
def segment_sum(node, data, ids):
    ids = np.asarray(ids).astype(np.int64).reshape(-1)
    if ids.size != data.shape[0]:
        raise ValueError(f"SEGMENT_SUM: {ids.size} segment ids for {data.shape[0]} rows")
    if ids.size and (ids[0] != 0 or np.any((np.diff(ids) != 0) & (np.diff(ids) != 1))):
        # LiteRT's kernel requires ids that start at 0 and grow by 0 or 1 (no empty segments)
        raise ValueError("SEGMENT_SUM: segment ids must start at 0 and increase by 0 or 1")
    n = int(ids[-1]) + 1 if ids.size else 0
    out = np.zeros((n,) + data.shape[1:], data.dtype)
    np.add.at(out, ids, data)
    return out


def _unsorted_segment(kind):
    def kernel(node, data, ids, num_segments):
        n = int(_scalar(num_segments, "num_segments"))
        if n < 0:
            raise ValueError(f"UNSORTED_SEGMENT_{kind.upper()}: num_segments {n} is negative")
        ids = np.asarray(ids).astype(np.int64)
        if ids.shape != data.shape[:ids.ndim]:
            raise ValueError(f"UNSORTED_SEGMENT_{kind.upper()}: segment ids shape {list(ids.shape)} is not a "
                             f"prefix of data shape {list(data.shape)}")
        rest = data.shape[ids.ndim:]
        flat = data.reshape((-1,) + rest)
        ids = ids.reshape(-1)
        if ids.size and int(ids.max()) >= n:     # LiteRT rejects ids past num_segments (negatives are skipped)
            raise ValueError(f"UNSORTED_SEGMENT_{kind.upper()}: segment id {int(ids.max())} is not below "
                             f"num_segments {n}")
        keep = ids >= 0
        flat, ids = flat[keep], ids[keep]
        dt = data.dtype
        if kind == "sum":
            out = np.zeros((n,) + rest, dt)
            np.add.at(out, ids, flat)
        elif kind == "prod":
            out = np.ones((n,) + rest, dt)
            np.multiply.at(out, ids, flat)
        elif kind == "max":
            low = np.finfo(dt).min if dt.kind == "f" else np.iinfo(dt).min
            out = np.full((n,) + rest, low, dt)
            np.maximum.at(out, ids, flat)
        else:
            high = np.finfo(dt).max if dt.kind == "f" else np.iinfo(dt).max
            out = np.full((n,) + rest, high, dt)
            np.minimum.at(out, ids, flat)
        return out
    return kernel


for _kind in ("sum", "prod", "max", "min"):
    register(f"UNSORTED_SEGMENT_{_kind.upper()}", types=("FLOAT32", "INT32"))(_unsorted_segment(_kind))


# ------------------------------------------------------------------------------ diagonals, sequences

@register("MATRIX_DIAG")
def matrix_diag(node, diag):
    n = diag.shape[-1]
    out = np.zeros(diag.shape + (n,), diag.dtype)
    idx = np.arange(n)
    out[..., idx, idx] = diag
    return out


@register("MATRIX_SET_DIAG")
def matrix_set_diag(node, x, diag):
    k = min(x.shape[-2], x.shape[-1])
    if diag.shape != x.shape[:-2] + (k,):
        raise ValueError(f"MATRIX_SET_DIAG: diagonal shape {list(diag.shape)} does not fit input {list(x.shape)}")
    out = x.copy()
    idx = np.arange(k)
    out[..., idx, idx] = diag
    return out


@register("REVERSE_SEQUENCE")
def reverse_sequence(node, x, lengths):
    seq_dim = int(node.options.get("seq_dim", 0))
    batch_dim = int(node.options.get("batch_dim", 0))
    r = x.ndim
    seq_dim, batch_dim = seq_dim % r if r else 0, batch_dim % r if r else 0
    lengths = np.asarray(lengths).astype(np.int64).reshape(-1)
    if seq_dim == batch_dim or lengths.size != x.shape[batch_dim]:
        raise ValueError(f"REVERSE_SEQUENCE: bad seq_dim/batch_dim or {lengths.size} lengths for batch "
                         f"{x.shape[batch_dim]}")
    if np.any(lengths < 0) or np.any(lengths > x.shape[seq_dim]):
        raise ValueError(f"REVERSE_SEQUENCE: lengths must be in [0, {x.shape[seq_dim]}]")
    out = x.copy()
    for b, ln in enumerate(lengths):
        if ln > 1:
            src = [slice(None)] * r
            src[batch_dim] = b
            src[seq_dim] = slice(0, int(ln))
            dst = list(src)
            dst[seq_dim] = slice(int(ln) - 1, None, -1) if ln == x.shape[seq_dim] else slice(int(ln) - 1, None, -1)
            part = x[tuple(src)]
            out[tuple(src)] = np.flip(part, axis=seq_dim - (1 if batch_dim < seq_dim else 0))
    return out


@register("UNIQUE")
def unique(node, x):
    if x.ndim != 1:
        raise ValueError(f"UNIQUE takes a 1-D tensor, got shape {list(x.shape)}")
    values, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")            # values in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    idx_dtype = node.outputs[1].dtype
    return values[order].astype(x.dtype), rank[inverse.reshape(-1)].astype(idx_dtype)


@register("SPARSE_TO_DENSE")
def sparse_to_dense(node, indices, output_shape, values, default_value):
    shape = tuple(int(d) for d in np.asarray(output_shape).reshape(-1))
    if any(d < 0 for d in shape):
        raise ValueError(f"SPARSE_TO_DENSE: negative output shape {list(shape)}")
    from ..limits import check_allocation
    check_allocation(shape, values.dtype, "SPARSE_TO_DENSE output")
    out = np.full(shape, _scalar(default_value, "default_value"), values.dtype)
    idx = np.asarray(indices).astype(np.int64)
    if idx.ndim == 0:
        idx = idx.reshape(1, 1)
    elif idx.ndim == 1:
        idx = idx.reshape(-1, 1) if len(shape) == 1 else idx.reshape(1, -1)
    if idx.shape[1] != len(shape):
        raise ValueError(f"SPARSE_TO_DENSE: indices of width {idx.shape[1]} for a rank-{len(shape)} output")
    if idx.size and (np.any(idx < 0) or np.any(idx >= np.array(shape))):
        raise ValueError("SPARSE_TO_DENSE: an index lies outside the output shape")
    vals = np.broadcast_to(np.asarray(values).reshape(-1) if np.asarray(values).size > 1 else values,
                           (idx.shape[0],))
    out[tuple(idx.T)] = vals
    return out


@register("DYNAMIC_UPDATE_SLICE")
def dynamic_update_slice(node, operand, update, start):
    start = np.asarray(start).astype(np.int64).reshape(-1)
    if start.size != operand.ndim or update.ndim != operand.ndim:
        raise ValueError("DYNAMIC_UPDATE_SLICE: start indices and update must match the operand's rank")
    if any(u > o for u, o in zip(update.shape, operand.shape)):
        raise ValueError(f"DYNAMIC_UPDATE_SLICE: update {list(update.shape)} larger than operand "
                         f"{list(operand.shape)}")
    # start indices are clamped so the update fits (XLA semantics)
    s = [int(min(max(v, 0), o - u)) for v, o, u in zip(start, operand.shape, update.shape)]
    out = operand.copy()
    out[tuple(slice(a, a + u) for a, u in zip(s, update.shape))] = update
    return out


# -------------------------------------------------------------------------------------- embeddings

@register("EMBEDDING_LOOKUP")
class EmbeddingLookup:
    def __init__(self, node):
        self.table_t = node.inputs[1]
        self.out_float = node.outputs[0].type_name == "FLOAT32" and self.table_t.type_name in ("UINT8", "INT8", "INT4")
        q = self.table_t.quantization
        if self.out_float and not q.per_axis and q.is_quantized and int(q.zero_point) != 0:
            # LiteRT's hybrid lookup takes symmetric weights only (and reads UINT8 bytes as int8)
            raise ValueError(f"EMBEDDING_LOOKUP: hybrid weights need zero point 0, got {int(q.zero_point)}")

    def __call__(self, ids, table):
        ids = np.asarray(ids).astype(np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= table.shape[0]):
            bad = int(ids[(ids < 0) | (ids >= table.shape[0])][0])
            raise ValueError(f"EMBEDDING_LOOKUP: id {bad} out of range [0, {table.shape[0]})")
        rows = table[ids]
        if self.out_float:
            if rows.dtype == np.uint8:
                rows = rows.view(np.int8)      # LiteRT reinterprets UINT8 hybrid weights as int8 values
            q = self.table_t.quantization
            if q.per_axis:
                scale = q.scales[ids].reshape((-1,) + (1,) * (rows.ndim - 1))
                zp = q.zero_points[ids].reshape(scale.shape).astype(np.float32)
            else:
                scale, zp = np.float32(q.scale), np.float32(0)
            return ((rows.astype(np.float32) - zp) * scale).astype(np.float32)
        return rows


# ---------------------------------------------------------------------------------- NMS V4 / V5

def _nms(boxes, scores, max_out, iou_thr, score_thr, sigma):
    """Greedy (soft-)NMS as TFLite's float kernel runs it: a max-priority queue of candidates above the
    score threshold; each candidate is compared with the boxes selected since it was last compared."""
    b = boxes.astype(np.float32)
    ymin, ymax = np.minimum(b[:, 0], b[:, 2]), np.maximum(b[:, 0], b[:, 2])
    xmin, xmax = np.minimum(b[:, 1], b[:, 3]), np.maximum(b[:, 1], b[:, 3])
    area = (ymax - ymin) * (xmax - xmin)

    def iou(i, j):
        if area[i] <= 0 or area[j] <= 0:
            return np.float32(0)
        ih = max(np.float32(min(ymax[i], ymax[j]) - max(ymin[i], ymin[j])), np.float32(0))
        iw = max(np.float32(min(xmax[i], xmax[j]) - max(xmin[i], xmin[j])), np.float32(0))
        inter = np.float32(ih * iw)
        union = np.float32(area[i] + area[j] - inter)
        return np.float32(0) if union == 0 else np.float32(inter / union)

    f32 = np.float32
    heap = [(-f32(s), i, i, 0) for i, s in enumerate(scores) if s > score_thr]
    heapq.heapify(heap)
    n_out = min(len(heap), max_out)
    scale = f32(-0.5) / f32(sigma) if sigma > 0 else f32(0)
    sel, sel_scores = [], []
    while len(sel) < n_out and heap:
        neg, _, idx, begin = heapq.heappop(heap)
        score = -neg
        original = score
        hard = False
        for j in range(len(sel) - 1, begin - 1, -1):
            v = iou(idx, sel[j])
            if v >= iou_thr:
                hard = True
                break
            if sigma > 0:
                score = f32(score * f32(np.exp(f32(scale * v * v))))
            if score <= score_thr:
                break
        begin = len(sel)
        if not hard:
            if score == original:
                sel.append(idx)
                sel_scores.append(score)
            # LiteRT pushes a selected candidate back too; the next time it surfaces it meets itself among
            # the selected boxes (IoU 1) and is dropped: mirrored so degenerate boxes behave the same
            if score > score_thr:
                heapq.heappush(heap, (-score, idx, idx, begin))
    return sel, sel_scores


class _NMSBase:
    def __init__(self, node):
        self.max_const = node.const(2)

    def _run(self, boxes, scores, max_out, iou_thr, score_thr, sigma):
        if boxes.ndim != 2 or boxes.shape[1] != 4 or scores.shape != (boxes.shape[0],):
            raise ValueError(f"NON_MAX_SUPPRESSION: boxes must be [N, 4] and scores [N], got "
                             f"{list(boxes.shape)} and {list(scores.shape)}")
        m = int(_scalar(max_out, "max_output_size"))
        if m < 0:
            raise ValueError(f"NON_MAX_SUPPRESSION: max_output_size {m} is negative")
        iou_t = np.float32(_scalar(iou_thr, "iou_threshold"))
        if not 0 <= iou_t <= 1:
            raise ValueError(f"NON_MAX_SUPPRESSION: iou_threshold {iou_t} is not in [0, 1]")
        sel, sc = _nms(boxes, scores.astype(np.float32), m, iou_t, np.float32(_scalar(score_thr, "score_threshold")),
                       np.float32(sigma))
        idx = np.zeros(m, np.int32)
        idx[:len(sel)] = sel
        out_scores = np.zeros(m, np.float32)
        out_scores[:len(sc)] = sc
        return idx, out_scores, np.array(len(sel), np.int32)


@register("NON_MAX_SUPPRESSION_V4", when=float_node, types=("FLOAT32",))
class NonMaxSuppressionV4(_NMSBase):
    def __call__(self, boxes, scores, max_out, iou_thr, score_thr):
        idx, _, n = self._run(boxes, scores, max_out, iou_thr, score_thr, 0.0)
        return idx, n


@register("NON_MAX_SUPPRESSION_V5", when=float_node, types=("FLOAT32",))
class NonMaxSuppressionV5(_NMSBase):
    def __call__(self, boxes, scores, max_out, iou_thr, score_thr, sigma):
        s = float(_scalar(sigma, "soft_nms_sigma"))
        if s < 0:
            raise ValueError(f"NON_MAX_SUPPRESSION_V5: soft_nms_sigma {s} is negative")
        return self._run(boxes, scores, max_out, iou_thr, score_thr, s)
