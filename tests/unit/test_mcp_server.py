"""The MCP server through the SDK's in-memory `Client`: listing, every tool, every error kind.

Most tests run over a fake service that records the call it received and returns a canned
model (or raises), so each tool's argument mapping and error text is checked exactly; a few run
the real `DockerHubService` against a `responses` registry to prove the structured output of
real results validates against the published schemas.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
import responses
from mcp import Client

from dockerhub_cli import __version__, advice
from dockerhub_cli.commands import REQUIRED, Command, McpTool, Param, mcp_commands
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import (
    AuthError,
    InvalidInputError,
    NetworkError,
    NoAttestationError,
    NotFoundError,
    OfflineCacheMissError,
    PlatformNotFoundError,
    RateLimitedError,
    UpstreamError,
)
from dockerhub_cli.mcp.server import (
    MAX_COMPARE_ROWS,
    MAX_README_CHARS,
    NO_SBOM_VULNS,
    available_tools,
    build_server,
    health_report,
    image_reference,
    unmark_publisher_data,
)
from dockerhub_cli.models.compare import (
    BaseStatus,
    Comparison,
    ConfigDiff,
    HistoryDiff,
    ImageSide,
    LayerRow,
    MappingDiff,
    SetDiff,
    UpdateReport,
    ValueDiff,
)
from dockerhub_cli.models.core import (
    Identity,
    Organisation,
    OrganisationList,
    PullRateLimit,
    Readme,
    RepositoryList,
    RepositorySummary,
    SearchResult,
    SearchResults,
    Tag,
    TagList,
)
from dockerhub_cli.models.files import (
    DiffTotals,
    Download,
    FileChange,
    FileContent,
    FileDiff,
    FileInfo,
    FileListing,
    WasteReport,
)
from dockerhub_cli.models.images import ImageInspection, PlatformInfo, RepositoryInfo
from dockerhub_cli.models.layers import (
    DockerfileReport,
    HistoryReport,
    LayerInsights,
    LayerReport,
    ManifestReport,
    PullSizeReport,
)
from dockerhub_cli.models.pinning import SameAsReport, SameTag, UpgradeReport
from dockerhub_cli.models.supply import (
    BuildMaterial,
    DockerfileSource,
    ProvenanceReport,
    Referrer,
    ReferrersReport,
    ReferrerSubject,
    SbomPackage,
    SbomReport,
    SeveritySummary,
    SignatureCheck,
    VerifyReport,
    Vulnerability,
    VulnerabilityReport,
)
from dockerhub_cli.oci.reference import ImageReference
from dockerhub_cli.ops.supply_chain import HOW_TO_ATTEST
from dockerhub_cli.service import DockerHubService
from tests.unit import registry_fixtures as fx

pytestmark = pytest.mark.anyio

LEGACY_TOOLS = {
    "docker_search_images": ["query", "limit", "page", "is_official", "is_automated"],
    "docker_get_image_details": ["repository", "tag"],
    "docker_list_tags": ["repository", "limit", "page"],
    "docker_get_manifest": ["repository", "tag"],
    "docker_analyze_layers": ["repository", "tag"],
    "docker_compare_images": ["image1", "image2"],
    "docker_get_vulnerabilities": ["repository", "tag"],
    "docker_get_image_history": ["repository", "tag"],
    "docker_get_stats": ["repository"],
    "docker_track_base_updates": ["repository", "tag"],
    "docker_estimate_pull_size": ["repository", "tag"],
    "docker_get_dockerfile": ["repository", "tag"],
}
ALL_TOOLS = {
    *LEGACY_TOOLS,
    "docker_get_sbom",
    "docker_get_provenance",
    "docker_whoami",
    "docker_get_rate_limit",
    "docker_list_repositories",
    "docker_list_namespaces",
    "docker_get_readme",
    "docker_list_referrers",
    "docker_verify_signature",
    "docker_list_files",
    "docker_read_file",
    "docker_diff_files",
    "docker_image_waste",
    "docker_find_same_tags",
    "docker_upgrade_advice",
}
DIGEST = "sha256:" + "a" * 64
PEM = "-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----\n"
DIGEST_B = "sha256:" + "b" * 64
PLATFORM = PlatformInfo(os="linux", architecture="amd64")
README = "# nginx\n" + "x" * (MAX_README_CHARS * 3)
REPO_INFO = RepositoryInfo(
    repository="nginx",
    namespace="library",
    name="nginx",
    star_count=20_000,
    pull_count=10**9,
    tag_count=900,
    is_official=True,
    full_description=README,
)


def _comparison(rows: int = 2) -> Comparison:
    def side(ref: str, digest: str) -> ImageSide:
        return ImageSide(
            reference=ref,
            digest=digest,
            media_type=fx.OCI_MANIFEST,
            platform="linux/amd64",
            size=300,
            layer_count=rows,
        )

    same = ValueDiff(left=None, right=None)
    return Comparison(
        left=side("nginx:1.26", DIGEST),
        right=side("nginx:1.27", DIGEST_B),
        shared_layers=[DIGEST],
        only_left=[],
        only_right=[DIGEST_B],
        common_prefix_layers=1,
        common_prefix_size=100,
        shared_size=100,
        pull_adds=200,
        size_delta=0,
        size_delta_percent=0.0,
        config_diff=ConfigDiff(
            env=MappingDiff(added={"NGINX_VERSION": "1.27.2"}),
            labels=MappingDiff(),
            entrypoint=same,
            cmd=same,
            user=same,
            working_dir=same,
            exposed_ports=SetDiff(),
            volumes=SetDiff(),
            platform=ValueDiff(left="linux/amd64", right="linux/amd64"),
        ),
        history_diff=HistoryDiff(common_prefix=1),
        layers=[
            LayerRow(position=i, left_digest=DIGEST, right_digest=DIGEST_B, status="different")
            for i in range(rows)
        ],
        summary="nginx:1.27 is the same size as nginx:1.26",
    )


def _sbom(packages: int = 3) -> SbomReport:
    return SbomReport(
        reference="demo/attested:1.0",
        digest=DIGEST,
        index_digest=DIGEST_B,
        platform=PLATFORM,
        attestation_digest=DIGEST,
        sbom_digest=DIGEST_B,
        package_count=packages,
        counts_by_type={"apk": packages},
        packages=[
            SbomPackage(
                name=f"pkg{i:04d}", version="1.0", purl=f"pkg:apk/pkg{i:04d}@1.0", type="apk"
            )
            for i in range(packages)
        ],
    )


def _vulns(count: int = 1) -> VulnerabilityReport:
    return VulnerabilityReport(
        reference="demo/attested:1.0",
        digest=DIGEST,
        index_digest=DIGEST_B,
        platform=PLATFORM,
        sbom_digest=DIGEST_B,
        osv_url="https://api.osv.dev",
        scanned_at="2024-05-01T12:00:00Z",  # type: ignore[arg-type]
        packages_total=8,
        packages_scanned=8,
        packages_without_purl=0,
        packages_affected=1,
        vulnerabilities=[
            Vulnerability(
                id=f"GHSA-{i:04d}", package="requests", version="2.31.0", severity="medium"
            )
            for i in range(count)
        ],
        summary=SeveritySummary(medium=count),
        limitations=["only packages listed in the image's SBOM attestation were checked"],
    )


ANSWERS: dict[str, Any] = {
    "same_as": SameAsReport(
        repository="nginx",
        tag="latest",
        digest=DIGEST,
        tags=[SameTag(name="1.29.1", digest=DIGEST, matched_by="index")],
        checked=36,
        complete=True,
        source="hub",
    ),
    "upgrade": UpgradeReport(
        reference="nginx:1.27.3-alpine",
        tag="1.27.3-alpine",
        digest=DIGEST,
        platform="linux/arm64",
        family="N.N.N-alpine",
        candidates=[],
        newer_tags=["1.27.4-alpine"],
    ),
    "search": SearchResults(
        query="nginx",
        page=1,
        count=1,
        results=[SearchResult(name="nginx", description="web server", is_official=True)],
    ),
    "tags": TagList(
        repository="nginx",
        count=60,
        page=1,
        tags=[Tag(name="1.27")],
        source="hub",
        complete=False,
    ),
    "inspect": ImageInspection(
        reference="nginx:1.27",
        registry="docker.io",
        repository="library/nginx",
        tag="1.27",
        digest=DIGEST,
        media_type=fx.OCI_INDEX,
        repository_info=REPO_INFO,
    ),
    "manifest": ManifestReport(
        reference="nginx:1.27",
        digest=DIGEST,
        media_type=fx.OCI_MANIFEST,
        size=2,
        platform=PLATFORM,
        manifest={"schemaVersion": 2},
    ),
    "layers": LayerReport(
        reference="nginx:1.27",
        digest=DIGEST,
        platform=PLATFORM,
        total_size=0,
        layers=[],
        history=[],
        insights=LayerInsights(largest=[], empty_steps=0),
    ),
    "history": HistoryReport(reference="nginx:1.27", digest=DIGEST, platform=PLATFORM, history=[]),
    "dockerfile": DockerfileReport(
        reference="nginx:1.27",
        digest=DIGEST,
        platform=PLATFORM,
        instructions=[],
        dockerfile="FROM scratch\n",
    ),
    "pull_size": PullSizeReport(
        reference="nginx:1.27",
        digest=DIGEST,
        platform=PLATFORM,
        total_size=10,
        layer_count=1,
        download_size=10,
        download_layer_count=1,
        summary="10 B in 1 layer",
    ),
    "repository_info": REPO_INFO,
    "compare": _comparison(),
    "updates": UpdateReport(
        reference="nginx:1.27.2-alpine",
        digest=DIGEST,
        platform="linux/amd64",
        base=BaseStatus(reference="alpine:3.20", source="user", current_digest=DIGEST_B),
        base_outdated=True,
        reason="the base tag now resolves to another digest",
        verdict="rebuild: alpine:3.20 moved since this image was built",
        tag="1.27.2-alpine",
        newer_tags=["1.27.3-alpine"],
        newer_tags_total=1,
    ),
    "sbom": _sbom(),
    "referrers": ReferrersReport(
        reference="ghcr.io/org/app:1.0",
        digest=DIGEST,
        media_type="application/vnd.oci.image.index.v1+json",
        referrers_api="unsupported",
        subjects=[
            ReferrerSubject(digest=DIGEST, media_type="application/vnd.oci.image.index.v1+json")
        ],
        referrers=[
            Referrer(
                subject=DIGEST,
                digest=DIGEST_B,
                media_type="application/vnd.oci.image.manifest.v1+json",
                artifact_type="application/spdx+json",
                size=500,
                kind="sbom",
                sources=["tag_fallback"],
            )
        ],
    ),
    "verify": VerifyReport(
        reference="ghcr.io/org/app:1.0",
        digest=DIGEST,
        status="verified",
        reason="1 of 1 signatures verified",
        key="(inline PEM)",
        key_type="ecdsa-p256",
        signatures=[
            SignatureCheck(
                kind="cosign",
                status="verified",
                reason="valid",
                artifact_digest=DIGEST_B,
                signed_digest=DIGEST,
            )
        ],
    ),
    "provenance": ProvenanceReport(
        reference="demo/attested:1.0",
        digest=DIGEST,
        index_digest=DIGEST_B,
        platform=PLATFORM,
        attestation_digest=DIGEST,
        provenance_digest=DIGEST_B,
        predicate_type="https://slsa.dev/provenance/v0.2",
        slsa_version="v0.2",
        builder="https://github.com/docker/buildx",
        source_repository="https://github.com/example/attested.git",
        dockerfile=DockerfileSource(repository="https://github.com/example/attested.git"),
        build_args={"VERSION": "1.0"},
        base_images=[BuildMaterial(uri="pkg:docker/alpine@3.19", image="alpine:3.19")],
    ),
    "vulns": _vulns(),
    "whoami": Identity(registry="docker.io", authenticated=False, source="anonymous"),
    "repositories": RepositoryList(
        namespace="bitnami",
        count=3,
        page=1,
        sort="updated",
        repositories=[
            RepositorySummary(repository="bitnami/redis", namespace="bitnami", name="redis")
        ],
        complete=False,
    ),
    "organisations": OrganisationList(
        username="alice", count=1, organisations=[Organisation(name="acme", role="owner")]
    ),
    "readme": Readme(
        repository="nginx",
        markdown="# nginx\n" + "x" * 30_000,
        length=30_008,
    ),
    "pull_rate_limit": PullRateLimit(
        registry="docker.io",
        image="ratelimitpreview/test:latest",
        identity="anonymous",
        unlimited=False,
        limit=100,
        remaining=99,
    ),
    "files": FileListing(
        reference="alpine:3.20",
        digest=DIGEST,
        platform=PLATFORM,
        path="etc",
        files=[
            FileInfo(
                path=f"etc/f{i}",
                type="file",
                size=i,
                mode="-rw-r--r--",
                mode_bits=0o644,
                uid=0,
                gid=0,
                sha256=DIGEST,
                layer=0,
            )
            for i in range(3)
        ],
        total_files=3,
        total_size=3,
        layers=1,
        download=Download(),
    ),
    "read_text": FileContent(
        reference="alpine:3.20",
        digest=DIGEST,
        path="etc/os-release",
        resolved_path="etc/os-release",
        layer=0,
        size=5,
        binary=False,
        text="hello",
        download=Download(),
    ),
    "diff_files": FileDiff(
        image1="a:1",
        image2="a:2",
        digest1=DIGEST,
        digest2=DIGEST_B,
        path="",
        changes=[FileChange(path="x", change="added")],
        total_changes=1,
        totals=DiffTotals(added=1),
        download=Download(),
    ),
    "waste": WasteReport(
        reference="a:1",
        digest=DIGEST,
        platform=PLATFORM,
        total_bytes=10,
        final_bytes=5,
        wasted_bytes=5,
        efficiency=0.5,
        files=[],
        layers=[],
        download=Download(),
    ),
}


class FakeService:
    """Records `(method, args, kwargs)` and answers from `answers` (ANSWERS unless a test
    replaced one), or raises `self.error`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.error: BaseException | None = None
        self.barrier: threading.Barrier | None = None
        self.answers: dict[str, Any] = dict(ANSWERS)

    def _answer(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((name, args, kwargs))
        if self.barrier is not None:
            # Every call waits here until all of them have arrived: they can only all pass
            # when they run at the same time (a deadlock guard, not a timing).
            self.barrier.wait(timeout=30)
        if self.error is not None:
            raise self.error
        answer = self.answers[name]
        if name in ("sbom", "vulns"):  # the real service pages these (ops/paging.py)
            from dockerhub_cli.ops import paging

            pager = paging.page_sbom if name == "sbom" else paging.page_vulns
            answer = pager(answer, page=kwargs.get("page", 1), limit=kwargs.get("limit"))
        return answer

    def __getattr__(self, name: str) -> Any:
        if name in ANSWERS:
            return lambda *a, **k: self._answer(name, *a, **k)
        raise AttributeError(name)


@pytest.fixture
def fake() -> FakeService:
    return FakeService()


@pytest.fixture
async def client(fake: FakeService) -> AsyncIterator[Client]:
    async with Client(build_server(fake), raise_exceptions=True) as c:  # type: ignore[arg-type]
        yield c


async def _tools(client: Client) -> dict[str, Any]:
    return {t.name: t for t in (await client.list_tools()).tools}


# -- listing -------------------------------------------------------------------------------------


async def test_lists_all_twenty_seven_tools(client: Client) -> None:
    tools = await _tools(client)
    assert set(tools) == ALL_TOOLS and len(ALL_TOOLS) == 27
    specs = mcp_commands()
    assert {c.mcp.name for c in specs if c.mcp} == ALL_TOOLS
    assert ALL_TOOLS == {c.mcp.name for c in available_tools() if c.mcp}
    assert all(hasattr(DockerHubService, str(c.operation)) for c in specs)


async def test_legacy_parameter_names_schemas_and_annotations(client: Client) -> None:
    for name, tool in (await _tools(client)).items():
        schema = tool.input_schema
        props = schema["properties"]
        if name in LEGACY_TOOLS:
            assert list(props)[: len(LEGACY_TOOLS[name])] == LEGACY_TOOLS[name], name
        for param, prop in props.items():
            # repository, tag, platform, offset, page and limit: described once, in the
            # instructions.
            if param not in ("repository", "tag", "platform", "offset", "page", "limit"):
                assert prop.get("description"), f"{name}.{param} has no description"
            assert "title" not in prop and "anyOf" not in prop or "enum" in str(prop), param
        assert tool.description and len(tool.description) > 40
        assert tool.output_schema is not None and tool.output_schema.get("type") == "object"
        ann = tool.annotations
        assert ann is not None
        # Read-only: destructiveHint and idempotentHint mean nothing then (the MCP spec), and
        # openWorldHint is true by default; none of them is repeated 27 times.
        assert ann.read_only_hint is True
        assert (ann.destructive_hint, ann.idempotent_hint, ann.open_world_hint) == (None,) * 3


async def test_schema_bounds_defaults_and_output_models(client: Client) -> None:
    tools = await _tools(client)
    tags = tools["docker_list_tags"].input_schema["properties"]
    assert (tags["limit"]["minimum"], tags["limit"]["maximum"], tags["limit"]["default"]) == (
        1,
        100,
        25,
    )
    assert tags["page"]["minimum"] == 1 and tags["page"]["default"] == 1
    assert tools["docker_list_tags"].input_schema["required"] == ["repository"]
    details = tools["docker_get_image_details"].input_schema["properties"]
    assert details["tag"]["default"] == "latest" and "default" not in details["platform"]
    assert details["platform"]["type"] == "string"  # optional: left out, not sent as null
    search = tools["docker_search_images"].input_schema["properties"]
    assert search["query"]["type"] == "string" and search["is_official"]["default"] is False
    # The output schema is the --json model's top-level fields (compact: names only).
    assert _output_fields(tools["docker_get_manifest"]) == _model_fields(ManifestReport)
    assert tools["docker_list_tags"].output_schema["properties"]["tags"] == {}


async def test_supply_chain_and_compare_schemas(client: Client) -> None:
    tools = await _tools(client)
    models = {
        "docker_compare_images": Comparison,
        "docker_track_base_updates": UpdateReport,
        "docker_get_vulnerabilities": VulnerabilityReport,
        "docker_get_sbom": SbomReport,
        "docker_get_provenance": ProvenanceReport,
        "docker_get_dockerfile": DockerfileReport,
    }
    for name, model in models.items():
        assert _output_fields(tools[name]) == _model_fields(model), name
    compare = tools["docker_compare_images"].input_schema
    assert list(compare["properties"]) == ["image1", "image2", "platform", "offset"]
    assert compare["required"] == ["image1", "image2"]
    assert compare["properties"]["image1"]["type"] == "string"
    assert "First" in compare["properties"]["image1"]["description"]
    updates = tools["docker_track_base_updates"].input_schema
    assert list(updates["properties"]) == ["repository", "tag", "base", "platform", "offset"]
    assert updates["required"] == ["repository"]
    vulns = tools["docker_get_vulnerabilities"].input_schema["properties"]
    assert list(vulns) == [
        "repository",
        "tag",
        "platform",
        "severity",
        "limit",
        "page",
        "offset",
    ]
    assert vulns["severity"]["enum"] == ["critical", "high", "medium", "low", "unknown"]
    assert (vulns["limit"]["minimum"], vulns["limit"]["maximum"], vulns["limit"]["default"]) == (
        1,
        100,
        50,
    )
    sbom = tools["docker_get_sbom"].input_schema["properties"]
    assert list(sbom) == ["repository", "tag", "platform", "limit", "page", "offset"]
    assert sbom["limit"]["default"] == 100 and sbom["page"]["minimum"] == 1
    assert list(tools["docker_get_provenance"].input_schema["properties"]) == [
        "repository",
        "tag",
        "platform",
        "offset",
    ]
    # Honest about what "no findings" and "no SBOM" mean, before the model ever calls it.
    text = tools["docker_get_vulnerabilities"].description
    assert NO_SBOM_VULNS in text and "--sbom=true" in text
    assert "packages_scanned" in text and "limitations" in text
    assert "original" in tools["docker_get_dockerfile"].description


def _output_fields(tool: Any) -> list[str]:
    return list(tool.output_schema["properties"])


def _model_fields(model: Any) -> list[str]:
    """The top-level fields of `model`, as --json names them (but `notes` and `stale`, which
    the instructions describe once for every result)."""
    fields = model.model_json_schema(by_alias=True)["properties"]
    return [name for name in fields if name not in ("notes", "stale")]


async def test_fields_on_every_result_are_described_once(client: Client) -> None:
    tools = await _tools(client)
    for name, tool in tools.items():
        assert not {"notes", "stale"} & set(tool.output_schema["properties"]), name
    assert client.instructions and "`notes`" in client.instructions
    assert "`stale`" in client.instructions
    # A bound no call comes near is checked, not listed; a useful one (limit) is listed.
    files = tools["docker_list_files"].input_schema["properties"]
    assert "maximum" not in files["max_download"] and "maximum" not in files["page"]
    assert files["limit"]["maximum"] == 500


async def test_server_identity(client: Client) -> None:
    assert client.server_info.name == "dockerhub"
    assert client.server_info.version == __version__
    assert client.instructions and "docker_list_tags" in client.instructions


# -- success: every tool calls exactly its service method ---------------------------------------

CALLS = [
    (
        "docker_search_images",
        {"query": "nginx", "limit": 5, "page": 2, "is_official": True},
        ("search", ("nginx",), {"limit": 5, "page": 2, "official": True, "automated": False}),
    ),
    (
        "docker_get_image_details",
        {"repository": "nginx", "tag": "1.27", "platform": "linux/arm64"},
        ("inspect", ("nginx:1.27",), {"platform": "linux/arm64"}),
    ),
    (
        "docker_get_manifest",
        {"repository": "ghcr.io/o/r", "tag": "v1"},
        ("manifest", ("ghcr.io/o/r:v1",), {"platform": None}),
    ),
    (
        "docker_analyze_layers",
        {"repository": "127.0.0.1:5000/demo/app:1.0"},
        ("layers", ("127.0.0.1:5000/demo/app:1.0",), {"platform": None}),
    ),
    (
        "docker_get_image_history",
        {"repository": "bitnami/redis", "tag": DIGEST},
        ("history", (f"bitnami/redis@{DIGEST}",), {"platform": None}),
    ),
    (
        "docker_get_dockerfile",
        {"repository": "nginx"},
        ("dockerfile", ("nginx:latest",), {"platform": None}),
    ),
    (
        "docker_estimate_pull_size",
        {"repository": "python", "tag": "3.12", "have": ["python:3.12-slim"]},
        ("pull_size", ("python:3.12",), {"platform": None, "have": ["python:3.12-slim"]}),
    ),
    ("docker_get_stats", {"repository": "nginx:1.27"}, ("repository_info", ("nginx",), {})),
    ("docker_whoami", {}, ("whoami", (None,), {"verify": False})),
    (
        "docker_compare_images",
        {"image1": "nginx:1.26", "image2": f"ghcr.io/o/r@{DIGEST}", "platform": "linux/arm64"},
        ("compare", ("nginx:1.26", f"ghcr.io/o/r@{DIGEST}"), {"platform": "linux/arm64"}),
    ),
    (
        "docker_compare_images",
        {"image1": "nginx", "image2": "127.0.0.1:5000/demo/app:1.1"},
        ("compare", ("nginx:latest", "127.0.0.1:5000/demo/app:1.1"), {"platform": None}),
    ),
    (
        "docker_track_base_updates",
        {"repository": "nginx", "tag": "1.27.2-alpine", "base": "alpine:3.20"},
        ("updates", ("nginx:1.27.2-alpine",), {"base": "alpine:3.20", "platform": None}),
    ),
    (
        "docker_track_base_updates",
        {"repository": "nginx:1.27.2-alpine", "platform": "linux/arm64"},
        ("updates", ("nginx:1.27.2-alpine",), {"base": None, "platform": "linux/arm64"}),
    ),
    (
        "docker_get_vulnerabilities",
        {"repository": "127.0.0.1:5000/demo/attested", "tag": "1.0", "severity": "high"},
        (
            "vulns",
            ("127.0.0.1:5000/demo/attested:1.0",),
            {"platform": None, "severity": "high", "limit": 50, "page": 1},
        ),
    ),
    (
        "docker_get_sbom",
        {"repository": "docker/dockerfile:1", "platform": "linux/arm64"},
        ("sbom", ("docker/dockerfile:1",), {"platform": "linux/arm64", "limit": 100, "page": 1}),
    ),
    (
        "docker_get_sbom",
        {"repository": "docker/dockerfile:1", "limit": 10, "page": 1},
        ("sbom", ("docker/dockerfile:1",), {"platform": None, "limit": 10, "page": 1}),
    ),
    (
        "docker_get_provenance",
        {"repository": "docker/dockerfile", "tag": "1"},
        ("provenance", ("docker/dockerfile:1",), {"platform": None}),
    ),
    (
        "docker_list_referrers",
        {"repository": "ghcr.io/org/app", "tag": "1.0", "artifact_type": "application/spdx+json"},
        (
            "referrers",
            ("ghcr.io/org/app:1.0",),
            {"platform": None, "artifact_type": "application/spdx+json", "depth": 3},
        ),
    ),
    (
        "docker_list_referrers",
        {"repository": "ghcr.io/org/app", "tag": "1.0", "depth": 1},
        (
            "referrers",
            ("ghcr.io/org/app:1.0",),
            {"platform": None, "artifact_type": None, "depth": 1},
        ),
    ),
    (
        "docker_verify_signature",
        {"repository": "ghcr.io/org/app:1.0", "public_key": PEM},
        ("verify", ("ghcr.io/org/app:1.0",), {"key": PEM, "platform": None}),
    ),
    (
        "docker_get_rate_limit",
        {"repository": "alpine"},
        ("pull_rate_limit", ("alpine:latest",), {}),
    ),
    (
        "docker_search_images",
        {
            "query": "postgres",
            "badges": ["official", "verified_publisher"],
            "architectures": ["arm64"],
            "operating_systems": ["linux"],
            "categories": ["databases-and-storage"],
            "sort": "pull_count",  # docker/hub-mcp's word for pulls
            "order": "asc",
            "offset": 40,
        },
        (
            "search",
            ("postgres",),
            {
                "limit": 25,
                "page": 1,
                "official": False,
                "automated": False,
                "badges": ["official", "verified_publisher"],
                "categories": ["databases-and-storage"],
                "architectures": ["arm64"],
                "operating_systems": ["linux"],
                "sort": "pulls",
                "order": "asc",
                "offset": 40,
            },
        ),
    ),
    (
        "docker_list_repositories",
        {"namespace": "bitnami", "sort": "pulls", "content_type": "helm", "pattern": "redis*"},
        (
            "repositories",
            ("bitnami",),
            {
                "limit": 25,
                "page": 1,
                "pattern": "redis*",
                "content_type": "helm",
                "sort": "pulls",
            },
        ),
    ),
    ("docker_list_namespaces", {}, ("organisations", (), {})),
    ("docker_get_readme", {"repository": "nginx:1.27"}, ("readme", ("nginx",), {})),
    (
        "docker_list_files",
        {"repository": "alpine", "tag": "3.20", "path": "/etc", "find": "*.conf"},
        (
            "files",
            ("alpine:3.20", "/etc"),
            {"layer": None, "find": "*.conf", "platform": None, "max_download": 2_000_000_000},
        ),
    ),
    (
        "docker_read_file",
        {"repository": "alpine:3.20", "path": "/etc/os-release"},
        (
            "read_text",
            ("alpine:3.20", "/etc/os-release"),
            {"platform": None, "max_chars": 20_000, "max_download": 2_000_000_000},
        ),
    ),
    (
        "docker_diff_files",
        {"image1": "a:1", "image2": "a:2", "path": "/usr"},
        (
            "diff_files",
            ("a:1", "a:2", "/usr"),
            {"platform": None, "max_download": 2_000_000_000},
        ),
    ),
    (
        "docker_image_waste",
        {"repository": "a", "tag": "1", "max_download": 1000},
        ("waste", ("a:1",), {"platform": None, "max_download": 1000}),
    ),
    (
        "docker_find_same_tags",
        {"repository": "nginx"},
        ("same_as", (ImageReference("docker.io", "library/nginx"), "latest"), {"pattern": None}),
    ),
    (
        "docker_find_same_tags",
        {"repository": "nginx:mainline"},
        (
            "same_as",
            (ImageReference("docker.io", "library/nginx"), "mainline"),
            {"pattern": None},
        ),
    ),
    (
        "docker_find_same_tags",
        {"repository": "nginx", "pattern": "1.29*"},
        (
            "same_as",
            (ImageReference("docker.io", "library/nginx"), "latest"),
            {"pattern": "1.29*"},
        ),
    ),
    (
        "docker_upgrade_advice",
        {"repository": "nginx", "tag": "1.27.3-alpine", "platform": "linux/arm64"},
        (
            "upgrade",
            ("nginx:1.27.3-alpine",),
            {"platform": "linux/arm64", "vulns": False, "limit": 5},
        ),
    ),
]


@pytest.mark.parametrize(
    ("tool", "args", "expected"), CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)]
)
async def test_tool_calls_its_service_method(
    client: Client, fake: FakeService, tool: str, args: dict[str, Any], expected: Any
) -> None:
    result = await client.call_tool(tool, args)
    assert result.is_error is False, result.content
    assert fake.calls == [expected]
    method = expected[0]
    assert result.structured_content is not None
    model = type(ANSWERS[method])
    parsed = model.model_validate(result.structured_content)
    envelope = json.loads(result.content[0].text)
    assert unmark_publisher_data(envelope["result"]) == result.structured_content
    if method not in ("inspect", "repository_info", "readme", "repositories"):
        assert parsed == ANSWERS[method]


async def test_every_available_tool_has_a_success_case() -> None:
    assert {c[0] for c in CALLS} | {"docker_list_tags"} == ALL_TOOLS


async def test_list_tags_says_how_to_get_the_next_page(client: Client, fake: FakeService) -> None:
    result = await client.call_tool("docker_list_tags", {"repository": "nginx:1.27", "limit": 1})
    assert fake.calls[0][0] == "tags"
    ref = fake.calls[0][1][0]
    assert (ref.domain, ref.path, ref.tag) == ("docker.io", "library/nginx", None)
    # sort defaults to None in the spec (Hub: updated, elsewhere: name), like the CLI's
    assert fake.calls[0][2] == {"limit": 1, "page": 1, "pattern": None, "sort": None}
    notes = result.structured_content["notes"]
    assert notes == [
        "showing 1 tags of 60 (page 1); more exist: call docker_list_tags again with page=2"
    ]


async def test_readme_is_bounded_labelled_and_pageable(client: Client) -> None:
    result = await client.call_tool("docker_get_readme", {"repository": "nginx"})
    content = result.structured_content
    assert content["publisher_text"] is True and content["truncated"] is True
    assert len(content["markdown"]) == 8000 and content["length"] == 30_008
    assert "written by the repository's publisher" in content["notes"][0]
    assert "call docker_get_readme again with offset=8000" in content["notes"][-1]
    rest = await client.call_tool(
        "docker_get_readme", {"repository": "nginx", "offset": 28_000, "max_chars": 25_000}
    )
    tail = rest.structured_content
    assert tail["offset"] == 28_000 and len(tail["markdown"]) == 2008 and tail["truncated"]
    assert not any("more exist" in n for n in tail["notes"])
    too_big = await client.call_tool(
        "docker_get_readme", {"repository": "nginx", "max_chars": 10**6}
    )
    assert too_big.is_error


async def test_list_repositories_says_how_to_get_the_next_page(client: Client) -> None:
    result = await client.call_tool(
        "docker_list_repositories", {"namespace": "bitnami", "limit": 1}
    )
    assert result.structured_content["notes"] == [
        "showing 1 repositories of 3 (page 1); more exist: call docker_list_repositories "
        "again with page=2"
    ]


async def test_list_namespaces_anonymous_is_an_auth_error(
    client: Client, fake: FakeService
) -> None:
    fake.error = AuthError(
        "listing organisations needs a signed-in Docker Hub account",
        hint="sign in with `dockerhub login` or set DOCKERHUB_USERNAME and DOCKERHUB_TOKEN",
    )
    result = await client.call_tool("docker_list_namespaces", {})
    assert result.is_error and "signed-in" in result.content[0].text


async def test_search_keeps_the_seed_parameters_and_rejects_unknown_badges(
    client: Client,
) -> None:
    tools = await _tools(client)
    props = tools["docker_search_images"].input_schema["properties"]
    assert list(props)[:5] == LEGACY_TOOLS["docker_search_images"]
    assert {"badges", "categories", "architectures", "operating_systems", "sort", "order"} <= set(
        props
    )
    bad = await client.call_tool("docker_search_images", {"query": "x", "badges": ["gold"]})
    assert bad.is_error


async def test_long_readmes_are_shortened(client: Client) -> None:
    for tool in ("docker_get_stats", "docker_get_image_details"):
        result = await client.call_tool(tool, {"repository": "nginx"})
        content = result.structured_content
        info = content if tool == "docker_get_stats" else content["repository_info"]
        text = info["full_description"]
        assert len(text) < MAX_README_CHARS + 100 and text.endswith("more characters]")
        assert len(result.content[0].text) < 8000


async def test_long_sbom_is_paged_with_a_note(client: Client, fake: FakeService) -> None:
    fake.answers["sbom"] = full = _sbom(250)
    args = {"repository": "demo/attested:1.0"}
    first = await client.call_tool("docker_get_sbom", args)
    data = SbomReport.model_validate(first.structured_content)
    assert [p.name for p in data.packages] == [p.name for p in full.packages[:100]]
    assert data.package_count == 250 and data.counts_by_type == {"apk": 250}
    assert data.notes[-1].startswith(
        "showing packages 1-100 of 250 (page 1 of 3); more exist: call docker_get_sbom again "
        "with page=2"
    )
    assert len(first.content[0].text) < 40_000
    last = await client.call_tool("docker_get_sbom", {**args, "page": 3})
    data = SbomReport.model_validate(last.structured_content)
    assert [p.name for p in data.packages] == [p.name for p in full.packages[200:]]
    assert "more exist" not in data.notes[-1] and "201-250 of 250" in data.notes[-1]
    small = await client.call_tool("docker_get_sbom", {**args, "limit": 10, "page": 2})
    assert [p["name"] for p in small.structured_content["packages"]] == [
        f"pkg{i:04d}" for i in range(10, 20)
    ]
    past = await client.call_tool("docker_get_sbom", {**args, "page": 9})
    assert past.structured_content["packages"] == []
    assert (
        "page 9 is past the end: 250 packages in 3 page(s)" in past.structured_content["notes"][-1]
    )
    # a short SBOM is returned whole, unchanged
    fake.answers["sbom"] = _sbom(3)
    whole = await client.call_tool("docker_get_sbom", args)
    assert SbomReport.model_validate(whole.structured_content) == _sbom(3)


async def test_long_vulnerability_list_is_paged_and_summary_kept(
    client: Client, fake: FakeService
) -> None:
    fake.answers["vulns"] = _vulns(120)
    result = await client.call_tool("docker_get_vulnerabilities", {"repository": "a", "page": 2})
    data = VulnerabilityReport.model_validate(result.structured_content)
    assert [v.id for v in data.vulnerabilities] == [f"GHSA-{i:04d}" for i in range(50, 100)]
    assert data.summary.medium == 120 and data.packages_scanned == 8 and data.limitations
    assert data.notes[-1].startswith(
        "showing vulnerabilities (severest first) 51-100 of 120 (page 2 of 3); more exist: "
        "call docker_get_vulnerabilities again with page=3"
    )


async def test_long_comparison_layer_table_is_cut_with_a_note(
    client: Client, fake: FakeService
) -> None:
    fake.answers["compare"] = _comparison(MAX_COMPARE_ROWS + 15)
    result = await client.call_tool("docker_compare_images", {"image1": "a", "image2": "b"})
    data = Comparison.model_validate(result.structured_content)
    assert len(data.layers) == MAX_COMPARE_ROWS
    content = result.structured_content or {}
    assert (content["image1"], content["image2"]) == ("nginx:1.26", "nginx:1.27")
    assert (content["digest1"], content["digest2"]) == (DIGEST, DIGEST_B)
    assert data.notes == [
        f"layers shows the first {MAX_COMPARE_ROWS} of {MAX_COMPARE_ROWS + 15} layer positions; "
        "shared_layers, only_left, only_right and the sizes cover all of them (the dockerhub "
        "compare command prints the full table)"
    ]


# -- errors: what was wrong and what to try ------------------------------------------------------

ERRORS = [
    (
        PlatformNotFoundError(
            "nginx:1.27 has no image for platform linux/s390x; available: linux/amd64, linux/arm64",
            available=["linux/amd64", "linux/arm64"],
            hint=f"pick one with {advice.param('platform')}",
        ),
        ["no image for platform linux/s390x", "platform set to one of: linux/amd64, linux/arm64"],
    ),
    (
        NotFoundError(
            "tag '9.9' not found in nginx",
            hint=f"list the tags with {advice.command('tags', 'nginx')}",
        ),
        [
            "tag '9.9' not found in nginx",
            "list the tags with docker_list_tags",
            "docker_search_images",
        ],
    ),
    (
        RateLimitedError("rate limited by registry-1.docker.io", retry_after=41.6),
        ["rate limited", "wait 42 seconds before retrying", "DOCKERHUB_TOKEN"],
    ),
    (
        RateLimitedError("rate limited by hub.docker.com", retry_after=None),
        ["wait a minute before retrying"],
    ),
    (
        AuthError("the token server refused to authenticate anonymously"),
        ["refused to authenticate", "may be private", "credentials"],
    ),
    (
        NetworkError("cannot connect to ghcr.io: connection refused", hint="check the network"),
        ["cannot connect to ghcr.io", "check the network"],
    ),
    (
        UpstreamError("registry-1.docker.io answered HTTP 503"),
        ["answered HTTP 503", "retry later"],
    ),
    (
        OfflineCacheMissError(
            f"{advice.param('offline')}: tags of nginx is not in the cache",
            hint=f"run the same command once without {advice.param('offline')}",
        ),
        ["not in the cache", "offline mode (DOCKERHUB_OFFLINE)"],
    ),
    (
        InvalidInputError(
            "repository facts (description, stars, pulls) exist only for Docker Hub repositories",
            hint=f"use {advice.command('tags')} or {advice.command('inspect')} for registry data",
        ),
        ["only for Docker Hub", "use docker_list_tags or docker_get_image_details"],
    ),
]


@pytest.mark.parametrize(("error", "phrases"), ERRORS, ids=[type(e[0]).__name__ for e in ERRORS])
async def test_domain_errors_become_helpful_tool_errors(
    client: Client,
    fake: FakeService,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    phrases: list[str],
) -> None:
    fake.error = error
    caplog.set_level(logging.INFO)
    result = await client.call_tool("docker_get_image_details", {"repository": "nginx"})
    assert result.is_error is True and result.structured_content is None
    text = result.content[0].text
    assert text.startswith("Error executing tool docker_get_image_details: ")
    assert "What to try:" in text and "\n" not in text
    for phrase in phrases:
        assert phrase in text
    assert "Traceback" not in text
    assert not any(r.exc_info for r in caplog.records), "no traceback for an expected error"


NO_SBOM = NoAttestationError(
    "demo/app:1.0 (linux/amd64) has no SBOM attestation (it is a single image manifest, not an "
    "index with attestation manifests); its packages cannot be checked for vulnerabilities (this "
    "is NOT a clean result)",
    hint=HOW_TO_ATTEST,
)


async def test_vulnerabilities_without_sbom_is_an_honest_error(
    client: Client, fake: FakeService
) -> None:
    fake.error = NO_SBOM
    result = await client.call_tool(
        "docker_get_vulnerabilities", {"repository": "demo/app", "tag": "1.0"}
    )
    assert result.is_error is True and result.structured_content is None
    text = result.content[0].text
    assert text.startswith(
        "Error executing tool docker_get_vulnerabilities: demo/app:1.0: no SBOM attestation, so "
        "no vulnerability data — this is NOT a clean result"
    )
    assert "single image manifest" in text  # why there is none
    assert "What would produce one:" in text and "--sbom=true" in text and "trivy" in text
    assert "check the spelling" not in text and "\n" not in text


@pytest.mark.parametrize(
    ("tool", "error", "phrases"),
    [
        (
            "docker_get_sbom",
            NoAttestationError(
                "demo/app:1.0 has no SBOM attestation (...); its packages are unknown",
                hint=HOW_TO_ATTEST,
            ),
            ["has no SBOM attestation", "--sbom=true", "another tag or platform"],
        ),
        (
            "docker_get_provenance",
            NoAttestationError(
                "demo/app:1.0 has no SLSA provenance attestation (...); how it was built is "
                "unknown",
                hint=HOW_TO_ATTEST,
            ),
            ["no SLSA provenance attestation", "--provenance=mode=max", "docker_get_image_history"],
        ),
    ],
)
async def test_missing_attestation_errors(
    client: Client, fake: FakeService, tool: str, error: Exception, phrases: list[str]
) -> None:
    fake.error = error
    result = await client.call_tool(tool, {"repository": "demo/app", "tag": "1.0"})
    assert result.is_error
    text = result.content[0].text
    for phrase in phrases:
        assert phrase in text
    assert "check the spelling" not in text


async def test_compare_platform_error_lists_the_platforms(
    client: Client, fake: FakeService
) -> None:
    fake.error = PlatformNotFoundError(
        "nginx:1.26 has no image for platform linux/s390x",
        available=["linux/amd64", "linux/arm64"],
    )
    result = await client.call_tool(
        "docker_compare_images",
        {"image1": "nginx:1.26", "image2": "nginx:1.27", "platform": "linux/s390x"},
    )
    assert result.is_error
    assert "call again with platform set to one of: linux/amd64, linux/arm64" in (
        result.content[0].text
    )


async def test_bad_reference_is_rejected_with_the_rule(client: Client, fake: FakeService) -> None:
    result = await client.call_tool("docker_analyze_layers", {"repository": "Nginx"})
    assert result.is_error and "must be lowercase" in result.content[0].text
    result = await client.call_tool("docker_analyze_layers", {"repository": "nginx", "tag": "-bad"})
    assert result.is_error and "invalid tag '-bad'" in result.content[0].text
    result = await client.call_tool(
        "docker_analyze_layers", {"repository": "nginx:1.26", "tag": "1.27"}
    )
    assert result.is_error and "put the tag in one field only" in result.content[0].text
    assert fake.calls == []


async def test_unexpected_exception_is_generic_and_logged_once_without_traceback(
    client: Client, fake: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    fake.error = KeyError("secret internals")
    caplog.set_level(logging.WARNING)
    caplog.set_level(
        logging.WARNING, logger="dockerhub_cli"
    )  # a CLI --debug test may have lowered it
    result = await client.call_tool("docker_get_stats", {"repository": "nginx"})
    assert result.is_error
    text = result.content[0].text
    assert "internal error in docker_get_stats (KeyError)" in text
    assert "secret internals" not in text and "Traceback" not in text
    ours = [r for r in caplog.records if r.name == "dockerhub_cli.mcp"]
    assert len(ours) == 1 and "secret internals" in ours[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
    # the server keeps serving
    fake.error = None
    assert (await client.call_tool("docker_get_stats", {"repository": "nginx"})).is_error is False


@pytest.mark.parametrize(
    ("tool", "args", "phrase"),
    [
        (
            "docker_list_tags",
            {"repository": "nginx", "limit": 500},
            "limit must be between 1 and 100",
        ),
        ("docker_list_tags", {"repository": "nginx", "page": 0}, "page must be between 1 and"),
        (
            "docker_list_tags",
            {"repository": "nginx", "sort": "size"},
            "sort must be one of updated, name, semver (got 'size')",
        ),
        ("docker_list_tags", {}, "repository is required"),
        ("docker_search_images", {"query": "x" * 101}, "at most 100 characters"),
        ("docker_search_images", {"query": ""}, "at least 1 character"),
        ("docker_get_image_details", {"repository": "nginx", "tag": ""}, "at least 1 character"),
        ("docker_estimate_pull_size", {"repository": "a", "have": ["b"] * 11}, "at most 10 items"),
        ("docker_search_images", {"query": "a", "limit": "many"}, "limit must be an integer"),
        (
            "docker_get_vulnerabilities",
            {"repository": "a", "severity": "severe"},
            "severity must be one of critical, high, medium, low, unknown",
        ),
        ("docker_get_vulnerabilities", {"repository": "a", "limit": 101}, "between 1 and 100"),
        ("docker_get_sbom", {"repository": "a", "page": 0}, "page must be between 1"),
        ("docker_compare_images", {"image1": "nginx"}, "image2 is required"),
        ("docker_compare_images", {"image1": "Nginx", "image2": "a"}, "must be lowercase"),
        ("docker_track_base_updates", {"repository": "a", "base": "Alpine"}, "must be lowercase"),
        (  # a misspelled parameter would silently answer for the default platform
            "docker_get_image_details",
            {"repository": "nginx", "platfrom": "linux/arm64"},
            "platfrom is not a parameter of docker_get_image_details; did you mean platform?",
        ),
        ("docker_list_tags", {"repositry": "nginx"}, "did you mean repository?"),
    ],
)
async def test_bad_arguments_are_rejected_by_schema(
    client: Client, fake: FakeService, tool: str, args: dict[str, Any], phrase: str
) -> None:
    result = await client.call_tool(tool, args)
    assert result.is_error
    text = result.content[0].text
    assert phrase in text
    # One line naming the parameter, no pydantic text or documentation URL (issue 19 goal 5).
    assert "\n" not in text and "http" not in text and "pydantic" not in text.lower()
    assert "validation error" not in text and "type=" not in text
    assert fake.calls == []


async def test_an_unknown_argument_unlike_any_parameter_is_ignored(
    client: Client, fake: FakeService
) -> None:
    """Some clients add a name of their own (Cursor's `random_string`): still answered."""
    result = await client.call_tool(
        "docker_list_tags", {"repository": "nginx", "random_string": "x"}
    )
    assert result.is_error is False
    assert len(fake.calls) == 1


# -- the reference rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repository", "tag", "expected"),
    [
        ("nginx", "latest", "nginx:latest"),
        ("nginx", "1.27-alpine", "nginx:1.27-alpine"),
        ("nginx:1.27", "latest", "nginx:1.27"),
        ("nginx:1.27", "1.27", "nginx:1.27"),
        ("library/nginx", "1", "nginx:1"),
        ("docker.io/bitnami/redis", "7", "bitnami/redis:7"),
        ("ghcr.io/o/r", "v1", "ghcr.io/o/r:v1"),
        ("127.0.0.1:5000/demo/app", "1.0", "127.0.0.1:5000/demo/app:1.0"),
        ("localhost:5000/app", "latest", "localhost:5000/app:latest"),
        ("nginx", DIGEST, f"nginx@{DIGEST}"),
        (f"nginx@{DIGEST}", "latest", f"nginx@{DIGEST}"),
    ],
)
def test_image_reference(repository: str, tag: str, expected: str) -> None:
    assert image_reference(repository, tag) == expected


@pytest.mark.parametrize(
    ("repository", "tag", "message"),
    [
        ("nginx", "1.27 ; rm", "invalid tag"),
        ("nginx", "a/b", "invalid tag"),
        ("nginx", "../x", "invalid tag"),
        ("nginx:1.26", "1.27", "already names tag"),
        (f"nginx@{DIGEST}", "1.27", "already names digest"),
        ("nginx?x=1", "latest", "not allowed"),
        ("", "latest", "empty"),
    ],
)
def test_image_reference_rejects(repository: str, tag: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        image_reference(repository, tag)


# -- registration follows the service -------------------------------------------------------


def test_a_tool_whose_method_is_missing_is_not_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(DockerHubService, "vulns")
    names = {c.mcp.name for c in available_tools() if c.mcp}
    assert names == ALL_TOOLS - {"docker_get_vulnerabilities"}

    async def run() -> None:
        # With the spec given, the server checks this build (without, it lists the tools of
        # the generated tools.json, which `make generate` wrote from available_tools()).
        server = build_server(FakeService(), specs=mcp_commands())  # type: ignore[arg-type]
        async with Client(server) as c:
            listed = {t.name for t in (await c.list_tools()).tools}
            assert listed == names
            result = await c.call_tool("docker_get_vulnerabilities", {"repository": "a"})
            assert result.is_error and "Unknown tool" in result.content[0].text

    anyio.run(run)


def test_a_spec_is_a_few_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extension recipe in the module docstring, exercised."""

    spec = Command(
        "probe",
        "explore",
        "Probe the search service for a repository.",
        params=(Param("repository", default=REQUIRED, argument=True, mcp="repository"),),
        operation="search",
        result="dockerhub_cli.models.core:SearchResults",
        cli=False,
        mcp=McpTool("docker_probe", "Probe the search service for a repository."),
    )

    async def run() -> None:
        fake = FakeService()
        async with Client(build_server(fake, specs=[spec])) as c:  # type: ignore[arg-type]
            result = await c.call_tool("docker_probe", {"repository": "nginx"})
            assert result.structured_content["query"] == "nginx"

    anyio.run(run)


# -- concurrency, health -------------------------------------------------------------------------


async def test_concurrent_calls_share_one_service(client: Client, fake: FakeService) -> None:
    fake.barrier = threading.Barrier(10)
    results: list[Any] = []

    async def one(i: int) -> None:
        results.append(await client.call_tool("docker_get_stats", {"repository": f"n{i}"}))

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(one, i)
    # Run one after another, the first call would wait at the barrier for the other nine and
    # fail (BrokenBarrierError) instead of answering.
    assert len(results) == 10 and not any(r.is_error for r in results)
    assert sorted(c[1][0] for c in fake.calls) == sorted(f"n{i}" for i in range(10))


def test_health_report_needs_no_network() -> None:
    with DockerHubService(Settings.from_env()) as service, responses.RequestsMock():
        report = health_report(service)
    assert report["status"] == "ok" and report["version"] == __version__
    assert report["cache"]["path"].endswith("http_cache.sqlite")
    assert report["cache"]["backend"] == "SQLiteCache"
    assert report["rate_limiter"] == {}
    assert "docker_list_tags" in report["tools"]
    json.dumps(report)


def test_health_report_names_a_redis_cache_without_its_password() -> None:
    from types import SimpleNamespace

    settings = Settings.from_env(cache_backend="redis://:r3dispw@127.0.0.1:6379/0")
    service = SimpleNamespace(
        settings=settings,
        session=SimpleNamespace(cache=object(), settings=SimpleNamespace(disabled=False)),
        limiter=SimpleNamespace(snapshot=dict),
    )
    report = health_report(service)  # type: ignore[arg-type]
    assert report["cache"]["path"] == "redis://:***@127.0.0.1:6379/0"
    assert "r3dispw" not in json.dumps(report)


# -- the real service behind the tools (responses registry) --------------------------------------

REG = "https://registry.example.com"
IMAGE_REPO = "registry.example.com/team/app"


@pytest.fixture
def registry() -> Iterator[fx.FakeRegistry]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        reg = fx.FakeRegistry(rsps, REG, "team/app")
        reg.nginx("1.27.2")
        reg.missing("9.9")
        yield reg


@pytest.fixture
async def real_client(registry: fx.FakeRegistry) -> AsyncIterator[Client]:
    with DockerHubService(Settings.from_env(backoff_factor=0.0)) as service:
        async with Client(build_server(service), raise_exceptions=True) as c:
            yield c


async def test_real_results_validate_against_the_published_schemas(real_client: Client) -> None:
    args = {"repository": IMAGE_REPO, "tag": "1.27.2"}
    for tool in (
        "docker_get_image_details",
        "docker_get_manifest",
        "docker_analyze_layers",
        "docker_get_image_history",
        "docker_get_dockerfile",
        "docker_estimate_pull_size",
    ):
        result = await real_client.call_tool(tool, args)
        assert result.is_error is False, (tool, result.content[0].text)
        assert result.structured_content["digest"].startswith("sha256:")
    details = await real_client.call_tool(
        "docker_get_image_details", {**args, "platform": "linux/arm64"}
    )
    assert details.structured_content["platform"]["architecture"] == "arm64"
    layers = await real_client.call_tool("docker_analyze_layers", args)
    assert layers.structured_content["total_size"] == fx.NGINX_TOTAL


async def test_real_errors(real_client: Client) -> None:
    result = await real_client.call_tool(
        "docker_analyze_layers",
        {"repository": IMAGE_REPO, "tag": "1.27.2", "platform": "linux/s390x"},
    )
    assert result.is_error
    assert (
        "call again with platform set to one of: linux/amd64, linux/arm64" in result.content[0].text
    )
    result = await real_client.call_tool(
        "docker_get_manifest", {"repository": IMAGE_REPO, "tag": "9.9"}
    )
    assert result.is_error
    text = result.content[0].text
    assert "tag '9.9' not found" in text and "docker_list_tags" in text and "`dockerhub" not in text


async def test_real_hub_tools_validate_against_the_published_schemas() -> None:
    """docker_list_repositories, docker_search_images (site search down: the classic search
    answers and says what it could not apply) and docker_get_readme on the real service, with
    replies shaped as in tests/fixtures/hub (see SOURCES.md)."""
    from tests.unit.hub_fixtures import HUB, load

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        repos = f"{HUB}/v2/namespaces/bitnami/repositories"
        rsps.get(repos, json=load("repos_bitnami_page1.json"))
        rsps.get(f"{HUB}/api/search/v4", status=502, body="bad gateway")
        rsps.get(f"{HUB}/v2/search/repositories/", json=load("search_nginx.json"))
        readme = load("repository_nginx.json")
        readme["full_description"] = "# nginx\n" + "y" * 20_000
        rsps.get(f"{HUB}/v2/namespaces/library/repositories/nginx", json=readme)
        with DockerHubService(Settings.from_env(backoff_factor=0.0)) as service:
            async with Client(build_server(service), raise_exceptions=True) as c:
                listed = await c.call_tool(
                    "docker_list_repositories", {"namespace": "bitnami", "limit": 2}
                )
                data = RepositoryList.model_validate(listed.structured_content)
                assert [r.content_types for r in data.repositories] == [["image"], ["helm"]]
                assert "page=2" in data.notes[-1]
                found = await c.call_tool(
                    "docker_search_images",
                    {"query": "nginx", "limit": 3, "architectures": ["arm64"]},
                )
                search = SearchResults.model_validate(found.structured_content)
                assert search.source == "v2" and "architecture arm64" in search.notes[1]
                text = await c.call_tool("docker_get_readme", {"repository": "nginx"})
                doc = Readme.model_validate(text.structured_content)
                assert doc.truncated and len(doc.markdown) == 8000 and doc.length == 20_008
                assert "publisher" in doc.notes[0]
                missing = await c.call_tool("docker_list_namespaces", {})
                assert missing.is_error and "signed-in" in missing.content[0].text


async def test_list_files_pages_and_says_so(client: Client, fake: FakeService) -> None:
    result = await client.call_tool(
        "docker_list_files", {"repository": "alpine:3.20", "limit": 2, "page": 1}
    )
    data = result.structured_content
    assert data is not None and [f["path"] for f in data["files"]] == ["etc/f0", "etc/f1"]
    assert data["total_files"] == 3
    # the one pager (ops/paging, as for SBOM packages), its advice worded for a model
    assert data["notes"][-1] == (
        "showing entries 1-2 of 3 (page 1 of 2); more exist: call docker_list_files again "
        "with page=2 (total_files and total_size cover them all)"
    )
    last = await client.call_tool(
        "docker_list_files", {"repository": "alpine:3.20", "limit": 2, "page": 2}
    )
    assert last.structured_content is not None
    assert [f["path"] for f in last.structured_content["files"]] == ["etc/f2"]
    assert last.structured_content["notes"][-1].startswith("showing entries 3-3 of 3 (page 2")
    past = await client.call_tool(
        "docker_list_files", {"repository": "alpine:3.20", "limit": 2, "page": 5}
    )
    assert past.structured_content is not None and past.structured_content["files"] == []
    assert past.structured_content["notes"][-1].startswith(
        "page 5 is past the end: 3 entries in 2 page(s) of 2; call docker_list_files with page=1"
    )
    whole = await client.call_tool("docker_list_files", {"repository": "alpine:3.20"})
    assert whole.structured_content is not None and len(whole.structured_content["files"]) == 3
    assert not any("showing" in n for n in whole.structured_content["notes"])


async def test_diff_files_pages_with_the_same_pager(client: Client, fake: FakeService) -> None:
    fake.answers["diff_files"] = fake.answers["diff_files"].model_copy(
        update={"changes": [FileChange(path=f"p{i}", change="added") for i in range(3)]}
    )
    result = await client.call_tool(
        "docker_diff_files", {"image1": "a:1", "image2": "a:2", "limit": 2, "page": 1}
    )
    data = result.structured_content
    assert data is not None and [c["path"] for c in data["changes"]] == ["p0", "p1"]
    assert data["notes"][-1] == (
        "showing changes 1-2 of 3 (page 1 of 2); more exist: call docker_diff_files again "
        "with page=2 (totals cover them all)"
    )


def test_the_sdk_span_per_message_is_dropped_only_when_it_goes_nowhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from mcp.server.lowlevel import Server
    from opentelemetry import trace

    from dockerhub_cli.mcp import server as mcp_server

    # The SDK still ships it on by default (if this fails, see `_inert_tracing`).
    assert [type(m).__name__ for m in Server("x").middleware] == ["OpenTelemetryMiddleware"]
    sdk_installed = importlib.util.find_spec("opentelemetry.sdk") is not None
    built = build_server(FakeService())  # type: ignore[arg-type]
    names = [type(m).__name__ for m in built.middleware]
    assert names == (["OpenTelemetryMiddleware"] if sdk_installed else [])

    class Provider(trace.NoOpTracerProvider):
        pass

    # A tracer provider someone set: the spans go somewhere, so they are kept.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: Provider())
    kept = build_server(FakeService())  # type: ignore[arg-type]
    assert [type(m).__name__ for m in kept.middleware] == ["OpenTelemetryMiddleware"]
    # An installed OpenTelemetry SDK could set one later: kept too.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.ProxyTracerProvider())
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "opentelemetry.sdk" else real_find_spec(name, *a),
    )
    assert mcp_server._inert_tracing(built_default_middleware()) is False


def built_default_middleware() -> object:
    from mcp.server.lowlevel import Server

    return Server("x").middleware[0]
