"""TFLite_Detection_PostProcess: SSD box decoding + non-max suppression, as LiteRT's custom kernel computes it.

Inputs: box encodings [1, anchors, >=4] (y, x, h, w), class scores [1, anchors, classes (+1 background)],
anchors [anchors, 4] (y, x, h, w); float32 or uint8 (dequantized first). Outputs (float32): boxes
[1, D, 4] (ymin, xmin, ymax, xmax), classes [1, D], scores [1, D], count [1], with D = max_detections *
max_classes_per_detection. Options are a FlexBuffer map.
"""
from __future__ import annotations

import numpy as np

from .registry import flexbuffer_options, register


def _dequant(x: np.ndarray, tensor) -> np.ndarray:
    if x.dtype == np.uint8:
        q = tensor.quantization
        return (x.astype(np.float32) - np.float32(q.zero_point)) * np.float32(q.scale)
    if x.dtype != np.float32:
        raise ValueError(f"TFLite_Detection_PostProcess takes float32 or uint8 inputs, got {x.dtype}")
    return x


def _iou_one_to_many(boxes: np.ndarray, i: int, others: np.ndarray) -> np.ndarray:
    """Intersection over union of box i with each box in ``others`` (float32, as the kernel computes it;
    a box of non-positive area overlaps nothing)."""
    b = boxes[i]
    o = boxes[others]
    area_i = (b[2] - b[0]) * (b[3] - b[1])
    area_o = (o[:, 2] - o[:, 0]) * (o[:, 3] - o[:, 1])
    ih = np.maximum(np.minimum(b[2], o[:, 2]) - np.maximum(b[0], o[:, 0]), np.float32(0))
    iw = np.maximum(np.minimum(b[3], o[:, 3]) - np.maximum(b[1], o[:, 1]), np.float32(0))
    inter = ih * iw
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / (area_i + area_o - inter)
    iou = np.where((area_i <= 0) | (area_o <= 0), np.float32(0), iou)
    return iou


def _decreasing(values: np.ndarray) -> np.ndarray:
    """Indices sorting ``values`` in decreasing order, ties kept in index order (the kernel's stable sort)."""
    return np.argsort(-values, kind="stable")


@register("TFLite_Detection_PostProcess", types=("FLOAT32", "UINT8"))
class DetectionPostProcess:
    def __init__(self, node):
        o = flexbuffer_options(node)
        try:
            self.max_detections = int(o["max_detections"])
            self.max_classes_per_detection = int(o["max_classes_per_detection"])
            self.detections_per_class = int(o.get("detections_per_class", 100))
            self.regular = bool(o.get("use_regular_nms", False))
            self.score_threshold = np.float32(o["nms_score_threshold"])
            self.iou_threshold = np.float32(o["nms_iou_threshold"])
            self.num_classes = int(o["num_classes"])
            self.scales = np.array([o["y_scale"], o["x_scale"], o["h_scale"], o["w_scale"]], np.float64)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"TFLite_Detection_PostProcess: bad custom options ({e})") from None
        if self.max_detections < 0 or self.max_classes_per_detection <= 0:
            raise ValueError("TFLite_Detection_PostProcess: max_detections must be >= 0 and "
                             "max_classes_per_detection > 0")
        if not (0.0 < self.iou_threshold <= 1.0):
            raise ValueError(f"TFLite_Detection_PostProcess: nms_iou_threshold {self.iou_threshold} is not in (0, 1]")
        if self.regular and self.detections_per_class <= 0:
            raise ValueError("TFLite_Detection_PostProcess: detections_per_class must be positive")
        if len(node.inputs) != 3 or len(node.outputs) != 4:
            raise ValueError("TFLite_Detection_PostProcess takes 3 inputs and produces 4 outputs")
        self.box_t, self.score_t, self.anchor_t = node.inputs

    # --------------------------------------------------------------------------------- decoding
    def _decode(self, enc: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        e = enc.astype(np.float64)
        a = anchors.astype(np.float64)
        s = self.scales
        yc = (e[:, 0] / s[0] * a[:, 2] + a[:, 0]).astype(np.float32)
        xc = (e[:, 1] / s[1] * a[:, 3] + a[:, 1]).astype(np.float32)
        hh = (0.5 * np.exp(e[:, 2] / s[2]) * a[:, 2]).astype(np.float32)
        hw = (0.5 * np.exp(e[:, 3] / s[3]) * a[:, 3]).astype(np.float32)
        return np.stack([yc - hh, xc - hw, yc + hh, xc + hw], axis=1).astype(np.float32)

    def _nms(self, boxes: np.ndarray, scores: np.ndarray, limit: int) -> list[int]:
        """Greedy single-class NMS over boxes scoring >= threshold, at most ``limit`` picks."""
        keep = np.nonzero(scores >= self.score_threshold)[0]
        order = keep[_decreasing(scores[keep])]
        active = np.ones(order.size, bool)
        selected: list[int] = []
        limit = min(limit, order.size)
        for i in range(order.size):
            if len(selected) >= limit:
                break
            if not active[i]:
                continue
            selected.append(int(order[i]))
            active[i] = False
            rest = np.nonzero(active[i + 1:])[0] + i + 1
            if rest.size:
                iou = _iou_one_to_many(boxes, int(order[i]), order[rest])
                active[rest[iou > self.iou_threshold]] = False
        return selected

    # ------------------------------------------------------------------------------------- run
    def __call__(self, box_enc, class_pred, anchors):
        if box_enc.ndim != 3 or class_pred.ndim != 3 or anchors.ndim != 2:
            raise ValueError("TFLite_Detection_PostProcess expects box encodings [1, N, 4+], scores [1, N, C] "
                             "and anchors [N, 4]")
        if box_enc.shape[0] != 1 or class_pred.shape[0] != 1:
            raise ValueError("TFLite_Detection_PostProcess supports batch size 1 only")
        n = box_enc.shape[1]
        if box_enc.shape[2] < 4 or anchors.shape[0] < n or anchors.shape[1] < 4 or class_pred.shape[1] != n:
            raise ValueError(f"TFLite_Detection_PostProcess: inconsistent shapes {list(box_enc.shape)}, "
                             f"{list(class_pred.shape)}, {list(anchors.shape)}")
        with_bg = class_pred.shape[2]
        offset = with_bg - self.num_classes
        if not 0 <= offset <= 1:
            raise ValueError(f"TFLite_Detection_PostProcess: {with_bg} score columns for {self.num_classes} classes")
        enc = _dequant(box_enc, self.box_t)[0, :, :4]
        anc = _dequant(anchors, self.anchor_t)[:n, :4]
        scores = _dequant(class_pred, self.score_t)[0, :, offset:offset + self.num_classes]
        boxes = self._decode(enc, anc)
        if np.any(boxes[:, 0] > boxes[:, 2]) or np.any(boxes[:, 1] > boxes[:, 3]):
            raise ValueError("TFLite_Detection_PostProcess: decoded boxes with min > max (negative anchor size?)")
        if self.regular:
            return self._regular(boxes, scores)
        return self._fast(boxes, scores)

    def _outputs(self, count: int):
        d = self.max_detections * self.max_classes_per_detection
        return (np.zeros((1, d, 4), np.float32), np.zeros((1, d), np.float32), np.zeros((1, d), np.float32),
                np.array([count], np.float32))

    def _fast(self, boxes, scores):
        per_anchor = min(self.max_classes_per_detection, self.num_classes)
        if per_anchor == 1:
            top = np.argmax(scores, axis=1)[:, None]
        else:
            top = np.argsort(-scores, axis=1, kind="stable")[:, :per_anchor]
        max_scores = scores[np.arange(scores.shape[0]), top[:, 0]]
        selected = self._nms(boxes, max_scores, self.max_detections)
        out_boxes, out_classes, out_scores, count = self._outputs(len(selected))
        for k, anchor in enumerate(selected):
            for col in range(per_anchor):
                slot = self.max_classes_per_detection * k + col
                cls = top[anchor, col]
                out_boxes[0, slot] = boxes[anchor]
                out_classes[0, slot] = cls
                out_scores[0, slot] = scores[anchor, cls]
        return out_boxes, out_classes, out_scores, count

    def _regular(self, boxes, scores):
        # best detections so far across classes: (score, anchor, class)
        best_scores = np.zeros(0, np.float32)
        best_anchor = np.zeros(0, np.int64)
        best_class = np.zeros(0, np.int64)
        for c in range(self.num_classes):
            col = scores[:, c]
            sel = np.array(self._nms(boxes, col, self.detections_per_class), np.int64)
            cand_scores = np.concatenate([best_scores, col[sel]])
            cand_anchor = np.concatenate([best_anchor, sel])
            cand_class = np.concatenate([best_class, np.full(sel.size, c, np.int64)])
            take = min(cand_scores.size, self.max_detections)
            if take == 1:
                order = np.array([int(np.argmax(cand_scores))])
            else:
                order = _decreasing(cand_scores)[:take]
            best_scores, best_anchor, best_class = cand_scores[order], cand_anchor[order], cand_class[order]
        out_boxes, out_classes, out_scores, count = self._outputs(best_scores.size)
        k = best_scores.size
        out_boxes[0, :k] = boxes[best_anchor]
        out_classes[0, :k] = best_class
        out_scores[0, :k] = best_scores
        return out_boxes, out_classes, out_scores, count
