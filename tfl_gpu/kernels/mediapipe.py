"""MediaPipe's custom operators, as MediaPipe's own TFLite kernels define them.

Options of the first three come as raw C structs (TfLiteTransposeConvParams / TfLitePoolParams); the
transform ops take FlexBuffer maps. LiteRT's CPU kernels lack all of these (XNNPACK has the transpose conv).
"""
from __future__ import annotations

import struct

import numpy as np

from ._frozen import is_frozen
from .registry import apply_activation, flexbuffer_options, register

_TFLITE_PADDING = {1: "SAME", 2: "VALID"}          # TfLitePadding: 0 unknown, 1 same, 2 valid


def _struct_ints(node, count: int, what: str) -> tuple[int, ...]:
    raw = node.custom_options or b""
    if len(raw) < 4 * count:
        raise ValueError(f"{node.name}: custom options hold {len(raw)} bytes, {what} needs {4 * count}")
    return struct.unpack_from(f"<{count}i", raw)


def _compute_padding(stride: int, in_size: int, filter_size: int, out_size: int) -> int:
    """TFLite's ComputePadding with dilation 1 (C++ int division of a non-negative value)."""
    p = ((out_size - 1) * stride + filter_size - in_size) // 2
    return max(p, 0)


# TfLiteFusedActivation codes of the C params structs; the others (tanh, sign bit) do not clamp in float kernels
_ACTIVATION = {1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}


def _check_rank(x, rank, what):
    if x.ndim != rank:
        raise ValueError(f"{what} must have rank {rank}, got shape {list(x.shape)}")


@register("Convolution2DTransposeBias", types=("FLOAT32",))
class Convolution2DTransposeBias:
    """Transposed convolution with bias. Inputs: x NHWC, weights [out_c, kh, kw, in_c], bias [out_c].

    Output size: stride * (in - 1) + k - P, where P = max(0, k - (in - 1) % stride - 1) for SAME padding and 0
    for VALID; the first P // 2 rows/columns of the full transposed convolution are cropped away."""

    def __init__(self, node):
        padding, self.sw, self.sh = _struct_ints(node, 3, "TfLiteTransposeConvParams")
        if padding not in _TFLITE_PADDING:
            raise ValueError(f"Convolution2DTransposeBias: unknown padding code {padding}")
        if self.sw <= 0 or self.sh <= 0:
            raise ValueError(f"Convolution2DTransposeBias: strides must be positive, got {self.sw}x{self.sh}")
        self.same = _TFLITE_PADDING[padding] == "SAME"
        w = node.const(1)
        # prepared weights and the array they came from: once for constant weights; a weight input is
        # prepared again at every invoke unless it is the same frozen array (an input buffer keeps its
        # identity while set_tensor rewrites it in place)
        self._w_const = w is not None
        self._w_src, self._w = (w, self._prepare(w)) if w is not None else (None, None)

    @staticmethod
    def _prepare(w):
        w = np.asarray(w, np.float32)
        _check_rank(w, 4, "Convolution2DTransposeBias weights")
        o, kh, kw, ci = w.shape
        # [in_c, kh*kw*out_c]: one GEMM gives every input pixel's contribution to each tap
        return o, kh, kw, ci, np.ascontiguousarray(w.transpose(3, 1, 2, 0).reshape(ci, kh * kw * o))

    def __call__(self, x, w, b):
        if not self._w_const and not (w is self._w_src and is_frozen(w)):
            self._w_src, self._w = w, self._prepare(w)
        o, kh, kw, ci, wm = self._w
        _check_rank(x, 4, "Convolution2DTransposeBias input")
        n, h, wd, c = x.shape
        if c != ci:
            raise ValueError(f"Convolution2DTransposeBias: input has {c} channels, weights expect {ci}")
        b = np.asarray(b, np.float32).reshape(-1)
        if b.size != o:
            raise ValueError(f"Convolution2DTransposeBias: bias has {b.size} values, weights have {o} outputs")
        ph = max(0, kh - (h - 1) % self.sh - 1) if self.same else 0
        pw = max(0, kw - (wd - 1) % self.sw - 1) if self.same else 0
        oh = self.sh * (h - 1) + kh - ph
        ow = self.sw * (wd - 1) + kw - pw
        cols = (np.asarray(x, np.float32).reshape(-1, c) @ wm).reshape(n, h, wd, kh, kw, o)
        full = np.zeros((n, self.sh * (h - 1) + kh, self.sw * (wd - 1) + kw, o), np.float32)
        he, we = (h - 1) * self.sh + 1, (wd - 1) * self.sw + 1
        for i in range(kh):
            for j in range(kw):
                full[:, i:i + he:self.sh, j:j + we:self.sw, :] += cols[:, :, :, i, j, :]
        top, left = ph // 2, pw // 2
        return full[:, top:top + oh, left:left + ow, :] + b


class _PoolParams:
    def __init__(self, node):
        padding, self.sw, self.sh, self.fw, self.fh, self.act = _struct_ints(node, 6, "TfLitePoolParams")
        if padding not in _TFLITE_PADDING:
            raise ValueError(f"{node.name}: unknown padding code {padding}")
        if min(self.sw, self.sh, self.fw, self.fh) <= 0:
            raise ValueError(f"{node.name}: strides and filter sizes must be positive")
        self.same = _TFLITE_PADDING[padding] == "SAME"


@register("MaxPoolingWithArgmax2D", types=("FLOAT32",))
class MaxPoolingWithArgmax2D(_PoolParams):
    """Max pooling that also outputs, per output cell, the argmax position inside its window
    (``y * filter_width + x``, as float32 with +0.1 so that truncation recovers the integer)."""

    def __call__(self, x):
        _check_rank(x, 4, "MaxPoolingWithArgmax2D input")
        n, h, w, c = x.shape
        if self.same:
            oh, ow = (h + self.sh - 1) // self.sh, (w + self.sw - 1) // self.sw
        else:
            oh, ow = (h - self.fh + self.sh) // self.sh, (w - self.fw + self.sw) // self.sw
        oh, ow = max(oh, 0), max(ow, 0)
        pt = _compute_padding(self.sh, h, self.fh, oh)
        pl = _compute_padding(self.sw, w, self.fw, ow)
        lowest = np.finfo(np.float32).min
        best = np.full((n, oh, ow, c), lowest, np.float32)
        arg = np.zeros((n, oh, ow, c), np.int32)
        ys = np.arange(oh) * self.sh - pt
        xs = np.arange(ow) * self.sw - pl
        x = np.asarray(x, np.float32)
        # scan the window in the kernel's order (rows, then columns) so ties keep the first position
        for fy in range(self.fh):
            iy = ys + fy
            vy = (iy >= 0) & (iy < h)
            for fx in range(self.fw):
                ix = xs + fx
                vx = (ix >= 0) & (ix < w)
                vals = np.full((n, oh, ow, c), lowest, np.float32)
                sel = x[:, np.clip(iy, 0, h - 1)][:, :, np.clip(ix, 0, w - 1)]
                mask = (vy[:, None] & vx[None, :])[None, :, :, None]
                vals = np.where(mask, sel, vals)
                better = vals > best
                best = np.where(better, vals, best)
                arg = np.where(better, fy * self.fw + fx, arg)
        return apply_activation(best, _ACTIVATION.get(self.act, "NONE")), arg.astype(np.float32) + np.float32(0.1)


@register("MaxUnpooling2D", types=("FLOAT32",))
class MaxUnpooling2D(_PoolParams):
    """Scatters each input value to the window position its argmax index names; the rest is zero.
    Indices that point outside the output are skipped (they describe no unpooling location)."""

    def __call__(self, x, idx):
        _check_rank(x, 4, "MaxUnpooling2D input")
        _check_rank(idx, 4, "MaxUnpooling2D indices")
        if idx.shape != x.shape:
            raise ValueError(f"MaxUnpooling2D: indices shape {list(idx.shape)} != input shape {list(x.shape)}")
        n, h, w, c = x.shape
        oh, ow = h * self.fh, w * self.fw
        pt = _compute_padding(self.sh, oh, self.fh, h)
        pl = _compute_padding(self.sw, ow, self.fw, w)
        k = np.trunc(np.asarray(idx, np.float32)).astype(np.int64)
        my, mx = k // self.fw, k % self.fw
        oy = np.arange(h)[None, :, None, None] * self.sh - pt + my
        ox = np.arange(w)[None, None, :, None] * self.sw - pl + mx
        out = np.zeros((n, oh, ow, c), np.float32)
        ok = (oy >= 0) & (oy < oh) & (ox >= 0) & (ox < ow)
        bi, _, _, ci = np.broadcast_arrays(np.arange(n)[:, None, None, None], oy, ox, np.arange(c)[None, None, None, :])
        out[bi[ok], oy[ok], ox[ok], ci[ok]] = np.asarray(x, np.float32)[ok]
        return out


def _rot(r: np.float32) -> tuple[np.float32, np.float32]:
    return np.float32(np.cos(r)), np.float32(np.sin(r))


@register("Landmarks2TransformMatrix", types=("FLOAT32",))
class Landmarks2TransformMatrix:
    """Version 2 (landmarks [1, N, 3]): a 4x4 matrix mapping an output_width x output_height crop, rotated so
    the left->right landmark line has ``target_rotation_radians``, around the subset's bounding box (scaled by
    scale_x / scale_y), into input coordinates."""

    def __init__(self, node):
        o = flexbuffer_options(node)
        try:
            subset = [int(v) for v in o["subset_idxs"]]
            self.left = int(o["left_rotation_idx"])
            self.right = int(o["right_rotation_idx"])
            self.target = np.float32(o.get("target_rotation_radians", 0.0))
            self.out_h = int(o["output_height"])
            self.out_w = int(o["output_width"])
            self.scale_x = np.float32(o["scale_x"])
            self.scale_y = np.float32(o["scale_y"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"Landmarks2TransformMatrix: bad custom options ({e})") from None
        if self.left < 0 or self.right < 0 or min(subset, default=0) < 0 or not subset:
            raise ValueError("Landmarks2TransformMatrix: landmark indices must be non-negative")
        if self.out_h <= 0 or self.out_w <= 0 or self.scale_x <= 0 or self.scale_y <= 0:
            raise ValueError("Landmarks2TransformMatrix: output size and scales must be positive")
        self.subset = np.array(subset, np.int64)

    def __call__(self, landmarks):
        _check_rank(landmarks, 3, "Landmarks2TransformMatrix landmarks")
        pts = np.asarray(landmarks, np.float32).reshape(-1, landmarks.shape[-1])
        top = int(max(self.left, self.right, int(self.subset.max())))
        if top >= pts.shape[0] or pts.shape[1] < 2:
            raise ValueError(f"Landmarks2TransformMatrix: landmark index {top} out of range for "
                             f"{pts.shape[0]} landmarks")
        f32 = np.float32
        lx, ly = pts[self.left, 0], pts[self.left, 1]
        rx, ry = pts[self.right, 0], pts[self.right, 1]
        rotation = f32(self.target - f32(np.arctan2(f32(ry - ly), f32(rx - lx))))
        c, s = _rot(rotation)
        sub = pts[self.subset]
        rx_ = c * sub[:, 0] - s * sub[:, 1]
        ry_ = s * sub[:, 0] + c * sub[:, 1]
        xmax, xmin, ymax, ymin = rx_.max(), rx_.min(), ry_.max(), ry_.min()
        crop_w, crop_h = f32(xmax - xmin), f32(ymax - ymin)
        mx, my = f32((xmin + xmax) / f32(2)), f32((ymin + ymax) / f32(2))
        ci, si = _rot(f32(-rotation))
        crop_x = f32(ci * mx - si * my)
        crop_y = f32(si * mx + ci * my)
        cr, sr = _rot(f32(-rotation))
        sx = f32(self.scale_x * crop_w / f32(self.out_w))
        sy = f32(self.scale_y * crop_h / f32(self.out_h))
        shift = np.array([[1, 0, 0, crop_x], [0, 1, 0, crop_y], [0, 0, 1, 0], [0, 0, 0, 1]], f32)
        rot = np.array([[cr, -sr, 0, 0], [sr, cr, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], f32)
        scale = np.diag(np.array([sx, sy, 1, 1], f32))
        shift2 = np.array([[1, 0, 0, -self.out_w / 2.0], [0, 1, 0, -self.out_h / 2.0], [0, 0, 1, 0],
                           [0, 0, 0, 1]], f32)
        t = ((shift @ rot).astype(f32) @ scale).astype(f32) @ shift2
        return t.astype(f32).reshape(1, 4, 4)


@register("TransformLandmarks", types=("FLOAT32",))
def transform_landmarks(node, landmarks, matrix):
    """Version 2 (landmarks [1, N, 2 or 3]): x, y go through the first two rows of the 4x4 matrix (z = 0,
    w = 1); a third coordinate is copied unchanged."""
    _check_rank(landmarks, 3, "TransformLandmarks landmarks")
    d = landmarks.shape[-1]
    if d not in (2, 3):
        raise ValueError(f"TransformLandmarks: landmarks must have 2 or 3 coordinates, got {d}")
    m = np.asarray(matrix, np.float32).reshape(-1)
    if m.size < 8:
        raise ValueError("TransformLandmarks: the matrix input needs at least 8 values")
    pts = np.asarray(landmarks, np.float32)
    x, y = pts[..., 0], pts[..., 1]
    out = pts.copy()
    out[..., 0] = m[0] * x + m[1] * y + m[3]
    out[..., 1] = m[4] * x + m[5] * y + m[7]
    return out


@register("TransformTensorBilinear", types=("FLOAT32",))
class TransformTensorBilinear:
    """Version 2: samples the input (NHWC) bilinearly at the matrix-transformed pixel centers of an
    output_height x output_width grid; points whose coordinates leave [0, size-1] give 0."""

    def __init__(self, node):
        o = flexbuffer_options(node)
        try:
            self.out_h, self.out_w = int(o["output_height"]), int(o["output_width"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"TransformTensorBilinear: bad custom options ({e})") from None
        if self.out_h <= 0 or self.out_w <= 0:
            raise ValueError("TransformTensorBilinear: output size must be positive")
        self.version = node.op.version

    def __call__(self, x, matrix):
        _check_rank(x, 4, "TransformTensorBilinear input")
        m = np.asarray(matrix, np.float32).reshape(-1)
        if m.size < 8:
            raise ValueError("TransformTensorBilinear: the matrix input needs at least 8 values")
        f32 = np.float32
        xt = m[0:4].copy()
        yt = m[4:8].copy()
        if self.version >= 2:
            # align-corners correction: sample at pixel centers
            xt[3] += f32(xt[0] * f32(0.5) + xt[1] * f32(0.5) - f32(0.5))
            yt[3] += f32(yt[0] * f32(0.5) + yt[1] * f32(0.5) - f32(0.5))
        n, h, w, c = x.shape
        oy, ox = np.meshgrid(np.arange(self.out_h, dtype=f32), np.arange(self.out_w, dtype=f32), indexing="ij")
        tx = xt[0] * ox + xt[1] * oy + xt[3]
        ty = yt[0] * ox + yt[1] * oy + yt[3]
        inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
        fx, fy = np.floor(tx), np.floor(ty)
        rx, ry = (tx - fx)[..., None], (ty - fy)[..., None]
        x0, y0 = fx.astype(np.int64), fy.astype(np.int64)
        src = np.asarray(x[0], np.float32)

        def read(yy, xx):
            ok = (yy >= 0) & (xx >= 0) & (yy < h) & (xx < w)
            v = src[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
            return np.where(ok[..., None], v, f32(0))

        q11, q21 = read(y0, x0), read(y0, x0 + 1)
        q12, q22 = read(y0 + 1, x0), read(y0 + 1, x0 + 1)
        upper = (f32(1) - rx) * q11 + rx * q21
        lower = (f32(1) - rx) * q12 + rx * q22
        out = ry * lower + (f32(1) - ry) * upper
        out = np.where(inside[..., None], out, f32(0)).astype(f32)
        return out[None]
