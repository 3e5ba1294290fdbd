"""MediaPipe custom ops: against LiteRT's XNNPACK delegate where it implements them (the default resolver),
and against plain-loop reference implementations written from MediaPipe's kernel definitions."""
import math
import struct

import numpy as np
import pytest

import tfl_gpu
from oracle import assert_close, run_ours
from tfl_gpu.writer import ModelBuilder


def pool_opts(pad, sw, sh, fw, fh, act=0):
    return struct.pack("<6i", pad, sw, sh, fw, fh, act) + b"\0" * 16


def litert_default(content, xv):
    lite = pytest.importorskip("ai_edge_litert.interpreter")
    it = lite.Interpreter(model_content=content)          # default resolver: XNNPACK applied
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], xv)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


# ------------------------------------------------------------------------------ loop references

def ref_transpose_conv_bias(x, w, b, stride, same):
    n, h, wd, ci = x.shape
    o, kh, kw, _ = w.shape
    ph = max(0, kh - (h - 1) % stride - 1) if same else 0
    pw = max(0, kw - (wd - 1) % stride - 1) if same else 0
    oh, ow = stride * (h - 1) + kh - ph, stride * (wd - 1) + kw - pw
    out = np.zeros((n, oh, ow, o), np.float64) + b
    for bb in range(n):
        for iy in range(h):
            for ix in range(wd):
                for fy in range(kh):
                    for fx in range(kw):
                        oy, ox = iy * stride - ph // 2 + fy, ix * stride - pw // 2 + fx
                        if 0 <= oy < oh and 0 <= ox < ow:
                            out[bb, oy, ox] += w[:, fy, fx, :] @ x[bb, iy, ix]
    return out.astype(np.float32)


def ref_pool_argmax(x, s, f, same):
    n, h, w, c = x.shape
    oh = (h + s - 1) // s if same else (h - f + s) // s
    ow = (w + s - 1) // s if same else (w - f + s) // s
    pt = max(((oh - 1) * s + f - h) // 2, 0)
    pl = max(((ow - 1) * s + f - w) // 2, 0)
    out = np.zeros((n, oh, ow, c), np.float32)
    idx = np.zeros((n, oh, ow, c), np.float32)
    for bb in range(n):
        for oy in range(oh):
            for ox in range(ow):
                for ch in range(c):
                    best, arg = -np.inf, 0
                    for fy in range(f):
                        for fx in range(f):
                            iy, ix = oy * s - pt + fy, ox * s - pl + fx
                            if 0 <= iy < h and 0 <= ix < w and x[bb, iy, ix, ch] > best:
                                best, arg = x[bb, iy, ix, ch], fy * f + fx
                    out[bb, oy, ox, ch] = best
                    idx[bb, oy, ox, ch] = arg + 0.1
    return out, idx


# ------------------------------------------------------------------------------------ tests

@pytest.mark.parametrize("h,w,k,s,pad", [(6, 5, 3, 2, 1), (4, 4, 2, 2, 1), (5, 3, 3, 1, 2), (7, 6, 4, 3, 1),
                                         (3, 8, 2, 2, 2)])
def test_convolution2d_transpose_bias(h, w, k, s, pad):
    rng = np.random.default_rng(h * 100 + w)
    wt = rng.standard_normal((3, k, k, 4)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    xv = rng.standard_normal((1, h, w, 4)).astype(np.float32)
    ref = ref_transpose_conv_bias(xv, wt, b, s, pad == 1)
    mb = ModelBuilder()
    x = mb.input("x", [1, h, w, 4])
    y = mb.tensor("y", list(ref.shape))
    mb.op("CUSTOM", [x, mb.const("w", wt), mb.const("b", b)], [y], custom_code="Convolution2DTransposeBias",
          custom_options=struct.pack("<3i", pad, s, s))
    mb.output(y)
    content = mb.build()
    ours = run_ours(content, [xv])[0]
    assert_close(ours, ref, 1e-5, "vs loop reference")
    assert_close(ours, litert_default(content, xv)[0], 1e-4, "vs LiteRT XNNPACK")


def test_convolution2d_transpose_bias_runtime_weights():
    """Weights fed as an input: each invoke uses the array it is given (prepared weights are not stale)."""
    rng = np.random.default_rng(7)
    b = rng.standard_normal(3).astype(np.float32)
    xv = rng.standard_normal((1, 5, 4, 2)).astype(np.float32)
    mb = ModelBuilder()
    x = mb.input("x", [1, 5, 4, 2])
    w = mb.input("w", [3, 3, 3, 2])
    y = mb.tensor("y", [])
    mb.op("CUSTOM", [x, w, mb.const("b", b)], [y], custom_code="Convolution2DTransposeBias",
          custom_options=struct.pack("<3i", 1, 2, 2))
    mb.output(y)
    it = tfl_gpu.Interpreter(model_content=mb.build())
    it.allocate_tensors()
    for _ in range(2):
        wt = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
        it.set_tensor(it.get_input_details()[0]["index"], xv)
        it.set_tensor(it.get_input_details()[1]["index"], wt)
        it.invoke()
        assert_close(it.get_tensor(it.get_output_details()[0]["index"]),
                     ref_transpose_conv_bias(xv, wt, b, 2, True), 1e-5, "vs loop reference")


@pytest.mark.parametrize("pad,s,f,shape", [(2, 2, 2, (1, 6, 8, 3)), (2, 2, 3, (2, 7, 7, 2)), (1, 2, 2, (1, 5, 7, 3)),
                                           (1, 3, 3, (1, 7, 4, 2))])
def test_max_pooling_with_argmax_and_unpooling(pad, s, f, shape):
    rng = np.random.default_rng(sum(shape))
    xv = rng.standard_normal(shape).astype(np.float32)
    pooled, idx = ref_pool_argmax(xv, s, f, pad == 1)
    mb = ModelBuilder()
    x = mb.input("x", list(shape))
    y = mb.tensor("y", list(pooled.shape))
    i = mb.tensor("i", list(pooled.shape))
    mb.op("CUSTOM", [x], [y, i], custom_code="MaxPoolingWithArgmax2D", custom_options=pool_opts(pad, s, s, f, f))
    un_shape = [shape[0], pooled.shape[1] * f, pooled.shape[2] * f, shape[3]]
    z = mb.tensor("z", un_shape)
    mb.op("CUSTOM", [y, i], [z], custom_code="MaxUnpooling2D", custom_options=pool_opts(pad, s, s, f, f))
    mb.output(y, i, z)
    content = mb.build()
    oy, oi, oz = run_ours(content, [xv])
    np.testing.assert_array_equal(oy, pooled)
    np.testing.assert_array_equal(oi, idx)
    # unpooling puts every pooled max back at its argmax position (padding: TFLite's ComputePadding)
    assert oz.shape == tuple(un_shape)
    assert np.isclose(oz.sum(), pooled.sum(), rtol=1e-5) or s != f
    if pad == 2 and s == f:   # XNNPACK implements VALID padding with stride == filter only
        ry, ri, rz = litert_default(content, xv)
        np.testing.assert_array_equal(oy, ry)
        # XNNPACK stores its argmax as raw uint32 bits in the float tensor, with its own in-window order,
        # so only the pooled values and the round trip through unpooling are comparable; the index tensor
        # follows MediaPipe's kernel (y * filter_width + x + 0.1), checked against the loop reference above.
        np.testing.assert_array_equal(oz, rz)


@pytest.mark.parametrize("act,lo,hi", [(1, 0.0, np.inf), (2, -1.0, 1.0), (3, 0.0, 6.0), (4, -np.inf, np.inf)])
def test_max_pooling_with_argmax_fused_activation(act, lo, hi):
    # TfLiteFusedActivation codes: 1 relu, 2 relu_n1_to_1, 3 relu6 clamp the pooled values; 4 (tanh) does
    # not in MediaPipe's float kernel. The argmax output is unaffected.
    rng = np.random.default_rng(act)
    xv = (rng.standard_normal((1, 6, 6, 2)) * 4).astype(np.float32)
    pooled, idx = ref_pool_argmax(xv, 2, 2, False)
    mb = ModelBuilder()
    x = mb.input("x", [1, 6, 6, 2])
    y = mb.tensor("y", list(pooled.shape))
    i = mb.tensor("i", list(pooled.shape))
    mb.op("CUSTOM", [x], [y, i], custom_code="MaxPoolingWithArgmax2D", custom_options=pool_opts(2, 2, 2, 2, 2, act))
    mb.output(y, i)
    oy, oi = run_ours(mb.build(), [xv])
    np.testing.assert_array_equal(oy, np.clip(pooled, lo, hi))
    np.testing.assert_array_equal(oi, idx)


def _flex(d):
    from flatbuffers import flexbuffers
    return bytes(flexbuffers.Dumps(d))


def _transform_model(custom, opts, shapes, version=2):
    mb = ModelBuilder()
    ins = [mb.input(f"in{k}", s) for k, s in enumerate(shapes)]
    out = mb.tensor("out", [])
    mb.op("CUSTOM", ins, [out], custom_code=custom, custom_options=_flex(opts), version=version)
    mb.output(out)
    return mb.build()


def test_landmarks_to_transform_matrix_matches_definition():
    rng = np.random.default_rng(7)
    pts = rng.uniform(0, 192, (1, 20, 3)).astype(np.float32)
    opts = {"subset_idxs": [1, 2, 5, 7, 9, 11], "left_rotation_idx": 3, "right_rotation_idx": 8,
            "target_rotation_radians": 0.3, "output_height": 16, "output_width": 24, "scale_x": 1.5,
            "scale_y": 1.25}
    got = run_ours(_transform_model("Landmarks2TransformMatrix", opts, [[1, 20, 3]]), [pts])[0]
    # definition, in float64: rotate the subset so left->right lies at the target angle, take the bbox,
    # then T = shift(center) . rot(-r) . scale(sx*w/ow, sy*h/oh) . shift(-ow/2, -oh/2)
    p = pts[0].astype(np.float64)
    r = 0.3 - math.atan2(p[8, 1] - p[3, 1], p[8, 0] - p[3, 0])
    R = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]])
    q = p[[1, 2, 5, 7, 9, 11], :2] @ R.T
    lo, hi = q.min(0), q.max(0)
    center = np.linalg.inv(R) @ ((lo + hi) / 2)
    size = hi - lo
    T = np.eye(4)
    T[:2, 3] = center
    Rm = np.eye(4)
    Rm[:2, :2] = np.linalg.inv(R)
    S = np.diag([1.5 * size[0] / 24, 1.25 * size[1] / 16, 1, 1])
    T2 = np.eye(4)
    T2[:2, 3] = [-12, -8]
    expected = T @ Rm @ S @ T2
    np.testing.assert_allclose(got[0], expected, rtol=1e-4, atol=1e-3)
    assert got.shape == (1, 4, 4) and got.dtype == np.float32


def test_transform_landmarks():
    rng = np.random.default_rng(3)
    for d in (2, 3):
        pts = rng.standard_normal((1, 11, d)).astype(np.float32)
        m = rng.standard_normal((1, 4, 4)).astype(np.float32)
        mb = ModelBuilder()
        a, b = mb.input("pts", [1, 11, d]), mb.input("m", [1, 4, 4])
        out = mb.tensor("out", [1, 11, d])
        mb.op("CUSTOM", [a, b], [out], custom_code="TransformLandmarks", custom_options=b"", version=2)
        mb.output(out)
        got = run_ours(mb.build(), [pts, m])[0]
        hom = np.concatenate([pts[0, :, :2], np.zeros((11, 1)), np.ones((11, 1))], 1).astype(np.float64)
        exp = pts[0].astype(np.float64).copy()
        exp[:, :2] = hom @ m[0, :2].T.astype(np.float64)
        np.testing.assert_allclose(got[0], exp, rtol=1e-5, atol=1e-5)


def test_transform_tensor_bilinear_identity_and_shift():
    rng = np.random.default_rng(5)
    img = rng.standard_normal((1, 9, 8, 3)).astype(np.float32)
    content = _transform_model("TransformTensorBilinear", {"output_height": 9, "output_width": 8},
                               [[1, 9, 8, 3], [1, 4, 4]])
    ident = np.eye(4, dtype=np.float32)[None]
    got = run_ours(content, [img, ident])[0]
    np.testing.assert_allclose(got, img, atol=1e-6)          # the identity samples every pixel center
    shift = ident.copy()
    shift[0, 0, 3], shift[0, 1, 3] = 0.5, 0.25                 # half a pixel right, a quarter down
    got = run_ours(content, [img, shift])[0]
    for y in range(9):
        for x in range(8):
            tx, ty = x + 0.5, y + 0.25
            if tx > 7 or ty > 8:
                assert np.all(got[0, y, x] == 0)
                continue
            x0, y0 = int(math.floor(tx)), int(math.floor(ty))
            ax, ay = tx - x0, ty - y0

            def px(yy, xx):
                return img[0, yy, xx] if yy < 9 and xx < 8 else np.zeros(3, np.float32)
            exp = (1 - ay) * ((1 - ax) * px(y0, x0) + ax * px(y0, x0 + 1)) + ay * (
                (1 - ax) * px(y0 + 1, x0) + ax * px(y0 + 1, x0 + 1))
            np.testing.assert_allclose(got[0, y, x], exp, rtol=1e-5, atol=1e-5)


def test_bad_custom_options_are_clear_errors():
    mb = ModelBuilder()
    x = mb.input("x", [1, 4, 4, 2])
    y = mb.tensor("y", [])
    mb.op("CUSTOM", [x, mb.const("w", np.ones((1, 2, 2, 2), np.float32)), mb.const("b", np.ones(1, np.float32))],
          [y], custom_code="Convolution2DTransposeBias", custom_options=b"\x01")
    mb.output(y)
    it = tfl_gpu.Interpreter(model_content=mb.build())
    with pytest.raises(RuntimeError, match="Convolution2DTransposeBias"):
        it.allocate_tensors()


def test_face_landmark_with_attention_runs_end_to_end(shared_models):
    """LiteRT cannot load this model at all (three MediaPipe custom ops); we run it. Its layers up to the
    custom ops are the same kinds LiteRT checks elsewhere; here: every output has the declared shape, is
    finite and reproducible, and the refined lips/eyes/irises lie on the same image scale as the mesh."""
    path = shared_models / "mp_face_landmark_with_attention.tflite"
    if not path.exists():
        pytest.skip("model not present")
    it = tfl_gpu.Interpreter(model_path=path)
    it.allocate_tensors()
    x = np.random.default_rng(0).uniform(0, 1, (1, 192, 192, 3)).astype(np.float32)
    outs = []
    for _ in range(2):
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs.append({d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()})
    for d in it.get_output_details():
        got = outs[0][d["name"]]
        assert list(got.shape) == list(d["shape_signature"]), d["name"]
        assert np.all(np.isfinite(got)), d["name"]
        np.testing.assert_array_equal(got, outs[1][d["name"]])
    mesh = outs[0]["output_mesh_identity"].reshape(-1, 3)[:, :2]
    lips = outs[0]["output_lips"].reshape(-1, 2)
    lo, hi = mesh.min(0), mesh.max(0)
    span = hi - lo
    assert np.all((lips >= lo - span) & (lips <= hi + span))
