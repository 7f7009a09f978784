"""Issue 12, expectations 7 and 12: config.json writes are serialised and atomic, and a local
file problem has its own exit code (8), never 1 ("a bug") or 6 ("network")."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest
import responses

from dockerhub_cli.exitcodes import ExitCode
from dockerhub_cli.remote.keychain import CredentialStore
from tests.unit.clihelp import run

SECRET = "dckr_pat_parallel-secret"
WORKERS = 8
ROUNDS = 5


def _cli_login(config_dir: str, registry: str, barrier: object, rounds: int) -> None:
    """One `dockerhub login` process (credential validation stubbed: no network)."""
    os.environ["DOCKER_CONFIG"] = config_dir
    from dockerhub_cli.ops import account

    account.validate = lambda *args, **kwargs: None  # type: ignore[assignment]
    barrier.wait(60)  # type: ignore[attr-defined]
    for n in range(rounds):
        result = run("login", registry, "-u", f"user{n}", "--password-stdin", input=SECRET)
        if result.exit_code != 0:
            raise SystemExit(f"login {registry}: {result.stderr}")


def _cli_logout(config_dir: str, registry: str, barrier: object) -> None:
    os.environ["DOCKER_CONFIG"] = config_dir
    barrier.wait(60)  # type: ignore[attr-defined]
    result = run("logout", registry)
    if result.exit_code != 0:
        raise SystemExit(f"logout {registry}: {result.stderr}")


def test_parallel_logins_and_logouts_keep_every_entry(tmp_path: Path) -> None:
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    path = config_dir / "config.json"
    leaving = [f"old{i}.example.com" for i in range(WORKERS // 2)]
    path.write_text(
        json.dumps({"auths": {r: {"auth": "eDp5"} for r in leaving}, "psFormat": "keep me"})
    )
    staying = [f"reg{i}.example.com" for i in range(WORKERS)]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(staying) + len(leaving))
    processes = [
        ctx.Process(target=_cli_login, args=(str(config_dir), r, barrier, ROUNDS)) for r in staying
    ] + [ctx.Process(target=_cli_logout, args=(str(config_dir), r, barrier)) for r in leaving]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    config = json.loads(path.read_text())
    assert sorted(config["auths"]) == sorted(staying)  # every login kept, every logout done
    assert config["psFormat"] == "keep me"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in config_dir.iterdir()) == [".config.json.lock", "config.json"]


def _store_many(config_path: str, worker: int, barrier: object) -> None:
    store = CredentialStore(config_path=Path(config_path))
    barrier.wait(60)  # type: ignore[attr-defined]
    for n in range(20):
        store.store(f"w{worker}-{n}.example.com", "u", SECRET)


def test_parallel_stores_through_a_symlink_keep_every_entry(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "config.json"
    real.parent.mkdir()
    real.write_text("{}")
    link = tmp_path / "docker" / "config.json"
    link.parent.mkdir()
    link.symlink_to(real)
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    processes = [
        ctx.Process(target=_store_many, args=(str(link), w, barrier)) for w in range(WORKERS)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    assert link.is_symlink()
    assert len(json.loads(real.read_text())["auths"]) == WORKERS * 20
    assert [p.name for p in real.parent.iterdir()] == ["config.json"]


def test_a_planted_symlink_at_the_lock_path_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / ".config.json.lock").symlink_to(victim)
    store = CredentialStore(config_path=tmp_path / "docker" / "config.json")
    from dockerhub_cli.errors import LocalFileError

    with pytest.raises(LocalFileError):
        store.store("r.example.com", "u", SECRET)
    assert victim.read_text() == "precious"


# -- exit codes for local file problems -------------------------------------------------------


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "dockercfg"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory / "config.json"


@responses.activate
def test_read_only_config_json_is_exit_8_and_unchanged(docker_config: Path) -> None:
    docker_config.write_text('{"auths": {}}')
    docker_config.chmod(0o444)
    responses.get("http://localhost:5000/v2/", json={})
    result = run("login", "localhost:5000", "-u", "bob", "--password-stdin", input=SECRET)
    assert result.exit_code == ExitCode.LOCAL_FILE == 9
    assert "read-only" in result.stderr and "unexpected" not in result.stderr
    assert docker_config.read_text() == '{"auths": {}}'


def test_corrupt_config_json_on_logout_is_exit_8(docker_config: Path) -> None:
    docker_config.write_text("{not json")
    result = run("logout", "localhost:5000")
    assert result.exit_code == 9, result.stderr
    assert "not valid JSON" in result.stderr


def test_unusable_cache_dir_is_exit_8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DOCKERHUB_CACHE_DIR", str(blocker / "cache"))
    result = run("cache", "info")
    assert result.exit_code == 9, result.stderr
    assert "cache directory" in result.stderr


def test_unknown_creds_store_is_one_warning_then_anonymous(docker_config: Path) -> None:
    from dockerhub_cli.remote import keychain as credentials

    credentials._MISSING_HELPERS.clear()
    docker_config.write_text(json.dumps({"credsStore": "nothere"}))
    result = run("whoami", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["authenticated"] is False
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "docker-credential-nothere" in warnings[0], result.stderr


def test_missing_cred_helper_for_one_host_is_one_warning(docker_config: Path) -> None:
    from dockerhub_cli.remote import keychain as credentials

    credentials._MISSING_HELPERS.clear()
    docker_config.write_text(json.dumps({"credHelpers": {"ghcr.io": "gone", "quay.io": "gone"}}))
    store = CredentialStore(config_path=docker_config)
    assert store.lookup("ghcr.io") is None and store.lookup("quay.io") is None
    assert credentials._MISSING_HELPERS == {"gone"}
