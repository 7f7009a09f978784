"""Nested referrers (issue 16's leftover): what is attached to an attached artifact (a cosign
signature of an SBOM, a VEX document about an SBOM and that document's signature), listed under
it to a bounded depth: as a JSON tree (`referrers` inside each referrer, the same fields) and as
an indented tree for people. On the Debian registry (tag fallback + cosign tags) and on the
loopback server that implements the referrers API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from tests.integration.test_referrers_real import _seed_api, descriptor, push_app
from tests.support.custom_images import ImagePusher
from tests.support.oci_build import json_bytes
from tests.support.referrers_server import ReferrersRegistry
from tests.support.signing import (
    COSIGN_SIGNATURE,
    COSIGN_SIMPLESIGNING,
    OCI_EMPTY,
    OPENVEX_JSON,
    SPDX_JSON,
    Attacher,
    Signer,
    cosign_payload,
    debian_packages,
    document_bytes,
    openvex_document,
    spdx_document,
)

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _tree(rows: list[dict]) -> list:
    """(kind, sources, children) of every referrer, recursively: the shape of the JSON tree."""
    return sorted((r["kind"], tuple(r["sources"]), _tree(r["referrers"])) for r in rows)


def test_nested_referrers_from_the_tag_fallback_and_cosign_tags(image_pusher: ImagePusher) -> None:
    repo, info = push_app(image_pusher, "nested")
    ref = image_pusher.ref(f"{repo}:1.0")
    attacher = Attacher(image_pusher.client, repo)
    signer = Signer.generate("ecdsa")
    sbom = attacher.attach(
        descriptor(info),
        SPDX_JSON,
        [(document_bytes(spdx_document(debian_packages())), SPDX_JSON)],
    )
    # level 2: a cosign signature of the SBOM, and a VEX document about it (tag fallback)
    payload = cosign_payload(ref.rsplit(":", 1)[0], sbom.digest)
    attacher.cosign_sign(sbom.digest, [(payload, signer.sign(payload))])
    vex = attacher.attach(
        sbom.descriptor(),
        OPENVEX_JSON,
        [(document_bytes(openvex_document(sbom.digest, [])), OPENVEX_JSON)],
    )
    # level 3: the VEX document's own signature
    vex_payload = cosign_payload(ref.rsplit(":", 1)[0], vex.digest)
    attacher.cosign_sign(vex.digest, [(vex_payload, signer.sign(vex_payload))])
    # a tag fallback that names the image again under the SBOM: a cycle, listed, not followed
    attacher.add_to_fallback(vex.digest, sbom)

    code, out, err = run("referrers", ref, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["depth"] == 3
    sig_tree = ("signature", ("cosign_tag",), [])
    assert _tree(data["referrers"]) == [
        (
            "sbom",
            ("tag_fallback",),
            sorted(
                [
                    sig_tree,
                    ("vex", ("tag_fallback",), sorted([sig_tree, ("sbom", ("tag_fallback",), [])])),
                ]
            ),
        )
    ]
    (top,) = data["referrers"]
    assert top["subject"] == info.digest and top["digest"] == sbom.digest
    level2 = {r["kind"]: r for r in top["referrers"]}
    assert level2["signature"]["subject"] == sbom.digest
    assert level2["signature"]["tags"] == [sbom.digest.replace(":", "-") + ".sig"]
    assert level2["signature"]["layers"][0]["media_type"] == COSIGN_SIMPLESIGNING
    assert level2["vex"]["digest"] == vex.digest
    assert {r["subject"] for r in level2["vex"]["referrers"]} == {vex.digest}
    assert [s["referrers"] for s in data["subjects"]] == [1]  # the image's own only
    # the SBOM reached again through the VEX document's fallback tag is marked, only it
    again = next(r for r in level2["vex"]["referrers"] if r["kind"] == "sbom")
    assert again["digest"] == sbom.digest and again["already_shown"] is True

    def marked(rows: list[dict]) -> list[str]:
        return [m for r in rows for m in ([r["digest"]] if r["already_shown"] else [])] + [
            m for r in rows for m in marked(r["referrers"])
        ]

    assert marked(data["referrers"]) == [sbom.digest]
    # deeper: the cycle is not followed (the SBOM's signature and VEX are not listed again)
    code, out, _ = run("referrers", ref, "--json", "--depth", "5")
    deep = json.loads(out)
    assert code == 0 and _tree(deep["referrers"]) == _tree(data["referrers"])
    assert marked(deep["referrers"]) == [sbom.digest]

    # --depth bounds it: 1 is the image's own referrers, as before nested ones were listed
    code, out, _ = run("referrers", ref, "--json", "--depth", "1")
    shallow = json.loads(out)
    assert code == 0 and _tree(shallow["referrers"]) == [("sbom", ("tag_fallback",), [])]
    code, out, _ = run("referrers", ref, "--json", "--depth", "2")
    two = json.loads(out)
    assert code == 0
    assert all(not r["referrers"] for r in two["referrers"][0]["referrers"])
    assert run("referrers", ref, "--depth", "9")[0] == 2

    # the tree for people: each level indented one step further than its subject
    code, out, _ = run("referrers", ref)
    assert code == 0, out
    lines = out.splitlines()

    def indent(needle: str, after: int = 0) -> tuple[int, int]:
        n = next(i for i, line in enumerate(lines) if i >= after and needle in line)
        return n, len(lines[n]) - len(lines[n].lstrip(" │├└─"))

    sbom_at, sbom_indent = indent("sbom")
    sig_at, sig_indent = indent("signature", sbom_at)
    vex_at, vex_indent = indent("vex", sbom_at)
    vex_sig_at, vex_sig_indent = indent("signature", vex_at)
    assert sig_indent == vex_indent > sbom_indent
    assert vex_sig_indent > vex_indent
    assert "(+4 attached to those)" in out
    again_at, again_indent = indent("sbom", vex_at)
    assert again_indent == vex_sig_indent and "(already shown in this tree)" in lines[again_at]
    assert sum("already shown" in line for line in lines) == 1


@pytest.fixture
def api_registry() -> Iterator[ReferrersRegistry]:
    with ReferrersRegistry(lifetime=120) as server:
        yield server


def test_nested_referrers_through_the_referrers_api(api_registry: ReferrersRegistry) -> None:
    signer = Signer.generate("ecdsa")
    ref, digest = _seed_api(api_registry, signer)
    code, out, err = run("referrers", ref, "--json", "--depth", "1")
    assert code == 0, err
    sbom = next(r for r in json.loads(out)["referrers"] if r["kind"] == "sbom")
    # a signature whose subject is the SBOM, known to the registry only through the API
    payload = cosign_payload(ref.rsplit(":", 1)[0], sbom["digest"])
    empty = {"mediaType": OCI_EMPTY, "digest": api_registry.put_blob(b"{}"), "size": 2}
    signature = json_bytes(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "config": empty,
            "layers": [
                {
                    "mediaType": COSIGN_SIMPLESIGNING,
                    "digest": api_registry.put_blob(payload),
                    "size": len(payload),
                    "annotations": {COSIGN_SIGNATURE: "c2ln"},
                }
            ],
            "subject": {
                "mediaType": sbom["media_type"],
                "digest": sbom["digest"],
                "size": sbom["size"],
            },
        }
    )
    sig_digest = api_registry.put_manifest(
        "demo/app", signature, "application/vnd.oci.image.manifest.v1+json"
    )
    before = len(api_registry.requests)
    code, out, err = run("--no-cache", "referrers", ref, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["referrers_api"] == "supported"
    assert _tree(data["referrers"]) == [
        ("sbom", ("referrers_api",), [("signature", ("referrers_api",), [])]),
        ("signature", ("referrers_api",), []),
    ]
    nested = next(r for r in data["referrers"] if r["kind"] == "sbom")["referrers"][0]
    assert nested["digest"] == sig_digest and nested["subject"] == sbom["digest"]
    # one referrers request per artifact looked up: the image, its two, the SBOM's signature
    asked = [p for _, p in api_registry.requests[before:] if "/referrers/" in p]
    assert len(asked) == 4 and len(set(asked)) == 4
