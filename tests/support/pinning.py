"""Helpers for the `pin` / `watch` integration tests: files of every kind that reference
images on a test registry, skopeo as the digest oracle, and a byte-for-byte check that a
rewrite changed nothing but the references.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.support.images import skopeo_inspect_raw


def skopeo_digest(ref: str, creds: tuple[str, str] | None = None) -> str:
    """The digest of what ``ref``'s tag names, as skopeo sees it: sha256 of the raw bytes."""
    return "sha256:" + hashlib.sha256(skopeo_inspect_raw(ref, creds)).hexdigest()


def skopeo_format_digest(ref: str) -> str:
    """``skopeo inspect --format '{{.Digest}}'`` (for a multi-platform image skopeo picks a
    platform for the rest of its output, but `.Digest` is the digest of what the tag names)."""
    argv = ["skopeo", "--insecure-policy", "inspect", "--tls-verify=false"]
    argv += ["--format", "{{.Digest}}", ref if "://" in ref else "docker://" + ref]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def dockerfile(multi: str, single: str) -> str:
    """A multi-stage Dockerfile: a global ARG used as a whole FROM, `--platform=`, a stage
    name, scratch, a continuation line, comments and CRLF-free odd spacing."""
    return (
        "# syntax=docker/dockerfile:1\n"
        f"ARG BASE={single}\n"
        "ARG VERSION=1.0\n"
        f"FROM --platform=$BUILDPLATFORM   {multi}  AS build   # the builder\n"
        "RUN make\n"
        "\n"
        "FROM ${BASE}\n"
        "COPY --from=build /out /out\n"
        "FROM build AS test\n"
        "FROM scratch\n"
        "FROM \\\n"
        f"    {multi}\n"
        'CMD ["/bin/sh"]\n'
    )


def compose(multi: str, single: str) -> str:
    return (
        "# the stack\n"
        "services:\n"
        "  web:\n"
        f'    image: "{multi}"   # quoted, with a comment\n'
        "    ports: ['8080:80']\n"
        "  db:\n"
        "    environment:\n"
        "      A: 1\n"
        f"    image: {single}\n"
        "  built:\n"
        "    build: .\n"
        "volumes: {}\n"
    )


def kubernetes(multi: str, single: str) -> str:
    return (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata: {name: web}\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      initContainers:\n"
        f"      - {{name: init, image: '{single}'}}\n"
        "      containers:\n"
        "        - name: web   # main\n"
        f"          image: {multi}\n"
        "---\n"
        "# a CronJob in the same stream\n"
        "apiVersion: batch/v1\n"
        "kind: CronJob\n"
        "metadata:\n"
        "  name: nightly\n"
        "spec:\n"
        "  jobTemplate:\n"
        "    spec:\n"
        "      template:\n"
        "        spec:\n"
        "          containers:\n"
        "          - name: job\n"
        f'            image: "{single}"\n'
        "          ephemeralContainers:\n"
        f"          - image: {multi}\n"
        "            name: debug\n"
    )


def workflow(multi: str, single: str) -> str:
    return (
        "name: ci\n"
        "on: [push]\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-latest\n"
        f"    container: {multi}\n"
        "    services:\n"
        "      cache:\n"
        f"        image: '{single}'\n"
        "        ports: [6379]\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        f"      - uses: docker://{single}\n"
        "  lint:\n"
        "    runs-on: ubuntu-latest\n"
        "    container:\n"
        f"      image: {multi}   # mapping form\n"
        "      options: --user 1000\n"
    )


def write_all(directory: Path, multi: str, single: str) -> dict[str, Path]:
    """One file of each kind under *directory* (named so that the kind is detected)."""
    files = {
        "dockerfile": directory / "Dockerfile",
        "compose": directory / "compose.yaml",
        "kubernetes": directory / "k8s" / "deploy.yaml",
        "workflow": directory / ".github" / "workflows" / "ci.yml",
    }
    makers = {"dockerfile": dockerfile, "compose": compose, "kubernetes": kubernetes}
    makers["workflow"] = workflow
    for kind, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(makers[kind](multi, single).encode())
    return files


def unpin(text: str, replacements: Mapping[str, str]) -> str:
    """Undo the expected rewrites (new -> old): what must equal the original byte for byte."""
    for new, old in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(new, old)
    return text
