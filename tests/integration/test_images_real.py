"""Image internals against a real CNCF distribution registry, checked against skopeo.

Every expected digest, size, env, label and history entry comes from `skopeo inspect --raw`
(exact manifest bytes) and `skopeo inspect --config --raw` (exact config bytes) of the same
image, or from what the harness read back from the registry. Request counts come from the
registry's own access log.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import AuthError, NotFoundError, PlatformNotFoundError
from dockerhub_cli.ops.images import resolve_image
from dockerhub_cli.service import DockerHubService
from tests.support.seeding import skopeo_inspect_raw

runner = CliRunner()
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def _sha(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _skopeo_config(ref: str, *, arch: str | None = None, creds: str | None = None) -> bytes:
    argv = ["skopeo", "--insecure-policy", "inspect", "--config", "--raw", "--tls-verify=false"]
    if arch:
        argv.append(f"--override-arch={arch}")
    if creds:
        argv.append(f"--creds={creds}")
    argv.append(f"docker://{ref}")
    return subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout


def _manifest(ref: str, creds: str | None = None) -> tuple[bytes, dict[str, Any]]:
    raw = skopeo_inspect_raw(ref, creds)
    return raw, json.loads(raw)


def _service() -> DockerHubService:
    return DockerHubService(Settings.from_env())


def _docker_login(home: Path, host: str, user: str, password: str) -> None:
    config = home / ".docker" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config.write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def _assert_config_matches(result: Any, config_raw: bytes) -> None:
    """Our config fields equal what skopeo fetched, field by field."""
    cfg = json.loads(config_raw)
    c = cfg.get("config", {})
    assert result.config.env == c.get("Env", [])
    assert result.config.entrypoint == c.get("Entrypoint")
    assert result.config.cmd == c.get("Cmd")
    assert result.config.working_dir == (c.get("WorkingDir") or None)
    assert result.config.user == (c.get("User") or None)
    assert result.config.exposed_ports == sorted(c.get("ExposedPorts", {}))
    assert result.config.labels == c.get("Labels", {})


# -- inspect --


@pytest.mark.parametrize(
    ("tag", "media_type"), [("1.0", OCI_MANIFEST), ("1.0-v2s2", DOCKER_MANIFEST)]
)
def test_inspect_single_manifest_matches_skopeo(registry, tag: str, media_type: str) -> None:
    ref = registry.ref(f"demo/app:{tag}")
    raw, manifest = _manifest(ref)
    config_raw = _skopeo_config(ref)
    with _service() as svc:
        r = svc.inspect(ref)
    assert r.digest == r.manifest_digest == _sha(raw) == registry.seeded.digest(f"demo/app:{tag}")
    assert r.media_type == media_type  # umoci omits `mediaType`: Content-Type decides
    assert manifest.get("mediaType") in (None, media_type)
    assert r.size == sum(layer["size"] for layer in manifest["layers"])
    assert r.layer_count == len(manifest["layers"]) == 2
    assert manifest["config"]["digest"] == _sha(config_raw)
    _assert_config_matches(r, config_raw)
    assert r.config.env == ["PATH=/usr/bin", "APP=1"] and r.config.user == "1000"
    assert r.config.labels == {"org.opencontainers.image.source": "https://example.org/app"}
    assert (r.platform.os, r.platform.architecture) == ("linux", "amd64")
    assert [(p.platform, p.digest, p.size) for p in r.platforms] == [
        ("linux/amd64", _sha(raw), r.size)
    ]


@pytest.mark.parametrize(("tag", "media_type"), [("1.0", OCI_INDEX), ("1.0-v2s2", DOCKER_LIST)])
def test_inspect_two_platform_index(registry, tag: str, media_type: str) -> None:
    ref = registry.ref(f"demo/multi:{tag}")
    raw, index = _manifest(ref)
    with _service() as svc:
        r = svc.inspect(ref)
        arm = svc.inspect(ref, platform="linux/arm64")
    assert r.digest == _sha(raw) and r.media_type == media_type
    children = {
        "/".join(
            x
            for x in (
                m["platform"]["os"],
                m["platform"]["architecture"],
                m["platform"].get("variant"),
            )
            if x
        ): m["digest"]
        for m in index["manifests"]
    }
    assert {p.platform: p.digest for p in r.platforms} == children
    assert r.attestations == []
    for entry, target in ((r, "linux/amd64"), (arm, "linux/arm64/v8")):
        child_raw, child = _manifest(registry.ref(f"demo/multi@{children[target]}"))
        assert entry.manifest_digest == _sha(child_raw) == children[target]
        assert entry.size == sum(layer["size"] for layer in child["layers"])
        sizes = {p.platform: p.size for p in r.platforms}
        assert sizes[target] == entry.size  # every platform's size listed on the index
    assert arm.platform.architecture == "arm64" and arm.platform.variant == "v8"
    _assert_config_matches(arm, _skopeo_config(ref, arch="arm64"))


def test_attestations_are_not_platforms(registry) -> None:
    ref = registry.ref("demo/attested:1.0")
    seeded = registry.seeded["demo/attested:1.0"]
    with _service() as svc:
        r = svc.inspect(ref)
        resolved = resolve_image(svc.clients, ref, "linux/arm64/v8")
    assert [p.platform for p in r.platforms] == ["linux/amd64", "linux/arm64/v8"]
    assert {a.digest for a in r.attestations} == {a.digest for a in seeded.attestations}
    amd64 = seeded.child("linux/amd64")
    [mine] = [a for a in r.attestations if a.reference_digest == amd64.digest]
    assert mine.digest == seeded.attestation_for(amd64.digest).digest
    assert mine.platform == "linux/amd64"
    arm = seeded.child("linux/arm64/v8")
    assert resolved.manifest_digest == arm.digest
    assert resolved.attestation.digest == seeded.attestation_for(arm.digest).digest


# -- layers, history, dockerfile --


def test_layers_and_history_match_skopeo(registry) -> None:
    ref = registry.ref("demo/app:1.1")
    _, manifest = _manifest(ref)
    config = json.loads(_skopeo_config(ref))
    with _service() as svc:
        layers = svc.layers(ref)
        history = svc.history(ref)
    assert [(x.digest, x.size, x.media_type) for x in layers.layers] == [
        (m["digest"], m["size"], m["mediaType"]) for m in manifest["layers"]
    ]
    assert layers.total_size == sum(m["size"] for m in manifest["layers"])
    assert [x.diff_id for x in layers.layers] == config["rootfs"]["diff_ids"]
    assert [(h.created_by, h.empty_layer) for h in history.history] == [
        (h.get("created_by", ""), bool(h.get("empty_layer"))) for h in config["history"]
    ]
    # Docker's alignment: steps without a layer are skipped.
    made = [h for h in history.history if not h.empty_layer]
    assert [h.layer_index for h in made] == [0, 1, 2]
    assert [x.created_by for x in layers.layers] == [
        "ADD rootfs.tar.gz / # buildkit",
        "COPY app/ /app/ # buildkit",
        "RUN make extra # buildkit",
    ]
    assert layers.insights.empty_steps == len(history.history) - 3 > 0


def test_dockerfile_reconstruction(registry) -> None:
    with _service() as svc:
        d = svc.dockerfile(registry.ref("demo/app:1.0"))
    lines = [line for line in d.dockerfile.splitlines() if not line.startswith("#")]
    assert lines == [
        "ADD rootfs.tar.gz /",
        "ENV PATH=/usr/bin",
        "ENV APP=1",
        "WORKDIR /app",
        "COPY app/ /app/",
        "LABEL org.opencontainers.image.source=https://example.org/app",
        "EXPOSE 8080/tcp",
        "USER 1000",
        'ENTRYPOINT ["/bin/sh"]',
        'CMD ["/app/run"]',
    ]
    assert "NOT the original Dockerfile" in d.dockerfile


def test_layers_shared_with_the_annotated_base(registry) -> None:
    based = registry.seeded["demo/based:1.0"]
    base = registry.seeded["demo/base:3.19"]
    with _service() as svc:
        r = svc.layers(registry.ref("demo/based:1.0"))
    assert r.base_image.name == registry.ref("demo/base:3.19")
    assert r.base_image.digest == base.digest
    shared = [x.digest for x in r.layers if x.in_base_image]
    assert shared == [d for d in based.layer_digests if d in set(base.layer_digests)] != []
    assert r.insights.own_size == based.compressed_size - r.insights.base_size


def test_size_with_have(registry) -> None:
    new, old = registry.seeded["demo/app:1.1"], registry.seeded["demo/app:1.0"]
    with _service() as svc:
        r = svc.pull_size(registry.ref("demo/app:1.1"), have=[registry.ref("demo/app:1.0")])
    extra = [x for x in new.layers if x["digest"] not in set(old.layer_digests)]
    assert r.total_size == new.compressed_size
    assert r.download_size == sum(x["size"] for x in extra) and r.download_layer_count == 1
    assert r.shared_size == old.compressed_size


# -- economy: the registry's own access log --


def test_cold_and_warm_inspect_request_counts(registry) -> None:
    ref = registry.ref("demo/app:1.0")
    digest = registry.seeded.digest("demo/app:1.0")
    config = registry.seeded["demo/app:1.0"].config_digest
    mark = registry.log_mark()
    with _service() as svc:
        svc.inspect(ref)
    cold = [(e.method, e.route) for e in registry.requests_since(mark)]
    # One GET by tag (the digest comes with it, verified), then the config: the minimum.
    assert cold == [
        ("GET", "/v2/demo/app/manifests/1.0"),
        ("GET", f"/v2/demo/app/blobs/{config}"),
    ]
    mark = registry.log_mark()
    with _service() as svc:  # a new process would do the same: only the on-disk cache is shared
        svc.inspect(ref)
        svc.layers(ref)
        svc.history(ref)
        svc.dockerfile(ref)
        svc.pull_size(ref)
    assert registry.requests_since(mark) == []
    mark = registry.log_mark()
    with _service() as svc:  # the copy stored under the digest answers a by-digest lookup
        svc.inspect(registry.ref(f"demo/app@{digest}"))
    assert registry.requests_since(mark) == []


def _expire_tag_entries(cache_dir: Path) -> int:
    """Age every cache entry with a lifetime (tag lookups, listings) past it."""
    from datetime import UTC, datetime, timedelta

    from requests_cache.backends.sqlite import SQLiteCache

    cache = SQLiteCache(cache_dir / "http_cache.sqlite", wal=True)
    aged = 0
    try:
        for key in list(cache.responses.keys()):
            response = cache.responses[key]
            if response.expires is not None:
                response.expires = datetime.now(UTC) - timedelta(seconds=5)
                cache.responses[key] = response
                aged += 1
    finally:
        cache.close()
    return aged


@pytest.mark.parametrize("image", ["demo/app:1.0", "demo/multi:1.0"])
def test_revalidation_costs_one_head_then_nothing(registry, image) -> None:
    ref = registry.ref(image)
    with _service() as svc:
        cold = svc.inspect(ref)
        cache_dir = svc.settings.cache_dir
    assert _expire_tag_entries(cache_dir) >= 1
    mark = registry.log_mark()
    with _service() as svc:
        again = svc.inspect(ref)
    assert [(e.method, e.route) for e in registry.requests_since(mark)] == [
        ("HEAD", f"/v2/{image.replace(':', '/manifests/')}")
    ]
    assert again.digest == cold.digest and again.config == cold.config
    mark = registry.log_mark()
    with _service() as svc:  # the HEAD renewed the entry: fresh again
        svc.inspect(ref)
    assert registry.requests_since(mark) == []


def test_revalidation_of_a_moved_tag_fetches_the_new_manifest(registry, image_pusher) -> None:
    from tests.support.standard_images import base_spec

    name = image_pusher.repo("moving") + ":1"
    first = image_pusher.push_image(name, base_spec("amd64", revision="1"))
    ref = registry.ref(name)
    with _service() as svc:
        assert svc.inspect(ref).digest == first.digest
        cache_dir = svc.settings.cache_dir
    second = image_pusher.push_image(name, base_spec("amd64", revision="2"))
    assert second.digest != first.digest
    _expire_tag_entries(cache_dir)
    mark = registry.log_mark()
    with _service() as svc:
        assert svc.inspect(ref).digest == second.digest
    methods = [(e.method, e.route.rsplit("/", 2)[-2]) for e in registry.requests_since(mark)]
    assert methods[:2] == [("HEAD", "manifests"), ("GET", "manifests")]


def test_cold_and_warm_index_and_cli(registry) -> None:
    args = ["inspect", registry.ref("demo/multi:1.0"), "--json"]
    mark = registry.log_mark()
    cold = runner.invoke(app, args)
    assert cold.exit_code == 0, cold.stderr
    methods = [(e.method, e.route.rsplit("/", 2)[-2]) for e in registry.requests_since(mark)]
    # GET the index by tag, the amd64 manifest, its config, the arm64 manifest (size)
    assert methods == [
        ("GET", "manifests"),
        ("GET", "manifests"),
        ("GET", "blobs"),
        ("GET", "manifests"),
    ]
    index_digest = registry.seeded.digest("demo/multi:1.0")
    assert not any(e.route.endswith(index_digest) for e in registry.requests_since(mark))
    mark = registry.log_mark()
    warm = runner.invoke(app, args)
    assert warm.stdout == cold.stdout and registry.requests_since(mark) == []
    assert json.loads(cold.stdout)["digest"] == registry.seeded.digest("demo/multi:1.0")


def test_digest_reference_skips_the_head(registry) -> None:
    digest = registry.seeded.digest("demo/app:1.1")
    mark = registry.log_mark()
    with _service() as svc:
        r = svc.inspect(registry.ref(f"demo/app@{digest}"))
    assert r.digest == digest
    assert [e.method for e in registry.requests_since(mark)] == ["GET", "GET"]


# -- errors --


def test_errors_on_the_real_registry(registry) -> None:
    with _service() as svc:
        with pytest.raises(NotFoundError, match="tag 'nope' not found"):
            svc.inspect(registry.ref("demo/app:nope"))
        with pytest.raises(NotFoundError, match="repository .*demo/nope not found"):
            svc.inspect(registry.ref("demo/nope:1.0"))
        with pytest.raises(PlatformNotFoundError) as info:
            svc.layers(registry.ref("demo/multi:1.0"), platform="linux/s390x")
    assert info.value.available == ["linux/amd64", "linux/arm64/v8"]
    result = runner.invoke(app, ["size", registry.ref("demo/multi:1.0"), "-p", "windows/amd64"])
    assert result.exit_code == 3 and "available: linux/amd64, linux/arm64/v8" in result.stderr


# -- authenticated registries --


def test_token_registry_inspect_anonymous(token_registry) -> None:
    ref = token_registry.ref("public/multi:1.0")
    raw, _ = _manifest(ref)
    server = token_registry.token_server
    tokens = server.mark()
    mark = token_registry.log_mark()
    with _service() as svc:
        r = svc.inspect(ref)
        warm_before = svc.transport.network_requests
        svc.inspect(ref)
        assert svc.transport.network_requests == warm_before
    assert r.digest == _sha(raw) and len(r.platforms) == 2
    log = [(e.method, e.status) for e in token_registry.requests_since(mark)]
    assert log[0] == ("GET", 401) and all(status == 200 for _, status in log[1:])
    assert len(log) == 5  # the 401, then the index by tag, manifest, config, other manifest
    assert len(server.requests_since(tokens)) == 1  # one token for the whole inspect


def test_token_registry_new_process_skips_the_401(token_registry) -> None:
    """The second process knows the realm from the first: token, manifest by tag, config."""
    server = token_registry.token_server
    with _service() as svc:
        svc.inspect(token_registry.ref("public/app:1.0"))
        memory = (svc.settings.cache_dir / "auth-challenges.json").read_text()
    tokens = server.mark()
    mark = token_registry.log_mark()
    with _service() as svc:
        svc.inspect(token_registry.ref("public/app:1.1"))
    log = [
        (e.method, e.route.rsplit("/", 2)[-2], e.status)
        for e in token_registry.requests_since(mark)
    ]
    assert log == [("GET", "manifests", 200), ("GET", "blobs", 200)]
    assert len(server.requests_since(tokens)) == 1
    assert "token" not in json.loads(memory)[token_registry.host]


def test_token_registry_private_with_credentials(token_registry, isolated_env) -> None:
    ref = token_registry.ref("private/app:1.0")
    with _service() as svc, pytest.raises(NotFoundError, match="not found, or access denied"):
        svc.inspect(ref)
    _docker_login(isolated_env / "home", token_registry.host, "alice", "wonderland")
    raw, _ = _manifest(ref, token_registry.creds_str)
    with _service() as svc:
        r = svc.inspect(ref)
    assert r.digest == _sha(raw)
    _assert_config_matches(r, _skopeo_config(ref, creds=token_registry.creds_str))


def test_basic_registry(basic_registry, isolated_env) -> None:
    ref = basic_registry.ref("demo/app:1.0")
    with _service() as svc, pytest.raises(AuthError):
        svc.inspect(ref)
    _docker_login(isolated_env / "home", basic_registry.host, "bob", "builder")
    with _service() as svc:
        r = svc.layers(ref)
    raw, manifest = _manifest(ref, basic_registry.creds_str)
    assert r.digest == _sha(raw)
    assert [x.digest for x in r.layers] == [m["digest"] for m in manifest["layers"]]
