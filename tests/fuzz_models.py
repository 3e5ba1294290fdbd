"""A deterministic, time-bounded mutation fuzzer for tfl_gpu's model loading and execution.

Every case is a model (bytes) derived from a seed model by a seeded mutation: byte flips, truncation,
random 32-bit overwrites, and schema-aware mutations made through the model writer (bad indices, shapes,
types, options, quantization, sparsity, strings, control flow, signatures). Each case is loaded, allocated
and invoked on random inputs in a worker subprocess that runs under a memory limit; the parent enforces a
per-case timeout. A case fails on a crash (the worker dies), a hang (timeout), or an exception outside our
documented error types (ValueError and RuntimeError, which all of tfl_gpu's errors derive from).

    python tests/fuzz_models.py --cases 2000 --seconds 60          # a CI-sized run
    TFL_GPU_FUZZ_INVOKE_BUDGET=1 python tests/fuzz_models.py --cases 100000 --seconds 36000 \
        --json bench/results/fuzz-long.json                         # the long run (results: bench/results/)
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ALLOWED = (ValueError, RuntimeError)
CASE_TIMEOUT_S = 20.0
MEMORY_LIMIT = 3 << 30


# ----------------------------------------------------------------------------------------- seeds

def seed_models() -> list[bytes]:
    """Small valid models covering many code paths (built with the writer; no files needed)."""
    from tfl_gpu.writer import ModelBuilder
    out = []
    rng = np.random.default_rng(0)

    mb = ModelBuilder()
    x = mb.input("x", [1, 6, 6, 3])
    w = mb.const("w", rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    b = mb.const("b", rng.standard_normal(4).astype(np.float32))
    y = mb.tensor("y", [1, 6, 6, 4])
    mb.op("CONV_2D", [x, w, b], [y], padding="SAME", stride_w=1, stride_h=1, fused_activation_function="RELU")
    z = mb.tensor("z", [1, 3, 3, 4])
    mb.op("MAX_POOL_2D", [y], [z], padding="VALID", stride_w=2, stride_h=2, filter_width=2, filter_height=2)
    s = mb.const("shape", np.array([1, 36], np.int32))
    r = mb.tensor("r", [1, 36])
    mb.op("RESHAPE", [z, s], [r])
    fw = mb.const("fw", rng.standard_normal((5, 36)).astype(np.float32))
    o = mb.tensor("o", [1, 5])
    mb.op("FULLY_CONNECTED", [r, fw, -1], [o])
    sm = mb.tensor("sm", [1, 5])
    mb.op("SOFTMAX", [o], [sm], beta=1.0)
    mb.output(sm)
    mb.signature("serving_default", {"x": x}, {"y": sm})
    out.append(mb.build())

    mb = ModelBuilder()
    a = mb.input("a", [2, 3])
    c = mb.const("c", np.ones((1, 3), np.float32))
    s1 = mb.tensor("s1", [2, 3])
    mb.op("ADD", [a, c], [s1], fused_activation_function="RELU6")
    cat = mb.tensor("cat", [4, 3])
    mb.op("CONCATENATION", [s1, a], [cat], axis=0)
    tr = mb.tensor("tr", [3, 4])
    mb.op("TRANSPOSE", [cat, mb.const("perm", np.array([1, 0], np.int32))], [tr])
    mb.output(tr)
    out.append(mb.build())

    # quantized ops
    mb = ModelBuilder()
    q = {"scale": [0.05], "zero_point": [3]}
    xi = mb.input("x", [1, 4, 4, 2], "INT8", quant=q)
    wi = mb.const("w", rng.integers(-127, 128, (3, 1, 1, 2)).astype(np.int8), type_name="INT8",
                  quant={"scale": [0.01, 0.02, 0.03], "zero_point": [0, 0, 0], "quantized_dimension": 0})
    bi = mb.const("b", np.array([1, -2, 3], np.int32), quant={"scale": [0.0005, 0.001, 0.0015], "zero_point": [0, 0, 0]})
    yi = mb.tensor("y", [1, 4, 4, 3], "INT8", quant={"scale": [0.1], "zero_point": [-1]})
    mb.op("CONV_2D", [xi, wi, bi], [yi], padding="VALID", stride_w=1, stride_h=1)
    f = mb.tensor("f", [1, 4, 4, 3])
    mb.op("DEQUANTIZE", [yi], [f])
    mb.output(f)
    out.append(mb.build())

    # strings, gather, int64
    mb = ModelBuilder()
    idx = mb.input("idx", [3], "INT32")
    table = mb.const("table", np.array([b"a", b"bb", b"ccc", b""], dtype=object), type_name="STRING")
    g = mb.tensor("g", [3], "STRING")
    mb.op("GATHER", [table, idx], [g], axis=0)
    mb.output(g)
    out.append(mb.build())

    # control flow: WHILE counting to an input bound
    mb = ModelBuilder()
    n = mb.input("n", [], "INT32")
    i0 = mb.const("i0", np.array(0, np.int32))
    io = mb.tensor("i_out", [], "INT32")
    no = mb.tensor("n_out", [], "INT32")
    cond = 1
    body = 2
    mb.op("WHILE", [i0, n], [io, no], cond_subgraph_index=cond, body_subgraph_index=body)
    mb.output(io)
    mb.subgraph("cond")
    ci = mb.input("i", [], "INT32")
    cn = mb.input("n", [], "INT32")
    cl = mb.tensor("less", [], "BOOL")
    mb.op("LESS", [ci, cn], [cl])
    mb.output(cl)
    mb.subgraph("body")
    bi_ = mb.input("i", [], "INT32")
    bn = mb.input("n", [], "INT32")
    one = mb.const("one", np.array(1, np.int32))
    bo = mb.tensor("i1", [], "INT32")
    mb.op("ADD", [bi_, one], [bo])
    mb.output(bo, bn)
    out.append(mb.build())

    # sparse constant + densify
    mb = ModelBuilder()
    dense = np.array([[1, 0, 0, 2], [0, 0, 3, 0]], np.float32)
    sp = mb.tensor("sp", [2, 4], "FLOAT32", data=np.array([1, 2, 3], np.float32), sparsity={
        "traversal_order": [0, 1], "dim_metadata": [{"format": "DENSE", "dense_size": 2},
                                                    {"format": "SPARSE_CSR", "array_segments": [0, 2, 3],
                                                     "array_indices": [0, 3, 2]}]})
    dn = mb.tensor("dense", [2, 4])
    mb.op("DENSIFY", [sp], [dn])
    xin = mb.input("x", [2, 4])
    so = mb.tensor("sum", [2, 4])
    mb.op("ADD", [dn, xin], [so])
    mb.output(so)
    _ = dense
    out.append(mb.build())
    return out


def shared_seeds(limit_bytes=300_000) -> list[bytes]:
    models = HERE.parent.parent / "shared" / "models"
    if not models.is_dir():
        return []
    return [p.read_bytes() for p in sorted(models.glob("*.tflite")) if p.stat().st_size <= limit_bytes]


# ------------------------------------------------------------------------------------- mutations

def mutate(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    buf = bytearray(data)
    kind = rng.integers(0, 6)
    n = len(buf)
    if kind == 0:                     # flip a few bytes
        for _ in range(int(rng.integers(1, 8))):
            p = int(rng.integers(0, n))
            buf[p] ^= int(rng.integers(1, 256))
        return "byteflip", bytes(buf)
    if kind == 1:                     # truncate
        return "truncate", bytes(buf[: int(rng.integers(0, n))])
    if kind == 2:                     # overwrite an aligned 32-bit word with an interesting value
        p = int(rng.integers(0, max(1, n // 4))) * 4
        val = int(rng.choice([0, 1, -1, 2**31 - 1, -2**31, 0x7FFF, 255, 1000000, n, n - 4, 16]))
        buf[p:p + 4] = (val & 0xFFFFFFFF).to_bytes(4, "little")
        return "word", bytes(buf)
    if kind == 3:                     # small ints (indices, enums) near the start of tables
        p = int(rng.integers(0, n))
        buf[p] = int(rng.choice([0, 1, 2, 3, 0x7F, 0x80, 0xFF, 9, 17, 13, 14]))
        return "byte", bytes(buf)
    if kind == 4:                     # duplicate a chunk (shifts offsets)
        a = int(rng.integers(0, n))
        ln = int(rng.integers(1, 64))
        return "dup", bytes(buf[:a] + buf[a:a + ln] + buf[a:])
    return "schema", schema_mutation(rng)


def schema_mutation(rng: np.random.Generator) -> bytes:
    """A structurally valid flatbuffer with semantically hostile contents."""
    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    choice = int(rng.integers(0, 12))
    x = mb.input("x", [1, 4, 4, 2])
    if choice == 0:       # out-of-range tensor index in an op
        y = mb.tensor("y", [1, 4, 4, 2])
        mb.op("RELU", [int(rng.choice([5, 100, -2, 2**30]))], [y])
        mb.output(y)
    elif choice == 1:     # -1 for a required input
        y = mb.tensor("y", [1, 4, 4, 2])
        mb.op("ADD", [x, -1], [y])
        mb.output(y)
    elif choice == 2:     # huge shape
        big = [int(rng.choice([2**31 - 1, 2**20, 65536])) for _ in range(int(rng.integers(1, 5)))]
        h = mb.input("h", big)
        y = mb.tensor("y", big)
        mb.op("RELU", [h], [y])
        mb.output(y)
    elif choice == 3:     # bad quantization
        scale = float(rng.choice([0.0, -1.0, np.nan, np.inf, 1e-45]))
        xi = mb.input("xi", [4], "INT8", quant={"scale": [scale], "zero_point": [int(rng.integers(-300, 300))]})
        y = mb.tensor("y", [4])
        mb.op("DEQUANTIZE", [xi], [y])
        mb.output(y)
    elif choice == 4:     # per-axis quantization with mismatched lengths
        w = mb.const("w", np.ones((3, 1, 1, 2), np.int8), type_name="INT8",
                     quant={"scale": [0.1, 0.2], "zero_point": [0, 0], "quantized_dimension": int(rng.integers(0, 6))})
        xi = mb.input("xi", [1, 2, 2, 2], "INT8", quant={"scale": [0.1], "zero_point": [0]})
        y = mb.tensor("y", [1, 2, 2, 3], "INT8", quant={"scale": [0.1], "zero_point": [0]})
        mb.op("CONV_2D", [xi, w, -1], [y], padding="VALID", stride_w=1, stride_h=1)
        mb.output(y)
    elif choice == 5:     # recursive control flow
        y = mb.tensor("y", [1, 4, 4, 2])
        mb.op("CALL_ONCE", [], [], init_subgraph_index=int(rng.choice([0, 1, 7])))
        mb.op("RELU", [x], [y])
        mb.output(y)
        mb.subgraph("init")
        mb.op("CALL_ONCE", [], [], init_subgraph_index=int(rng.choice([0, 1])))
    elif choice == 6:     # signature pointing outside
        y = mb.tensor("y", [1, 4, 4, 2])
        mb.op("RELU", [x], [y])
        mb.output(y)
        mb.signature("s", {"x": x}, {"y": y}, subgraph=int(rng.choice([1, 5, -1])) & 0xFFFFFFFF)
    elif choice == 7:     # wrong options for the op / absurd option values
        y = mb.tensor("y", [1, 4, 4, 2])
        mb.op("MAX_POOL_2D", [x], [y], options_type="Pool2DOptions", padding="SAME",
              stride_w=int(rng.choice([0, -1, 2**31 - 1])), stride_h=1,
              filter_width=int(rng.choice([0, -5, 1 << 30])), filter_height=1)
        mb.output(y)
    elif choice == 8:     # wrong input types
        s = mb.input("s", [3], "STRING")
        y = mb.tensor("y", [1, 4, 4, 2])
        mb.op("ADD", [x, s], [y])
        mb.output(y)
    elif choice == 9:     # reshape to an inconsistent / negative shape
        shp = mb.const("shape", np.array(rng.choice([[-1, -1], [7, 5], [0, -1], [-3, 2]]), np.int32))
        y = mb.tensor("y", [2])
        mb.op("RESHAPE", [x, shp], [y])
        mb.output(y)
    elif choice == 10:    # buffer too small for the shape
        mb.tensor("c", [100, 100], "FLOAT32", data=np.zeros(3, np.float32))
        y = mb.tensor("y", [1, 4, 4, 2])
        mb.op("ADD", [x, 1], [y])
        mb.output(y)
    else:                 # a WHILE whose condition never becomes false (cancelled by the harness)
        i0 = mb.const("i0", np.array(0, np.int32))
        io = mb.tensor("io", [], "INT32")
        mb.op("WHILE", [i0], [io], cond_subgraph_index=1, body_subgraph_index=2)
        mb.output(io)
        mb.subgraph("cond")
        ci = mb.input("i", [], "INT32")
        t = mb.tensor("t", [], "BOOL")
        mb.op("GREATER_EQUAL", [ci, ci], [t])
        mb.output(t)
        mb.subgraph("body")
        bi = mb.input("i", [], "INT32")
        bo = mb.tensor("o", [], "INT32")
        mb.op("ADD", [bi, mb.const("one", np.array(1, np.int32))], [bo])
        mb.output(bo)
    return mb.build()


# ---------------------------------------------------------------------------------------- worker

def run_case(data: bytes, seed: int, invoke_budget_s: float = 5.0) -> str:
    """Loads, allocates and invokes one model; returns 'ok', 'rejected: <type>' or raises."""
    import threading

    import tfl_gpu
    try:
        it = tfl_gpu.Interpreter(model_content=data)
        it.allocate_tensors()
        rng = np.random.default_rng(seed)
        for d in it.get_input_details():
            shape = tuple(int(s) for s in d["shape"])
            if int(np.prod(shape, dtype=np.int64)) > 1 << 22:
                continue
            dt = d["dtype"]
            if dt is np.bytes_:
                it.set_tensor(d["index"], np.full(shape, b"abc", dtype=object))
            elif np.dtype(dt).kind == "f":
                it.set_tensor(d["index"], rng.standard_normal(shape).astype(dt))
            elif np.dtype(dt).kind in "iu":
                it.set_tensor(d["index"], rng.integers(0, 5, shape).astype(dt))
            elif np.dtype(dt).kind == "b":
                it.set_tensor(d["index"], rng.integers(0, 2, shape).astype(bool))
        timer = threading.Timer(invoke_budget_s, it.cancel)
        timer.start()
        try:
            it.invoke()
        finally:
            timer.cancel()
        for d in it.get_output_details():
            it.get_tensor(d["index"])
        return "ok"
    except ALLOWED as e:
        cause = e.__cause__
        if cause is not None and not isinstance(cause, ALLOWED):
            # a kernel raised something else; the executor named the node in a RuntimeError, which is the
            # documented behaviour, but count these apart: each is a kernel that could check its input better
            return f"rejected: {type(e).__name__}({type(cause).__name__})"
        return f"rejected: {type(e).__name__}"


def worker_main() -> None:
    """Reads case numbers on stdin; for each, announces it, runs it, reports the outcome."""
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
    import tfl_gpu.limits
    # the documented per-tensor cap, set below this worker's address-space limit: a too-large tensor must
    # be refused by the cap (ModelError), never reach the allocator
    tfl_gpu.limits.MAX_TENSOR_BYTES = MEMORY_LIMIT // 8
    seeds = seed_models() + shared_seeds()
    for line in sys.stdin:
        case = int(line)
        rng = np.random.default_rng(case)
        base = seeds[case % len(seeds)]
        kind, data = mutate(base, rng)
        print(f"start {case} {kind}", flush=True)
        try:
            outcome = run_case(data, case, float(os.environ.get("TFL_GPU_FUZZ_INVOKE_BUDGET", "5")))
        except MemoryError:
            outcome = "FAIL MemoryError"
        except BaseException as e:  # noqa: BLE001 - this is what the fuzzer looks for
            outcome = f"FAIL {type(e).__name__}: {str(e)[:200]}"
        print(f"done {case} {outcome}", flush=True)


# ---------------------------------------------------------------------------------------- parent

def fuzz(cases: int, seconds: float, first: int = 0, verbose: bool = False) -> dict:
    """Runs cases first..first+cases-1 (stopping after ``seconds``); returns a summary with failures."""
    import queue
    import threading
    deadline = time.monotonic() + seconds
    failures = []
    outcomes: dict[str, int] = {}
    done = 0
    next_case = first
    end = first + cases
    while next_case < end and time.monotonic() < deadline:
        env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        proc = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout] and lines.put(None),
                         daemon=True).start()
        current = None
        try:
            while next_case < end and time.monotonic() < deadline:
                proc.stdin.write(f"{next_case}\n")
                proc.stdin.flush()
                current = next_case
                next_case += 1
                t0 = time.monotonic()
                finished = False
                while not finished:
                    remaining = CASE_TIMEOUT_S - (time.monotonic() - t0)
                    try:
                        ln = lines.get(timeout=max(0.01, remaining))
                    except queue.Empty:
                        failures.append({"case": current, "failure": f"hang (> {CASE_TIMEOUT_S:.0f} s)"})
                        raise _Restart() from None
                    if ln is None:
                        failures.append({"case": current, "failure": f"crash (exit {proc.wait()}): "
                                         + proc.stderr.read()[-300:]})
                        raise _Restart()
                    if ln.startswith("done "):
                        _, _, outcome = ln.strip().split(" ", 2)
                        key = outcome.split(":")[0] if not outcome.startswith("rejected") else outcome
                        outcomes[key] = outcomes.get(key, 0) + 1
                        done += 1
                        if outcome.startswith("FAIL"):
                            failures.append({"case": current, "failure": outcome})
                        if verbose:
                            print(current, outcome)
                        finished = True
        except _Restart:
            done += 1
        finally:
            proc.kill()
            proc.wait()
    return {"cases_run": done, "first_case": first, "failures": failures, "outcomes": outcomes}


class _Restart(Exception):
    pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", metavar="FILE", help="write the summary here")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if args.worker:
        worker_main()
        return 0
    t0 = time.monotonic()
    res = fuzz(args.cases, args.seconds, args.first, args.verbose)
    res["seconds"] = round(time.monotonic() - t0, 1)
    text = json.dumps(res, indent=2)
    print(text)
    if args.json:
        pathlib.Path(args.json).write_text(text)
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
