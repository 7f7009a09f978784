"""The generators' shared last step: write what they rendered, or with --check say what is stale."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(files: dict[Path, str], *, check: bool) -> int:
    """Write each `files` target (creating its directory); with `check`, write nothing and
    return 1 naming every target whose content differs (or is missing), else 0."""
    stale = []
    for target, text in files.items():
        if check:
            current = target.read_text(encoding="utf-8") if target.exists() else None
            if current != text:
                stale.append(str(target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}: run `make generate`", file=sys.stderr)
        return 1
    return 0
