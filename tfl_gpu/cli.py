"""The ``tfl-gpu`` command: inspect, run, bench and compare ``.tflite`` models.

Exit codes: 0 success, 1 the model failed (load/allocate/invoke error, or ``compare`` found a divergence
beyond tolerance), 2 bad command-line arguments or input files.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections import Counter

import numpy as np

EXIT_OK, EXIT_MODEL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A bad argument or input file: one clear line on stderr, exit code 2."""


# ------------------------------------------------------------------------------------------ helpers

def _color(text: str, code: str) -> str:
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        return f"\033[{code}m{text}\033[0m"
    return text


def _table(rows: list[list], headers: list[str]) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in cells:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


def _model_path(path: str) -> str:
    if not os.path.exists(path):
        raise UsageError(f"model file not found: {path}")
    if os.path.isdir(path):
        raise UsageError(f"model path is a directory: {path}")
    return path


def _delegates(names: list[str] | None, options: list[str] | None):
    if not names:
        return []
    from . import load_delegate  # noqa: PLC0415 - only when asked for
    opts = {}
    for kv in options or []:
        if "=" not in kv:
            raise UsageError(f"--delegate-option expects KEY=VALUE, got {kv!r}")
        k, v = kv.split("=", 1)
        try:
            opts[k] = json.loads(v)
        except json.JSONDecodeError:
            opts[k] = v
    out = []
    for n in names:
        try:
            out.append(load_delegate(n, dict(opts)))
        except ValueError as e:
            raise UsageError(str(e).splitlines()[0]) from None
    return out


def _interpreter(path, delegates=(), threads=None, preserve=False):
    from .interpreter import Interpreter
    return Interpreter(model_path=path, experimental_delegates=list(delegates) or None, num_threads=threads,
                       experimental_preserve_all_tensors=preserve)


def _random_input(detail, rng) -> np.ndarray:
    shape = tuple(int(d) for d in detail["shape"])
    dt = np.dtype(detail["dtype"]) if detail["dtype"] is not np.bytes_ else np.dtype(object)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        lo, hi = max(info.min, -128), min(info.max, 127)
        return rng.integers(lo, hi + 1, size=shape).astype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dt.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    return np.full(shape, b"x", dtype=object)


def _load_inputs(interp, specs: list[str] | None, random: bool, seed: int) -> dict[int, np.ndarray]:
    details = interp.get_input_details()
    by_name = {d["name"]: d for d in details}
    given: dict[int, np.ndarray] = {}
    for spec in specs or []:
        if "=" not in spec:
            raise UsageError(f"--input expects NAME=FILE.npy, got {spec!r}")
        name, path = spec.split("=", 1)
        if name not in by_name:
            if name.isdigit() and int(name) < len(details):
                d = details[int(name)]
            else:
                raise UsageError(f"no model input named {name!r} (inputs: {', '.join(by_name)})")
        else:
            d = by_name[name]
        try:
            arr = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise UsageError(f"input file not found: {path}") from None
        except (ValueError, OSError) as e:
            raise UsageError(f"cannot read {path} as .npy: {e}") from None
        want_dt = np.dtype(d["dtype"])
        if arr.dtype != want_dt:
            raise UsageError(f"input {d['name']!r}: {path} holds {arr.dtype}, the model expects {want_dt}")
        sig = d["shape_signature"]
        if arr.ndim != len(sig) or any(s != -1 and s != a for s, a in zip(sig, arr.shape)):
            raise UsageError(f"input {d['name']!r}: {path} has shape {list(arr.shape)}, the model expects "
                             f"{list(d['shape'])} (signature {list(sig)})")
        given[d["index"]] = arr
    missing = [d for d in details if d["index"] not in given]
    if missing and not random:
        raise UsageError("missing inputs " + ", ".join(repr(d["name"]) for d in missing) +
                         " (give --input NAME=FILE.npy or --random)")
    rng = np.random.default_rng(seed)
    for d in missing:
        given[d["index"]] = _random_input(d, rng)
    return given


def _feed(interp, inputs: dict[int, np.ndarray]) -> None:
    """Sets ``inputs`` on a tfl_gpu or a LiteRT interpreter, resizing where the shape differs (both
    interpreters' allocate_tensors do nothing when no resize happened)."""
    details = {d["index"]: d for d in interp.get_input_details()}
    for idx, arr in inputs.items():
        if tuple(details[idx]["shape"]) != arr.shape:
            interp.resize_tensor_input(idx, list(arr.shape))
    interp.allocate_tensors()
    for idx, arr in inputs.items():
        interp.set_tensor(idx, arr)


def _quant_str(d) -> str:
    q = d["quantization_parameters"]
    if len(q["scales"]) == 0:
        return "-"
    if len(q["scales"]) == 1:
        return f"scale={q['scales'][0]:.6g} zp={int(q['zero_points'][0])}"
    return f"per-axis dim {q['quantized_dimension']} ({len(q['scales'])} scales)"


def _dtype_name(dt) -> str:
    return np.dtype(dt).name if dt is not np.bytes_ else "string"


def _io_rows(details):
    return [[d["index"], d["name"], list(int(x) for x in d["shape_signature"]), _dtype_name(d["dtype"]),
             _quant_str(d)] for d in details]


def _io_json(details):
    return [{"index": int(d["index"]), "name": d["name"], "shape": [int(x) for x in d["shape"]],
             "shape_signature": [int(x) for x in d["shape_signature"]], "dtype": _dtype_name(d["dtype"]),
             "quantization": {"scales": [float(s) for s in d["quantization_parameters"]["scales"]],
                              "zero_points": [int(z) for z in d["quantization_parameters"]["zero_points"]],
                              "quantized_dimension": int(d["quantization_parameters"]["quantized_dimension"])}}
            for d in details]


# ------------------------------------------------------------------------------------------ inspect

def cmd_inspect(args) -> int:
    from .kernels.registry import Node, find
    from .model import load_bytes, read_model
    path = _model_path(args.model)
    buf, _keep = load_bytes(path)
    model = read_model(buf)
    interp = _interpreter(path)
    delegates = _delegates(args.delegate, args.delegate_option)

    subgraphs = []
    params = 0
    const_bytes: Counter = Counter()
    for sg in model.subgraphs:
        counts = Counter(op.name for op in sg.operators)
        unsupported = sorted({op.name for op in sg.operators
                              if find(Node(op, sg.tensors)) is None})
        subgraphs.append({"index": sg.index, "name": sg.name, "tensors": len(sg.tensors),
                          "operators": len(sg.operators), "op_counts": dict(counts.most_common()),
                          "cpu_unsupported": unsupported})
        for t in sg.tensors:
            if t.data is not None and t.type_name != "STRING":
                params += int(t.data.size)
                const_bytes[t.type_name] += int(t.data.nbytes)

    if not delegates and not args.no_delegates:
        delegates = _installed_delegates()
    placement = []
    per_delegate = {}
    for d in delegates:
        name = getattr(d, "name", str(d))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                interp2 = _interpreter(path, [d])
                interp2.allocate_tensors()
            rep = interp2.get_delegation_report()
            per_delegate[name] = rep
            if not placement:
                placement = rep
        except Exception as e:  # noqa: BLE001 - reported, inspect still prints the rest
            per_delegate[name] = [{"error": f"{type(e).__name__}: {str(e).splitlines()[0]}"}]
    support = _support_table(model.subgraphs[0], per_delegate)

    info = {
        "model": path, "size_bytes": os.path.getsize(path), "description": model.description,
        "version": model.version,
        "signatures": interp._get_full_signature_list(),
        "inputs": _io_json(interp.get_input_details()), "outputs": _io_json(interp.get_output_details()),
        "subgraphs": subgraphs, "parameters": params, "constant_bytes": dict(const_bytes),
        "metadata": {k: len(v) for k, v in model.metadata.items()},
        "placement": placement,
        "support": support,
        "delegates": {name: rep for name, rep in per_delegate.items()},
    }
    if args.json:
        print(json.dumps(info, indent=2, default=_json_default))
        return EXIT_OK
    print(_color(f"{path}", "1") + f"  ({info['size_bytes']} bytes, schema v{model.version})")
    if model.description:
        print(f"description: {model.description}")
    print()
    print("inputs:")
    print(_table(_io_rows(interp.get_input_details()), ["index", "name", "shape", "dtype", "quantization"]))
    print("\noutputs:")
    print(_table(_io_rows(interp.get_output_details()), ["index", "name", "shape", "dtype", "quantization"]))
    if info["signatures"]:
        print("\nsignatures:")
        for k, v in info["signatures"].items():
            print(f"  {k}: inputs {list(v['inputs'])} -> outputs {list(v['outputs'])}")
    for sg in subgraphs:
        print(f"\nsubgraph {sg['index']} {sg['name']!r}: {sg['operators']} ops, {sg['tensors']} tensors")
        if sg["index"] != 0 or not support:       # subgraph 0's ops are listed in the support table
            rows = [[name, n] for name, n in sg["op_counts"].items()]
            print(_table(rows, ["op", "count"]))
        if sg["cpu_unsupported"]:
            print(_color("  no CPU kernel for: " + ", ".join(sg["cpu_unsupported"]), "31"))
    print(f"\nparameters: {params:,}  constant bytes: " +
          ", ".join(f"{k} {v:,}" for k, v in const_bytes.most_common()))
    if model.metadata:
        print("metadata: " + ", ".join(f"{k} ({len(v)} bytes)" for k, v in model.metadata.items()))
    if support:
        names = list(per_delegate)
        print("\nsupport (nodes claimed / nodes of that op):")
        rows = [[r["op"], r["count"], "yes" if r["cpu"] else _color("no", "31")] +
                [r["delegates"][n]["claimed"] for n in names] for r in support]
        print(_table(rows, ["op", "count", "cpu"] + names))
        for n in names:
            for r in support:
                for reason in r["delegates"][n]["reasons"]:
                    print(f"  {n} refuses {r['op']}: {reason}")
        for n, rep in per_delegate.items():
            if rep and "error" in rep[0]:
                print(_color(f"  {n}: delegation failed: {rep[0]['error']}", "31"))
                continue
            parts = sorted({p["partition"] for p in rep if p.get("partition") is not None})
            sizes = [sum(1 for p in rep if p.get("partition") == q) for q in parts]
            print(f"  {n} partition plan: {len(parts)} partition(s) of {sizes} nodes; "
                  f"{sum(1 for p in rep if p.get('executor') == 'cpu')} node(s) stay on the CPU")
    if args.plot:
        _plot_ops(subgraphs[0]["op_counts"], args.plot, "op count", "operators")
    return EXIT_OK


def _installed_delegates():
    """Every registered delegate that loads here with default options (for inspect's support table)."""
    from .delegates_api import available_delegates, load_delegate
    out = []
    for name in available_delegates():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(load_delegate(name))
        except (ValueError, RuntimeError, ImportError):
            continue
    return out


def _support_table(sg, per_delegate) -> list[dict]:
    from .kernels.registry import Node, find
    rows: dict[str, dict] = {}
    for op in sg.operators:
        r = rows.setdefault(op.name, {"op": op.name, "count": 0, "cpu": find(Node(op, sg.tensors)) is not None,
                                      "delegates": {}})
        r["count"] += 1
    for name, rep in per_delegate.items():
        for r in rows.values():
            r["delegates"][name] = {"claimed": 0, "reasons": []}
        if rep and "error" in rep[0]:
            continue
        for node in rep:
            d = rows[node["op"]]["delegates"][name]
            if node.get("executor") == name:
                d["claimed"] += 1
            reason = (node.get("refusals") or {}).get(name)
            if reason and reason not in d["reasons"]:
                d["reasons"].append(reason)
    return sorted(rows.values(), key=lambda r: -r["count"])


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


def _plot_ops(values: dict, path: str, xlabel: str, title: str) -> None:
    try:
        import matplotlib  # noqa: PLC0415
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("--plot needs matplotlib (pip install 'tfl-gpu[plot]'); no plot written", file=sys.stderr)
        return
    names = list(values)[:30][::-1]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(names) + 1.5))
    ax.barh(names, [values[n] for n in names])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot written to {path}")


# ---------------------------------------------------------------------------------------------- run

def cmd_run(args) -> int:
    path = _model_path(args.model)
    interp = _interpreter(path, _delegates(args.delegate, args.delegate_option), args.threads)
    if args.signature is not None:
        sigs = interp.get_signature_list()
        if args.signature not in sigs:
            raise UsageError(f"no signature {args.signature!r} (signatures: {', '.join(sigs) or 'none'})")
        runner = interp.get_signature_runner(args.signature)
        details = runner.get_input_details()
        rng = np.random.default_rng(args.seed)
        feeds = {}
        for spec in args.input or []:
            name, _, file = spec.partition("=")
            if name not in details:
                raise UsageError(f"no signature input named {name!r} (inputs: {', '.join(details)})")
            feeds[name] = np.load(file, allow_pickle=False)
        for name, d in details.items():
            if name not in feeds:
                if not args.random:
                    raise UsageError(f"missing signature input {name!r} (give --input or --random)")
                feeds[name] = _random_input(d, rng)
        outputs = runner(**feeds)
    else:
        interp.allocate_tensors()
        inputs = _load_inputs(interp, args.input, args.random, args.seed)
        _feed(interp, inputs)
        interp.invoke()
        outputs = {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_output_details()}
    if args.output:
        np.savez(args.output, **outputs)
    if args.json:
        print(json.dumps({name: {"shape": list(v.shape), "dtype": str(v.dtype), "values": v.tolist()}
                          for name, v in outputs.items()}, default=_json_default))
        return EXIT_OK
    with np.printoptions(threshold=args.max_values, edgeitems=3, precision=6, suppress=True):
        for name, v in outputs.items():
            print(_color(f"{name}", "1") + f"  shape={list(v.shape)} dtype={v.dtype}")
            print(v)
    if args.output:
        print(f"outputs saved to {args.output}")
    return EXIT_OK


# -------------------------------------------------------------------------------------------- bench

def _percentiles(times):
    a = np.sort(np.asarray(times)) * 1e3
    return {"min_ms": float(a[0]), "median_ms": float(np.median(a)), "p90_ms": float(np.percentile(a, 90)),
            "p99_ms": float(np.percentile(a, 99)), "mean_ms": float(a.mean())}


def cmd_bench(args) -> int:
    path = _model_path(args.model)
    if args.runs < 1 or args.warmup < 0:
        raise UsageError("--runs must be >= 1 and --warmup >= 0")
    interp = _interpreter(path, _delegates(args.delegate, args.delegate_option), args.threads)
    interp.allocate_tensors()
    inputs = _load_inputs(interp, None, True, args.seed)
    if args.batch and args.batch > 1:
        inputs = {k: np.repeat(v[:1], args.batch, axis=0) if v.ndim else v for k, v in inputs.items()}
    _feed(interp, inputs)

    lite = None
    if args.compare_litert:
        try:
            from ai_edge_litert.interpreter import Interpreter as LiteInterpreter, OpResolverType  # noqa: PLC0415
        except ImportError:
            raise UsageError("--compare-litert needs ai-edge-litert installed") from None
        lite = LiteInterpreter(model_path=path, num_threads=max(1, interp._num_threads),
                               experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        _feed(lite, inputs)

    for _ in range(args.warmup):
        interp.invoke()
        if lite is not None:
            lite.invoke()
    ours, theirs = [], []
    per_op: dict[tuple, float] = {}
    show_progress = sys.stderr.isatty() and not args.json
    t_start = time.perf_counter()
    for r in range(args.runs):
        t0 = time.perf_counter()
        interp.invoke()
        ours.append(time.perf_counter() - t0)
        if lite is not None:
            t0 = time.perf_counter()
            lite.invoke()
            theirs.append(time.perf_counter() - t0)
        if show_progress and time.perf_counter() - t_start > 2:
            print(f"\r{r + 1}/{args.runs} runs", end="", file=sys.stderr)
    if show_progress and time.perf_counter() - t_start > 2:
        print(file=sys.stderr)
    # per-op profile from the public profiling API, over separate profiled runs
    prof_runs = max(1, min(args.runs, args.profile_runs))
    profiled_total = 0.0
    for _ in range(prof_runs):
        t0 = time.perf_counter()
        recs = interp.experimental_profile_invoke()
        profiled_total += time.perf_counter() - t0
        for rec in recs:
            key = (rec["op"], rec["executor"])
            per_op[key] = per_op.get(key, 0.0) + rec["seconds"]
    batch = args.batch or 1
    stats = _percentiles(ours)
    result = {"model": path, "runs": args.runs, "threads": interp._num_threads, "batch": batch, "tfl_gpu": stats,
              "throughput_per_s": batch / (stats["median_ms"] / 1e3),
              "profile": sorted(({"op": k[0], "executor": k[1], "total_ms": v / prof_runs * 1e3}
                                 for k, v in per_op.items()), key=lambda d: -d["total_ms"]),
              "profile_sum_ms": sum(per_op.values()) / prof_runs * 1e3,
              "profiled_invoke_ms": profiled_total / prof_runs * 1e3}
    if lite is not None:
        result["litert"] = _percentiles(theirs)
        result["ratio_median"] = stats["median_ms"] / result["litert"]["median_ms"]
    if args.json:
        print(json.dumps(result, indent=2))
        return EXIT_OK
    rows = [["tfl_gpu", *(f"{stats[k]:.3f}" for k in ("min_ms", "median_ms", "p90_ms", "p99_ms"))]]
    if lite is not None:
        ls = result["litert"]
        rows.append(["litert (builtin)", *(f"{ls[k]:.3f}" for k in ("min_ms", "median_ms", "p90_ms", "p99_ms"))])
    print(f"{path}: {args.runs} runs, {interp._num_threads} threads, batch {batch}")
    print(_table(rows, ["runtime", "min ms", "median ms", "p90 ms", "p99 ms"]))
    print(f"throughput: {result['throughput_per_s']:.1f} inferences/s")
    if lite is not None:
        print(f"ratio tfl_gpu/litert (median): {result['ratio_median']:.2f}x")
    print(f"\nper-op profile (mean of {prof_runs} profiled runs; sum {result['profile_sum_ms']:.3f} ms of "
          f"{result['profiled_invoke_ms']:.3f} ms invoke):")
    top = result["profile"][: args.top]
    print(_table([[p["op"], p["executor"], f"{p['total_ms']:.3f}",
                   f"{100 * p['total_ms'] / max(result['profile_sum_ms'], 1e-12):.1f}%"] for p in top],
                 ["op", "executor", "ms", "share"]))
    if args.plot:
        _plot_ops({f"{p['op']} ({p['executor']})": p["total_ms"] for p in result["profile"]}, args.plot,
                  "ms per invoke", "per-op time")
    return EXIT_OK


# ------------------------------------------------------------------------------------------ compare

def _diff(a: np.ndarray, b: np.ndarray, quant=None) -> dict:
    if a.shape != b.shape:
        return {"error": f"shape {list(a.shape)} vs {list(b.shape)}"}
    if a.size == 0:
        return {"max_abs": 0.0, "max_rel": 0.0}
    if a.dtype.kind in "iub":
        d = np.abs(a.astype(np.int64) - b.astype(np.int64))
        return {"max_abs": float(d.max()), "quantized_steps": int(d.max()), "mismatches": int((d != 0).sum())}
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    d = np.abs(a64 - b64)
    rel = d / np.maximum(np.abs(b64), 1e-12)
    out = {"max_abs": float(np.nanmax(d)), "max_rel": float(np.nanmax(rel))}
    if a.dtype == np.float32:
        ai = a.view(np.int32).astype(np.int64)
        bi = b.view(np.int32).astype(np.int64)
        ai = np.where(ai < 0, np.int64(-2**31) - ai, ai)
        bi = np.where(bi < 0, np.int64(-2**31) - bi, bi)
        out["max_ulp"] = int(np.max(np.abs(ai - bi)))
    return out


def _within(d: dict, ref: np.ndarray, tol: float) -> bool:
    if "error" in d:
        return False
    if ref.dtype.kind in "iub":
        return d["max_abs"] == 0
    scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
    return d["max_abs"] <= tol * scale


def cmd_compare(args) -> int:
    path = _model_path(args.model)
    delegates = _delegates(args.delegate, args.delegate_option)
    if not delegates and args.against == "cpu":
        raise UsageError("compare --against cpu needs --delegate (otherwise both sides are the CPU path)")
    ours = _interpreter(path, delegates, preserve=False)
    ours.allocate_tensors()
    inputs = _load_inputs(ours, args.input, True, args.seed)
    _feed(ours, inputs)
    ours.invoke()
    got = {d["name"]: ours.get_tensor(d["index"]) for d in ours.get_output_details()}

    if args.against == "litert":
        try:
            from ai_edge_litert.interpreter import Interpreter as LiteInterpreter, OpResolverType  # noqa: PLC0415
        except ImportError:
            raise UsageError("--against litert needs ai-edge-litert installed") from None
        ref_interp = LiteInterpreter(model_path=path,
                                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                                     experimental_preserve_all_tensors=args.per_tensor)
        _feed(ref_interp, inputs)
        ref_interp.invoke()
        ref_name = "litert"
    else:
        ref_interp = _interpreter(path, preserve=args.per_tensor)
        _feed(ref_interp, inputs)
        ref_interp.invoke()
        ref_name = "cpu"
    ref = {d["name"]: ref_interp.get_tensor(d["index"]) for d in ref_interp.get_output_details()}
    report = {"model": path, "against": ref_name, "tolerance": args.tol, "outputs": {}}
    ok = True
    for name, r in ref.items():
        d = _diff(got[name], r)
        d["within_tolerance"] = _within(d, r, args.tol)
        ok &= d["within_tolerance"]
        report["outputs"][name] = d
    if args.per_tensor:
        report["first_divergence"] = _first_divergence(path, delegates, inputs, ref_interp, args.tol)
        if report["first_divergence"] is not None:
            ok = False
    report["ok"] = bool(ok)
    if args.json:
        print(json.dumps(report, indent=2, default=_json_default))
    else:
        rows = []
        for name, d in report["outputs"].items():
            rows.append([name, f"{d.get('max_abs', '-'):.3g}" if "max_abs" in d else d.get("error"),
                         f"{d['max_rel']:.3g}" if "max_rel" in d else "-",
                         d.get("max_ulp", d.get("quantized_steps", "-")),
                         _color("ok", "32") if d["within_tolerance"] else _color("DIFFERS", "31")])
        print(f"{path}: tfl_gpu{'+' + '+'.join(args.delegate) if args.delegate else ''} vs {ref_name}")
        print(_table(rows, ["output", "max abs", "max rel", "ulp/steps", "verdict"]))
        fd = report.get("first_divergence")
        if args.per_tensor:
            if fd is None:
                print("every intermediate tensor matches within tolerance")
            else:
                print(_color(f"first divergence: node {fd['node']} ({fd['op']}) output tensor {fd['tensor']} "
                             f"'{fd['name']}': max abs {fd['max_abs']:.3g}", "31"))
    return EXIT_OK if ok else EXIT_MODEL


def _first_divergence(path, delegates, inputs, ref_interp, tol):
    """Walks the graph in execution order; each node's outputs are compared with the reference run.
    With a delegate, every node runs as its own partition so that every intermediate is observable."""
    from .interpreter import Interpreter  # noqa: PLC0415
    opts_each = []
    for d in delegates:
        per_node = getattr(d, "with_options", None)
        opts_each.append(per_node(max_delegated_partitions=None, single_node_partitions=True)
                         if per_node else d)
    probe = Interpreter(model_path=path, experimental_delegates=opts_each or None,
                        experimental_preserve_all_tensors=not delegates)
    _feed(probe, inputs)
    probe.invoke()
    sub = probe._runtime.subgraphs[0]
    for op in sub.sg.operators:
        for o in op.outputs:
            mine = sub.values[o]
            if mine is None:
                continue
            try:
                theirs = ref_interp.get_tensor(o)
            except ValueError:
                continue
            mine = np.asarray(mine)
            d = _diff(mine, np.asarray(theirs))
            if not _within(d, np.asarray(theirs), tol):
                return {"node": op.index, "op": op.name, "tensor": o, "name": sub.tensors[o].name,
                        "max_abs": d.get("max_abs", float("inf"))}
    return None


# --------------------------------------------------------------------------------------------- main

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tfl-gpu", description="Run, inspect, benchmark and compare .tflite models.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp, delegate=True):
        sp.add_argument("model", help="path to a .tflite file")
        sp.add_argument("--json", action="store_true", help="machine-readable output")
        if delegate:
            sp.add_argument("--delegate", action="append", metavar="NAME",
                            help="delegate to apply (repeatable), e.g. cuda")
            sp.add_argument("--delegate-option", action="append", metavar="KEY=VALUE",
                            help="option for the delegates (value parsed as JSON when possible)")

    sp = sub.add_parser("inspect", help="signatures, inputs/outputs, ops, placement, parameters")
    common(sp)
    sp.add_argument("--plot", metavar="FILE.png", help="write an op histogram (needs matplotlib)")
    sp.add_argument("--no-delegates", action="store_true",
                    help="skip the support table of the installed delegates")
    sp.set_defaults(func=cmd_inspect)

    sp = sub.add_parser("run", help="run one invoke and print or save the outputs")
    common(sp)
    sp.add_argument("--input", action="append", metavar="NAME=FILE.npy", help="input value (repeatable)")
    sp.add_argument("--random", action="store_true", help="seeded random values for inputs not given")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--signature", help="run this signature instead of the main subgraph")
    sp.add_argument("--output", metavar="FILE.npz", help="save outputs to an .npz file")
    sp.add_argument("--threads", type=int, default=None)
    sp.add_argument("--max-values", type=int, default=50, help="print at most this many values per output")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("bench", help="latency percentiles, throughput and a per-op profile")
    common(sp)
    sp.add_argument("--threads", type=int, default=None)
    sp.add_argument("--warmup", type=int, default=3)
    sp.add_argument("--runs", type=int, default=20)
    sp.add_argument("--batch", type=int, default=None, help="resize the first dimension of the inputs")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--compare-litert", action="store_true", help="time LiteRT interleaved and print the ratio")
    sp.add_argument("--profile-runs", type=int, default=3)
    sp.add_argument("--top", type=int, default=15, help="ops shown in the profile")
    sp.add_argument("--plot", metavar="FILE.png", help="write per-op time bars (needs matplotlib)")
    sp.set_defaults(func=cmd_bench)

    sp = sub.add_parser("compare", help="same seeded inputs on two executors; per-output error")
    common(sp)
    sp.add_argument("--against", choices=["litert", "cpu"], default="litert")
    sp.add_argument("--input", action="append", metavar="NAME=FILE.npy")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--tol", type=float, default=1e-4, help="float tolerance, relative to max(1, max|ref|)")
    sp.add_argument("--per-tensor", action="store_true", help="name the first node whose output diverges")
    sp.set_defaults(func=cmd_compare)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"tfl-gpu {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"tfl-gpu {args.command}: {type(e).__name__}: {first}", file=sys.stderr)
        return EXIT_MODEL
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
