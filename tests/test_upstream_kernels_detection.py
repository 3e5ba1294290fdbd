"""Ported from TensorFlow Lite's detection_postprocess_test.cc (the TFLite_Detection_PostProcess custom op):
the same six boxes / anchors / class scores, flexbuffer options, float and uint8 inputs, fast and regular NMS,
with and without background class and keypoints; asserting the upstream values (with the upstream tolerances)
and LiteRT's outputs on the same model."""
import numpy as np
import pytest
from flatbuffers import flexbuffers

from upstream_helpers import F32, U8, arr, case, quant_params, quantize

BOXES = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0,
         0.0, 0.0, 0.0, 0.0]
SCORES = [0., .9, .8, 0., .75, .72, 0., .6, .5, 0., .93, .95, 0., .5, .4, 0., .3, .2]
SCORES_NO_BG = [.9, .8, .75, .72, .6, .5, .93, .95, .5, .4, .3, .2]
ANCHORS = [0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5, 10.5, 1.0, 1.0, 0.5, 10.5, 1.0, 1.0,
           0.5, 100.5, 1.0, 1.0]
FAST_BOXES = [0.0, 10.0, 1.0, 11.0, 0.0, 0.0, 1.0, 1.0, 0.0, 100.0, 1.0, 101.0]


def _opts(max_classes=1, regular=None):
    o = {"max_detections": 3, "max_classes_per_detection": max_classes, "nms_score_threshold": 0.0,
         "nms_iou_threshold": 0.5, "num_classes": 2, "y_scale": 10.0, "x_scale": 10.0, "h_scale": 5.0,
         "w_scale": 5.0}
    if regular is not None:
        o.update({"detections_per_class": 1, "use_regular_nms": regular})
    return bytes(flexbuffers.Dumps(o))


def _run(boxes, bshape, scores, sshape, opts, quantized=False):
    if quantized:   # QuantizeAndPopulate with test_util's ranges
        ranges = [(-1.0, 1.0), (0.0, 1.0), (0.0, 100.5)]
        qs = [quant_params(lo, hi, U8) for lo, hi in ranges]
        ins = [quantize(v, s, z, U8).reshape(shp) for v, shp, (s, z) in
               zip((boxes, scores, ANCHORS), (bshape, sshape, [6, 4]), qs)]
        quant = {i: {"scale": [s], "zero_point": [z]} for i, (s, z) in enumerate(qs)}
    else:
        ins = [arr(boxes, F32, bshape), arr(scores, F32, sshape), arr(ANCHORS, F32, [6, 4])]
        quant = None
    return case("CUSTOM", ins, [None] * 4, out_types=[F32] * 4, quant=quant, custom_code="TFLite_Detection_PostProcess",
                custom_options=opts)


def _near(got, exp, tol, what):
    got = np.asarray(got, np.float64).ravel()
    assert got.size == len(exp) and np.max(np.abs(got - np.asarray(exp))) <= tol, f"{what}: {got} vs {exp}"


def _check(outs, shapes, boxes, classes, scores, num, tols):
    for o, s in zip(outs, shapes):
        assert list(o.shape) == s
    _near(outs[0], boxes, tols[0], "detection_boxes")
    _near(outs[1], classes, tols[1], "detection_classes")
    _near(outs[2], scores, tols[1], "detection_scores")
    _near(outs[3], [num], tols[1], "num_detections")


S3 = [[1, 3, 4], [1, 3], [1, 3], [1]]


@pytest.mark.parametrize("regular_flag", [None, False], ids=["base_options", "use_regular_nms_false"])
def test_float_fast_nms(regular_flag):
    outs = _run(BOXES, [1, 6, 4], SCORES, [1, 6, 3], _opts(regular=regular_flag))
    _check(outs, S3, FAST_BOXES, [1, 0, 0], [0.95, 0.9, 0.3], 3, (1e-1, 1e-4))


@pytest.mark.parametrize("regular_flag", [None, False], ids=["base_options", "use_regular_nms_false"])
def test_quantized_fast_nms(regular_flag):
    outs = _run(BOXES, [1, 6, 4], SCORES, [1, 6, 3], _opts(regular=regular_flag), quantized=True)
    _check(outs, S3, FAST_BOXES, [1, 0, 0], [0.95, 0.9, 0.3], 3, (3e-1, 1e-1))


def test_float_degenerated_box():
    # Two detections in three slots: LiteRT's fast NMS leaves the third slot unwritten (whatever the arena
    # held, so it varies between runs); only the detections are compared with LiteRT.
    from oracle import run_ours
    from shape_helpers import build, litert_outputs
    ins = [arr([0.0] * 8, F32, [1, 2, 4]), arr([0., .9, .8, 0., .2, .7], F32, [1, 2, 3]),
           arr([0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 0.0, 0.0], F32, [2, 4])]
    outs = case("CUSTOM", ins, [None] * 4, out_types=[F32] * 4, custom_code="TFLite_Detection_PostProcess",
                custom_options=_opts(), check_litert=False)
    content, feeds = build("CUSTOM", ins, (), out_types=[F32] * 4, custom_code="TFLite_Detection_PostProcess",
                           custom_options=_opts())
    ours, lite = run_ours(content, feeds), litert_outputs(content, feeds)
    assert int(lite[3][0]) == int(ours[3][0]) == 2
    for k in range(3):
        np.testing.assert_allclose(ours[k][0, :2], lite[k][0, :2], rtol=1e-5, atol=1e-6)
    assert int(outs[3][0]) == 2 and list(outs[0].shape) == [1, 3, 4]
    _near(outs[0].ravel()[:8], [0.0, 0.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5], 1e-1, "boxes")
    _near(outs[1].ravel()[:2], [0, 1], 1e-4, "classes")
    _near(outs[2].ravel()[:2], [0.9, 0.7], 1e-4, "scores")


def test_float_max_classes_2():
    outs = _run(BOXES, [1, 6, 4], SCORES, [1, 6, 3], _opts(max_classes=2))
    _check(outs, [[1, 6, 4], [1, 6], [1, 6], [1]],
           [0.0, 10.0, 1.0, 11.0, 0.0, 10.0, 1.0, 11.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 100.0, 1.0,
            101.0, 0.0, 100.0, 1.0, 101.0], [1, 0, 0, 1, 0, 1], [0.95, .93, 0.9, 0.8, 0.3, 0.2], 3, (1e-1, 1e-4))


@pytest.mark.parametrize("quantized", [False, True], ids=["float32", "uint8"])
def test_regular_nms(quantized):
    outs = _run(BOXES, [1, 6, 4], SCORES, [1, 6, 3], _opts(regular=True), quantized=quantized)
    boxes = [0.0, 10.0, 1.0, 11.0, 0.0, 10.0, 1.0, 11.0, 0.0, 0.0, 0.0, 0.0]
    if quantized:
        _check(outs, S3, boxes, [1, 0, 0], [0.95, 0.9, 0.0], 2, (3e-1, 1e-1))
    else:
        _check(outs, S3, boxes, [1, 0, 0], [0.95, 0.93, 0.0], 2, (3e-4, 1e-4))


def test_float_no_background_class():
    outs = _run(BOXES, [1, 6, 4], SCORES_NO_BG, [1, 6, 2], _opts(regular=False))
    _check(outs, S3, FAST_BOXES, [1, 0, 0], [0.95, 0.9, 0.3], 3, (1e-1, 1e-1))


def _with_keypoint(boxes):
    return [v for i in range(6) for v in boxes[4 * i:4 * i + 4] + [1.0]]


def test_float_background_class_and_keypoints():
    outs = _run(_with_keypoint(BOXES), [1, 6, 5], SCORES, [1, 6, 3], _opts(regular=False))
    _check(outs, S3, FAST_BOXES, [1, 0, 0], [0.95, 0.9, 0.3], 3, (1e-1, 1e-4))


def test_quantized_no_background_class_and_keypoints():
    outs = _run(_with_keypoint(BOXES), [1, 6, 5], SCORES_NO_BG, [1, 6, 2], _opts(regular=False), quantized=True)
    _check(outs, S3, FAST_BOXES, [1, 0, 0], [0.95, 0.9, 0.3], 3, (3e-1, 1e-1))


def test_float_no_background_class_and_keypoints():
    outs = _run(_with_keypoint(BOXES), [1, 6, 5], SCORES_NO_BG, [1, 6, 2], _opts(regular=False))
    _check(outs, S3, FAST_BOXES, [1, 0, 0], [0.95, 0.9, 0.3], 3, (1e-1, 1e-4))


def test_quantized_no_background_class_and_keypoints_stable_sort():
    # scores from ssd mobilenet v1: equal quantized scores must keep their order (stable sort)
    sc = [0.015625, 0.007812, 0.003906, 0.015625, 0.015625, 0.007812, 0.019531, 0.019531, 0.007812, 0.003906,
          0.003906, 0.003906]
    outs = _run(_with_keypoint(BOXES), [1, 6, 5], sc, [1, 6, 2], _opts(regular=False), quantized=True)
    _near(outs[0], FAST_BOXES, 3e-1, "boxes")
    _near(outs[1], [0, 0, 0], 1e-1, "classes")
    _near(outs[2], [0.0196078, 0.0156863, 0.00392157], 1e-7, "scores")
    _near(outs[3], [3.0], 1e-1, "num")
