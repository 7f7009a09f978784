"""The cache never loses its head: corruption, truncation, parallel processes, info/clear."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import InvalidInputError
from dockerhub_cli.remote.cache_store import cache_info, clear_cache, open_backend
from dockerhub_cli.service import DockerHubService
from tests.support.faults import Fault, FaultServer
from tests.unit.test_faults import expire_everything

HUB = "https://hub.docker.com"
ROOT = Path(__file__).resolve().parents[2]


def _mock_search(rsps: responses.RequestsMock, n: int = 1) -> None:
    """The site search (`search` asks it first), shaped as in search_v4_postgres.json."""
    rsps.get(
        f"{HUB}/api/search/v4",
        json={
            "total": n,
            "results": [{"name": f"r{i}", "short_description": "x" * 2000} for i in range(n)],
        },
    )


def _fill(settings: Settings, queries: int) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _mock_search(rsps, 20)
        fast = settings.replace(rate_limit_per_minute=10_000, rate_limit_burst=1_000)
        with DockerHubService(fast) as svc:
            for i in range(queries):
                svc.search(f"q{i}")


def test_garbage_cache_file_is_moved_aside_and_rebuilt(caplog):
    settings = Settings.from_env()
    settings.cache_dir.mkdir(parents=True)
    settings.cache_path.write_bytes(b"this is not a database" * 100)
    with responses.RequestsMock() as rsps, caplog.at_level("WARNING", logger="dockerhub_cli"):
        _mock_search(rsps)
        with DockerHubService(settings) as svc:
            assert svc.search("nginx").results
    moved = list(settings.cache_dir.glob("http_cache.sqlite.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes().startswith(b"this is not")
    assert "was unreadable" in caplog.text and "started a new one" in caplog.text


def test_truncated_cache_file_never_crashes_the_cli():
    settings = Settings.from_env()
    _fill(settings, 40)
    path = settings.cache_path
    data = path.read_bytes()
    assert len(data) > 100_000
    path.write_bytes(data[: len(data) // 3])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _mock_search(rsps)
        runner = CliRunner()
        for query in ("q1", "q39", "fresh"):
            result = runner.invoke(app, ["search", query, "--json"])
            assert result.exit_code == 0, result.output
            assert json.loads(result.stdout)["results"]
            assert "Traceback" not in result.output
    # either the probe or the first failing read moved it aside; the new cache works
    assert cache_info(settings).entries >= 1


def test_cli_warns_once_about_a_corrupt_cache():
    settings = Settings.from_env()
    settings.cache_dir.mkdir(parents=True)
    settings.cache_path.write_bytes(b"\x00garbage" * 500)
    with responses.RequestsMock() as rsps:
        _mock_search(rsps)
        result = CliRunner().invoke(app, ["search", "nginx"])
    assert result.exit_code == 0
    assert result.stderr.count("warning:") == 1 and "corrupt-" in result.stderr


def test_cache_info_and_clear_expired(tmp_path):
    settings = Settings.from_env()
    _fill(settings, 3)
    info = cache_info(settings)
    assert (info.backend, info.entries, info.expired) == ("sqlite", 3, 0)
    assert info.size_bytes and info.size_bytes > 0
    # age one entry
    backend = open_backend(settings)
    key = next(iter(backend.responses.keys()))
    from datetime import UTC, datetime, timedelta

    response = backend.responses[key]
    response.expires = datetime.now(UTC) - timedelta(hours=1)
    backend.responses[key] = response
    backend.close()

    runner = CliRunner()
    shown = runner.invoke(app, ["cache", "info", "--json"])
    assert shown.exit_code == 0
    assert json.loads(shown.stdout) | {"size_bytes": 0} == {
        "backend": "sqlite",
        "location": str(settings.cache_path),
        "size_bytes": 0,
        "entries": 3,
        "expired": 1,
        "redirects": 0,
        "corrupt_files": [],
        "results": 0,
    }
    cleared = runner.invoke(app, ["cache", "clear", "--expired", "--json"])
    assert cleared.exit_code == 0 and json.loads(cleared.stdout)["removed"] == 1
    assert cache_info(settings).entries == 2
    table = runner.invoke(app, ["cache", "info"])
    assert "entries" in table.stdout and str(settings.cache_path) in table.stdout
    everything = runner.invoke(app, ["cache", "clear"])
    assert everything.exit_code == 0 and "removed 2 entries" in everything.stdout
    assert cache_info(settings).entries == 0


def test_cache_clear_removes_corrupt_copies():
    settings = Settings.from_env()
    settings.cache_dir.mkdir(parents=True)
    settings.cache_path.write_bytes(b"junk" * 1000)
    open_backend(settings).close()
    assert cache_info(settings).corrupt_files
    assert clear_cache(settings).corrupt_files_removed == 1
    assert cache_info(settings).corrupt_files == []


def test_unknown_backend_scheme_is_a_usage_error():
    with pytest.raises(InvalidInputError, match="unknown cache backend 'memcached://x'"):
        open_backend(Settings.from_env(cache_backend="memcached://x"))
    result = CliRunner().invoke(app, ["--cache-backend", "ftp://h/0", "search", "nginx"])
    assert result.exit_code == 2 and "redis://host:port/db" in result.stderr


def test_redis_url_password_is_never_shown():
    from dockerhub_cli.remote.cache_store import describe_backend

    s = Settings.from_env(cache_backend="redis://user:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in describe_backend(s)
    result = CliRunner().invoke(
        app, ["cache", "info"], env={"DOCKERHUB_CACHE_BACKEND": s.cache_backend}
    )
    assert result.exit_code == 6 and "hunter2" not in result.output
    assert "redis://user:***@127.0.0.1:1/0" in result.stderr


# -- two processes, one cache -------------------------------------------------------------------

_HAMMER = textwrap.dedent("""
    import sys
    from requests_cache.models import CachedResponse
    from dockerhub_cli.remote.cache_store import open_backend
    from dockerhub_cli.config.settings import Settings
    backend = open_backend(Settings.from_env())  # the production busy timeout (30 s)
    who = sys.argv[1]
    for i in range(150):
        r = CachedResponse(status_code=200, url=f"https://h/{who}/{i}")
        r._content = b"x" * 4000
        backend.responses[f"{who}-{i}"] = r
        assert backend.get_response(f"{who}-{i // 2}") is not None
    print(len(list(backend.responses.keys())))
""")


def _wait_all(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=60)
            results.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return results


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_parallel_writers_never_see_database_is_locked():
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _HAMMER, f"p{n}"],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for code, _out, err in _wait_all(procs):
        assert code == 0, err
        assert "locked" not in err
    assert cache_info(Settings.from_env()).entries == 600


def test_parallel_cli_runs_share_one_cache():
    with FaultServer(max_requests=100, max_seconds=30) as srv:
        srv.script(
            "/api/search/v4",
            Fault.json({"total": 1, "results": [{"name": "library/nginx"}]}),
        )
        env = {**_env(), "DOCKERHUB_HUB_URL": srv.url}
        cmd = [sys.executable, "-m", "dockerhub_cli", "search"]
        procs = [
            subprocess.Popen(
                cmd + [f"q{n % 4}", "--json"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(8)
        ]
        for code, out, err in _wait_all(procs):
            assert code == 0, err
            assert json.loads(out)["results"][0]["name"] == "nginx"
            assert "locked" not in err and "error" not in err
        assert srv.hits() <= 8
    assert 1 <= cache_info(Settings.from_env()).entries <= 4


def test_stale_entries_survive_clear_expired_only_when_asked():
    # `cache clear --expired` is what drops stale-if-error material; plain runs keep it.
    settings = Settings.from_env()
    _fill(settings, 2)
    with DockerHubService(settings) as svc:
        expire_everything(svc)
    assert cache_info(settings).expired == 2
    assert clear_cache(settings, expired_only=True).removed == 2


def test_uncacheable_request_is_not_written_even_when_a_ttl_pattern_matches():
    settings = Settings.from_env()
    with responses.RequestsMock() as rsps, DockerHubService(settings) as svc:
        _mock_search(rsps)
        url = f"{HUB}/api/search/v4?query=x"
        svc.transport.request("GET", url, cacheable=False)
        svc.transport.request("GET", url, cacheable=False)
        assert len(rsps.calls) == 2
    assert cache_info(settings).entries == 0


def test_threads_finding_the_cache_corrupt_together_rebuild_it_once(caplog):
    """Two worker threads that both fail on the same broken cache must not both rebuild it:
    the second would move the fresh cache the first had just started aside as "corrupt"."""
    import sqlite3
    import threading

    settings = Settings.from_env()
    with DockerHubService(settings) as svc:
        transport = svc.transport
        broken = svc.session.cache
        both_failed = threading.Barrier(2, timeout=10)
        real_send = transport._send

        def send(method, url, kwargs):
            if transport.session.cache is broken:
                both_failed.wait()
                raise sqlite3.DatabaseError("file is not a database")
            return "answered from the new cache"

        transport._send = send  # type: ignore[method-assign]
        answers: list[object] = []
        threads = [
            threading.Thread(
                target=lambda: answers.append(transport._send_recovering_cache("GET", HUB, {}))
            )
            for _ in range(2)
        ]
        with caplog.at_level("WARNING", logger="dockerhub_cli"):
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        transport._send = real_send  # type: ignore[method-assign]
    assert answers == ["answered from the new cache"] * 2
    assert len(list(settings.cache_dir.glob("http_cache.sqlite.corrupt-*"))) == 1
    assert caplog.text.count("was unreadable") == 1


def test_cache_info_location_is_whole_in_a_narrow_terminal(tmp_path, monkeypatch):
    """The path is what people copy: it folds onto more lines, never ends in '…'."""
    cache_dir = tmp_path / "a-rather-long-directory-name-for-the-cache" / "dockerhub-cli"
    monkeypatch.setenv("DOCKERHUB_CACHE_DIR", str(cache_dir))
    shown = CliRunner().invoke(app, ["cache", "info"], env={"COLUMNS": "50"})
    assert shown.exit_code == 0, shown.stderr
    assert "…" not in shown.stdout
    lines = shown.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("location"))
    folded = "".join(line[len("location") :].strip() for line in lines[start : start + 6])
    assert str(cache_dir / "http_cache.sqlite") in folded
