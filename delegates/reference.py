"""The ``reference`` delegate: runs its partitions with tfl_gpu's own numpy kernels.

It exists to exercise the delegate machinery (partitioning, boundaries, reports) with results identical
to the CPU path, and as the smallest complete delegate. Options:

* ``ops``: list of op names it claims (default: every op the core lets a delegate take);
* ``exclude_ops``: list of op names it refuses;
* ``min_nodes_per_partition`` / ``max_delegated_partitions``: handled by the core (TFLite's meaning).

``load_delegate("reference", {"ops": ["ADD", "MUL"]})``.
"""
from __future__ import annotations

from tfl_gpu.hookspecs import hookimpl


class _Program:
    """A prepared partition: the nodes' numpy kernels and where their operands live."""

    def __init__(self, partition):
        self.partition = partition
        self.input_slots = [t.index for t in partition.inputs]
        self.output_slots = [t.index for t in partition.outputs]
        self.constants = {}
        self.steps = []
        for node in partition.nodes:
            for t in node.inputs:
                if t is not None and t.constant is not None:
                    self.constants[t.index] = t.constant
            self.steps.append((node.cpu_kernel(), [t.index if t is not None else None for t in node.inputs],
                               [t.index for t in node.outputs]))
        self.invocations = 0

    def run(self, inputs):
        env = dict(self.constants)
        env.update(zip(self.input_slots, inputs))
        for kernel, ins, outs in self.steps:
            res = kernel(*[env[i] if i is not None else None for i in ins])
            env.update(zip(outs, res))
        self.invocations += 1
        return [env[o] for o in self.output_slots]


class ReferenceDelegate:
    """Plugin class: ``load_delegate`` makes one instance per delegate object."""

    def __init__(self):
        self.programs = []           # prepared partitions, for tests and curiosity

    @hookimpl
    def delegate_option_schema(self):
        return {"ops": None, "exclude_ops": ()}

    @hookimpl
    def delegate_configure(self, options):
        cfg = {}
        for key in ("ops", "exclude_ops"):
            v = options[key]
            if v is None:
                cfg[key] = None
                continue
            if isinstance(v, str):
                v = [s for s in v.replace(",", " ").split() if s]     # "ADD,MUL" as LiteRT-style strings
            if not all(isinstance(s, str) for s in v):
                raise ValueError(f"reference delegate: option {key} must be a list of op names, got {v!r}")
            cfg[key] = frozenset(s.upper() for s in v)
        return cfg

    @hookimpl
    def delegate_supports_node(self, node, config):
        name = node.custom_code if node.op == "CUSTOM" else node.op
        if config["ops"] is not None and name not in config["ops"]:
            return f"{name} is not in the reference delegate's 'ops' option"
        if config["exclude_ops"] and name in config["exclude_ops"]:
            return f"{name} is excluded by the reference delegate's 'exclude_ops' option"
        return True

    @hookimpl
    def delegate_prepare(self, partition):
        prog = _Program(partition)
        self.programs.append(prog)
        return prog

    @hookimpl
    def delegate_invoke(self, kernel, inputs):
        return kernel.run(inputs)

    @hookimpl
    def delegate_release(self, kernel):
        if kernel in self.programs:
            self.programs.remove(kernel)


plugin = ReferenceDelegate
