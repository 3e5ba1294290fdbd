"""CPU benchmark: tfl_gpu vs LiteRT, interleaved in one run with the same thread count.

    python bench/cpu_bench.py                       # shared models + bench/models, 1 thread
    python bench/cpu_bench.py --threads 2 --runs 30
    python bench/cpu_bench.py --filter mobilenet --profile   # + per-op time breakdown of tfl_gpu

For every model: tfl_gpu, LiteRT builtin kernels (BUILTIN_WITHOUT_DEFAULT_DELEGATES) and LiteRT's default
runtime (XNNPACK delegate) are timed invoke by invoke, round-robin (so machine noise hits all three alike),
on the same seeded inputs. Prints median ms and the ratios ours/LiteRT. Models whose ops tfl_gpu (or LiteRT)
cannot run are listed as skipped with the reason.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time
from collections import defaultdict

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("TFL_GPU_SHARED", ROOT.parent / "shared")) / "models"


def default_models() -> list[pathlib.Path]:
    out = []
    if SHARED.is_dir():
        out += sorted(SHARED.glob("*.tflite")) + sorted((SHARED / "bench").glob("*.tflite"))
    out += sorted((ROOT / "bench" / "models").glob("*.tflite"))
    return out


def seeded_inputs(details, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for d in details:
        shape, dt = tuple(int(s) for s in d["shape"]), np.dtype(d["dtype"])
        if dt.kind == "f":
            out.append(rng.random(shape).astype(dt))
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            out.append(rng.integers(max(info.min, -128), min(info.max, 255) + 1, size=shape).astype(dt))
        else:
            out.append(rng.integers(0, 2, size=shape).astype(dt))
    return out


def _first_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return f"{type(e).__name__}: {s[0] if s else ''}"[:110]


def make_engines(path: pathlib.Path, threads: int):
    """name -> (interpreter or None, reason)."""
    import tfl_gpu
    from ai_edge_litert import interpreter as lite
    engines = {}
    makers = {
        "tfl_gpu": lambda: tfl_gpu.Interpreter(model_path=path, num_threads=threads),
        "litert": lambda: lite.Interpreter(model_path=str(path), num_threads=threads,
                                           experimental_op_resolver_type=lite.OpResolverType
                                           .BUILTIN_WITHOUT_DEFAULT_DELEGATES),
        "xnnpack": lambda: lite.Interpreter(model_path=str(path), num_threads=threads),
    }
    for name, make in makers.items():
        try:
            it = make()
            it.allocate_tensors()
            engines[name] = (it, "")
        except Exception as e:  # noqa: BLE001 - reported in the table
            engines[name] = (None, _first_line(e))
    return engines


def bench_model(path, threads, runs, warmup, profile=False, stat="median"):
    engines = make_engines(path, threads)
    live = {k: it for k, (it, _) in engines.items() if it is not None}
    reasons = {k: r for k, (it, r) in engines.items() if it is None}
    if not live:
        return {}, reasons, None
    ref = next(iter(live.values()))
    inputs = seeded_inputs(ref.get_input_details())
    for name, it in list(live.items()):
        try:
            for d, v in zip(it.get_input_details(), inputs):
                it.set_tensor(d["index"], v)
            for _ in range(warmup):
                it.invoke()
        except Exception as e:  # noqa: BLE001
            reasons[name] = _first_line(e)
            del live[name]
    times = defaultdict(list)
    for _ in range(runs):
        for name, it in live.items():
            t0 = time.perf_counter()
            it.invoke()
            times[name].append((time.perf_counter() - t0) * 1e3)
    agg = min if stat == "min" else statistics.median
    med = {k: agg(v) for k, v in times.items()}
    prof = None
    if profile and "tfl_gpu" in live:
        prof = profile_ops(live["tfl_gpu"], runs=max(3, runs // 3))
    return med, reasons, prof


def profile_ops(it, runs=5):
    """Per-op-type total ms per invoke (median over runs) of a tfl_gpu Interpreter."""
    per = defaultdict(list)
    for _ in range(runs):
        timings = []
        it._invoke_subgraph(0, timings)
        acc = defaultdict(float)
        for st, dt in timings:
            acc[st.label] += dt * 1e3
        for k, v in acc.items():
            per[k].append(v)
    return {k: statistics.median(v) for k, v in per.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", help="model files (default: ../shared/models, its bench/, bench/models)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--filter", default="", help="only models whose file name contains this")
    ap.add_argument("--profile", action="store_true", help="print tfl_gpu's per-op-type time breakdown")
    ap.add_argument("--stat", choices=("median", "min"), default="median",
                    help="statistic of the per-invoke times (min is steadier on a busy machine)")
    args = ap.parse_args(argv)
    models = [pathlib.Path(m) for m in args.models] or default_models()
    models = [m for m in models if args.filter in m.name]
    if not models:
        print("no models found", file=sys.stderr)
        return 1
    import numpy
    print(f"threads={args.threads} runs={args.runs} ({args.stat} ms, interleaved) numpy {numpy.__version__}, "
          f"{os.cpu_count()} CPUs")
    hdr = f"{'model':44s} {'tfl_gpu':>9s} {'litert':>9s} {'xnnpack':>9s} {'ours/litert':>12s} {'ours/xnn':>9s}"
    print(hdr)
    print("-" * len(hdr))
    skipped = []
    ratios_l, ratios_x = [], []
    for m in models:
        med, reasons, prof = bench_model(m, args.threads, args.runs, args.warmup, args.profile, args.stat)
        name = m.name if m.parent.name != "bench" else "bench/" + m.name
        if "tfl_gpu" not in med:
            skipped.append((name, reasons.get("tfl_gpu", "?")))
            continue

        def cell(k):
            return f"{med[k]:9.2f}" if k in med else f"{'n/a':>9s}"

        rl = med["tfl_gpu"] / med["litert"] if "litert" in med else None
        rx = med["tfl_gpu"] / med["xnnpack"] if "xnnpack" in med else None
        if rl:
            ratios_l.append(rl)
        if rx:
            ratios_x.append(rx)
        print(f"{name[:44]:44s} {cell('tfl_gpu')} {cell('litert')} {cell('xnnpack')} "
              f"{(f'{rl:.2f}x' if rl else 'n/a'):>12s} {(f'{rx:.2f}x' if rx else 'n/a'):>9s}", flush=True)
        for k in ("litert", "xnnpack"):
            if k in reasons:
                print(f"    ({k}: {reasons[k]})")
        if prof:
            total = sum(prof.values())
            for op, ms in sorted(prof.items(), key=lambda kv: -kv[1])[:8]:
                print(f"      {op:28s} {ms:8.2f} ms  {100 * ms / total:5.1f}%")
    if ratios_l or ratios_x:
        gm = lambda r: float(np.exp(np.mean(np.log(r)))) if r else float("nan")  # noqa: E731
        print(f"geometric mean ratio: ours/litert {gm(ratios_l):.2f}x, ours/xnnpack {gm(ratios_x):.2f}x")
    for name, why in skipped:
        print(f"skipped {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
