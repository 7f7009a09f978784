"""Parsing the four manifest formats, configs, platform rules and Dockerfile reconstruction."""

from __future__ import annotations

import json

import pytest

from dockerhub_cli.errors import InvalidInputError, UnsupportedMediaTypeError, UpstreamError
from dockerhub_cli.oci.history import reconstruct_step
from dockerhub_cli.oci.manifest import ImageIndex, ImageManifest, parse_config, parse_manifest
from dockerhub_cli.oci.platform import (
    Platform,
    compatibility_vector,
    parse_platform,
    select_platform,
)
from tests.unit import registry_fixtures as fx


def test_fixture_digests_are_real() -> None:
    assert (
        fx.sha256(fx.GITEA_MANIFEST) == fx.GITEA_MANIFEST_DIGEST and len(fx.GITEA_MANIFEST) == 423
    )
    assert fx.sha256(fx.GITEA_CONFIG) == fx.GITEA_CONFIG_DIGEST and len(fx.GITEA_CONFIG) == 1069
    assert b"\\/" in fx.NGINX_INDEX  # served like Docker Hub: escaped slashes


def test_docker_schema2_manifest() -> None:
    m = parse_manifest(fx.GITEA_MANIFEST, fx.DOCKER_MANIFEST)
    assert isinstance(m, ImageManifest) and m.media_type == fx.DOCKER_MANIFEST
    assert m.config.digest == fx.GITEA_CONFIG_DIGEST and m.config.size == 1069
    assert [(x.digest, x.size) for x in m.layers] == [(fx.EMPTY_TAR_GZ_DIGEST, 32)]
    assert m.total_size == 32


def test_oci_manifest_sizes_and_annotations() -> None:
    m = parse_manifest(fx.NGINX_MANIFEST, fx.OCI_MANIFEST)
    assert isinstance(m, ImageManifest)
    assert m.total_size == fx.NGINX_TOTAL == 75_600_911
    assert m.annotations["org.opencontainers.image.base.name"] == "debian:bookworm-slim"


def test_oci_index_with_attestation() -> None:
    idx = parse_manifest(fx.NGINX_INDEX, fx.OCI_INDEX + "; charset=utf-8")
    assert isinstance(idx, ImageIndex) and len(idx.manifests) == 3
    assert [str(d.platform) for d in idx.runnable] == ["linux/amd64", "linux/arm64/v8"]
    [att] = idx.attestations
    assert att.attests == fx.sha256(fx.NGINX_MANIFEST) and not att.is_runnable
    assert idx.attestation_for(fx.sha256(fx.NGINX_MANIFEST)) is att
    assert idx.attestation_for(fx.sha256(fx.ARM64_MANIFEST)) is None


def test_docker_manifest_list() -> None:
    idx = parse_manifest(fx.DOCKER_LIST_BODY, fx.DOCKER_LIST)
    assert isinstance(idx, ImageIndex) and idx.media_type == fx.DOCKER_LIST
    assert [str(d.platform) for d in idx.runnable] == ["linux/amd64", "linux/arm/v7"]
    assert idx.attestations == []


def test_media_type_inferred_when_content_type_is_generic() -> None:
    body = json.dumps({"schemaVersion": 2, "manifests": []}).encode()
    assert isinstance(parse_manifest(body, "application/json"), ImageIndex)
    body = json.dumps(json.loads(fx.NGINX_MANIFEST) | {"mediaType": None}).encode()
    assert isinstance(parse_manifest(body, ""), ImageManifest)


@pytest.mark.parametrize("content_type", [fx.SCHEMA1, "application/json", ""])
def test_schema1_is_unsupported(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="schema 1"):
        parse_manifest(fx.SCHEMA1_BODY, content_type)


def test_unknown_media_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="application/vnd.cncf.helm"):
        parse_manifest(b"{}", "application/vnd.cncf.helm.chart.content.v1.tar+gzip")


def test_mediatype_field_must_match_content_type() -> None:
    with pytest.raises(UpstreamError, match="mislabelled|served as"):
        parse_manifest(fx.NGINX_MANIFEST, fx.DOCKER_MANIFEST)


def test_garbage_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError, match="not valid JSON"):
        parse_manifest(b"<html>", fx.OCI_MANIFEST)


def test_config_fields() -> None:
    c = parse_config(fx.NGINX_CONFIG)
    assert c.platform == Platform("linux", "amd64")
    assert c.env == fx.NGINX_ENV and c.exposed_ports == ["80/tcp"]
    assert c.entrypoint == ["/docker-entrypoint.sh"] and c.cmd == ["nginx", "-g", "daemon off;"]
    assert c.stop_signal == "SIGQUIT" and c.labels["maintainer"].startswith("NGINX")
    assert len(c.history) == 14 and sum(not h.empty_layer for h in c.history) == 7
    g = parse_config(fx.GITEA_CONFIG)
    assert g.cmd == ["/true"] and g.created == "2022-01-01T00:00:00.000000000Z"


# -- platforms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/i386", "linux/386"),
        ("arm64", "linux/arm64"),
        ("windows", "windows/amd64"),
        ("LINUX/AMD64", "linux/amd64"),
    ],
)
def test_parse_platform_normalises(text: str, expected: str) -> None:
    assert str(parse_platform(text)) == expected


@pytest.mark.parametrize("text", ["", "linux/", "a/b/c/d", "linux amd64", "foo"])
def test_parse_platform_rejects(text: str) -> None:
    with pytest.raises(InvalidInputError, match="platform"):
        parse_platform(text)


def test_select_exact_then_fallback() -> None:
    cands = [
        (Platform("linux", "amd64"), "a"),
        (Platform("linux", "arm64", "v8"), "b"),
        (Platform("linux", "arm", "v6"), "c"),
        (Platform("unknown", "unknown"), "att"),
    ]
    assert select_platform(parse_platform("linux/arm64"), cands)[1] == "b"
    assert select_platform(parse_platform("linux/aarch64"), cands)[1] == "b"
    assert select_platform(parse_platform("linux/arm/v7"), cands)[1] == "c"  # v7 runs v6
    assert select_platform(parse_platform("linux/s390x"), cands) is None
    assert select_platform(parse_platform("windows/amd64"), cands) is None
    only_arm = [(Platform("linux", "arm", "v7"), "x")]
    assert select_platform(parse_platform("linux/arm64"), only_arm)[1] == "x"
    assert compatibility_vector(parse_platform("linux/amd64/v3"))[-1] == ("386", "")


def test_first_match_wins() -> None:
    cands = [(Platform("linux", "amd64"), 1), (Platform("linux", "amd64"), 2)]
    assert select_platform(parse_platform("linux/amd64"), cands)[1] == 1


# -- dockerfile reconstruction --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created_by", "comment", "expected"),
    [
        ('/bin/sh -c #(nop)  CMD ["bash"]', None, ("CMD", '["bash"]', "classic")),
        ("/bin/sh -c #(nop) ADD file:90b9 in / ", None, ("ADD", "file:90b9 /", "classic")),
        ("/bin/sh -c apt-get update", None, ("RUN", "apt-get update", "classic")),
        ("|2 A=1 B=2 /bin/sh -c make", None, ("RUN", "make", "classic")),
        (
            "RUN /bin/sh -c set -x && true # buildkit",
            "buildkit.dockerfile.v0",
            ("RUN", "set -x && true", "buildkit"),
        ),
        ("COPY a.sh / # buildkit", "buildkit.dockerfile.v0", ("COPY", "a.sh /", "buildkit")),
        (
            "EXPOSE map[80/tcp:{} 443/tcp:{}]",
            "buildkit.dockerfile.v0",
            ("EXPOSE", "80/tcp 443/tcp", "buildkit"),
        ),
        ("ENV A=b", "buildkit.dockerfile.v0", ("ENV", "A=b", "buildkit")),
        ("", None, ("#", "(no command recorded)", "unknown")),
        ("apko", None, ("#", "apko", "unknown")),
    ],
)
def test_reconstruct_step(
    created_by: str, comment: str | None, expected: tuple[str, str, str]
) -> None:
    assert reconstruct_step(created_by, comment) == expected
