"""Quantized CONV_2D and DEPTHWISE_CONV_2D (int8 per-channel, uint8 per-tensor, int16x8).

The input is padded with its zero point (so padded taps contribute nothing once the zero point is
subtracted), gathered im2col-style, multiplied exactly through float BLAS (quant.IntGemm), corrected for
the input zero point with precomputed weight sums, then requantized per output channel.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from .. import quant as Q
from .registry import is_quantized, register


def q_conv_node(node) -> bool:
    if len(node.inputs) < 2 or node.inputs[1] is None:
        return False
    return is_quantized(node.inputs[0]) and is_quantized(node.inputs[1]) and is_quantized(node.outputs[0])


def conv_geometry(in_h, in_w, kh, kw, sh, sw, dh, dw, padding):
    """(out_h, out_w, pad_top, pad_left) the way TFLite computes them."""
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "SAME":
        oh, ow = -(-in_h // sh), -(-in_w // sw)
    elif padding == "VALID":
        oh, ow = -(-(in_h - ekh + 1) // sh), -(-(in_w - ekw + 1) // sw)
    else:
        raise ValueError(f"unsupported padding {padding!r}")
    oh, ow = max(oh, 0), max(ow, 0)
    pt = max((oh - 1) * sh + ekh - in_h, 0) // 2
    pl = max((ow - 1) * sw + ekw - in_w, 0) // 2
    return oh, ow, pt, pl


def pad_input(x, zp, pt, pl, need_h, need_w):
    """x padded with ``zp`` so that it is at least need_h x need_w after pt/pl top/left rows."""
    n, h, w, c = x.shape
    pb = max(need_h - h - pt, 0)
    pr = max(need_w - w - pl, 0)
    if pt == pb == pl == pr == 0:
        return x
    out = np.full((n, h + pt + pb, w + pl + pr, c), zp, dtype=x.dtype)
    out[:, pt:pt + h, pl:pl + w, :] = x
    return out


class _ConvBase:
    def _common(self, node, w_quant_dim):
        o = node.options
        x_t, w_t, o_t = node.inputs[0], node.inputs[1], node.outputs[0]
        self.padding = o.get("padding", "SAME")
        self.sh, self.sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        self.dh, self.dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
        act = o.get("fused_activation_function", "NONE")
        self.lo, self.hi = Q.activation_range(act, o_t.quantization.scale, o_t.quantization.zero_point,
                                              o_t.type_name)
        self.x_zp = x_t.quantization.zero_point
        self.out_zp = o_t.quantization.zero_point
        self.dtype = o_t.dtype
        self.x_max = Q.TYPE_ABS_MAX[x_t.type_name]
        self.int16 = x_t.type_name == "INT16"
        self.uint8 = x_t.type_name == "UINT8"
        self.ref = node.resolver == "BUILTIN_REF"
        wq = w_t.quantization
        self.w_zp = (wq.zero_points.astype(np.int64) if wq.per_axis else np.int64(wq.zero_point))
        xs, os_ = x_t.quantization.scale, o_t.quantization.scale
        nch = node.const(1).shape[w_quant_dim] if node.const(1) is not None else wq.scales.size
        if wq.per_axis:
            ms = [Q.conv_multiplier_f64(xs, s, os_) for s in wq.scales]
        elif x_t.type_name == "UINT8":
            ms = [Q.conv_multiplier_f32(xs, wq.scale, os_)] * nch
        else:
            ms = [Q.conv_multiplier_f64(xs, wq.scale, os_)] * nch
        self.q, self.shift = Q.quantize_multipliers(np.asarray(ms))
        self.affine = Q.AffineRequant(self.q, self.shift, self.out_zp, self.lo, self.hi, self.dtype)
        self._fast_src, self._fast_consts = (), None

    def _fast(self, adj_key, adj):
        """Per-channel constants of the exact float64 requantization (halves-up rounding only), cached
        for a constant ``adj_key`` (the bias array, or None; ``adj()`` computes the int64 offsets); None
        where the int64 path must run."""
        if self.int16 or not (self.up is True or (self.up == "blocks8" and self.q.size % 8 == 0)):
            return None
        if adj_key is self._fast_src:
            return self._fast_consts
        consts = self.affine.consts(adj())
        if adj_key is None or not adj_key.flags.writeable:
            self._fast_src, self._fast_consts = adj_key, consts
        return consts

    def _requant(self, acc):
        if self.int16:
            r = Q.multiply_by_quantized_multiplier_64(acc, self.q, self.shift)
        elif self.up == "blocks8" and acc.shape[-1] % 8 == 0:
            r = Q.multiply_by_quantized_multiplier_up(acc, self.q, self.shift)
        elif self.up == "blocks8":
            # vector loop over blocks of 8 output channels (halves up), scalar tail channels (away)
            nb = acc.shape[-1] // 8 * 8
            r = np.empty_like(acc)
            r[..., :nb] = Q.multiply_by_quantized_multiplier_up(acc[..., :nb], self.q[:nb], self.shift[:nb])
            r[..., nb:] = Q.multiply_by_quantized_multiplier(acc[..., nb:], self.q[nb:], self.shift[nb:])
        elif self.up:
            r = Q.multiply_by_quantized_multiplier_up(acc, self.q, self.shift)
        else:
            r = Q.multiply_by_quantized_multiplier(acc, self.q, self.shift)
        # clip around the zero point, then add it while narrowing: one pass fewer
        np.clip(r, self.lo - self.out_zp, self.hi - self.out_zp, out=r)
        out = np.empty(r.shape, self.dtype)
        np.add(r, self.out_zp, out=out, casting="unsafe")
        return out


@register("CONV_2D", when=q_conv_node, priority=10, types=("INT8 per-channel", "UINT8", "INT16x8"))
class QConv2D(_ConvBase):
    def __init__(self, node):
        w = node.const(1)
        if w is None:
            raise ValueError("quantized CONV_2D needs constant weights")
        self._common(node, 0)
        w = np.asarray(w).astype(np.int64)
        self.oc, self.kh, self.kw, self.ic = w.shape
        wzp = self.w_zp.reshape(-1, 1, 1, 1) if np.ndim(self.w_zp) else self.w_zp
        self.gemm = Q.IntGemm((w - wzp).reshape(self.oc, -1), self.x_max)
        self._bias_src = self._bias_adj = None
        # LiteRT's optimized kernel requantizes through ruy (final shift rounds halves up)
        self.up = not self.ref

    def __call__(self, x, w=None, b=None):
        n, h, wd, c = x.shape
        if c != self.ic:
            raise ValueError(f"CONV_2D input has {c} channels, filter expects {self.ic} (groups are not "
                             f"supported for quantized convolution)")
        oh, ow, pt, pl = conv_geometry(h, wd, self.kh, self.kw, self.sh, self.sw, self.dh, self.dw,
                                       self.padding)
        if oh == 0 or ow == 0:      # a VALID window wider than the input: an empty output, as in LiteRT
            return np.zeros((n, oh, ow, self.oc), self.dtype)
        g = self.gemm
        dt = g.dtype
        if self.kh == self.kw == 1 and pt == pl == 0:
            xs = x[:, ::self.sh, ::self.sw, :][:, :oh, :ow, :]
            patches = xs.reshape(-1, c).astype(dt)
        else:
            need_h = (oh - 1) * self.sh + (self.kh - 1) * self.dh + 1
            need_w = (ow - 1) * self.sw + (self.kw - 1) * self.dw + 1
            xp = pad_input(x, self.x_zp, pt, pl, need_h, need_w)
            patches = np.empty((n, oh, ow, self.kh, self.kw, c), dt)
            sn, s_h, s_w, s_c = xp.strides
            if self.dw == 1 and s_c == xp.itemsize and s_w == c * xp.itemsize:
                # undilated columns: a kernel row's kw*c values are one contiguous run of the input row
                rows = patches.reshape(n, oh, ow, self.kh, self.kw * c)
                for i in range(self.kh):
                    rows[:, :, :, i, :] = as_strided(xp[:, i * self.dh:], (n, oh, ow, self.kw * c),
                                                     (sn, s_h * self.sh, s_w * self.sw, s_c), writeable=False)
            else:
                for i in range(self.kh):
                    r0 = i * self.dh
                    for j in range(self.kw):
                        c0 = j * self.dw
                        patches[:, :, :, i, j, :] = xp[:, r0:r0 + (oh - 1) * self.sh + 1:self.sh,
                                                       c0:c0 + (ow - 1) * self.sw + 1:self.sw, :]
            patches = patches.reshape(n * oh * ow, self.kh * self.kw * c)
        y = patches @ g.wt
        fast = self._fast(b, lambda: (0 if b is None else b.astype(np.int64)) - self.x_zp * g.wsum)
        if fast is not None:
            return self.affine(y, fast).reshape(n, oh, ow, self.oc)
        acc = y.astype(np.int64)
        # bias and input zero point correction as one per-channel add (cached for a constant bias)
        if b is None:
            adj = -self.x_zp * g.wsum if self.x_zp else None
        elif b is self._bias_src:
            adj = self._bias_adj
        else:
            adj = b.astype(np.int64) - self.x_zp * g.wsum
            if not b.flags.writeable:
                self._bias_src, self._bias_adj = b, adj
        if adj is not None:
            acc += adj
        return self._requant(acc).reshape(n, oh, ow, self.oc)


@register("DEPTHWISE_CONV_2D", when=q_conv_node, priority=10, types=("INT8 per-channel", "UINT8", "INT16x8"))
class QDepthwiseConv2D(_ConvBase):
    def __init__(self, node):
        w = node.const(1)
        if w is None:
            raise ValueError("quantized DEPTHWISE_CONV_2D needs constant weights")
        self._common(node, 3)
        w = np.asarray(w).astype(np.int64)
        _, self.kh, self.kw, self.oc = w.shape
        self.mult = int(node.options.get("depth_multiplier", 1) or 1)
        self.w = (w[0] - self.w_zp)            # [kh, kw, oc], zero point removed
        # LiteRT's optimized int8 depthwise rounds the final shift's halves up; its uint8 one does not
        # (in blocks of 8 output channels; the remaining channels take the scalar path)
        self.up = "blocks8" if not self.ref and not self.uint8 else False
        self._wt_tiles = {}

    def __call__(self, x, w=None, b=None):
        n, h, wd, c = x.shape
        mult = self.oc // c if c and self.oc % c == 0 else self.mult
        if c * mult != self.oc:
            raise ValueError(f"DEPTHWISE_CONV_2D: {c} input channels x multiplier {mult} != {self.oc} outputs")
        oh, ow, pt, pl = conv_geometry(h, wd, self.kh, self.kw, self.sh, self.sw, self.dh, self.dw,
                                       self.padding)
        if oh == 0 or ow == 0:      # a VALID window wider than the input: an empty output, as in LiteRT
            return np.zeros((n, oh, ow, self.oc), self.dtype)
        need_h = (oh - 1) * self.sh + (self.kh - 1) * self.dh + 1
        need_w = (ow - 1) * self.sw + (self.kw - 1) * self.dw + 1
        wmax = int(np.abs(self.w).max()) if self.w.size else 0
        xmax = 2 * Q.TYPE_ABS_MAX["INT16" if self.int16 else "UINT8"]
        if self.kh * self.kw * xmax * max(wmax, 1) < (1 << 24):
            # exact in float32 whatever the summation order: one einsum over the window view of the
            # zero-point-free input, zero-padded
            ph, pw = max(need_h, h + pt), max(need_w, wd + pl)
            xc = np.zeros((n, ph, pw, c), np.float32)
            np.subtract(x, np.float32(self.x_zp), out=xc[:, pt:pt + h, pl:pl + wd, :], dtype=np.float32)
            if mult > 1:
                xc = np.repeat(xc, mult, axis=3)
            acc = self._dw_rows(xc, oh, ow)
            fast = self._fast(b, lambda: 0 if b is None else b.astype(np.int64))
            if fast is not None:
                return self.affine(acc, fast)
        else:
            xp = pad_input(x, self.x_zp, pt, pl, need_h, need_w)
            wide = np.int64
            xc = xp.astype(wide) - wide(self.x_zp)
            if mult > 1:
                xc = np.repeat(xc, mult, axis=3)
            acc = np.zeros((n, oh, ow, self.oc), wide)
            tmp = np.empty_like(acc)
            wk = self.w.astype(wide)
            for i in range(self.kh):
                r0 = i * self.dh
                for j in range(self.kw):
                    c0 = j * self.dw
                    np.multiply(xc[:, r0:r0 + (oh - 1) * self.sh + 1:self.sh,
                                   c0:c0 + (ow - 1) * self.sw + 1:self.sw, :], wk[i, j], out=tmp)
                    acc += tmp
        acc = acc.astype(np.int64)
        if b is not None:
            acc += b.astype(np.int64)
        return self._requant(acc)


def _dw_rows_method(self, xc, oh, ow):
    """Float32 depthwise sums over a zero-padded contiguous [n, ph, pw, C] input. An output row's
    (w, c) values are one contiguous run of ow*C floats: for a column stride of 1, tap (k, l) reads the
    run starting at input column l*dw of row h*sh + k*dh, so one einsum over a strided view with that
    long inner axis (weights tiled along w) does all taps (about 4x faster than the window view for
    32 channels). Larger column strides keep the window view."""
    n, _, _, cc = xc.shape
    m = ow * cc
    if self.sw != 1:
        return _dw_window(self, xc, oh, ow)
    wt = self._wt_tiles.get(ow)
    if wt is None:
        wf = self.w.astype(np.float32)                                  # [kh, kw, C]
        wt = np.ascontiguousarray(np.broadcast_to(wf[:, :, None, :], (self.kh, self.kw, ow, cc))
                                  .reshape(self.kh, self.kw, m))
        if len(self._wt_tiles) > 4:      # input widths keep changing: keep the cache small
            self._wt_tiles.clear()
        self._wt_tiles[ow] = wt
    sn, sh_, sw_, _ = xc.strides
    v = as_strided(xc, (n, oh, self.kh, self.kw, m), (sn, sh_ * self.sh, sh_ * self.dh, sw_ * self.dw,
                                                      xc.itemsize), writeable=False)
    return np.einsum("nhklm,klm->nhm", v, wt).reshape(n, oh, ow, cc)


def _dw_window(self, xc, oh, ow):
    """Strided columns: the window view (its inner loop runs over the channels)."""
    ekh, ekw = (self.kh - 1) * self.dh + 1, (self.kw - 1) * self.dw + 1
    v = sliding_window_view(xc, (ekh, ekw), axis=(1, 2))
    v = v[:, :(oh - 1) * self.sh + 1:self.sh, :(ow - 1) * self.sw + 1:self.sw, :, ::self.dh, ::self.dw]
    return np.einsum("nhwckl,klc->nhwc", v, self.w.astype(np.float32))


QDepthwiseConv2D._dw_rows = _dw_rows_method


def q_tconv_node(node) -> bool:
    return (len(node.inputs) >= 3 and node.inputs[2] is not None and is_quantized(node.inputs[2])
            and is_quantized(node.inputs[1]) and is_quantized(node.outputs[0]))


@register("TRANSPOSE_CONV", when=q_tconv_node, priority=10, types=("INT8 per-channel", "INT16x8"))
class QTransposeConv:
    """Scatter-accumulate of (x - zp) * w into the output grid, + bias, per-channel requantization."""

    def __init__(self, node):
        o = node.options
        x_t, w_t, o_t = node.inputs[2], node.inputs[1], node.outputs[0]
        w = node.const(1)
        if w is None:
            raise ValueError("quantized TRANSPOSE_CONV needs constant weights")
        self.w = np.asarray(w).astype(np.int64)            # [oc, kh, kw, ic]
        self.oc, self.kh, self.kw, self.ic = self.w.shape
        self.padding = o.get("padding", "SAME")
        self.sh, self.sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        act = o.get("fused_activation_function", "NONE")
        self.lo, self.hi = Q.activation_range(act, o_t.quantization.scale, o_t.quantization.zero_point,
                                              o_t.type_name)
        self.x_zp = x_t.quantization.zero_point
        self.out_zp = o_t.quantization.zero_point
        self.dtype = o_t.dtype
        self.int16 = x_t.type_name == "INT16"
        wq = w_t.quantization
        xs, os_ = x_t.quantization.scale, o_t.quantization.scale
        scales = wq.scales if wq.per_axis else np.repeat(wq.scales[:1], self.oc)
        self.q, self.shift = Q.quantize_multipliers(np.array([Q.conv_multiplier_f64(xs, s, os_) for s in scales]))
        # (kh*kw*ic, oc) matrix: one GEMM gives every tap's contribution
        self.wmat = np.ascontiguousarray(self.w.transpose(3, 1, 2, 0).reshape(self.ic, -1)).astype(np.float64)
        self.ref = node.resolver == "BUILTIN_REF"

    def __call__(self, out_shape, w, x, b=None):
        n, h, wd, c = x.shape
        oh, ow = int(out_shape[1]), int(out_shape[2])
        # padding as for a convolution from the output grid back to the input grid
        _, _, pt, pl = conv_geometry(oh, ow, self.kh, self.kw, self.sh, self.sw, 1, 1, self.padding)
        xc = (x.astype(np.float64) - self.x_zp).reshape(-1, c)
        cols = (xc @ self.wmat).reshape(n, h, wd, self.kh, self.kw, self.oc)   # exact integer sums
        full_h = (h - 1) * self.sh + self.kh
        full_w = (wd - 1) * self.sw + self.kw
        acc = np.zeros((n, max(full_h, oh + pt), max(full_w, ow + pl), self.oc), np.float64)
        for i in range(self.kh):
            for j in range(self.kw):
                acc[:, i:i + (h - 1) * self.sh + 1:self.sh, j:j + (wd - 1) * self.sw + 1:self.sw, :] += cols[:, :, :, i, j, :]
        acc = acc[:, pt:pt + oh, pl:pl + ow, :].astype(np.int64)
        if b is not None:
            acc = acc + b.astype(np.int64)
        if self.int16:
            r = Q.multiply_by_quantized_multiplier_64(acc, self.q, self.shift)
        elif self.ref:
            r = Q.multiply_by_quantized_multiplier(acc, self.q, self.shift)
        else:
            # LiteRT's optimized kernel: vector requantization over blocks of 8 output channels (halves
            # rounded up), the remaining channels with the reference rounding
            nb = self.oc // 8 * 8
            r = np.empty_like(acc)
            r[..., :nb] = Q.multiply_by_quantized_multiplier_up(acc[..., :nb], self.q[:nb], self.shift[:nb])
            r[..., nb:] = Q.multiply_by_quantized_multiplier(acc[..., nb:], self.q[nb:], self.shift[nb:])
        r = r + self.out_zp
        return np.clip(r, self.lo, self.hi).astype(self.dtype)
