"""Platform specifiers `os/arch[/variant][:os.version]`: parsing, normalising and matching.

The one place a platform is chosen (every command goes through `select_platform`). The rules,
written down in README ("Platforms") and tested in tests/unit/test_platforms.py, are
containerd's (`platforms.Normalize`, `platformVector`, the Windows matcher):

1. Normalise both sides: `x86_64`/`x86-64` -> `amd64` (variant `v1` -> none), `aarch64` ->
   `arm64`, `arm64/v8` == `arm64`, `i386` -> `386`, `armhf` -> `arm/v7`, `armel` -> `arm/v6`, and
   a bare `arm` (in `--platform` *or* in an index) means `arm/v7`.
2. The OS must be equal. A wanted `os.version` (`windows/amd64:10.0.17763`, or containerd's
   `windows(10.0.17763)/amd64`) keeps only entries whose `os.version` is it or starts with it
   followed by `.` (10.0.17763 matches 10.0.17763.5458); none -> no match, never another build.
3. Candidates are tried along the compatibility vector of the wanted platform, best first:
   exact (arch, variant); amd64/vN -> amd64/vN-1 .. amd64 -> 386; arm64 -> arm/v8 .. arm/v5;
   arm/vN -> arm/vN-1 .. arm/v5. Within one rank the first index entry wins (image-spec).
4. Entries for `unknown/unknown` (attestations) never match.

So `--platform linux/arm/v7` on an index with `arm/v6` and a variant-less `arm` picks the
variant-less `arm` (it *is* arm/v7 by rule 1, an exact match, as containerd and Docker pick);
`--platform linux/arm/v6` picks `arm/v6`; `--platform linux/arm/v5` finds neither. skopeo
tries a variant-less entry only as a last resort for any variant, so it picks `arm/v6` for
arm/v7 and the variant-less `arm` (a v7 image) for arm/v5.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from dockerhub_cli.errors import InvalidInputError

T = TypeVar("T")

_COMPONENT_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
KNOWN_OSES = frozenset(
    {
        "linux",
        "windows",
        "darwin",
        "freebsd",
        "netbsd",
        "openbsd",
        "solaris",
        "illumos",
        "aix",
        "plan9",
        "android",
        "ios",
        "js",
        "wasip1",
        "dragonfly",
    }
)
KNOWN_ARCHES = frozenset(
    {
        "amd64",
        "386",
        "arm",
        "arm64",
        "ppc64le",
        "ppc64",
        "s390x",
        "riscv64",
        "mips64le",
        "mips64",
        "mipsle",
        "mips",
        "loong64",
        "wasm",
        "x86_64",
        "x86-64",
        "aarch64",
        "i386",
        "armhf",
        "armel",
    }
)


def format_platform(os_name: str, architecture: str, variant: str | None) -> str:
    """`os/arch[/variant]`, the one way a platform is written out (empty parts left out)."""
    return "/".join(p for p in (os_name, architecture, variant) if p)


@dataclass(frozen=True)
class Platform:
    """A platform as the registry wrote it (`os`, `architecture`, `variant`, `os.version`,
    `os.features`)."""

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = ()

    def __str__(self) -> str:
        return format_platform(self.os, self.architecture, self.variant)

    @property
    def full(self) -> str:
        """`os/arch[/variant][:os.version]`: what `--platform` accepts to choose exactly this."""
        return str(self) + (f":{self.os_version}" if self.os_version else "")

    def normalized(self) -> Platform:
        os_name = normalize_os(self.os)
        arch, variant = normalize_arch(self.architecture, self.variant or "")
        return Platform(os_name, arch, variant or None, self.os_version, self.os_features)

    @property
    def is_unknown(self) -> bool:
        return self.os in ("", "unknown") or self.architecture in ("", "unknown")


def normalize_os(os_name: str) -> str:
    os_name = (os_name or "").lower()
    return "darwin" if os_name == "macos" else os_name


def normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """containerd's `normalizeArch`: canonical architecture and variant ("" = default)."""
    arch, variant = (arch or "").lower(), (variant or "").lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        if variant in ("8", "v8", "v8.0"):
            variant = ""
        elif variant in ("9", "9.0", "v9.0"):
            variant = "v9"
        return "arm64", variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            return "arm", "v7"
        if variant in ("5", "6", "8"):
            return "arm", f"v{variant}"
        return "arm", variant
    return arch, variant


_OS_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
_PAREN_RE = re.compile(r"^([^/()]+)\(([^()]*)\)(/.*)?$")


def parse_platform(text: str) -> Platform:
    """Parse `os/arch[/variant][:os.version]` or containerd's `os(os.version)/arch[/variant]`
    (or a bare arch or os, as containerd does), normalised."""
    raw = text
    text = (text or "").strip()
    os_version: str | None = None
    paren = _PAREN_RE.match(text)
    if paren:
        os_version = paren.group(2)
        text = paren.group(1) + (paren.group(3) or "")
    elif ":" in text:
        text, _, os_version = text.partition(":")
    if os_version is not None and not _OS_VERSION_RE.match(os_version):
        raise InvalidInputError(
            f"invalid platform {raw!r}: bad os.version {os_version!r}",
            hint="e.g. windows/amd64:10.0.17763",
        )
    text = text.lower()
    parts = text.split("/") if text else []
    if not 1 <= len(parts) <= 3 or not all(_COMPONENT_RE.match(p) for p in parts):
        raise InvalidInputError(
            f"invalid platform {raw!r}: expected OS/ARCH[/VARIANT]",
            hint="e.g. linux/amd64, linux/arm64, linux/arm/v7",
        )
    if len(parts) == 1:
        word = parts[0]
        if word in KNOWN_OSES:
            parts = [word, "amd64"]
        elif word in KNOWN_ARCHES:
            parts = ["linux", word]
        else:
            raise InvalidInputError(
                f"invalid platform {raw!r}: {word!r} is neither a known OS nor architecture",
                hint="e.g. linux/amd64, linux/arm64, linux/arm/v7",
            )
    variant = parts[2] if len(parts) == 3 else None
    return Platform(parts[0], parts[1], variant, os_version or None).normalized()


def compatibility_vector(wanted: Platform) -> list[tuple[str, str]]:
    """Normalised (arch, variant) pairs that can run on `wanted`, best first (platformVector)."""
    want = wanted.normalized()
    arch, variant = want.architecture, want.variant or ""
    vector = [(arch, variant)]
    if arch == "amd64":
        level = int(variant[1:]) if variant[1:].isdigit() else 1
        vector += [("amd64", f"v{n}" if n > 1 else "") for n in range(level - 1, 0, -1)]
        vector.append(("386", ""))
    elif arch == "arm64":
        if variant:
            vector.append(("arm64", ""))
        vector += [("arm", "v8"), ("arm", "v7"), ("arm", "v6"), ("arm", "v5")]
    elif arch == "arm" and variant[1:].isdigit():
        vector += [("arm", f"v{n}") for n in range(int(variant[1:]) - 1, 4, -1)]
    return list(dict.fromkeys(vector))


def os_version_matches(wanted: str, candidate: str | None) -> bool:
    """`10.0.17763` matches `10.0.17763` and `10.0.17763.5458`, not `10.0.177630`."""
    have = candidate or ""
    return have == wanted or have.startswith(wanted + ".")


def platform_matches(wanted: Platform, candidate: Platform) -> bool:
    """Whether `candidate` can be chosen for `wanted` at all (any rank)."""
    return select_platform(wanted, [(candidate, None)]) is not None


def select_platform(
    wanted: Platform, candidates: Sequence[tuple[Platform, T]]
) -> tuple[Platform, T] | None:
    """The best candidate for `wanted`: exact match first, then the compatibility vector.

    Within one rank the first entry wins (OCI image-index: "the first matching entry SHOULD be
    used"). Unknown platforms (attestations) never match.
    """
    want = wanted.normalized()
    usable = [(p, p.normalized(), item) for p, item in candidates if not p.is_unknown]
    same_os = [(p, n, item) for p, n, item in usable if n.os == want.os]
    if want.os_version:
        same_os = [c for c in same_os if os_version_matches(want.os_version, c[1].os_version)]
    for arch, variant in compatibility_vector(want):
        for original, norm, item in same_os:
            if norm.architecture == arch and (norm.variant or "") == variant:
                return original, item
    return None
