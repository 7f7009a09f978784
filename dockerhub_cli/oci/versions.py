"""Version-aware tag handling: `1.27.3-alpine` -> numbers (1, 27, 3), suffix `-alpine`.

A tag *family* is what `dockerhub updates` follows: the same `v` prefix, the same number of
version components and the same flavour suffix (`-alpine`, `-slim`, `-bookworm`). A
pre-release part right after the numbers (`-rc1`, `-beta.2`) is not part of the flavour:
`1.2.0-rc1-alpine` belongs to the `-alpine` family, as a pre-release.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_VERSION_RE = re.compile(r"^(?P<prefix>v?)(?P<numbers>\d+(?:\.\d+)*)(?P<suffix>.*)$")
# A pre-release part right after the numbers (sorted before the release). The keyword must end
# there (a digit, a separator or the end follows), so a `-devel` flavour is not
# mistaken for a `-dev` pre-release.
_PRERELEASE_RE = re.compile(
    r"^[-.+~]?(alpha|beta|rc|pre|preview|dev|snapshot)(?:[.-]?\d+)*(?=$|[-._+~])", re.I
)
_NATURAL_RE = re.compile(r"(\d+)")


@dataclass(frozen=True, order=True)
class TagVersion:
    numbers: tuple[int, ...]
    suffix: str
    prefix: str = ""

    @property
    def prerelease(self) -> str:
        """The pre-release part of the suffix (`-rc1` of `-rc1-alpine`), or ""."""
        match = _PRERELEASE_RE.match(self.suffix)
        return match.group(0) if match else ""

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def flavour(self) -> str:
        """The suffix without its pre-release part: `-alpine` for `-rc1-alpine` and `-alpine`."""
        return self.suffix[len(self.prerelease) :]

    @property
    def family(self) -> tuple[str, int, str]:
        """(prefix, number of components, flavour): tags that can replace each other."""
        return (self.prefix, len(self.numbers), self.flavour)

    def precedence(self) -> tuple[tuple[int, ...], int, tuple[tuple[int, int | str], ...]]:
        """Order within a family: numbers, then a release above its pre-releases, then the
        pre-releases naturally (`rc2` < `rc10`)."""
        pre = self.prerelease.lower()
        natural = tuple(
            (1, int(part)) if part.isdigit() else (0, part)
            for part in _NATURAL_RE.split(pre)
            if part and part not in "-.+~"
        )
        return (self.numbers, 0 if pre else 1, natural)


def parse_version(tag: str) -> TagVersion | None:
    """Numbers and suffix of a version-like tag; None for `latest`, `stable`, hashes..."""
    match = _VERSION_RE.match(tag)
    if not match:
        return None
    numbers = tuple(int(n) for n in match.group("numbers").split("."))
    if len(numbers) == 1 and numbers[0] > 10**6:
        return None  # a date stamp or build number, not a version
    return TagVersion(numbers=numbers, suffix=match.group("suffix"), prefix=match.group("prefix"))


def semver_sort_key(tag: str) -> tuple[int, tuple[int, ...], int, str, str]:
    """Sort key putting the newest version first when used with reverse=False.

    Non-version tags come after all versions, alphabetically.
    """
    version = parse_version(tag)
    if version is None:
        return (1, (), 0, "", tag)
    negated = tuple(-n for n in version.numbers) + (1,)  # 1.2 sorts after 1.2.1
    return (0, negated, 1 if version.is_prerelease else 0, version.suffix, tag)


def newer_in_family(current: str, candidates: Iterable[str]) -> list[str]:
    """Tags of `current`'s family that are newer than it, newest first.

    Same family only (see the module docstring): `1.27.3` suggests `1.27.4` and `1.28.0`, never
    `1.28.0-alpine`, `1.28` or `v1.28.0`. Pre-releases are suggested only when `current` is
    one. Empty when `current` is not a version (`latest`, `stable`).
    """
    version = parse_version(current)
    if version is None:
        return []
    family = version.family
    mine = version.precedence()
    found: dict[str, TagVersion] = {}
    for name in candidates:
        other = parse_version(name)
        if other is None or other.family != family or name in found:
            continue
        if other.is_prerelease and not version.is_prerelease:
            continue
        if other.precedence() > mine:
            found[name] = other
    return sorted(found, key=lambda n: (found[n].precedence(), n), reverse=True)
