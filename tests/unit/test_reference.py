"""Reference parsing against distribution/reference's normalize_test.go vectors."""

from __future__ import annotations

import pytest

from dockerhub_cli.errors import InvalidReferenceError
from dockerhub_cli.exitcodes import ExitCode
from dockerhub_cli.oci import source
from dockerhub_cli.oci.reference import parse_reference, parse_repository, validate_tag

DIGEST = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"


@pytest.mark.parametrize(
    ("text", "domain", "path", "familiar"),
    [
        ("ubuntu", "docker.io", "library/ubuntu", "ubuntu"),
        (
            "docker.io/library/ubuntu-12.04-base",
            "docker.io",
            "library/ubuntu-12.04-base",
            "ubuntu-12.04-base",
        ),
        ("index.docker.io/library/debian", "docker.io", "library/debian", "debian"),
        ("docker.io/foo", "docker.io", "library/foo", "foo"),
        ("fooo/bar", "docker.io", "fooo/bar", "fooo/bar"),
        ("docker.io/library/foo/bar", "docker.io", "library/foo/bar", "library/foo/bar"),
        ("localhost/fooo/bar", "localhost", "fooo/bar", "localhost/fooo/bar"),
        (
            "127.0.0.1:8000/private/moonbase",
            "127.0.0.1:8000",
            "private/moonbase",
            "127.0.0.1:8000/private/moonbase",
        ),
        (
            "example.com:8000/privatebasee",
            "example.com:8000",
            "privatebasee",
            "example.com:8000/privatebasee",
        ),
        ("Foo/bar", "Foo", "bar", "Foo/bar"),
        ("[::1]:5000/app", "[::1]:5000", "app", "[::1]:5000/app"),
        ("localhost", "docker.io", "library/localhost", "localhost"),
    ],
)
def test_normalisation(text: str, domain: str, path: str, familiar: str) -> None:
    ref = parse_reference(text)
    assert (ref.domain, ref.path, ref.familiar_name) == (domain, path, familiar)


def test_default_tag_and_digest() -> None:
    assert parse_reference("nginx").tag == "latest"
    pinned = parse_reference(f"redis@{DIGEST}")
    assert (pinned.tag, pinned.digest, pinned.reference) == (None, DIGEST, DIGEST)
    both = parse_reference(f"busybox:1.36@{DIGEST}")
    assert both.reference == DIGEST and both.tag == "1.36"
    assert str(parse_reference("nginx:1.27")) == "nginx:1.27"
    assert str(parse_reference("localhost:5000/app")) == "localhost:5000/app:latest"


def test_port_is_not_a_tag() -> None:
    ref = parse_reference("localhost:5000/demo/app")
    assert (ref.domain, ref.path, ref.tag) == ("localhost:5000", "demo/app", "latest")
    ref = parse_reference("localhost:5000/demo/app:1.0")
    assert ref.tag == "1.0"


def test_hub_namespace_split() -> None:
    assert parse_reference("nginx").hub_namespace_and_name == ("library", "nginx")
    assert parse_reference("bitnami/redis").hub_namespace_and_name == ("bitnami", "redis")
    assert parse_reference("docker.io/a/b/c").hub_namespace_and_name is None
    assert parse_reference("ghcr.io/a/b").hub_namespace_and_name is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("Ubuntu", "must be lowercase"),
        ("docker.io/Library/ubuntu", "must be lowercase"),
        ("a" * 64, "64-byte hexadecimal"),
        ("nginx:-bad", "invalid tag"),
        ("nginx:" + "x" * 129, "invalid tag"),
        ("nginx@sha256:abc", "invalid digest"),
        ("nginx@md5:" + "a" * 32, "unsupported digest algorithm"),
        ("nginx@sha256:" + "A" * 64, "lowercase hex"),
        ("ngi nx", "whitespace"),
        ("nginx?x=1", "not allowed"),
        ("nginx#frag", "not allowed"),
        ("a/../b", "repository name"),
        ("foo//bar", "repository name"),
        ("-foo", "repository name"),
        ("x" * 256, "255 characters"),
        ("exa_mple.com/app", "bad registry host"),
    ],
)
def test_invalid_references_name_the_rule(text: str, words: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text)
    assert words in str(info.value)
    assert info.value.exit_code == ExitCode.USAGE


def test_repository_argument_rejects_tags() -> None:
    assert parse_repository("nginx").tag is None
    with pytest.raises(InvalidReferenceError, match="expected a repository"):
        parse_repository("nginx:1.27")


def test_validate_tag() -> None:
    assert validate_tag("1.27-alpine") == "1.27-alpine"
    with pytest.raises(InvalidReferenceError):
        validate_tag("../etc")


def test_a_url_is_not_a_reference() -> None:
    with pytest.raises(InvalidReferenceError, match="is a URL") as info:
        parse_reference("https://ghcr.io/org/app:1.0")
    assert info.value.hint == "drop 'https://': ghcr.io/org/app:1.0"


@pytest.mark.parametrize(
    "text",
    [
        "oci:examples/hello-oci:1.0",
        "oci:layout",
        "oci-archive:app.tar",
        "docker-archive:/tmp/x.tar",
    ],
)
def test_a_local_source_where_a_registry_image_is_needed_says_so(text: str) -> None:
    """`dockerhub tags|updates|upgrade|readme oci:DIR` (registry-only commands): the error
    names the local source and what to give instead, and never reads `oci-archive:app.tar`
    as the Docker Hub image library/oci-archive, tag app.tar (a file name sent to the Hub)."""
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text)
    assert "is a local image source" in str(info.value) and text in str(info.value)
    assert info.value.hint is not None and "registry" in info.value.hint
    with pytest.raises(InvalidReferenceError, match="is a local image source"):
        parse_repository(text.rsplit(":", 1)[0] if text.count(":") > 1 else text)
    # the parser that reads local sources still reads them
    assert source.parse_source(text).is_local


def test_a_registry_host_named_like_a_transport_is_still_a_registry() -> None:
    assert parse_reference("oci:5000/app:1").domain == "oci:5000"
