"""The CI-sized fuzz run: no crash, hang, or exception outside ValueError/RuntimeError."""
import os

import pytest

import fuzz_models


def test_seed_models_are_valid_and_run():
    # the fuzzer's seeds must themselves load; otherwise every mutation only tests the reader's rejections
    import tfl_gpu
    for k, data in enumerate(fuzz_models.seed_models()):
        it = tfl_gpu.Interpreter(model_content=data)
        assert it.get_input_details(), k


def test_fuzz_ci_run():
    seconds = float(os.environ.get("TFL_GPU_FUZZ_SECONDS", "45"))
    res = fuzz_models.fuzz(cases=3000, seconds=seconds)
    assert res["cases_run"] > 50, res
    assert not res["failures"], res["failures"][:10]


@pytest.mark.parametrize("case", range(0, 12))
def test_schema_mutations_are_rejected_or_run(case, monkeypatch):
    import numpy as np

    import tfl_gpu.limits
    monkeypatch.setattr(tfl_gpu.limits, "MAX_TENSOR_BYTES", 64 << 20)   # in-process: keep allocations small
    rng = np.random.default_rng(case)
    for _ in range(5):
        data = fuzz_models.schema_mutation(rng)
        outcome = fuzz_models.run_case(data, case, invoke_budget_s=2.0)
        assert outcome == "ok" or outcome.startswith("rejected"), outcome
