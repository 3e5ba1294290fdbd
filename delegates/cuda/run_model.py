"""Runs a .tflite model through the cuda delegate and checks it against the CPU path.

    python -m tfl_gpu.delegates.cuda.run_model model.tflite [--backend auto|cupy|emulator] [--runs 10]
    python -m tfl_gpu.delegates.cuda.run_model --info
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tfl_gpu.delegates.cuda.run_model", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?")
    ap.add_argument("--backend", default="auto", choices=("auto", "cupy", "emulator"))
    ap.add_argument("--device-id", type=int, default=0)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--no-graphs", action="store_true", help="disable CUDA graphs")
    ap.add_argument("--info", action="store_true", help="print the delegates and whether a GPU is usable")
    args = ap.parse_args(argv)

    import tfl_gpu
    from tfl_gpu.delegates.cuda import gpu_available
    if args.info or not args.model:
        from tfl_gpu.delegates_api import available_delegates
        print("delegates:", ", ".join(available_delegates()))
        print("GPU usable (CuPy + NVIDIA driver):", gpu_available())
        return 0 if args.info else 2

    content = open(args.model, "rb").read()
    d = tfl_gpu.load_delegate("cuda", {"backend": args.backend, "device_id": args.device_id,
                                       "cuda_graphs": not args.no_graphs})
    print(f"backend: {d.config.backend.name}")
    it = tfl_gpu.Interpreter(model_content=content, experimental_delegates=[d])
    it.allocate_tensors()
    from tfl_gpu.delegation import format_report
    print(format_report(it.get_delegation_report()))
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(tuple(det["shape"])).astype(det["dtype"]) for det in it.get_input_details()]
    cpu = tfl_gpu.Interpreter(model_content=content)
    cpu.allocate_tensors()
    times = {}
    outs = {}
    for name, interp in (("cuda", it), ("cpu", cpu)):
        ts = []
        for _ in range(max(1, args.runs)):
            for det, x in zip(interp.get_input_details(), xs):
                interp.set_tensor(det["index"], x)
            t = time.perf_counter()
            interp.invoke()
            ts.append(time.perf_counter() - t)
        times[name] = statistics.median(ts) * 1e3
        outs[name] = [interp.get_tensor(o["index"]) for o in interp.get_output_details()]
    ok = True
    for det, a, b in zip(it.get_output_details(), outs["cuda"], outs["cpu"]):
        err = float(np.max(np.abs(a.astype(np.float64) - b))) if b.size else 0.0
        bar = 1e-4 * max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
        ok &= err <= bar
        print(f"output {det['name']} {list(a.shape)}: max abs error vs CPU {err:.3g} (bar {bar:.3g})")
    print(f"median invoke: cuda delegate {times['cuda']:.3f} ms, CPU (numpy) {times['cpu']:.3f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
