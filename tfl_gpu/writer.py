"""Writing ``.tflite`` files with the flatbuffers Builder: for tests, fixtures, and users who generate models.

Field slots and scalar types are read off the ``tflite`` package's generated binding (the same table the
reader uses), so every builtin options table can be written by name::

    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.input("x", [1, 8, 8, 3])
    w = mb.const("w", np.ones((4, 3, 3, 3), np.float32))
    y = mb.tensor("y", [1, 8, 8, 4])
    mb.op("CONV_2D", [x, w, -1], [y], padding="SAME", stride_w=1, stride_h=1)
    mb.output(y)
    content = mb.build()

``build(external_buffers=True)`` stores constant data after the flatbuffer (``Buffer.offset/size``), the
layout LiteRT uses for models over 2 GB.
"""
from __future__ import annotations

import flatbuffers
import numpy as np

from .model import (ACTIVATIONS, BUILTIN_OPERATORS, BUILTIN_OPTION2_TYPES, BUILTIN_OPTION_TYPES, PADDINGS,
                    _TENSOR_TYPE_NAMES, encode_string_tensor, option_schema)

_OP_CODES = {v: k for k, v in BUILTIN_OPERATORS.items()}
_OPTION_CODES = {v: k for k, v in BUILTIN_OPTION_TYPES.items()}
_OPTION2_CODES = {v: k for k, v in BUILTIN_OPTION2_TYPES.items()}
_TYPE_CODES = {v: k for k, v in _TENSOR_TYPE_NAMES.items()}
_ACT_CODES = {v: k for k, v in ACTIVATIONS.items()}
_PAD_CODES = {v: k for k, v in PADDINGS.items()}

# Ops whose options table is not simply CamelCase(op name) + "Options".
_OPTIONS_FOR_OP = {
    "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions", "L2_POOL_2D": "Pool2DOptions",
    "MAXIMUM": "MaximumMinimumOptions", "MINIMUM": "MaximumMinimumOptions",
    "MEAN": "ReducerOptions", "SUM": "ReducerOptions", "REDUCE_MAX": "ReducerOptions",
    "REDUCE_MIN": "ReducerOptions", "REDUCE_PROD": "ReducerOptions", "REDUCE_ANY": "ReducerOptions",
    "REDUCE_ALL": "ReducerOptions", "L2_NORMALIZATION": "L2NormOptions",
    "LOCAL_RESPONSE_NORMALIZATION": "LocalResponseNormalizationOptions",
    "RESIZE_BILINEAR": "ResizeBilinearOptions", "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTMOptions",
    "BIDIRECTIONAL_SEQUENCE_LSTM": "BidirectionalSequenceLSTMOptions",
    "UNIDIRECTIONAL_SEQUENCE_RNN": "SequenceRNNOptions", "BIDIRECTIONAL_SEQUENCE_RNN": "BidirectionalSequenceRNNOptions",
    "LSTM": "LSTMOptions", "RNN": "RNNOptions", "SVDF": "SVDFOptions", "CONCATENATION": "ConcatenationOptions",
    "SELECT_V2": "SelectV2Options", "BATCH_MATMUL": "BatchMatMulOptions", "TOPK_V2": "TopKV2Options",
    "GATHER_ND": "GatherNdOptions", "SCATTER_ND": "ScatterNdOptions", "SPACE_TO_BATCH_ND": "SpaceToBatchNDOptions",
    "BATCH_TO_SPACE_ND": "BatchToSpaceNDOptions", "RFFT2D": "Rfft2dOptions", "ATAN2": "ATan2Options",
    "NON_MAX_SUPPRESSION_V4": "NonMaxSuppressionV4Options", "NON_MAX_SUPPRESSION_V5": "NonMaxSuppressionV5Options",
    "LSH_PROJECTION": "LSHProjectionOptions", "PADV2": "PadV2Options", "SPLIT_V": "SplitVOptions",
    "UNSORTED_SEGMENT_SUM": "UnsortedSegmentSumOptions", "UNSORTED_SEGMENT_MAX": "UnsortedSegmentMaxOptions",
    "UNSORTED_SEGMENT_MIN": "UnsortedSegmentMinOptions", "UNSORTED_SEGMENT_PROD": "UnsortedSegmentProdOptions",
    "CONV_3D": "Conv3DOptions", "CONV_3D_TRANSPOSE": "Conv3DOptions", "HASHTABLE": "HashtableOptions",
    "HASHTABLE_FIND": "HashtableFindOptions", "HASHTABLE_IMPORT": "HashtableImportOptions",
    "HASHTABLE_SIZE": "HashtableSizeOptions", "DYNAMIC_UPDATE_SLICE": "DynamicUpdateSliceOptions",
    "RANDOM_STANDARD_NORMAL": "RandomOptions", "RANDOM_UNIFORM": "RandomOptions", "MULTINOMIAL": "RandomOptions",
    "EMBEDDING_LOOKUP_SPARSE": "EmbeddingLookupSparseOptions", "CONCAT_EMBEDDINGS": "ConcatEmbeddingsOptions",
    "REDUCE_WINDOW": "ReduceWindowOptions", "STABLEHLO_COMPOSITE": "StableHLOCompositeOptions",
    "GELU": "GeluOptions", "SIGN": "SignOptions", "BITCAST": "BitcastOptions", "BITWISE_XOR": "BitwiseXorOptions",
    "RIGHT_SHIFT": "RightShiftOptions", "DILATE": "DilateOptions", "FAKE_QUANT": "FakeQuantOptions",
    "LEAKY_RELU": "LeakyReluOptions", "HARD_SWISH": "HardSwishOptions", "SQUARED_DIFFERENCE": "SquaredDifferenceOptions",
    "MIRROR_PAD": "MirrorPadOptions", "LOG_SOFTMAX": "LogSoftmaxOptions", "ADD_N": "AddNOptions",
    "CALL_ONCE": "CallOnceOptions", "VAR_HANDLE": "VarHandleOptions", "READ_VARIABLE": "ReadVariableOptions",
    "ASSIGN_VARIABLE": "AssignVariableOptions", "MATRIX_DIAG": "MatrixDiagOptions",
    "MATRIX_SET_DIAG": "MatrixSetDiagOptions", "SEGMENT_SUM": "SegmentSumOptions", "ONE_HOT": "OneHotOptions",
    "SPARSE_TO_DENSE": "SparseToDenseOptions", "FLOOR_DIV": "FloorDivOptions", "FLOOR_MOD": "FloorModOptions",
    "ZEROS_LIKE": "ZerosLikeOptions", "REVERSE_V2": "ReverseV2Options", "REVERSE_SEQUENCE": "ReverseSequenceOptions",
}


def options_table_for(op: str) -> str | None:
    """Name of the builtin options table an op uses (None when it takes none we know of)."""
    if op in _OPTIONS_FOR_OP:
        return _OPTIONS_FOR_OP[op]
    camel = "".join(p.capitalize() if not p[0].isdigit() else p.upper() for p in op.split("_"))
    for cand in (camel + "Options", camel.replace("2d", "2D") + "Options"):
        if cand in _OPTION_CODES or cand in _OPTION2_CODES:
            return cand
    if op.startswith("STABLEHLO_"):
        cand = "Stablehlo" + "".join(p.capitalize() for p in op[len("STABLEHLO_"):].split("_")) + "Options"
        if cand in _OPTION2_CODES:
            return cand
    return None


_PREPEND = {
    "BoolFlags": "PrependBoolSlot", "Int8Flags": "PrependInt8Slot", "Uint8Flags": "PrependUint8Slot",
    "Int16Flags": "PrependInt16Slot", "Uint16Flags": "PrependUint16Slot", "Int32Flags": "PrependInt32Slot",
    "Uint32Flags": "PrependUint32Slot", "Int64Flags": "PrependInt64Slot", "Uint64Flags": "PrependUint64Slot",
    "Float32Flags": "PrependFloat32Slot", "Float64Flags": "PrependFloat64Slot",
}
_VEC_DTYPE = {
    "BoolFlags": np.bool_, "Int8Flags": np.int8, "Uint8Flags": np.uint8, "Int16Flags": np.int16,
    "Uint16Flags": np.uint16, "Int32Flags": np.int32, "Uint32Flags": np.uint32, "Int64Flags": np.int64,
    "Uint64Flags": np.uint64, "Float32Flags": np.float32, "Float64Flags": np.float64,
}


class _Off(int):
    """An already-built offset (table, vector or string) for a field."""


def _table(b: flatbuffers.Builder, name: str, values: dict) -> int:
    """Writes table ``name``; ``values`` maps snake_case field names to scalars, numpy arrays (vectors of
    scalars) or ``_Off`` offsets. Nested vectors/strings must be created before calling this."""
    fields = {f.name: f for f in option_schema(name)}
    prepared = {}
    for key, val in values.items():
        if val is None:
            continue
        f = fields.get(key)
        if f is None:
            raise ValueError(f"{name} has no field {key!r} (fields: {sorted(fields)})")
        if f.kind == "vector" and not isinstance(val, _Off):
            arr = np.asarray(val, dtype=_VEC_DTYPE[f.scalar])
            val = _Off(b.CreateNumpyVector(arr))
        elif f.kind == "string" and not isinstance(val, _Off):
            val = _Off(b.CreateString(val))
        prepared[key] = (f, val)
    nslots = max([(f.voffset - 4) // 2 for f in fields.values()] + [-1]) + 1
    b.StartObject(nslots)
    for key, (f, val) in prepared.items():
        slot = (f.voffset - 4) // 2
        if isinstance(val, _Off):
            b.PrependUOffsetTRelativeSlot(slot, val, 0)
        else:
            if f.name in ("fused_activation_function", "activation") and isinstance(val, str):
                val = _ACT_CODES[val]
            elif f.name == "padding" and isinstance(val, str):
                val = _PAD_CODES[val]
            if f.scalar == "BoolFlags":
                val = bool(val)
            elif f.scalar in ("Float32Flags", "Float64Flags"):
                val = float(val)
            else:
                val = int(val)
            # default None forces the value to be written (flatbuffers skips values equal to the default)
            getattr(b, _PREPEND[f.scalar])(slot, val, None)
    return b.EndObject()


def _offset_vector(b: flatbuffers.Builder, offsets: list[int]) -> _Off:
    b.StartVector(4, len(offsets), 4)
    for o in reversed(offsets):
        b.PrependUOffsetTRelative(o)
    return _Off(b.EndVector())


class _TensorSpec:
    def __init__(self, name, shape, type_name, buffer_data, quant, is_variable, shape_signature, sparsity,
                 has_rank):
        self.name, self.shape, self.type_name = name, shape, type_name
        self.buffer_data, self.quant, self.is_variable = buffer_data, quant, is_variable
        self.shape_signature, self.sparsity, self.has_rank = shape_signature, sparsity, has_rank


class _SubgraphSpec:
    def __init__(self, name):
        self.name = name
        self.tensors: list[_TensorSpec] = []
        self.inputs: list[int] = []
        self.outputs: list[int] = []
        self.ops: list[dict] = []


def _type_of(dtype) -> str:
    dt = np.dtype(dtype)
    table = {np.float32: "FLOAT32", np.float16: "FLOAT16", np.int32: "INT32", np.uint8: "UINT8",
             np.int64: "INT64", np.bool_: "BOOL", np.int16: "INT16", np.complex64: "COMPLEX64",
             np.int8: "INT8", np.float64: "FLOAT64", np.complex128: "COMPLEX128", np.uint64: "UINT64",
             np.uint32: "UINT32", np.uint16: "UINT16"}
    for k, v in table.items():
        if dt == np.dtype(k):
            return v
    if dt.kind in "OSU":
        return "STRING"
    raise ValueError(f"no TFLite type for numpy dtype {dt}")


class ModelBuilder:
    """Builds a TFLite model: subgraphs of tensors and operators, signatures, metadata."""

    def __init__(self, description: str = "tfl_gpu.writer"):
        self.description = description
        self.subgraphs: list[_SubgraphSpec] = [_SubgraphSpec("main")]
        self.current = 0
        self.signatures: list[tuple[str, int, dict, dict]] = []
        self.metadata: list[tuple[str, bytes]] = []

    # ---------------------------------------------------------------- structure
    @property
    def sg(self) -> _SubgraphSpec:
        return self.subgraphs[self.current]

    def subgraph(self, name: str = "") -> int:
        """Starts a new subgraph (for IF/WHILE/CALL_ONCE bodies) and makes it current; returns its index."""
        self.subgraphs.append(_SubgraphSpec(name or f"subgraph_{len(self.subgraphs)}"))
        self.current = len(self.subgraphs) - 1
        return self.current

    def use_subgraph(self, index: int) -> None:
        self.current = index

    def tensor(self, name, shape, type_name="FLOAT32", data=None, quant=None, is_variable=False,
               shape_signature=None, sparsity=None, has_rank=None) -> int:
        """Adds a tensor; ``type_name`` is a schema name ("INT8") or a numpy dtype. ``quant`` is a dict with
        ``scale``, ``zero_point`` (scalars or lists), optional ``quantized_dimension``, ``min``, ``max``."""
        if not isinstance(type_name, str):
            type_name = _type_of(type_name)
        shape = [int(d) for d in shape]
        self.sg.tensors.append(_TensorSpec(name, shape, type_name, data, quant, is_variable, shape_signature,
                                           sparsity, has_rank))
        return len(self.sg.tensors) - 1

    def input(self, name, shape, type_name="FLOAT32", **kw) -> int:
        i = self.tensor(name, shape, type_name, **kw)
        self.sg.inputs.append(i)
        return i

    def const(self, name, value, type_name=None, quant=None, **kw) -> int:
        """A constant tensor holding ``value`` (numpy array; strings become a TFLite string buffer)."""
        arr = np.asarray(value)
        if type_name is None:
            type_name = _type_of(arr.dtype)
        return self.tensor(name, list(arr.shape), type_name, data=arr, quant=quant, **kw)

    def output(self, *indices: int) -> None:
        self.sg.outputs.extend(indices)

    def op(self, opcode: str, inputs, outputs, custom_code=None, custom_options=None, version=1,
           intermediates=(), options_type=None, **options) -> int:
        """Adds an operator. Options are given as keyword arguments by their schema names."""
        if opcode not in _OP_CODES:
            raise ValueError(f"unknown builtin operator {opcode!r}")
        if custom_code is not None and opcode != "CUSTOM":
            raise ValueError("custom_code is only for CUSTOM ops")
        self.sg.ops.append(dict(opcode=opcode, inputs=list(inputs), outputs=list(outputs), custom_code=custom_code,
                                custom_options=custom_options, version=version, options=options,
                                options_type=options_type, intermediates=list(intermediates)))
        return len(self.sg.ops) - 1

    def signature(self, key: str, inputs: dict, outputs: dict, subgraph: int = 0) -> None:
        self.signatures.append((key, subgraph, dict(inputs), dict(outputs)))

    def add_metadata(self, name: str, data: bytes) -> None:
        self.metadata.append((name, bytes(data)))

    # ---------------------------------------------------------------- serialization
    def build(self, external_buffers: bool = False) -> bytes:
        if not external_buffers:
            return self._build(None)
        first = self._build({})
        return self._build(len(first))

    def _buffer_bytes(self) -> list[bytes | None]:
        out = []
        for sg in self.subgraphs:
            for t in sg.tensors:
                if t.buffer_data is None:
                    out.append(None)
                elif t.type_name == "STRING":
                    out.append(encode_string_tensor(t.buffer_data))
                elif t.type_name == "INT4":
                    v = np.asarray(t.buffer_data, np.int8).ravel()
                    if v.size % 2:
                        v = np.append(v, 0)
                    packed = (v[0::2].astype(np.uint8) & 0x0F) | ((v[1::2].astype(np.uint8) & 0x0F) << 4)
                    out.append(packed.astype(np.uint8).tobytes())
                else:
                    from .model import _NUMPY_TYPES
                    dt = np.dtype(_NUMPY_TYPES[t.type_name]).newbyteorder("<")
                    out.append(np.ascontiguousarray(np.asarray(t.buffer_data).astype(dt)).tobytes())
        return out

    def _build(self, external_base) -> bytes:
        b = flatbuffers.Builder(1024)
        datas = self._buffer_bytes()
        # buffer 0 is the conventional empty buffer; tensor k (in order over subgraphs) uses buffer k+1
        ext_layout = []
        buffer_offsets = []
        pos = None
        if external_base is not None:
            pos = (external_base + 15) // 16 * 16 if external_base else 0
        for d in datas:
            if d is None:
                buffer_offsets.append(None)
                continue
            if external_base is not None:
                # placeholder offsets on the first pass keep field widths identical on the second
                off = pos if external_base else 1 << 40
                buffer_offsets.append((off, len(d)))
                ext_layout.append((pos, d))
                pos = (pos + len(d) + 15) // 16 * 16
            else:
                buffer_offsets.append(None)
        buf_tables = []
        # buffer 0 (empty)
        buf_tables.append(_table(b, "Buffer", {}))
        for k, d in enumerate(datas):
            if d is None:
                buf_tables.append(_table(b, "Buffer", {}))
            elif external_base is not None:
                off, size = buffer_offsets[k]
                buf_tables.append(_table(b, "Buffer", {"offset": off, "size": size}))
            else:
                b.StartVector(1, len(d), 16)
                b.head = b.head - len(d)
                b.Bytes[b.head:b.head + len(d)] = d
                vec = b.EndVector()
                buf_tables.append(_table(b, "Buffer", {"data": _Off(vec)}))

        # operator codes
        opcode_keys = []
        for sg in self.subgraphs:
            for op in sg.ops:
                key = (op["opcode"], op["custom_code"], op["version"])
                if key not in opcode_keys:
                    opcode_keys.append(key)
        oc_tables = []
        for opcode, custom, version in opcode_keys:
            code = _OP_CODES[opcode]
            vals = {"deprecated_builtin_code": min(code, 127), "version": version, "builtin_code": code}
            if custom is not None:
                vals["custom_code"] = _Off(b.CreateString(custom))
            oc_tables.append(_table(b, "OperatorCode", vals))

        sg_tables = []
        buf_index = 1
        for sg in self.subgraphs:
            t_tables = []
            for t in sg.tensors:
                vals = {"shape": np.asarray(t.shape, np.int32), "type": _TYPE_CODES[t.type_name],
                        "name": _Off(b.CreateString(t.name)), "is_variable": bool(t.is_variable) or None}
                if t.buffer_data is not None:
                    vals["buffer"] = buf_index
                else:
                    vals["buffer"] = buf_index
                buf_index += 1
                if t.shape_signature is not None:
                    vals["shape_signature"] = np.asarray(t.shape_signature, np.int32)
                if t.has_rank is not None:
                    vals["has_rank"] = bool(t.has_rank)
                if t.quant is not None:
                    vals["quantization"] = _Off(self._quant(b, t.quant))
                if t.sparsity is not None:
                    vals["sparsity"] = _Off(self._sparsity(b, t.sparsity))
                t_tables.append(_table(b, "Tensor", vals))
            op_tables = []
            for op in sg.ops:
                vals = {"opcode_index": opcode_keys.index((op["opcode"], op["custom_code"], op["version"])),
                        "inputs": np.asarray(op["inputs"], np.int32),
                        "outputs": np.asarray(op["outputs"], np.int32)}
                if op["intermediates"]:
                    vals["intermediates"] = np.asarray(op["intermediates"], np.int32)
                opts = op["options"]
                table_name = op["options_type"] or options_table_for(op["opcode"])
                if table_name and (opts or table_name in _OPTION_CODES):
                    off = _Off(self._options(b, table_name, opts))
                    if table_name in _OPTION_CODES:
                        vals["builtin_options_type"] = _OPTION_CODES[table_name]
                        vals["builtin_options"] = off
                    else:
                        vals["builtin_options2_type"] = _OPTION2_CODES[table_name]
                        vals["builtin_options2"] = off
                elif opts:
                    raise ValueError(f"don't know the options table of {op['opcode']}; pass options_type=")
                if op["custom_options"] is not None:
                    vals["custom_options"] = np.frombuffer(bytes(op["custom_options"]), np.uint8)
                op_tables.append(_table(b, "Operator", vals))
            sg_tables.append(_table(b, "SubGraph", {
                "tensors": _offset_vector(b, t_tables), "inputs": np.asarray(sg.inputs, np.int32),
                "outputs": np.asarray(sg.outputs, np.int32), "operators": _offset_vector(b, op_tables),
                "name": _Off(b.CreateString(sg.name))}))

        sig_tables = []
        for key, sgi, ins, outs in self.signatures:
            def tmaps(d):
                return _offset_vector(b, [_table(b, "TensorMap", {"name": _Off(b.CreateString(n)),
                                                                  "tensor_index": i}) for n, i in d.items()])
            ins_v, outs_v = tmaps(ins), tmaps(outs)
            sig_tables.append(_table(b, "SignatureDef", {"inputs": ins_v, "outputs": outs_v,
                                                         "signature_key": _Off(b.CreateString(key)),
                                                         "subgraph_index": sgi}))
        md_tables = []
        for name, data in self.metadata:
            b.StartVector(1, len(data), 16)
            b.head = b.head - len(data)
            b.Bytes[b.head:b.head + len(data)] = data
            vec = b.EndVector()
            buf_tables.append(_table(b, "Buffer", {"data": _Off(vec)}))
            md_tables.append(_table(b, "Metadata", {"name": _Off(b.CreateString(name)),
                                                    "buffer": len(buf_tables) - 1}))
        root = _table(b, "Model", {
            "version": 3, "operator_codes": _offset_vector(b, oc_tables), "subgraphs": _offset_vector(b, sg_tables),
            "description": _Off(b.CreateString(self.description)), "buffers": _offset_vector(b, buf_tables),
            "metadata": _offset_vector(b, md_tables) if md_tables else None,
            "signature_defs": _offset_vector(b, sig_tables) if sig_tables else None})
        b.Finish(root, file_identifier=b"TFL3")
        out = bytes(b.Output())
        if external_base:
            blob = bytearray(out)
            for p, d in ext_layout:
                if len(blob) < p:
                    blob.extend(b"\0" * (p - len(blob)))
                blob.extend(d)
            out = bytes(blob)
        return out

    @staticmethod
    def _quant(b, q: dict) -> int:
        vals = {}
        scale = np.atleast_1d(np.asarray(q.get("scale", []), np.float32))
        zp = np.atleast_1d(np.asarray(q.get("zero_point", [0] * scale.size), np.int64))
        if scale.size:
            vals["scale"] = scale
            vals["zero_point"] = zp
        if "min" in q:
            vals["min"] = np.atleast_1d(np.asarray(q["min"], np.float32))
        if "max" in q:
            vals["max"] = np.atleast_1d(np.asarray(q["max"], np.float32))
        if q.get("quantized_dimension"):
            vals["quantized_dimension"] = int(q["quantized_dimension"])
        return _table(b, "QuantizationParameters", vals)

    @staticmethod
    def _sparsity(b, sp: dict) -> int:
        """``sp``: {"traversal_order": [...], "block_map": [...], "dim_metadata": [{"format": "DENSE",
        "dense_size": n} | {"format": "SPARSE_CSR", "array_segments": [...], "array_indices": [...]}]}"""
        dims = []
        for d in sp["dim_metadata"]:
            if d["format"] == "DENSE":
                dims.append(_table(b, "DimensionMetadata", {"format": 0, "dense_size": int(d["dense_size"])}))
            else:
                seg = _table(b, "Int32Vector", {"values": np.asarray(d["array_segments"], np.int32)})
                ind = _table(b, "Int32Vector", {"values": np.asarray(d["array_indices"], np.int32)})
                dims.append(_table(b, "DimensionMetadata", {"format": 1, "array_segments_type": 1,
                                                            "array_segments": _Off(seg), "array_indices_type": 1,
                                                            "array_indices": _Off(ind)}))
        vals = {"traversal_order": np.asarray(sp["traversal_order"], np.int32),
                "dim_metadata": _offset_vector(b, dims)}
        if sp.get("block_map") is not None and len(sp["block_map"]):
            vals["block_map"] = np.asarray(sp["block_map"], np.int32)
        return _table(b, "SparsityParameters", vals)

    @staticmethod
    def _options(b, table_name: str, opts: dict) -> int:
        return _table(b, table_name, opts)


def single_op_model(opcode: str, inputs: list, output_types=("FLOAT32",), output_shapes=None,
                    const_inputs=(), **options) -> bytes:
    """A model with one operator. ``inputs`` is a list of numpy arrays (their dtype and shape define the
    tensors); indices in ``const_inputs`` become constants holding the array, others graph inputs.
    Output shapes default to [] (LiteRT and tfl_gpu compute them). ``None`` in ``inputs`` omits one."""
    mb = ModelBuilder()
    idx = []
    for k, arr in enumerate(inputs):
        if arr is None:
            idx.append(-1)
        elif k in const_inputs:
            idx.append(mb.const(f"in{k}", arr))
        else:
            a = np.asarray(arr)
            idx.append(mb.input(f"in{k}", a.shape, _type_of(a.dtype)))
    outs = []
    for k, tn in enumerate(output_types):
        shape = output_shapes[k] if output_shapes else []
        outs.append(mb.tensor(f"out{k}", shape, tn))
    custom = options.pop("custom_code", None)
    custom_options = options.pop("custom_options", None)
    mb.op(opcode, idx, outs, custom_code=custom, custom_options=custom_options, **options)
    mb.output(*outs)
    return mb.build()


__all__ = ["ModelBuilder", "single_op_model", "options_table_for"]
