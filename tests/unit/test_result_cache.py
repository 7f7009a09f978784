"""The result cache (`dockerhub_cli.result_cache`): key, bypass rules, saving and replaying.

End-to-end runs of the console entry against a real registry (second run replayed without
Typer or requests, stale answers never saved, `cache clear`) are in
tests/integration/test_result_cache_real.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dockerhub_cli import result_cache
from dockerhub_cli.render import relative_time


@pytest.fixture
def env(isolated_env: Path) -> dict[str, str]:
    return dict(os.environ)


def _key(argv: list[str], env: dict[str, str]) -> str:
    plan = result_cache.plan(argv, env)
    assert plan is not None, argv
    return plan.key


def test_eligible_commands_get_a_plan_under_the_cache_dir(env, isolated_env) -> None:
    for command in result_cache.ELIGIBLE:
        plan = result_cache.plan([command, "nginx"], env)
        assert plan is not None and plan.command == command
        assert Path(plan.path).parent == isolated_env / "cache" / "results"
    assert result_cache.plan(["--offline", "--insecure", "inspect", "nginx"], env) is not None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["vulns", "nginx"],
        ["updates", "nginx"],
        ["ratelimit"],
        ["whoami"],
        ["login"],
        ["config", "path"],
        ["cache", "info"],
        ["serve-mcp"],
        ["inspect", "nginx", "--debug"],
        ["--debug", "inspect", "nginx"],
        ["inspect", "--help"],
        ["inspect", "-h"],
        ["--version"],
        ["--cache-backend", "sqlite", "inspect", "nginx"],
        ["inspect", "nginx", "--cache-backend=redis://h:1/0"],
        ["--unknown", "inspect", "nginx"],
    ],
)
def test_bypassed_arguments(argv, env) -> None:
    assert result_cache.plan(argv, env) is None


@pytest.mark.parametrize(
    "extra",
    [
        {"DOCKERHUB_CACHE_BACKEND": "redis://localhost:6379/0"},
        {"_DOCKERHUB_COMPLETE": "complete_bash"},
        {"DOCKERHUB_CONFIG": "/nonexistent/config.toml"},
    ],
)
def test_bypassed_environments(extra, env) -> None:
    assert result_cache.plan(["inspect", "nginx"], {**env, **extra}) is None
    assert result_cache.plan(["inspect", "nginx"], {**env, "DOCKERHUB_CACHE_BACKEND": "sqlite"})


def test_broken_config_file_goes_to_the_normal_path(env, isolated_env) -> None:
    config = isolated_env / "config.toml"
    config.write_text("platform = [")
    assert result_cache.plan(["inspect", "nginx"], {**env, "DOCKERHUB_CONFIG": str(config)}) is None


def test_key_changes_with_arguments_and_environment(env) -> None:
    base = _key(["inspect", "nginx"], env)
    assert _key(["inspect", "nginx"], env) == base
    assert _key(["inspect", "nginx", "--json"], env) != base
    assert _key(["inspect", "nginx:1"], env) != base
    for name, value in [
        ("DOCKERHUB_PLATFORM", "linux/arm64"),
        ("DOCKERHUB_TOKEN", "secret"),
        ("DOCKERHUB_REGISTRY_URL", "http://127.0.0.1:5000"),
        ("NO_COLOR", "1"),
        ("FORCE_COLOR", "1"),
        ("COLUMNS", "80"),
        ("TERM", "dumb"),
        ("HOME", "/elsewhere"),
        ("DOCKER_CONFIG", "/elsewhere"),
    ]:
        assert _key(["inspect", "nginx"], {**env, name: value}) != base, name
    # Unrelated variables, --offline and the debug switch do not split the cache.
    assert _key(["inspect", "nginx"], {**env, "OLDPWD": "/x", "SHLVL": "9"}) == base
    assert _key(["--offline", "inspect", "nginx"], env) == base
    assert _key(["inspect", "nginx"], {**env, "DOCKERHUB_OFFLINE": "1"}) == base
    assert _key(["inspect", "nginx"], {**env, result_cache.DEBUG_ENV: "1"}) == base


def test_key_changes_with_tty_and_width(env, monkeypatch) -> None:
    base = _key(["inspect", "nginx"], env)
    monkeypatch.setattr(result_cache, "_terminal", lambda: [[True, True], 120])
    tty = _key(["inspect", "nginx"], env)
    monkeypatch.setattr(result_cache, "_terminal", lambda: [[True, True], 100])
    assert len({base, tty, _key(["inspect", "nginx"], env)}) == 3


def test_key_changes_with_config_file_docker_login_and_credentials(env, isolated_env) -> None:
    base = _key(["inspect", "nginx"], env)
    docker = isolated_env / "home" / ".docker" / "config.json"
    docker.parent.mkdir(parents=True)
    docker.write_text("{}")
    logged_out = _key(["inspect", "nginx"], env)
    assert logged_out != base
    docker.write_text('{"auths": {"https://index.docker.io/v1/": {"auth": "eDp5"}}}')
    assert _key(["inspect", "nginx"], env) != logged_out

    config = isolated_env / "home" / ".config" / "dockerhub-cli" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[[registries]]\nname = "g"\nurl = "ghcr.io"\npassword_env = "GHCR_TOKEN"\n')
    with_config = _key(["inspect", "nginx"], env)
    assert with_config != _key(["inspect", "nginx"], {**env, "GHCR_TOKEN": "t"})
    config.write_text(config.read_text() + "\n[output]\njson = true\n")
    assert _key(["inspect", "nginx"], env) != with_config


def test_cache_dir_from_the_config_file(env, isolated_env) -> None:
    config = isolated_env / "config.toml"
    config.write_text(f'[cache]\ndir = "{isolated_env / "elsewhere"}"\n')
    env = {**env, "DOCKERHUB_CONFIG": str(config)}
    env.pop("DOCKERHUB_CACHE_DIR")
    plan = result_cache.plan(["inspect", "nginx"], env)
    assert plan is not None and Path(plan.results_dir) == isolated_env / "elsewhere" / "results"
    from dockerhub_cli.config.settings import Settings

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DOCKERHUB_CACHE_DIR")
        mp.setenv("DOCKERHUB_CONFIG", str(config))
        assert Path(result_cache.results_dir(Settings.from_env().cache_dir)) == Path(
            plan.results_dir
        )


def test_store_serve_expire_and_corrupt(env, capsys) -> None:
    plan = result_cache.plan(["tags", "nginx"], env)
    assert plan is not None
    assert not plan.serve()
    assert plan.store("a\nb\n", time.time() + 60)
    assert Path(plan.path).stat().st_mode & 0o777 == 0o600
    assert [p.name for p in Path(plan.results_dir).iterdir()] == [Path(plan.path).name]
    capsys.readouterr()
    assert plan.serve()
    assert capsys.readouterr().out == "a\nb\n"
    assert result_cache.count(Path(plan.results_dir).parent) == 1

    assert not plan.store("x", time.time() + 0.5)  # not worth saving
    assert plan.store("old\n", time.time() - 1) is False
    data = json.loads(Path(plan.path).read_text())
    data["expires_at"] = time.time() - 1
    Path(plan.path).write_text(json.dumps(data))
    assert not plan.serve() and not Path(plan.path).exists()  # expired: removed

    for junk in ("{", "[]", '{"format": 1}', '{"format": 1, "expires_at": "x", "stdout": ""}'):
        Path(plan.path).write_text(junk)
        assert not plan.serve()
        assert not Path(plan.path).exists()
    assert capsys.readouterr().out == ""


def test_clear_all_or_only_expired(env, isolated_env) -> None:
    cache_dir = isolated_env / "cache"
    fresh = result_cache.plan(["tags", "a"], env)
    old = result_cache.plan(["tags", "b"], env)
    assert fresh is not None and old is not None
    fresh.store("a\n", time.time() + 60)
    old.store("b\n", time.time() + 60)
    data = json.loads(Path(old.path).read_text())
    data["expires_at"] = 0
    Path(old.path).write_text(json.dumps(data))
    assert result_cache.clear(cache_dir, expired_only=True) == 1
    assert result_cache.count(cache_dir) == 1
    assert result_cache.clear(cache_dir) == 1
    assert not (cache_dir / "results").exists()
    assert result_cache.clear(cache_dir) == 0


def test_expiry_is_the_earliest_limit() -> None:
    capture = result_cache.Capture()
    ttls = {"tags": 1800, "repository": 600}
    now = 1000.0
    assert result_cache.expiry(
        "tags", capture, reusable=True, reuse_until=None, ttls=ttls, now=now
    ) == (now + 600)
    assert (
        result_cache.expiry("tags", capture, reusable=True, reuse_until=1200.0, ttls=ttls, now=now)
        == 1200.0
    )
    capture.valid_until = 1100.0
    assert (
        result_cache.expiry("tags", capture, reusable=True, reuse_until=1200.0, ttls=ttls, now=now)
        == 1100.0
    )
    assert (
        result_cache.expiry("tags", capture, reusable=False, reuse_until=None, ttls=ttls, now=now)
        is None
    )
    capture.talked = True  # a warning: saved (and replayed with the output)
    assert (
        result_cache.expiry("tags", capture, reusable=True, reuse_until=None, ttls=ttls, now=now)
        == 1100.0
    )
    for flag in ("errored", "unrecorded"):
        other = result_cache.Capture()
        setattr(other, flag, True)
        assert (
            result_cache.expiry("tags", other, reusable=True, reuse_until=None, ttls=ttls, now=now)
            is None
        )


def test_capture_records_stdout_and_talk_but_not_the_spinner() -> None:
    capture = result_cache.Capture()
    capture.start()
    try:
        sys.stdout.write("data\n")
        with result_cache.stderr_muted():
            sys.stderr.write("\r⠋ spinning")
        assert not capture.talked
        result_cache.note_valid_until(5.0)
        result_cache.note_valid_until(9.0)
        sys.stderr.write("warning: something\n")
    finally:
        capture.stop()
    assert capture.text == "data\n" and capture.talked and capture.valid_until == 5.0
    assert result_cache._capture is None
    result_cache.note_talk()  # no capture: nothing happens


def test_relative_time_reports_when_its_text_changes() -> None:
    capture = result_cache.Capture()
    capture.start()
    try:
        before = time.time()
        assert relative_time(datetime.now(UTC) - timedelta(hours=3, minutes=10)) == "3 hours ago"
    finally:
        capture.stop()
    assert capture.valid_until is not None
    # "3 hours ago" turns into "4 hours ago" in about 50 minutes.
    assert 49 * 60 <= capture.valid_until - before <= 51 * 60


def test_warnings_mark_the_run_as_talkative() -> None:
    from dockerhub_cli.render import warn

    capture = result_cache.Capture()
    capture.start()
    try:
        with result_cache.stderr_muted():
            warn("data may be out of date")
    finally:
        capture.stop()
    assert capture.talked


def test_fast_path_module_imports_only_the_standard_library(env, isolated_env) -> None:
    """A hit from the console entry never imports Typer, Rich, requests or pydantic."""
    plan = result_cache.plan(["tags", "nginx", "--json"], env)
    assert plan is not None
    plan.store('{"tags": []}\n', time.time() + 60)
    probe = (
        "import sys\n"
        "from dockerhub_cli.__main__ import main\n"
        "sys.argv = ['dockerhub', 'tags', 'nginx', '--json']\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    heavy = ('typer', 'rich', 'requests', 'requests_cache', 'pydantic', 'click')\n"
        "    sys.stderr.write(repr(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, result_cache.DEBUG_ENV: "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{"tags": []}\n'
    assert done.stderr == "fast path: hit\n[]"


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["inspect", "nginx", "--no-cache"], {}),
        (["--no-cache", "inspect", "nginx"], {}),
        (["inspect", "nginx"], {"DOCKERHUB_NO_CACHE": "1"}),
    ],
)
def test_no_cache_is_a_refresh_of_the_plain_runs_result(argv, extra, env, capsys) -> None:
    """--no-cache is never served from a saved result, but what it saves is what the same
    command without --no-cache finds next time."""
    plain = result_cache.plan(["inspect", "nginx"], env)
    refresh = result_cache.plan(argv, {**env, **extra})
    assert plain is not None and refresh is not None
    assert refresh.refresh and not plain.refresh and refresh.key == plain.key
    assert plain.store("old\n", time.time() + 60)
    capsys.readouterr()
    assert not refresh.serve()  # never the old answer
    assert capsys.readouterr().out == ""
    assert refresh.store("new\n", time.time() + 60)
    assert plain.serve() and capsys.readouterr().out == "new\n"


def test_a_saved_result_replays_stderr_and_the_exit_code(env, capsys) -> None:
    plan = result_cache.plan(["inspect", "elsewhere/app"], env)
    assert plan is not None
    assert plan.store("data\n", time.time() + 60, "warning: not on Docker Hub\n", 3)
    capsys.readouterr()
    fresh = result_cache.plan(["inspect", "elsewhere/app"], env)
    assert fresh is not None and fresh.serve()
    assert fresh.exit_code == 3
    out = capsys.readouterr()
    assert out.out == "data\n" and out.err == "warning: not on Docker Hub\n"
    for bad in ('"x"', "true", "256", "-1"):
        data = json.loads(Path(plan.path).read_text())
        Path(plan.path).write_text(json.dumps({**data, "exit_code": json.loads(bad)}))
        assert not fresh.serve() and not Path(plan.path).exists()
        plan.store("data\n", time.time() + 60)


def test_capture_keeps_warnings_marks_errors_and_muted_talk() -> None:
    capture = result_cache.Capture()
    capture.start()
    try:
        sys.stderr.write("warning: a\n")
        result_cache.note_talk()
        with result_cache.stderr_muted():
            result_cache.debug("hit")  # never recorded
    finally:
        capture.stop()
    assert capture.err_text == "warning: a\n" and not capture.errored
    assert not capture.unrecorded
    capture.start()
    try:
        with result_cache.stderr_muted():
            result_cache.note_talk()  # said under the spinner: cannot be replayed
        result_cache.note_talk(error=True)
    finally:
        capture.stop()
    assert capture.unrecorded and capture.errored


def test_saved_results_of_other_code_are_not_replayed(tmp_path) -> None:
    """The key holds a fingerprint of the program's files: a `git pull` and reinstall that kept
    the version number must not replay output made by the old code."""
    package = tmp_path / "dockerhub_cli"
    (package / "render").mkdir(parents=True)
    module = package / "render" / "images.py"
    module.write_text("A = 1\n")
    (package / "__pycache__").mkdir()
    before = result_cache._source_fingerprint(str(package))
    (package / "__pycache__" / "x.pyc").write_bytes(b"compiled")  # bytecode: no change
    assert result_cache._source_fingerprint(str(package)) == before
    os.utime(module, ns=(1, 1_000_000_000))
    touched = result_cache._source_fingerprint(str(package))
    assert touched != before
    module.write_text("A = 22\n")
    os.utime(module, ns=(1, 1_000_000_000))  # same time, other size
    assert result_cache._source_fingerprint(str(package)) != touched
    from dockerhub_cli import __version__

    assert result_cache._get_version().startswith(f"{__version__}+")
