"""Version-aware tag handling: `1.27.3-alpine` -> numbers (1, 27, 3), suffix `-alpine`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION_RE = re.compile(r"^(?P<prefix>v?)(?P<numbers>\d+(?:\.\d+)*)(?P<suffix>.*)$")
# Suffixes that mark a pre-release of the same numbers (sorted before the release).
_PRERELEASE_RE = re.compile(r"^[-.]?(alpha|beta|rc|pre|preview|dev|snapshot)[.-]?\d*", re.I)


@dataclass(frozen=True, order=True)
class TagVersion:
    numbers: tuple[int, ...]
    suffix: str
    prefix: str = ""

    @property
    def is_prerelease(self) -> bool:
        return bool(_PRERELEASE_RE.match(self.suffix))


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
