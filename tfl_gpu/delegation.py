"""Applying delegates to a planned subgraph (see tfl_gpu.hookspecs). Filled in by the delegate work."""


def apply_delegates(subgraph_runtime, delegates) -> None:
    raise NotImplementedError("delegates are not supported yet")
