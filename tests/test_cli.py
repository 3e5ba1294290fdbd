"""End-to-end tests of the tfl-gpu command (in-process main() and one real subprocess)."""
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from oracle import run_litert
from tfl_gpu.cli import main
from tfl_gpu.writer import ModelBuilder

SINE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "models" / "sine_float.tflite"


@pytest.fixture
def fc_model(tmp_path):
    """Two inputs, two FC layers: heavy enough that per-op times dominate the invoke."""
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.input("x", [256, 1024])
    s = mb.input("s", [256, 512])
    w1 = mb.const("w1", rng.standard_normal((512, 1024)).astype(np.float32))
    w2 = mb.const("w2", rng.standard_normal((512, 512)).astype(np.float32))
    h = mb.tensor("h", [256, 512])
    y = mb.tensor("y", [256, 512])
    mb.op("FULLY_CONNECTED", [x, w1, -1], [h], fused_activation_function="RELU")
    mb.op("FULLY_CONNECTED", [h, w2, -1], [y])
    mb.output(y)
    mb.signature("serving_default", {"x": x, "s": s}, {"y": y})
    path = tmp_path / "fc.tflite"
    path.write_bytes(mb.build())
    return path


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_text_and_json(capsys, fc_model):
    code, out, _ = run_cli(capsys, "inspect", fc_model)
    assert code == 0
    assert "FULLY_CONNECTED" in out and "[256, 1024]" in out
    code, out, _ = run_cli(capsys, "inspect", fc_model, "--json")
    assert code == 0
    info = json.loads(out)
    assert info["subgraphs"][0]["op_counts"] == {"FULLY_CONNECTED": 2}
    assert info["parameters"] == 512 * 1024 + 512 * 512
    assert info["constant_bytes"] == {"FLOAT32": 4 * (512 * 1024 + 512 * 512)}
    assert [i["name"] for i in info["inputs"]] == ["x", "s"]
    assert info["inputs"][0]["shape"] == [256, 1024] and info["inputs"][0]["dtype"] == "float32"
    assert info["signatures"] == {"serving_default": {"inputs": {"x": 0, "s": 1}, "outputs": {"y": 5}}}


def test_run_with_npy_matches_litert(capsys, tmp_path):
    x = np.array([[0.25]], np.float32)
    np.save(tmp_path / "x.npy", x)
    out_file = tmp_path / "out.npz"
    code, out, _ = run_cli(capsys, "run", SINE, "--input", f"serving_default_dense_input:0={tmp_path / 'x.npy'}",
                           "--output", out_file, "--json")
    assert code == 0
    got = json.loads(out)["StatefulPartitionedCall:0"]
    ref = run_litert(SINE.read_bytes(), [x])[0]
    np.testing.assert_allclose(np.array(got["values"], np.float32), ref, atol=1e-5)
    saved = np.load(out_file)
    np.testing.assert_allclose(saved["StatefulPartitionedCall:0"], ref, atol=1e-5)


def test_run_signature_random(capsys):
    code, out, _ = run_cli(capsys, "run", SINE, "--signature", "serving_default", "--random", "--json")
    assert code == 0
    assert json.loads(out)["dense_2"]["shape"] == [1, 1]


@pytest.mark.parametrize("case", ["missing_model", "wrong_name", "wrong_shape", "wrong_dtype", "no_inputs",
                                  "bad_npy", "bad_signature"])
def test_run_bad_arguments(capsys, tmp_path, case):
    np.save(tmp_path / "ok.npy", np.zeros((1, 1), np.float32))
    np.save(tmp_path / "shape.npy", np.zeros((1, 3), np.float32))
    np.save(tmp_path / "dtype.npy", np.zeros((1, 1), np.float64))
    (tmp_path / "bad.npy").write_bytes(b"not a numpy file")
    name = "serving_default_dense_input:0"
    argv = {
        "missing_model": ["run", tmp_path / "nope.tflite", "--random"],
        "wrong_name": ["run", SINE, "--input", f"nope={tmp_path / 'ok.npy'}"],
        "wrong_shape": ["run", SINE, "--input", f"{name}={tmp_path / 'shape.npy'}"],
        "wrong_dtype": ["run", SINE, "--input", f"{name}={tmp_path / 'dtype.npy'}"],
        "no_inputs": ["run", SINE],
        "bad_npy": ["run", SINE, "--input", f"{name}={tmp_path / 'bad.npy'}"],
        "bad_signature": ["run", SINE, "--signature", "nope", "--random"],
    }[case]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "error:" in lines[0], err


def test_corrupt_model_exit_code(capsys, tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(SINE.read_bytes()[:200])
    code, _, err = run_cli(capsys, "inspect", bad)
    assert code == 1
    assert len(err.strip().splitlines()) == 1


def test_bench_json_and_profile_adds_up(capsys, fc_model):
    code, out, _ = run_cli(capsys, "bench", fc_model, "--runs", "5", "--warmup", "1", "--json",
                           "--profile-runs", "5", "--compare-litert")
    assert code == 0
    res = json.loads(out)
    for k in ("min_ms", "median_ms", "p90_ms", "p99_ms"):
        assert res["tfl_gpu"][k] > 0
    assert res["tfl_gpu"]["min_ms"] <= res["tfl_gpu"]["median_ms"] <= res["tfl_gpu"]["p99_ms"]
    assert res["ratio_median"] > 0
    assert [p["op"] for p in res["profile"]] == ["FULLY_CONNECTED"]
    # the per-op times come from the same invokes that were timed as a whole
    assert res["profile_sum_ms"] <= res["profiled_invoke_ms"]
    assert res["profile_sum_ms"] >= 0.9 * res["profiled_invoke_ms"]


def test_bench_text(capsys, fc_model):
    code, out, _ = run_cli(capsys, "bench", fc_model, "--runs", "3", "--warmup", "0")
    assert code == 0
    assert "median ms" in out and "per-op profile" in out and "FULLY_CONNECTED" in out


def test_compare_against_litert(capsys, fc_model):
    code, out, _ = run_cli(capsys, "compare", fc_model, "--json", "--per-tensor")
    res = json.loads(out)
    assert code == 0, res
    assert res["ok"] and res["first_divergence"] is None
    assert res["outputs"]["y"]["within_tolerance"]


def test_compare_reports_divergence(capsys, fc_model, monkeypatch):
    """A deliberately wrong kernel must be caught and named by --per-tensor."""
    from tfl_gpu.kernels import registry

    def broken_fc(node, x, w, b=None):
        return (x.reshape(-1, w.shape[1]) @ w.T.astype(np.float32)) * np.float32(1.01)

    monkeypatch.setitem(registry._REGISTRY, "FULLY_CONNECTED",
                        [registry.KernelEntry("FULLY_CONNECTED", registry._factory(broken_fc), None, 0, "test")])
    code, out, _ = run_cli(capsys, "compare", fc_model, "--json", "--per-tensor")
    res = json.loads(out)
    assert code == 1
    assert not res["ok"]
    assert res["first_divergence"]["node"] == 0 and res["first_divergence"]["op"] == "FULLY_CONNECTED"


def test_compare_cpu_needs_delegate(capsys, fc_model):
    code, _, err = run_cli(capsys, "compare", fc_model, "--against", "cpu")
    assert code == 2 and "--delegate" in err


def test_module_entry_point_subprocess():
    r = subprocess.run([sys.executable, "-m", "tfl_gpu", "inspect", str(SINE), "--json"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["subgraphs"][0]["op_counts"] == {"FULLY_CONNECTED": 3}


def test_help_for_every_subcommand(capsys):
    for sub in ("inspect", "run", "bench", "compare"):
        with pytest.raises(SystemExit) as e:
            main([sub, "--help"])
        assert e.value.code == 0
        assert sub in capsys.readouterr().out


def test_inspect_support_table_names_delegate_refusals(capsys, tmp_path):
    """A custom op no delegate knows: the support table shows the CPU kernel and each delegate's refusal."""
    import tfl_gpu
    from tfl_gpu.delegates_api import register_delegate, unregister_delegate
    from tfl_gpu.hookspecs import hookimpl

    class OnlyRelu:
        @hookimpl
        def delegate_supports_node(self, node, config):
            return True if node.op == "RELU" else f"no kernel for {node.op}"

        @hookimpl
        def delegate_prepare(self, partition, config):
            return partition

        @hookimpl
        def delegate_invoke(self, kernel, inputs, config):
            return [np.maximum(inputs[0], 0)]

    mb = ModelBuilder()
    x = mb.input("x", [4])
    r = mb.tensor("r", [4])
    y = mb.tensor("y", [4])
    mb.op("RELU", [x], [r])
    mb.op("TANH", [r], [y])
    mb.output(y)
    path = tmp_path / "m.tflite"
    path.write_bytes(mb.build())
    register_delegate("onlyrelu", OnlyRelu())
    try:
        code, out, _ = run_cli(capsys, "inspect", path, "--json", "--delegate", "onlyrelu")
    finally:
        unregister_delegate("onlyrelu")
    assert code == 0, out
    info = json.loads(out)
    rows = {r["op"]: r for r in info["support"]}
    assert rows["RELU"]["delegates"]["onlyrelu"]["claimed"] == 1
    assert rows["TANH"]["delegates"]["onlyrelu"] == {"claimed": 0, "reasons": ["no kernel for TANH"]}
    assert rows["TANH"]["cpu"] is True
    _ = tfl_gpu
