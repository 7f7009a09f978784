"""`sbom`, `provenance`, `vulns` and `dockerfile` against BuildKit-style attestation manifests
pushed to a real distribution registry (OSV mocked with `responses`, the registry passed through).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import NoAttestationError
from dockerhub_cli.service import DockerHubService
from tests.support.oci_build import ImageSpec, Layer

runner = CliRunner()
OSV = "https://osv.test"
KEY = "demo/attested:1.0"


@pytest.fixture
def osv(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    monkeypatch.setenv("DOCKERHUB_OSV_URL", OSV)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        yield mock


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64/v8"])
def test_sbom_packages_equal_what_was_pushed(registry, platform: str) -> None:
    with DockerHubService(Settings.from_env()) as svc:
        report = svc.sbom(registry.seeded.ref(KEY), platform=platform)
    expected = registry.seeded.sbom_packages[platform]
    got = {(p.name, p.version, p.purl, p.license) for p in report.packages}
    assert got == {(p.name, p.version, p.purl, p.license) for p in expected}
    assert report.package_count == len(expected) == 8
    assert report.counts_by_type == {"apk": 5, "pypi": 3}
    index = registry.seeded[KEY]
    child = index.child(platform)
    assert report.digest == child.digest and report.index_digest == index.digest
    attestation = index.attestation_for(child.digest)
    assert report.attestation_digest == attestation.digest
    assert report.spdx_version == "SPDX-2.3"
    libssl = next(p for p in report.packages if p.name == "libssl3")
    assert libssl.license_concluded == "NOASSERTION" and libssl.license == "Apache-2.0"


def test_provenance_fields_equal_what_was_pushed(registry) -> None:
    info = registry.seeded.provenance["linux/amd64"]
    with DockerHubService(Settings.from_env()) as svc:
        r = svc.provenance(registry.seeded.ref(KEY))
    assert r.slsa_version == "v0.2"
    assert r.builder == info.builder_id and r.build_type == info.build_type
    assert r.build_started_on.isoformat().startswith("2024-05-01T11:58:01.123456")
    assert r.build_finished_on.isoformat().startswith("2024-05-01T11:59:12.987654")
    assert r.source_repository == info.source_uri.split("#")[0]
    assert r.source_commit == info.source_sha1
    assert r.dockerfile is not None and r.dockerfile.path == info.entry_point
    assert r.dockerfile.url == (
        f"https://github.com/example/attested/blob/{info.source_sha1}/Dockerfile"
    )
    assert r.build_args == dict(info.build_args)
    assert [(m.uri, m.digest) for m in r.base_images] == [
        (info.base_image_purl, info.base_image_digest)
    ]
    assert r.base_images[0].image == "alpine:3.19"
    assert r.base_images[0].platform == "linux/amd64"


def test_sbom_cold_and_warm_request_counts(registry) -> None:
    args = ["sbom", registry.seeded.ref(KEY), "--json"]
    mark = registry.log_mark()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    cold = [(e.method, e.route) for e in registry.requests_since(mark)]
    # GET the index by tag, the attestation manifest, the SBOM statement blob.
    assert len(cold) == 3, cold
    mark = registry.log_mark()
    second = runner.invoke(app, args)
    assert second.stdout == first.stdout
    assert registry.requests_since(mark) == []


def test_vulns_against_mocked_osv(registry, osv) -> None:
    def querybatch(request):
        queries = json.loads(request.body)["queries"]
        results = [
            {"vulns": [{"id": "GHSA-j8r2-6x86-q33q", "modified": "2024-01-01T00:00:00Z"}]}
            if q["package"].get("purl") == "pkg:pypi/requests@2.31.0"
            else {}
            for q in queries
        ]
        return 200, {}, json.dumps({"results": results})

    osv.add_callback(responses.POST, f"{OSV}/v1/querybatch", callback=querybatch)
    osv.get(
        f"{OSV}/v1/vulns/GHSA-j8r2-6x86-q33q",
        json={
            "id": "GHSA-j8r2-6x86-q33q",
            "summary": "Requests `Session` object does not verify requests after making first "
            "request with verify=False",
            "aliases": ["CVE-2024-35195"],
            "severity": [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N"}
            ],
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "requests"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.32.0"}]}
                    ],
                }
            ],
        },
    )
    result = runner.invoke(app, ["vulns", registry.seeded.ref(KEY), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["packages_scanned"] == 8 and data["source"] == "osv"
    assert data["digest"] == registry.seeded[KEY].child("linux/amd64").digest
    assert data["vulnerabilities"] == [
        {
            **data["vulnerabilities"][0],
            "id": "GHSA-j8r2-6x86-q33q",
            "package": "requests",
            "version": "2.31.0",
            "severity": "medium",
            "fixed_version": "2.32.0",
        }
    ]
    assert data["vulnerabilities"][0]["score"] == 5.6
    assert data["summary"] == {"critical": 0, "high": 0, "medium": 1, "low": 0, "unknown": 0}
    posts = [c for c in osv.calls if c.request.method == "POST"]
    assert len(posts) == 1
    sent = json.loads(posts[0].request.body)["queries"]
    assert len(sent) == 8
    # Language packages by purl, qualifiers dropped; Alpine packages by name, the release from
    # the purl's distro qualifier (alpine-3.19.1 -> Alpine:v3.19) and version.
    purls = [q["package"]["purl"] for q in sent if "purl" in q["package"]]
    assert len(purls) == 3 and all("?" not in p for p in purls)
    apk = [q for q in sent if "ecosystem" in q["package"]]
    assert {q["package"]["ecosystem"] for q in apk} == {"Alpine:v3.19"} and len(apk) == 5
    assert {
        "package": {"name": "busybox", "ecosystem": "Alpine:v3.19"},
        "version": "1.36.1-r15",
    } in apk


def test_image_without_attestations_exits_3(registry) -> None:
    result = runner.invoke(app, ["sbom", registry.seeded.ref("demo/multi:1.0")])
    assert result.exit_code == 3
    assert "has no SBOM attestation" in result.stderr
    assert "--sbom=true" in result.stderr
    result = runner.invoke(app, ["vulns", registry.seeded.ref("demo/app:1.0"), "--json"])
    assert result.exit_code == 3 and result.stdout == ""
    assert "has no SBOM attestation" in result.stderr
    result = runner.invoke(app, ["provenance", registry.seeded.ref("demo/app:1.0")])
    assert result.exit_code == 3 and "no SLSA provenance attestation" in result.stderr


def test_dockerfile_names_the_real_dockerfile(registry) -> None:
    result = runner.invoke(app, ["dockerfile", registry.seeded.ref(KEY), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    info = registry.seeded.provenance["linux/amd64"]
    assert data["original"]["repository"] == "https://github.com/example/attested.git"
    assert data["original"]["commit"] == info.source_sha1
    assert "github.com/example/attested/blob/" in data["dockerfile"]
    assert data["reconstructed"] is True


def test_pushed_index_with_attestations(image_pusher) -> None:
    def spec(arch: str) -> ImageSpec:
        return ImageSpec(
            platform=f"linux/{arch}",
            steps=[Layer({"app/main.py": f"print('{arch}')"}, "COPY app /app # buildkit")],
        )

    name = image_pusher.repo("attest") + ":2"
    info = image_pusher.push_index(name, [spec("amd64"), spec("arm64")], attest=True)
    ref = f"{image_pusher.host}/{name}"
    with DockerHubService(Settings.from_env()) as svc:
        arm = svc.sbom(ref, platform="linux/arm64")
        assert arm.digest == info.child("linux/arm64").digest
        assert {p.name for p in arm.packages} >= {"busybox", "musl", "requests"}
        assert all("aarch64" in p.purl for p in arm.packages if p.type == "apk")
        plain = image_pusher.repo("plain") + ":1"
        image_pusher.push_index(plain, [spec("amd64"), spec("arm64")])
        with pytest.raises(NoAttestationError, match="index has no attestation manifest"):
            svc.vulns(f"{image_pusher.host}/{plain}")
