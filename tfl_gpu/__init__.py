"""tfl-gpu: a TensorFlow Lite interpreter for Python, numpy on the CPU and CUDA through a delegate."""
from .interpreter import Interpreter, InterpreterWithCustomOps, OpResolverType, SignatureRunner  # noqa: F401
from .errors import ModelError, UnsupportedOperatorError, InvokeError, CancelledError  # noqa: F401
from .custom_ops import register_op, unregister_op  # noqa: F401
from .delegates_api import load_delegate  # noqa: F401
from . import delegation  # noqa: F401  (delegation.format_report renders get_delegation_report())

__version__ = "0.1.0"
__all__ = ["Interpreter", "InterpreterWithCustomOps", "OpResolverType", "SignatureRunner", "ModelError", "UnsupportedOperatorError",
           "InvokeError", "CancelledError", "register_op", "unregister_op", "load_delegate"]
