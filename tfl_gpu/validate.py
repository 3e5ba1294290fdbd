"""Structural checks on untrusted model bytes, kept apart from the reader and the kernels."""
from __future__ import annotations

import struct

from .errors import ModelError


def check_flatbuffer_bounds(buf) -> None:
    """Cheap checks before the generated binding touches the bytes: root table and its vtable in range."""
    size = len(buf)
    (root,) = struct.unpack_from("<I", buf, 0)
    if root + 4 > size:
        raise ModelError(f"Malformed model file: root table offset {root} is outside the {size}-byte file")
    (vt_rel,) = struct.unpack_from("<i", buf, root)
    vt = root - vt_rel
    if not 0 <= vt <= size - 4:
        raise ModelError("Malformed model file: root vtable lies outside the file")
    vt_size, _ = struct.unpack_from("<HH", buf, vt)
    if vt + vt_size > size or vt_size < 4:
        raise ModelError("Malformed model file: root vtable is truncated")
