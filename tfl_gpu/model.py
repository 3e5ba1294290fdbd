"""Reading a ``.tflite`` flatbuffer into plain Python objects.

This is the only module that knows the flatbuffer schema. It uses the generated binding of the official
schema shipped by the ``tflite`` package for field access, and produces plain objects (:class:`Model`,
:class:`Subgraph`, :class:`Tensor`, :class:`Operator`) that the rest of the project works with.

Constant buffers become read-only numpy arrays that view the model bytes (no copy of the model).
"""
from __future__ import annotations

import importlib
import inspect
import mmap
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _schema_ext
from .errors import ModelError

# ---------------------------------------------------------------------------------------------- enums

_TENSOR_TYPE_NAMES = {
    0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 5: "STRING", 6: "BOOL", 7: "INT16",
    8: "COMPLEX64", 9: "INT8", 10: "FLOAT64", 11: "COMPLEX128", 12: "UINT64", 13: "RESOURCE",
    14: "VARIANT", 15: "UINT32", 16: "UINT16", 17: "INT4", 18: "BFLOAT16", 19: "INT2",
}
# numpy dtype used to hold each tensor type. INT4/INT2 are unpacked to int8 (one value per byte);
# RESOURCE/VARIANT hold opaque handles (int32 / object); BFLOAT16 is kept as its raw uint16 bits.
_NUMPY_TYPES = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "INT32": np.int32, "UINT8": np.uint8,
    "INT64": np.int64, "STRING": np.object_, "BOOL": np.bool_, "INT16": np.int16,
    "COMPLEX64": np.complex64, "INT8": np.int8, "FLOAT64": np.float64, "COMPLEX128": np.complex128,
    "UINT64": np.uint64, "RESOURCE": np.int32, "VARIANT": np.object_, "UINT32": np.uint32,
    "UINT16": np.uint16, "INT4": np.int8, "BFLOAT16": np.uint16, "INT2": np.int8,
}
# What LiteRT's Python API reports as ``dtype`` for each type.
_REPORTED_TYPES = dict(_NUMPY_TYPES, STRING=np.bytes_, RESOURCE=np.object_, VARIANT=np.object_,
                       INT4=np.int8)
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
PADDINGS = {0: "SAME", 1: "VALID"}

_FILE_IDENTIFIER = b"TFL3"


def _tflite_class(name: str):
    module = importlib.import_module("tflite." + name)
    return getattr(sys.modules["tflite." + name], name) if hasattr(module, name) else module


def _enum_names(enum_name: str) -> dict[int, str]:
    cls = _tflite_class(enum_name)
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


BUILTIN_OPERATORS: dict[int, str] = _enum_names("BuiltinOperator")
# Codes newer than the bundled binding knows about (schema 2.19+).
BUILTIN_OPERATORS.setdefault(209, "STABLEHLO_CASE")
BUILTIN_OPTION_TYPES: dict[int, str] = _enum_names("BuiltinOptions")
BUILTIN_OPTION2_TYPES: dict[int, str] = _enum_names("BuiltinOptions2")
_schema_ext.install(BUILTIN_OPTION2_TYPES)   # StablehloCaseOptions (code 23) and other newer tables


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()


# ------------------------------------------------------------------------------ generic options tables

@dataclass(frozen=True)
class OptionField:
    """One field of an options table, as found in the generated binding (used by the reader and writer)."""
    name: str          # snake_case field name, e.g. "stride_w"
    method: str        # generated accessor name, e.g. "StrideW"
    voffset: int       # vtable offset (4 + 2 * slot)
    scalar: str | None  # flatbuffers.number_types flag name, e.g. "Int32Flags" (None for tables/strings)
    kind: str          # "scalar", "vector", "string", "table", "union"


_OPTION_SCHEMAS: dict[str, list[OptionField]] = {}


def option_schema(table_name: str) -> list[OptionField]:
    """Field list of an options table, read off the generated binding's source (slot numbers, types)."""
    cached = _OPTION_SCHEMAS.get(table_name)
    if cached is not None:
        return cached
    cls = _tflite_class(table_name)
    fields = []
    for mname, fn in vars(cls).items():
        if mname.startswith("_") or not callable(fn) or mname in ("Init",) or mname.startswith("GetRootAs"):
            continue
        if mname.endswith(("AsNumpy", "Length", "IsNone", "BufferHasIdentifier")):
            continue
        try:
            src = inspect.getsource(fn)
        except (OSError, TypeError):
            continue
        m = re.search(r"self\._tab\.Offset\((\d+)\)", src)
        if not m:
            continue
        flag = re.search(r"number_types\.(?!UOffsetTFlags)(\w+Flags)", src[m.end():])
        flag_name = flag.group(1) if flag else None
        if "self._tab.Vector(" in src:
            kind = "vector"
        elif "self._tab.String(" in src:
            kind = "string"
        elif "self._tab.Union(" in src:
            kind = "union"
        elif "self._tab.Indirect(" in src:
            kind = "table"
        else:
            kind = "scalar"
        fields.append(OptionField(_snake(mname), mname, int(m.group(1)), flag_name, kind))
    fields.sort(key=lambda f: f.voffset)
    _OPTION_SCHEMAS[table_name] = fields
    return fields


class Options(dict):
    """Parsed builtin options: a dict that also allows attribute access (``opts.stride_w``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"option {name!r} not present (have {sorted(self)})") from None


def _parse_options_table(table_name: str, tab) -> Options:
    cls = _tflite_class(table_name)
    obj = cls()
    obj.Init(tab.Bytes, tab.Pos)
    opts = Options()
    for f in option_schema(table_name):
        if f.kind == "scalar":
            value = getattr(obj, f.method)()
            if f.name in ("fused_activation_function", "activation"):
                value = ACTIVATIONS.get(value, value)
            elif f.name == "padding" and table_name != "StablehloPadOptions":
                value = PADDINGS.get(value, value)
            opts[f.name] = value
        elif f.kind == "vector":
            if getattr(obj, f.method + "IsNone")():
                opts[f.name] = np.zeros(0, dtype=np.int64)
            else:
                as_np = getattr(obj, f.method + "AsNumpy", None)
                if as_np is not None:
                    opts[f.name] = np.array(as_np())
                else:  # vector of tables (e.g. precision config): keep the raw count
                    opts[f.name] = [getattr(obj, f.method)(j) for j in range(getattr(obj, f.method + "Length")())]
        elif f.kind == "string":
            raw = getattr(obj, f.method)()
            opts[f.name] = _decode_name(raw)
    return opts


# ------------------------------------------------------------------------------------- plain objects

@dataclass
class Quantization:
    scales: np.ndarray            # float32, empty when not quantized
    zero_points: np.ndarray       # int32 (LiteRT reports int32; the schema stores int64)
    quantized_dimension: int = 0
    min: np.ndarray | None = None
    max: np.ndarray | None = None
    block_size: int = 0

    @property
    def is_quantized(self) -> bool:
        return self.scales.size > 0

    @property
    def per_axis(self) -> bool:
        return self.scales.size > 1

    @property
    def scale(self) -> float:
        return float(self.scales[0]) if self.scales.size else 0.0

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0]) if self.zero_points.size else 0


NO_QUANTIZATION = Quantization(np.zeros(0, np.float32), np.zeros(0, np.int32))


@dataclass
class DimensionMetadata:
    format: str                        # "DENSE" or "SPARSE_CSR"
    dense_size: int = 0
    array_segments: np.ndarray | None = None
    array_indices: np.ndarray | None = None


@dataclass
class Sparsity:
    traversal_order: np.ndarray
    block_map: np.ndarray
    dim_metadata: list[DimensionMetadata]


@dataclass
class Tensor:
    index: int
    name: str
    type_name: str                 # schema name, e.g. "FLOAT32", "INT4"
    shape: np.ndarray              # int32
    shape_signature: np.ndarray    # int32, -1 for unknown dims
    buffer: int
    data: np.ndarray | None        # constant data (read-only) or None
    quantization: Quantization = field(default_factory=lambda: NO_QUANTIZATION)
    sparsity: Sparsity | None = None
    is_variable: bool = False
    has_rank: bool = True
    explicit_signature: bool = True   # False when the file has no shape_signature (LiteRT then reports shape)

    @property
    def dtype(self) -> np.dtype:
        """numpy dtype of values held for this tensor."""
        return np.dtype(_NUMPY_TYPES[self.type_name])

    @property
    def reported_dtype(self):
        """The numpy type LiteRT's Python API reports for this tensor."""
        return _REPORTED_TYPES[self.type_name]

    @property
    def is_constant(self) -> bool:
        return self.data is not None


@dataclass
class Operator:
    index: int
    opcode: str                    # builtin name, e.g. "CONV_2D", or "CUSTOM"
    builtin_code: int
    version: int
    inputs: list[int]
    outputs: list[int]
    intermediates: list[int]
    options: Options
    custom_code: str | None = None
    custom_options: bytes | None = None
    options_type: str | None = None

    @property
    def name(self) -> str:
        """The name kernels are registered under: the builtin name, or the custom op's code."""
        return self.custom_code if self.opcode == "CUSTOM" else self.opcode


@dataclass
class Subgraph:
    index: int
    name: str
    tensors: list[Tensor]
    inputs: list[int]
    outputs: list[int]
    operators: list[Operator]


@dataclass
class SignatureDef:
    key: str
    subgraph_index: int
    inputs: dict[str, int]         # signature name -> tensor index
    outputs: dict[str, int]


@dataclass
class Model:
    version: int
    description: str
    subgraphs: list[Subgraph]
    signatures: list[SignatureDef]
    metadata: dict[str, bytes]
    size: int = 0
    _keepalive: Any = field(default=None, repr=False)


# ----------------------------------------------------------------------------------------- helpers

def _decode_name(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    return bytes(raw).decode("utf-8", errors="backslashreplace")


def decode_string_tensor(raw: np.ndarray | bytes, shape) -> np.ndarray:
    """TFLite string buffer layout: int32 count N, N+1 int32 offsets, then the bytes."""
    buf = bytes(raw)
    n_expected = int(np.prod(shape)) if len(shape) else 1
    if len(buf) < 4:
        raise ModelError("string tensor buffer is shorter than its header")
    count = int(np.frombuffer(buf, "<i4", 1)[0])
    if count < 0 or 4 * (count + 2) > len(buf):
        raise ModelError(f"string tensor declares {count} strings, more than its buffer holds")
    offsets = np.frombuffer(buf, "<i4", count + 1, 4).astype(np.int64)
    if np.any(np.diff(offsets) < 0) or offsets[0] < 4 * (count + 2) or offsets[-1] > len(buf):
        raise ModelError("string tensor offsets are not monotonic or point outside the buffer")
    out = np.empty(count, dtype=object)
    for i in range(count):
        out[i] = buf[offsets[i]:offsets[i + 1]]
    if count != n_expected:
        raise ModelError(f"string tensor holds {count} strings but its shape needs {n_expected}")
    return out.reshape(tuple(int(d) for d in shape))


def encode_string_tensor(values) -> bytes:
    arr = np.asarray(values, dtype=object).ravel()
    items = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in arr]
    header = 4 * (len(items) + 2)
    offsets = [header]
    for it in items:
        offsets.append(offsets[-1] + len(it))
    return np.array([len(items)] + offsets, "<i4").tobytes() + b"".join(items)


def unpack_int4(raw: np.ndarray, count: int) -> np.ndarray:
    """Two signed 4-bit values per byte, low nibble first."""
    b = np.asarray(raw, dtype=np.uint8)
    lo = (b & 0x0F).astype(np.int8)
    hi = (b >> 4).astype(np.int8)
    both = np.stack([lo, hi], axis=-1).ravel()[:count]
    return np.where(both > 7, both - 16, both).astype(np.int8)


def _dims(vec_np) -> np.ndarray:
    return np.asarray(vec_np, dtype=np.int32).copy() if vec_np is not None else np.zeros(0, np.int32)


# ------------------------------------------------------------------------------------------ reader

def load_bytes(model_path=None, model_content=None):
    """Returns (buffer, keepalive). A path is memory-mapped so constants never copy the file."""
    if model_path is not None:
        path = os.fspath(model_path)
        try:
            f = open(path, "rb")
        except OSError as e:
            raise ValueError(f"Could not open '{path}': {e.strerror}") from None
        with f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise ValueError(f"Model file '{path}' is empty")
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return mm, mm
    data = model_content
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise ValueError(f"model_content must be bytes, got {type(model_content).__name__}")
    return data, data


def read_model(buf) -> Model:
    """Parses a TFLite flatbuffer. Raises :class:`ModelError` (a ValueError) on malformed input."""
    try:
        return _read_model(buf)
    except ModelError:
        raise
    except (IndexError, ValueError, TypeError, OverflowError, UnicodeDecodeError, KeyError,
            AttributeError, __import__("struct").error) as e:
        raise ModelError(f"Malformed model file: {type(e).__name__}: {e}") from None


def _read_model(buf) -> Model:
    size = len(buf)
    # (the second sentence is older TF's wording, which its tests still match)
    ident = bytes(buf[4:8]).decode("ascii", "backslashreplace")
    if size < 8:
        raise ModelError(f"The model is not a valid Flatbuffer buffer: too small to be a TFLite model ({size} "
                         f"bytes). Model provided has model identifier '{ident}', should be 'TFL3'")
    if bytes(buf[4:8]) != _FILE_IDENTIFIER:
        raise ModelError("The model is not a valid Flatbuffer buffer (missing the 'TFL3' identifier). Model "
                         f"provided has model identifier '{ident}', should be 'TFL3'")
    from .validate import check_flatbuffer_bounds
    check_flatbuffer_bounds(buf)
    ModelT = _tflite_class("Model")
    m = ModelT.GetRootAs(buf, 0)
    whole = np.frombuffer(buf, dtype=np.uint8)

    # buffers: inline data, or offset/size into the file (models over 2 GB)
    buffers: list[np.ndarray | None] = []
    for i in range(m.BuffersLength()):
        b = m.Buffers(i)
        off, sz = b.Offset(), b.Size()
        if off > 1:
            if sz < 0 or off + sz > size:
                raise ModelError(f"buffer {i}: offset {off} + size {sz} lies outside the {size}-byte file")
            buffers.append(whole[off:off + sz])
        elif not b.DataIsNone() and b.DataLength() > 0:
            start = b._tab.Vector(b._tab.Offset(4))
            n = b.DataLength()
            if start + n > size:
                raise ModelError(f"buffer {i}: data runs past the end of the file")
            buffers.append(whole[start:start + n])
        else:
            buffers.append(None)

    opcodes = []
    for i in range(m.OperatorCodesLength()):
        oc = m.OperatorCodes(i)
        # The schema moved builtin codes > 127 into a new int32 field; files written by old converters only
        # fill the deprecated int8 field. The right code is the larger of the two.
        o = oc._tab.Offset(10)
        new_code = oc._tab.Get(__import__("flatbuffers").number_types.Int32Flags, o + oc._tab.Pos) if o else 0
        code = max(int(new_code), int(oc.DeprecatedBuiltinCode()))
        custom = oc.CustomCode()
        opcodes.append((code, _decode_name(custom) if custom is not None else None, oc.Version()))

    subgraphs = [_read_subgraph(m.Subgraphs(s), s, buffers, opcodes, buf) for s in range(m.SubgraphsLength())]
    if not subgraphs:
        raise ModelError("Model has no subgraphs")

    signatures = []
    for i in range(m.SignatureDefsLength()):
        sd = m.SignatureDefs(i)
        sg = sd.SubgraphIndex()
        if not 0 <= sg < len(subgraphs):
            raise ModelError(f"signature {i}: subgraph index {sg} out of range")
        ntens = len(subgraphs[sg].tensors)

        def tmap(get, n, what):
            out = {}
            for j in range(n):
                tm = get(j)
                t = tm.TensorIndex()
                if not 0 <= t < ntens:
                    raise ModelError(f"signature {i}: {what} tensor index {t} out of range")
                out[_decode_name(tm.Name())] = int(t)
            return out
        signatures.append(SignatureDef(_decode_name(sd.SignatureKey()), int(sg),
                                       tmap(sd.Inputs, sd.InputsLength(), "input"),
                                       tmap(sd.Outputs, sd.OutputsLength(), "output")))

    metadata = {}
    for i in range(m.MetadataLength()):
        md = m.Metadata(i)
        bi = md.Buffer()
        data = buffers[bi] if 0 <= bi < len(buffers) else None
        metadata[_decode_name(md.Name())] = bytes(data) if data is not None else b""

    model = Model(version=m.Version(), description=_decode_name(m.Description()), subgraphs=subgraphs,
                  signatures=signatures, metadata=metadata, size=size)
    from .validate import validate_model
    validate_model(model)
    return model


def _read_quantization(q) -> Quantization:
    if q is None:
        return NO_QUANTIZATION
    scales = np.asarray(q.ScaleAsNumpy(), np.float32).copy() if not q.ScaleIsNone() else np.zeros(0, np.float32)
    zps = np.asarray(q.ZeroPointAsNumpy(), np.int64) if not q.ZeroPointIsNone() else np.zeros(0, np.int64)
    mins = np.asarray(q.MinAsNumpy(), np.float32).copy() if not q.MinIsNone() else None
    maxs = np.asarray(q.MaxAsNumpy(), np.float32).copy() if not q.MaxIsNone() else None
    if scales.size == 0:
        return Quantization(np.zeros(0, np.float32), np.zeros(0, np.int32), 0, mins, maxs)
    if zps.size == 0:
        zps = np.zeros(scales.size, np.int64)
    return Quantization(scales, zps.astype(np.int32), int(q.QuantizedDimension()), mins, maxs)


def _read_index_vector(tab_union, type_code):
    if tab_union is None or type_code == 0:
        return None
    name = {1: "Int32Vector", 2: "Uint16Vector", 3: "Uint8Vector"}[type_code]
    vec = _tflite_class(name)()
    vec.Init(tab_union.Bytes, tab_union.Pos)
    return np.asarray(vec.ValuesAsNumpy()).astype(np.int64) if not vec.ValuesIsNone() else np.zeros(0, np.int64)


def _read_sparsity(sp) -> Sparsity | None:
    if sp is None:
        return None
    dims = []
    for i in range(sp.DimMetadataLength()):
        d = sp.DimMetadata(i)
        fmt = "DENSE" if d.Format() == 0 else "SPARSE_CSR"
        dims.append(DimensionMetadata(fmt, int(d.DenseSize()),
                                      _read_index_vector(d.ArraySegments(), d.ArraySegmentsType()),
                                      _read_index_vector(d.ArrayIndices(), d.ArrayIndicesType())))
    return Sparsity(_dims(sp.TraversalOrderAsNumpy() if not sp.TraversalOrderIsNone() else None),
                    _dims(sp.BlockMapAsNumpy() if not sp.BlockMapIsNone() else None), dims)


def _read_subgraph(g, s, buffers, opcodes, buf) -> Subgraph:
    tensors = []
    for t in range(g.TensorsLength()):
        tt = g.Tensors(t)
        type_name = _TENSOR_TYPE_NAMES.get(tt.Type())
        name = _decode_name(tt.Name())
        if type_name is None:
            raise ModelError(f"subgraph {s} tensor {t} ('{name}'): unknown tensor type {tt.Type()}")
        shape = _dims(tt.ShapeAsNumpy() if not tt.ShapeIsNone() else None)
        sig = _dims(tt.ShapeSignatureAsNumpy()) if not tt.ShapeSignatureIsNone() else shape.copy()
        bidx = tt.Buffer()
        if not 0 <= bidx < max(len(buffers), 1):
            raise ModelError(f"subgraph {s} tensor {t} ('{name}'): buffer index {bidx} out of range")
        raw = buffers[bidx] if bidx < len(buffers) else None
        sparsity = _read_sparsity(tt.Sparsity())
        data = None
        if raw is not None:
            data = _constant_array(raw, type_name, shape, sparsity, f"subgraph {s} tensor {t} ('{name}')")
        has_rank = bool(tt.HasRank()) or shape.size > 0
        tensors.append(Tensor(index=t, name=name, type_name=type_name, shape=shape, shape_signature=sig,
                              buffer=int(bidx), data=data, quantization=_read_quantization(tt.Quantization()),
                              sparsity=sparsity, is_variable=bool(tt.IsVariable()), has_rank=has_rank,
                              explicit_signature=not tt.ShapeSignatureIsNone()))

    def idx_list(np_vec, what):
        out = [int(x) for x in (np_vec if np_vec is not None else [])]
        for x in out:
            if not -1 <= x < len(tensors):
                raise ModelError(f"subgraph {s}: {what} tensor index {x} out of range ({len(tensors)} tensors)")
        return out

    inputs = idx_list(g.InputsAsNumpy() if not g.InputsIsNone() else None, "input")
    outputs = idx_list(g.OutputsAsNumpy() if not g.OutputsIsNone() else None, "output")
    operators = []
    for o in range(g.OperatorsLength()):
        op = g.Operators(o)
        oi = op.OpcodeIndex()
        if not 0 <= oi < len(opcodes):
            raise ModelError(f"subgraph {s} operator {o}: opcode index {oi} out of range")
        code, custom, version = opcodes[oi]
        opname = BUILTIN_OPERATORS.get(code)
        if opname is None:
            raise ModelError(f"subgraph {s} operator {o}: unknown builtin operator code {code}")
        options = Options()
        options_type = None
        otype = op.BuiltinOptionsType()
        if otype:
            options_type = BUILTIN_OPTION_TYPES.get(otype)
            tab = op.BuiltinOptions()
            if options_type and tab is not None:
                options = _parse_options_table(options_type, tab)
        otype2 = op.BuiltinOptions2Type()
        if otype2:
            name2 = BUILTIN_OPTION2_TYPES.get(otype2)
            tab2 = op.BuiltinOptions2()
            if name2 and tab2 is not None:
                options.update(_parse_options_table(name2, tab2))
                options_type = options_type or name2
        custom_options = None
        if opname == "CUSTOM" or not op.CustomOptionsIsNone():
            large_off, large_size = op.LargeCustomOptionsOffset(), op.LargeCustomOptionsSize()
            if large_off > 1:
                if large_off + large_size > len(buf):
                    raise ModelError(f"subgraph {s} operator {o}: custom options lie outside the file")
                custom_options = bytes(buf[large_off:large_off + large_size])
            elif not op.CustomOptionsIsNone():
                custom_options = op.CustomOptionsAsNumpy().tobytes()
            else:
                custom_options = b""
        operators.append(Operator(
            index=o, opcode=opname, builtin_code=code, version=version,
            inputs=idx_list(op.InputsAsNumpy() if not op.InputsIsNone() else None, f"operator {o} input"),
            outputs=idx_list(op.OutputsAsNumpy() if not op.OutputsIsNone() else None, f"operator {o} output"),
            intermediates=idx_list(op.IntermediatesAsNumpy() if not op.IntermediatesIsNone() else None,
                                   f"operator {o} intermediate"),
            options=options, custom_code=custom if opname == "CUSTOM" else None,
            custom_options=custom_options, options_type=options_type))
    return Subgraph(index=s, name=_decode_name(g.Name()), tensors=tensors, inputs=inputs, outputs=outputs,
                    operators=operators)


def _constant_array(raw: np.ndarray, type_name: str, shape: np.ndarray, sparsity, where: str):
    count = int(np.prod(shape, dtype=np.int64)) if shape.size else 1
    if type_name == "STRING":
        return decode_string_tensor(raw, shape)
    if sparsity is not None:
        # Sparse constants keep their packed values; DENSIFY (or the kernel) expands them.
        dt = np.dtype(_NUMPY_TYPES[type_name]).newbyteorder("<")
        n = raw.size // dt.itemsize
        arr = raw[: n * dt.itemsize].view(dt)
        arr.flags.writeable = False
        return arr
    if type_name in ("INT4", "INT2"):
        need = (count + 1) // 2 if type_name == "INT4" else (count + 3) // 4
        if raw.size < need:
            raise ModelError(f"{where}: buffer holds {raw.size} bytes, shape needs {need}")
        if type_name == "INT4":
            arr = unpack_int4(raw, count).reshape(tuple(shape))
        else:
            b = np.asarray(raw, np.uint8)
            vals = np.stack([(b >> s) & 3 for s in (0, 2, 4, 6)], -1).ravel()[:count].astype(np.int8)
            arr = np.where(vals > 1, vals - 4, vals).astype(np.int8).reshape(tuple(shape))
        arr.flags.writeable = False
        return arr
    if type_name in ("RESOURCE", "VARIANT"):
        return None
    dt = np.dtype(_NUMPY_TYPES[type_name]).newbyteorder("<")
    need = count * dt.itemsize
    if raw.size != need:
        if shape.size == 0 and raw.size == dt.itemsize:
            pass
        else:
            raise ModelError(f"{where}: buffer holds {raw.size} bytes but shape {[int(d) for d in shape]} of "
                             f"{type_name} needs {need}")
    arr = raw.view(dt).reshape(tuple(int(d) for d in shape))
    arr.flags.writeable = False
    return arr
