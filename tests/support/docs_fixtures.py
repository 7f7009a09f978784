"""Stand-ins for Docker Hub and OSV behind documented examples.

A ```console block preceded by ``<!-- run with: NAME -->`` runs (tests/unit/test_docs_examples.py,
scripts/docs-update) inside a `responses` mock that NAME installs here. The mock answers
every request (one it has no answer for is a connection error), so nothing leaves the
machine and the commands use Docker Hub's and OSV's real addresses; every reply is shaped
like the real service's (tests/fixtures/hub/SOURCES.md, docs/API.md section E of the project's
shared notes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import responses
from requests import PreparedRequest

from tests.support.docs_examples import Block, Outcome, run_block

HUB = "https://hub.docker.com"  # the default addresses: the mock answers every request
REGISTRY = "https://registry-1.docker.io"
OSV = "https://api.osv.dev"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hub"
HUB_CHALLENGE = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'


def _load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def hub_tags(rsps: responses.RequestsMock) -> None:
    """`GET /v2/namespaces/library/repositories/nginx/tags` (a real capture's shape), paged the
    way the Hub pages it: `page_size` results of page `page`, `next`/`previous` as full URLs."""
    url = f"{HUB}/v2/namespaces/library/repositories/nginx/tags"
    capture = _load("tags_nginx.json")
    assert isinstance(capture, dict)
    results = capture["results"]

    def reply(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url or "").query)
        size = int(query.get("page_size", ["10"])[0])
        page = int(query.get("page", ["1"])[0])
        shown = results[(page - 1) * size : page * size]
        more = page * size < len(results)
        body = {
            "count": len(results),
            "next": f"{url}?page={page + 1}&page_size={size}" if more else None,
            "previous": f"{url}?page={page - 1}&page_size={size}" if page > 1 else None,
            "results": shown,
        }
        return 200, {"content-type": "application/json"}, json.dumps(body)

    rsps.add_callback(responses.GET, url, callback=reply)


def hub_ratelimit(rsps: responses.RequestsMock) -> None:
    """Docker Hub's registry on the probe: a HEAD collects the Bearer challenge, the anonymous
    token comes from auth.docker.io, and the HEAD with it carries the quota headers in the form
    Docker Hub sends them (`100;w=21600`, the caller's address as the source)."""
    probe = f"{REGISTRY}/v2/ratelimitpreview/test/manifests/latest"
    headers = {
        "ratelimit-limit": "100;w=21600",
        "ratelimit-remaining": "62;w=21600",
        "docker-ratelimit-source": "198.51.100.7",
        "docker-content-digest": "sha256:" + "e2" * 32,
        "content-type": "application/vnd.docker.distribution.manifest.v2+json",
    }
    rsps.head(probe, status=401, headers={"www-authenticate": HUB_CHALLENGE})
    rsps.get("https://auth.docker.io/token", json={"token": "anon", "expires_in": 300})
    rsps.head(probe, status=200, headers=headers)


def hub_nginx(rsps: responses.RequestsMock) -> None:
    """nginx:1.27.2 on Docker Hub's registry (an index of two platform images, their config
    blobs; the unit tests' FakeRegistry) and a Hub API with no facts for the tag (its 404
    replies as captured, API.md A.2; an empty tag list), as tests/unit/test_cost.py uses it."""
    from tests.unit import registry_fixtures as fx

    fx.FakeRegistry(rsps, REGISTRY, "library/nginx").nginx("1.27.2")
    api = f"{HUB}/v2/namespaces/library/repositories/nginx"
    rsps.get(api, status=404, json={"message": "object not found", "errinfo": {}})
    where = {"namespace": "library", "repository": "nginx", "tag": "1.27.2"}
    rsps.get(
        f"{api}/tags/1.27.2",
        status=404,
        json={"message": "httperror 404: tag '1.27.2' not found", "errinfo": where},
    )
    rsps.get(f"{api}/tags", json={"count": 0, "next": None, "previous": None, "results": []})


STAND_INS: dict[str, Callable[[responses.RequestsMock], None]] = {
    "hub-tags": hub_tags,
    "hub-ratelimit": hub_ratelimit,
    "hub-nginx": hub_nginx,
}


def run_with_stand_in(block: Block, workdir: Path) -> list[Outcome]:
    """Run *block* with only its stand-in's answers (anything else is a connection error)."""
    assert block.stand_in in STAND_INS, f"{block.id}: unknown stand-in {block.stand_in!r}"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        STAND_INS[block.stand_in](rsps)
        return run_block(block, workdir, stand_in=True)
