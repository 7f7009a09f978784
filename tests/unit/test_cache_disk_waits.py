"""The SQLite cache does not wait for the disk where nothing can be lost: a new file is put in
WAL mode without the rollback journal's fsyncs, and the warm reader's side-table writes run
at requests-cache's own `synchronous=NORMAL` (no fsync per commit in WAL mode)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.remote import cache_store, warm_cache


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env().replace(cache_dir=tmp_path / "cache")


def _journal_mode(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return str(con.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        con.close()


def test_a_new_cache_file_starts_in_wal_mode_before_requests_cache_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    statements: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        con = real_connect(*args, **kwargs)
        con.set_trace_callback(statements.append)
        return con

    monkeypatch.setattr(cache_store.sqlite3, "connect", traced)
    backend = cache_store.open_sqlite_backend(settings)
    try:
        # The first statements on the new file: the switch to WAL without syncing.
        assert statements[:2] == ["PRAGMA synchronous=OFF", "PRAGMA journal_mode=WAL"]
        backend.responses["k"] = "v"
        assert backend.responses["k"] == "v"
    finally:
        backend.close()
    assert _journal_mode(settings.cache_path) == "wal"
    assert not settings.cache_path.with_name(settings.cache_path.name + "-journal").exists()
    assert settings.cache_path.stat().st_mode & 0o077 == 0


def test_an_existing_cache_file_is_not_touched_before_requests_cache_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    cache_store.open_sqlite_backend(settings).close()
    calls: list[Path] = []
    monkeypatch.setattr(cache_store, "_start_in_wal_mode", lambda path, _ms: calls.append(path))
    backend = cache_store.open_sqlite_backend(settings)
    backend.close()
    assert calls == []
    # A new file, in a second directory: the switch is made.
    other = settings.replace(cache_dir=tmp_path / "other")
    cache_store.open_sqlite_backend(other).close()
    assert calls == [other.cache_path]


def test_an_empty_file_left_behind_is_a_new_cache(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.cache_dir.mkdir(mode=0o700)
    settings.cache_path.touch(mode=0o600)
    backend = cache_store.open_sqlite_backend(settings)
    try:
        backend.responses["k"] = "v"
    finally:
        backend.close()
    assert _journal_mode(settings.cache_path) == "wal"


def test_the_switch_gives_up_quietly_on_a_locked_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    path.touch()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        cache_store._start_in_wal_mode(path, 10)  # no exception: requests-cache does it later
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_warm_readers_writes_do_not_wait_for_the_disk(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    cache_store.open_sqlite_backend(settings).close()
    reader = warm_cache.WarmReader(settings.cache_path, "fingerprint")
    try:
        con = reader._connect()
        assert con is not None
        # 1 = NORMAL: in WAL mode a commit does not fsync (2 = FULL, sqlite's default, does).
        assert con.execute("PRAGMA synchronous").fetchone()[0] == 1
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        reader.close()
