"""RFC 3339 timestamps kept as the image wrote them (nanoseconds included).

`datetime` holds microseconds; BuildKit and containerd write nanoseconds
(`2024-05-01T12:00:00.123456789Z`). `PreciseTime` is a `datetime` (so comparisons, relative
times and sorting work as before) that remembers the text it came from; `--json` and MCP write
that text back unchanged (see `image_models.ImageTime`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_FRACTION_RE = re.compile(r"\.(\d+)")
_RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


class PreciseTime(datetime):
    """A datetime that remembers its RFC 3339 text (`text`), when it had more than
    microseconds to say."""

    text: str | None = None

    def __reduce__(self) -> Any:  # pickling keeps the text
        return (
            _rebuild,
            (datetime(*self.timetuple()[:6], self.microsecond, self.tzinfo), self.text),
        )


def _rebuild(value: datetime, text: str | None) -> PreciseTime:
    return precise(value, text)


def precise(value: datetime, text: str | None) -> PreciseTime:
    out = PreciseTime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        value.tzinfo,
    )
    out.text = text
    return out


def parse_timestamp(value: Any) -> datetime | None:
    """RFC 3339 with 0 to 9 fractional digits; None when absent or bad. With more than six
    digits the result is a PreciseTime carrying the original text."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION_RE.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    fraction = _FRACTION_RE.search(value)
    if fraction and len(fraction.group(1)) > 6 and _RFC3339_RE.match(value):
        return precise(parsed, value)
    return parsed


def timestamp_text(value: datetime) -> str:
    """The text to write for `value`: the original when it was more precise, else ISO 8601
    as pydantic writes it (`Z` for UTC)."""
    text = getattr(value, "text", None)
    if isinstance(text, str) and text:
        return text
    out = value.isoformat()
    return out[:-6] + "Z" if out.endswith("+00:00") else out
