"""Documentation that must match the code."""
import pathlib

from tfl_gpu.coverage import table

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_op_coverage_table_is_generated_from_the_registry():
    committed = (ROOT / "docs" / "ops.md").read_text()
    assert committed == table(), "docs/ops.md is stale: run `python -m tfl_gpu.coverage > docs/ops.md`"


def test_readme_starts_with_the_two_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    head = "\n".join(lines[:8])
    assert "pip install . && python examples/quickstart.py" in head
    assert 'pip install -e ".[test]" && python -m pytest -q tests' in head
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -q -e ".[test]"' in ci and "python3 -m pytest -q tests" in ci
