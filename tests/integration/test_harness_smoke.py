"""Smoke tests for the integration harness itself, using plain ``requests`` (not the package).

They prove that the registries, the token server, the access-log counter and the seeded images
behave as the rest of the integration suite assumes.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
from collections.abc import Callable

import pytest
import requests

from tests.support.custom_images import ImagePusher
from tests.support.oci_build import (
    ACCEPT_ALL,
    ATTESTATION_MANIFEST,
    BASE_DIGEST,
    BASE_NAME,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    IN_TOTO,
    OCI_INDEX,
    OCI_MANIFEST,
    PREDICATE_TYPE,
    REFERENCE_DIGEST,
    REFERENCE_TYPE,
    SLSA_V02_PREDICATE,
    SPDX_PREDICATE,
    ImageSpec,
    Layer,
    Step,
)
from tests.support.registry import Registry
from tests.support.seeding import parse_challenge
from tests.support.standard_images import MANY_VERSIONS

from .conftest import require_binaries

TIMEOUT = 10


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _bearer_token(reg: Registry, scope: str, auth: tuple[str, str] | None = None) -> str:
    assert reg.realm is not None
    r = requests.get(
        reg.realm,
        params={"service": reg.service, "scope": scope},
        auth=auth,
        timeout=TIMEOUT,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    return str(body["token"])


# --------------------------------------------------------------------------------------------
# Plain registry
# --------------------------------------------------------------------------------------------
def test_plain_registry_v2_ping(registry: Registry) -> None:
    r = requests.get(f"{registry.url}/v2/", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert registry.host.startswith("127.0.0.1:")


def test_seeded_manifest_matches_registry(registry: Registry) -> None:
    seeded = registry.seeded
    assert seeded is not None
    app = seeded["demo/app:1.0"]
    r = requests.get(
        f"{registry.url}/v2/demo/app/manifests/1.0",
        headers={"Accept": ACCEPT_ALL},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OCI_MANIFEST
    assert r.headers["Docker-Content-Digest"] == app.digest == _sha(r.content)
    assert r.headers["Etag"] == f'"{app.digest}"'
    assert r.content == app.raw and len(r.content) == app.size

    cfg = app.config
    assert cfg is not None
    assert cfg["config"]["Env"] == ["PATH=/usr/bin", "APP=1"]
    assert cfg["config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert cfg["config"]["WorkingDir"] == "/app" and cfg["config"]["User"] == "1000"
    assert cfg["config"]["Labels"]["org.opencontainers.image.source"] == "https://example.org/app"
    history = cfg["history"]
    assert any(h.get("empty_layer") for h in history)
    assert sum(1 for h in history if not h.get("empty_layer")) == len(app.layers) == 2

    # 1.1 adds one layer on top of 1.0; v2s2 is the Docker-format copy.
    assert seeded["demo/app:1.1"].layer_digests[:2] == app.layer_digests
    assert len(seeded["demo/app:1.1"].layers) == 3
    assert seeded["demo/app:1.0-v2s2"].media_type == DOCKER_MANIFEST
    assert seeded["demo/app:latest"].digest == seeded["demo/app:2.0"].digest
    cfg2 = seeded["demo/app:2.0"].config
    assert cfg2 is not None and "APP=2" in cfg2["config"]["Env"]
    assert cfg2["config"]["Labels"]["version"] == "2.0"


def test_multi_platform_indexes(registry: Registry) -> None:
    seeded = registry.seeded
    assert seeded is not None
    oci, docker = seeded["demo/multi:1.0"], seeded["demo/multi:1.0-v2s2"]
    assert oci.media_type == OCI_INDEX and docker.media_type == DOCKER_LIST
    for idx in (oci, docker):
        assert [c.platform_str for c in idx.children] == ["linux/amd64", "linux/arm64/v8"]
    arm = oci.child("linux/arm64/v8")
    assert arm.config is not None and arm.config["variant"] == "v8"
    assert arm.compressed_size != oci.child("linux/amd64").compressed_size


def test_many_tags_repo(registry: Registry) -> None:
    seeded = registry.seeded
    assert seeded is not None
    r = requests.get(f"{registry.url}/v2/demo/many/tags/list", timeout=TIMEOUT)
    assert r.status_code == 200
    tags = r.json()["tags"]
    assert sorted(tags) == seeded.tags("demo/many")
    assert set(MANY_VERSIONS) <= set(tags) and len(tags) >= 60
    assert {"1.2.19-alpine", "1.2.19-slim", "latest"} <= set(tags)
    assert seeded.digest("demo/many:latest") == seeded.digest("demo/many:1.2.19")
    assert seeded.digest("demo/many:1.0.0") != seeded.digest("demo/many:1.0.1")


def test_base_annotations(registry: Registry) -> None:
    seeded = registry.seeded
    assert seeded is not None
    based, base = seeded["demo/based:1.0"], seeded["demo/base:3.19"]
    assert based.annotations[BASE_NAME] == f"{registry.host}/demo/base:3.19"
    assert based.annotations[BASE_DIGEST] == base.digest
    assert based.layer_digests[0] == base.layer_digests[0]
    assert len(based.layers) == len(base.layers) + 1


def test_attestation_index(registry: Registry) -> None:
    url = registry.url
    r = requests.get(
        f"{url}/v2/demo/attested/manifests/1.0", headers={"Accept": ACCEPT_ALL}, timeout=TIMEOUT
    )
    assert r.status_code == 200 and r.headers["Content-Type"] == OCI_INDEX
    entries = r.json()["manifests"]
    images = [e for e in entries if e["platform"]["os"] != "unknown"]
    atts = [e for e in entries if e["platform"] == {"architecture": "unknown", "os": "unknown"}]
    assert len(images) == 2 and len(atts) == 2
    assert entries[:2] == images  # attestations come after the runnable images
    assert {a["annotations"][REFERENCE_DIGEST] for a in atts} == {i["digest"] for i in images}
    assert all(a["annotations"][REFERENCE_TYPE] == ATTESTATION_MANIFEST for a in atts)

    att = requests.get(
        f"{url}/v2/demo/attested/manifests/{atts[0]['digest']}",
        headers={"Accept": ACCEPT_ALL},
        timeout=TIMEOUT,
    ).json()
    by_type = {lay["annotations"][PREDICATE_TYPE]: lay for lay in att["layers"]}
    assert set(by_type) == {SPDX_PREDICATE, SLSA_V02_PREDICATE}
    assert all(lay["mediaType"] == IN_TOTO for lay in att["layers"])

    sbom = requests.get(
        f"{url}/v2/demo/attested/blobs/{by_type[SPDX_PREDICATE]['digest']}", timeout=TIMEOUT
    ).json()
    assert sbom["predicate"]["spdxVersion"] == "SPDX-2.3"
    assert sbom["subject"][0]["digest"]["sha256"] == images[0]["digest"].split(":")[1]
    purls = [
        ref["referenceLocator"]
        for pkg in sbom["predicate"]["packages"]
        for ref in pkg["externalRefs"]
        if ref["referenceType"] == "purl"
    ]
    assert "pkg:pypi/requests@2.31.0" in purls

    prov = requests.get(
        f"{url}/v2/demo/attested/blobs/{by_type[SLSA_V02_PREDICATE]['digest']}", timeout=TIMEOUT
    ).json()["predicate"]
    assert prov["invocation"]["configSource"]["entryPoint"] == "Dockerfile"
    assert prov["materials"][0]["uri"] == "pkg:docker/alpine@3.19?platform=linux%2Famd64"
    assert "buildStartedOn" in prov["metadata"] and "buildFinishedOn" in prov["metadata"]
    seeded = registry.seeded
    assert seeded is not None
    assert prov["builder"]["id"] == seeded.provenance["linux/amd64"].builder_id


# --------------------------------------------------------------------------------------------
# Access log
# --------------------------------------------------------------------------------------------
def test_access_log_counts_requests(registry: Registry) -> None:
    mark = registry.log_mark()
    with requests.Session() as s:
        s.get(f"{registry.url}/v2/", timeout=TIMEOUT)
        s.head(
            f"{registry.url}/v2/demo/app/manifests/1.0",
            headers={"Accept": ACCEPT_ALL},
            timeout=TIMEOUT,
        )
        s.get(f"{registry.url}/v2/demo/app/tags/list?n=5", timeout=TIMEOUT)
        s.get(f"{registry.url}/v2/demo/nope/manifests/x", timeout=TIMEOUT)
    got = registry.requests_since(mark)
    assert got == [
        ("GET", "/v2/", 200),
        ("HEAD", "/v2/demo/app/manifests/1.0", 200),
        ("GET", "/v2/demo/app/tags/list?n=5", 200),
        ("GET", "/v2/demo/nope/manifests/x", 404),
    ]
    assert got[2].route == "/v2/demo/app/tags/list" and got[2].query == "n=5"
    # The marks themselves are not counted, and an idle window is empty.
    assert registry.requests_since(registry.log_mark()) == []


# --------------------------------------------------------------------------------------------
# Token registry
# --------------------------------------------------------------------------------------------
def test_token_registry_challenge_and_anonymous_pull(token_registry: Registry) -> None:
    reg = token_registry
    ts = reg.token_server
    assert ts is not None and reg.seeded is not None
    r = requests.get(f"{reg.url}/v2/", timeout=TIMEOUT)
    assert r.status_code == 401
    scheme, params = parse_challenge(r.headers["WWW-Authenticate"])
    assert scheme == "bearer"
    assert params == {"realm": f"{ts.url}/token", "service": "test-registry"}

    url = f"{reg.url}/v2/public/app/manifests/1.0"
    r = requests.get(url, headers={"Accept": ACCEPT_ALL}, timeout=TIMEOUT)
    assert r.status_code == 401
    _, params = parse_challenge(r.headers["WWW-Authenticate"])
    assert params["scope"] == "repository:public/app:pull"

    mark = ts.mark()
    token = _bearer_token(reg, params["scope"])
    r = requests.get(
        url,
        headers={"Accept": ACCEPT_ALL, "Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200
    assert r.headers["Docker-Content-Digest"] == reg.seeded["public/app:1.0"].digest
    logged = ts.requests_since(mark)
    assert len(logged) == 1
    assert logged[0].authorization is False and logged[0].user is None
    assert logged[0].scopes == ("repository:public/app:pull",)


def test_token_registry_private_needs_credentials(token_registry: Registry) -> None:
    reg = token_registry
    url = f"{reg.url}/v2/private/app/manifests/1.0"
    scope = "repository:private/app:pull"
    anon = _bearer_token(reg, scope)
    r = requests.get(url, headers={"Authorization": f"Bearer {anon}"}, timeout=TIMEOUT)
    assert r.status_code == 401
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]

    alice = _bearer_token(reg, scope, auth=("alice", "wonderland"))
    r = requests.get(
        url,
        headers={"Authorization": f"Bearer {alice}", "Accept": ACCEPT_ALL},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200

    assert reg.realm is not None
    bad = requests.get(
        reg.realm,
        params={"service": reg.service, "scope": scope},
        auth=("alice", "wrong"),
        timeout=TIMEOUT,
    )
    assert bad.status_code == 401
    assert bad.json() == {"details": "incorrect username or password"}


# --------------------------------------------------------------------------------------------
# Basic registry
# --------------------------------------------------------------------------------------------
def test_basic_registry_needs_basic_credentials(basic_registry: Registry) -> None:
    reg = basic_registry
    assert reg.creds == ("bob", "builder") and reg.seeded is not None
    r = requests.get(f"{reg.url}/v2/", timeout=TIMEOUT)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Registry Realm"'
    assert requests.get(f"{reg.url}/v2/", auth=("bob", "nope"), timeout=TIMEOUT).status_code == 401
    r = requests.get(
        f"{reg.url}/v2/demo/multi/manifests/1.0",
        auth=reg.creds,
        headers={"Accept": ACCEPT_ALL},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200
    assert r.headers["Docker-Content-Digest"] == reg.seeded["demo/multi:1.0"].digest


# --------------------------------------------------------------------------------------------
# Custom images, fresh registries, redis, binary rule
# --------------------------------------------------------------------------------------------
def test_image_pusher_custom_image(image_pusher: ImagePusher, registry: Registry) -> None:
    spec = ImageSpec(
        steps=[
            Layer({"etc/base": "v1\n"}, created_by="ADD base.tar /"),
            Step("ENV X=1"),
            Layer({"app/main": "print(1)\n"}, created_by="COPY main /app/main"),
        ],
        env=["X=1"],
        labels={"a": "b"},
        exposed_ports=["9000"],
        volumes=["/data"],
        user="nobody",
        workdir="/app",
        entrypoint=["python3"],
        cmd=["/app/main"],
        platform="linux/arm64/v8",
    )
    name = image_pusher.repo("custom") + ":1"
    first = image_pusher.push_image(name, spec)
    assert first.config is not None
    assert first.config["variant"] == "v8"
    assert first.config["config"]["ExposedPorts"] == {"9000/tcp": {}}
    assert [h.get("empty_layer", False) for h in first.config["history"]] == [False, True, False]

    # Rebuild with a changed layer under the same tag: new digest, shared first layer.
    spec.steps[2] = Layer({"app/main": "print(2)\n"}, created_by="COPY main /app/main")
    second = image_pusher.push_image(name, spec)
    assert second.digest != first.digest
    assert second.layer_digests[0] == first.layer_digests[0]
    r = requests.get(
        f"{registry.url}/v2/{name.replace(':', '/manifests/')}",
        headers={"Accept": ACCEPT_ALL},
        timeout=TIMEOUT,
    )
    assert r.headers["Docker-Content-Digest"] == second.digest

    idx = image_pusher.push_index(
        image_pusher.repo("multi") + ":1",
        [
            ImageSpec(steps=[Layer({"a": "1"})]),
            ImageSpec(steps=[Layer({"a": "2"})], platform="linux/arm64/v8"),
        ],
        attest=True,
    )
    assert [c.platform_str for c in idx.children] == [
        "linux/amd64",
        "linux/arm64/v8",
        "unknown/unknown",
        "unknown/unknown",
    ]
    assert idx.attestation_for(idx.images[0].digest).layers[0]["mediaType"] == IN_TOTO


def test_registry_factory_gives_a_private_registry(
    registry_factory: Callable[..., Registry],
) -> None:
    reg = registry_factory()
    assert reg.seeded is None
    assert requests.get(f"{reg.url}/v2/_catalog", timeout=TIMEOUT).json() == {"repositories": []}
    assert reg.access_log() == [("GET", "/v2/_catalog", 200)]


def test_redis_server(redis_url: str) -> None:
    assert redis_url.startswith("redis://127.0.0.1:") and redis_url.endswith("/0")
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert s.recv(16) == b"+PONG\r\n"


def test_missing_binary_skips_or_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-tool-xyz"):
        require_binaries("no-such-tool-xyz")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install"):
        require_binaries("no-such-tool-xyz")
    require_binaries(sys.executable)  # present: no exception


def test_seed_record_is_json_serialisable(registry: Registry) -> None:
    # Helpers for golden-file style tests: every seeded manifest is valid JSON bytes.
    seeded = registry.seeded
    assert seeded is not None
    for key in seeded:
        json.loads(seeded[key].raw)
    assert {"demo/app", "demo/attested", "demo/based", "demo/many"} <= set(seeded.repos())


def test_make_image_pusher_docker_format_on_basic_registry(
    basic_registry: Registry, make_image_pusher: Callable[[Registry], ImagePusher]
) -> None:
    pusher = make_image_pusher(basic_registry)
    name = pusher.repo("docker") + ":1"
    info = pusher.push_image(
        name, ImageSpec(steps=[Layer({"x": "1"}), Step("ENV X=1")], env=["X=1"], docker=True)
    )
    assert info.media_type == DOCKER_MANIFEST
    r = requests.head(
        f"{basic_registry.url}/v2/{name.replace(':', '/manifests/')}",
        auth=basic_registry.creds,
        headers={"Accept": ACCEPT_ALL},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200 and r.headers["Docker-Content-Digest"] == info.digest
