"""sbom / provenance / vulns through the service and the CLI, registry and OSV on `responses`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import (
    InvalidInputError,
    NoAttestationError,
    RateLimitedError,
    UpstreamError,
)
from dockerhub_cli.remote import osv as osv_module
from dockerhub_cli.service import DockerHubService
from tests.support.attestations import (
    ProvenanceInfo,
    SbomPackage,
    alpine_packages,
    provenance_statement,
    provenance_statement_v1,
    spdx_statement,
)
from tests.unit import registry_fixtures as fx

REG = "https://registry.example.com"
OSV = "https://osv.test"
IMAGE = "registry.example.com/team/app:1.0"
IN_TOTO = "application/vnd.in-toto+json"
runner = CliRunner()

INFO = ProvenanceInfo(
    builder_id="https://github.com/example/app/actions/runs/42",
    build_type="https://mobyproject.org/buildkit@v1",
    source_uri="https://github.com/example/app.git#refs/heads/main",
    source_sha1="6a4c0cb4ac7e53bbbe473df71b61a5bf9f95252f",
    entry_point="Dockerfile",
    build_args={"VERSION": "1.0"},
    base_image_purl="pkg:docker/alpine@3.19?platform=linux%2Famd64",
    base_image_digest="sha256:" + "cd" * 32,
    started_on="2024-05-01T11:58:01Z",
    finished_on="2024-05-01T11:59:12Z",
    platform="linux/amd64",
)
NO_PURL = SbomPackage("app-binary", "1.0", "NOASSERTION", "")


def publish(reg: fx.FakeRegistry, statements: list[dict] | None, tag: str = "1.0") -> str:
    """An index: linux/amd64 image (+ its attestation manifest holding `statements`)."""
    config = fx.config_bytes(
        history=[("COPY app /app # buildkit", "buildkit.dockerfile.v0", False)]
    )
    manifest = fx.image_manifest(config, [("sha256:" + "ab" * 32, 1000)])
    image_digest = reg.manifest(manifest, fx.OCI_MANIFEST)
    reg.blob(config)
    entries = [
        {
            "mediaType": fx.OCI_MANIFEST,
            "digest": image_digest,
            "size": len(manifest),
            "platform": {"architecture": "amd64", "os": "linux"},
        }
    ]
    if statements is not None:
        layers = []
        for st in statements:
            body = fx.compact(st)
            layers.append(
                {
                    "mediaType": IN_TOTO,
                    "digest": reg.blob(body),
                    "size": len(body),
                    "annotations": {"in-toto.io/predicate-type": st["predicateType"]},
                }
            )
        cfg = fx.ATTESTATION_CONFIG
        att = fx.compact(
            {
                "schemaVersion": 2,
                "mediaType": fx.OCI_MANIFEST,
                "config": {"mediaType": fx.OCI_CONFIG, "digest": reg.blob(cfg), "size": len(cfg)},
                "layers": layers,
            }
        )
        entries.append(
            {
                "mediaType": fx.OCI_MANIFEST,
                "digest": reg.manifest(att, fx.OCI_MANIFEST),
                "size": len(att),
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {
                    "vnd.docker.reference.digest": image_digest,
                    "vnd.docker.reference.type": "attestation-manifest",
                },
            }
        )
    index = fx.compact({"schemaVersion": 2, "mediaType": fx.OCI_INDEX, "manifests": entries})
    reg.manifest(index, fx.OCI_INDEX, tags=(tag,))
    return image_digest


def sbom_and_provenance(packages=None, make=provenance_statement) -> list[dict]:
    pkgs = packages if packages is not None else [*alpine_packages("amd64"), NO_PURL]
    return [
        spdx_statement("pkg:docker/team/app@1.0", "sha256:" + "00" * 32, pkgs),
        make("pkg:docker/team/app@1.0", "sha256:" + "00" * 32, INFO),
    ]


@pytest.fixture
def rsps(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    monkeypatch.setenv("DOCKERHUB_OSV_URL", OSV)
    monkeypatch.setattr(osv_module.time, "sleep", lambda s: None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def reg(rsps) -> fx.FakeRegistry:
    fake = fx.FakeRegistry(rsps, REG, "team/app")
    fake.without_referrers_api()
    return fake


def svc() -> DockerHubService:
    return DockerHubService(Settings.from_env())


# -- OSV mocks ---------------------------------------------------------------------------------

CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def vuln(vid: str, name: str, ecosystem: str, fixed: str | None, **extra) -> dict:
    events = [{"introduced": "0"}] + ([{"fixed": fixed}] if fixed else [])
    return {
        "id": vid,
        "summary": f"{vid} in {name}",
        "modified": "2024-06-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        **extra,
    }


RECORDS = {
    "GHSA-crit": vuln(
        "GHSA-crit", "urllib3", "PyPI", "2.2.2", severity=[{"type": "CVSS_V3", "score": CRITICAL}]
    ),
    "GHSA-mod": vuln(
        "GHSA-mod", "requests", "PyPI", "2.32.0", database_specific={"severity": "MODERATE"}
    ),
    "ALPINE-1": vuln("ALPINE-1", "busybox", "Alpine:v3.19", "1.36.1-r16"),
}
AFFECTS = {
    "pkg:pypi/urllib3@2.1.0": ["GHSA-crit"],
    "pkg:pypi/requests@2.31.0": ["GHSA-mod"],
    # Distribution packages are asked about by ecosystem *with release*, name and version.
    "Alpine:v3.19/busybox@1.36.1-r15": ["ALPINE-1"],
}


def query_key(query: dict) -> str:
    package = query["package"]
    if "purl" in package:
        return package["purl"]
    return f"{package['ecosystem']}/{package['name']}@{query['version']}"


def mock_osv(rsps: responses.RequestsMock, affects=AFFECTS, records=RECORDS) -> None:
    def querybatch(request):
        queries = json.loads(request.body)["queries"]
        results = [
            {"vulns": [{"id": i, "modified": "x"} for i in affects.get(query_key(q), [])]}
            for q in queries
        ]
        return 200, {}, json.dumps({"results": results})

    rsps.add_callback(responses.POST, f"{OSV}/v1/querybatch", callback=querybatch)
    for vid, record in records.items():
        rsps.get(f"{OSV}/v1/vulns/{vid}", json=record)


def calls(rsps, method: str, part: str) -> list:
    return [c for c in rsps.calls if c.request.method == method and part in c.request.url]


# -- sbom / provenance ------------------------------------------------------------------------


def test_sbom_report(reg) -> None:
    digest = publish(reg, sbom_and_provenance())
    with svc() as s:
        report = s.sbom(IMAGE)
    assert report.digest == digest and report.package_count == 9
    assert report.counts_by_type == {"apk": 5, "pypi": 3, "unknown": 1}
    assert report.packages_without_purl == 1
    assert any("no purl" in n for n in report.notes)
    assert report.creators and report.spdx_version == "SPDX-2.3"


@pytest.mark.parametrize("make", [provenance_statement, provenance_statement_v1])
def test_provenance_cli_json(reg, make) -> None:
    publish(reg, sbom_and_provenance(make=make))
    result = runner.invoke(app, ["provenance", IMAGE, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["slsa_version"] == ("v1" if make is provenance_statement_v1 else "v0.2")
    assert data["builder"] == INFO.builder_id
    assert data["source_commit"] == INFO.source_sha1
    assert data["dockerfile"]["path"] == "Dockerfile"
    assert data["build_args"] == {"VERSION": "1.0"}
    assert data["base_images"][0]["image"] == "alpine:3.19"


def test_no_attestation_is_exit_3_with_a_plain_message(reg) -> None:
    publish(reg, None)
    for command in ("sbom", "vulns"):
        result = runner.invoke(app, [command, IMAGE, "--json"])
        assert result.exit_code == 3, result.stderr
        assert result.stdout == ""
        assert "has no SBOM attestation" in result.stderr
        assert "docker buildx build --sbom=true" in result.stderr
    result = runner.invoke(app, ["vulns", IMAGE])
    assert "NOT a clean result" in result.stderr
    result = runner.invoke(app, ["provenance", IMAGE])
    assert result.exit_code == 3 and "no SLSA provenance attestation" in result.stderr


def test_provenance_only_attestation_has_no_sbom(reg) -> None:
    publish(reg, sbom_and_provenance()[1:])
    with svc() as s, pytest.raises(NoAttestationError, match="holds only: https://slsa.dev"):
        s.sbom(IMAGE)


def test_single_manifest_image_has_no_sbom(reg) -> None:
    reg.gitea("1.0")
    with svc() as s, pytest.raises(NoAttestationError, match="single image manifest"):
        s.sbom(IMAGE)


def test_dockerfile_mentions_the_real_dockerfile(reg) -> None:
    publish(reg, sbom_and_provenance())
    result = runner.invoke(app, ["dockerfile", IMAGE])
    assert result.exit_code == 0, result.stderr
    assert (
        "# The real Dockerfile (per the image's SLSA provenance): Dockerfile in " in result.stdout
    )
    assert f"https://github.com/example/app/blob/{INFO.source_sha1}/Dockerfile" in result.stdout


def test_dockerfile_without_provenance_is_unchanged(reg) -> None:
    publish(reg, None)
    data = json.loads(runner.invoke(app, ["dockerfile", IMAGE, "--json"]).stdout)
    assert data["original"] is None and "real Dockerfile" not in data["dockerfile"]


# -- vulns ------------------------------------------------------------------------------------


def test_vulns_json_contract(reg, rsps) -> None:
    digest = publish(reg, sbom_and_provenance())
    mock_osv(rsps)
    result = runner.invoke(app, ["vulns", IMAGE, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {
        "reference",
        "digest",
        "packages_scanned",
        "vulnerabilities",
        "summary",
        "scanned_at",
        "source",
        "sbom_digest",
        "limitations",
        "notes",
    }
    assert data["digest"] == digest and data["source"] == "osv"
    assert data["packages_scanned"] == 8 and data["packages_without_purl"] == 1
    assert data["summary"] == {"critical": 1, "high": 0, "medium": 1, "low": 0, "unknown": 1}
    rows = [
        {k: v[k] for k in ("id", "package", "version", "severity", "fixed_version", "summary")}
        for v in data["vulnerabilities"]
    ]
    assert rows == [
        {
            "id": "GHSA-crit",
            "package": "urllib3",
            "version": "2.1.0",
            "severity": "critical",
            "fixed_version": "2.2.2",
            "summary": "GHSA-crit in urllib3",
        },
        {
            "id": "GHSA-mod",
            "package": "requests",
            "version": "2.31.0",
            "severity": "medium",
            "fixed_version": "2.32.0",
            "summary": "GHSA-mod in requests",
        },
        {
            "id": "ALPINE-1",
            "package": "busybox",
            "version": "1.36.1-r15",
            "severity": "unknown",
            "fixed_version": "1.36.1-r16",
            "summary": "ALPINE-1 in busybox",
        },
    ]
    assert data["vulnerabilities"][0]["score"] == 9.8
    assert data["limitations"][0] == "1 of 9 packages have no purl and were not checked"


def test_vulns_are_stamped_by_the_injected_clock(reg, rsps) -> None:
    """`scanned_at` comes from the service's `now` (the operations' wall clock), not the
    machine's: a test can pin it."""
    publish(reg, sbom_and_provenance())
    mock_osv(rsps)
    fixed = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with DockerHubService(Settings.from_env(), now=lambda: fixed) as s:
        assert s.vulns(IMAGE).scanned_at == fixed


def test_vulns_severity_filter(reg, rsps) -> None:
    publish(reg, sbom_and_provenance())
    mock_osv(rsps)
    data = json.loads(runner.invoke(app, ["vulns", IMAGE, "--severity", "medium", "--json"]).stdout)
    assert [v["id"] for v in data["vulnerabilities"]] == ["GHSA-crit", "GHSA-mod"]
    assert data["summary"]["unknown"] == 1  # the summary counts everything found
    assert data["severity_filter"] == "medium"


def test_bad_severity_is_a_usage_error_before_any_request(rsps) -> None:
    result = runner.invoke(app, ["vulns", IMAGE, "--severity", "severe"])
    assert result.exit_code == 2
    assert "severity must be one of critical, high, medium, low, unknown" in result.stderr
    assert len(rsps.calls) == 0


def test_vulns_human_output(reg, rsps) -> None:
    publish(reg, sbom_and_provenance())
    mock_osv(rsps)
    result = runner.invoke(app, ["vulns", IMAGE])
    assert result.exit_code == 0, result.stderr
    assert "critical 9.8" in result.stdout and "GHSA-crit" in result.stdout
    assert "3 known vulnerabilities (1 critical, 0 high, 1 medium, 0 low, 1 unknown)" in (
        result.stdout
    )
    assert "1 packages have no purl" in result.stdout


def test_clean_scan_is_not_confused_with_no_sbom(reg, rsps) -> None:
    publish(reg, sbom_and_provenance())
    mock_osv(rsps, affects={}, records={})
    data = json.loads(runner.invoke(app, ["vulns", IMAGE, "--json"]).stdout)
    assert data["vulnerabilities"] == [] and data["packages_scanned"] == 8
    assert any("not proof" in x for x in data["limitations"])


def test_batches_and_caching(reg, rsps, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_OSV_BATCH_SIZE", "3")
    publish(reg, sbom_and_provenance())
    mock_osv(rsps)
    with svc() as s:
        first = s.vulns(IMAGE)
    posts = calls(rsps, "POST", "/v1/querybatch")
    assert [len(json.loads(c.request.body)["queries"]) for c in posts] == [3, 3, 2]
    assert len(calls(rsps, "GET", "/v1/vulns/")) == 3
    before = len(rsps.calls)
    with svc() as s:  # a new process would do the same: the cache is on disk
        second = s.vulns(IMAGE)
    assert len(rsps.calls) == before  # no POST (1 h) and no detail GET (24 h)
    assert second.vulnerabilities == first.vulnerabilities


def test_details_are_cached_even_when_the_query_is_repeated(reg, rsps) -> None:
    publish(reg, sbom_and_provenance())
    mock_osv(rsps)
    with svc() as s:
        s.vulns(IMAGE)
        # An hour later: the querybatch answer has expired, the advisory details have not.
        cache = s.session.cache
        stale = [r.cache_key for r in cache.filter() if "querybatch" in r.url]
        assert len(stale) == 1
        cache.delete(*stale)
    with svc() as s:
        s.vulns(IMAGE)
    assert len(calls(rsps, "POST", "/v1/querybatch")) == 2
    assert len(calls(rsps, "GET", "/v1/vulns/")) == 3  # not 6


def test_next_page_token_pagination(reg, rsps) -> None:
    publish(reg, sbom_and_provenance(packages=alpine_packages("amd64")[:2]))
    bodies: list[dict] = []

    def querybatch(request):
        body = json.loads(request.body)
        bodies.append(body)
        results = []
        for q in body["queries"]:
            if "busybox" not in json.dumps(q):
                results.append({})
            elif q.get("page_token") is None:
                results.append({"vulns": [{"id": "A-1"}], "next_page_token": "page2"})
            elif q["page_token"] == "page2":
                results.append({"vulns": [{"id": "A-2"}], "next_page_token": "page3"})
            else:
                results.append({"vulns": [{"id": "A-3"}, {"id": "A-1"}]})
        return 200, {}, json.dumps({"results": results})

    rsps.add_callback(responses.POST, f"{OSV}/v1/querybatch", callback=querybatch)
    for vid in ("A-1", "A-2", "A-3"):
        rsps.get(f"{OSV}/v1/vulns/{vid}", json=vuln(vid, "busybox", "Alpine:v3.19", None))
    with svc() as s:
        report = s.vulns(IMAGE)
    assert sorted(v.id for v in report.vulnerabilities) == ["A-1", "A-2", "A-3"]
    assert [len(b["queries"]) for b in bodies] == [2, 1, 1]
    assert [b["queries"][0].get("page_token") for b in bodies[1:]] == ["page2", "page3"]
    assert report.summary.unknown == 3


def test_osv_429_is_rate_limited_exit_5(reg, rsps) -> None:
    publish(reg, sbom_and_provenance())
    rsps.post(
        f"{OSV}/v1/querybatch",
        status=429,
        headers={"Retry-After": "120"},
        json={"message": "slow down"},
    )
    with svc() as s, pytest.raises(RateLimitedError, match="rate limited by OSV") as info:
        s.vulns(IMAGE)
    assert info.value.retry_after == 120
    assert len(calls(rsps, "POST", "querybatch")) == 1  # a 2-minute wait is not slept through
    result = runner.invoke(app, ["vulns", IMAGE])
    assert result.exit_code == 5 and "retry in 120 s" in result.stderr


def test_osv_5xx_is_retried_then_reported_exit_6(reg, rsps) -> None:
    publish(reg, sbom_and_provenance())
    rsps.post(f"{OSV}/v1/querybatch", status=503, body="upstream down")
    result = runner.invoke(app, ["vulns", IMAGE])
    assert result.exit_code == 6
    assert "answered HTTP 503" in result.stderr
    assert len(calls(rsps, "POST", "querybatch")) == 4  # 1 + 3 retries


def test_osv_transient_5xx_recovers(reg, rsps) -> None:
    publish(reg, sbom_and_provenance())
    rsps.post(f"{OSV}/v1/querybatch", status=502)
    mock_osv(rsps)  # registered after: responses serves them in order
    with svc() as s:
        report = s.vulns(IMAGE)
    assert report.summary.critical == 1


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("<html>oops</html>", "not JSON"),
        (json.dumps({"results": []}), "malformed querybatch"),
        (json.dumps({"nope": 1}), "malformed querybatch"),
    ],
)
def test_malformed_querybatch(reg, rsps, body, match) -> None:
    publish(reg, sbom_and_provenance())
    rsps.post(f"{OSV}/v1/querybatch", body=body, content_type="application/json")
    with svc() as s, pytest.raises(UpstreamError, match=match):
        s.vulns(IMAGE)


def test_malformed_detail_is_not_cached(reg, rsps) -> None:
    publish(reg, sbom_and_provenance())
    mock_osv(rsps, affects={"pkg:pypi/urllib3@2.1.0": ["GHSA-crit"]}, records={})
    rsps.get(f"{OSV}/v1/vulns/GHSA-crit", body="garbage")
    with svc() as s, pytest.raises(UpstreamError):
        s.vulns(IMAGE)
    with svc() as s, pytest.raises(UpstreamError):
        s.vulns(IMAGE)
    assert len(calls(rsps, "GET", "/v1/vulns/GHSA-crit")) == 2


# -- paging (issue 13's leftover: the service pages, for the CLI and MCP alike) --------------


def test_the_service_pages_the_sbom_and_the_vulnerabilities(reg, rsps) -> None:
    from dockerhub_cli import advice

    publish(reg, sbom_and_provenance())
    mock_osv(rsps)
    with svc() as s:
        whole = s.sbom(IMAGE)
        first = s.sbom(IMAGE, limit=4)
        last = s.sbom(IMAGE, limit=4, page=3)
        past = s.sbom(IMAGE, limit=4, page=4)
        findings = s.vulns(IMAGE)
        one = s.vulns(IMAGE, limit=1, page=2)
        with pytest.raises(InvalidInputError, match="page 2 needs a page size"):
            s.sbom(IMAGE, page=2)
        with pytest.raises(InvalidInputError):
            s.vulns(IMAGE, limit=0)
    assert len(whole.packages) == 9 and not any("showing" in n for n in whole.notes)
    assert first.packages == whole.packages[:4] and first.package_count == 9
    note = first.notes[-1]
    assert note.startswith("showing packages 1-4 of 9 (page 1 of 3); more exist: call ")
    assert advice.param("page", "2") in note and advice.command("sbom") in note
    assert last.packages == whole.packages[8:] and "more exist" not in last.notes[-1]
    assert past.packages == [] and "page 4 is past the end" in past.notes[-1]
    assert len(findings.vulnerabilities) >= 2
    assert one.vulnerabilities == findings.vulnerabilities[1:2]
    assert one.summary == findings.summary  # the summary counts every finding
    assert "(summary counts all of them)" in one.notes[-1]


def test_the_cli_pages_with_limit_and_page_and_shows_everything_by_default(reg, rsps) -> None:
    publish(reg, sbom_and_provenance())
    mock_osv(rsps)
    everything = json.loads(runner.invoke(app, ["sbom", IMAGE, "--json"]).stdout)
    assert len(everything["packages"]) == 9
    done = runner.invoke(app, ["sbom", IMAGE, "--json", "--limit", "4", "--page", "2"])
    assert done.exit_code == 0, done.stderr
    paged = json.loads(done.stdout)
    assert paged["packages"] == everything["packages"][4:8]
    assert paged["notes"][-1].startswith(
        "showing packages 5-8 of 9 (page 2 of 3); more exist: call `dockerhub sbom` again "
        "with --page 3"
    )
    table = runner.invoke(app, ["vulns", IMAGE, "-n", "1"])
    assert table.exit_code == 0, table.stderr
    assert "again with --page 2" in table.stdout + table.stderr
    refused = runner.invoke(app, ["sbom", IMAGE, "--page", "2"])
    assert refused.exit_code == 2 and "--limit N" in refused.stderr
