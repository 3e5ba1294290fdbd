"""Device implementations of TFLite ops on top of the CUDA kernels in ``kernels_cuda/``.

Each op class is built once per node at preparation (``cls(node, consts, backend)``, constants uploaded
then) and called with device arrays (``op(inputs) -> list of outputs``).  ``cls.refuse(node)`` returns a
reason string when the op cannot run a node (float32 only for now), or None to claim it.
Shapes are taken from the arrays at run time, so resized inputs work; per-shape metadata is cached.
"""
from __future__ import annotations

import math

import numpy as np

ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4, "SIGN_BIT": 5}
BIN = {"ADD": 0, "SUB": 1, "MUL": 2, "DIV": 3, "MAXIMUM": 4, "MINIMUM": 5, "SQUARED_DIFFERENCE": 6,
       "POW": 7, "PRELU": 8}
UN = {"RELU": 0, "RELU6": 1, "RELU_N1_TO_1": 2, "LEAKY_RELU": 3, "ELU": 4, "HARD_SWISH": 5, "LOGISTIC": 6,
      "TANH": 7, "EXP": 8, "LOG": 9, "SQRT": 10, "RSQRT": 11, "ABS": 12, "NEG": 13, "GELU": 14,
      "SQUARE": 16, "RELU_0_TO_1": 18}
RED = {"SUM": 0, "MEAN": 0, "REDUCE_MAX": 1, "REDUCE_MIN": 2, "REDUCE_PROD": 3}
I32 = np.int32
F32 = np.float32
INT_MAX = 2**31 - 1


# A NULL device pointer. Never pass None to a kernel: CuPy turns it into 0xffffffff (cupy/cupy#9046); an
# 8-byte zero is a NULL pointer for both backends (the emulator refuses None to catch such mistakes).
NULL = np.uint64(0)


def _p(a):
    return NULL if a is None else a


def _i(v) -> np.int32:
    return np.int32(int(v))


def _f(v) -> np.float32:
    return np.float32(float(v))


def _act(node) -> int:
    a = node.options.get("fused_activation_function", "NONE")
    if a not in ACT:
        raise ValueError(f"unsupported fused activation {a}")
    return ACT[a]


def _is_f32(t) -> bool:
    return t is not None and t.type_name == "FLOAT32"


def _float_io(node, data_inputs) -> str | None:
    """None when the given data inputs and every output are FLOAT32, else a refusal reason."""
    for i in data_inputs:
        if i < len(node.inputs) and node.inputs[i] is not None and not _is_f32(node.inputs[i]):
            return f"input {i} is {node.inputs[i].type_name}: only FLOAT32 kernels for now"
    for o in node.outputs:
        if not _is_f32(o):
            return f"output is {o.type_name}: only FLOAT32 kernels for now"
    if node.inputs and node.inputs[0] is not None and node.inputs[0].quantization is not None and \
            node.inputs[0].type_name != "FLOAT32":
        return "quantized tensors are not supported yet"
    return None


def _layout_io(node, data_inputs) -> str | None:
    """Data-movement ops: FLOAT32, or INT8 whose data inputs and outputs share one per-tensor quantization."""
    first = node.inputs[data_inputs[0]] if data_inputs and data_inputs[0] < len(node.inputs) else None
    if first is None or first.type_name != "INT8":
        return _float_io(node, data_inputs)
    q0 = _qspec(first)
    tensors = [node.inputs[i] for i in data_inputs if i < len(node.inputs) and node.inputs[i] is not None]
    for t in tensors + list(node.outputs):
        q = _qspec(t)
        if t.type_name != "INT8" or q is None or q.per_axis or q0 is None or \
                float(q.scales[0]) != float(q0.scales[0]) or int(q.zero_points[0]) != int(q0.zero_points[0]):
            return f"INT8 {node.op} with mixed types or quantization runs on the CPU"
    if node.options.get("fused_activation_function", "NONE") not in ("NONE", None):
        return f"INT8 {node.op} with a fused activation runs on the CPU"
    return None


def _const(node, consts, i):
    if i < len(node.inputs) and node.inputs[i] is not None:
        if node.inputs[i].constant is not None:
            return np.asarray(node.inputs[i].constant)
        return consts.get(node.inputs[i].index)
    return None


def _check_bias(op, b, n):
    if b is not None and int(b.size) != n:
        raise ValueError(f"{op.node.op}: bias has {int(b.size)} values for {n} output channels")


def _check_size(*shapes):
    for s in shapes:
        if int(np.prod(s, dtype=np.int64)) > INT_MAX:
            raise ValueError("tensor larger than 2**31 elements: not supported by the CUDA kernels")


def _same_pad(n, k, s, d, padding):
    ek = (k - 1) * d + 1
    if padding == "SAME":
        out = (n + s - 1) // s
        total = max((out - 1) * s + ek - n, 0)
        return out, total // 2
    out = (n - ek + s) // s if n >= ek else 0
    return out, 0


def coalesce(dims, *strides):
    """Drops size-1 dims and merges adjacent dims contiguous in every stride set (fewer divisions)."""
    keep = [d for d in range(len(dims)) if int(dims[d]) != 1]
    dims = [int(dims[d]) for d in keep]
    strides = [[int(s[d]) for d in keep] for s in strides]
    if not dims:
        return [1], [[0] for _ in strides]
    od = [dims[0]]
    os_ = [[s[0]] for s in strides]
    for d in range(1, len(dims)):
        if all(o[-1] == s[d] * dims[d] for o, s in zip(os_, strides)):
            od[-1] *= dims[d]
            for o, s in zip(os_, strides):
                o[-1] = s[d]
        else:
            od.append(dims[d])
            for o, s in zip(os_, strides):
                o.append(s[d])
    return od, os_


def _cstrides(shape):
    st = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        st[d] = st[d + 1] * int(shape[d + 1])
    return st


class DevOp:
    data_inputs = (0,)
    n_outputs = 1

    @classmethod
    def refuse(cls, node) -> str | None:
        return _float_io(node, cls.data_inputs)

    def __init__(self, node, consts, be):
        self.node = node
        self.be = be
        self._meta = {}
        self.captured: set = set()     # input positions whose constant the op holds itself
        self.out_bufs: list = []       # planned arena views per output (see Program), or None

    def alloc(self, k: int, shape, dtype=F32):
        """Device buffer for output k: its planned arena slice when the size matches, else a new array."""
        shape = tuple(int(v) for v in shape)
        if np.dtype(dtype) != np.float32:
            return self.be.empty(shape, dtype)
        if k < len(self.out_bufs) and self.out_bufs[k] is not None:
            buf = self.out_bufs[k]
            if buf.size == int(np.prod(shape, dtype=np.int64)):
                return buf.reshape(shape)
        return self.be.empty(shape, F32)

    def filter_bias(self, ins, bias_at: int):
        """Filter and optional bias of a conv-like op: the constants held since __init__ (self.w, self.b),
        else the runtime inputs 1 and bias_at (None when the bias is omitted)."""
        w = self.w if self.w is not None else ins[1]
        b = self.b if self.b is not None else (ins[bias_at] if len(ins) > bias_at else None)
        return w, b

    def meta(self, key, arr):
        """Uploads a small int32 metadata array once per key (shape)."""
        m = self._meta.get(key)
        if m is None:
            m = self._meta[key] = self.be.to_device(np.asarray(arr, dtype=I32))
        return m

    def param(self, consts, i, dtype=None):
        """Uploads constant input i (a model constant or one folded at preparation) once, or None. Float
        constants become float32; INT8 ones (data-movement ops) stay int8."""
        v = _const(self.node, consts, i)
        if v is None:
            return None
        self.captured.add(i)
        if dtype is None:
            dtype = np.int8 if self.node.inputs[i].type_name == "INT8" else F32
        return self.be.to_device(np.ascontiguousarray(v, dtype=dtype))


# ------------------------------------------------------------------------------------------------ copy
def strided_copy(be, op: DevOp, x, y, dims, in_strides, out_strides, in_base=0, out_base=0):
    dims, (ist, ost) = coalesce(dims, in_strides, out_strides)
    n = int(np.prod(dims, dtype=np.int64))
    if n == 0:
        return
    rank = len(dims)
    key = ("sc", tuple(dims), tuple(ist), tuple(ost))
    meta = op.meta(key, list(dims) + list(ist) + list(ost))
    if x.dtype != y.dtype or x.dtype.itemsize not in (1, 4):
        raise ValueError(f"strided copy of {x.dtype} to {y.dtype} is not supported")
    kernel = "strided_copy_f32" if x.dtype.itemsize == 4 else "strided_copy_s8"     # a 4-byte copy is bitwise
    be.launch1d("layout", kernel, n, (x, y, _i(n), _i(rank), meta, _i(in_base), _i(out_base)))


def unary(be, x, out, code, alpha=0.0):
    n = int(x.size)
    be.launch1d("elementwise", "unary_f32", n, (x, out, _i(n), _i(code), _f(alpha)))


# ------------------------------------------------------------------------------------------------ elementwise
class Binary(DevOp):
    data_inputs = (0, 1)

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.opc = BIN[node.op]
        self.act = _act(node) if node.op in ("ADD", "SUB", "MUL", "DIV") else 0
        self.c = [self.param(consts, i) for i in (0, 1)]

    def __call__(self, ins):
        a = self.c[0] if self.c[0] is not None else ins[0]
        b = self.c[1] if self.c[1] is not None else ins[1]
        out_shape = tuple(np.broadcast_shapes(a.shape, b.shape))
        _check_size(out_shape)
        y = self.alloc(0, out_shape)
        n = int(np.prod(out_shape, dtype=np.int64))
        if n == 0:
            return [y]
        be = self.be
        if a.shape == b.shape or (b.size == 1 and a.shape == out_shape):
            be.launch1d("elementwise", "binary_f32", n, (a, b, y, _i(n), _i(self.opc), _i(self.act),
                                                          _i(b.size == 1 and a.shape != b.shape)))
            return [y]
        r = len(out_shape)
        for big, small, swap in ((a, b, 0), (b, a, 1)):
            ss = (1,) * (r - small.ndim) + tuple(small.shape)
            if big.shape == out_shape and ss[:-1] == (1,) * (r - 1) and ss[-1] == out_shape[-1]:
                be.launch1d("elementwise", "binary_lastdim_f32", n,
                            (big, small, y, _i(n), _i(out_shape[-1]), _i(self.opc), _i(self.act), _i(swap)))
                return [y]

        def bstrides(arr):
            s = (1,) * (r - arr.ndim) + tuple(arr.shape)
            cs = _cstrides(s)
            return [0 if s[d] == 1 and out_shape[d] != 1 else cs[d] for d in range(r)]
        dims, (sa, sb) = coalesce(out_shape, bstrides(a), bstrides(b))
        meta = self.meta(("b", tuple(dims), tuple(sa), tuple(sb)), list(dims) + sa + sb)
        be.launch1d("elementwise", "binary_bcast_f32", n, (a, b, y, _i(n), _i(len(dims)), meta,
                                                            _i(self.opc), _i(self.act)))
        return [y]


class Unary(DevOp):
    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        op = node.op
        self.alpha = 0.0
        if op == "LEAKY_RELU":
            self.alpha = float(node.options.get("alpha", 0.0))
        self.code = UN[op]
        if op == "GELU" and node.options.get("approximate", False):
            self.code = 15

    def __call__(self, ins):
        x = ins[0]
        y = self.alloc(0, x.shape)
        unary(self.be, x, y, self.code, self.alpha)
        return [y]


# ------------------------------------------------------------------------------------------------ conv / gemm
def sgemm(be, A, B, bias, C, M, N, K, sAm, sAk, sBk, sBn, act, batch=1, sAb=0, sBb=0, sCb=0):
    if M == 0 or N == 0:
        return
    grid = ((M + 63) // 64, (N + 63) // 64, batch)
    be.function("gemm", "sgemm_f32")(grid, (256,), (A, B, _p(bias), C, _i(M), _i(N), _i(K), _i(sAm), _i(sAk),
                                                     _i(sBk), _i(sBn), np.int64(sAb), np.int64(sBb),
                                                     np.int64(sCb), _i(act)))


class Conv2D(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _float_io(node, (0, 1, 2))
        if r:
            return r
        x, w = node.inputs[0], node.inputs[1]
        if len(x.shape) != 4 or len(w.shape) != 4:
            return "CONV_2D needs 4-D input and filter"
        if int(w.shape[3]) != int(x.shape[3]):
            return "grouped convolution (filter depth != input depth) is not supported"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        o = node.options
        self.sh, self.sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        self.dh, self.dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
        self.padding = o.get("padding", "SAME")
        self.act = _act(node)
        self.w = self.param(consts, 1)
        self.b = self.param(consts, 2)

    def __call__(self, ins):
        x = ins[0]
        w, b = self.filter_bias(ins, 2)
        if x.ndim != 4 or w.ndim != 4:
            raise ValueError("CONV_2D needs 4-D input and filter")
        N, H, W, IC = (int(v) for v in x.shape)
        OC, KH, KW, WIC = (int(v) for v in w.shape)
        if WIC != IC:
            raise ValueError(f"CONV_2D: input has {IC} channels, the filter expects {WIC}")
        _check_bias(self, b, OC)
        OH, pt = _same_pad(H, KH, self.sh, self.dh, self.padding)
        OW, pl = _same_pad(W, KW, self.sw, self.dw, self.padding)
        _check_size((N, OH, OW, OC), x.shape)
        y = self.alloc(0, (N, OH, OW, OC))
        M = N * OH * OW
        if M == 0 or OC == 0:
            return [y]
        if KH == 1 and KW == 1 and self.sh == 1 and self.sw == 1 and pt == 0 and pl == 0:
            sgemm(self.be, x, w, b, y, M, OC, IC, IC, 1, 1, IC, self.act)
            return [y]
        grid = ((M + 63) // 64, (OC + 63) // 64, 1)
        self.be.function("conv", "conv2d_f32")(grid, (256,), (
            x, w, _p(b), y, _i(N), _i(H), _i(W), _i(IC), _i(OH), _i(OW), _i(OC), _i(KH), _i(KW), _i(self.sh),
            _i(self.sw), _i(self.dh), _i(self.dw), _i(pt), _i(pl), _i(self.act)))
        return [y]


class DepthwiseConv2D(Conv2D):
    @classmethod
    def refuse(cls, node):
        r = _float_io(node, (0, 1, 2))
        if r:
            return r
        if len(node.inputs[0].shape) != 4 or len(node.inputs[1].shape) != 4:
            return "DEPTHWISE_CONV_2D needs 4-D input and filter"
        return None

    def __call__(self, ins):
        x = ins[0]
        w, b = self.filter_bias(ins, 2)
        if x.ndim != 4 or w.ndim != 4:
            raise ValueError("DEPTHWISE_CONV_2D needs 4-D input and filter")
        N, H, W, IC = (int(v) for v in x.shape)
        _, KH, KW, OC = (int(v) for v in w.shape)
        if IC == 0 or OC % IC:
            raise ValueError(f"depthwise filter has {OC} channels for {IC} input channels")
        _check_bias(self, b, OC)
        OH, pt = _same_pad(H, KH, self.sh, self.dh, self.padding)
        OW, pl = _same_pad(W, KW, self.sw, self.dw, self.padding)
        _check_size((N, OH, OW, OC))
        y = self.alloc(0, (N, OH, OW, OC))
        n = N * OH * OW * OC
        self.be.launch1d("conv", "depthwise_conv2d_f32", n, (
            x, w, _p(b), y, _i(N), _i(H), _i(W), _i(IC), _i(OH), _i(OW), _i(OC), _i(KH), _i(KW), _i(self.sh),
            _i(self.sw), _i(self.dh), _i(self.dw), _i(pt), _i(pl), _i(OC // IC), _i(self.act)))
        return [y]


class TransposeConv(DevOp):
    data_inputs = (1, 2, 3)

    @classmethod
    def refuse(cls, node):
        r = _float_io(node, (1, 2, 3))
        if r:
            return r
        if node.inputs[0].constant is None:
            return "TRANSPOSE_CONV output shape must be a constant"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        o = node.options
        self.sh, self.sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        self.padding = o.get("padding", "SAME")
        self.act = _act(node)
        self.out_shape = tuple(int(v) for v in np.asarray(node.inputs[0].constant).reshape(-1))
        self.w = self.param(consts, 1)
        self.b = self.param(consts, 3)

    def __call__(self, ins):
        x = ins[2]
        w, b = self.filter_bias(ins, 3)
        N, H, W, IC = (int(v) for v in x.shape)
        OC, KH, KW, WIC = (int(v) for v in w.shape)
        if WIC != IC or len(self.out_shape) != 4 or self.out_shape[3] != OC or self.out_shape[0] != N:
            raise ValueError(f"TRANSPOSE_CONV: input {tuple(x.shape)}, filter {tuple(w.shape)} and output shape "
                             f"{self.out_shape} do not agree")
        _check_bias(self, b, OC)
        _, OH, OW, _ = self.out_shape
        if self.padding == "SAME":
            pt = max((H - 1) * self.sh + KH - OH, 0) // 2
            pl = max((W - 1) * self.sw + KW - OW, 0) // 2
        else:
            pt = pl = 0
        y = self.alloc(0, (N, OH, OW, OC))
        self.be.launch1d("conv", "transpose_conv2d_f32", N * OH * OW * OC, (
            x, w, _p(b), y, _i(N), _i(H), _i(W), _i(IC), _i(OH), _i(OW), _i(OC), _i(KH), _i(KW), _i(self.sh),
            _i(self.sw), _i(pt), _i(pl), _i(self.act)))
        return [y]


class Conv2DTransposeBias(DevOp):
    """MediaPipe's custom op Convolution2DTransposeBias: transposed convolution + bias; options are a raw
    TfLiteTransposeConvParams struct (padding, stride_w, stride_h as int32)."""
    data_inputs = (0, 1, 2)

    @classmethod
    def refuse(cls, node):
        r = _float_io(node, (0, 1, 2))
        if r:
            return r
        raw = node.custom_options or b""
        if len(raw) < 12:
            return "Convolution2DTransposeBias options are missing"
        pad, sw, sh = np.frombuffer(raw[:12], "<i4")
        if pad not in (1, 2) or sw <= 0 or sh <= 0:
            return "Convolution2DTransposeBias options are invalid"
        if len(node.inputs) != 3 or any(t is None for t in node.inputs):
            return "Convolution2DTransposeBias needs input, weights and bias"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        pad, sw, sh = (int(v) for v in np.frombuffer(node.custom_options[:12], "<i4"))
        self.same, self.sw, self.sh = pad == 1, sw, sh
        self.w = self.param(consts, 1)
        self.b = self.param(consts, 2)

    def __call__(self, ins):
        x = ins[0]
        w = self.w if self.w is not None else ins[1]
        b = self.b if self.b is not None else ins[2]
        N, H, W, IC = (int(v) for v in x.shape)
        OC, KH, KW, wic = (int(v) for v in w.shape)
        if wic != IC:
            raise ValueError(f"Convolution2DTransposeBias: input has {IC} channels, weights expect {wic}")
        _check_bias(self, b, OC)
        ph = max(0, KH - (H - 1) % self.sh - 1) if self.same else 0
        pw = max(0, KW - (W - 1) % self.sw - 1) if self.same else 0
        OH, OW = self.sh * (H - 1) + KH - ph, self.sw * (W - 1) + KW - pw
        y = self.alloc(0, (N, OH, OW, OC))
        self.be.launch1d("conv", "transpose_conv2d_f32", N * OH * OW * OC, (
            x, w, _p(b), y, _i(N), _i(H), _i(W), _i(IC), _i(OH), _i(OW), _i(OC), _i(KH), _i(KW), _i(self.sh),
            _i(self.sw), _i(ph // 2), _i(pw // 2), _i(0)))
        return [y]


class FullyConnected(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _float_io(node, (0, 1, 2))
        if r:
            return r
        if node.options.get("weights_format", "DEFAULT") not in ("DEFAULT", 0):
            return "shuffled FC weights are not supported"
        if len(node.inputs[1].shape) != 2:
            return "FULLY_CONNECTED weights must be 2-D"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.act = _act(node)
        self.keep = bool(node.options.get("keep_num_dims", False))
        self.w = self.param(consts, 1)
        self.b = self.param(consts, 2)

    def __call__(self, ins):
        x = ins[0]
        w, b = self.filter_bias(ins, 2)
        N, K = (int(v) for v in w.shape)
        _check_bias(self, b, N)
        if K == 0 or x.size % K:
            raise ValueError(f"FULLY_CONNECTED input of {x.size} elements is not a multiple of depth {K}")
        M = x.size // K
        shape = tuple(x.shape[:-1]) + (N,) if self.keep else (M, N)
        y = self.alloc(0, shape)
        sgemm(self.be, x, w, b, y, M, N, K, K, 1, 1, K, self.act)
        return [y]


class BatchMatMul(DevOp):
    data_inputs = (0, 1)

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.adj_x = bool(node.options.get("adj_x", False))
        self.adj_y = bool(node.options.get("adj_y", False))
        self.c = [self.param(consts, i) for i in (0, 1)]

    def __call__(self, ins):
        a = self.c[0] if self.c[0] is not None else ins[0]
        b = self.c[1] if self.c[1] is not None else ins[1]
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError("BATCH_MATMUL needs operands of rank >= 2")
        M, K = (a.shape[-1], a.shape[-2]) if self.adj_x else (a.shape[-2], a.shape[-1])
        K2, N = (b.shape[-1], b.shape[-2]) if self.adj_y else (b.shape[-2], b.shape[-1])
        if K != K2:
            raise ValueError(f"BATCH_MATMUL inner dimensions differ: {K} vs {K2}")
        bshape = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        y = self.alloc(0, bshape + (M, N))
        nb = int(np.prod(bshape, dtype=np.int64))
        sa = (1, M) if self.adj_x else (K, 1)          # (sAm, sAk)
        sb = (1, K) if self.adj_y else (N, 1)          # (sBk, sBn)
        ab = int(np.prod(a.shape[:-2], dtype=np.int64))
        bb = int(np.prod(b.shape[:-2], dtype=np.int64))
        if (ab in (1, nb)) and (bb in (1, nb)):
            sgemm(self.be, a, b, None, y, M, N, K, sa[0], sa[1], sb[0], sb[1], 0, batch=nb,
                  sAb=0 if ab == 1 else M * K, sBb=0 if bb == 1 else K * N, sCb=M * N)
            return [y]
        # general broadcast: one launch per output batch (rare)
        r = len(bshape)
        ash = (1,) * (r - (a.ndim - 2)) + tuple(a.shape[:-2])
        bsh = (1,) * (r - (b.ndim - 2)) + tuple(b.shape[:-2])
        for idx in np.ndindex(*bshape):
            ia = int(np.ravel_multi_index(tuple(i if s > 1 else 0 for i, s in zip(idx, ash)), ash)) if r else 0
            ib = int(np.ravel_multi_index(tuple(i if s > 1 else 0 for i, s in zip(idx, bsh)), bsh)) if r else 0
            io = int(np.ravel_multi_index(idx, bshape)) if r else 0
            av = a.reshape(-1)[ia * M * K:(ia + 1) * M * K]
            bv = b.reshape(-1)[ib * K * N:(ib + 1) * K * N]
            yv = y.reshape(-1)[io * M * N:(io + 1) * M * N]
            sgemm(self.be, av, bv, None, yv, M, N, K, sa[0], sa[1], sb[0], sb[1], 0)
        return [y]


# ------------------------------------------------------------------------------------------------ pool
class Pool2D(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _float_io(node, (0,))
        if r:
            return r
        if len(node.inputs[0].shape) != 4:
            return "pooling needs a 4-D input"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        o = node.options
        self.is_max = node.op == "MAX_POOL_2D"
        self.sh, self.sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        self.kh, self.kw = int(o.get("filter_height", 1)), int(o.get("filter_width", 1))
        self.padding = o.get("padding", "SAME")
        self.act = _act(node)

    def __call__(self, ins):
        x = ins[0]
        N, H, W, C = (int(v) for v in x.shape)
        OH, pt = _same_pad(H, self.kh, self.sh, 1, self.padding)
        OW, pl = _same_pad(W, self.kw, self.sw, 1, self.padding)
        y = self.alloc(0, (N, OH, OW, C))
        self.be.launch1d("pool", "pool2d_f32", N * OH * OW * C, (
            x, y, _i(N), _i(H), _i(W), _i(C), _i(OH), _i(OW), _i(self.kh), _i(self.kw), _i(self.sh),
            _i(self.sw), _i(pt), _i(pl), _i(self.is_max), _i(self.act)))
        return [y]


# ------------------------------------------------------------------------------------------------ reductions
class Softmax(DevOp):
    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.log = node.op == "LOG_SOFTMAX"
        self.beta = 1.0 if self.log else float(node.options.get("beta", 1.0))

    def __call__(self, ins):
        x = ins[0]
        D = int(x.shape[-1]) if x.ndim else 1
        rows = x.size // D if D else 0
        y = self.alloc(0, x.shape)
        if rows:
            self.be.function("reduce", "softmax_f32")(((rows + 3) // 4,), (128,),
                                                      (x, y, _i(rows), _i(D), _f(self.beta), _i(self.log)))
        return [y]


class Reduce(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _float_io(node, (0,))
        if r:
            return r
        if node.inputs[1].constant is None:
            return f"{node.op} axes must be a constant"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.axes = np.asarray(node.inputs[1].constant).reshape(-1).astype(np.int64)
        self.keep = bool(node.options.get("keep_dims", False))
        self.code = RED[node.op]
        self.mean = node.op == "MEAN"
        self._tmp = {}

    def __call__(self, ins):
        x = ins[0]
        r = x.ndim
        axes = sorted({int(a) + r if a < 0 else int(a) for a in self.axes})
        if any(not 0 <= a < r for a in axes):
            raise ValueError(f"{self.node.op}: axis out of range for rank {r}")
        kept = [d for d in range(r) if d not in axes]
        out_shape = tuple(1 if d in axes else x.shape[d] for d in range(r)) if self.keep else \
            tuple(x.shape[d] for d in kept)
        y = self.alloc(0, out_shape)
        R = int(np.prod([x.shape[a] for a in axes], dtype=np.int64)) if axes else 1
        scale = (1.0 / R if R else float("nan")) if self.mean else 1.0
        # contiguous reduced block: [outer][R][inner]
        if axes and axes == list(range(axes[0], axes[-1] + 1)):
            src = x
            outer = int(np.prod(x.shape[:axes[0]], dtype=np.int64))
            inner = int(np.prod(x.shape[axes[-1] + 1:], dtype=np.int64))
        else:
            perm = kept + axes
            tshape = tuple(x.shape[p] for p in perm)
            src = self.be.empty(tshape, F32)
            cs = _cstrides(x.shape)
            strided_copy(self.be, self, x, src, tshape, [cs[p] for p in perm], _cstrides(tshape))
            outer = int(np.prod([x.shape[k] for k in kept], dtype=np.int64))
            inner = 1
        n = outer * inner
        if n == 0:
            return [y]
        if inner == 1 and R >= 1024 and outer <= 65535:
            self.be.function("reduce", "reduce_rows_f32")((outer,), (256,), (src, y, _i(R), _i(self.code),
                                                                            _f(scale)))
        else:
            self.be.launch1d("reduce", "reduce_f32", n, (src, y, _i(outer), _i(R), _i(inner), _i(self.code),
                                                         _f(scale)))
        return [y]


# ------------------------------------------------------------------------------------------------ layout
class Reshape(DevOp):
    """RESHAPE / SQUEEZE / EXPAND_DIMS: a free view of the same device buffer."""

    @classmethod
    def refuse(cls, node):
        if node.inputs[0].type_name not in ("FLOAT32", "INT8") or \
                node.outputs[0].type_name != node.inputs[0].type_name:
            return "only FLOAT32 and INT8 tensors for now"
        if node.inputs[0].type_name == "INT8":
            qi, qo = _qspec(node.inputs[0]), _qspec(node.outputs[0])
            if qi is None or qo is None or float(qi.scales[0]) != float(qo.scales[0]) or \
                    int(qi.zero_points[0]) != int(qo.zero_points[0]):
                return "INT8 reshape with different input and output quantization"
        if node.op == "RESHAPE" and len(node.inputs) > 1 and node.inputs[1] is not None and \
                node.inputs[1].constant is None and node.outputs[0].dynamic:
            return "RESHAPE with a computed shape"
        if node.op == "EXPAND_DIMS" and node.inputs[1].constant is None:
            return "EXPAND_DIMS axis must be a constant"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.op = node.op
        if self.op == "RESHAPE":
            shp = None
            if len(node.inputs) > 1 and node.inputs[1] is not None and node.inputs[1].constant is not None:
                shp = np.asarray(node.inputs[1].constant).reshape(-1)
            elif node.options.get("new_shape") is not None and len(node.options.get("new_shape")):
                shp = np.asarray(node.options.get("new_shape")).reshape(-1)
            else:
                shp = np.asarray(node.outputs[0].shape)
            self.shape = [int(v) for v in shp]
        elif self.op == "SQUEEZE":
            self.sq = [int(v) for v in (node.options.get("squeeze_dims") or [])]
        else:
            self.axis = int(np.asarray(node.inputs[1].constant).reshape(-1)[0])

    def __call__(self, ins):
        x = ins[0]
        if self.op == "RESHAPE":
            shp = list(self.shape)
            if shp.count(-1) == 1:
                known = int(np.prod([s for s in shp if s != -1], dtype=np.int64))
                shp[shp.index(-1)] = x.size // known if known else 0
            return [x.reshape(tuple(shp))]
        if self.op == "SQUEEZE":
            r = x.ndim
            dims = [d + r if d < 0 else d for d in self.sq] if self.sq else \
                [d for d in range(r) if x.shape[d] == 1]
            return [x.reshape(tuple(s for d, s in enumerate(x.shape) if d not in dims))]
        a = self.axis
        if a < 0:
            a += x.ndim + 1
        shp = list(x.shape)
        shp.insert(a, 1)
        return [x.reshape(tuple(shp))]


class Concatenation(DevOp):
    data_inputs = ()

    @classmethod
    def refuse(cls, node):
        return _layout_io(node, tuple(range(len(node.inputs))))

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.axis = int(node.options.get("axis", 0))
        self.act = _act(node)
        self.c = [self.param(consts, i) for i in range(len(node.inputs))]

    def __call__(self, ins):
        xs = [c if c is not None else a for c, a in zip(self.c, ins)]
        r = xs[0].ndim
        ax = self.axis + r if self.axis < 0 else self.axis
        if not 0 <= ax < r:
            raise ValueError(f"CONCATENATION axis {self.axis} out of range for rank {r}")
        for x in xs:
            if x.ndim != r or any(x.shape[d] != xs[0].shape[d] for d in range(r) if d != ax):
                raise ValueError(f"CONCATENATION: shapes {[tuple(v.shape) for v in xs]} differ off axis {ax}")
        total = sum(int(x.shape[ax]) for x in xs)
        shape = list(xs[0].shape)
        shape[ax] = total
        y = self.alloc(0, tuple(shape), xs[0].dtype)
        outer = int(np.prod(shape[:ax], dtype=np.int64))
        inner = int(np.prod(shape[ax + 1:], dtype=np.int64))
        off = 0
        for x in xs:
            k = int(x.shape[ax])
            strided_copy(self.be, self, x, y, (outer, k * inner), (k * inner, 1), (total * inner, 1),
                         0, off * inner)
            off += k
        if self.act:
            unary(self.be, y, y, {1: 0, 2: 2, 3: 1}.get(self.act, 17))
        return [y]


class Pad(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _float_io(node, (0,))
        if r:
            return r
        if node.inputs[1].constant is None:
            return "PAD paddings must be a constant"
        if node.op == "PADV2" and len(node.inputs) > 2 and node.inputs[2] is not None and \
                node.inputs[2].constant is None:
            return "PADV2 constant value must be a constant"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.pads = np.asarray(node.inputs[1].constant).reshape(-1, 2).astype(np.int64)
        self.value = 0.0
        if node.op == "PADV2" and len(node.inputs) > 2 and node.inputs[2] is not None:
            self.value = float(np.asarray(node.inputs[2].constant).reshape(-1)[0])

    def __call__(self, ins):
        x = ins[0]
        r = x.ndim
        if self.pads.shape[0] != r:
            raise ValueError(f"PAD paddings have {self.pads.shape[0]} rows for a rank-{r} input")
        if (self.pads < 0).any():
            raise ValueError("PAD paddings must be non-negative")
        out = tuple(int(x.shape[d] + self.pads[d].sum()) for d in range(r))
        _check_size(out)
        y = self.alloc(0, out)
        n = int(np.prod(out, dtype=np.int64))
        meta = self.meta(("p", out, tuple(x.shape)), list(out) + list(x.shape) + [int(p) for p in self.pads[:, 0]]
                         + _cstrides(x.shape))
        self.be.launch1d("layout", "pad_f32", n, (x, y, _i(n), _i(r), meta, _f(self.value)))
        return [y]


class Transpose(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _layout_io(node, (0,))
        if r:
            return r
        if node.inputs[1].constant is None:
            return "TRANSPOSE permutation must be a constant"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.perm = [int(v) for v in np.asarray(node.inputs[1].constant).reshape(-1)]

    def __call__(self, ins):
        x = ins[0]
        perm = [p + x.ndim if p < 0 else p for p in self.perm]
        if sorted(perm) != list(range(x.ndim)):
            raise ValueError(f"TRANSPOSE permutation {self.perm} does not fit rank {x.ndim}")
        shape = tuple(x.shape[p] for p in perm)
        y = self.alloc(0, shape, x.dtype)
        cs = _cstrides(x.shape)
        strided_copy(self.be, self, x, y, shape, [cs[p] for p in perm], _cstrides(shape))
        return [y]


class Slice(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _layout_io(node, (0,))
        if r:
            return r
        for i in range(1, len(node.inputs)):
            if node.inputs[i] is not None and node.inputs[i].constant is None:
                return f"{node.op} begin/end/strides must be constants"
        if node.op == "STRIDED_SLICE":
            o = node.options
            if o.get("ellipsis_mask", 0) or o.get("new_axis_mask", 0):
                return "STRIDED_SLICE with ellipsis_mask/new_axis_mask is not supported"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.strided = node.op == "STRIDED_SLICE"
        c = [np.asarray(node.inputs[i].constant).reshape(-1).astype(np.int64) for i in range(1, len(node.inputs))]
        self.begin = c[0]
        if self.strided:
            self.end, self.steps = c[1], c[2]
            o = node.options
            self.bm, self.em = int(o.get("begin_mask", 0)), int(o.get("end_mask", 0))
            self.sm = int(o.get("shrink_axis_mask", 0))
            self.offset = bool(o.get("offset", False))
        else:
            self.size = c[1]

    def __call__(self, ins):
        x = ins[0]
        r = x.ndim
        cs = _cstrides(x.shape)
        dims, ist, base, out_shape = [], [], 0, []
        for d in range(r):
            n = int(x.shape[d])
            if not self.strided:
                b = int(self.begin[d]) if d < len(self.begin) else 0
                s = int(self.size[d]) if d < len(self.size) else -1
                if s == -1:
                    s = n - b
                if b < 0 or s < 0 or b + s > n:
                    raise ValueError(f"SLICE begin {b} size {s} out of range for dimension {d} of size {n}")
                start, cnt, step = b, s, 1
                out_shape.append(cnt)
            elif d >= len(self.begin):
                start, cnt, step = 0, n, 1
                out_shape.append(cnt)
            else:
                step = int(self.steps[d])
                if step == 0:
                    raise ValueError("STRIDED_SLICE stride 0")
                b, e = int(self.begin[d]), int(self.end[d])
                if self.offset:
                    e = b + e
                if (self.sm >> d) & 1:
                    bb = b + n if b < 0 else b
                    if not 0 <= bb < n:
                        raise ValueError(f"STRIDED_SLICE shrink index {b} out of range for size {n}")
                    start, cnt = bb, 1
                else:
                    sl = slice(None if (self.bm >> d) & 1 else b, None if (self.em >> d) & 1 else e, step)
                    start, stop, step = sl.indices(n)
                    cnt = len(range(start, stop, step))
                    out_shape.append(cnt)
            dims.append(cnt)
            ist.append(cs[d] * step)
            base += start * cs[d] if cnt > 0 else 0
        y = self.alloc(0, tuple(out_shape), x.dtype)
        strided_copy(self.be, self, x, y, dims, ist, _cstrides(dims), base, 0)
        return [y]


class SpaceDepth(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _layout_io(node, (0,))
        if r:
            return r
        if len(node.inputs[0].shape) != 4:
            return f"{node.op} needs a 4-D input"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.b = int(node.options.get("block_size", 1))
        self.d2s = node.op == "DEPTH_TO_SPACE"

    def __call__(self, ins):
        x = ins[0]
        N, H, W, C = (int(v) for v in x.shape)
        b = self.b
        if self.d2s:
            if C % (b * b):
                raise ValueError(f"DEPTH_TO_SPACE: depth {C} not divisible by block_size^2 {b * b}")
            c2 = C // (b * b)
            y = self.alloc(0, (N, H * b, W * b, c2), x.dtype)
            dims = (N, H, b, W, b, c2)
            ist = (H * W * C, W * C, b * c2, C, c2, 1)
        else:
            if H % b or W % b:
                raise ValueError(f"SPACE_TO_DEPTH: {H}x{W} not divisible by block_size {b}")
            y = self.alloc(0, (N, H // b, W // b, b * b * C), x.dtype)
            dims = (N, H // b, W // b, b, b, C)
            ist = (H * W * C, b * W * C, b * C, W * C, C, 1)
        strided_copy(self.be, self, x, y, dims, ist, _cstrides(dims))
        return [y]


class Resize(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _float_io(node, (0,))
        if r:
            return r
        if node.inputs[1].constant is None:
            return f"{node.op} size must be a constant"
        if len(node.inputs[0].shape) != 4:
            return f"{node.op} needs a 4-D input"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.size = [int(v) for v in np.asarray(node.inputs[1].constant).reshape(-1)]
        self.mode = 0 if node.op == "RESIZE_BILINEAR" else 1
        self.ac = bool(node.options.get("align_corners", False))
        self.hp = bool(node.options.get("half_pixel_centers", False))

    def __call__(self, ins):
        x = ins[0]
        N, H, W, C = (int(v) for v in x.shape)
        OH, OW = self.size

        def scale(i, o):
            if self.ac and o > 1:
                return (i - 1) / (o - 1)
            return i / o if o else 0.0
        y = self.alloc(0, (N, OH, OW, C))
        self.be.launch1d("layout", "resize_f32", N * OH * OW * C, (
            x, y, _i(N), _i(H), _i(W), _i(C), _i(OH), _i(OW), _f(scale(H, OH)), _f(scale(W, OW)),
            _i(self.mode), _i(self.ac), _i(self.hp)))
        return [y]


class Gather(DevOp):
    @classmethod
    def refuse(cls, node):
        r = _layout_io(node, (0,))
        if r:
            return r
        if node.options.get("batch_dims", 0):
            return "GATHER with batch_dims is not supported"
        it = node.inputs[1]
        if it.constant is None and it.type_name != "INT32":
            return "GATHER with computed non-int32 indices"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.axis = int(node.options.get("axis", 0))
        c = node.inputs[1].constant
        self.idx_shape = None
        self.idx = None
        if c is not None:
            c = np.asarray(c)
            n = int(node.inputs[0].shape[self.axis]) if node.inputs[0].shape else 0
            if c.size and ((c < -n) | (c >= n)).any():
                raise ValueError(f"GATHER index out of range [0, {n})")
            self.idx_shape = c.shape
            self.idx = be.to_device(np.ascontiguousarray(c.reshape(-1), dtype=I32))

    def __call__(self, ins):
        p = ins[0]
        idx = self.idx if self.idx is not None else ins[1]
        ishape = self.idx_shape if self.idx is not None else tuple(ins[1].shape)
        ax = self.axis + p.ndim if self.axis < 0 else self.axis
        shape = tuple(p.shape[:ax]) + tuple(ishape) + tuple(p.shape[ax + 1:])
        y = self.alloc(0, shape, p.dtype)
        outer = int(np.prod(p.shape[:ax], dtype=np.int64))
        inner = int(np.prod(p.shape[ax + 1:], dtype=np.int64))
        nidx = int(np.prod(ishape, dtype=np.int64))
        kernel = "gather_s8" if p.dtype.itemsize == 1 else "gather_f32"
        self.be.launch1d("layout", kernel, outer * nidx * inner, (
            p, idx, y, _i(outer), _i(p.shape[ax]), _i(nidx), _i(inner)))
        return [y]


def _const_ints(node, i):
    return [int(v) for v in np.asarray(node.inputs[i].constant).reshape(-1)]


class _ConstOperands(DevOp):
    """Ops whose non-data operands (axes, sizes, shapes) must be constants."""
    const_inputs: tuple = ()

    @classmethod
    def refuse(cls, node):
        r = _layout_io(node, cls.data_inputs)
        if r:
            return r
        for i in cls.const_inputs:
            if i < len(node.inputs) and node.inputs[i] is not None and node.inputs[i].constant is None:
                return f"{node.op} operand {i} must be a constant"
        return None


def _copy_slices(op, x, axis, sizes):
    """Splits x along axis into pieces of the given sizes (device copies)."""
    r = x.ndim
    ax = axis + r if axis < 0 else axis
    if not 0 <= ax < r:
        raise ValueError(f"{op.node.op}: axis {axis} out of range for rank {r}")
    if sum(sizes) != x.shape[ax] or any(s < 0 for s in sizes):
        raise ValueError(f"{op.node.op}: sizes {sizes} do not split dimension {x.shape[ax]}")
    outer = int(np.prod(x.shape[:ax], dtype=np.int64))
    inner = int(np.prod(x.shape[ax + 1:], dtype=np.int64))
    outs, off = [], 0
    for k in sizes:
        shape = tuple(x.shape[:ax]) + (k,) + tuple(x.shape[ax + 1:])
        y = op.alloc(len(outs), shape, x.dtype)
        strided_copy(op.be, op, x, y, (outer, k * inner), (x.shape[ax] * inner, 1), (k * inner, 1), off * inner, 0)
        outs.append(y)
        off += k
    return outs


class Split(_ConstOperands):
    data_inputs = (1,)
    const_inputs = (0,)

    def __call__(self, ins):
        x = ins[1]
        axis = _const_ints(self.node, 0)[0]
        n = int(self.node.options.get("num_splits", len(self.node.outputs)))
        ax = axis + x.ndim if axis < 0 else axis
        if n <= 0 or x.shape[ax] % n:
            raise ValueError(f"SPLIT: dimension {x.shape[ax]} is not divisible into {n} pieces")
        return _copy_slices(self, x, axis, [x.shape[ax] // n] * n)


class SplitV(_ConstOperands):
    data_inputs = (0,)
    const_inputs = (1, 2)

    def __call__(self, ins):
        x = ins[0]
        sizes = _const_ints(self.node, 1)
        axis = _const_ints(self.node, 2)[0]
        ax = axis + x.ndim if axis < 0 else axis
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = x.shape[ax] - (sum(sizes) + 1)
        return _copy_slices(self, x, axis, sizes)


class Unpack(DevOp):
    @classmethod
    def refuse(cls, node):
        return _layout_io(node, (0,))

    def __call__(self, ins):
        x = ins[0]
        axis = int(self.node.options.get("axis", 0))
        ax = axis + x.ndim if axis < 0 else axis
        parts = _copy_slices(self, x, ax, [1] * int(x.shape[ax]))
        return [p.reshape(tuple(x.shape[:ax]) + tuple(x.shape[ax + 1:])) for p in parts]


class Pack(DevOp):
    data_inputs = ()

    @classmethod
    def refuse(cls, node):
        return _layout_io(node, tuple(range(len(node.inputs))))

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.c = [self.param(consts, i) for i in range(len(node.inputs))]

    def __call__(self, ins):
        xs = [c if c is not None else a for c, a in zip(self.c, ins)]
        axis = int(self.node.options.get("axis", 0))
        r = xs[0].ndim + 1
        ax = axis + r if axis < 0 else axis
        shape = tuple(xs[0].shape[:ax]) + (len(xs),) + tuple(xs[0].shape[ax:])
        y = self.alloc(0, shape, xs[0].dtype)
        outer = int(np.prod(shape[:ax], dtype=np.int64))
        inner = int(np.prod(shape[ax + 1:], dtype=np.int64))
        for k, x in enumerate(xs):
            if tuple(x.shape) != tuple(xs[0].shape):
                raise ValueError("PACK: inputs have different shapes")
            strided_copy(self.be, self, x, y, (outer, inner), (inner, 1), (len(xs) * inner, 1), 0, k * inner)
        return [y]


class Tile(_ConstOperands):
    const_inputs = (1,)

    def __call__(self, ins):
        x = ins[0]
        mult = _const_ints(self.node, 1)
        if len(mult) != x.ndim or any(m < 0 for m in mult):
            raise ValueError(f"TILE multiples {mult} do not fit rank {x.ndim}")
        shape = tuple(int(s) * m for s, m in zip(x.shape, mult))
        y = self.alloc(0, shape, x.dtype)
        cs = _cstrides(x.shape)
        dims, ist = [], []
        for d in range(x.ndim):
            dims += [mult[d], int(x.shape[d])]
            ist += [0, cs[d]]
        strided_copy(self.be, self, x, y, dims, ist, _cstrides(dims))
        return [y]


class BroadcastTo(_ConstOperands):
    const_inputs = (1,)

    def __call__(self, ins):
        x = ins[0]
        shape = tuple(_const_ints(self.node, 1))
        out = tuple(np.broadcast_shapes(tuple(x.shape), shape))
        if out != shape:
            raise ValueError(f"BROADCAST_TO: {tuple(x.shape)} cannot be broadcast to {shape}")
        r = len(shape)
        xs = (1,) * (r - x.ndim) + tuple(x.shape)
        cs = _cstrides(xs)
        y = self.alloc(0, shape, x.dtype)
        strided_copy(self.be, self, x, y, shape, [0 if xs[d] == 1 else cs[d] for d in range(r)], _cstrides(shape))
        return [y]


class DequantizeF16(DevOp):
    """DEQUANTIZE of a computed float16 tensor (constant ones are folded on the host at preparation)."""

    @classmethod
    def refuse(cls, node):
        if node.inputs[0].type_name != "FLOAT16" or not _is_f32(node.outputs[0]):
            return f"DEQUANTIZE from {node.inputs[0].type_name} of a computed tensor runs on the CPU"
        return None

    def __call__(self, ins):
        x = ins[0]
        if x.dtype != np.float16:
            raise ValueError(f"DEQUANTIZE expects float16, got {x.dtype}")
        y = self.alloc(0, x.shape)
        self.be.launch1d("elementwise", "half_to_float_f32", int(x.size), (x.view(np.uint16), y, _i(x.size)))
        return [y]


# ------------------------------------------------------------------------------------------------ int8
def _qspec(t):
    q = getattr(t, "quantization", None)
    return q if q is not None and len(q.scales) else None


def _per_tensor_int8(t) -> bool:
    return t is not None and t.type_name == "INT8" and _qspec(t) is not None and not _qspec(t).per_axis


def _int8_act_range(node):
    """The int8 (lo, hi) clamp of the node's fused activation on its per-tensor output quantization."""
    from tfl_gpu import quant as Q
    qo = _qspec(node.outputs[0])
    return Q.activation_range(node.options.get("fused_activation_function", "NONE"), float(qo.scales[0]),
                              int(qo.zero_points[0]), "INT8")


def _reference_resolver(node) -> bool:
    """Best effort: True when the core resolved this node with LiteRT's reference kernels (BUILTIN_REF),
    whose integer rounding differs from the BUILTIN arithmetic the int8 CUDA kernels reproduce."""
    try:
        fn = node.cpu_kernel()
    except Exception:  # noqa: BLE001 - no CPU kernel: nothing to match
        return False
    for cell in getattr(fn, "__closure__", None) or ():
        k = cell.cell_contents
        if getattr(k, "ref", False) is True or getattr(k, "optimized", True) is False:
            return True
    return False


def _int8_refusal(node, weights: bool) -> str | None:
    if _reference_resolver(node):
        return (f"quantized {node.op} under BUILTIN_REF resolution: the int8 CUDA kernels reproduce the "
                "BUILTIN kernels' rounding")
    x, o = node.inputs[0], node.outputs[0]
    if x.type_name != "INT8" or o.type_name != "INT8":
        return f"quantized {node.op}: only INT8 input and output have CUDA kernels"
    qx, qo = _qspec(x), _qspec(o)
    if qx is None or qo is None or qx.per_axis or qo.per_axis:
        return f"quantized {node.op}: input and output need per-tensor quantization"
    act = node.options.get("fused_activation_function", "NONE")
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        return f"quantized {node.op}: fused activation {act} is not supported"
    if weights:
        w = node.inputs[1]
        if w is None or w.type_name != "INT8" or _qspec(w) is None:
            return f"quantized {node.op}: the filter must be INT8"
        if w.constant is None:
            return f"quantized {node.op}: the filter must be a constant"
        qw = _qspec(w)
        if qw.per_axis and np.any(np.asarray(qw.zero_points) != 0):
            return f"quantized {node.op}: per-channel filter zero points must be 0"
        if len(node.inputs) > 2 and node.inputs[2] is not None:
            b = node.inputs[2]
            if b.type_name != "INT32" or b.constant is None:
                return f"quantized {node.op}: the bias must be a constant INT32"
    return None


class _QConvBase(DevOp):
    """int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED with LiteRT BUILTIN rounding."""
    fc = False
    depthwise = False

    @classmethod
    def refuse(cls, node):
        r = _int8_refusal(node, True)
        if r:
            return r
        x, w = node.inputs[0], node.inputs[1]
        if cls.fc:
            if len(w.shape) != 2:
                return "quantized FULLY_CONNECTED weights must be 2-D"
            if node.options.get("weights_format", "DEFAULT") not in ("DEFAULT", 0):
                return "shuffled FC weights are not supported"
        elif len(x.shape) != 4 or len(w.shape) != 4:
            return f"quantized {node.op} needs 4-D input and filter"
        elif not cls.depthwise and int(w.shape[3]) != int(x.shape[3]):
            return "grouped convolution is not supported"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        from tfl_gpu import quant as Q
        x_t, w_t, o_t = node.inputs[0], node.inputs[1], node.outputs[0]
        qx, qw, qo = _qspec(x_t), _qspec(w_t), _qspec(o_t)
        w = np.asarray(w_t.constant)
        nch = int(w.shape[3] if self.depthwise else w.shape[0])
        xs, os_ = float(qx.scales[0]), float(qo.scales[0])
        if qw.per_axis:
            ms = [Q.conv_multiplier_f64(xs, float(s), os_) for s in qw.scales]
        elif self.fc:
            ms = [Q.conv_multiplier_f32(xs, float(qw.scales[0]), os_)] * nch
        else:
            ms = [Q.conv_multiplier_f64(xs, float(qw.scales[0]), os_)] * nch
        qm, sh = Q.quantize_multipliers(np.asarray(ms))
        if np.any(qm < 0):
            raise ValueError("negative quantized multiplier")
        self.lo, self.hi = _int8_act_range(node)
        self.x_zp, self.out_zp = int(qx.zero_points[0]), int(qo.zero_points[0])
        self.w_zp = 0 if qw.per_axis else int(qw.zero_points[0])
        self.q = be.to_device(np.ascontiguousarray(qm, dtype=np.int32))
        self.shift = be.to_device(np.ascontiguousarray(sh, dtype=np.int32))
        self.w = be.to_device(np.ascontiguousarray(w, dtype=np.int8))
        self.captured.add(1)
        self.b = None
        if len(node.inputs) > 2 and node.inputs[2] is not None:
            self.b = be.to_device(np.ascontiguousarray(np.asarray(node.inputs[2].constant).reshape(-1), np.int32))
            self.captured.add(2)
            if int(self.b.size) != nch:
                raise ValueError(f"{node.op}: bias has {int(self.b.size)} values for {nch} channels")
        # LiteRT's optimized int8 kernels round the final shift's halves up; its depthwise kernel only in
        # blocks of 8 output channels (the remaining channels take the reference rounding)
        self.up_limit = nch // 8 * 8 if self.depthwise else nch
        o_ = node.options
        self.sh_, self.sw_ = int(o_.get("stride_h", 1)), int(o_.get("stride_w", 1))
        self.dh, self.dw = int(o_.get("dilation_h_factor", 1)), int(o_.get("dilation_w_factor", 1))
        self.padding = o_.get("padding", "SAME")
        self.keep = bool(o_.get("keep_num_dims", False))

    def _tail(self):
        return (_i(self.x_zp), _i(self.w_zp), _i(self.out_zp), _i(self.lo), _i(self.hi), _i(self.up_limit))

    def _conv(self, x, N, H, W, IC, OH, OW, OC, KH, KW, sh, sw, dh, dw, pt, pl, shape):
        y = self.alloc_q(shape)
        M = N * OH * OW
        if M == 0 or OC == 0:
            return y
        self.be.function("quant", "conv2d_s8")(((M + 63) // 64, (OC + 63) // 64, 1), (256,), (
            x, self.w, _p(self.b), y, self.q, self.shift, _i(N), _i(H), _i(W), _i(IC), _i(OH), _i(OW), _i(OC),
            _i(KH), _i(KW), _i(sh), _i(sw), _i(dh), _i(dw), _i(pt), _i(pl), *self._tail()))
        return y

    def alloc_q(self, shape):
        return self.be.empty(tuple(int(v) for v in shape), np.int8)


class QConv2D(_QConvBase):
    def __call__(self, ins):
        x = ins[0]
        if x.ndim != 4:
            raise ValueError("CONV_2D needs a 4-D input")
        N, H, W, IC = (int(v) for v in x.shape)
        OC, KH, KW, WIC = (int(v) for v in self.w.shape)
        if WIC != IC:
            raise ValueError(f"CONV_2D: input has {IC} channels, the filter expects {WIC}")
        OH, pt = _same_pad(H, KH, self.sh_, self.dh, self.padding)
        OW, pl = _same_pad(W, KW, self.sw_, self.dw, self.padding)
        return [self._conv(x, N, H, W, IC, OH, OW, OC, KH, KW, self.sh_, self.sw_, self.dh, self.dw, pt, pl,
                           (N, OH, OW, OC))]


class QFullyConnected(_QConvBase):
    fc = True

    def __call__(self, ins):
        x = ins[0]
        OC, K = (int(v) for v in self.w.shape)
        if K == 0 or x.size % K:
            raise ValueError(f"FULLY_CONNECTED input of {x.size} elements is not a multiple of depth {K}")
        M = x.size // K
        shape = tuple(x.shape[:-1]) + (OC,) if self.keep else (M, OC)
        # rows as M images of 1x1xK through the implicit-GEMM kernel
        return [self._conv(x, M, 1, 1, K, 1, 1, OC, 1, 1, 1, 1, 1, 1, 0, 0, shape)]


class QDepthwiseConv2D(_QConvBase):
    depthwise = True

    def __call__(self, ins):
        x = ins[0]
        if x.ndim != 4:
            raise ValueError("DEPTHWISE_CONV_2D needs a 4-D input")
        N, H, W, IC = (int(v) for v in x.shape)
        _, KH, KW, OC = (int(v) for v in self.w.shape)
        if IC == 0 or OC % IC:
            raise ValueError(f"depthwise filter has {OC} channels for {IC} input channels")
        OH, pt = _same_pad(H, KH, self.sh_, self.dh, self.padding)
        OW, pl = _same_pad(W, KW, self.sw_, self.dw, self.padding)
        y = self.alloc_q((N, OH, OW, OC))
        self.be.launch1d("quant", "depthwise_conv2d_s8", N * OH * OW * OC, (
            x, self.w, _p(self.b), y, self.q, self.shift, _i(N), _i(H), _i(W), _i(IC), _i(OH), _i(OW), _i(OC),
            _i(KH), _i(KW), _i(self.sh_), _i(self.sw_), _i(self.dh), _i(self.dw), _i(pt), _i(pl), _i(OC // IC),
            *self._tail()))
        return [y]


class QMaxPool2D(DevOp):
    kernel = "maxpool2d_s8"

    @classmethod
    def refuse(cls, node):
        r = _int8_refusal(node, False)
        if r:
            return r
        qx, qo = _qspec(node.inputs[0]), _qspec(node.outputs[0])
        if float(qx.scales[0]) != float(qo.scales[0]) or int(qx.zero_points[0]) != int(qo.zero_points[0]):
            return f"quantized {node.op} with different input and output quantization"
        if len(node.inputs[0].shape) != 4:
            return "pooling needs a 4-D input"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        o = node.options
        self.sh, self.sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
        self.kh, self.kw = int(o.get("filter_height", 1)), int(o.get("filter_width", 1))
        self.padding = o.get("padding", "SAME")
        self.lo, self.hi = _int8_act_range(node)

    def __call__(self, ins):
        x = ins[0]
        N, H, W, C = (int(v) for v in x.shape)
        OH, pt = _same_pad(H, self.kh, self.sh, 1, self.padding)
        OW, pl = _same_pad(W, self.kw, self.sw, 1, self.padding)
        y = self.be.empty((N, OH, OW, C), np.int8)
        self.be.launch1d("quant", self.kernel, N * OH * OW * C, (
            x, y, _i(N), _i(H), _i(W), _i(C), _i(OH), _i(OW), _i(self.kh), _i(self.kw), _i(self.sh), _i(self.sw),
            _i(pt), _i(pl), _i(self.lo), _i(self.hi)))
        return [y]


class QPad(DevOp):
    """int8 PAD / PADV2 (same input and output quantization): pads with the zero point (PAD) or the
    constant (PADV2)."""

    @classmethod
    def refuse(cls, node):
        r = _int8_refusal(node, False)
        if r:
            return r
        qx, qo = _qspec(node.inputs[0]), _qspec(node.outputs[0])
        if float(qx.scales[0]) != float(qo.scales[0]) or int(qx.zero_points[0]) != int(qo.zero_points[0]):
            return f"quantized {node.op} with different input and output quantization"
        if node.inputs[1].constant is None:
            return "PAD paddings must be a constant"
        if node.op == "PADV2" and len(node.inputs) > 2 and node.inputs[2] is not None and \
                (node.inputs[2].constant is None or node.inputs[2].type_name != "INT8"):
            return "PADV2 constant value must be an INT8 constant"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.pads = np.asarray(node.inputs[1].constant).reshape(-1, 2).astype(np.int64)
        self.value = int(_qspec(node.outputs[0]).zero_points[0])
        if node.op == "PADV2" and len(node.inputs) > 2 and node.inputs[2] is not None:
            self.value = int(np.asarray(node.inputs[2].constant).reshape(-1)[0])

    def __call__(self, ins):
        x = ins[0]
        r = x.ndim
        if self.pads.shape[0] != r or (self.pads < 0).any():
            raise ValueError(f"PAD paddings {self.pads.tolist()} do not fit a rank-{r} input")
        out = tuple(int(x.shape[d] + self.pads[d].sum()) for d in range(r))
        _check_size(out)
        y = self.be.empty(out, np.int8)
        n = int(np.prod(out, dtype=np.int64))
        meta = self.meta(("p", out, tuple(x.shape)), list(out) + list(x.shape) + [int(p) for p in self.pads[:, 0]]
                         + _cstrides(x.shape))
        self.be.launch1d("quant", "pad_s8", n, (x, y, _i(n), _i(r), meta, _i(self.value)))
        return [y]


class QAdd(DevOp):
    """int8 ADD of two same-shape tensors (LiteRT BUILTIN arithmetic; broadcasting stays on the CPU)."""
    data_inputs = (0, 1)

    @classmethod
    def refuse(cls, node):
        r = _int8_refusal(node, False)
        if r:
            return r
        a, b = node.inputs[0], node.inputs[1]
        if not _per_tensor_int8(b):
            return "quantized ADD needs two per-tensor INT8 inputs"
        if tuple(a.shape) != tuple(b.shape):
            return "quantized ADD with broadcasting runs on the CPU"
        if a.constant is not None or b.constant is not None:
            return "quantized ADD of a constant runs on the CPU"
        qa, qb, qo = cls._multipliers(node)
        if max(qa[1], qb[1], qo[1]) > 0:
            return "quantized ADD with an upscaling multiplier runs on the CPU"
        return None

    @staticmethod
    def _multipliers(node):
        from tfl_gpu import quant as Q
        sa = float(np.float32(_qspec(node.inputs[0]).scales[0]))
        sb = float(np.float32(_qspec(node.inputs[1]).scales[0]))
        so = float(np.float32(_qspec(node.outputs[0]).scales[0]))
        twice_max = 2.0 * max(sa, sb)
        return (Q.quantize_multiplier(sa / twice_max), Q.quantize_multiplier(sb / twice_max),
                Q.quantize_multiplier(twice_max / ((1 << 20) * so)))

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        (self.qa, self.sha), (self.qb, self.shb), (self.qo, self.sho) = self._multipliers(node)
        self.za = int(_qspec(node.inputs[0]).zero_points[0])
        self.zb = int(_qspec(node.inputs[1]).zero_points[0])
        self.zo = int(_qspec(node.outputs[0]).zero_points[0])
        self.lo, self.hi = _int8_act_range(node)

    def __call__(self, ins):
        a, b = ins[0], ins[1]
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"quantized ADD: shapes {tuple(a.shape)} and {tuple(b.shape)} differ")
        y = self.be.empty(a.shape, np.int8)
        n = int(a.size)
        self.be.launch1d("quant", "add_s8", n, (
            a, b, y, _i(n), _i(n // 16 * 16), _i(self.za), _i(self.zb), _i(self.zo), _i(self.qa), _i(self.sha),
            _i(self.qb), _i(self.shb), _i(self.qo), _i(self.sho), _i(self.lo), _i(self.hi)))
        return [y]


class QMean(DevOp):
    """int8 MEAN over contiguous axes, LiteRT BUILTIN arithmetic (both its general and its 4-D spatial
    keep_dims algorithm)."""

    @classmethod
    def refuse(cls, node):
        x, o = node.inputs[0], node.outputs[0]
        if x.type_name != "INT8" or o.type_name != "INT8" or _qspec(x) is None or _qspec(o) is None:
            return "quantized MEAN: only INT8 input and output have CUDA kernels"
        if _reference_resolver(node):
            return "quantized MEAN under BUILTIN_REF resolution runs on the CPU"
        if node.inputs[1].constant is None:
            return "MEAN axes must be a constant"
        r = len(x.shape)
        axes = sorted({int(a) % r for a in np.ravel(node.inputs[1].constant)}) if r else []
        if not axes or axes != list(range(axes[0], axes[-1] + 1)):
            return "quantized MEAN over non-contiguous axes runs on the CPU"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        self.axes_c = np.ravel(node.inputs[1].constant)
        self.keep = bool(node.options.get("keep_dims", False))
        qi, qo = _qspec(node.inputs[0]), _qspec(node.outputs[0])
        self.zi, self.zo = int(qi.zero_points[0]), int(qo.zero_points[0])
        self.si, self.so = np.float32(qi.scales[0]), np.float32(qo.scales[0])

    def __call__(self, ins):
        from tfl_gpu import quant as Q
        x = ins[0]
        r = x.ndim
        axes = sorted({int(a) % r for a in self.axes_c})
        out_shape = tuple(1 if d in axes else x.shape[d] for d in range(r)) if self.keep else \
            tuple(x.shape[d] for d in range(r) if d not in axes)
        y = self.be.empty(out_shape, np.int8)
        outer = int(np.prod(x.shape[:axes[0]], dtype=np.int64))
        R = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        inner = int(np.prod(x.shape[axes[-1] + 1:], dtype=np.int64))
        if outer * inner == 0:
            return [y]
        if R == 0:
            raise ValueError("MEAN over an empty axis")
        if self.keep and r == 4 and axes == [1, 2]:
            # LiteRT's optimized spatial mean: float32 multiplier and zero-point bias, 16-channel vector blocks
            count = np.float32(R)
            temp = np.float32(np.float32(self.zi) * self.si / self.so)
            temp = temp + np.float32(0.5) if temp > 0 else temp - np.float32(0.5)
            q, shift = Q.quantize_multiplier(float(np.float32(self.si / np.float32(count * self.so))))
            sub, add, up = 0, self.zo - int(temp), inner // 16 * 16
        else:
            q, shift = Q.quantize_multiplier(float(self.si) / float(self.so))
            sh = min(R.bit_length() - 1, 32, 31 + shift)
            q, shift = (q << sh) // R, shift - sh
            sub, add, up = self.zi * R, self.zo, 0
        self.be.launch1d("quant", "mean_s8", outer * inner, (
            x, y, _i(outer), _i(R), _i(inner), _i(q), _i(shift), _i(sub), _i(add), _i(up), _i(-128), _i(127)))
        return [y]


class QSoftmax(DevOp):
    """int8 SOFTMAX over the last axis, LiteRT BUILTIN arithmetic."""

    @classmethod
    def refuse(cls, node):
        x, o = node.inputs[0], node.outputs[0]
        if x.type_name != "INT8" or o.type_name != "INT8" or _qspec(x) is None or _qspec(o) is None:
            return "quantized SOFTMAX: only INT8 input and output have CUDA kernels"
        if _reference_resolver(node):
            return "quantized SOFTMAX under BUILTIN_REF resolution runs on the CPU"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        from tfl_gpu.kernels.q_softmax import c_expf
        qi, qo = _qspec(node.inputs[0]), _qspec(node.outputs[0])
        beta = np.float32(float(np.float32(node.options.get("beta", 1.0))))
        scale = np.float32(-np.float32(qi.scales[0]) * beta)
        table = c_expf(np.float32(scale) * np.arange(256, dtype=np.float32))[::-1].copy()
        self.table = be.to_device(np.ascontiguousarray(table, np.float32))
        self.out_scale = np.float32(qo.scales[0])
        self.out_zp = int(qo.zero_points[0])

    def __call__(self, ins):
        x = ins[0]
        D = int(x.shape[-1]) if x.ndim else 1
        rows = x.size // D if D else 0
        y = self.be.empty(x.shape, np.int8)
        self.be.launch1d("quant", "softmax_s8", rows, (x, y, _i(rows), _i(D), self.table, self.out_scale,
                                                       _i(self.out_zp), _i(-128), _i(127)), block=64)
        return [y]


LUT_OPS = ("LOGISTIC", "TANH", "ELU", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LEAKY_RELU",
           "HARD_SWISH", "ABS", "NEG", "GELU", "RSQRT", "SQRT", "EXP", "LOG", "QUANTIZE", "DEQUANTIZE")


def _lut_table(node):
    """The CPU path's own result for each of the 256 int8 values (a pointwise op is a function of one
    value), or raises."""
    xs = np.arange(-128, 128, dtype=np.int8)
    out = node.cpu_kernel()(xs)
    out = out[0] if isinstance(out, (tuple, list)) else out
    out = np.asarray(out)
    if out.shape != xs.shape:
        raise ValueError(f"{node.op} is not pointwise")
    return out


class QLut(DevOp):
    """Pointwise int8 -> int8 (or int8 -> float32 DEQUANTIZE) ops through a 256-entry table."""

    @classmethod
    def refuse(cls, node):
        x, o = node.inputs[0], node.outputs[0]
        if len([t for t in node.inputs if t is not None]) != 1 or len(node.outputs) != 1:
            return f"quantized {node.op} with several operands runs on the CPU"
        if x.type_name != "INT8" or _qspec(x) is None or o.type_name not in ("INT8", "FLOAT32"):
            return f"quantized {node.op}: only INT8 -> INT8/FLOAT32 has a CUDA kernel"
        if o.type_name == "FLOAT32" and node.op != "DEQUANTIZE":
            return f"{node.op} from INT8 to FLOAT32 runs on the CPU"
        try:
            _lut_table(node)
        except Exception as e:  # noqa: BLE001 - the CPU kernel cannot tabulate this node
            return f"quantized {node.op} cannot be tabulated: {type(e).__name__}: {e}"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        t = _lut_table(node)
        self.f32 = node.outputs[0].type_name == "FLOAT32"
        self.table = be.to_device(np.ascontiguousarray(t, np.float32 if self.f32 else np.int8))

    def __call__(self, ins):
        x = ins[0]
        n = int(x.size)
        y = self.alloc(0, x.shape) if self.f32 else self.be.empty(x.shape, np.int8)
        self.be.launch1d("quant", "lut_s8_f32" if self.f32 else "lut_s8", n, (x, y, _i(n), self.table))
        return [y]


class QAvgPool2D(QMaxPool2D):
    kernel = "avgpool2d_s8"


class QuantizeF32(DevOp):
    """QUANTIZE of a float32 tensor to per-tensor INT8 (LiteRT BUILTIN rounding)."""

    @classmethod
    def refuse(cls, node):
        x, o = node.inputs[0], node.outputs[0]
        if x.type_name != "FLOAT32" or o.type_name != "INT8" or _qspec(o) is None or _qspec(o).per_axis:
            return "QUANTIZE: only FLOAT32 -> per-tensor INT8 has a CUDA kernel"
        if _reference_resolver(node):
            return "QUANTIZE under BUILTIN_REF resolution runs on the CPU"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        q = _qspec(node.outputs[0])
        self.scale = np.float32(q.scales[0])
        self.zp = int(q.zero_points[0])

    def __call__(self, ins):
        x = ins[0]
        n = int(x.size)
        y = self.be.empty(x.shape, np.int8)
        self.be.launch1d("quant", "quantize_f32_s8", n, (
            x, y, _i(n), _i(n // 8 * 8), np.float32(np.float32(1) / self.scale), np.float64(self.scale), _i(self.zp),
            _i(-128), _i(127)))
        return [y]


class QMul(DevOp):
    """int8 MUL with broadcasting (LiteRT's arithmetic: one requantization of the product)."""
    data_inputs = (0, 1)

    @classmethod
    def refuse(cls, node):
        r = _int8_refusal(node, False)
        if r:
            return r
        b = node.inputs[1]
        if not _per_tensor_int8(b):
            return "quantized MUL needs two per-tensor INT8 inputs"
        return None

    def __init__(self, node, consts, be):
        super().__init__(node, consts, be)
        from tfl_gpu import quant as Q
        qa, qb, qo = (_qspec(t) for t in (node.inputs[0], node.inputs[1], node.outputs[0]))
        m = np.float32(np.float32(qa.scales[0]) * np.float32(qb.scales[0]) / np.float32(qo.scales[0]))
        self.q, self.shift = Q.quantize_multiplier(float(m))
        self.za, self.zb, self.zo = int(qa.zero_points[0]), int(qb.zero_points[0]), int(qo.zero_points[0])
        self.lo, self.hi = _int8_act_range(node)
        self.c = [self.param(consts, i) for i in (0, 1)]

    def __call__(self, ins):
        a = self.c[0] if self.c[0] is not None else ins[0]
        b = self.c[1] if self.c[1] is not None else ins[1]
        out_shape = tuple(np.broadcast_shapes(a.shape, b.shape))
        y = self.be.empty(out_shape, np.int8)
        n = int(np.prod(out_shape, dtype=np.int64))
        if n == 0:
            return [y]
        r = len(out_shape)

        def bstrides(arr):
            sh = (1,) * (r - arr.ndim) + tuple(arr.shape)
            cs = _cstrides(sh)
            return [0 if sh[d] == 1 and out_shape[d] != 1 else cs[d] for d in range(r)]
        dims, (sa, sb) = coalesce(out_shape, bstrides(a), bstrides(b))
        meta = self.meta(("m", tuple(dims), tuple(sa), tuple(sb)), list(dims) + sa + sb)
        self._launch(a, b, y, n, dims, meta)
        return [y]

    def _launch(self, a, b, y, n, dims, meta):
        self.be.launch1d("quant", "mul_s8", n, (a, b, y, _i(n), _i(len(dims)), meta, _i(self.za), _i(self.zb),
                                                _i(self.zo), _i(self.q), _i(self.shift), _i(self.lo), _i(self.hi)))


class QPrelu(QMul):
    """int8 PRELU with broadcasting alpha (LiteRT's two requantizations)."""

    def __init__(self, node, consts, be):
        DevOp.__init__(self, node, consts, be)
        from tfl_gpu import quant as Q
        qi, qa, qo = (_qspec(t) for t in (node.inputs[0], node.inputs[1], node.outputs[0]))
        si, sa, so = np.float32(qi.scales[0]), np.float32(qa.scales[0]), np.float32(qo.scales[0])
        self.q1, self.s1 = Q.quantize_multiplier(float(np.float32(si / so)))
        self.q2, self.s2 = Q.quantize_multiplier(float(np.float32(np.float32(si * sa) / so)))
        self.za, self.zb, self.zo = int(qi.zero_points[0]), int(qa.zero_points[0]), int(qo.zero_points[0])
        self.c = [self.param(consts, i) for i in (0, 1)]

    @classmethod
    def refuse(cls, node):
        x, a, o = node.inputs[0], node.inputs[1], node.outputs[0]
        if _reference_resolver(node):
            return "quantized PRELU under BUILTIN_REF resolution runs on the CPU"
        for t in (x, a, o):
            if not _per_tensor_int8(t):
                return "quantized PRELU needs per-tensor INT8 input, alpha and output"
        return None

    def _launch(self, a, b, y, n, dims, meta):
        self.be.launch1d("quant", "prelu_s8", n, (a, b, y, _i(n), _i(len(dims)), meta, _i(self.za), _i(self.zb),
                                                  _i(self.zo), _i(self.q1), _i(self.s1), _i(self.q2), _i(self.s2),
                                                  _i(-128), _i(127)))


QUANT_OPS = {"CONV_2D": QConv2D, "DEPTHWISE_CONV_2D": QDepthwiseConv2D, "FULLY_CONNECTED": QFullyConnected,
             "MAX_POOL_2D": QMaxPool2D, "AVERAGE_POOL_2D": QAvgPool2D, "PAD": QPad, "PADV2": QPad, "ADD": QAdd, "MEAN": QMean,
             "SOFTMAX": QSoftmax, "MUL": QMul, "PRELU": QPrelu}


def op_class(node):
    """The device op class for a node (int8 classes for INT8 inputs), or None."""
    key = op_key(node)
    x = node.inputs[0] if node.inputs else None
    if x is not None and x.type_name == "INT8" and key in QUANT_OPS:
        return QUANT_OPS[key]
    if x is not None and x.type_name == "INT8" and key in LUT_OPS and x.constant is None:
        return QLut
    if key == "QUANTIZE" and x is not None and x.type_name == "FLOAT32":
        return QuantizeF32
    if key in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS") and x is not None and x.type_name == "INT8":
        return Reshape
    return OPS.get(key)


OPS = {}
for _n in BIN:
    OPS[_n] = Binary
for _n in UN:
    OPS[_n] = Unary
OPS.update({
    "CONV_2D": Conv2D, "DEPTHWISE_CONV_2D": DepthwiseConv2D, "TRANSPOSE_CONV": TransposeConv,
    "FULLY_CONNECTED": FullyConnected, "BATCH_MATMUL": BatchMatMul,
    "AVERAGE_POOL_2D": Pool2D, "MAX_POOL_2D": Pool2D, "SOFTMAX": Softmax,
    "MEAN": Reduce, "SUM": Reduce, "REDUCE_MAX": Reduce, "REDUCE_MIN": Reduce, "REDUCE_PROD": Reduce,
    "RESHAPE": Reshape, "SQUEEZE": Reshape, "EXPAND_DIMS": Reshape,
    "CONCATENATION": Concatenation, "PAD": Pad, "PADV2": Pad, "TRANSPOSE": Transpose,
    "SLICE": Slice, "STRIDED_SLICE": Slice, "DEPTH_TO_SPACE": SpaceDepth, "SPACE_TO_DEPTH": SpaceDepth,
    "RESIZE_BILINEAR": Resize, "RESIZE_NEAREST_NEIGHBOR": Resize, "GATHER": Gather,
    "DEQUANTIZE": DequantizeF16, "LOG_SOFTMAX": Softmax,
    "SPLIT": Split, "SPLIT_V": SplitV, "PACK": Pack, "UNPACK": Unpack, "TILE": Tile, "BROADCAST_TO": BroadcastTo,
    # custom ops, by custom_code
    "Convolution2DTransposeBias": Conv2DTransposeBias,
})


def op_key(node) -> str:
    """OPS key of a node: the builtin name, or the custom code of a CUSTOM op."""
    return node.custom_code if node.op == "CUSTOM" else node.op
#: ops folded into constants on the host at preparation when their inputs are constant
HOST_FOLDED = ("DEQUANTIZE", "DENSIFY")
