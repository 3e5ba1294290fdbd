"""Lists the builtin operators LiteRT's default resolver registers (run with ai-edge-litert installed):

    python tools/probe_litert_ops.py > docs/litert_builtin_ops.txt

For every builtin code, a one-op model is built with tfl_gpu.writer and allocated by LiteRT
(BUILTIN_WITHOUT_DEFAULT_DELEGATES); "Didn't find op for builtin opcode" means it is not registered.
The op-coverage table (python -m tfl_gpu.coverage) reads the saved list.
"""
import contextlib
import io
import os
import sys

from ai_edge_litert.interpreter import Interpreter, OpResolverType

from tfl_gpu.model import BUILTIN_OPERATORS
from tfl_gpu.writer import ModelBuilder


def registered(op: str) -> bool:
    mb = ModelBuilder()
    x = mb.input("x", [2])
    y = mb.tensor("y", [2])
    mb.op(op, [x], [y])
    mb.output(y)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            Interpreter(model_content=mb.build(),
                        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
                        ).allocate_tensors()
    except Exception as e:  # noqa: BLE001 - any other failure means the op exists but the toy model is wrong
        return "Didn't find op for builtin opcode" not in str(e)
    return True


if __name__ == "__main__":
    import ai_edge_litert
    print(f"# builtin ops registered by ai-edge-litert {getattr(ai_edge_litert, '__version__', '?')} "
          "(BUILTIN resolver), probed by tools/probe_litert_ops.py")
    for code in sorted(BUILTIN_OPERATORS):
        name = BUILTIN_OPERATORS[code]
        if name in ("CUSTOM", "DELEGATE", "PLACEHOLDER_FOR_GREATER_OP_CODES") or code > 208:
            continue
        if registered(name):
            print(name)
    sys.stdout.flush()
    os._exit(0)
