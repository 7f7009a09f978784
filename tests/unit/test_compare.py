"""`compare` and `updates` on `responses`: diffs, base tracking, tag families, threads, CLI."""

from __future__ import annotations

import json
import threading

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli import advice
from dockerhub_cli.cli import app
from dockerhub_cli.errors import InvalidReferenceError, NotFoundError
from dockerhub_cli.oci.versions import newer_in_family, parse_version
from dockerhub_cli.ops.compare import run_parallel
from tests.unit import registry_fixtures as fx

REG = "https://registry.example.com"
HUB = "https://hub.docker.com"
DOCKER_REG = "https://registry-1.docker.io"
REALM = "https://auth.example.com/token"
BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"

L0 = ("sha256:" + "11" * 32, 1000)
L1 = ("sha256:" + "22" * 32, 500)
L2 = ("sha256:" + "33" * 32, 250)

runner = CliRunner()


@pytest.fixture
def reg(rsps) -> fx.FakeRegistry:
    return fx.FakeRegistry(rsps, REG, "team/app")


def _ref(tag: str, repo: str = "team/app") -> str:
    return f"registry.example.com/{repo}:{tag}"


LEFT_CONFIG = fx.config_bytes(
    env=["PATH=/usr/bin", "A=1", "GONE=x"],
    labels={"a": "1", "old": "y"},
    history=[
        ("/bin/sh -c #(nop) ADD file:base in / ", None, False),
        ("ENV A=1", "buildkit.dockerfile.v0", True),
        ("COPY app /app # buildkit", "buildkit.dockerfile.v0", False),
    ],
    extra={
        "Entrypoint": ["/e"],
        "Cmd": ["run"],
        "User": "app",
        "WorkingDir": "/srv",
        "ExposedPorts": {"80/tcp": {}},
        "Volumes": {"/data": {}},
    },
)
RIGHT_CONFIG = fx.config_bytes(
    env=["PATH=/usr/bin", "A=2", "NEW=z"],
    labels={"a": "1", "new": "n"},
    history=[
        ("/bin/sh -c #(nop) ADD file:base in / ", None, False),
        ("ENV A=2", "buildkit.dockerfile.v0", True),
        ("RUN make # buildkit", "buildkit.dockerfile.v0", False),
        ("COPY app /app # buildkit", "buildkit.dockerfile.v0", False),
    ],
    extra={
        "Entrypoint": ["/e"],
        "Cmd": ["serve"],
        "WorkingDir": "/app",
        "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
    },
)


def _two_images(reg: fx.FakeRegistry) -> None:
    reg.manifest(fx.image_manifest(LEFT_CONFIG, [L0, L1]), fx.OCI_MANIFEST, tags=("left",))
    reg.blob(LEFT_CONFIG)
    reg.manifest(fx.image_manifest(RIGHT_CONFIG, [L0, L2, L1]), fx.OCI_MANIFEST, tags=("right",))
    reg.blob(RIGHT_CONFIG)


# -- compare --


def test_compare_layers_sizes_and_both_sides_fetched(rsps, reg, service) -> None:
    _two_images(reg)
    r = service.compare(_ref("left"), _ref("right"))
    fetched = {c.request.url.rsplit("/", 1)[-1] for c in rsps.calls}
    assert {"left", "right", fx.sha256(LEFT_CONFIG), fx.sha256(RIGHT_CONFIG)} <= fetched
    assert (r.left.size, r.right.size, r.left.layer_count, r.right.layer_count) == (
        1500,
        1750,
        2,
        3,
    )
    assert r.shared_layers == [L0[0], L1[0]]
    assert r.only_left == [] and r.only_right == [L2[0]]
    assert (r.common_prefix_layers, r.common_prefix_size) == (1, 1000)
    assert r.shared_size == 1500 and r.pull_adds == 250
    assert r.size_delta == 250 and r.size_delta_percent == pytest.approx(16.67)
    assert [row.status for row in r.layers] == ["base", "shared", "only_right"]
    assert r.layers[1].right_step == "RUN make # buildkit"
    assert "share their first 1 layer" in r.summary
    assert r.config_diff.platforms is None and r.stale is False
    # the arguments' names (and diff's): image1 is the left side, image2 the right one
    assert (
        (r.image1, r.image2)
        == (r.left.reference, r.right.reference)
        == (
            _ref("left"),
            _ref("right"),
        )
    )
    assert (r.digest1, r.digest2) == (r.left.digest, r.right.digest)
    assert r.digest1 != r.digest2


def test_compare_config_diff(reg, service) -> None:
    _two_images(reg)
    d = service.compare(_ref("left"), _ref("right")).config_diff
    assert d.env.added == {"NEW": "z"} and d.env.removed == {"GONE": "x"}
    assert d.env.changed["A"].model_dump() == {"left": "1", "right": "2"}
    assert d.labels.added == {"new": "n"} and d.labels.removed == {"old": "y"}
    assert d.labels.changed == {}
    assert not d.entrypoint.changed and d.entrypoint.left == ["/e"]
    assert d.cmd.model_dump() == {"left": ["run"], "right": ["serve"], "changed": True}
    assert d.user.model_dump() == {"left": "app", "right": None, "changed": True}
    assert (d.working_dir.left, d.working_dir.right) == ("/srv", "/app")
    assert d.exposed_ports.model_dump() == {"added": ["443/tcp"], "removed": []}
    assert d.volumes.model_dump() == {"added": [], "removed": ["/data"]}


def test_compare_history_diff(reg, service) -> None:
    _two_images(reg)
    h = service.compare(_ref("left"), _ref("right")).history_diff
    assert h.common_prefix == 1
    assert [(s.index, s.created_by) for s in h.only_left] == [(1, "ENV A=1")]
    assert [(s.index, s.created_by, s.layer_digest) for s in h.only_right] == [
        (1, "ENV A=2", None),
        (2, "RUN make # buildkit", L2[0]),
    ]


def test_compare_index_platform_sets(rsps, reg, service) -> None:
    reg.nginx("1.27.2")
    fx.FakeRegistry(rsps, REG, "team/other").gitea("1.0")
    r = service.compare(_ref("1.27.2"), _ref("1.0", "team/other"))
    assert r.left.index_digest == fx.sha256(fx.NGINX_INDEX)
    assert r.left.digest == fx.sha256(fx.NGINX_MANIFEST)
    assert r.config_diff.platforms is not None
    assert r.config_diff.platforms.model_dump() == {
        "left": ["linux/amd64", "linux/arm64/v8"],
        "right": ["linux/amd64"],
        "common": ["linux/amd64"],
        "only_left": ["linux/arm64/v8"],
        "only_right": [],
    }
    arm = service.compare(_ref("1.27.2"), _ref("1.27.2"), platform="linux/arm64")
    assert arm.left.digest == fx.sha256(fx.ARM64_MANIFEST) and arm.size_delta == 0
    assert arm.only_left == arm.only_right == []


def test_compare_errors(reg, service) -> None:
    _two_images(reg)
    reg.missing("nope")
    with pytest.raises(InvalidReferenceError):
        service.compare("Bad Ref", _ref("left"))
    with pytest.raises(NotFoundError, match="tag 'nope' not found"):
        service.compare(_ref("left"), _ref("nope"))


# -- updates: the base --


def _based(
    reg: fx.FakeRegistry,
    tag: str,
    *,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> None:
    cfg = fx.config_bytes(labels=labels, history=[("ADD x /", None, False), ("RUN y", None, False)])
    own = ("sha256:" + "ee" * 32, 1000)
    reg.manifest(
        fx.image_manifest(cfg, [(fx.EMPTY_TAR_GZ_DIGEST, 32), own], annotations=annotations),
        fx.OCI_MANIFEST,
        tags=(tag,),
    )
    reg.blob(cfg)


def test_updates_annotation_current_and_outdated(rsps, reg, service) -> None:
    fx.FakeRegistry(rsps, REG, "team/base").gitea("1.0")
    base = "registry.example.com/team/base:1.0"
    _based(reg, "cur", annotations={BASE_NAME: base, BASE_DIGEST: fx.GITEA_MANIFEST_DIGEST})
    old = "sha256:" + "99" * 32
    _based(reg, "old", annotations={BASE_NAME: base, BASE_DIGEST: old})

    r = service.updates(_ref("cur"))
    assert r.base is not None and r.base.source == "annotation"
    assert r.base.reference == "registry.example.com/team/base:1.0"
    assert r.base.digest_at_build == r.base.current_digest == fx.GITEA_MANIFEST_DIGEST
    assert r.base_outdated is False and r.verdict.startswith("up to date")
    assert r.evidence is not None
    assert (r.evidence.shared_prefix_layers, r.evidence.base_layer_count) == (1, 1)
    assert r.evidence.base_is_prefix and r.evidence.shared_prefix_size == 32

    r = service.updates(_ref("old"))
    assert r.base_outdated is True and r.base is not None and r.base.digest_at_build == old
    assert "layers are unchanged" in r.reason  # honest: the digest moved, the layers did not
    assert r.verdict.startswith("outdated")


def test_updates_label_without_digest_is_judged_by_layers(rsps, reg, service) -> None:
    fx.FakeRegistry(rsps, REG, "team/base").gitea("1.0")
    _based(reg, "lbl", labels={BASE_NAME: "registry.example.com/team/base:1.0"})
    r = service.updates(_ref("lbl"))
    assert r.base is not None and r.base.source == "label" and r.base.digest_at_build is None
    assert r.base_outdated is False and "judged by layers" in r.reason


def test_updates_with_user_base(rsps, reg, service) -> None:
    fx.FakeRegistry(rsps, REG, "team/base").gitea("1.0")
    _based(reg, "plain")
    r = service.updates(_ref("plain"), base="registry.example.com/team/base:1.0")
    assert r.base is not None and r.base.source == "user"
    assert r.base_outdated is False and r.evidence is not None and r.evidence.base_is_prefix
    # a base sharing no leading layer: unknowable, never a guess
    reg.nginx("1.27.2")
    r = service.updates(_ref("plain"), base=_ref("1.27.2"))
    assert r.base_outdated is None and "shares no leading layer" in r.reason
    assert r.verdict.startswith("unknown")


def test_updates_unknowable_cases_are_null_with_a_reason(rsps, reg, service) -> None:
    gone = fx.FakeRegistry(rsps, REG, "team/gone")
    gone.missing("1.0")
    rsps.get(gone.url("tags/list"), json={"name": "team/gone", "tags": ["2.0"]})
    _based(
        reg,
        "gone",
        annotations={
            BASE_NAME: "registry.example.com/team/gone:1.0",
            BASE_DIGEST: "sha256:" + "1" * 64,
        },
    )
    _based(reg, "digest-only", annotations={BASE_DIGEST: "sha256:" + "1" * 64})
    _based(reg, "nothing")
    r = service.updates(_ref("gone"))
    assert r.base_outdated is None and r.base is not None and r.base.current_digest is None
    assert "current digest of registry.example.com/team/gone:1.0 is unknown" in r.reason
    r = service.updates(_ref("digest-only"))
    assert r.base is None and r.base_outdated is None and r.reason
    assert ("param", "base", "IMAGE") in advice.references(r.reason)  # worded by a front-end
    r = service.updates(_ref("nothing"))
    assert r.base is None and r.base_outdated is None and "base.name" in r.reason


# -- updates: tag families --


def test_updates_newer_tags_from_registry_tags_list(rsps, reg, service) -> None:
    _based(reg, "1.27.3-alpine")
    rsps.get(
        reg.url("tags/list"),
        json={
            "name": "team/app",
            "tags": [
                "1.27.3-alpine",
                "1.27.4-alpine",
                "1.28.0-alpine",
                "1.28.0",
                "1.27.4",
                "1.29.0-rc1-alpine",
                "1.28-alpine",
                "latest",
            ],
        },
    )
    r = service.updates(_ref("1.27.3-alpine"))
    assert r.tag == "1.27.3-alpine"
    assert r.newer_tags == ["1.28.0-alpine", "1.27.4-alpine"] and r.newer_tags_total == 2


def test_updates_newer_tags_on_docker_hub_use_the_name_filter(rsps, service) -> None:
    hub_reg = fx.FakeRegistry(rsps, DOCKER_REG, "library/nginx")
    hub_reg.gitea("1.27.3-alpine")
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nginx/tags",
        json={
            "count": 3,
            "next": None,
            "results": [
                {"name": n, "digest": "sha256:" + "a" * 64}
                for n in ("1.27.3-alpine", "1.27.4-alpine", "1.27.4-alpine-slim")
            ],
        },
    )
    r = service.updates("nginx:1.27.3-alpine")
    assert r.newer_tags == ["1.27.4-alpine"]
    hub_calls = [c.request.url for c in rsps.calls if c.request.url.startswith(HUB)]
    assert len(hub_calls) == 1 and "name=-alpine" in hub_calls[0]


def test_updates_non_version_tag_lists_nothing(rsps, reg, service) -> None:
    _based(reg, "latest")
    r = service.updates(_ref("latest"))
    assert r.newer_tags == [] and any("not a version" in n for n in r.notes)
    assert not any("tags/list" in c.request.url for c in rsps.calls)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("1.27.3", ["2.2.0", "1.29.0", "1.28.0", "1.27.10", "1.27.4"]),
        ("1.27.3-alpine", ["1.28.0-alpine", "1.27.5-alpine"]),
        ("1.27.3-slim", []),
        ("v2.0.1", ["v2.1.0"]),
        ("1.28.0-rc1-alpine", ["1.28.0-alpine", "1.28.0-rc10-alpine", "1.28.0-rc2-alpine"]),
        ("1.29.0-rc1", ["2.2.0", "1.30.0-rc1", "1.29.0", "1.29.0-rc2"]),
        ("1.27", ["1.28"]),
        ("12.2.0-devel-ubuntu22.04", ["12.3.0-devel-ubuntu22.04"]),
        ("latest", []),
    ],
)
def test_tag_families(current: str, expected: list[str]) -> None:
    tags = [
        "1.27.3",
        "1.27.4",
        "1.27.10",
        "1.28.0",
        "1.28.0-alpine",
        "1.28",
        "1.27",
        "v1.28.0",
        "v2.0.1",
        "v2.1.0",
        "2.2.0",
        "1.29.0-rc1",
        "1.29.0-rc2",
        "1.29.0",
        "1.27.3-alpine",
        "1.27.5-alpine",
        "1.28.0-rc1-alpine",
        "1.28.0-rc2-alpine",
        "1.28.0-rc10-alpine",
        "1.30.0-rc1",
        "1.27.3-slim",
        "12.2.0-devel-ubuntu22.04",
        "12.3.0-devel-ubuntu22.04",
        "12.3.0-runtime-ubuntu22.04",
        "latest",
    ]
    assert newer_in_family(current, tags) == expected


def test_devel_is_a_flavour_not_a_prerelease() -> None:
    v = parse_version("12.2.0-devel-ubuntu22.04")
    assert v is not None and not v.is_prerelease and v.flavour == "-devel-ubuntu22.04"
    rc = parse_version("1.0.0-rc.1-alpine")
    assert rc is not None and rc.prerelease == "-rc.1" and rc.flavour == "-alpine"


# -- threads --


def test_parallel_fetch_counts_in_the_callers_tracking(rsps, service) -> None:
    rsps.get(f"{REG}/a", body=b"a")
    rsps.get(f"{REG}/b", body=b"b")
    t = service.transport
    with t.tracking() as stats:
        bodies = run_parallel(
            service.clients,
            [lambda: t.request("GET", f"{REG}/a").text, lambda: t.request("GET", f"{REG}/b").text],
        )
    assert bodies == ["a", "b"]
    assert stats.network_requests == 2 and t.network_requests == 2


def test_threads_needing_one_token_fetch_it_once(rsps, reg, service) -> None:
    challenge = f'Bearer realm="{REALM}",service="registry.example.com"'
    rsps.get(
        reg.url("manifests/left"),
        status=401,
        headers={"WWW-Authenticate": challenge},
        match=[lambda request: ("Authorization" not in request.headers, "anonymous")],
    )
    _two_images(reg)
    tokens: list[int] = []
    lock = threading.Lock()

    def token(request):  # noqa: ANN001, ANN202
        with lock:
            tokens.append(1)
        return (200, {}, json.dumps({"token": "T", "expires_in": 300}))

    rsps.add_callback(responses.GET, REALM, callback=token)
    service.compare(_ref("left"), _ref("left"))  # learn the challenge
    tokens.clear()
    service.registry.auth._tokens.clear()  # the token expired; both threads need a new one
    service.compare(_ref("left"), _ref("right"))
    assert len(tokens) == 1


# -- CLI --


def test_cli_compare_json_and_updates_quiet(reg) -> None:
    _two_images(reg)
    result = runner.invoke(app, ["compare", _ref("left"), _ref("right"), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["left"]) >= {"reference", "digest", "size", "layer_count"}
    assert data["right"]["reference"] == _ref("right")
    assert (data["image1"], data["image2"]) == (_ref("left"), _ref("right"))
    assert (data["digest1"], data["digest2"]) == (data["left"]["digest"], data["right"]["digest"])
    assert data["shared_layers"] == [L0[0], L1[0]] and data["only_right"] == [L2[0]]
    assert data["only_left"] == [] and data["size_delta"] == 250
    assert set(data["config_diff"]["env"]) == {"added", "removed", "changed"}
    assert {
        "labels",
        "entrypoint",
        "cmd",
        "user",
        "working_dir",
        "exposed_ports",
        "volumes",
    } <= set(data["config_diff"])
    table = runner.invoke(app, ["compare", _ref("left"), _ref("right")])
    assert (
        table.exit_code == 0 and "shared base" in table.stdout and "~ env A: 1 -> 2" in table.stdout
    )
    header = table.stdout.splitlines()[0].split()
    assert header == ["IMAGE1", "(LEFT)", "IMAGE2", "(RIGHT)"]

    result = runner.invoke(app, ["updates", _ref("left"), "--json"])
    data = json.loads(result.stdout)
    assert data["base"] is None and data["base_outdated"] is None and data["reason"]
    assert {"reference", "base", "base_outdated", "newer_tags"} <= set(data)
    quiet = runner.invoke(app, ["updates", _ref("left"), "--base", _ref("left"), "-q"])
    assert quiet.exit_code == 0 and quiet.stdout == "false\n"


def test_cli_updates_verdict_names_the_cli_option(reg) -> None:
    """The one-line verdict quotes the reason: its advice is worded like the reason's (`--base
    IMAGE`), never left as a raw marker that the table shows as `param:base=IMAGE`."""
    _two_images(reg)
    data = json.loads(runner.invoke(app, ["updates", _ref("left"), "--json"]).stdout)
    assert data["verdict"] == f"unknown: {data['reason']}" and "--base IMAGE" in data["verdict"]
    table = runner.invoke(app, ["updates", _ref("left")])
    assert table.exit_code == 0 and "pass --base IMAGE to check it" in table.stdout
    assert "param:" not in table.stdout and "\ue000" not in table.stdout


def test_cli_exit_codes(reg) -> None:
    reg.missing("nope")
    result = runner.invoke(app, ["compare", "Bad Ref", _ref("nope")])
    assert result.exit_code == 2 and "invalid reference" in result.stderr
    result = runner.invoke(app, ["updates", _ref("nope")])
    assert result.exit_code == 3 and "tag 'nope' not found" in result.stderr
    result = runner.invoke(app, ["updates", _ref("nope"), "--base", "bad ref"])
    assert result.exit_code == 2


def test_cli_compare_layer_table_keeps_sizes_and_status_at_60_columns(reg) -> None:
    """A narrow terminal wraps digests and steps; it never crushes SIZE or STATUS to '…'."""
    _two_images(reg)
    result = runner.invoke(app, ["compare", _ref("left"), _ref("right")], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.stderr
    # table, size bars, summary, layers, config differences
    layers = result.stdout.split("\n\n")[3]
    assert "shared base" in layers and "right only" in layers
    assert "1.0 kB" in layers and "250 B" in layers
    blocks = result.stdout.split("\n\n")
    summary = blocks.pop(2)  # a sentence: one line in a pipe, whatever the width
    assert "\n" not in summary.strip() and len(summary.strip()) > 60
    assert max(len(line) for line in "\n\n".join(blocks).splitlines()) <= 60
