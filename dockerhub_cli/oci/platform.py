"""Platform specifiers `os/arch[/variant]`: parsing, normalising and matching (containerd rules).

`x86_64` is `amd64`, `aarch64` is `arm64`, `arm64` and `arm64/v8` are the same platform, a bare
`arm` means `arm/v7`. Matching prefers an exact variant, then falls back along containerd's
compatibility vector (arm64 -> arm/v8 .. arm/v5; arm/v7 -> arm/v6 -> arm/v5; amd64/v3 -> .. -> 386).
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
    """A platform as the registry wrote it (`os`, `architecture`, `variant`, `os_version`)."""

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None

    def __str__(self) -> str:
        return format_platform(self.os, self.architecture, self.variant)

    def normalized(self) -> Platform:
        os_name = normalize_os(self.os)
        arch, variant = normalize_arch(self.architecture, self.variant or "")
        return Platform(os_name, arch, variant or None, self.os_version)

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


def parse_platform(text: str) -> Platform:
    """Parse `os/arch[/variant]` (or a bare arch or os, as containerd does), normalised."""
    raw = text
    text = (text or "").strip().lower()
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
    return Platform(parts[0], parts[1], variant).normalized()


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
        preferred = [c for c in same_os if (c[1].os_version or "").startswith(want.os_version)]
        same_os = preferred or same_os
    for arch, variant in compatibility_vector(want):
        for original, norm, item in same_os:
            if norm.architecture == arch and (norm.variant or "") == variant:
                return original, item
    return None
