"""`watch`: did a pinned or floating reference move, or did its family gain a newer tag?

A pinned reference (`tag@digest`) moved when its tag now resolves to another digest. A floating
one (`nginx:1.27`) has nothing to compare with in the file, so the digest seen last time is
kept in `<cache dir>/watch-state.json`; the first sighting is recorded, not reported. Newer
tags of a reference's family are reported once: the ones already reported are remembered in the
same file.

Two runs at once (a cron job overlapping the previous one, or two crontabs) must not lose each
other's entries: the network checks run unlocked, then the save re-reads the file and merges
this run's entries into it under an exclusive `fcntl` lock on `.watch-state.json.lock` beside it
(released when the descriptor closes, also if the process dies), and replaces the file
atomically (mkstemp, fsync, rename), so a reader never sees half a file.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockerhub_cli.atomic import replace_file
from dockerhub_cli.errors import DockerHubError, InvalidInputError
from dockerhub_cli.models.pinning import WatchedReference, WatchReport
from dockerhub_cli.oci.reference import ImageReference, parse_reference
from dockerhub_cli.oci.versions import newer_in_family, parse_version

if TYPE_CHECKING:
    from dockerhub_cli.ops.clients import Clients

STATE_FILE = "watch-state.json"
MAX_TARGETS = 200
MAX_STATE_BYTES = 4 * 1024 * 1024
MAX_STATE_ENTRIES = 5000


def watch_once(
    clients: Clients,
    targets: list[str],
    *,
    kind: str | None = None,
    families: bool = True,
    now: datetime | None = None,
) -> WatchReport:
    from dockerhub_cli.ops.compare import _family_tags, run_parallel
    from dockerhub_cli.ops.pin import current_digest

    if not targets:
        raise InvalidInputError("give at least one file or image to watch")
    if len(targets) > MAX_TARGETS:
        raise InvalidInputError(f"watch takes at most {MAX_TARGETS} targets (got {len(targets)})")
    now = now or datetime.now(UTC)
    notes: list[str] = []
    refs = _collect(targets, kind, notes)
    state_path = Path(clients.settings.cache_dir) / STATE_FILE
    state = _load_state(state_path, notes)
    checked: dict[str, dict[str, Any]] = {}

    def check(source: str, ref: ImageReference) -> WatchedReference:
        shown = str(ref) if not ref.digest else f"{ref.familiar_name}:{ref.tag}@{ref.digest}"
        try:
            current = current_digest(clients, ref, None)
        except DockerHubError as exc:
            return WatchedReference(
                reference=shown,
                source=source,
                pinned=ref.digest,
                moved=False,
                status="error",
                error=str(exc),
            )
        newer: list[str] = []
        version = parse_version(ref.tag) if ref.tag else None
        if families and version is not None and ref.tag is not None:
            listing = _family_tags(clients, ref, version.flavour)
            if isinstance(listing, DockerHubError):
                notes.append(f"newer tags of {ref} unknown: {listing}")
            else:
                newer = newer_in_family(ref.tag, (t.name for t in listing.tags))
        return WatchedReference(
            reference=shown,
            source=source,
            pinned=ref.digest,
            current=current,
            newer_tags=newer,
            moved=False,
            status="unchanged",
        )

    def bind(source: str, ref: ImageReference) -> Callable[[], WatchedReference]:
        return lambda: check(source, ref)

    calls: list[Callable[[], Any]] = [bind(s, r) for s, r in refs]
    rows: list[WatchedReference] = []
    for (_, ref), row in zip(refs, run_parallel(clients, calls), strict=True):
        if row.status == "error":
            rows.append(row)
            continue
        key = f"{ref.repository}:{ref.tag}"
        raw_entry = state.get(key)
        entry: dict[str, Any] = raw_entry if isinstance(raw_entry, dict) else {}
        previous = entry.get("digest") if isinstance(entry.get("digest"), str) else None
        listed = entry.get("newer")
        seen_newer = {str(t) for t in listed} if isinstance(listed, list) else set()
        moved = (
            row.current != ref.digest
            if ref.digest
            else previous is not None and previous != row.current
        )
        fresh_newer = [t for t in row.newer_tags if t not in seen_newer]
        if moved and fresh_newer:
            status = "moved+newer"
        elif moved:
            status = "moved"
        elif fresh_newer:
            status = "newer"
        elif not ref.digest and previous is None:
            status = "new"
        else:
            status = "unchanged"
        checked[key] = {
            "digest": row.current,
            "newer": sorted(seen_newer | set(row.newer_tags)),
            "checked_at": now.isoformat(),
        }
        rows.append(
            row.model_copy(
                update={
                    "previous": previous if not ref.digest else None,
                    "moved": moved,
                    "status": status,
                    "newer_tags": fresh_newer,
                }
            )
        )
    _save_state(state_path, checked, notes)
    return WatchReport(
        checked_at=now,
        references=rows,
        changed=any(r.status in ("moved", "newer", "moved+newer") for r in rows),
        state_file=str(state_path),
        notes=notes,
    )


def _collect(
    targets: list[str], kind: str | None, notes: list[str]
) -> list[tuple[str, ImageReference]]:
    from dockerhub_cli.oci.pinfiles import FileFormatError, detect_kind, find_references
    from dockerhub_cli.ops.pin import _read

    found: list[tuple[str, ImageReference]] = []
    seen: set[str] = set()

    def add(source: str, text: str) -> None:
        ref = parse_reference(text, default_tag=False)
        if ref.tag is None and ref.digest is not None:
            notes.append(f"{source}: {text} is pinned by digest without a tag; nothing to watch")
            return
        if ref.tag is None:
            ref = ImageReference(ref.domain, ref.path, tag="latest", digest=None)
        key = f"{ref.repository}:{ref.tag}@{ref.digest}"
        if key not in seen:
            seen.add(key)
            found.append((source, ref))

    for target in targets:
        if os.path.isfile(target):
            text = _read(target)
            file_kind = kind or detect_kind(target, text)
            if file_kind is None:
                raise InvalidInputError(
                    f"{target}: not recognised as a Dockerfile, Compose, Kubernetes or "
                    "workflow file",
                    hint="name the kind with --kind",
                )
            try:
                refs = find_references(file_kind, text)  # type: ignore[arg-type]
            except FileFormatError as exc:
                raise InvalidInputError(f"{target}: {exc}") from None
            for r in refs:
                if r.skip:
                    continue
                if r.problem:
                    notes.append(f"{target}:{r.line}: {r.text}: {r.problem}")
                    continue
                try:
                    add(f"{target}:{r.line}", r.reference)
                except InvalidInputError as exc:
                    notes.append(f"{target}:{r.line}: {exc}")
        else:
            if (
                os.sep in target
                and not os.path.exists(target)
                and target.endswith((".yml", ".yaml", "Dockerfile"))
            ):
                raise InvalidInputError(f"{target}: no such file")
            add("argument", target)
    return found


def _load_state(path: Path, notes: list[str]) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_STATE_BYTES:
            notes.append(f"{path} is too large; starting a new watch state")
            return {}
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        notes.append(f"{path} was unreadable; starting a new watch state")
        return {}
    refs = data.get("references") if isinstance(data, dict) else None
    return dict(refs) if isinstance(refs, dict) else {}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `.<name>.lock` beside `path` (never through a planted symlink)
    for a whole read-merge-write; released when the descriptor closes."""
    lock_path = path.parent / f".{path.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _merge(on_disk: dict[str, Any], checked: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The state after this run: every entry another run saved meanwhile, with this run's
    entries over it; the newer tags either run reported stay reported."""
    merged = dict(on_disk)
    for key, entry in checked.items():
        other = merged.get(key)
        listed = other.get("newer") if isinstance(other, dict) else None
        if isinstance(listed, list):
            newer = {str(t) for t in listed} | set(entry["newer"])
            entry = {**entry, "newer": sorted(newer)}
        merged[key] = entry
    return merged


def _save_state(path: Path, checked: dict[str, dict[str, Any]], notes: list[str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            state = _merge(_load_state(path, []), checked)
            if len(state) > MAX_STATE_ENTRIES:  # keep the most recently checked
                ordered = sorted(
                    state.items(),
                    key=lambda kv: (
                        str(kv[1].get("checked_at", "")) if isinstance(kv[1], dict) else ""
                    ),
                )
                state = dict(ordered[-MAX_STATE_ENTRIES:])
            body = json.dumps({"version": 1, "references": state}, indent=1, sort_keys=True)
            replace_file(path, body, durable=True, prefix=".watch-state.")
    except OSError as exc:
        notes.append(f"could not save the watch state to {path}: {exc.strerror or exc}")
