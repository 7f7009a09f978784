"""Issue 12 (trust), the network, cache and parsing half: one test per table row, against the
project's own hostile server (tests/support/hostile.py) on loopback, plus the secrets test.

Rows owned here: 1 (no secret in the cache), 2 (credentials only where they belong), 3 (a
wall-clock deadline), 4 (capped streaming reads), 6 (a failed verification is not cached),
8 (random exclusive temp names), 9 (bounded JSON), 10 (paging you can trust), 13 (network
parts: true elapsed time, bounded Hub walks, huge tokens refused).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.oci import jsonlimits
from dockerhub_cli.remote.auth import Challenge, ChallengeMemory
from dockerhub_cli.remote.credential_policy import CredentialPolicy
from dockerhub_cli.service import DockerHubService
from tests.support.hostile import (
    Behaviour,
    HostileServer,
    answer,
    bearer_challenge,
    deep_json,
    drip,
    drip_headers,
    endless,
    linked,
    redirect,
    token,
)
from tests.support.layers import file, layer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
USER = "trustnet-user-7f3a"
PASSWORD = "trustnet-PASSWORD-9c41e"
TOKEN = "trustnet-TOKEN-b52d0"
SIGNATURE = "trustnet-SIG-a77f1"


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


CONFIG = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"], "Labels": {"a": "b"}},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created_by": "/bin/sh -c true"}],
    }
).encode()


def _manifest(config: bytes = CONFIG, size: object = None) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config) if size is None else size,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + "ab" * 32,
                    "size": 1234,
                }
            ],
        }
    ).encode()


MANIFEST = _manifest()


def _serve_image(srv: HostileServer, repo: str = "team/app", tag: str = "1.0") -> None:
    headers = {"Docker-Content-Digest": _digest(MANIFEST)}
    srv.route(f"/v2/{repo}/manifests/{tag}", answer(MANIFEST, content_type=OCI_MANIFEST, **headers))
    srv.route(
        f"/v2/{repo}/manifests/{_digest(MANIFEST)}",
        answer(MANIFEST, content_type=OCI_MANIFEST, **headers),
    )
    srv.route(f"/v2/{repo}/blobs/{_digest(CONFIG)}", answer(CONFIG))


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def _tree_bytes(root: Path) -> bytes:
    out = b""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out += path.read_bytes()
    return out


def _needles(*secrets: str) -> list[bytes]:
    found: list[bytes] = []
    for s in secrets:
        found += [s.encode(), base64.b64encode(s.encode())]
    found.append(base64.b64encode(f"{USER}:{PASSWORD}".encode()))
    return found


# -- row 1: nothing from a request's headers reaches the disk -------------------------------


def test_row1_secrets_never_reach_the_cache_after_an_authenticated_redirected_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """An authenticated registry (Bearer, config.json credentials), whose config blob answers
    307 to another loopback host (a CDN with a signed URL): afterwards no credential, token or
    signature is in the SQLite bytes (WAL included), the result cache, any temp file, stdout or
    stderr; the cache files are 0600 and the cache dir 0700."""
    with HostileServer() as reg, HostileServer(name="localhost") as cdn:
        cdn.route("/cdn/*", answer(CONFIG))
        registry = reg.host
        protected = f"/v2/team/app/blobs/{_digest(CONFIG)}"
        headers = {"Docker-Content-Digest": _digest(MANIFEST)}
        reg.route("/token", token(TOKEN))
        realm = f"{reg.url}/token"
        reg.route(
            "/v2/team/app/manifests/*",
            bearer_challenge(realm, answer(MANIFEST, content_type=OCI_MANIFEST, **headers)),
        )
        reg.route(
            protected,
            bearer_challenge(
                realm, redirect(f"{cdn.url}/cdn/blob?X-Amz-Signature={SIGNATURE}&token={TOKEN}")
            ),
        )
        docker = tmp_path / "docker"
        docker.mkdir()
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        (docker / "config.json").write_text(json.dumps({"auths": {registry: {"auth": auth}}}))
        monkeypatch.setenv("DOCKER_CONFIG", str(docker))
        cold = run("inspect", f"{registry}/team/app:1.0", "--json")
        warm = run("inspect", f"{registry}/team/app:1.0", "--json")
        debug = run("--debug", "inspect", f"{registry}/team/app:1.0", "--no-cache")
        token_calls = [s for s in reg.seen if s.path.startswith("/token")]
        cdn_calls = list(cdn.seen)

    assert cold.exit_code == 0, cold.stderr
    assert warm.exit_code == 0 and warm.stdout == cold.stdout
    assert debug.exit_code == 0, debug.stderr
    # The credentials were used (the token server saw Basic auth), and the CDN got no header.
    assert token_calls and token_calls[0].headers.get("Authorization", "").startswith("Basic ")
    assert cdn_calls and all("Authorization" not in s.headers for s in cdn_calls)

    cache = Path(os.environ["DOCKERHUB_CACHE_DIR"])
    on_disk = _tree_bytes(cache)
    assert b"http_cache" not in on_disk[:0]  # (the tree was read)
    assert (cache / "http_cache.sqlite").exists()
    outputs = "".join(r.stdout + r.stderr for r in (cold, warm, debug)).encode()
    for needle in _needles(PASSWORD, TOKEN, SIGNATURE):
        assert needle not in on_disk, needle
        assert needle not in outputs, needle
    assert not list(cache.rglob("*.tmp"))
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    for path in cache.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    # temp files of the process: none with a secret either
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    for path in tmp.glob(".auth-challenges*"):
        assert PASSWORD.encode() not in path.read_bytes()


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_row1_a_cache_dir_writable_by_others_is_refused(tmp_path: Path, mode: int):
    with HostileServer() as reg:
        _serve_image(reg)
        cache = tmp_path / "loose"
        cache.mkdir()
        cache.chmod(mode)
        result = run("inspect", f"{reg.host}/team/app:1.0", env={"DOCKERHUB_CACHE_DIR": str(cache)})
    assert result.exit_code == 2, result.stderr
    assert "refusing to use the cache directory" in result.stderr
    assert "writable by group or others" in result.stderr
    assert "unexpected" not in result.stderr
    assert not (cache / "http_cache.sqlite").exists()


def test_row1_an_own_readable_cache_dir_is_tightened(tmp_path: Path):
    with HostileServer() as reg:
        _serve_image(reg)
        cache = tmp_path / "mine"
        cache.mkdir()
        cache.chmod(0o755)
        result = run("inspect", f"{reg.host}/team/app:1.0", env={"DOCKERHUB_CACHE_DIR": str(cache)})
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / "http_cache.sqlite").stat().st_mode) == 0o600


# -- row 2: credentials go only where they belong ---------------------------------------------


def test_row2_an_https_registry_with_a_plain_http_realm_gets_no_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    docker = tmp_path / "docker"
    docker.mkdir()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker / "config.json").write_text(
        json.dumps({"auths": {"registry.example.com": {"auth": auth}}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(
            "https://registry.example.com/v2/team/app/manifests/1.0",
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="http://other-host.example/token"'},
            json={"errors": [{"code": "UNAUTHORIZED"}]},
        )
        stolen = rsps.get("http://other-host.example/token", json={"token": "x"})
        result = run("inspect", "registry.example.com/team/app:1.0")
    assert result.exit_code == 4, result.stderr
    assert "other-host.example" in result.stderr and "nothing was sent" in result.stderr
    assert stolen.call_count == 0


def test_row2_a_docker_hub_pat_goes_only_to_docker_hub_hosts(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOCKERHUB_USERNAME", USER)
    monkeypatch.setenv("DOCKERHUB_TOKEN", PASSWORD)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(
            "https://registry-1.docker.io/v2/library/nginx/manifests/latest",
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="https://collector.example/token"'},
            json={"errors": [{"code": "UNAUTHORIZED"}]},
        )
        stolen = rsps.get("https://collector.example/token", json={"token": "x"})
        result = run("inspect", "nginx")
    assert result.exit_code == 4, result.stderr
    assert "collector.example" in result.stderr and "Docker Hub's own hosts" in result.stderr
    assert stolen.call_count == 0


@pytest.mark.parametrize(
    ("origin", "target", "docker_hub", "insecure", "allowed"),
    [
        ("https://reg.example", "https://auth.example/token", False, False, True),
        ("https://reg.example", "http://auth.example/token", False, False, False),
        ("https://reg.example", "http://reg.example/token", False, False, False),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5001/token", False, False, True),
        ("http://127.0.0.1:5000", "http://other.example/token", False, False, True),
        ("http://reg.internal", "http://auth.internal/token", False, True, True),
        ("http://reg.internal", "http://auth.internal/token", False, False, False),
        ("https://reg.example", "https://user:pw@auth.example/token", False, False, False),
        ("https://reg.example", "ftp://auth.example/token", False, False, False),
        ("https://registry-1.docker.io", "https://auth.docker.io/token", True, False, True),
        ("https://registry-1.docker.io", "https://auth.evil.example/token", True, False, False),
        ("https://registry-1.docker.io", "http://auth.docker.io/token", True, False, False),
    ],
)
def test_row2_the_credential_policy_table(origin, target, docker_hub, insecure, allowed):
    policy = CredentialPolicy(
        insecure_hosts=frozenset({"reg.internal"} if insecure else set()),
    )
    assert (policy.refusal(origin, target, docker_hub=docker_hub) is None) is allowed


# -- row 3: a wall-clock deadline, not a per-read timeout ------------------------------------


def test_row3_a_dripping_manifest_ends_at_the_deadline_with_the_real_elapsed_time():
    with HostileServer() as reg:
        reg.route("/v2/team/app/manifests/1.0", drip(MANIFEST, interval=0.25))
        result = run("inspect", f"{reg.host}/team/app:1.0", env={"DOCKERHUB_TIMEOUT": "1"})
    assert result.exit_code == 6, result.stderr
    assert "did not finish answering" in result.stderr and "gave up after" in result.stderr
    assert "within 1 s" in result.stderr


def test_row3_headers_dripped_a_byte_at_a_time_end_at_the_deadline():
    with HostileServer() as reg:
        reg.route("/v2/team/app/manifests/1.0", drip_headers(interval=0.1))
        result = run("inspect", f"{reg.host}/team/app:1.0", env={"DOCKERHUB_TIMEOUT": "1"})
    assert result.exit_code == 6, result.stderr
    assert "did not finish answering" in result.stderr and "gave up after" in result.stderr


def test_row3_a_dripping_token_endpoint_ends_at_the_deadline():
    with HostileServer() as reg:
        reg.route("/token", drip(json.dumps({"token": "t" * 200}), interval=0.25))
        reg.route(
            "/v2/team/app/manifests/*",
            bearer_challenge(f"{reg.url}/token", answer(MANIFEST, content_type=OCI_MANIFEST)),
        )
        result = run("inspect", f"{reg.host}/team/app:1.0", env={"DOCKERHUB_TIMEOUT": "1"})
    assert result.exit_code == 6, result.stderr
    assert "did not finish answering for a registry token" in result.stderr


# -- row 4: every body streamed with a cap -----------------------------------------------------


def test_row4_an_endless_chunked_manifest_stops_at_the_cap_and_is_read_once():
    with HostileServer() as reg:
        path = "/v2/team/app/manifests/1.0"
        reg.route(path, endless())
        result = run("inspect", f"{reg.host}/team/app:1.0")
        hits = reg.hits(path)
    assert result.exit_code == 6, result.stderr
    assert "sent more than 4,194,304 bytes" in result.stderr
    assert hits == 1  # no retry reads it again


def test_row4_an_endless_config_blob_and_tag_page_stop_at_their_caps():
    with HostileServer() as reg:
        _serve_image(reg)
        reg.route(f"/v2/team/app/blobs/{_digest(CONFIG)}", endless())
        reg.route("/v2/team/app/tags/list", endless())
        inspect = run("inspect", f"{reg.host}/team/app:1.0")
        tags = run("tags", f"{reg.host}/team/app")
    assert inspect.exit_code == 6 and "sent more than 8,388,608 bytes" in inspect.stderr
    assert tags.exit_code == 6 and "sent more than 8,388,608 bytes" in tags.stderr


def test_row4_a_capped_read_still_caches_valid_bodies():
    with HostileServer() as reg:
        _serve_image(reg)
        first = run("inspect", f"{reg.host}/team/app:1.0", "--json")
        before = len(reg.seen)
        second = run("inspect", f"{reg.host}/team/app:1.0", "--json")
        assert first.exit_code == 0 and second.exit_code == 0
        assert len(reg.seen) == before  # answered from the caches, no request


# -- row 6: a failed verification is never cached ---------------------------------------------


def test_row6_a_body_that_fails_its_digest_is_not_cached_and_asked_again():
    digest = _digest(MANIFEST)
    with HostileServer() as reg:
        path = f"/v2/team/app/manifests/{digest}"
        reg.route(path, answer(MANIFEST.replace(b"1234", b"9999"), content_type=OCI_MANIFEST))
        reg.route(f"/v2/team/app/blobs/{_digest(CONFIG)}", answer(CONFIG))
        bad = run("inspect", f"{reg.host}/team/app@{digest}")
        reg.route(path, answer(MANIFEST, content_type=OCI_MANIFEST))  # the registry is fixed
        good = run("inspect", f"{reg.host}/team/app@{digest}")
        hits = reg.hits(path)
    assert bad.exit_code == 6 and "does not match its digest" in bad.stderr
    assert good.exit_code == 0, good.stderr
    assert hits == 2


# -- row 8: files in the cache dir use random exclusive temp names ----------------------------


def test_row8_a_planted_symlink_at_the_old_temp_name_is_not_followed(tmp_path: Path):
    cache = tmp_path / "c"
    cache.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    path = cache / "auth-challenges.json"
    (cache / f".{path.name}.{os.getpid()}.tmp").symlink_to(victim)
    (cache / f".auth-challenges.json.{os.getpid()}.tmp").unlink()
    (cache / f".auth-challenges.json.{os.getpid()}.tmp").symlink_to(victim)
    path.symlink_to(victim)  # even the file itself: it is replaced, never written through
    ChallengeMemory(path).put("reg.example", Challenge("basic"))
    assert victim.read_text() == "precious"
    assert not path.is_symlink() and json.loads(path.read_text())["reg.example"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- row 9: registry data never crashes the tool ----------------------------------------------


def test_row9_deeply_nested_json_is_a_clean_upstream_error():
    deep = deep_json(100_000)
    with HostileServer() as reg:
        reg.route("/v2/team/app/manifests/1.0", answer(deep, content_type=OCI_MANIFEST))
        reg.route("/v2/team/app/tags/list", answer(b'{"name":"x","tags":' + deep + b"}"))
        inspect = run("inspect", f"{reg.host}/team/app:1.0")
        tags = run("tags", f"{reg.host}/team/app")
    for result in (inspect, tags):
        assert result.exit_code == 6, result.stderr
        assert "nested more than 64 levels" in result.stderr
        assert "unexpected" not in result.stderr


def test_row9_a_4000_digit_size_is_refused_by_name():
    manifest = _manifest().replace(f'"size": {len(CONFIG)}'.encode(), b'"size": ' + b"9" * 4000)
    with HostileServer() as reg:
        reg.route("/v2/team/app/manifests/1.0", answer(manifest, content_type=OCI_MANIFEST))
        result = run("inspect", f"{reg.host}/team/app:1.0")
    assert result.exit_code == 6, result.stderr
    assert "an integer of 4000 digits" in result.stderr


def test_row9_hub_search_nested_deep_is_a_clean_error():
    with responses.RequestsMock() as rsps:
        rsps.get(
            "https://hub.docker.com/v2/search/repositories/",
            body=b'{"results":' + deep_json(100_000) + b"}",
            content_type="application/json",
        )
        result = run("search", "nginx")
    assert result.exit_code == 6, result.stderr
    assert "nested more than 64 levels" in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "[" * 65 + "]" * 65,
        '{"a": ' + "1" * 4000 + "}",
        "[1e999]",
        "[NaN]",
        '{"a": -' + "9" * 20 + "}",
    ],
)
def test_row9_the_bounded_loader_refuses_by_name(text: str):
    with pytest.raises(jsonlimits.JSONLimitError):
        jsonlimits.loads(text)


def test_row9_the_bounded_loader_keeps_normal_json():
    assert jsonlimits.loads(b'{"size": 9223372036854775807, "x": [[1.5]]}') == {
        "size": 2**63 - 1,
        "x": [[1.5]],
    }


# -- row 10: paging you can trust --------------------------------------------------------------


def test_row10_a_link_back_to_the_first_page_ends_the_walk_incomplete_without_duplicates():
    with HostileServer() as reg:
        first = "/v2/team/app/tags/list"
        reg.route(first, linked({"name": "team/app", "tags": ["a", "b"]}, f"{first}?n=1000"))
        result = run("tags", f"{reg.host}/team/app", "--all", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [t["name"] for t in data["tags"]] == ["a", "b"]
    assert data["complete"] is False
    assert "paging loop" in result.stderr


def test_row10_a_loop_through_a_second_page_is_caught_and_tags_are_deduplicated():
    with HostileServer() as reg:
        first = "/v2/team/app/tags/list"
        reg.route(
            first,
            lambda h: (
                linked({"tags": ["b", "c"]}, f"{first}?n=1000")(h)
                if "last=a" in h.path
                else linked({"tags": ["a", "b"]}, f"{first}?last=a")(h)
            ),
        )
        result = run("tags", f"{reg.host}/team/app", "--all", "--json")
    data = json.loads(result.stdout)
    assert [t["name"] for t in data["tags"]] == ["a", "b", "c"]
    assert data["complete"] is False


def test_row10_a_next_page_on_another_host_is_refused_with_a_warning():
    with HostileServer() as reg, HostileServer(name="localhost") as other:
        other.route("*", answer({"tags": ["evil"]}))
        reg.route(
            "/v2/team/app/tags/list",
            linked({"tags": ["a"]}, f"{other.url}/v2/team/app/tags/list?last=a"),
        )
        result = run("tags", f"{reg.host}/team/app", "--all", "--json")
        assert not other.seen
    data = json.loads(result.stdout)
    assert [t["name"] for t in data["tags"]] == ["a"] and data["complete"] is False
    assert "on another host" in result.stderr


def _hub_tag(name: str) -> dict[str, object]:
    return {"name": name, "last_updated": "2024-01-01T00:00:00Z", "images": []}


def test_row10_a_hub_next_on_another_host_is_refused_and_incomplete():
    base = "https://hub.docker.com/v2/namespaces/library/repositories/nginx/tags"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(
            base,
            json={"count": 2, "next": "https://evil.example/page2", "results": [_hub_tag("a")]},
        )
        evil = rsps.get("https://evil.example/page2", json={"results": [_hub_tag("x")]})
        result = run("tags", "nginx", "--all", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [t["name"] for t in data["tags"]] == ["a"] and data["complete"] is False
    assert evil.call_count == 0 and "another host" in result.stderr


def test_row13_a_hub_next_that_never_ends_is_bounded_in_time():
    """Every page names a new next page; an injected clock makes each page cost 10 s: the
    walk stops at its time bound (120 s), long before its page bound."""
    base = "https://hub.docker.com/v2/namespaces/library/repositories/nginx/tags"
    counter = {"n": 0}

    def page(request):
        counter["n"] += 1
        n = counter["n"]
        body = {"next": f"{base}?page={n + 1}&page_size=100", "results": [_hub_tag(f"t{n}")]}
        return 200, {}, json.dumps(body)

    now = [0.0]

    def clock() -> float:
        now[0] += 5.0
        return now[0]

    with responses.RequestsMock() as rsps, DockerHubService(Settings.from_env()) as svc:
        rsps.add_callback(responses.GET, base, callback=page)
        svc.transport.clock = clock
        result = svc.tags("nginx", all_tags=True)
    assert result.complete is False
    assert counter["n"] < 30
    assert any("stopped after 120 s" in n for n in result.notes)


# -- row 13: a huge token is refused, never replayed -----------------------------------------


def test_row13_a_huge_token_is_refused_and_never_sent_as_a_header():
    huge = "x" * (200 * 1024)
    with HostileServer() as reg:
        reg.route("/token", token(huge))
        reg.route(
            "/v2/team/app/manifests/*",
            bearer_challenge(f"{reg.url}/token", answer(MANIFEST, content_type=OCI_MANIFEST)),
        )
        result = run("inspect", f"{reg.host}/team/app:1.0")
        replayed = [s for s in reg.seen if len(s.headers.get("Authorization", "")) > 65536]
    assert result.exit_code == 6, result.stderr
    assert "character token" in result.stderr
    assert not replayed


def test_row13_a_token_reply_over_1_mib_is_cut_off():
    with HostileServer() as reg:
        reg.route("/token", endless())
        reg.route(
            "/v2/team/app/manifests/*",
            bearer_challenge(f"{reg.url}/token", answer(MANIFEST, content_type=OCI_MANIFEST)),
        )
        result = run("inspect", f"{reg.host}/team/app:1.0")
    assert result.exit_code == 6, result.stderr
    assert "sent more than 1,048,576 bytes for a registry token" in result.stderr


# -- row 9 (expectation 8): a property test over generated registry and Hub data -------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

DOCUMENTED_EXIT_CODES = {0, 2, 3, 4, 5, 6}

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_json = st.deferred(
    lambda: (
        _scalars
        | st.lists(_json, max_size=4)
        | st.dictionaries(st.text(max_size=12), _json, max_size=4)
    )
)
_manifest_keys = ["schemaVersion", "mediaType", "config", "layers", "manifests", "annotations"]


@st.composite
def _mangled_manifest(draw: st.DrawFn) -> bytes:
    """A valid manifest or index with some fields replaced by arbitrary JSON, or raw junk."""
    kind = draw(st.sampled_from(["manifest", "index", "junk", "deep"]))
    if kind == "junk":
        return draw(st.binary(max_size=200))
    if kind == "deep":
        return deep_json(draw(st.integers(min_value=60, max_value=5000)))
    data = json.loads(MANIFEST)
    if kind == "index":
        data = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": _digest(MANIFEST),
                    "size": len(MANIFEST),
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    for key in draw(st.lists(st.sampled_from(_manifest_keys), max_size=3)):
        data[key] = draw(_json)
    return json.dumps(data).encode()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    manifest=_mangled_manifest(),
    config=st.one_of(_json.map(lambda v: json.dumps(v).encode()), st.just(CONFIG)),
    tags=st.one_of(_json.map(lambda v: json.dumps(v).encode()), st.just(deep_json(200))),
    hub=st.one_of(_json.map(lambda v: json.dumps(v).encode()), st.just(deep_json(300))),
    command=st.sampled_from(["inspect", "layers", "platforms", "tags", "search", "hubtags"]),
)
def test_row9_generated_registry_and_hub_data_only_give_documented_exit_codes(
    manifest: bytes, config: bytes, tags: bytes, hub: bytes, command: str
):
    reg = "https://registry.example.com/v2/team/app"
    ct = {"content_type": OCI_MANIFEST}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{reg}/manifests/1.0", body=manifest, **ct)
        rsps.get(f"{reg}/manifests/{_digest(MANIFEST)}", body=MANIFEST, **ct)
        rsps.get(f"{reg}/blobs/{_digest(CONFIG)}", body=config)
        rsps.get(f"{reg}/tags/list", body=tags, content_type="application/json")
        rsps.get(
            "https://hub.docker.com/v2/search/repositories/",
            body=hub,
            content_type="application/json",
        )
        rsps.get(
            "https://hub.docker.com/v2/namespaces/library/repositories/nginx/tags",
            body=hub,
            content_type="application/json",
        )
        args = {
            "inspect": ["inspect", "registry.example.com/team/app:1.0"],
            "layers": ["layers", "registry.example.com/team/app:1.0"],
            "platforms": ["platforms", "registry.example.com/team/app:1.0"],
            "tags": ["tags", "registry.example.com/team/app"],
            "search": ["search", "nginx"],
            "hubtags": ["tags", "nginx"],
        }[command]
        for extra in ([], ["--json"]):
            result = run(*args, *extra, env={"DOCKERHUB_NO_CACHE": "1"})
            assert result.exit_code in DOCUMENTED_EXIT_CODES, (result.exit_code, result.stderr)
            assert "unexpected error" not in result.stderr, result.stderr
            assert "Traceback" not in result.stderr


# -- rows 1-4 for streamed layer blobs (`files`, `cat`, ...: Transport.request(stream=True)) --

LAYER = layer([file("etc/os-release", "ID=trust\n"), file("bin/sh", b"\0ELF" * 64)])


def _serve_layered_image(srv: HostileServer, blob: Behaviour, *, size: int | None = None) -> str:
    """team/app:1.0 with one real gzip layer whose blob route behaves as `blob`."""
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(CONFIG),
                "size": len(CONFIG),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": _digest(LAYER),
                    "size": len(LAYER) if size is None else size,
                }
            ],
        }
    ).encode()
    headers = {"Docker-Content-Digest": _digest(manifest)}
    srv.route("/v2/team/app/manifests/*", answer(manifest, content_type=OCI_MANIFEST, **headers))
    srv.route(f"/v2/team/app/blobs/{_digest(CONFIG)}", answer(CONFIG))
    path = f"/v2/team/app/blobs/{_digest(LAYER)}"
    srv.route(path, blob)
    return path


def test_row3_a_dripping_layer_blob_ends_with_the_deadline_error():
    """A streamed blob has no whole-body deadline, but each DOCKERHUB_TIMEOUT window must bring
    STREAM_MIN_BYTES: a byte every 0.25 s ends after the first 1 s window, exit 6."""
    with HostileServer() as reg:
        _serve_layered_image(reg, drip(LAYER, interval=0.25, content_type="application/gzip"))
        result = run("files", f"{reg.host}/team/app:1.0", env={"DOCKERHUB_TIMEOUT": "1"})
    assert result.exit_code == 6, result.stderr
    assert "did not keep sending" in result.stderr and "gave up after" in result.stderr
    assert "within every 1 s" in result.stderr


def test_row4_an_endless_layer_blob_stops_at_its_descriptor_size():
    with HostileServer() as reg:
        path = _serve_layered_image(reg, endless(content_type="application/gzip"))
        result = run("files", f"{reg.host}/team/app:1.0")
        hits = reg.hits(path)
    assert result.exit_code == 6, result.stderr
    assert f"sent more than {len(LAYER):,} bytes" in result.stderr
    assert hits == 1


def test_row4_a_layer_announcing_more_than_its_descriptor_is_refused_before_reading():
    with HostileServer() as reg:
        _serve_layered_image(reg, answer(LAYER + b"\0" * 4096, content_type="application/gzip"))
        result = run("files", f"{reg.host}/team/app:1.0")
    assert result.exit_code == 6, result.stderr
    assert f"announced a {len(LAYER) + 4096:,}-byte reply" in result.stderr


def test_row1_a_streamed_layer_redirected_to_a_cdn_carries_no_credentials_and_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with HostileServer() as reg, HostileServer(name="localhost") as cdn:
        cdn.route("/cdn/*", answer(LAYER, content_type="application/gzip"))
        reg.route("/token", token(TOKEN))
        realm = f"{reg.url}/token"
        _serve_layered_image(
            reg,
            bearer_challenge(
                realm, redirect(f"{cdn.url}/cdn/layer?X-Amz-Signature={SIGNATURE}&token={TOKEN}")
            ),
        )
        docker = tmp_path / "docker"
        docker.mkdir()
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        (docker / "config.json").write_text(json.dumps({"auths": {reg.host: {"auth": auth}}}))
        monkeypatch.setenv("DOCKER_CONFIG", str(docker))
        result = run("files", f"{reg.host}/team/app:1.0", "--json")
        registry_blob_calls = [s for s in reg.seen if s.path.startswith("/v2/team/app/blobs/")]
        cdn_calls = list(cdn.seen)
    assert result.exit_code == 0, result.stderr
    assert "etc/os-release" in result.stdout
    bearer = [s.headers.get("Authorization", "") for s in registry_blob_calls]
    assert any(h.startswith("Bearer ") for h in bearer)
    assert cdn_calls and all("Authorization" not in s.headers for s in cdn_calls)
    on_disk = _tree_bytes(Path(os.environ["DOCKERHUB_CACHE_DIR"]))
    assert LAYER not in on_disk  # the blob itself is never cached, only its file index
    for needle in _needles(PASSWORD, TOKEN, SIGNATURE):
        assert needle not in on_disk, needle
        assert needle.decode() not in result.stdout + result.stderr, needle


class _Raw:
    """A urllib3-like streamed body: `read1` returns the next scripted chunk and moves the
    injected clock on by its delay (no wall-clock wait)."""

    def __init__(self, clock: list[float], script: list[tuple[float, bytes]]) -> None:
        self.clock, self.script, self.closed = clock, list(script), False

    def read1(self, n: int, decode_content: bool | None = None) -> bytes:
        if not self.script:
            return b""
        delay, chunk = self.script.pop(0)
        self.clock[0] += delay
        return chunk[:n]

    def close(self) -> None:
        self.closed = True


def _streamed(script: list[tuple[float, bytes]], max_bytes: int = 1 << 40):
    from dockerhub_cli.remote.http_stack import StreamedBody
    from dockerhub_cli.remote.transport import Budget

    now = [0.0]
    budget = Budget(0.0, 30.0, max_bytes, "layer x", lambda: now[0], stream=True)
    raw = _Raw(now, script)
    return StreamedBody(raw, "reg.example", budget, 30.0), raw


def _drain(body) -> int:
    total = 0
    while chunk := body.read(1 << 20):
        total += len(chunk)
    return total


def test_a_slow_but_steady_stream_outlives_the_request_deadline():
    """Twenty 1 MiB chunks 20 s apart: 400 s in all, far past DOCKERHUB_TIMEOUT (30 s), but
    every 30 s window brought at least STREAM_MIN_BYTES."""
    body, raw = _streamed([(20.0, b"x" * (1 << 20))] * 20)
    assert _drain(body) == 20 << 20 and not raw.closed


def test_a_stream_that_slows_to_a_trickle_ends_with_the_deadline_error():
    from dockerhub_cli.remote.transport import DeadlineExceededError

    script = [(1.0, b"x" * (1 << 20))] * 5 + [(5.0, b"y" * 1024)] * 100
    body, raw = _streamed(script)
    with pytest.raises(DeadlineExceededError, match="did not keep sending layer x"):
        _drain(body)
    assert raw.closed
    assert len(raw.script) > 80  # cut off in the first slow window, not at the end


def test_a_stream_past_its_cap_stops_there():
    from dockerhub_cli.errors import UpstreamError

    body, raw = _streamed([(0.0, b"z" * 1000)] * 10, max_bytes=4500)
    with pytest.raises(UpstreamError, match="sent more than 4,500 bytes for layer x"):
        _drain(body)
    assert raw.closed and len(raw.script) == 5


@pytest.mark.parametrize(
    ("origin", "target", "kept"),
    [
        ("https://reg.example/v2/a/blobs/x", "https://reg.example/v2/b/blobs/x", True),
        ("https://reg.example/v2/a/blobs/x", "https://cdn.example/data?sig=1", False),
        ("https://reg.example/v2/a/blobs/x", "https://reg.example:8443/data", False),
        ("https://reg.example/v2/a/blobs/x", "http://reg.example/data", False),
        ("http://reg.example/v2/a/blobs/x", "https://reg.example/data", True),
        ("http://127.0.0.1:5000/v2/a", "http://localhost:5000/v2/a", False),
        ("https://reg.example/v2/a", "https://user@reg.example/v2/a", False),
        ("https://reg.example/v2/a", "ftp://reg.example/v2/a", False),
    ],
)
def test_row2_redirects_keep_authorization_only_where_the_policy_says(origin, target, kept):
    assert CredentialPolicy.keeps_on_redirect(origin, target) is kept


# -- code that landed with later features goes through the same rules ----------------------

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _referrers_index(n: int) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": "sha256:" + f"{i:02x}" * 32,
                    "size": 100 + i,
                    "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                }
                for i in range(n)
            ],
        }
    ).encode()


def test_row10_a_referrers_next_page_on_another_host_is_not_followed():
    with HostileServer() as reg, HostileServer(name="localhost") as other:
        _serve_image(reg)
        other.route("/*", answer(_referrers_index(2), content_type=OCI_INDEX))
        path = f"/v2/team/app/referrers/{_digest(MANIFEST)}"
        reg.route(
            path,
            answer(
                _referrers_index(1),
                content_type=OCI_INDEX,
                Link=f'<{other.url}{path}?page=2>; rel="next"',
            ),
        )
        result = run("referrers", f"{reg.host}/team/app:1.0", "--json")
        other_calls = list(other.seen)
    assert not other_calls
    assert "another host" in result.stderr, result.stderr


def test_row10_a_referrers_link_back_to_the_first_page_ends_the_walk():
    with HostileServer() as reg:
        _serve_image(reg)
        path = f"/v2/team/app/referrers/{_digest(MANIFEST)}"
        reg.route(
            path,
            answer(_referrers_index(1), content_type=OCI_INDEX, Link=f'<{path}>; rel="next"'),
        )
        result = run("referrers", f"{reg.host}/team/app:1.0", "--json")
        hits = reg.hits(path)
    assert hits == 1
    assert "paging loop" in result.stderr, result.stderr


def test_row4_an_endless_referrers_reply_stops_at_the_manifest_cap():
    with HostileServer() as reg:
        _serve_image(reg)
        reg.route(f"/v2/team/app/referrers/{_digest(MANIFEST)}", endless(content_type=OCI_INDEX))
        result = run("referrers", f"{reg.host}/team/app:1.0")
    assert result.exit_code == 6, result.stderr
    assert "sent more than 4,194,304 bytes" in result.stderr


def test_row9_hub_search_v4_nested_deep_is_refused_by_the_loader_and_falls_back():
    """The site search's reply goes through the bounded loader: deep JSON there is an upstream
    error, which (as for any broken site search) falls back to the classic search, saying why."""
    with responses.RequestsMock() as rsps:
        rsps.get(
            "https://hub.docker.com/api/search/v4",
            body=b'{"results":' + deep_json(100_000) + b"}",
            content_type="application/json",
        )
        rsps.get(
            "https://hub.docker.com/v2/search/repositories/",
            json={
                "count": 1,
                "next": None,
                "results": [{"repo_name": "nginx", "is_official": True}],
            },
        )
        result = run("search", "nginx", "--official", "--json")
    assert result.exit_code == 0, result.stderr
    assert "nested more than 64 levels" in result.stdout + result.stderr


def test_row9_a_cosign_payload_and_an_estargz_toc_go_through_the_bounded_loader():
    from dockerhub_cli.oci import estargz
    from dockerhub_cli.oci.layer import LayerError
    from dockerhub_cli.ops.signatures import check_cosign_payload

    status, reason, _, _ = check_cosign_payload(
        b'{"critical": ' + deep_json(100_000) + b"}", "", None, "sha256:" + "0" * 64, "x"
    )
    assert (status, reason) == ("invalid", "the payload is not JSON")
    with pytest.raises(LayerError, match="nested more than 64 levels"):
        estargz.index_from_toc(
            b'{"entries": ' + deep_json(100_000) + b"}",
            digest="sha256:" + "0" * 64,
            media_type="application/vnd.oci.image.layer.v1.tar+gzip",
            blob_size=1,
            toc_offset=0,
        )


def test_row4_a_server_ignoring_range_on_an_estargz_layer_is_streamed_whole_instead():
    """A 200 with the whole blob answering a Range request (Content-Length larger than the
    range) is not refused as oversized: the caller sees Range was ignored and streams it."""
    from tests.support.layers import ESTARGZ_TOC_DIGEST, estargz_layer

    blob, toc_digest = estargz_layer([file("etc/os-release", "ID=lazy\n")])
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(CONFIG),
                "size": len(CONFIG),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": _digest(blob),
                    "size": len(blob),
                    "annotations": {ESTARGZ_TOC_DIGEST: toc_digest},
                }
            ],
        }
    ).encode()
    with HostileServer() as reg:
        reg.route(
            "/v2/team/app/manifests/*",
            answer(manifest, content_type=OCI_MANIFEST, Docker_Content_Digest=_digest(manifest)),
        )
        reg.route(f"/v2/team/app/blobs/{_digest(CONFIG)}", answer(CONFIG))
        reg.route(f"/v2/team/app/blobs/{_digest(blob)}", answer(blob, content_type="x/gzip"))
        result = run("files", f"{reg.host}/team/app:1.0", "--json")
    assert result.exit_code == 0, result.stderr
    assert "etc/os-release" in result.stdout


def test_row4_an_error_answering_a_streamed_layer_is_reported_as_the_error():
    with HostileServer() as reg:
        error = {"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry"}]}
        _serve_layered_image(reg, answer(error, 404))
        result = run("files", f"{reg.host}/team/app:1.0")
    assert result.exit_code != 0
    assert "blob unknown to registry" in result.stderr, result.stderr
    assert "announced" not in result.stderr


def test_row10_a_paging_loop_is_warned_once_not_twice():
    """The walk logs why it stopped and the listing's notes say it too: the CLI prints it once."""
    with HostileServer() as reg:
        first = "/v2/team/app/tags/list"
        reg.route(first, linked({"name": "team/app", "tags": ["a", "b"]}, f"{first}?n=1000"))
        result = run("tags", f"{reg.host}/team/app")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("paging loop") == 1, result.stderr


def test_row4_a_header_line_over_64_kib_is_named_not_quoted_from_python():
    with HostileServer() as reg:
        reg.route("/v2/", answer({}))
        reg.route("/v2/team/app/manifests/*", answer(b"{}", **{"X-Big": "a" * 100_000}))
        result = run("inspect", f"{reg.host}/team/app:1.0")
    assert result.exit_code == 6
    assert "sent a header line longer than 64 KiB" in result.stderr, result.stderr
    assert "LineTooLong" not in result.stderr and "Connection aborted" not in result.stderr
