"""GPU benchmark of the cuda delegate (real GPU only): tfl_gpu+CUDA vs LiteRT's CPU and our numpy path.

    python bench/gpu_bench.py                          # shared models + MobileNetV2, 50 runs each
    python bench/gpu_bench.py --filter mobilenet --runs 200 --out bench/results/h100.json

For each float32 or int8 model, in one run on the same host and inputs: LiteRT default runtime (XNNPACK, all cores),
tfl_gpu numpy path, the cuda delegate eager (one Python launch per node) and with CUDA graphs. Prints median
ms per invoke, the ratios, the delegate's launch overhead per node, and elementwise kernel bandwidth against
the card's theoretical peak. Exits with a message (status 2) when no GPU is usable: no emulator timings,
they would mean nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("TFL_GPU_SHARED", ROOT.parent / "shared")) / "models"


def models(filt):
    out = []
    if SHARED.is_dir():
        out += sorted(SHARED.glob("*.tflite")) + sorted((SHARED / "bench").glob("*.tflite"))
    out += sorted((ROOT / "bench" / "models").glob("*.tflite"))
    return [m for m in out if not filt or filt in m.name]


def inputs_for(details, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for d in details:
        dt = np.dtype(d["dtype"])
        if dt.kind == "f":
            out.append(rng.standard_normal(tuple(d["shape"])).astype(dt))
        else:
            info = np.iinfo(dt)
            out.append(rng.integers(info.min, info.max + 1, tuple(d["shape"])).astype(dt))
    return out


def time_it(fn, runs, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def make_runner(it, xs):
    det = it.get_input_details()
    outs = [o["index"] for o in it.get_output_details()]

    def run():
        for d, x in zip(det, xs):
            it.set_tensor(d["index"], x)
        it.invoke()
        return [it.get_tensor(o) for o in outs]
    return run


def bandwidth(cp, be):
    """ADD of two 64M-float tensors through the delegate's kernel: GB/s and % of the card's peak."""
    n = 1 << 26
    a = cp.random.standard_normal(n, dtype=cp.float32)
    b = cp.random.standard_normal(n, dtype=cp.float32)
    y = cp.empty_like(a)
    f = be.function("elementwise", "binary_f32")
    grid = ((n + 255) // 256,)
    args = (a, b, y, np.int32(n), np.int32(0), np.int32(0), np.int32(0))
    f(grid, (256,), args)
    cp.cuda.Device().synchronize()
    start, end = cp.cuda.Event(), cp.cuda.Event()
    reps = 20
    start.record()
    for _ in range(reps):
        f(grid, (256,), args)
    end.record()
    end.synchronize()
    sec = cp.cuda.get_elapsed_time(start, end) / 1e3 / reps
    gbs = 3 * n * 4 / sec / 1e9
    attrs = cp.cuda.Device().attributes
    peak = 2 * attrs["MemoryClockRate"] * 1e3 * attrs["GlobalMemoryBusWidth"] / 8 / 1e9
    assert bool((y == a + b).all())
    return gbs, peak


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--filter", default="")
    ap.add_argument("--out", help="write the results as JSON here (e.g. bench/results/<gpu>.json)")
    args = ap.parse_args(argv)

    import tfl_gpu
    from tfl_gpu.delegates.cuda import gpu_available
    if not gpu_available():
        print("gpu_bench: no usable GPU (CuPy + NVIDIA driver): nothing to measure", file=sys.stderr)
        return 2
    import cupy as cp
    from ai_edge_litert import interpreter as lite

    dev = cp.cuda.runtime.getDeviceProperties(0)
    gpu_name = dev["name"].decode() if isinstance(dev["name"], bytes) else str(dev["name"])
    print(f"GPU: {gpu_name}; host: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    results = {"gpu": gpu_name, "cpu_cores": os.cpu_count(), "models": {}}

    d_eager = tfl_gpu.load_delegate("cuda", {"backend": "cupy", "cuda_graphs": False})
    d_graph = tfl_gpu.load_delegate("cuda", {"backend": "cupy", "cuda_graphs": True})
    gbs, peak = bandwidth(cp, d_eager.config.backend)
    print(f"elementwise ADD, 64M floats: {gbs:.0f} GB/s = {100 * gbs / peak:.0f}% of the {peak:.0f} GB/s peak")
    results["elementwise_gbs"], results["peak_gbs"] = gbs, peak

    hdr = f"{'model':44s} {'nodes':>5s} {'LiteRT':>8s} {'numpy':>8s} {'cuda':>8s} {'graphs':>8s}  " \
          f"{'x LiteRT':>8s} {'x numpy':>8s} {'us/node':>8s}"
    print(hdr)
    for path in models(args.filter):
        content = path.read_bytes()
        try:
            ref_it = lite.Interpreter(model_content=content, num_threads=os.cpu_count())
            ref_it.allocate_tensors()
        except Exception as e:  # noqa: BLE001 - e.g. MediaPipe custom ops
            print(f"{path.name:44s} skipped (LiteRT: {str(e).splitlines()[0][:60]})")
            continue
        det = ref_it.get_input_details()
        if any(np.dtype(d["dtype"]) not in (np.float32, np.int8) for d in det):
            print(f"{path.name:44s} skipped (inputs are neither float32 nor int8)")
            continue
        xs = inputs_for(det)
        its = {"litert": ref_it, "numpy": tfl_gpu.Interpreter(model_content=content),
               "cuda": tfl_gpu.Interpreter(model_content=content, experimental_delegates=[d_eager]),
               "graphs": tfl_gpu.Interpreter(model_content=content, experimental_delegates=[d_graph])}
        runners = {}
        for k, it in its.items():
            it.allocate_tensors()
            runners[k] = make_runner(it, xs)
        ref = runners["numpy"]()
        for k in ("cuda", "graphs"):
            for o, r in zip(runners[k](), ref):
                err = float(np.max(np.abs(o.astype(np.float64) - r))) if r.size else 0.0
                if err > (0 if r.dtype.kind == "i" else 1e-3 * max(1.0, float(np.max(np.abs(r))))):
                    print(f"  WARNING {path.name} {k}: max abs error {err:.3g}")
        ms = {}
        runs = max(5, args.runs)
        for k in runners:                          # interleave rounds so machine noise hits all alike
            ms[k] = []
        for _ in range(5):
            for k, f in runners.items():
                ms[k].append(time_it(f, max(1, runs // 5), warmup=2))
        ms = {k: statistics.median(v) for k, v in ms.items()}
        rep = its["cuda"].get_delegation_report()
        nodes = sum(1 for r in rep if r["executor"] == "cuda")
        per_node = (ms["cuda"] - ms["graphs"]) * 1e3 / max(nodes, 1)
        print(f"{path.name:44s} {nodes:5d} {ms['litert']:8.3f} {ms['numpy']:8.3f} {ms['cuda']:8.3f} "
              f"{ms['graphs']:8.3f}  {ms['litert'] / ms['graphs']:8.2f} {ms['numpy'] / ms['graphs']:8.2f} "
              f"{per_node:8.1f}")
        results["models"][path.name] = {"nodes_on_gpu": nodes, "nodes": len(rep), **{f"{k}_ms": v for k, v in ms.items()}}
    if args.out:
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
