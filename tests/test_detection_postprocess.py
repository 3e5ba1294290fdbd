"""TFLite_Detection_PostProcess against LiteRT (which ships this custom op in its default resolver)."""
import numpy as np
import pytest
from flatbuffers import flexbuffers

from oracle import run_litert, run_ours
from tfl_gpu.writer import ModelBuilder


def _model(n, classes, bg, opts, quantized=False):
    mb = ModelBuilder()
    if quantized:
        qb = {"scale": [0.05], "zero_point": [128]}
        qs = {"scale": [1 / 255], "zero_point": [0]}
        box = mb.input("boxes", [1, n, 4], "UINT8", quant=qb)
        sc = mb.input("scores", [1, n, classes + bg], "UINT8", quant=qs)
    else:
        box = mb.input("boxes", [1, n, 4])
        sc = mb.input("scores", [1, n, classes + bg])
    rng = np.random.default_rng(n)
    anchors = np.stack([rng.uniform(0.1, 0.9, n), rng.uniform(0.1, 0.9, n), rng.uniform(0.05, 0.3, n),
                        rng.uniform(0.05, 0.3, n)], 1).astype(np.float32)
    if quantized:
        anc = mb.const("anchors", np.round(anchors / 0.01).astype(np.uint8), type_name="UINT8",
                       quant={"scale": [0.01], "zero_point": [0]})
    else:
        anc = mb.const("anchors", anchors)
    d = opts["max_detections"] * opts["max_classes_per_detection"]
    outs = [mb.tensor("det_boxes", [1, d, 4]), mb.tensor("det_classes", [1, d]), mb.tensor("det_scores", [1, d]),
            mb.tensor("num", [1])]
    mb.op("CUSTOM", [box, sc, anc], outs, custom_code="TFLite_Detection_PostProcess",
          custom_options=bytes(flexbuffers.Dumps(opts)))
    mb.output(*outs)
    return mb.build()


BASE = {"max_detections": 10, "max_classes_per_detection": 1, "detections_per_class": 5, "use_regular_nms": False,
        "nms_score_threshold": 0.3, "nms_iou_threshold": 0.5, "num_classes": 3, "y_scale": 10.0, "x_scale": 10.0,
        "h_scale": 5.0, "w_scale": 5.0}


@pytest.mark.parametrize("variant", ["fast", "fast_multi_class", "regular", "no_background", "uint8",
                                     "regular_uint8", "low_iou", "few_detections"])
def test_detection_postprocess_matches_litert(variant):
    opts = dict(BASE)
    n, classes, bg, quant = 60, 3, 1, False
    if variant == "fast_multi_class":
        opts["max_classes_per_detection"] = 2
    elif variant == "regular":
        opts["use_regular_nms"] = True
    elif variant == "no_background":
        bg = 0
    elif variant == "uint8":
        quant = True
    elif variant == "regular_uint8":
        quant, opts["use_regular_nms"] = True, True
    elif variant == "low_iou":
        opts["nms_iou_threshold"] = 0.1
        opts["nms_score_threshold"] = 0.05
    elif variant == "few_detections":
        opts["max_detections"] = 1
    opts["num_classes"] = classes
    content = _model(n, classes, bg, opts, quant)
    rng = np.random.default_rng(hash(variant) % 1000)
    if quant:
        boxes = rng.integers(100, 156, (1, n, 4)).astype(np.uint8)
        scores = rng.integers(0, 256, (1, n, classes + bg)).astype(np.uint8)
    else:
        boxes = rng.standard_normal((1, n, 4)).astype(np.float32)
        scores = rng.uniform(0, 1, (1, n, classes + bg)).astype(np.float32)
    ref = run_litert(content, [boxes, scores])
    ours = run_ours(content, [boxes, scores])
    count = int(ref[3][0])
    assert int(ours[3][0]) == count
    assert count > 0
    k = count * opts["max_classes_per_detection"] if not opts["use_regular_nms"] else count
    np.testing.assert_array_equal(ours[1][0, :k], ref[1][0, :k])          # classes
    np.testing.assert_allclose(ours[2][0, :k], ref[2][0, :k], rtol=0, atol=1e-6)  # scores
    np.testing.assert_allclose(ours[0][0, :k], ref[0][0, :k], rtol=1e-6, atol=1e-6)  # boxes


def test_bad_iou_threshold_is_rejected_at_allocate():
    import tfl_gpu
    opts = dict(BASE, nms_iou_threshold=1.5)
    it = tfl_gpu.Interpreter(model_content=_model(8, 3, 1, opts))
    with pytest.raises(RuntimeError, match="nms_iou_threshold"):
        it.allocate_tensors()
