"""Docs as tests, registry half: every ```console block naming localhost:5000 runs against the
demo registry (tests/support/demo.py: the images `scripts/demo-registry start` seeds), started
once for the session on a free four-digit port, the port substituted in commands and output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import require_binaries
from tests.support import demo
from tests.support.docs_examples import all_blocks, report, run_block
from tests.support.docs_fixtures import run_with_stand_in
from tests.support.registry import ManagedProcess

DEMO = [b for b in all_blocks() if b.kind == "demo"]


@pytest.fixture(scope="module")
def demo_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_binaries("docker-registry", "skopeo", "umoci")
    work = tmp_path_factory.mktemp("demo-registry")
    port = demo.free_demo_port(None)
    proc = ManagedProcess("docker-registry", demo.registry_argv(work, port), work / "log", work)
    try:
        demo.wait_ready(port, proc.alive)
        host = f"localhost:{port}"
        demo.seed_demo(host, work / "build")
        yield host
    finally:
        proc.stop()


def test_demo_examples_exist() -> None:
    assert len(DEMO) >= 20


@pytest.mark.parametrize("block", DEMO, ids=[b.id for b in DEMO])
def test_demo_example_prints_what_the_docs_show(block, demo_host: str, tmp_path: Path) -> None:
    if block.stand_in:  # e.g. vulns: the demo registry's image, OSV's stand-in
        outcomes = run_with_stand_in(block, tmp_path / "work", demo_host)
    else:
        outcomes = run_block(block, tmp_path / "work", demo_host)
    assert all(o.ok for o in outcomes), report(block, outcomes)


def test_the_demo_keys_are_the_committed_ones(tmp_path: Path) -> None:
    assert demo.PUBLIC_KEY.read_bytes() == demo.demo_signer().public_pem
    assert (demo.PUBLIC_KEY.parent / "other.pub").read_bytes() == demo.other_signer().public_pem
