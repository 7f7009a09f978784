"""Docs as tests, offline half: every ```console block of README.md and docs/*.md is run by
some test (or says why not), and the blocks on the example layout (examples/hello-oci) run
here and print what the documentation shows (tests/support/docs_examples.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.docs_examples import all_blocks, matches, report, run_block

BLOCKS = all_blocks()
LOCAL = [b for b in BLOCKS if b.kind == "local"]


def test_every_console_block_is_run_or_says_why_not() -> None:
    unclassified = [b.id for b in BLOCKS if b.kind == "unclassified"]
    assert not unclassified, (
        "these ```console blocks are run by no test: use the demo registry (localhost:5000), "
        "examples/, or precede the block with <!-- not run: REASON -->: " + ", ".join(unclassified)
    )
    assert all(b.commands for b in BLOCKS), [b.id for b in BLOCKS if not b.commands]
    kinds = {b.kind for b in BLOCKS}
    assert {"local", "demo", "hub", "stand-in"} <= kinds


def test_most_examples_run() -> None:
    skipped = [b for b in BLOCKS if b.kind == "skip"]
    assert len(skipped) * 4 < len(BLOCKS), [b.id for b in skipped]


def test_wildcards_match_only_what_they_stand_for() -> None:
    assert matches(["a ... c", "..."], ["a b c", "x", "y"])
    assert matches(["3 days ago  x"], ["2 years ago x"])
    assert not matches(["a ... c"], ["a b d"])
    assert not matches(["one", "two"], ["one"])
    assert not matches(["one"], ["one", "two"])


@pytest.mark.parametrize("block", LOCAL, ids=[b.id for b in LOCAL])
def test_local_example_prints_what_the_docs_show(block, tmp_path: Path) -> None:
    outcomes = run_block(block, tmp_path / "work")
    assert all(o.ok for o in outcomes), report(block, outcomes)
