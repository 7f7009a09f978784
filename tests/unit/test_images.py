"""The image service layer on `responses`: every manifest format, errors, auth and economy."""

from __future__ import annotations

import pytest

from dockerhub_cli import advice
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import (
    DigestMismatchError,
    InvalidInputError,
    NotFoundError,
    PlatformNotFoundError,
    UnsupportedMediaTypeError,
)
from dockerhub_cli.ops.images import resolve_image
from dockerhub_cli.service import DockerHubService
from tests.support.cache import age_cache
from tests.unit import registry_fixtures as fx
from tests.unit.hub_fixtures import load

REG = "https://registry.example.com"
HUB = "https://hub.docker.com"
DOCKER_REG = "https://registry-1.docker.io"
REALM = "https://auth.example.com/token"


@pytest.fixture
def reg(rsps) -> fx.FakeRegistry:
    return fx.FakeRegistry(rsps, REG, "team/app")


def _anonymous(request) -> tuple[bool, str]:
    return "Authorization" not in request.headers, "request carries Authorization"


def _methods(rsps) -> list[str]:
    return [f"{c.request.method} {c.request.url.split('/v2/', 1)[-1]}" for c in rsps.calls]


# -- formats --


def test_inspect_oci_index_default_platform(rsps, reg, service) -> None:
    reg.nginx("1.27.2")
    r = service.inspect("registry.example.com/team/app:1.27.2")
    assert r.digest == fx.sha256(fx.NGINX_INDEX) and r.media_type == fx.OCI_INDEX
    assert r.manifest_digest == fx.sha256(fx.NGINX_MANIFEST)
    assert r.platform.os == "linux" and r.platform.architecture == "amd64"
    assert r.size == fx.NGINX_TOTAL and r.layer_count == 7
    assert r.config.env == fx.NGINX_ENV and r.config.exposed_ports == ["80/tcp"]
    assert r.config.stop_signal == "SIGQUIT" and r.config.labels["maintainer"].startswith("NGINX")
    assert [(p.platform, p.size) for p in r.platforms] == [
        ("linux/amd64", fx.NGINX_TOTAL),
        ("linux/arm64/v8", 29_000_000),
    ]
    assert [p.digest for p in r.platforms] == [
        fx.sha256(fx.NGINX_MANIFEST),
        fx.sha256(fx.ARM64_MANIFEST),
    ]
    [att] = r.attestations  # shown as an attestation, never as a platform
    assert att.reference_digest == r.manifest_digest and att.platform == "linux/amd64"
    assert r.base_image.name == "debian:bookworm-slim"
    assert r.registry == "registry.example.com" and r.repository == "team/app" and r.tag == "1.27.2"
    assert r.repository_info is None  # not Docker Hub
    # Economy: one GET by tag on a cold cache (the digest comes with it), then everything by
    # digest; no HEAD, and the index is never fetched twice.
    assert _methods(rsps)[0] == "GET team/app/manifests/1.27.2"
    assert not any(m.startswith("HEAD") for m in _methods(rsps))
    assert f"GET team/app/manifests/{fx.sha256(fx.NGINX_INDEX)}" not in _methods(rsps)


def test_index_platform_arm64_variant_equivalence(reg, service) -> None:
    reg.nginx()
    for spec in ("linux/arm64", "linux/arm64/v8", "linux/aarch64"):
        r = service.inspect("registry.example.com/team/app:1.27.2", platform=spec)
        assert r.manifest_digest == fx.sha256(fx.ARM64_MANIFEST)
        assert (r.platform.architecture, r.platform.variant) == ("arm64", "v8")


def test_missing_platform_lists_available(reg, service) -> None:
    reg.nginx()
    with pytest.raises(PlatformNotFoundError) as info:
        service.layers("registry.example.com/team/app:1.27.2", platform="linux/s390x")
    assert info.value.available == ["linux/amd64", "linux/arm64/v8"]
    assert "linux/s390x" in str(info.value) and "linux/arm64/v8" in str(info.value)
    assert "\n" not in str(info.value)


def test_inspect_index_without_default_platform_still_lists(reg, service, monkeypatch) -> None:
    reg.nginx()
    monkeypatch.setattr(
        service.clients, "settings", service.settings.replace(platform="linux/ppc64le")
    )
    r = service.inspect("registry.example.com/team/app:1.27.2")
    assert r.platform is None and r.config is None and len(r.platforms) == 2
    assert any(("param", "platform", None) in advice.references(n) for n in r.notes)


def test_docker_manifest_list_and_schema2(reg, service) -> None:
    reg.docker_list("multi")
    r = service.inspect("registry.example.com/team/app:multi")
    assert r.media_type == fx.DOCKER_LIST and r.manifest_digest == fx.GITEA_MANIFEST_DIGEST
    assert r.manifest_media_type == fx.DOCKER_MANIFEST
    assert r.size == 32 and r.config.cmd == ["/true"]
    arm = service.inspect("registry.example.com/team/app:multi", platform="linux/arm")
    assert arm.platform.variant == "v7" and arm.size == 2_500_000


def test_single_docker_manifest(rsps, reg, service) -> None:
    reg.gitea("1.0")
    r = service.inspect("registry.example.com/team/app:1.0")
    assert r.digest == r.manifest_digest == fx.GITEA_MANIFEST_DIGEST
    assert r.media_type == fx.DOCKER_MANIFEST and r.attestations == []
    assert [(p.platform, p.digest, p.size, p.manifest_size) for p in r.platforms] == [
        ("linux/amd64", fx.GITEA_MANIFEST_DIGEST, 32, 423)
    ]
    assert r.created.year == 2022 and r.config.env[0].startswith("PATH=")
    with pytest.raises(PlatformNotFoundError) as info:
        service.inspect("registry.example.com/team/app:1.0", platform="linux/arm64")
    assert info.value.available == ["linux/amd64"]


@pytest.mark.parametrize(
    "needs",
    [{}, {"with_config": False}, {"with_manifest": False}],
    ids=["config", "no-config", "no-manifest"],
)
def test_single_manifest_checks_an_explicit_platform_whatever_is_needed(
    rsps, reg, service, needs: dict[str, bool]
) -> None:
    """`files`/`waste`/`diff`/... (no config needed) and `sbom`/`provenance` (no manifest
    needed) refuse a wrong --platform on a single manifest as `inspect` does: its config is
    read once for the check (cached), and the default platform is not checked."""
    reg.gitea("1.0")
    ref = "registry.example.com/team/app:1.0"
    with pytest.raises(PlatformNotFoundError) as info:
        resolve_image(service.clients, ref, "linux/s390x", **needs)
    assert info.value.available == ["linux/amd64"]
    assert "no image for platform linux/s390x" in info.value.message
    resolved = resolve_image(service.clients, ref, "linux/amd64", **needs)
    assert resolved.config is not None and resolved.platform_source == "config"
    blob_gets = [c for c in rsps.calls if "/blobs/" in c.request.url]
    assert len(blob_gets) == 1  # the config, once: the second check read it from the cache
    resolve_image(service.clients, ref, None, **needs)  # the default: nothing to choose


def test_reference_with_digest_skips_head(rsps, reg, service) -> None:
    reg.gitea()
    service.inspect(f"registry.example.com/team/app@{fx.GITEA_MANIFEST_DIGEST}")
    assert not any(m.startswith("HEAD") for m in _methods(rsps))


def test_schema1_is_unsupported(reg, service) -> None:
    reg.manifest(fx.SCHEMA1_BODY, fx.SCHEMA1, tags=("old",))
    with pytest.raises(UnsupportedMediaTypeError, match="schema 1"):
        service.inspect("registry.example.com/team/app:old")


def test_missing_tag_404_with_registry_error_body(reg, service) -> None:
    reg.missing("nope")
    with pytest.raises(NotFoundError) as info:
        service.inspect("registry.example.com/team/app:nope")
    assert "'nope'" in str(info.value) and "dockerhub tags" in str(info.value)


def test_missing_repository_name_unknown(rsps, service) -> None:
    bad = fx.FakeRegistry(rsps, REG, "team/nope")
    bad.missing("1.0", fx.NAME_UNKNOWN)
    with pytest.raises(NotFoundError, match="repository registry.example.com/team/nope not found"):
        service.history("registry.example.com/team/nope:1.0")


def test_digest_mismatch_is_an_error_never_data(rsps, reg, service) -> None:
    liar = fx.GITEA_MANIFEST.replace(b'"size":32', b'"size":33')
    reg.manifest(liar, fx.DOCKER_MANIFEST, tags=("1.0",), digest=fx.GITEA_MANIFEST_DIGEST)
    with pytest.raises(DigestMismatchError, match="does not match"):
        service.inspect("registry.example.com/team/app:1.0")


def test_config_blob_digest_mismatch(rsps, reg, service) -> None:
    reg.manifest(fx.GITEA_MANIFEST, fx.DOCKER_MANIFEST, tags=("1.0",))
    reg.blob(fx.GITEA_CONFIG + b" ", digest=fx.GITEA_CONFIG_DIGEST)
    with pytest.raises(DigestMismatchError):
        service.history("registry.example.com/team/app:1.0")


# -- auth and economy --


def test_bearer_challenge_flow_and_request_counts(rsps, reg, service) -> None:
    challenge = (
        f'Bearer realm="{REALM}",service="registry.example.com",scope="repository:team/app:pull"'
    )
    rsps.get(
        reg.url("manifests/1.27.2"),
        status=401,
        headers={"WWW-Authenticate": challenge},
        match=[_anonymous],
    )
    rsps.get(REALM, json={"token": "T", "access_token": "T", "expires_in": 300})
    reg.nginx("1.27.2")
    ref = "registry.example.com/team/app:1.27.2"
    cold_before = service.transport.network_requests
    service.inspect(ref)
    cold = service.transport.network_requests - cold_before
    # 401 GET, token, GET index by tag, GET amd64 manifest, GET config, GET arm64 manifest (size)
    assert cold == 6, _methods(rsps)
    authed = [c for c in rsps.calls if "/v2/" in c.request.url][1:]
    assert all(c.request.headers.get("Authorization") == "Bearer T" for c in authed)
    warm_before = service.transport.network_requests
    service.inspect(ref)
    assert service.transport.network_requests - warm_before == 0


def test_warm_inspect_in_a_new_process_is_free(rsps, reg) -> None:
    reg.nginx()
    settings = Settings.from_env(backoff_factor=0.0)
    with DockerHubService(settings) as first:
        first.inspect("registry.example.com/team/app:1.27.2")
        assert first.transport.network_requests == 4  # index by tag, 2 manifests, config
    with DockerHubService(settings) as second:  # fresh session, same on-disk cache
        second.inspect("registry.example.com/team/app:1.27.2")
        assert second.transport.network_requests == 0
        second.layers("registry.example.com/team/app:1.27.2")
        assert second.transport.network_requests == 0
        # `dockerfile` also reads the attestation manifest (by digest, cached forever) to look
        # for a SLSA provenance naming the real Dockerfile: one request the first time only.
        second.dockerfile("registry.example.com/team/app:1.27.2")
        assert second.transport.network_requests == 1
        second.dockerfile("registry.example.com/team/app:1.27.2")
        assert second.transport.network_requests == 1


def test_expired_tag_costs_one_head(rsps, reg) -> None:
    reg.nginx()
    settings = Settings.from_env(backoff_factor=0.0)
    settings = settings.replace(ttls={**settings.ttls, "manifest_by_tag": 1})
    with DockerHubService(settings) as svc:
        svc.inspect("registry.example.com/team/app:1.27.2")
        assert age_cache(svc) >= 1  # the tag's 1 s lifetime has run out
        before = svc.transport.network_requests
        svc.inspect("registry.example.com/team/app:1.27.2")
        assert svc.transport.network_requests - before == 1
        assert _methods(rsps)[-1] == "HEAD team/app/manifests/1.27.2"


# -- layers, history, dockerfile, size --


def test_layers_align_history_like_docker(reg, service) -> None:
    reg.nginx()
    r = service.layers("registry.example.com/team/app:1.27.2")
    assert r.total_size == fx.NGINX_TOTAL and len(r.layers) == 7
    assert [(x.digest, x.size) for x in r.layers] == fx.NGINX_LAYERS
    assert r.layers[0].created_by.startswith("/bin/sh -c #(nop) ADD file:")
    assert r.layers[1].created_by.startswith("RUN /bin/sh -c set -x")
    assert r.layers[6].created_by.startswith("COPY 30-tune")
    assert r.layers[0].diff_id == fx.NGINX_DIFF_IDS[0]
    assert abs(sum(x.share for x in r.layers) - 1) < 0.001
    assert [h.layer_index for h in r.history] == [
        0,
        None,
        None,
        None,
        1,
        2,
        3,
        4,
        5,
        6,
        None,
        None,
        None,
        None,
    ]
    assert r.insights.largest == [1, 0, 6] and r.insights.empty_steps == 7
    # the base (debian:bookworm-slim on Docker Hub) is unreachable here: a note, not an error
    assert r.insights.base_layers is None and any("base image" in n for n in r.insights.notes)


def test_layers_shared_with_known_base(rsps, reg, service) -> None:
    base_reg = fx.FakeRegistry(rsps, REG, "team/base")
    base_reg.gitea("1.0")
    cfg = fx.config_bytes(
        history=[
            ("/bin/sh -c #(nop) ADD file:x in / ", None, False),
            ("RUN /bin/sh -c make # buildkit", "buildkit.dockerfile.v0", False),
        ]
    )
    own = ("sha256:" + "ee" * 32, 1000)
    manifest = fx.image_manifest(
        cfg,
        [(fx.EMPTY_TAR_GZ_DIGEST, 32), own],
        annotations={
            "org.opencontainers.image.base.name": "registry.example.com/team/base:1.0",
            "org.opencontainers.image.base.digest": fx.GITEA_MANIFEST_DIGEST,
        },
    )
    reg.manifest(manifest, fx.OCI_MANIFEST, tags=("based",))
    reg.blob(cfg)
    r = service.layers("registry.example.com/team/app:based")
    assert [x.in_base_image for x in r.layers] == [True, False]
    assert (r.insights.base_layers, r.insights.base_size, r.insights.own_size) == (1, 32, 1000)


def test_history_and_dockerfile(reg, service) -> None:
    reg.nginx()
    h = service.history("registry.example.com/team/app:1.27.2")
    assert len(h.history) == 14 and h.history[1].empty_layer
    d = service.dockerfile("registry.example.com/team/app:1.27.2")
    lines = d.dockerfile.splitlines()
    assert lines[0].startswith("# Reconstructed") and "NOT the original" in lines[1]
    assert "ADD file:90b9dd8f12120e8b2cd3ece45fcbe8af67e40565e2032a40f64bd921c43e2ce7 /" in lines
    assert 'CMD ["bash"]' in lines and "ENV NGINX_VERSION=1.27.2" in lines
    assert "RUN set -x && groupadd --system --gid 101 nginx && ..." in lines
    assert "EXPOSE 80/tcp" in lines and "STOPSIGNAL SIGQUIT" in lines
    assert d.reconstructed and d.instructions[0].builder == "classic"
    assert d.instructions[4].builder == "buildkit"


def test_pull_size_with_have(rsps, reg, service) -> None:
    reg.nginx()
    other = fx.FakeRegistry(rsps, REG, "team/base")
    cfg = fx.config_bytes()
    other.manifest(fx.image_manifest(cfg, fx.NGINX_LAYERS[:2]), fx.OCI_MANIFEST, tags=("1",))
    other.blob(cfg)
    alone = service.pull_size("registry.example.com/team/app:1.27.2")
    assert alone.download_size == alone.total_size == fx.NGINX_TOTAL
    r = service.pull_size(
        "registry.example.com/team/app:1.27.2", have=["registry.example.com/team/base:1"]
    )
    assert r.shared_size == 30217611 + 45378600
    assert r.download_size == fx.NGINX_TOTAL - r.shared_size == 4700
    assert r.download_layer_count == 5 and len(r.shared_layers) == 2
    assert "downloads only 4.7 kB" in r.summary
    # everything present, or nothing shared: the summary says so (no "downloads only" all)
    r = service.pull_size(
        "registry.example.com/team/base:1", have=["registry.example.com/team/app:1.27.2"]
    )
    assert r.download_size == 0
    assert r.summary.endswith("downloads nothing: all 2 layers are there already")
    third = fx.FakeRegistry(rsps, REG, "team/other")
    third.manifest(fx.image_manifest(cfg, fx.NGINX_LAYERS[2:4]), fx.OCI_MANIFEST, tags=("1",))
    third.blob(cfg)
    r = service.pull_size(
        "registry.example.com/team/other:1", have=["registry.example.com/team/base:1"]
    )
    assert r.shared_size == 0 and r.download_size == r.total_size
    assert "downloads all of it, 2 layers" in r.summary and "only" not in r.summary


def test_manifest_report(reg, service) -> None:
    reg.nginx()
    top = service.manifest("registry.example.com/team/app:1.27.2")
    assert top.media_type == fx.OCI_INDEX and top.size == len(fx.NGINX_INDEX)
    assert top.manifest["manifests"][0]["mediaType"] == fx.OCI_MANIFEST  # `\/` decoded
    arm = service.manifest("registry.example.com/team/app:1.27.2", platform="linux/arm64")
    assert arm.digest == fx.sha256(fx.ARM64_MANIFEST) and arm.index_digest == top.digest
    assert arm.manifest["layers"][0]["size"] == 29_000_000


def test_resolve_image_exposes_attestation_for_sbom(reg, service) -> None:
    reg.nginx()
    resolved = resolve_image(service.clients, "registry.example.com/team/app:1.27.2")
    assert resolved.attestation is not None
    assert resolved.attestation.digest == fx.sha256(fx.ATTESTATION_MANIFEST)
    assert resolved.pinned.digest == fx.sha256(fx.NGINX_MANIFEST)


# -- Docker Hub --


def test_docker_hub_inspect_includes_repository_facts(rsps, service) -> None:
    hub_reg = fx.FakeRegistry(rsps, DOCKER_REG, "library/nginx")
    hub_reg.nginx("1.27.2")
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nginx",
        json={
            "user": "library",
            "name": "nginx",
            "namespace": "library",
            "description": "Official build of Nginx.",
            "star_count": 21357,
            "pull_count": 12345678901,
            "last_updated": "2026-08-12T01:51:00.648Z",
            "status_description": "Active",
            "is_private": False,
            "media_types": [fx.OCI_INDEX],
            "categories": [{"name": "Web servers", "slug": "web-servers"}],
        },
    )
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nginx/tags",
        json={"count": 1042, "next": None, "previous": None, "results": []},
    )
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nginx/tags/1.27.2",
        json={
            "name": "1.27.2",
            "tag_last_pushed": "2026-07-30T04:44:13.965904Z",
            "tag_last_pulled": "2026-08-07T11:31:46.163535986Z",
            "images": [
                {
                    "architecture": "arm64",
                    "os": "linux",
                    "variant": "v8",
                    "digest": fx.sha256(fx.ARM64_MANIFEST),
                    "size": 29_000_001,
                },
                {
                    "architecture": "unknown",
                    "os": "unknown",
                    "digest": "sha256:" + "0" * 64,
                    "size": 1,
                },
            ],
        },
    )
    r = service.inspect("nginx:1.27.2")
    assert r.reference == "nginx:1.27.2" and r.registry == "docker.io"
    assert r.repository == "library/nginx"
    info = r.repository_info
    assert (info.star_count, info.pull_count, info.tag_count) == (21357, 12345678901, 1042)
    assert info.description == "Official build of Nginx." and info.status == "active"
    assert info.categories == ["Web servers"] and info.is_official
    # the other platform's size came from the Hub tag API, not from an extra manifest pull
    assert [p.size for p in r.platforms] == [fx.NGINX_TOTAL, 29_000_001]
    assert not any(fx.sha256(fx.ARM64_MANIFEST) in c.request.url for c in rsps.calls)
    # the tag's last push and pull, from that same tag object (one request for both uses)
    assert r.tag_last_pushed is not None and r.tag_last_pushed.isoformat().startswith("2026-07-30")
    assert r.tag_last_pulled is not None and r.tag_last_pulled.day == 7
    tag_urls = [c.request.url for c in rsps.calls if c.request.url.endswith("/tags/1.27.2")]
    assert len(tag_urls) == 1
    # fields the Hub did not send are unknown, never invented
    assert info.immutable_tags is None and info.content_types == []


def test_repository_details_report_content_types_storage_and_immutable_tags(rsps, service) -> None:
    """repository_info shape: tests/fixtures/hub/repository_nginx.json (API.md A.5.2)."""
    rsps.get(f"{HUB}/v2/namespaces/library/repositories/nginx", json=load("repository_nginx.json"))
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nginx/tags",
        json={"count": 1042, "next": None, "previous": None, "results": []},
    )
    info = service.repository_info("nginx")
    assert info.content_types == ["image"] and info.categories == ["Web servers"]
    assert info.storage_size == 123456789012 and info.immutable_tags is False
    assert fx.OCI_INDEX in info.media_types


def test_hub_facts_failure_is_a_note(rsps, service) -> None:
    fx.FakeRegistry(rsps, DOCKER_REG, "library/nginx").gitea("1.0")
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nginx", status=503, json={"message": "down"}
    )
    r = service.inspect("nginx:1.0")
    assert r.repository_info is None and any("repository facts" in n for n in r.notes)


def test_repository_info_needs_docker_hub(service) -> None:
    with pytest.raises(InvalidInputError, match="only for Docker Hub"):
        service.repository_info("ghcr.io/org/app")


def test_manifest_unknown_for_a_missing_repository_is_told_apart(rsps, service) -> None:
    # distribution answers MANIFEST_UNKNOWN for unknown repositories too; tags/list tells.
    fx.FakeRegistry(rsps, REG, "team/gone").missing("1.0")
    rsps.get(f"{REG}/v2/team/gone/tags/list", status=404, json=fx.NAME_UNKNOWN)
    with pytest.raises(NotFoundError, match="repository registry.example.com/team/gone not found"):
        service.inspect("registry.example.com/team/gone:1.0")
    fx.FakeRegistry(rsps, REG, "team/app").missing("nope")
    rsps.get(f"{REG}/v2/team/app/tags/list", json={"name": "team/app", "tags": ["1.0"]})
    with pytest.raises(
        NotFoundError, match="tag 'nope' not found in registry.example.com/team/app"
    ):
        service.inspect("registry.example.com/team/app:nope")
