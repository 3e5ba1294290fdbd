"""Error types. Everything we raise for a bad model or bad call is a ValueError or RuntimeError subclass,
so code written against LiteRT's Python API (which raises those) keeps working."""


class ModelError(ValueError):
    """The model file is malformed or inconsistent (raised at load or at allocate_tensors)."""


class PrepareError(ModelError, RuntimeError):
    """An inconsistency LiteRT reports when it prepares the graph (allocate_tensors), such as control flow
    naming a missing subgraph or calling itself. It is a RuntimeError like LiteRT's and a ValueError like
    every other malformed-model error."""


class UnsupportedOperatorError(RuntimeError):
    """No kernel is registered for an operator (LiteRT raises RuntimeError at allocate_tensors)."""


class InvokeError(RuntimeError):
    """A kernel failed while running; the message names the node."""


class CancelledError(RuntimeError):
    """invoke() was cancelled through Interpreter.cancel()."""
