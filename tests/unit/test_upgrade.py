"""Tag families on realistic Docker Hub tag lists, `tags --same-as` from the Hub listing, and
`upgrade` over a mocked registry.

The tag sets (tests/fixtures/hub/tags_{nginx,python,node,postgres}.json) are shaped as
`GET /v2/namespaces/library/<repo>/tags` returns them (API.md A.6.4): an index digest per tag,
`images[]` with one entry per platform plus the `unknown/unknown` attestation entries, and the
real tag names of those repositories (aliases such as `mainline`, `lts`, `alpine`, distro
suffixes such as `-bookworm`, `-alpine3.22`, pre-releases such as `3.14.0rc2`, `18beta3`).
"""

from __future__ import annotations

import fnmatch
import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.oci.versions import newer_in_family, parse_version
from dockerhub_cli.ops.upgrade import config_changes, family_label
from tests.unit import hub_fixtures as hub
from tests.unit import registry_fixtures as fx

runner = CliRunner()
REG = "https://registry.example.com"


def _names(repo: str) -> list[str]:
    return [t["name"] for t in hub.load(f"tags_{repo}.json")["results"]]


@pytest.mark.parametrize(
    "repo,current,expected",
    [
        # same precision: a patch version moves to patch versions, minor to minor
        ("nginx", "1.27.3", ["1.29.1", "1.29.0", "1.28.0", "1.27.5", "1.27.4"]),
        ("nginx", "1.27", ["1.29", "1.28"]),
        ("nginx", "1", []),
        # same suffix: -alpine never suggests -alpine-slim, -perl or a plain tag
        (
            "nginx",
            "1.27.3-alpine",
            ["1.29.1-alpine", "1.29.0-alpine", "1.28.0-alpine", "1.27.5-alpine", "1.27.4-alpine"],
        ),  # fmt: skip
        ("nginx", "1.27.4-alpine-slim", ["1.29.1-alpine-slim"]),
        ("nginx", "1.29.1", []),
        # a distro-pinned suffix is its own family (alpine3.21 -> alpine3.22 is a base change)
        ("python", "3.12.10-alpine3.21", ["3.12.11-alpine3.21"]),
        ("python", "3.12.8-slim", ["3.13.7-slim", "3.13.6-slim", "3.12.11-slim", "3.12.10-slim"]),
        # pre-releases are never offered to a release
        ("python", "3.13.6", ["3.13.7"]),
        ("python", "3.12-slim", ["3.13-slim"]),
        ("node", "22.17.1-alpine", ["24.6.0-alpine", "22.18.0-alpine"]),
        (
            "node",
            "20.18.1-bookworm-slim",
            ["24.6.0-bookworm-slim", "22.18.0-bookworm-slim", "20.19.4-bookworm-slim"],
        ),  # fmt: skip
        ("node", "22", ["24"]),
        ("node", "lts-alpine", []),  # not a version: no family
        ("postgres", "16", ["17"]),  # 18beta3 is a pre-release
        ("postgres", "16.9-alpine", ["17.6-alpine", "17.5-alpine", "16.10-alpine"]),
        ("postgres", "17.5", ["17.6"]),
        ("postgres", "14.19-bullseye", []),
    ],
)
def test_families_on_real_tag_sets(repo: str, current: str, expected: list[str]) -> None:
    assert newer_in_family(current, _names(repo)) == expected


def test_family_label() -> None:
    labels = {
        t: family_label(v) for t in ("1.27.3-alpine", "v2.1", "16") if (v := parse_version(t))
    }
    assert labels == {"1.27.3-alpine": "N.N.N-alpine", "v2.1": "vN.N", "16": "N"}


# -- tags --same-as from the Hub listing (no registry request) ---------------------------------


def _hub_tags(rsps, repo: str) -> None:
    rsps.get(
        f"{hub.HUB}/v2/namespaces/library/repositories/{repo}/tags",
        json=hub.load(f"tags_{repo}.json"),
    )


def test_same_as_latest_on_docker_hub(rsps) -> None:
    _hub_tags(rsps, "nginx")
    result = runner.invoke(app, ["tags", "nginx", "--same-as", "latest", "--json"])
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    by = {t["name"]: t["matched_by"] for t in body["tags"]}
    # the aliases share the index; 1.29.1-bookworm is a rebuilt index of the same manifests
    assert by == {
        "1": "index",
        "1.29": "index",
        "1.29.1": "index",
        "mainline": "index",
        "1.29.1-bookworm": "manifests",
    }
    assert body["source"] == "hub" and body["complete"] is True and body["checked"] == 36
    assert len(body["platform_digests"]) == 2  # attestation entries are not platforms
    assert all(c.request.url.startswith(hub.HUB) for c in rsps.calls)  # listing only
    assert len(rsps.calls) == 1


def test_same_as_lts_on_node(rsps) -> None:
    _hub_tags(rsps, "node")
    result = runner.invoke(app, ["tags", "node", "--same-as", "lts-alpine", "--json"])
    names = sorted(t["name"] for t in json.loads(result.stdout)["tags"])
    assert names == ["22-alpine", "22.18.0-alpine"]  # "which version is lts-alpine"


# -- upgrade over a mocked registry ------------------------------------------------------------


def _image(reg: fx.FakeRegistry, tag: str, *, extra: dict, layers, labels=None) -> None:
    cfg = fx.config_bytes(
        env=extra.pop("Env", ["PATH=/usr/bin"]),
        labels=labels,
        history=[("ADD x /", None, False)],
        extra=extra,
    )
    reg.manifest(fx.image_manifest(cfg, layers), fx.OCI_MANIFEST, tags=(tag,))
    reg.blob(cfg)


def test_upgrade_reports_size_base_config_and_age(rsps, service) -> None:
    reg = fx.FakeRegistry(rsps, REG, "team/web")
    base = ("sha256:" + "11" * 32, 1000)
    _image(reg, "1.2.3-alpine", layers=[base, ("sha256:" + "22" * 32, 300)],
           extra={"Entrypoint": ["/run"], "User": "app", "ExposedPorts": {"80/tcp": {}},
                  "Env": ["PATH=/usr/bin", "MODE=a"]},
           labels={"org.opencontainers.image.base.name": "alpine:3.19"})  # fmt: skip
    _image(reg, "1.2.4-alpine", layers=[base, ("sha256:" + "33" * 32, 400)],
           extra={"Entrypoint": ["/run"], "User": "app", "ExposedPorts": {"80/tcp": {}},
                  "Env": ["PATH=/usr/bin", "MODE=a"]},
           labels={"org.opencontainers.image.base.name": "alpine:3.19"})  # fmt: skip
    _image(reg, "1.3.0-alpine", layers=[("sha256:" + "44" * 32, 900)],
           extra={"Entrypoint": ["/start"], "User": "root", "ExposedPorts": {"8080/tcp": {}},
                  "Volumes": {"/data": {}}, "Env": ["PATH=/usr/bin"]},
           labels={"org.opencontainers.image.base.name": "alpine:3.20"})  # fmt: skip
    tags = [
        "1.2.3-alpine",
        "1.2.4-alpine",
        "1.3.0-alpine",
        "1.3.0",
        "1.3-alpine",
        "1.4.0-rc1-alpine",
    ]
    rsps.get(reg.url("tags/list"), json={"name": "team/web", "tags": tags})

    now = datetime(2024, 10, 12, 17, 55, 35, tzinfo=UTC)
    r = service.upgrade("registry.example.com/team/web:1.2.3-alpine", now=now)
    assert r.family == "N.N.N-alpine"
    assert r.newer_tags == ["1.3.0-alpine", "1.2.4-alpine"]
    minor, patch = r.candidates
    assert patch.tag == "1.2.4-alpine" and patch.download_size == 400
    assert patch.base_changed is False and patch.config_changes == [] and not patch.breaking
    assert patch.age_days == 10.0
    assert minor.download_size == 900 and minor.base_changed is True
    assert minor.base_after == "alpine:3.20"
    fields = {(c.field, c.breaking) for c in minor.config_changes}
    assert fields == {
        ("entrypoint", True),
        ("user", True),
        ("exposed_ports", True),  # 80/tcp removed
        ("exposed_ports", False),  # 8080/tcp added
        ("volumes", True),
        ("env", True),  # MODE removed
    }
    assert minor.breaking
    assert not minor.vulnerabilities.checked and "--vulns" in (minor.vulnerabilities.reason or "")


def test_upgrade_without_a_version_tag_says_why(rsps, service) -> None:
    reg = fx.FakeRegistry(rsps, REG, "team/app")
    reg.gitea("latest")
    r = service.upgrade("registry.example.com/team/app:latest")
    assert r.candidates == [] and r.family is None
    assert "not a version" in r.notes[0]
    # the table view: no header row over nothing, one line saying so
    table = runner.invoke(app, ["upgrade", "registry.example.com/team/app:latest"])
    assert table.exit_code == 0, table.stderr
    assert "TAG" not in table.stdout and "DOWNLOAD" not in table.stdout
    assert "0 newer tags" in table.stdout


def test_config_changes_words() -> None:
    from dockerhub_cli.models.compare import ConfigDiff, MappingDiff, SetDiff, ValueDiff

    same = ValueDiff(left=None, right=None)
    diff = ConfigDiff(
        env=MappingDiff(added={"B": "1"}),
        labels=MappingDiff(),
        entrypoint=same,
        cmd=ValueDiff(left=["a"], right=["b"], changed=True),
        user=same,
        working_dir=same,
        exposed_ports=SetDiff(),
        volumes=SetDiff(),
        platform=same,
    )
    assert [(c.field, c.breaking) for c in config_changes(diff)] == [("cmd", False), ("env", False)]


def test_vulnerability_delta_fixed_added_and_no_sbom(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from dockerhub_cli.errors import NoAttestationError
    from dockerhub_cli.ops import vulns as vulns_module
    from dockerhub_cli.ops.upgrade import _vuln_delta, _vuln_ids

    def vulnerability_report(clients: object, image: str, *, platform: str | None = None) -> object:
        if "none" in image:
            raise NoAttestationError("no SBOM")
        ids = {"old": ["CVE-1", "CVE-2"], "new": ["CVE-2", "CVE-3"]}[image.split("@")[0]]
        return SimpleNamespace(vulnerabilities=[SimpleNamespace(id=i) for i in ids])

    monkeypatch.setattr(vulns_module, "vulnerability_report", vulnerability_report)

    def img(name: str) -> object:
        ref = SimpleNamespace(with_digest=lambda d: f"{name}@{d}")
        return SimpleNamespace(reference=ref, digest="sha256:" + "0" * 64, platform=None)

    svc = object()  # the clients: the stubbed report does not use them
    current = _vuln_ids(svc, img("old"))  # type: ignore[arg-type]
    delta = _vuln_delta(svc, img("new"), current, True)  # type: ignore[arg-type]
    assert delta.checked and delta.fixed == ["CVE-1"] and delta.added == ["CVE-3"]
    missing = _vuln_delta(svc, img("none"), current, True)  # type: ignore[arg-type]
    assert not missing.checked and missing.reason == "no SBOM attestation"
    assert not _vuln_delta(svc, img("new"), None, False).checked


def test_same_as_hub_walk_follows_the_page_walker_rules(rsps) -> None:
    """`tags --same-as` walks Hub pages through hub.pages: a `next` that loops back to a page
    already read ends the walk (with a note), and a tag repeated across pages counts once."""
    url = f"{hub.HUB}/v2/namespaces/library/repositories/nginx/tags"
    data = hub.load("tags_nginx.json")
    page2 = f"{url}?page=2&page_size=100&ordering=last_updated"
    rsps.get(url, json={**data, "next": page2})
    rsps.get(page2, json={**data, "next": page2})  # names itself as the next page: a loop
    result = runner.invoke(app, ["tags", "nginx", "--same-as", "latest", "--json"])
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["checked"] == 36  # each tag once, though two pages listed them
    assert len([c for c in rsps.calls if "page=2" in c.request.url]) == 1
    assert "paging loop" in result.stdout + result.stderr


# -- tags --same-as with --filter / --all (issue 17's leftover) --------------------------------


def test_same_as_with_a_filter_compares_only_the_matching_tags(rsps) -> None:
    _hub_tags(rsps, "nginx")
    result = runner.invoke(
        app, ["tags", "nginx", "--same-as", "latest", "--filter", "1.29*", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    by = {t["name"]: t["matched_by"] for t in body["tags"]}
    assert by == {"1.29": "index", "1.29.1": "index", "1.29.1-bookworm": "manifests"}
    names = [t["name"] for t in hub.load("tags_nginx.json")["results"]]
    assert body["checked"] == 1 + sum(fnmatch.fnmatchcase(n, "1.29*") for n in names)
    assert body["pattern"] == "1.29*"
    # the tag itself need not match the filter: it is still what the others are compared with
    assert body["digest"] and len(body["platform_digests"]) == 2


def test_same_as_all_walks_past_the_recent_tags_bound(rsps, monkeypatch) -> None:
    from dockerhub_cli.ops import upgrade

    monkeypatch.setattr(upgrade, "MAX_SAME_AS_HUB_PAGES", 1)
    url = f"{hub.HUB}/v2/namespaces/library/repositories/nginx/tags"
    data = hub.load("tags_nginx.json")
    latest = next(t for t in data["results"] if t["name"] == "latest")
    page2 = f"{url}?page=2&page_size=100&ordering=last_updated"
    rsps.get(url, json={**data, "next": page2})
    old = {**latest, "name": "1.29.1-old-alias"}  # the same index, deep in the listing
    rsps.get(page2, json={"count": 37, "next": None, "results": [old]})

    recent = json.loads(
        runner.invoke(app, ["tags", "nginx", "--same-as", "latest", "--json"]).stdout
    )
    assert recent["complete"] is False and "1.29.1-old-alias" not in str(recent["tags"])
    done = runner.invoke(app, ["tags", "nginx", "--same-as", "latest", "--all", "--json"])
    assert done.exit_code == 0, done.stderr
    every = json.loads(done.stdout)
    assert every["complete"] is True and every["checked"] == 37
    assert {"name": "1.29.1-old-alias", "matched_by": "index"}.items() <= next(
        t for t in every["tags"] if t["name"] == "1.29.1-old-alias"
    ).items()


@pytest.mark.parametrize("option", [["--sort", "name"], ["--limit", "5"], ["--page", "2"]])
def test_same_as_refuses_paging_options_it_would_ignore(rsps, option: list[str]) -> None:
    result = runner.invoke(app, ["tags", "nginx", "--same-as", "latest", *option])
    assert result.exit_code == 2
    assert f"{option[0]} cannot be used with it" in result.stderr
    assert "--filter" in result.stderr  # the hint names what does apply
    assert len(rsps.calls) == 0


def test_same_as_filter_on_a_registry_heads_only_matching_tags(rsps) -> None:
    reg = fx.FakeRegistry(rsps, "https://registry.example.com", "team/app")
    reg.without_referrers_api()
    one = fx.image_manifest(fx.config_bytes(env=["A=1"]), [])
    two = fx.image_manifest(fx.config_bytes(env=["A=2"]), [])
    reg.manifest(one, fx.OCI_MANIFEST, tags=("latest", "1.0", "1.0-alpine", "docs-1.0"))
    reg.manifest(two, fx.OCI_MANIFEST, tags=("0.9", "0.9-alpine"))
    result = runner.invoke(
        app,
        [
            "tags",
            "registry.example.com/team/app",
            "--same-as",
            "latest",
            "--filter",
            "*-alpine",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert [t["name"] for t in body["tags"]] == ["1.0-alpine"]
    assert body["checked"] == 3 and body["source"] == "registry"  # latest + the two -alpine
    headed = {c.request.url.rsplit("/", 1)[1] for c in rsps.calls if c.request.method == "HEAD"}
    assert headed == {"latest", "1.0-alpine", "0.9-alpine"}  # 1.0 and docs-1.0 never asked


def test_same_as_a_missing_tag_says_the_tag_is_missing(rsps) -> None:
    reg = fx.FakeRegistry(rsps, "https://registry.example.com", "team/app")
    reg.without_referrers_api()
    reg.manifest(fx.image_manifest(fx.config_bytes(env=["A=1"]), []), fx.OCI_MANIFEST, tags=("1",))
    reg.missing("nope")
    result = runner.invoke(app, ["tags", "registry.example.com/team/app", "--same-as", "nope"])
    assert result.exit_code == 3
    assert "tag 'nope' not found in registry.example.com/team/app" in result.stderr
    assert "dockerhub tags registry.example.com/team/app" in result.stderr
