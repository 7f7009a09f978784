"""Neutral text helpers (pure, standard library only): sizes, counts, plurals, short digests,
URLs with their password hidden.

Used by the renderers and by operations that word notes; nothing here knows about a terminal.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def short_digest(digest: str | None) -> str:
    """`sha256:` and the first 12 hex digits, or `-`."""
    return (digest or "-")[:19]


def human_size(size: int | None) -> str:
    """Decimal units, as Docker prints them: 75600911 -> '75.6 MB'."""
    if size is None:
        return "-"
    value = float(size)
    for unit in _SIZE_UNITS:
        if abs(value) < 1000 or unit == _SIZE_UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def plural(count: int, word: str) -> str:
    """`1 layer`, `2 layers`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def human_count(count: int | None) -> str:
    if count is None:
        return "-"
    for limit, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= limit:
            return f"{count / limit:.1f}{suffix}".replace(".0", "")
    return str(count)


def redact_url(url: str) -> str:
    """`redis://user:secret@host:6379/0` -> `redis://user:***@host:6379/0`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable>"
    if parts.password is None and "@" not in parts.netloc:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{user}:***@{host}" if user or parts.password is not None else f"***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
