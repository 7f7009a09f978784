"""The package layering (README "Package map") holds: import-linter's contracts in pyproject.toml
pass, and the module import graph has no cycle, counting imports made inside functions and under
TYPE_CHECKING (lazy imports are for start-up time, not a way to hide a circle)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_cycles", ROOT / "scripts/import_cycles.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    done = _lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_broken_contract_fails_the_run(tmp_path: Path) -> None:
    """The check can fail: a contract the code breaks (the service imports operations) makes
    lint-imports exit non-zero, so CI stops on it."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "dockerhub_cli"\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "service without ops"\ntype = "forbidden"\n'
        'source_modules = ["dockerhub_cli.service"]\n'
        'forbidden_modules = ["dockerhub_cli.ops"]\n'
    )
    done = _lint_imports("--config", str(config))
    assert done.returncode != 0
    assert "BROKEN" in done.stdout


def test_no_import_cycle() -> None:
    script = _script()
    edges = script.import_graph()
    assert script.cycles(edges) == []


def test_the_graph_counts_lazy_and_type_checking_imports() -> None:
    """service.py imports ops.images only inside its methods, and names models.compare only
    under TYPE_CHECKING: both are edges of the graph the cycle check walks."""
    script = _script()
    edges = script.import_graph()
    assert "dockerhub_cli.ops.images" in edges["dockerhub_cli.service"]
    assert "dockerhub_cli.models.compare" in edges["dockerhub_cli.service"]
    runtime = script.import_graph(runtime_only=True)
    assert "dockerhub_cli.ops.images" in runtime["dockerhub_cli.service"]
    assert "dockerhub_cli.models.compare" not in runtime["dockerhub_cli.service"]


def test_cycle_finder_finds_cycles() -> None:
    script = _script()
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert script.cycles(graph) == [["a", "b", "c"], ["e"]]
    assert script.cycles({"a": {"b"}, "b": set()}) == []
