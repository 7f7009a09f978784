"""Loaders for Docker Hub reply fixtures (tests/fixtures/hub), shaped like real captures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hub"
HUB = "https://hub.docker.com"
REGISTRY = "https://registry-1.docker.io"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())
