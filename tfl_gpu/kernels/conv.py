"""CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV (float32).

Layouts follow TFLite: activations NHWC, CONV_2D filter [out_c, kh, kw, in_c / groups], DEPTHWISE_CONV_2D
filter [1, kh, kw, in_c * multiplier], TRANSPOSE_CONV filter [out_c, kh, kw, in_c].

Speed notes (numpy only; measured on MobileNetV2 / MediaPipe shapes):
* CONV_2D is im2col + one float32 GEMM. A 1x1 convolution is a plain reshape + GEMM (strided 1x1 first
  subsamples the input). im2col copies the (i, j, c)-ordered window view of a zero-bordered scratch buffer
  (border written once) into a reused buffer. Large outputs run the GEMM by row blocks so bias and clamp hit
  cache-hot data. Stride-1 convs with <= 4 output channels skip im2col (per-tap products on contiguous
  views of the flat padded input).
* DEPTHWISE_CONV_2D runs ``einsum`` over blocks of whole output rows against row-tiled weights (see the
  class docstring); strided layers go through a stride-phase split first.
* Weight layouts are prepared once: in ``__init__`` for constant weights; weights computed from constants
  at runtime (float16 constants through DEQUANTIZE, sparse ones through DENSIFY) are cached keyed by the
  identity of the incoming array, so repeated invokes skip the transpose/reshape.
* Fused activations clamp with the ``clip`` ufunc (np.clip's Python wrapper costs more per block).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..limits import check_allocation
from .registry import apply_activation, float_node, register

_FLOAT_W = ("FLOAT32", "FLOAT16")


def _type(node, i):
    t = node.inputs[i] if i < len(node.inputs) else None
    return None if t is None else t.type_name


def float_conv_node(node) -> bool:
    """Float activations with float weights (hybrid int8-weight convs are left to other kernels)."""
    return float_node(node) and _type(node, 0) == "FLOAT32" and _type(node, 1) in _FLOAT_W


def float_transpose_conv_node(node) -> bool:
    return len(node.inputs) >= 3 and _type(node, 2) == "FLOAT32" and _type(node, 1) in _FLOAT_W


# Deterministic, stateless ops: fed only constants, their output is the same at every invoke.
_CONST_FOLDABLE = ("DEQUANTIZE", "DENSIFY", "RESHAPE", "TRANSPOSE", "CAST", "SQUEEZE", "EXPAND_DIMS")


def static_input(node, i: int) -> bool:
    """True when input ``i`` is a constant, or computed only from constants by DEQUANTIZE/DENSIFY (float16 and
    sparse MediaPipe weights) or a layout op: its value is the same at every invoke, so a layout prepared from
    it may be cached by array identity."""
    t = node.inputs[i] if i < len(node.inputs) else None
    if t is None:
        return False
    if t.data is not None:
        return True
    try:
        sg = node._runtime.subgraphs[node.subgraph_index].sg
    except (AttributeError, IndexError, TypeError):
        return False
    producers = {}
    for op in sg.operators:
        for o in op.outputs:
            producers[o] = op
    seen = set()

    def static(idx, depth=0):
        tt = sg.tensors[idx]
        if tt.data is not None:
            return True
        if tt.is_variable or idx in seen or depth > 8:
            return False
        seen.add(idx)
        op = producers.get(idx)
        return (op is not None and op.opcode in _CONST_FOLDABLE
                and all(static(j, depth + 1) for j in op.inputs if j >= 0))

    try:
        return static(t.index)
    except (AttributeError, IndexError):
        return False


class WeightCache:
    """Prepared weight layout keyed by the identity of the incoming weight array (holding a reference to
    it, so the id cannot be recycled while cached)."""
    __slots__ = ("prepare", "static", "src", "value")

    def __init__(self, prepare, static: bool, const=None):
        self.prepare = prepare
        self.static = static
        self.src = None
        self.value = None
        if const is not None:
            self.get(const)

    def get(self, w):
        if w is self.src:
            return self.value
        value = self.prepare(w)
        if self.static:
            self.src, self.value = w, value
        return value


def out_size_and_pad(in_size: int, k: int, stride: int, dilation: int, padding: str):
    """TFLite's ComputePaddingHeightWidth: (output size, pad before, pad after)."""
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    elif padding == "VALID":
        out = (in_size - eff + stride) // stride
    else:
        raise ValueError(f"unsupported padding {padding!r}")
    total = max((out - 1) * stride + eff - in_size, 0)
    before = total // 2
    return out, before, total - before


def _pos_int(v, what):
    v = int(v)
    if v <= 0:
        raise ValueError(f"{what} must be positive, got {v}")
    return v


class _Geometry:
    """Per input shape: output size, padding and a reusable zero-bordered scratch buffer."""
    __slots__ = ("oh", "ow", "pt", "pb", "pl", "pr", "buf", "phases")

    def __init__(self, h, w, kh, kw, sh, sw, dh, dw, padding):
        self.oh, self.pt, self.pb = out_size_and_pad(h, kh, sh, dh, padding)
        self.ow, self.pl, self.pr = out_size_and_pad(w, kw, sw, dw, padding)
        # LiteRT's ComputeOutSize divides (in + stride - eff) by the stride with C's truncation: a
        # numerator in (-stride, 0) gives an empty output, not an error (openWakeWord's melspectrogram on
        # fewer than 512 samples)
        if self.oh < 0 and h + sh - ((kh - 1) * dh + 1) > -sh:
            self.oh = 0
        if self.ow < 0 and w + sw - ((kw - 1) * dw + 1) > -sw:
            self.ow = 0
        if self.oh < 0 or self.ow < 0:
            raise ValueError(f"input {h}x{w} is smaller than the {kh}x{kw} filter (dilation {dh}x{dw}) "
                             f"with VALID padding")
        self.buf = None
        self.phases = None

    def padded(self, x):
        """x with its zero border (a view of x when no padding is needed)."""
        if not (self.pt or self.pb or self.pl or self.pr):
            return x
        n, h, w, c = x.shape
        buf = self.buf
        if buf is None or buf.shape[0] != n or buf.shape[3] != c:
            buf = self.buf = np.zeros((n, h + self.pt + self.pb, w + self.pl + self.pr, c), np.float32)
        buf[:, self.pt:self.pt + h, self.pl:self.pl + w, :] = x
        return buf


def _windows(xp, g: _Geometry, kh, kw, sh, sw, dh, dw):
    """[n, oh, ow, c, kh, kw] strided view of the padded input's receptive fields."""
    v = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
    if dh > 1 or dw > 1:
        v = v[..., ::dh, ::dw]
    return v[:, :(g.oh - 1) * sh + 1:sh, :(g.ow - 1) * sw + 1:sw]


def _patches(xp, g: _Geometry, kh, kw, sh, sw, dh, dw):
    """[n, oh, ow, kh, kw, c] strided view of the receptive fields (im2col order (i, j, c)). For a contiguous
    buffer it is built by the ndarray constructor (which checks it stays inside the buffer): ~1 us, where
    sliding_window_view + moveaxis cost ~30 us, which dominated small layers."""
    if not xp.flags.c_contiguous:
        return np.moveaxis(_windows(xp, g, kh, kw, sh, sw, dh, dw), 3, 5)
    n, _, _, c = xp.shape
    s_n, s_h, s_w, s_c = xp.strides
    return np.ndarray((n, g.oh, g.ow, kh, kw, c), xp.dtype, xp, 0,
                      (s_n, sh * s_h, sw * s_w, dh * s_h, dw * s_w, s_c))


def _as_f32(a):
    return a if a.dtype == np.float32 else a.astype(np.float32)


class _ConvBase:
    def _geometry(self, x):
        key = x.shape[1:3]
        g = self._geo.get(key)
        if g is None:
            if len(self._geo) > 8:
                self._geo.clear()
            g = self._geo[key] = _Geometry(x.shape[1], x.shape[2], self.kh, self.kw, self.sh, self.sw,
                                           self.dh, self.dw, self.padding)
        return g

    def _read_options(self, node):
        o = node.options
        self.padding = o.get("padding", "SAME")
        self.sh = _pos_int(o.get("stride_h", 1), "stride_h")
        self.sw = _pos_int(o.get("stride_w", 1), "stride_w")
        self.dh = _pos_int(o.get("dilation_h_factor", 1), "dilation_h_factor")
        self.dw = _pos_int(o.get("dilation_w_factor", 1), "dilation_w_factor")
        self.act = o.get("fused_activation_function", "NONE")
        if self.act not in _ACT_RANGE and self.act not in _NO_ACT:
            raise ValueError(f"unknown fused activation {self.act!r}")
        self._geo = {}
        self._bias_key = None
        self._bias_row = None
        self.bias_static = static_input(node, 2)

    def _row_bias(self, b, ow):
        key = (b, ow)
        if self._bias_key is not None and self._bias_key[0] is b and self._bias_key[1] == ow:
            return self._bias_row
        row = np.tile(_as_f32(b).reshape(-1), ow)
        if self.bias_static:
            self._bias_key, self._bias_row = key, row
        return row

    def _finish(self, y, b, ow=0):
        """Bias and clamp, in place. With few channels, the bias is added as a row tiled ``ow`` times along
        the output width when ``y`` is contiguous [..., ow, o]: numpy's broadcast add over an inner axis of 8
        or 16 values is ~3x slower than a plain row add."""
        if b is not None:
            o = y.shape[-1]
            if ow > 1 and o < 32 and y.size >= 4096 and y.flags.c_contiguous and y.size % (ow * o) == 0:
                y2 = y.reshape(-1, ow * o)
                y2 += self._row_bias(b, ow)
            else:
                y += b if b.dtype == np.float32 else b.astype(np.float32)
        lo, hi = _ACT_RANGE.get(self.act, (None, None))
        if lo is not None:
            _clamp(y, lo, hi)
        return y


_NO_ACT = ("NONE", "TANH", "SIGN_BIT", None)
# Clamp bounds of the fused activations (as ufunc calls: np.clip's Python wrapper costs more per call).
_ACT_RANGE = {"RELU": (np.float32(0), None), "RELU6": (np.float32(0), np.float32(6)),
              "RELU_N1_TO_1": (np.float32(-1), np.float32(1))}
try:                                    # einsum without its Python dispatch layer (called per row block)
    from numpy._core.multiarray import c_einsum as _einsum
except ImportError:                     # pragma: no cover - older numpy
    _einsum = np.einsum
try:                                    # the clip ufunc itself: one pass, no Python wrapper
    from numpy._core.umath import clip as _clip_ufunc
except ImportError:                     # pragma: no cover - older numpy
    _clip_ufunc = None


def _clamp(a, lo, hi):
    """In-place clamp of a float32 block to [lo, hi] (either bound may be None)."""
    if hi is None:
        np.maximum(a, lo, out=a)
    elif _clip_ufunc is not None:
        _clip_ufunc(a, lo, hi, out=a)
    else:
        np.maximum(a, lo, out=a)
        np.minimum(a, hi, out=a)


# Output elements per GEMM row block when bias/activation follow: the block stays cache-hot for them.
_GEMM_BLOCK_ELEMS = 65536
# Row blocks only pay off for outputs well beyond the L2 cache: measured at 1 thread, one GEMM followed by
# whole-array bias/clamp passes is 5-15% faster up to ~450k output elements (e.g. 9216x75 @ 75x32: 532 vs
# 584 us), row blocks win from ~1M (12544x16 @ 16x96: 804 vs 975 us).
_GEMM_BLOCKED_MIN = 8 * _GEMM_BLOCK_ELEMS


@register("CONV_2D", when=float_conv_node, types=("FLOAT32",))
class Conv2D(_ConvBase):
    def __init__(self, node):
        self._read_options(node)
        w = node.const(1)
        shape = node.inputs[1].shape if w is None else w.shape
        if len(shape) != 4:
            raise ValueError(f"CONV_2D filter must be 4-D [out, kh, kw, in], got shape {list(shape)}")
        self.kh, self.kw = int(shape[1]), int(shape[2])
        self._cols = None
        self.weights = WeightCache(self._prepare, static_input(node, 1), w)

    def _prepare(self, w):
        """A [kh * kw * cin_g, out] matrix in the (i, j, c) order of the im2col rows; grouped convs use
        its column block [:, g*og:(g+1)*og] for group g."""
        w = np.asarray(w)
        if w.ndim != 4:
            raise ValueError(f"CONV_2D filter must be 4-D, got shape {list(w.shape)}")
        o, kh, kw, cg = w.shape
        w = _as_f32(w)
        return o, kh, kw, cg, np.ascontiguousarray(w.transpose(1, 2, 3, 0).reshape(kh * kw * cg, o))

    def __call__(self, x, w, b=None):
        if x.ndim != 4:
            raise ValueError(f"CONV_2D input must be 4-D NHWC, got shape {list(x.shape)}")
        o, kh, kw, cg, wm = self.weights.get(w)
        if (kh, kw) != (self.kh, self.kw):
            self.kh, self.kw = kh, kw
            self._geo = {}
        x = _as_f32(x)
        n, h, wd, c = x.shape
        if cg <= 0 or c % cg:
            raise ValueError(f"CONV_2D input has {c} channels, not a multiple of the filter's {cg}")
        groups = c // cg
        if o % groups:
            raise ValueError(f"CONV_2D: {o} output channels do not split into {groups} groups")
        if b is not None and b.size != o:
            raise ValueError(f"CONV_2D bias has {b.size} values for {o} output channels")
        g = self._geometry(x)
        if g.oh == 0 or g.ow == 0:
            return np.zeros((n, g.oh, g.ow, o), np.float32)
        m = n * g.oh * g.ow
        if o <= 4 and groups == 1 and self.sh == 1 and self.sw == 1 and (kh > 1 or kw > 1):
            return self._flat_taps(x, g, kh, kw, c, o, wm, b)
        if kh == 1 and kw == 1 and not (g.pt or g.pl or g.pb or g.pr):
            xs = x if self.sh == 1 and self.sw == 1 else x[:, ::self.sh, ::self.sw, :][:, :g.oh, :g.ow]
            cols = xs.reshape(m, c)
        else:
            # im2col in (i, j, c) order, copied into a reused scratch buffer (much faster than reshaping
            # the (c, i, j)-ordered window view directly)
            v = _patches(g.padded(x), g, kh, kw, self.sh, self.sw, self.dh, self.dw)
            cols = self._cols
            if cols is None or cols.shape != v.shape:
                cols = self._cols = np.empty(v.shape, np.float32)
            np.copyto(cols, v)
            cols = cols.reshape(m, kh * kw * c)
        if groups == 1:
            if m * o >= _GEMM_BLOCKED_MIN and (b is not None or self.act not in _NO_ACT):
                return self._blocked_gemm(cols, wm, b, m, o, g.ow).reshape(n, g.oh, g.ow, o)
            y = cols @ wm
        else:
            og = o // groups
            y = np.empty((m, o), np.float32)
            cols4 = cols.reshape(m, kh * kw, groups, cg)
            for gi in range(groups):
                np.matmul(cols4[:, :, gi, :].reshape(m, kh * kw * cg), wm[:, gi * og:(gi + 1) * og],
                          out=y[:, gi * og:(gi + 1) * og])
        y = self._finish(y, b, g.ow)
        return y.reshape(n, g.oh, g.ow, o)

    def _flat_taps(self, x, g, kh, kw, c, o, wm, b):
        """Stride 1 with very few output channels (segmentation heads): instead of an im2col copy 9x the
        input, one GEMV-like product per tap on contiguous views of the flat padded input (pixel p's tap
        (i, j) is at flat row p + i*dh*Wp + j*dw), accumulated."""
        xp = g.padded(x)
        if not xp.flags.c_contiguous:
            xp = np.ascontiguousarray(xp)
        n, hp, wp, _ = xp.shape
        flat = xp.reshape(-1)
        npix = ((n - 1) * hp + g.oh - 1) * wp + g.ow
        acc = np.empty((n * hp * wp, o), np.float32)
        a = acc[:npix]
        tmp = None
        for i in range(kh):
            for j in range(kw):
                off = (i * self.dh * wp + j * self.dw) * c
                xt = flat[off:off + npix * c].reshape(npix, c)
                wt = wm[(i * kw + j) * c:(i * kw + j + 1) * c]
                if tmp is None:
                    np.matmul(xt, wt, out=a)
                    tmp = np.empty_like(a)
                else:
                    np.matmul(xt, wt, out=tmp)
                    a += tmp
        return self._finish(acc.reshape(n, hp, wp, o)[:, :g.oh, :g.ow, :], b)

    def _blocked_gemm(self, cols, wm, b, m, o, ow=1):
        """GEMM by row blocks, adding the bias and clamping each block while it is in cache."""
        y = np.empty((m, o), np.float32)
        rows = max(32, _GEMM_BLOCK_ELEMS // o)
        bias = None if b is None else _as_f32(b).reshape(o)
        if bias is not None and o < 32 and ow > 1:
            # few channels: add the bias as a row tiled along whole output rows (see _finish)
            rows = max(ow, rows // ow * ow)
            brow = self._row_bias(b, ow)
            bias = None
        else:
            brow = None
        lo, hi = _ACT_RANGE.get(self.act, (None, None))
        matmul = np.matmul
        for r0 in range(0, m, rows):
            r1 = min(m, r0 + rows)
            yy = y[r0:r1]
            matmul(cols[r0:r1], wm, out=yy)
            if bias is not None:
                yy += bias
            elif brow is not None and (r1 - r0) % ow == 0:
                yy.reshape(-1, brow.size).__iadd__(brow)
            elif brow is not None:
                yy += _as_f32(b).reshape(o)
            if lo is not None:
                _clamp(yy, lo, hi)
        return y


# Output elements per einsum call of the depthwise row-block algorithm (stays in L1/L2 with its taps).
_DW_BLOCK_ELEMS = 16384


@register("DEPTHWISE_CONV_2D", when=float_conv_node, types=("FLOAT32",))
class DepthwiseConv2D(_ConvBase):
    """Depthwise convolution as blocks of whole output rows ("row blocks"):

    In a zero-bordered NHWC buffer, output row ``oh`` (all ``OW * C`` values, contiguous) reads, for tap
    (i, j), the contiguous run of ``OW * C`` input values starting at row ``oh + i*dh``, column ``j*dw``. So
    every tap of a block of R output rows is one regular strided view, and a single
    ``einsum('ijrl,ijl->rl')`` against the weights tiled along one output row multiplies and accumulates all
    taps with long contiguous inner loops, writing the block straight into the contiguous output. Bias and the
    clamp follow on the cache-hot block.

    Strided layers first split the input into stride phases (row r, column c go to phase (r % sh, c % sw) at
    (r // sh, c // sw)): output (oh, ow) then reads phase (ri, rj) at (oh + qi, ow + qj), a stride-1 pattern
    over a [sh, sw, ceil(kh/sh), ceil(kw/sw)] tap grid (taps outside the filter get zero weights). Strided
    layers that are also dilated, or whose grid wastes many zero taps on many channels (3x3/2 with > 64
    channels), use one ``einsum`` over the [n, oh, ow, c, kh, kw] window view.
    """

    def __init__(self, node):
        self._read_options(node)
        self.multiplier = int(node.options.get("depth_multiplier", 1) or 1)
        w = node.const(1)
        shape = node.inputs[1].shape if w is None else w.shape
        if len(shape) != 4 or int(shape[0]) != 1:
            raise ValueError(f"DEPTHWISE_CONV_2D filter must be [1, kh, kw, channels], got {list(shape)}")
        self.kh, self.kw = int(shape[1]), int(shape[2])
        self.weights = WeightCache(self._prepare, static_input(node, 1), w)

    def _prepare(self, w):
        """(kh, kw, co, [kh, kw, co] weights, tap grid or None, {OW: grid tiled along one output row})."""
        w = np.asarray(w)
        if w.ndim != 4 or w.shape[0] != 1:
            raise ValueError(f"DEPTHWISE_CONV_2D filter must be [1, kh, kw, channels], got {list(w.shape)}")
        _, kh, kw, co = w.shape
        wk = np.ascontiguousarray(_as_f32(w[0]))          # [kh, kw, co]
        sh, sw = self.sh, self.sw
        if sh == 1 and sw == 1:
            grid = wk
        elif self.dh == 1 and self.dw == 1 and (co <= 64 or (-(-kh // sh) * sh * -(-kw // sw) * sw
                                                             <= 1.5 * kh * kw)):
            # (measured: with many channels the zero taps of a 3x3/2 grid (16 for 9) cost more than the
            # window einsum below)
            grid = np.zeros((sh, sw, -(-kh // sh), -(-kw // sw), co), np.float32)
            for i in range(kh):
                for j in range(kw):
                    grid[i % sh, j % sw, i // sh, j // sw] = wk[i, j]
        else:
            grid = None
        return kh, kw, co, wk, grid, {}

    def _row_weights(self, wk, ow):
        """The 1x1 depthwise weights [co] tiled ``ow`` times (cached for the current weight layout)."""
        key = (id(wk), ow)
        cached = getattr(self, "_wrow", None)
        if cached is not None and cached[0] == key and cached[1] is wk:
            return cached[2]
        row = np.tile(wk.reshape(-1), ow)
        self._wrow = (key, wk, row)
        return row

    def __call__(self, x, w, b=None):
        if x.ndim != 4:
            raise ValueError(f"DEPTHWISE_CONV_2D input must be 4-D NHWC, got shape {list(x.shape)}")
        kh, kw, co, wk, grid, row_tiles = self.weights.get(w)
        if (kh, kw) != (self.kh, self.kw):
            self.kh, self.kw = kh, kw
            self._geo = {}
        x = _as_f32(x)
        c = x.shape[3]
        if c == 0 or co % c:
            raise ValueError(f"DEPTHWISE_CONV_2D: {co} output channels is not a multiple of the "
                             f"{c} input channels")
        if b is not None and b.size != co:
            raise ValueError(f"DEPTHWISE_CONV_2D bias has {b.size} values for {co} channels")
        m = co // c
        if m > 1:
            # output channel ci * m + k reads input channel ci
            x = np.repeat(x, m, axis=3)
        g = self._geometry(x)
        if g.oh == 0 or g.ow == 0:
            return np.zeros((x.shape[0], g.oh, g.ow, co), np.float32)
        if kh == 1 and kw == 1 and not (g.pt or g.pl or g.pb or g.pr):
            xs = x if self.sh == 1 and self.sw == 1 else x[:, ::self.sh, ::self.sw, :][:, :g.oh, :g.ow]
            if co < 32 and xs.flags.c_contiguous and xs.size >= 4096 and g.ow > 1:
                # few channels: multiply whole rows by the weights tiled along the row (see _finish)
                wrow = self._row_weights(wk, g.ow)
                y = np.multiply(xs.reshape(-1, wrow.size), wrow).reshape(xs.shape)
                return self._finish(y, b, g.ow)
            return self._finish(xs * wk[0, 0], b)
        if grid is None:
            v = _patches(g.padded(x), g, kh, kw, self.sh, self.sw, self.dh, self.dw)
            return self._finish(_einsum("nhwijc,ijc->nhwc", v, wk), b)
        row = row_tiles.get(g.ow)
        if row is None:
            if len(row_tiles) > 4:
                row_tiles.clear()
            row = row_tiles[g.ow] = np.ascontiguousarray(
                np.broadcast_to(grid[..., None, :], grid.shape[:-1] + (g.ow, co))).reshape(
                grid.shape[:-1] + (g.ow * co,))
        if self.sh == 1 and self.sw == 1:
            xp = g.padded(x)
            if not xp.flags.c_contiguous:
                xp = np.ascontiguousarray(xp)
            n, hp, wp, _ = xp.shape
            taps_shape = (kh, kw)
            taps_strides = (self.dh * wp * co, self.dw * co)
            row_stride, batch_stride, flat = wp * co, hp * wp * co, xp.reshape(-1)
        else:
            flat, n, hq, wq = self._phase_split(x, g, grid.shape[2], grid.shape[3])
            block = n * hq * wq * co
            taps_shape = grid.shape[:4]
            taps_strides = (self.sw * block, block, wq * co, co)
            row_stride, batch_stride = wq * co, hq * wq * co
        return self._rows(flat, n, taps_shape, taps_strides, row_stride, batch_stride, g.oh, g.ow, co, row, b)

    def _phase_split(self, x, g, kqh, kqw):
        """Copies x into the zero-bordered phase buffer [sh, sw, n, hq, wq, c] (borders written once)."""
        sh, sw = self.sh, self.sw
        n, h, w, c = x.shape
        hq, wq = g.oh + kqh - 1, g.ow + kqw - 1
        ph = g.phases
        if ph is None or ph[0].shape != (sh, sw, n, hq, wq, c):
            buf = np.zeros((sh, sw, n, hq, wq, c), np.float32)
            copies = []
            for ri in range(sh):
                q0 = max(0, -(-(g.pt - ri) // sh))          # first phase row holding an input row
                r0 = q0 * sh + ri - g.pt                    # that input row
                nh = min(hq - q0, (h - r0 + sh - 1) // sh) if r0 < h else 0
                for rj in range(sw):
                    p0 = max(0, -(-(g.pl - rj) // sw))
                    c0 = p0 * sw + rj - g.pl
                    nw = min(wq - p0, (w - c0 + sw - 1) // sw) if c0 < w else 0
                    if nh > 0 and nw > 0:
                        copies.append((buf[ri, rj, :, q0:q0 + nh, p0:p0 + nw, :],
                                       (slice(None), slice(r0, r0 + (nh - 1) * sh + 1, sh),
                                        slice(c0, c0 + (nw - 1) * sw + 1, sw), slice(None))))
            ph = g.phases = (buf, copies)
        buf, copies = ph
        for dst, idx in copies:
            dst[...] = x[idx]
        return buf.reshape(-1), n, hq, wq

    def _rows(self, flat, n, taps_shape, taps_strides, row_stride, batch_stride, oh, ow, co, row, b):
        it = flat.itemsize
        rl = ow * co
        # (the ndarray constructor checks the view stays inside ``flat``, and is much cheaper than as_strided)
        taps = np.ndarray((n,) + taps_shape + (oh, rl), np.float32, flat, 0,
                          tuple(s * it for s in (batch_stride,) + taps_strides + (row_stride, 1)))
        out = np.empty((n, oh, rl), np.float32)
        brow = None if b is None else self._row_bias(b, ow)
        lo, hi = _ACT_RANGE.get(self.act, (None, None))
        dims = "abcd"[:len(taps_shape)]
        spec = f"{dims}rl,{dims}l->rl"
        einsum = _einsum
        rows = max(1, _DW_BLOCK_ELEMS // max(rl, 1))
        for ni in range(n):
            tn, on = taps[ni], out[ni]
            for r0 in range(0, oh, rows):
                a = on[r0:r0 + rows]
                einsum(spec, tn[..., r0:r0 + rows, :], row, out=a)
                if brow is not None:
                    a += brow
                if lo is not None:
                    _clamp(a, lo, hi)
        return out.reshape(n, oh, ow, co)


@register("TRANSPOSE_CONV", when=float_transpose_conv_node, types=("FLOAT32",))
class TransposeConv:
    """Inputs: output_shape (int32 [4]), filter [out_c, kh, kw, in_c], input NHWC, optional bias."""

    def __init__(self, node):
        o = node.options
        self.padding = o.get("padding", "SAME")
        self.sh = _pos_int(o.get("stride_h", 1), "stride_h")
        self.sw = _pos_int(o.get("stride_w", 1), "stride_w")
        self.act = o.get("fused_activation_function", "NONE")
        self.weights = WeightCache(self._prepare, static_input(node, 1), node.const(1))

    @staticmethod
    def _prepare(w):
        w = np.asarray(w)
        if w.ndim != 4:
            raise ValueError(f"TRANSPOSE_CONV filter must be 4-D [out, kh, kw, in], got {list(w.shape)}")
        o, kh, kw, ci = w.shape
        # [in_c, kh * kw * out_c]: one GEMM gives every input pixel's contribution to each tap
        return o, kh, kw, ci, np.ascontiguousarray(_as_f32(w).transpose(3, 1, 2, 0).reshape(ci, kh * kw * o))

    def __call__(self, out_shape, w, x, b=None):
        o, kh, kw, ci, wm = self.weights.get(w)
        if x.ndim != 4:
            raise ValueError(f"TRANSPOSE_CONV input must be 4-D NHWC, got shape {list(x.shape)}")
        shp = [int(v) for v in np.asarray(out_shape).reshape(-1)]
        if len(shp) != 4:
            raise ValueError(f"TRANSPOSE_CONV output_shape must have 4 values, got {shp}")
        n, h, wd, c = x.shape
        if c != ci:
            raise ValueError(f"TRANSPOSE_CONV input has {c} channels, the filter expects {ci}")
        if shp[0] != n or shp[3] != o or shp[1] < 0 or shp[2] < 0:
            raise ValueError(f"TRANSPOSE_CONV output_shape {shp} does not match batch {n} / {o} channels")
        oh, ow = shp[1], shp[2]
        check_allocation(shp, np.float32, "TRANSPOSE_CONV output")
        _, pt, _ = out_size_and_pad(oh, kh, self.sh, 1, self.padding)
        _, pl, _ = out_size_and_pad(ow, kw, self.sw, 1, self.padding)
        x = _as_f32(x)
        cols = (x.reshape(-1, c) @ wm).reshape(n, h, wd, kh, kw, o)
        fh = max((h - 1) * self.sh + kh, pt + oh)
        fw = max((wd - 1) * self.sw + kw, pl + ow)
        full = np.zeros((n, fh, fw, o), np.float32)
        he, we = (h - 1) * self.sh + 1, (wd - 1) * self.sw + 1
        for i in range(kh):
            for j in range(kw):
                full[:, i:i + he:self.sh, j:j + we:self.sw, :] += cols[:, :, :, i, j, :]
        y = full[:, pt:pt + oh, pl:pl + ow, :]
        if b is not None:
            y = y + _as_f32(b)
        else:
            y = np.ascontiguousarray(y)
        return apply_activation(y, self.act)
