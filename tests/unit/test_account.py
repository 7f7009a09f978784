"""login / logout / whoami / ratelimit: docker-compatible credential storage, validated first."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path

import pytest
import responses

from tests.unit.clihelp import run, run_json

SECRET = "dckr_pat_s3cret-value"
HUB = "https://hub.docker.com"
REGISTRY = "https://registry-1.docker.io"
PROBE = f"{REGISTRY}/v2/ratelimitpreview/test/manifests/latest"
HUB_CHALLENGE = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'

FAKE_HELPER = f"""#!{sys.executable}
import json, os, sys
path = os.environ["FAKE_CRED_STORE"]
data = json.load(open(path)) if os.path.exists(path) else {{}}
action = sys.argv[1]
if action == "store":
    entry = json.load(sys.stdin)
    data[entry["ServerURL"]] = {{"Username": entry["Username"], "Secret": entry["Secret"]}}
elif action == "get":
    server = sys.stdin.read().strip()
    if server not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    print(json.dumps({{"ServerURL": server, **data[server]}}))
elif action == "erase":
    server = sys.stdin.read().strip()
    if data.pop(server, None) is None:
        sys.exit(1)
json.dump(data, open(path, "w"))
"""


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "dockercfg"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory / "config.json"


@pytest.fixture
def fake_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-fake"
    helper.write_text(FAKE_HELPER)
    helper.chmod(0o755)
    store = tmp_path / "fake-store.json"
    monkeypatch.setenv("FAKE_CRED_STORE", str(store))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return store


def _hub_login_ok(rsps: responses.RequestsMock) -> responses.BaseResponse:
    return rsps.post(
        f"{HUB}/v2/auth/token",
        json={"access_token": "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.sig"},
        match=[responses.matchers.json_params_matcher({"identifier": "alice", "secret": SECRET})],
    )


# -- with a credential helper ---------------------------------------------------------------


@responses.activate
def test_login_whoami_logout_with_credential_helper(docker_config: Path, fake_helper: Path) -> None:
    docker_config.write_text(json.dumps({"credsStore": "fake", "experimental": "enabled"}))
    login_call = _hub_login_ok(responses.mock)
    result = run("login", "-u", "alice", "--password-stdin", input=SECRET + "\n")
    assert result.exit_code == 0, result.stderr
    assert login_call.call_count == 1  # validated before storing
    assert SECRET not in result.stdout + result.stderr
    assert "docker-credential-fake" in result.stdout
    stored = json.loads(fake_helper.read_text())
    assert stored == {"https://index.docker.io/v1/": {"Username": "alice", "Secret": SECRET}}
    config = json.loads(docker_config.read_text())
    assert config["auths"] == {"https://index.docker.io/v1/": {}}  # like docker: no secret here
    assert config["experimental"] == "enabled"  # other keys kept

    who = run_json("whoami")
    assert (
        who["username"] == "alice" and who["source"] == "credential helper docker-credential-fake"
    )

    out = run_json("logout")
    assert out["removed_from"] == ["credential helper docker-credential-fake"]
    assert json.loads(fake_helper.read_text()) == {}
    assert json.loads(docker_config.read_text())["auths"] == {}
    assert run_json("whoami")["authenticated"] is False
    assert "Not logged in" in run("logout").stdout


@responses.activate
def test_cred_helpers_entry_wins_for_its_registry(docker_config: Path, fake_helper: Path) -> None:
    docker_config.write_text(json.dumps({"credHelpers": {"ghcr.io": "fake"}}))
    responses.get(
        "https://ghcr.io/v2/",
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="https://ghcr.io/token",service="ghcr.io"'},
    )
    token = responses.get("https://ghcr.io/token", json={"token": "t"})
    result = run("login", "ghcr.io", "-u", "octo", "--password-stdin", input=SECRET)
    assert result.exit_code == 0, result.stderr
    assert token.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert json.loads(fake_helper.read_text())["ghcr.io"]["Username"] == "octo"
    assert run_json("whoami", "ghcr.io")["source"] == "credential helper docker-credential-fake"


def test_helper_configured_but_missing_is_a_clear_error(docker_config: Path) -> None:
    docker_config.write_text(json.dumps({"credsStore": "nothere"}))
    with responses.RequestsMock() as rsps:
        _hub_login_ok(rsps)
        result = run("login", "-u", "alice", "--password-stdin", input=SECRET)
    assert result.exit_code == 9  # a local problem: neither a bug (1) nor the network (6)
    assert "docker-credential-nothere" in result.stderr and SECRET not in result.stderr


@pytest.mark.parametrize("reply", ["null", '"just a string"', "[1, 2]", "{}"])
def test_helper_reply_that_is_not_an_object_means_no_credentials(
    docker_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reply: str
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-odd"
    helper.write_text(f"#!{sys.executable}\nprint({reply!r})\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    docker_config.write_text(json.dumps({"credsStore": "odd"}))
    result = run("whoami", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["authenticated"] is False


# -- without a helper: config.json auths ----------------------------------------------------


@responses.activate
def test_login_without_helper_writes_base64_auth(docker_config: Path) -> None:
    responses.get(
        "http://localhost:5000/v2/",
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:5001/token",service="reg"'},
    )
    token = responses.get("http://127.0.0.1:5001/token", json={"token": "t", "expires_in": 300})
    result = run("login", "localhost:5000", "-u", "bob", "--password-stdin", input=SECRET)
    assert result.exit_code == 0, result.stderr
    assert "service=reg" in token.calls[0].request.url
    expected = "Basic " + base64.b64encode(f"bob:{SECRET}".encode()).decode()
    assert token.calls[0].request.headers["Authorization"] == expected
    config = json.loads(docker_config.read_text())
    assert base64.b64decode(config["auths"]["localhost:5000"]["auth"]).decode() == f"bob:{SECRET}"
    assert stat.S_IMODE(docker_config.stat().st_mode) == 0o600
    assert "unencrypted" in result.stdout and SECRET not in result.stdout

    who = run_json("whoami", "localhost:5000")
    assert who == {**who, "username": "bob", "authenticated": True, "source": str(docker_config)}
    assert run_json("logout", "localhost:5000")["removed_from"] == [str(docker_config)]
    assert json.loads(docker_config.read_text())["auths"] == {}


@responses.activate
def test_login_keeps_a_symlinked_config_json_a_symlink(docker_config: Path, tmp_path: Path) -> None:
    """Dotfile managers link ~/.docker/config.json; like docker, write through the link."""
    real = tmp_path / "dotfiles" / "docker-config.json"
    real.parent.mkdir()
    real.write_text(json.dumps({"credHelpers": {"gcr.io": "gcloud"}}))
    docker_config.symlink_to(real)
    responses.get("http://localhost:5000/v2/", json={})
    result = run("login", "localhost:5000", "-u", "bob", "--password-stdin", input=SECRET)
    assert result.exit_code == 0, result.stderr
    assert docker_config.is_symlink()
    config = json.loads(real.read_text())
    assert config["credHelpers"] == {"gcr.io": "gcloud"} and "localhost:5000" in config["auths"]
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert [p.name for p in real.parent.iterdir()] == [real.name]  # no temporary file left


@responses.activate
def test_config_json_that_cannot_be_written_is_a_clear_error(
    docker_config: Path, tmp_path: Path
) -> None:
    docker_config.symlink_to(tmp_path / "no-such-dir" / "config.json")  # a dangling link
    responses.get("http://localhost:5000/v2/", json={})
    result = run("login", "localhost:5000", "-u", "bob", "--password-stdin", input=SECRET)
    assert result.exit_code == 9
    assert "cannot write" in result.stderr and "unexpected" not in result.stderr
    assert SECRET not in result.stderr


@responses.activate
def test_login_basic_auth_registry(docker_config: Path) -> None:
    responses.get(
        "http://127.0.0.1:5002/v2/",
        status=401,
        headers={"WWW-Authenticate": 'Basic realm="Registry Realm"'},
    )
    responses.get("http://127.0.0.1:5002/v2/", json={})
    result = run("login", "127.0.0.1:5002", "-u", "bob", "--password-stdin", input=SECRET)
    assert result.exit_code == 0, result.stderr
    assert responses.calls[1].request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_bad_secret_is_refused_and_not_stored(docker_config: Path) -> None:
    responses.post(
        f"{HUB}/v2/auth/token", status=401, json={"message": "unauthorized", "errinfo": {}}
    )
    result = run("login", "-u", "alice", "--password-stdin", input=SECRET)
    assert result.exit_code == 4
    assert "refused" in result.stderr and SECRET not in result.stdout + result.stderr
    assert not docker_config.exists()


@responses.activate
def test_bad_secret_at_token_server(docker_config: Path) -> None:
    responses.get(
        "http://localhost:5000/v2/",
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="http://localhost:5001/t",service="r"'},
    )
    responses.get(
        "http://localhost:5001/t", status=401, json={"details": "incorrect username or password"}
    )
    result = run("login", "localhost:5000", "-u", "bob", "--password-stdin", input=SECRET)
    assert result.exit_code == 4, result.stderr
    assert "incorrect username or password" in result.stderr and SECRET not in result.stderr
    assert not docker_config.exists()


def test_login_needs_a_username_and_secret_without_a_terminal(docker_config: Path) -> None:
    assert run("login", "--password-stdin", input=SECRET).exit_code == 2
    assert "--password-stdin" in run("login", "-u", "alice").stderr
    assert run("login", "-u", "alice", "--password-stdin", input="\n").exit_code == 2
    assert run("login", "not a host", "-u", "a", "--password-stdin", input="x").exit_code == 2


def test_whoami_precedence_env_over_config_json(
    docker_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = base64.b64encode(b"fromfile:pw").decode()
    docker_config.write_text(json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": auth}}}))
    assert run_json("whoami")["username"] == "fromfile"
    monkeypatch.setenv("DOCKERHUB_USERNAME", "fromenv")
    monkeypatch.setenv("DOCKERHUB_TOKEN", SECRET)
    who = run_json("whoami")
    assert who["username"] == "fromenv" and "DOCKERHUB_USERNAME" in who["source"]
    text = run("whoami")
    assert "fromenv" in text.stdout and SECRET not in text.stdout
    assert run("whoami", "-q").stdout == "fromenv\n"
    assert run("whoami", "--format", "{username} via {source}").stdout.startswith("fromenv via env")


@responses.activate
def test_whoami_verify(docker_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", SECRET)
    _hub_login_ok(responses.mock)
    assert run_json("whoami", "--verify")["verified"] is True
    monkeypatch.delenv("DOCKERHUB_TOKEN")
    # No credentials: nothing to verify; whether anonymous access works is what is true.
    responses.get(
        "https://registry-1.docker.io/v2/",
        status=401,
        headers={
            "WWW-Authenticate": 'Bearer realm="https://auth.docker.io/token",'
            'service="registry.docker.io"'
        },
    )
    token = responses.get("https://auth.docker.io/token", json={"token": "anonymous"})
    who = run_json("whoami", "--verify")
    assert who["verified"] is False and who["anonymous_access"] is True
    assert token.call_count == 1 and "Authorization" not in token.calls[0].request.headers
    text = run("whoami", "--verify").stdout
    assert "no credentials to verify; anonymous access works" in text
    assert "verified  no\n" not in text


@pytest.mark.parametrize(
    ("status", "challenge", "works"),
    [
        (200, None, True),
        (401, 'Basic realm="private"', False),
        (401, 'Bearer realm="https://reg.example/token",service="reg.example"', False),
    ],
)
@responses.activate
def test_whoami_verify_anonymous_registry(
    docker_config: Path, status: int, challenge: str | None, works: bool
) -> None:
    headers = {"WWW-Authenticate": challenge} if challenge else {}
    responses.get("https://reg.example/v2/", status=status, headers=headers)
    responses.get("https://reg.example/token", status=401, json={"errors": []})
    who = run_json("whoami", "reg.example", "--verify")
    assert who["verified"] is False and who["anonymous_access"] is works
    text = run("whoami", "reg.example", "--verify").stdout
    expected = "anonymous access works" if works else "the registry refuses anonymous access"
    assert "no credentials to verify; " + expected in text


# -- ratelimit --------------------------------------------------------------------------------


def _probe(
    rsps: responses.RequestsMock,
    headers: dict[str, str],
    status: int = 200,
    *,
    challenge_known: bool = False,
) -> None:
    """The probe's requests; a process that remembers the host's challenge (from an earlier
    run with the same cache dir) fetches its token first instead of collecting a 401."""
    if not challenge_known:
        rsps.head(PROBE, status=401, headers={"WWW-Authenticate": HUB_CHALLENGE})
    rsps.get("https://auth.docker.io/token", json={"token": "anon", "expires_in": 300})
    rsps.head(PROBE, status=status, headers=headers)


def test_ratelimit_reads_headers_of_a_head_request() -> None:
    with responses.RequestsMock() as rsps:
        _probe(
            rsps,
            {
                "ratelimit-limit": "100;w=21600",
                "ratelimit-remaining": "20;w=21600",
                "docker-ratelimit-source": "192.0.2.1",
            },
        )
        data = run_json("ratelimit")
        methods = [c.request.method for c in rsps.calls]
    assert methods == ["HEAD", "GET", "HEAD"]  # never a manifest GET, which would count as a pull
    assert data == {
        "registry": "docker.io",
        "image": "ratelimitpreview/test:latest",
        "identity": "anonymous",
        "unlimited": False,
        "limit": 100,
        "remaining": 20,
        "used": 80,
        "window_seconds": 21600,
        "source": "192.0.2.1",
    }


def test_ratelimit_table_and_x_prefixed_headers() -> None:
    with responses.RequestsMock() as rsps:
        _probe(
            rsps,
            {
                "X-RateLimit-Limit": "100;w=3600",
                "x-ratelimit-remaining": "99;w=3600",
                "Docker-RateLimit-Source": "2600:3c00::",
            },
        )
        result = run("ratelimit")
    assert result.exit_code == 0, result.stderr
    assert "1/100 pulls per 1h" in result.stdout and "2600:3c00::" in result.stdout


def test_ratelimit_is_never_cached() -> None:
    headers = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "50;w=21600"}
    with responses.RequestsMock() as rsps:
        _probe(rsps, headers)
        rsps.head(PROBE, headers={**headers, "ratelimit-remaining": "49;w=21600"})
        assert run_json("ratelimit")["remaining"] == 50
        # A second run gets the next live answer, not the cached one.
        second = run("ratelimit", "--json")
    assert second.exit_code == 0, second.stderr
    assert json.loads(second.stdout)["remaining"] == 49


def test_ratelimit_without_headers_is_unlimited() -> None:
    with responses.RequestsMock() as rsps:
        _probe(rsps, {})
        data = run_json("ratelimit")
        assert data["unlimited"] is True and data["limit"] is None
        _probe(rsps, {}, challenge_known=True)
        assert "unlimited" in run("ratelimit").stdout


def test_ratelimit_exhausted_429_is_an_answer() -> None:
    with responses.RequestsMock() as rsps:
        _probe(rsps, {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600"}, 429)
        data = run_json("ratelimit")
    assert (data["remaining"], data["used"]) == (0, 100)


def test_ratelimit_quiet_and_format() -> None:
    headers = {"ratelimit-limit": "200;w=21600", "ratelimit-remaining": "150;w=21600"}
    with responses.RequestsMock() as rsps:
        _probe(rsps, headers)
        assert run("ratelimit", "-q").stdout == "150\n"
        _probe(rsps, headers, challenge_known=True)
        assert run("ratelimit", "--format", "{used}/{limit}").stdout == "50/200\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100;w=21600", (100, 21600)),
        ("100", (100, None)),
        (" 7 ; w = 60 ; comment=x", (7, 60)),
        ("junk", (None, None)),
        (None, (None, None)),
        ("5;w=soon", (5, None)),
    ],
)
def test_parse_quota(value: str | None, expected: tuple[int | None, int | None]) -> None:
    from dockerhub_cli.ops.account import parse_quota

    assert parse_quota(value) == expected


def test_whoami_source_path_is_whole_in_a_narrow_terminal(docker_config: Path) -> None:
    """The credentials file is what people go and edit: fold its path, never cut it with '…'."""
    auth = base64.b64encode(b"user:pw").decode()
    docker_config.write_text(json.dumps({"auths": {"registry.example.com": {"auth": auth}}}))
    shown = run("whoami", "registry.example.com", env={"COLUMNS": "30"})
    assert shown.exit_code == 0, shown.stderr
    table = shown.stdout.split("precedence:", 1)[0]
    assert "…" not in table
    folded = "".join(line[len("source") :].strip() for line in table.splitlines()[2:])
    assert str(docker_config) in folded
