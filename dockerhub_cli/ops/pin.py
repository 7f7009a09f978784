"""`pin`: rewrite image references in Dockerfiles, Compose, Kubernetes and workflow files to
`name:tag@sha256:...`, the digest the tag resolves to now.

Economy: one HEAD per distinct reference (free against Docker Hub's pull limit, never served
from the cache: a pin must be current). With `--platform`, the index is then fetched by digest
(immutable, cached forever) to pick that platform's manifest. Nothing else is read.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockerhub_cli.atomic import replace_file
from dockerhub_cli.errors import DockerHubError, InvalidInputError, InvalidReferenceError
from dockerhub_cli.models.pinning import PinnedReference, PinReport
from dockerhub_cli.oci.pinfiles import (
    FILE_KINDS,
    Edit,
    FileFormatError,
    FileKind,
    FoundReference,
    apply_edits,
    detect_kind,
    find_references,
)
from dockerhub_cli.oci.reference import ImageReference, parse_reference

if TYPE_CHECKING:
    from dockerhub_cli.ops.clients import Clients

MAX_FILES = 200
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_REFERENCES = 500
# What a registry may put into the user's files: nothing but a well-formed digest.
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


@dataclass(frozen=True)
class Resolution:
    digest: str | None
    error: str | None = None


def current_digest(clients: Clients, ref: ImageReference, platform: str | None) -> str:
    """The digest `ref`'s tag resolves to now: the index digest for a multi-platform image,
    or, with `platform`, that platform's manifest digest."""
    from dockerhub_cli.oci.mediatypes import MANIFEST_ACCEPT

    tag_ref = ImageReference(ref.domain, ref.path, tag=ref.tag or "latest")
    tag = tag_ref.reference
    registry = clients.registry
    digest: str | None = None
    if clients.settings.offline:
        digest = registry.get_tag_manifest(tag_ref).digest
    else:
        what = f"manifest {tag_ref}"
        response = registry.request(
            tag_ref,
            "HEAD",
            registry.url(tag_ref, f"manifests/{tag}"),
            headers={"Accept": MANIFEST_ACCEPT},
            what=what,
            cacheable=False,
        )
        if response.status_code == 404:
            from dockerhub_cli.ops.images import resolve_top

            resolve_top(clients, tag_ref)  # raises the precise "tag not found" error
        registry.check(tag_ref, response, what)
        digest = response.headers.get("Docker-Content-Digest") or None
        if digest is None:  # a registry that does not say: GET and hash the body
            digest = registry.get_manifest(tag_ref, tag).digest
    if not _DIGEST_RE.fullmatch(digest):
        from dockerhub_cli.errors import UpstreamError

        raise UpstreamError(
            f"{tag_ref.domain} named a malformed digest for {tag_ref}: {digest[:80]!r}"
        )
    if platform is None:
        return digest
    return platform_digest(clients, tag_ref, digest, platform)


def platform_digest(clients: Clients, ref: ImageReference, digest: str, platform: str) -> str:
    from dockerhub_cli.oci.manifest import ImageIndex
    from dockerhub_cli.oci.platform import parse_platform, select_platform
    from dockerhub_cli.ops.images import _platform_error, fetch_manifest, resolve_image

    pinned = ref.with_digest(digest)
    top = fetch_manifest(clients, pinned, digest)
    if isinstance(top.parsed, ImageIndex):
        wanted = parse_platform(platform)
        runnable = [(d.platform, d) for d in top.parsed.runnable if d.platform]
        chosen = select_platform(wanted, runnable)
        if chosen is None:
            resolved = resolve_image(clients, pinned, platform, require_platform=False)
            raise _platform_error(resolved, wanted)
        return chosen[1].digest
    resolve_image(clients, pinned, platform)  # a single image: check it is that platform
    return digest


def pin_files(
    clients: Clients,
    paths: list[str],
    *,
    platform: str | None = None,
    kind: str | None = None,
    write: bool = True,
    check: bool = False,
) -> PinReport:
    """Pin every image reference of `paths`; write the files unless `write` is False."""
    from dockerhub_cli.ops.compare import run_parallel

    if not paths:
        raise InvalidInputError("give at least one file to pin")
    paths = list(dict.fromkeys(paths))  # a file given twice is read and written once
    if len(paths) > MAX_FILES:
        raise InvalidInputError(f"pin takes at most {MAX_FILES} files (got {len(paths)})")
    if kind is not None and kind not in FILE_KINDS:
        raise InvalidInputError(f"--kind must be one of {', '.join(FILE_KINDS)} (got {kind!r})")
    if platform is not None:
        from dockerhub_cli.oci.platform import parse_platform

        parse_platform(platform)

    loaded: list[tuple[str, FileKind, str, list[FoundReference]]] = []
    notes: list[str] = []
    for path in paths:
        text = _read(path)
        file_kind: FileKind | None = kind if kind is not None else detect_kind(path, text)  # type: ignore[assignment]
        if file_kind is None:
            raise InvalidInputError(
                f"{path}: not recognised as a Dockerfile, Compose, Kubernetes or workflow file",
                hint="name the kind with --kind dockerfile|compose|kubernetes|workflow",
            )
        try:
            found = find_references(file_kind, text)
        except FileFormatError as exc:
            raise InvalidInputError(f"{path}: {exc}") from None
        if not found:
            notes.append(f"{path}: no image reference found (read as {file_kind})")
        loaded.append((path, file_kind, text, found))
    total = sum(len(f) for *_, f in loaded)
    if total > MAX_REFERENCES:
        raise InvalidInputError(
            f"the files hold {total} references; pin takes at most {MAX_REFERENCES} at once"
        )

    # Parse every reference, then resolve each distinct tag once (two at a time).
    parsed: dict[tuple[str, int], ImageReference | str] = {}
    wanted: dict[str, ImageReference] = {}
    for path, _, _, found in loaded:
        for i, ref in enumerate(found):
            if ref.skip or ref.problem:
                continue
            try:
                image = parse_reference(ref.reference, default_tag=False)
            except InvalidReferenceError as exc:
                parsed[(path, i)] = str(exc)
                continue
            parsed[(path, i)] = image
            if image.tag is not None or image.digest is None:
                wanted.setdefault(_key(image), image)
    keys = list(wanted)
    calls: list[Callable[[], Any]] = [_resolver(clients, wanted[k], platform) for k in keys]
    resolutions = dict(zip(keys, run_parallel(clients, calls), strict=True))

    rows: list[PinnedReference] = []
    diffs: list[str] = []
    changed_files: list[str] = []
    new_texts: dict[str, str] = {}
    for path, file_kind, text, found in loaded:
        edits: list[Edit] = []
        for i, ref in enumerate(found):
            row, edit = _pin_one(path, file_kind, ref, parsed.get((path, i)), resolutions, platform)
            rows.append(row)
            if edit is not None:
                edits.append(edit)
        if not edits:
            continue
        try:
            new_text = apply_edits(file_kind, text, edits)
        except ValueError as exc:  # the safety re-parse disagreed: touch nothing
            notes.append(f"{path}: left unchanged: {exc}")
            continue
        if new_text != text:
            new_texts[path] = new_text
            changed_files.append(path)
            diffs.append(_diff(path, text, new_text))
    if write and not check:
        for path, new_text in new_texts.items():
            _write_atomic(path, new_text)
    unresolved = sum(1 for r in rows if r.status == "unresolved")
    return PinReport(
        files=list(paths),
        references=rows,
        changed_files=changed_files,
        written=write and not check and bool(new_texts),
        diff="".join(diffs),
        up_to_date=not changed_files,
        unresolved=unresolved,
        lookup_failures=sum(1 for r in rows if r.lookup_failed),
        notes=notes,
    )


def _key(image: ImageReference) -> str:
    return f"{image.repository}:{image.tag or 'latest'}"


def _resolver(
    clients: Clients, image: ImageReference, platform: str | None
) -> Callable[[], Resolution]:
    def call() -> Resolution:
        try:
            return Resolution(current_digest(clients, image, platform))
        except DockerHubError as exc:
            return Resolution(None, str(exc))

    return call


def _pin_one(
    path: str,
    kind: FileKind,
    ref: FoundReference,
    image: ImageReference | str | None,
    resolutions: dict[str, Resolution],
    platform: str | None,
) -> tuple[PinnedReference, Edit | None]:
    row = PinnedReference(
        file=path,
        line=ref.line,
        kind=kind,
        where=ref.where,
        old=ref.text,
        platform=platform,
        status="unresolved",
    )
    if ref.skip:
        what = "a build stage, not an image" if ref.skip == "stage" else "the empty image"
        return row.model_copy(update={"status": "skipped", "reason": what}), None
    if ref.problem:
        return row.model_copy(update={"reason": ref.problem}), None
    if isinstance(image, str) or image is None:
        return row.model_copy(update={"reason": image or "not a reference"}), None
    if image.tag is None and image.digest is not None:
        return row.model_copy(
            update={
                "status": "skipped",
                "reason": "pinned by digest without a tag: no tag to check the digest against",
            }
        ), None
    resolution = resolutions[_key(image)]
    if resolution.digest is None:
        return row.model_copy(update={"reason": resolution.error, "lookup_failed": True}), None
    new = _pinned_text(ref.text, image, resolution.digest)
    status = "ok" if image.digest == resolution.digest else "updated" if image.digest else "pinned"
    row = row.model_copy(update={"status": status, "new": new, "digest": resolution.digest})
    if new == ref.text:
        return row, None
    assert ref.start is not None and ref.end is not None
    return row, Edit(ref.start, ref.end, new, new)


def _pinned_text(written: str, image: ImageReference, digest: str) -> str:
    """`written` with `@digest` (and `:latest` when no tag was written), keeping the name as
    the author spelled it (docker.io/library/nginx stays so)."""
    name = written.split("@", 1)[0]
    if image.tag is None:
        name += ":latest"
    return f"{name}@{digest}"


def _read(path: str) -> str:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInputError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
        data = p.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path} is a directory; give the files") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read it: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text") from None


def _diff(path: str, old: str, new: str) -> str:
    name = path.lstrip("/")  # as git writes an absolute path: a/tmp/x, not a//tmp/x
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _write_atomic(path: str, text: str) -> None:
    """Write beside the file, then rename over it (keeping its mode): a crash leaves the old
    file or the new one, never half of one."""
    target = Path(path)
    replace_file(target, text.encode("utf-8"), durable=True, mode=target.stat().st_mode & 0o7777)
