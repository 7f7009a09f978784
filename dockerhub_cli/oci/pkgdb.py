"""Package databases inside an image's filesystem: dpkg's `status` and apk's `installed`.

Pure parsers over bytes (the caller reads the files from the layers, bounded and verified
against the layer index). `diff` uses them when the images carry no SBOM attestation.

* dpkg (`var/lib/dpkg/status`, and distroless' one-stanza-per-package `status.d/*`): deb822
  stanzas; a package counts when its `Status` says `installed` (deinstalled packages whose
  config files remain say `config-files`, and are not installed).
* apk (`lib/apk/db/installed`): blank-line separated records of `X:value` lines, `P` the
  name, `V` the version, `A` the architecture.

Every value is made printable (control characters as `\\xNN`) and bounded in length: a
package database is as hostile as any other byte of an image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_DIR = "var/lib/dpkg/status.d"
APK_INSTALLED = "lib/apk/db/installed"
# rpm keeps a SQLite (or Berkeley DB) file: not read here, only named when present.
RPM_DATABASES = (
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages.db",
    "var/lib/rpm/Packages",
)
MAX_PACKAGES = 100_000
MAX_FIELD = 256

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class InstalledPackage:
    name: str
    version: str
    arch: str | None = None
    source: str | None = None  # the source package (dpkg `Source`, apk `o:` origin)


def _clean(value: str) -> str:
    value = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value.strip())
    return value[:MAX_FIELD]


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def parse_dpkg_status(data: bytes) -> list[InstalledPackage]:
    """Installed packages of a dpkg status file (or one `status.d/` file)."""
    out: list[InstalledPackage] = []
    for stanza in re.split(r"\n[ \t]*\n", _text(data).replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        for line in stanza.split("\n"):
            if not line or line[0] in " \t#":  # continuation lines (Description, Conffiles)
                continue
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip().lower(), value)
        name, version = _clean(fields.get("package", "")), _clean(fields.get("version", ""))
        if not name or not version:
            continue
        status = fields.get("status")
        # status.d files (distroless) carry no Status: each one is an installed package.
        if status is not None and status.split()[-1:] != ["installed"]:
            continue
        source = _clean(fields.get("source", "").split("(")[0]) or None
        arch = _clean(fields.get("architecture", "")) or None
        out.append(InstalledPackage(name, version, arch, source))
        if len(out) >= MAX_PACKAGES:
            break
    return out


def parse_apk_installed(data: bytes) -> list[InstalledPackage]:
    """Installed packages of apk's database."""
    out: list[InstalledPackage] = []
    for record in re.split(r"\n\s*\n", _text(data).replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        for line in record.split("\n"):
            if len(line) > 1 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        name, version = _clean(fields.get("P", "")), _clean(fields.get("V", ""))
        if not name or not version:
            continue
        arch = _clean(fields.get("A", "")) or None
        out.append(InstalledPackage(name, version, arch, _clean(fields.get("o", "")) or None))
        if len(out) >= MAX_PACKAGES:
            break
    return out
