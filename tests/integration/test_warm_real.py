"""`cache warm` end to end: warm from a Compose file and a Dockerfile against a real registry,
stop the registry, then `inspect`, `layers`, `compare` and `files` answer with --offline.

Also issue 18 item 2 on the stopped registry's closed port: a refused connection is tried
twice, never more (attempts counted at `urllib3.util.connection.create_connection`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.custom_images import ImagePusher
from tests.support.registry import Registry, child_env
from tests.support.standard_images import base_spec, based_spec


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockerhub_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def warmed(
    registry_factory: Callable[..., Registry],
    make_image_pusher: Callable[[Registry], ImagePusher],
    isolated_env: Path,
) -> dict[str, Any]:
    """A registry of its own with a two-platform index, a base image and an image built on
    it (base annotations), named by a Compose file and a Dockerfile."""
    reg = registry_factory()
    pusher = make_image_pusher(reg)
    multi = pusher.repo("multi") + ":1"
    pusher.push_index(multi, [base_spec("amd64"), base_spec("arm64")])
    base = pusher.repo("base") + ":3.19"
    base_info = pusher.push_image(base, base_spec("amd64"))
    app = pusher.repo("app") + ":1"
    pusher.push_image(app, based_spec(pusher.ref(base), base_info.digest))
    work = isolated_env / "work"
    work.mkdir()
    (work / "compose.yaml").write_text(
        f"services:\n  web:\n    image: {pusher.ref(multi)}\n  app:\n    image: {pusher.ref(app)}\n"
    )
    (work / "Dockerfile").write_text(
        f"FROM {pusher.ref(app)} AS build\nFROM build\nFROM scratch\nFROM {pusher.ref(multi)}\n"
    )
    env = child_env({"DOCKERHUB_CACHE_DIR": str(isolated_env / "cache")})
    return {
        "registry": reg,
        "multi": pusher.ref(multi),
        "app": pusher.ref(app),
        "base": pusher.ref(base),
        "work": work,
        "env": env,
    }


def test_warm_then_offline_with_the_registry_stopped(warmed: dict[str, Any]) -> None:
    reg, env, work = warmed["registry"], warmed["env"], warmed["work"]
    multi, app = warmed["multi"], warmed["app"]
    compose, dockerfile = str(work / "compose.yaml"), str(work / "Dockerfile")

    # A download bound too small for one layer: the layers fail (exit 6), the rest is cached.
    small = {**env, "DOCKERHUB_CACHE_DIR": str(work / "other-cache")}
    bounded = _cli(["cache", "warm", app, "--layers", "--max-download", "1", "--json"], small)
    assert bounded.returncode == 6, bounded.stderr
    failed = json.loads(bounded.stdout)["failures"]
    assert {f["what"] for f in failed} == {"layer 0 (linux/amd64)", "layer 1 (linux/amd64)"}
    assert all("download limit" in f["reason"] for f in failed)

    mark = reg.log_mark()
    report = _json(_cli(["cache", "warm", compose, dockerfile, "--layers", "--json"], env))
    served = reg.requests_since(mark)
    assert report["failures"] == []
    images = {i["reference"]: i for i in report["images"]}
    assert set(images) == {multi, app}
    assert images[multi]["sources"] == [f"{compose}:3", f"{dockerfile}:4"]
    assert images[app]["sources"] == [f"{compose}:5", f"{dockerfile}:1"]
    assert sorted(images[multi]["platforms"]) == ["linux/amd64", "linux/arm64/v8"]
    assert images[app]["platforms"] == ["linux/amd64"]
    assert report["platforms"] == 3 and report["layers"] is True
    assert images[multi]["configs"] == 2 and images[app]["configs"] == 1
    assert images[app]["layers"] == 2 and images[multi]["layers"] == 2
    # What the registry served is what the report counts (no request left uncounted).
    assert report["requests"] == len(served)
    assert report["bytes"] > 0 and report["already_cached"] >= 0
    assert report["fetched"] > 0

    # Again: everything is cached and fresh, so nothing is asked of the registry.
    mark = reg.log_mark()
    again = _json(_cli(["cache", "warm", compose, dockerfile, "--layers", "--json"], env))
    assert reg.requests_since(mark) == []
    assert again["requests"] == 0 and again["bytes"] == 0
    assert again["already_cached"] >= report["fetched"]

    reg.stop()
    offline = ["--offline"]
    inspected = _json(_cli([*offline, "inspect", multi, "--json"], env))
    assert {p["platform"] for p in inspected["platforms"]} == {"linux/amd64", "linux/arm64/v8"}
    assert all(p["size"] for p in inspected["platforms"])  # every platform's manifest cached
    arm = _json(_cli([*offline, "inspect", multi, "--platform", "linux/arm64", "--json"], env))
    assert arm["platform"]["architecture"] == "arm64"
    layers = _json(_cli([*offline, "layers", app, "--json"], env))
    assert layers["insights"]["base_layers"] == 1  # the base image's manifest was warmed too
    compared = _cli([*offline, "compare", multi, app], env)
    assert compared.returncode == 0, compared.stderr
    files = _json(_cli([*offline, "files", app, "/srv", "--json"], env))
    assert {f["path"] for f in files["files"]} >= {"srv/app.py", "srv/data.bin"}
    assert "warning" not in compared.stderr, compared.stderr  # nothing stale, nothing missing


def test_a_stopped_registry_is_refused_twice_and_reported_per_image(
    warmed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib3.util import connection

    from dockerhub_cli.cli import app as cli_app

    reg = warmed["registry"]
    reg.stop()
    attempts: list[tuple[str, int]] = []
    real = connection.create_connection

    def counting(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        attempts.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(connection, "create_connection", counting)
    for name, value in warmed["env"].items():
        if name.startswith("DOCKERHUB_"):
            monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli_app, ["inspect", warmed["multi"]])
    assert result.exit_code == 6
    assert result.stderr.strip().splitlines() == [
        f"error: cannot connect to {reg.host}: connection refused (nothing listens on "
        f"{reg.host}: start the registry, or check the host and port)"
    ]
    assert attempts == [("127.0.0.1", reg.port)] * 2  # tried once more, never again

    attempts.clear()
    result = CliRunner().invoke(cli_app, ["cache", "warm", warmed["multi"], warmed["app"]])
    assert result.exit_code == 6  # the first failure's exit code (network)
    assert "2 images, 0 platforms" in result.stdout
    assert result.stdout.count("connection refused") == 2
    assert len(attempts) == 4  # two images, two attempts each


def test_warm_needs_the_network_and_checks_its_arguments(isolated_env: Path) -> None:
    env = child_env({"DOCKERHUB_CACHE_DIR": str(isolated_env / "cache")})
    done = _cli(["--offline", "cache", "warm", "nginx"], env)
    assert done.returncode == 2 and "cannot run with --offline" in done.stderr
    done = _cli(["cache", "warm", str(isolated_env / "missing" / "compose.yaml")], env)
    assert done.returncode == 2 and "no such file" in done.stderr
