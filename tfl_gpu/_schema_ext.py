"""Flatbuffer tables newer than the bundled ``tflite`` binding, in the binding's own style, so the generic
options reader and writer (``model.option_schema``) handle them like every other table.

``install()`` registers them as ``tflite.<Name>`` modules and adds their union codes."""
from __future__ import annotations

import sys
import types

import flatbuffers
from flatbuffers.compat import import_numpy

np = import_numpy()


class StablehloCaseOptions(object):
    """table StablehloCaseOptions { branch_subgraph_indices: [int32]; } (BuiltinOptions2 code 23)."""
    __slots__ = ['_tab']

    def Init(self, buf, pos):
        self._tab = flatbuffers.table.Table(buf, pos)

    def BranchSubgraphIndices(self, j):
        o = flatbuffers.number_types.UOffsetTFlags.py_type(self._tab.Offset(4))
        if o != 0:
            a = self._tab.Vector(o)
            pos = a + flatbuffers.number_types.UOffsetTFlags.py_type(j * 4)
            return self._tab.Get(flatbuffers.number_types.Int32Flags, pos)
        return 0

    def BranchSubgraphIndicesAsNumpy(self):
        o = flatbuffers.number_types.UOffsetTFlags.py_type(self._tab.Offset(4))
        if o != 0:
            return self._tab.GetVectorAsNumpy(flatbuffers.number_types.Int32Flags, o)
        return 0

    def BranchSubgraphIndicesLength(self):
        o = flatbuffers.number_types.UOffsetTFlags.py_type(self._tab.Offset(4))
        if o != 0:
            return self._tab.VectorLen(o)
        return 0

    def BranchSubgraphIndicesIsNone(self):
        o = flatbuffers.number_types.UOffsetTFlags.py_type(self._tab.Offset(4))
        return o == 0


_TABLES = {23: StablehloCaseOptions}


def install(option2_types: dict) -> None:
    for code, cls in _TABLES.items():
        name = cls.__name__
        if code in option2_types:
            continue
        mod = types.ModuleType("tflite." + name)
        setattr(mod, name, cls)
        sys.modules.setdefault("tflite." + name, mod)
        option2_types[code] = name
