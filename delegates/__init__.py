"""Built-in delegates of tfl_gpu, installed as the package ``tfl_gpu.delegates``.

Each one is an ordinary pluggy plugin registered under the entry-point group ``tfl_gpu.delegates`` in
tfl_gpu's own package metadata, exactly as a third-party delegate would be (see
docs/writing-a-delegate.md):

* ``reference``: runs the nodes it claims with the core's numpy kernels (tests, and the minimal example
  of a delegate that keeps intermediate values private to its partition).
"""
