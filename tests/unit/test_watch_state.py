"""`watch` state under overlapping runs (a cron job that outlasts its interval): the save is a
locked re-read-merge-replace, so neither run loses the other's entries and the file is never
half written."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from dockerhub_cli.ops import watch

ROUNDS = 40
WORKERS = 2


def _entry(digest: str, newer: list[str] | None = None) -> dict[str, object]:
    return {"digest": digest, "newer": newer or [], "checked_at": "2026-12-01T00:00:00+00:00"}


def _save_many(path: str, worker: int, barrier: object) -> None:
    barrier.wait(60)  # type: ignore[attr-defined]
    for n in range(ROUNDS):
        notes: list[str] = []
        watch._save_state(Path(path), {f"w{worker}/r{n}:1": _entry(f"sha256:{n}")}, notes)
        if notes:
            raise SystemExit(notes[0])
        # a reader in between never sees half a file
        json.loads(Path(path).read_text("utf-8"))


def test_two_processes_saving_at_once_keep_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "cache" / watch.STATE_FILE
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    processes = [
        ctx.Process(target=_save_many, args=(str(path), w, barrier)) for w in range(WORKERS)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    refs = json.loads(path.read_text("utf-8"))["references"]
    assert len(refs) == WORKERS * ROUNDS
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == [".watch-state.json.lock", "watch-state.json"]  # no temp file left


def test_a_save_keeps_what_another_run_wrote_since_this_run_loaded(tmp_path: Path) -> None:
    path = tmp_path / watch.STATE_FILE
    watch._save_state(path, {"a:1": _entry("sha256:a", ["1.1"])}, [])
    # another run, started before the first one saved, reports other keys and a newer tag of a
    watch._save_state(path, {"b:1": _entry("sha256:b"), "a:1": _entry("sha256:a2", ["1.2"])}, [])
    refs = json.loads(path.read_text("utf-8"))["references"]
    assert sorted(refs) == ["a:1", "b:1"]
    assert refs["a:1"]["digest"] == "sha256:a2"  # the later observation wins
    assert refs["a:1"]["newer"] == ["1.1", "1.2"]  # a tag either run reported stays reported


def test_a_planted_symlink_at_the_lock_path_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / f".{watch.STATE_FILE}.lock").symlink_to(victim)
    notes: list[str] = []
    watch._save_state(tmp_path / watch.STATE_FILE, {"a:1": _entry("sha256:a")}, notes)
    assert victim.read_text() == "precious"
    assert notes and "could not save the watch state" in notes[0]
    assert not (tmp_path / watch.STATE_FILE).exists()


def test_a_corrupt_state_file_is_replaced_not_merged(tmp_path: Path) -> None:
    path = tmp_path / watch.STATE_FILE
    path.write_text('{"version": 1, "references": {"a:1": ')
    watch._save_state(path, {"b:1": _entry("sha256:b")}, [])
    assert sorted(json.loads(path.read_text("utf-8"))["references"]) == ["b:1"]
