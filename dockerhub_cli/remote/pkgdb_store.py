"""`<cache dir>/packages/<kind>/<hex>.json`: the parsed content of one package database file
(dpkg status, apk installed, rpm's rpmdb.sqlite), keyed by the sha256 of that content.

Content-addressed, so an entry never goes stale: the same bytes always parse to the same
packages. Only content whose sha256 matched the verified layer index is ever saved (the
caller checks before `put`). Written atomically, mode 0600; a damaged file is dropped and
the content read again; `--no-cache` neither reads nor writes it.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from dockerhub_cli.atomic import replace_file
from dockerhub_cli.oci.pkgdb import InstalledPackage

if TYPE_CHECKING:
    from dockerhub_cli.config.settings import Settings

log = logging.getLogger(__name__)
FORMAT = 1
_HEX = re.compile(r"[0-9a-f]{64}")


class PackageDbStore:
    def __init__(self, settings: Settings) -> None:
        self.enabled = not settings.no_cache
        self.root = Path(settings.cache_dir) / "packages"

    def _path(self, kind: str, sha256: str | None) -> Path | None:
        hexpart = (sha256 or "").removeprefix("sha256:")
        if not self.enabled or not _HEX.fullmatch(hexpart) or kind not in ("dpkg", "apk", "rpm"):
            return None
        return self.root / kind / f"{hexpart}.json"

    def get(self, kind: str, sha256: str | None) -> list[InstalledPackage] | None:
        path = self._path(kind, sha256)
        if path is None:
            return None
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT or data.get("sha256") != sha256:
                raise ValueError("not this content's entry")
            rows = data["packages"]
            return [InstalledPackage(str(n), str(v), _opt(a), _opt(o)) for n, v, a, o in rows]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.warning("cached package list %s is damaged (%s); reading it again", path, exc)
            path.unlink(missing_ok=True)
            return None

    def put(self, kind: str, sha256: str | None, packages: list[InstalledPackage]) -> None:
        path = self._path(kind, sha256)
        if path is None:
            return
        body = {
            "format": FORMAT,
            "sha256": sha256,
            "packages": [[p.name, p.version, p.arch, p.source] for p in packages],
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            replace_file(
                path, json.dumps(body, ensure_ascii=False, separators=(",", ":")), prefix=".tmp-"
            )
        except OSError as exc:  # a cache that cannot be written never fails the command
            log.warning("could not save the package list %s: %s", sha256, exc)


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
