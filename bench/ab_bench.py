"""A/B timing of two tfl_gpu trees against LiteRT, interleaved in one process.

    git archive <old-commit> tfl_gpu | tar -x -C /tmp/old && mv /tmp/old/tfl_gpu /tmp/old/tfl_gpu_before
    python bench/ab_bench.py --before /tmp/old [--runs 21] [--filter face]

The older tree is imported as the package ``tfl_gpu_before`` (its modules import each other relatively), the
current one as ``tfl_gpu``; each invoke of the three engines (before, after, LiteRT builtin kernels) is timed
round-robin on the same seeded inputs with one thread, so machine noise hits all three alike. Prints median and
min ms and the ratios to LiteRT, and after/before.
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from cpu_bench import default_models, seeded_inputs  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="folder holding the old tree as tfl_gpu_before/")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--filter", default="")
    ap.add_argument("models", nargs="*")
    args = ap.parse_args(argv)
    sys.path.insert(0, args.before)
    import tfl_gpu
    import tfl_gpu_before
    from ai_edge_litert import interpreter as lite
    models = [pathlib.Path(m) for m in args.models] or default_models()
    models = [m for m in models if args.filter in m.name]
    hdr = (f"{'model':40s} {'before':>8s} {'after':>8s} {'litert':>8s} {'bef/lite':>9s} {'aft/lite':>9s} "
           f"{'aft/bef':>8s}   (median ms; min-based ratios in brackets)")
    print(f"threads=1 runs={args.runs}, interleaved")
    print(hdr)
    print("-" * len(hdr))
    for m in models:
        engines = {}
        for name, make in (("before", lambda: tfl_gpu_before.Interpreter(model_path=m, num_threads=1)),
                           ("after", lambda: tfl_gpu.Interpreter(model_path=m, num_threads=1)),
                           ("litert", lambda: lite.Interpreter(
                               model_path=str(m), num_threads=1,
                               experimental_op_resolver_type=lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))):
            try:
                it = make()
                it.allocate_tensors()
                engines[name] = it
            except Exception:  # noqa: BLE001 - engine skipped
                pass
        if "after" not in engines:
            continue
        inputs = seeded_inputs(engines["after"].get_input_details())
        for it in engines.values():
            for d, v in zip(it.get_input_details(), inputs):
                it.set_tensor(d["index"], v)
            it.invoke()
            it.invoke()
        times = {k: [] for k in engines}
        for _ in range(args.runs):
            for k, it in engines.items():
                t0 = time.perf_counter()
                it.invoke()
                times[k].append((time.perf_counter() - t0) * 1e3)
        med = {k: statistics.median(v) for k, v in times.items()}
        mn = {k: min(v) for k, v in times.items()}

        def ratio(a, b, d):
            return f"{d[a] / d[b]:.2f}x" if a in d and b in d else "n/a"

        cell = lambda k: f"{med[k]:8.2f}" if k in med else f"{'n/a':>8s}"  # noqa: E731
        name = m.name if m.parent.name != "bench" else "bench/" + m.name
        print(f"{name[:40]:40s} {cell('before')} {cell('after')} {cell('litert')} "
              f"{ratio('before', 'litert', med):>9s} {ratio('after', 'litert', med):>9s} "
              f"{ratio('after', 'before', med):>8s}   [{ratio('before', 'litert', mn)} "
              f"{ratio('after', 'litert', mn)} {ratio('after', 'before', mn)}]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
