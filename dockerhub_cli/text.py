"""Neutral text helpers (pure, standard library only): sizes, counts, plurals, short digests,
URLs with their password hidden, and terminal safety.

Used by the renderers and by operations that word notes; nothing here knows about a terminal.

`visible()` is the one function that makes text from a registry, the Hub or OSV safe to show on
a terminal: every control character (C0 other than tab and newline, DEL, C1, which includes ESC,
BEL, CSI and OSC), every bidirectional-text control and every byte that was not UTF-8 (a lone
surrogate from `surrogateescape`, as in tar member names) is replaced by a visible escape
(`\\x1b`, `\\u202e`, `\\xff`), so it is shown, never interpreted. The CLI applies it at its
output edge (tables, `--format`, `--quiet`, error and warning lines); `--json` keeps the exact
data, with these characters written as JSON escapes (`json_visible()`), except bytes that were
not UTF-8, which JSON cannot carry: `utf8_safe()` writes those as `\\xNN`.
"""

from __future__ import annotations

import re
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


# C0 except \t and \n, DEL, C1; bidi embeddings/overrides/isolates and marks; lone surrogates
# (the bytes of invalid UTF-8 decoded with `surrogateescape`, as tar member names and argv are).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# In JSON text, C0 is escaped by every encoder; the rest may travel raw inside strings.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def utf8_safe(text: str) -> str:
    """`text` with the bytes that were not UTF-8 (lone surrogates from `surrogateescape`)
    written as `\\xNN`, so it can be encoded as UTF-8 (JSON, a model); everything else kept
    exact. Text without them is returned as is (the same object)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(_escape, text)


def visible(text: str) -> str:
    """`text` with control and bidi characters written as visible escapes (`\\x1b`, `\\u202e`);
    tab and newline are kept. Text without them is returned as is (the same object)."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def visible_line(text: str) -> str:
    """`visible(text)` with newlines written `\\n` too: for a value that must stay on one line
    (a tag name in a pipe, a `--quiet` value), where a registry's newline would forge a row."""
    text = visible(text)
    return text.replace("\n", "\\n") if "\n" in text else text


def json_visible(json_text: str) -> str:
    """JSON text with DEL, C1 and bidi characters written as `\\uXXXX` escapes: the same data
    (any JSON parser reads it back unchanged), but nothing a terminal would interpret. Valid only
    on JSON text: outside strings JSON has no such characters, so only strings change."""
    if _UNSAFE_IN_JSON.search(json_text) is None:
        return json_text
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", json_text)
