"""`referrers`, `verify`, and `sbom`/`vulns` reading attached artifacts, on real registries.

* The Debian `docker-registry` (distribution 2.8) has no referrers API: images there are signed
  with generated keys in cosign's exact format (`sha256-<hex>.sig`), and SPDX, CycloneDX and
  OpenVEX artifacts are attached through the referrers *tag fallback* (`sha256-<hex>` index).
* The referrers API itself is tested against :class:`ReferrersRegistry` (tests/support), a
  loopback server implementing the endpoint per the distribution spec.

OSV is faked with `responses` (registry traffic passed through to 127.0.0.1).
"""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from tests.support.custom_images import ImagePusher
from tests.support.oci_build import ImageSpec, Layer, json_bytes
from tests.support.referrers_server import ReferrersRegistry
from tests.support.seeding import ManifestInfo
from tests.support.signing import (
    COSIGN_SIGNATURE,
    COSIGN_SIMPLESIGNING,
    CYCLONEDX_JSON,
    NOTATION_SIGNATURE,
    OCI_EMPTY,
    OPENVEX_JSON,
    SPDX_JSON,
    Attacher,
    Signer,
    cosign_payload,
    cyclonedx_document,
    debian_packages,
    document_bytes,
    openvex_document,
    pypi_packages,
    spdx_document,
)

runner = CliRunner()
OSV = "https://osv.test"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def descriptor(info: ManifestInfo) -> dict:
    return {"mediaType": info.media_type, "digest": info.digest, "size": info.size}


@dataclass
class Attached:
    ref: str  # HOST/repo:tag
    repo: str
    info: ManifestInfo
    attacher: Attacher
    signer: Signer


def push_app(pusher: ImagePusher, name: str, content: str = "app") -> tuple[str, ManifestInfo]:
    repo = pusher.repo(name)
    info = pusher.push_image(
        f"{repo}:1.0", ImageSpec(steps=[Layer({"app/main.py": f"print('{content}')\n"})])
    )
    return repo, info


def sign(a: Attached, signer: Signer | None = None, *, digest: str | None = None) -> None:
    payload = cosign_payload(f"{a.ref.rsplit(':', 1)[0]}", digest or a.info.digest)
    a.attacher.cosign_sign(a.info.digest, [(payload, (signer or a.signer).sign(payload))])


@pytest.fixture
def attached(image_pusher: ImagePusher) -> Attached:
    """An image signed with an ECDSA P-256 key (cosign format), with an SPDX SBOM, a CycloneDX
    SBOM and an OpenVEX document attached through the referrers tag fallback."""
    repo, info = push_app(image_pusher, "signed")
    a = Attached(
        image_pusher.ref(f"{repo}:1.0"),
        repo,
        info,
        Attacher(image_pusher.client, repo),
        Signer.generate("ecdsa"),
    )
    sign(a)
    subject = descriptor(info)
    packages = [*debian_packages(), *pypi_packages()]
    a.attacher.attach(subject, SPDX_JSON, [(document_bytes(spdx_document(packages)), SPDX_JSON)])
    a.attacher.attach(
        subject,
        CYCLONEDX_JSON,
        [(document_bytes(cyclonedx_document(debian_packages())), CYCLONEDX_JSON)],
    )
    vex = openvex_document(
        info.digest,
        [
            {
                "vulnerability": {"name": "CVE-2024-37891"},
                "subcomponents": ["pkg:pypi/urllib3@2.0.0rc1"],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "the proxy code path is never used",
            }
        ],
    )
    a.attacher.attach(subject, OPENVEX_JSON, [(document_bytes(vex), OPENVEX_JSON)])
    return a


def write_key(tmp_path: Path, signer: Signer, name: str = "cosign.pub") -> str:
    path = tmp_path / name
    path.write_bytes(signer.public_pem)
    return str(path)


# -- referrers ------------------------------------------------------------------------------


def test_distribution_has_no_referrers_api(registry, attached: Attached) -> None:
    """The Debian registry answers 404 on the referrers endpoint: the fallback is needed."""
    conn = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=10)
    try:
        conn.request("GET", f"/v2/{attached.repo}/referrers/{attached.info.digest}")
        status = conn.getresponse().status
    finally:
        conn.close()
    assert status == 404


def test_referrers_merges_cosign_tags_and_the_tag_fallback(registry, attached: Attached) -> None:
    code, out, err = run("referrers", attached.ref, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["referrers_api"] == "unsupported" and not data["referrers_api_remembered"]
    assert data["digest"] == attached.info.digest
    kinds = sorted((r["kind"], r["artifact_type"], tuple(r["sources"])) for r in data["referrers"])
    assert kinds == [
        ("sbom", SPDX_JSON, ("tag_fallback",)),
        ("sbom", CYCLONEDX_JSON, ("tag_fallback",)),
        ("signature", "application/vnd.dev.cosign.artifact.sig.v1+json", ("cosign_tag",)),
        ("vex", OPENVEX_JSON, ("tag_fallback",)),
    ]
    signature = next(r for r in data["referrers"] if r["kind"] == "signature")
    assert signature["tags"] == [attached.info.digest.replace(":", "-") + ".sig"]
    assert signature["layers"][0]["media_type"] == COSIGN_SIMPLESIGNING
    assert COSIGN_SIGNATURE in signature["layers"][0]["annotations"]
    assert all(r["subject"] == attached.info.digest for r in data["referrers"])
    assert all(r["size"] and r["digest"].startswith("sha256:") for r in data["referrers"])

    # The tree for people.
    code, out, _ = run("referrers", attached.ref)
    assert code == 0
    assert "signature" in out and "tag fallback" in out and "cosign tag" in out

    # The support answer is remembered: a second run asks the referrers endpoint nothing.
    mark = registry.log_mark()
    code, out, err = run("referrers", attached.ref, "--json")
    assert code == 0, err
    assert json.loads(out)["referrers_api_remembered"] is True
    assert not [e for e in registry.requests_since(mark) if "/referrers/" in e.route]


def test_referrers_type_filter(registry, attached: Attached) -> None:
    code, out, err = run("referrers", attached.ref, "--type", SPDX_JSON, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [r["artifact_type"] for r in data["referrers"]] == [SPDX_JSON]
    assert data["artifact_type_filter"] == SPDX_JSON


# -- verify ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ecdsa", "rsa", "ed25519"])
def test_verify_each_key_type(image_pusher: ImagePusher, tmp_path: Path, kind: str) -> None:
    repo, info = push_app(image_pusher, f"key-{kind}")
    a = Attached(
        image_pusher.ref(f"{repo}:1.0"),
        repo,
        info,
        Attacher(image_pusher.client, repo),
        Signer.generate(kind),  # type: ignore[arg-type]
    )
    sign(a)
    code, out, err = run("verify", a.ref, "--key", write_key(tmp_path, a.signer), "--json")
    assert code == 0, (out, err)
    data = json.loads(out)
    assert data["status"] == "verified" and data["digest"] == info.digest
    assert data["key_type"].startswith({"ecdsa": "ecdsa-p256", "rsa": "rsa-2048"}.get(kind, kind))
    check = data["signatures"][0]
    assert check["status"] == "verified" and check["signed_digest"] == info.digest
    assert check["sources"] == ["cosign_tag"]


def test_verify_rejects_another_key(attached: Attached, tmp_path: Path) -> None:
    other = write_key(tmp_path, Signer.generate("ecdsa"), "other.pub")
    code, out, err = run("verify", attached.ref, "--key", other)
    assert code == 10, (out, err)
    assert "INVALID" in out and "does not verify" in out


def test_verify_rejects_a_tampered_signature(image_pusher: ImagePusher, tmp_path: Path) -> None:
    repo, info = push_app(image_pusher, "tampered")
    a = Attached(
        image_pusher.ref(f"{repo}:1.0"),
        repo,
        info,
        Attacher(image_pusher.client, repo),
        Signer.generate("ecdsa"),
    )
    payload = cosign_payload(a.ref.rsplit(":", 1)[0], info.digest)
    signature = bytearray(a.signer.sign(payload))
    signature[-1] ^= 0x01
    a.attacher.cosign_sign(info.digest, [(payload, bytes(signature))])
    code, out, err = run("verify", a.ref, "--key", write_key(tmp_path, a.signer), "--json")
    assert code == 10, (out, err)
    data = json.loads(out)
    assert data["status"] == "invalid" and "does not verify" in data["reason"]


def test_verify_rejects_a_valid_signature_over_another_digest(
    image_pusher: ImagePusher, tmp_path: Path
) -> None:
    repo, info = push_app(image_pusher, "other-digest")
    _, other = push_app(image_pusher, "elsewhere", content="another image")
    assert other.digest != info.digest
    a = Attached(
        image_pusher.ref(f"{repo}:1.0"),
        repo,
        info,
        Attacher(image_pusher.client, repo),
        Signer.generate("ecdsa"),
    )
    sign(a, digest=other.digest)  # a correct signature, of a payload naming another image
    code, out, err = run("verify", a.ref, "--key", write_key(tmp_path, a.signer), "--json")
    assert code == 10, (out, err)
    data = json.loads(out)
    assert data["status"] == "invalid"
    assert f"signs another digest ({other.digest})" in data["reason"]
    assert data["signatures"][0]["signed_digest"] == other.digest


def test_verify_rejects_another_repository(image_pusher: ImagePusher, tmp_path: Path) -> None:
    repo, info = push_app(image_pusher, "wrong-repo")
    a = Attached(
        image_pusher.ref(f"{repo}:1.0"),
        repo,
        info,
        Attacher(image_pusher.client, repo),
        Signer.generate("ed25519"),
    )
    payload = cosign_payload("docker.io/someone/else", info.digest)
    a.attacher.cosign_sign(info.digest, [(payload, a.signer.sign(payload))])
    code, out, _ = run("verify", a.ref, "--key", write_key(tmp_path, a.signer), "--json")
    assert code == 10
    assert "names another repository" in json.loads(out)["reason"]


def test_verify_unsigned_and_unverifiable(image_pusher: ImagePusher, tmp_path: Path) -> None:
    repo, info = push_app(image_pusher, "unsigned")
    ref = image_pusher.ref(f"{repo}:1.0")
    key = write_key(tmp_path, Signer.generate("ecdsa"))
    code, out, _ = run("verify", ref, "--key", key, "--json")
    assert code == 11 and json.loads(out)["status"] == "unsigned"
    # A Notation signature is listed, never verified.
    attacher = Attacher(image_pusher.client, repo)
    attacher.attach(
        descriptor(info),
        NOTATION_SIGNATURE,
        [(b"not a real JWS", "application/jose+json")],
    )
    # (--no-cache: the tag list of the first run is cached for the tags TTL)
    code, out, _ = run("verify", ref, "--key", key, "--json", "--no-cache")
    data = json.loads(out)
    assert code == 12 and data["status"] == "unverifiable"
    assert data["signatures"][0]["kind"] == "notation"


def test_verify_without_key_is_unverifiable(attached: Attached) -> None:
    code, out, _ = run("verify", attached.ref, "--json")
    data = json.loads(out)
    assert code == 12 and data["status"] == "unverifiable"
    assert "no --key" in data["reason"]


# -- sbom and vulns from attached documents -------------------------------------------------


def test_sbom_from_the_tag_fallback_merges_spdx_and_cyclonedx(attached: Attached) -> None:
    code, out, err = run("sbom", attached.ref, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["sbom_source"] == "tag_fallback"
    assert data["platform"]["os"] == "linux"  # a single manifest: from its config
    assert data["distro"] == {"id": "debian", "version_id": "12", "ecosystem": "Debian:12"}
    names = sorted(p["name"] for p in data["packages"])
    # SPDX has all five, CycloneDX repeats the three Debian ones: merged, not doubled.
    assert names == ["bash", "libssl3", "requests", "urllib3", "zlib1g"]
    assert len(data["sbom_digests"]) == 2


DEBIAN_OPENSSL = {
    "id": "DEBIAN-CVE-2023-5678",
    "modified": "2024-09-18T03:22:31Z",
    "summary": "openssl: excessive time spent in DH checks",
    "affected": [
        {
            "package": {"name": "openssl", "ecosystem": "Debian:11"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u2"}],
                }
            ],
        },
        {
            "package": {"name": "openssl", "ecosystem": "Debian:12"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [
                        {"introduced": "0"},
                        {"fixed": "3.0.11-1~deb12u3"},
                        {"introduced": "3.1.0"},
                        {"fixed": "3.0.11-1"},
                    ],
                }
            ],
        },
    ],
}
GHSA_URLLIB3 = {
    "id": "GHSA-34jh-p97f-mpxf",
    "aliases": ["CVE-2024-37891"],
    "summary": "urllib3's Proxy-Authorization request header isn't stripped during redirects",
    "modified": "2024-06-18T00:00:00Z",
    "severity": [
        {
            "type": "CVSS_V4",
            "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        }
    ],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "urllib3", "purl": "pkg:pypi/urllib3"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.26.19"}]},
                {"type": "ECOSYSTEM", "events": [{"introduced": "2.0.0a1"}, {"fixed": "2.2.2"}]},
            ],
        }
    ],
}


@pytest.fixture
def osv(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    """A fake OSV answering only the exact queries a correct client sends; the queries sent."""
    monkeypatch.setenv("DOCKERHUB_OSV_URL", OSV)
    sent: list[dict] = []
    answers = {
        json.dumps(
            {
                "package": {"name": "openssl", "ecosystem": "Debian:12"},
                "version": "3.0.11-1~deb12u2",
            },
            sort_keys=True,
        ): ["DEBIAN-CVE-2023-5678"],
        json.dumps({"package": {"purl": "pkg:pypi/urllib3@2.0.0rc1"}}, sort_keys=True): [
            "GHSA-34jh-p97f-mpxf"
        ],
    }

    def querybatch(request):
        queries = json.loads(request.body)["queries"]
        sent.extend(queries)
        results = [
            {"vulns": [{"id": i} for i in answers.get(json.dumps(q, sort_keys=True), [])]}
            for q in queries
        ]
        return 200, {}, json.dumps({"results": results})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.add_callback(responses.POST, f"{OSV}/v1/querybatch", callback=querybatch)
        for record in (DEBIAN_OPENSSL, GHSA_URLLIB3):
            mock.get(f"{OSV}/v1/vulns/{record['id']}", json=record)
        yield sent


def test_vulns_with_vex_release_matching_and_cvss_v4(attached: Attached, osv) -> None:
    code, out, err = run("vulns", attached.ref, "--json")
    assert code == 0, err
    data = json.loads(out)
    # Debian packages asked about by source name, with the Debian 12 release and version.
    debian = [q for q in osv if "ecosystem" in q["package"]]
    assert {(q["package"]["name"], q["package"]["ecosystem"], q["version"]) for q in debian} == {
        ("openssl", "Debian:12", "3.0.11-1~deb12u2"),
        ("zlib", "Debian:12", "1:1.2.13.dfsg-1"),
        ("bash", "Debian:12", "5.2.15-2+b2"),
    }
    by_id = {v["id"]: v for v in data["vulnerabilities"]}
    openssl = by_id["DEBIAN-CVE-2023-5678"]
    # The Debian:12 entry, and dpkg order: ~deb12u3 is after ~deb12u2 and before 3.0.11-1.
    assert openssl["ecosystem"] == "Debian:12"
    assert openssl["fixed_version"] == "3.0.11-1~deb12u3"
    assert not openssl["suppressed"]
    urllib3 = by_id["GHSA-34jh-p97f-mpxf"]
    assert (urllib3["severity"], urllib3["score"], urllib3["severity_source"]) == (
        "critical",
        9.3,
        "cvss_v4",
    )
    assert urllib3["fixed_version"] == "2.2.2"  # PEP 440: 2.0.0rc1 is in [2.0.0a1, 2.2.2)
    # VEX: suppressed with its justification, still listed and counted.
    assert urllib3["suppressed"] is True and urllib3["vex_status"] == "not_affected"
    assert "vulnerable_code_not_in_execute_path" in urllib3["vex_justification"]
    assert data["suppressed"] == 1 and len(data["vex_documents"]) == 1
    assert data["summary"]["critical"] == 1
    assert data["distro"]["ecosystem"] == "Debian:12"

    code, out, _ = run("vulns", attached.ref)
    assert code == 0 and "VEX not_affected" in out and "vulnerable_code_not_in_execute_path" in out


# -- the referrers API itself (a loopback server implementing it) ---------------------------


@pytest.fixture
def api_registry() -> Iterator[ReferrersRegistry]:
    with ReferrersRegistry(lifetime=120) as server:
        yield server


def _seed_api(server: ReferrersRegistry, signer: Signer) -> tuple[str, str]:
    repo = "demo/app"
    config = json_bytes({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}})
    image = json_bytes(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": server.put_blob(config),
                "size": len(config),
            },
            "layers": [],
        }
    )
    digest = server.put_manifest(repo, image, "application/vnd.oci.image.manifest.v1+json", "1.0")
    subject = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest,
        "size": len(image),
    }
    empty = {"mediaType": OCI_EMPTY, "digest": server.put_blob(b"{}"), "size": 2}
    payload = cosign_payload(f"{server.host}/{repo}", digest)
    sbom = document_bytes(spdx_document(debian_packages()))
    for artifact_type, layer in (
        (
            "application/vnd.dev.cosign.artifact.sig.v1+json",
            {
                "mediaType": COSIGN_SIMPLESIGNING,
                "digest": server.put_blob(payload),
                "size": len(payload),
                "annotations": {COSIGN_SIGNATURE: base64.b64encode(signer.sign(payload)).decode()},
            },
        ),
        (SPDX_JSON, {"mediaType": SPDX_JSON, "digest": server.put_blob(sbom), "size": len(sbom)}),
    ):
        manifest = json_bytes(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": artifact_type,
                "config": empty,
                "layers": [layer],
                "subject": subject,
                "annotations": {"org.opencontainers.image.created": "2024-05-01T12:00:00Z"},
            }
        )
        server.put_manifest(repo, manifest, "application/vnd.oci.image.manifest.v1+json")
    return f"{server.host}/{repo}:1.0", digest


def test_referrers_api_is_used_when_the_registry_has_it(
    api_registry: ReferrersRegistry, tmp_path: Path
) -> None:
    signer = Signer.generate("ecdsa")
    ref, digest = _seed_api(api_registry, signer)
    code, out, err = run("referrers", ref, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["referrers_api"] == "supported"
    assert sorted((r["kind"], tuple(r["sources"])) for r in data["referrers"]) == [
        ("sbom", ("referrers_api",)),
        ("signature", ("referrers_api",)),
    ]
    assert all(r["annotations"]["org.opencontainers.image.created"] for r in data["referrers"])

    # The filter goes to the registry, which says it applied it.
    before = len(api_registry.requests)
    code, out, _ = run("referrers", ref, "--type", SPDX_JSON, "--json")
    data = json.loads(out)
    assert code == 0 and [r["kind"] for r in data["referrers"]] == ["sbom"]
    assert data["referrers_api_remembered"] is True
    asked = [p for m, p in api_registry.requests[before:] if "/referrers/" in p]
    assert asked and all("artifactType=application%2Fspdx%2Bjson" in p for p in asked)

    # verify and sbom read the artifacts found through the API.
    key = write_key(tmp_path, signer)
    code, out, err = run("verify", ref, "--key", key, "--json")
    assert code == 0, (out, err)
    assert json.loads(out)["signatures"][0]["sources"] == ["referrers_api"]
    code, out, err = run("sbom", ref, "--json")
    assert code == 0, err
    assert json.loads(out)["sbom_source"] == "referrers_api"


def test_a_sigstore_bundle_is_never_verified_without_its_trust_root(
    image_pusher: ImagePusher, tmp_path: Path
) -> None:
    repo, info = push_app(image_pusher, "bundle")
    ref = image_pusher.ref(f"{repo}:1.0")
    bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json"
    bundle = json.dumps({"mediaType": bundle_type, "verificationMaterial": {}}).encode()
    Attacher(image_pusher.client, repo).attach(
        descriptor(info), bundle_type, [(bundle, bundle_type)]
    )
    code, out, _ = run("verify", ref, "--json")
    data = json.loads(out)
    assert code == 12 and data["status"] == "unverifiable"
    assert data["signatures"][0]["kind"] == "sigstore_bundle"
    assert "--trusted-root" in data["reason"]
    # With a trust root and an identity, a bundle that does not verify is never "verified".
    root = tmp_path / "trusted_root.json"
    root.write_text("{}")
    code, out, _ = run(
        "verify",
        ref,
        "--json",
        "--trusted-root",
        str(root),
        "--certificate-identity",
        "ci@example.org",
        "--certificate-oidc-issuer",
        "https://issuer.example.org",
    )
    data = json.loads(out)
    assert code in (10, 12) and data["status"] in ("invalid", "unverifiable"), data
    assert data["signatures"][0]["status"] != "verified"


def test_cold_sbom_from_attached_documents_reads_only_what_it_needs(
    registry, attached: Attached
) -> None:
    """The listing's artifactType says which artifacts are SBOMs: the VEX document and the
    signature payload are not fetched, and a cold run stays under the client's burst limit
    (10 requests), so it is never throttled."""
    fallback, _, _ = attached.attacher.client.get_manifest(
        attached.repo, attached.info.digest.replace(":", "-")
    )
    vex = next(m for m in json.loads(fallback)["manifests"] if m["artifactType"] == OPENVEX_JSON)
    mark = registry.log_mark()
    code, _, err = run("sbom", attached.ref, "--json")
    assert code == 0, err
    routes = [e.route for e in registry.requests_since(mark)]
    assert len(routes) <= 10, routes
    assert not [r for r in routes if r.endswith(vex["digest"])]
    assert sum("/referrers/" in r for r in routes) == 1  # the one probe, then remembered
