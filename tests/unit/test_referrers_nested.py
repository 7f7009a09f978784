"""The nested referrers walk (ops/referrers._nested) on a graph of artifacts: an artifact
reached again, through a cycle or from a second subject, is listed once more but marked
`already_shown` and not looked up again."""

from __future__ import annotations

from typing import Any

import pytest

from dockerhub_cli.models.supply import Referrer
from dockerhub_cli.oci.manifest import Descriptor
from dockerhub_cli.ops import referrers as R

IMAGE = "sha256:" + "0" * 64
SIG = "application/vnd.dev.cosign.artifact.sig.v1+json"


def _d(name: str) -> str:
    return "sha256:" + name * 64


def _desc(name: str) -> Descriptor:
    return Descriptor("application/vnd.oci.image.manifest.v1+json", _d(name), 10, artifact_type=SIG)


# a -> c, b -> c (one artifact attached to two), c -> a (a cycle), c -> d, d -> image
GRAPH = {_d("a"): ["c"], _d("b"): ["c"], _d("c"): ["a", "d"], _d("d"): ["0"]}


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []

    def api(clients: Any, ref: Any, digest: str, artifact_type: str | None) -> list[Descriptor]:
        asked.append(digest)
        return [_desc(n) for n in GRAPH.get(digest, [])]

    monkeypatch.setattr(R, "_referrers_api", api)
    monkeypatch.setattr(R, "load_manifest", lambda *a, **k: None)
    return asked


def _walk(depth: int) -> list[Referrer]:
    level = [R._Found(IMAGE, None, _desc("a")), R._Found(IMAGE, None, _desc("b"))]
    shown = {IMAGE}
    for entry in level:
        R._mark_shown(entry, shown)
    notes: list[str] = []
    R._nested(None, None, level, depth, api=True, tag_names=set(), shown=shown, notes=notes)  # type: ignore[arg-type]
    return [R._model(f) for f in level]


def _flat(rows: list[Referrer], at: int = 1) -> list[tuple[int, str, bool]]:
    out = []
    for r in rows:
        out.append((at, r.digest[7], r.already_shown))
        out += _flat(r.referrers, at + 1)
    return out


def test_a_cycle_and_a_second_subject_are_marked_and_not_followed(looked_up: list[str]) -> None:
    tree = _walk(5)
    assert _flat(tree) == [
        (1, "a", False),
        (2, "c", False),
        (3, "a", True),  # the cycle back to a level-1 artifact
        (3, "d", False),
        (4, "0", True),  # the image itself, attached to its own referrer
        (1, "b", False),
        (2, "c", True),  # attached to b too: its referrers are listed under a's, not here
    ]
    assert sorted(looked_up) == sorted([_d("a"), _d("b"), _d("c"), _d("d")])  # each once
    assert tree[1].referrers[0].model_dump()["already_shown"] is True


def test_the_depth_still_bounds_the_walk(looked_up: list[str]) -> None:
    assert _flat(_walk(2)) == [(1, "a", False), (2, "c", False), (1, "b", False), (2, "c", True)]
    assert sorted(looked_up) == [_d("a"), _d("b")]
