"""Stand-ins for Docker Hub and OSV behind documented examples.

A ```console block preceded by ``<!-- run with: NAME -->`` runs (tests/unit/test_docs_examples.py,
scripts/docs-update) inside a `responses` mock that NAME installs here. The mock answers
every request (one it has no answer for is a connection error), so nothing leaves the
machine and the commands use Docker Hub's and OSV's real addresses; every reply is shaped
like the real service's (tests/fixtures/hub/SOURCES.md, docs/API.md section E of the project's
shared notes).
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import responses
from requests import PreparedRequest
from responses import matchers

from tests.support.docs_examples import Block, Outcome, run_block

Env = dict[str, str | None]  # the sandbox's environment (docs_examples.sandbox)
HUB = "https://hub.docker.com"  # the default addresses: the mock answers every request
REGISTRY = "https://registry-1.docker.io"
OSV = "https://api.osv.dev"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hub"
HUB_CHALLENGE = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'


def _load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def hub_tags(rsps: responses.RequestsMock, env: Env) -> None:
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


def hub_ratelimit(rsps: responses.RequestsMock, env: Env) -> None:
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


def hub_nginx(rsps: responses.RequestsMock, env: Env) -> None:
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


def _advisory(
    vid: str, cve: str, summary: str, purl: str, fixed: str, cvss: str
) -> dict[str, object]:
    """A GitHub advisory as OSV serves it at `GET /v1/vulns/{id}` (the fields OSV's records
    carry; values from the published advisories)."""
    name = purl.split("/")[1].split("@")[0]
    return {
        "id": vid,
        "summary": summary,
        "details": summary + ".",
        "aliases": [cve],
        "modified": "2025-06-10T19:02:12.618290Z",
        "published": "2024-06-17T19:09:36Z",
        "database_specific": {"severity": "MODERATE", "github_reviewed": True},
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name, "purl": f"pkg:pypi/{name}"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
        "severity": [{"type": "CVSS_V3", "score": cvss}],
        "references": [{"type": "ADVISORY", "url": f"https://nvd.nist.gov/vuln/detail/{cve}"}],
        "schema_version": "1.6.0",
    }


ADVISORIES = {
    "pkg:pypi/requests@2.31.0": _advisory(
        "GHSA-9wx4-h78v-vm56",
        "CVE-2024-35195",
        "Requests `Session` object does not verify requests after making first request with"
        " verify=False",
        "pkg:pypi/requests@2.31.0",
        "2.32.0",
        "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N",
    ),
    "pkg:pypi/urllib3@2.1.0": _advisory(
        "GHSA-34jh-p97f-mpxf",
        "CVE-2024-37891",
        "urllib3's Proxy-Authorization request header isn't stripped during cross-origin redirects",
        "pkg:pypi/urllib3@2.1.0",
        "2.2.2",
        "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:H/I:N/A:N",
    ),
}


def osv(rsps: responses.RequestsMock, env: Env) -> None:
    """OSV: `POST /v1/querybatch` answers each query with the ids of the advisories for that
    package (`{}` when none, as OSV does), `GET /v1/vulns/{id}` with the advisory."""

    def querybatch(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        queries = json.loads(request.body or b"{}")["queries"]
        results: list[dict[str, object]] = []
        for query in queries:
            found = ADVISORIES.get(str(query.get("package", {}).get("purl")))
            modified = found and found["modified"]
            results.append({"vulns": [{"id": found["id"], "modified": modified}]} if found else {})
        return 200, {"content-type": "application/json"}, json.dumps({"results": results})

    rsps.add_callback(responses.POST, f"{OSV}/v1/querybatch", callback=querybatch)
    for record in ADVISORIES.values():
        rsps.get(f"{OSV}/v1/vulns/{record['id']}", json=record)


HELPER = """#!{python}
# docker-credential-pass as the docs' examples run it: get, store, erase on a JSON file
import json, os, sys
path = {store!r}
data = json.load(open(path)) if os.path.exists(path) else {{}}
action = sys.argv[1]
if action == "store":
    entry = json.load(sys.stdin)
    data[entry["ServerURL"]] = {{"Username": entry["Username"], "Secret": entry["Secret"]}}
elif action == "get":
    server = sys.stdin.read().strip()
    if server not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    print(json.dumps({{"ServerURL": server, **data[server]}}))
elif action == "erase":
    if data.pop(sys.stdin.read().strip(), None) is None:
        sys.exit(1)
json.dump(data, open(path, "w"))
"""
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.sig"


def _credential_helper(env: Env, stored: dict[str, dict[str, str]]) -> None:
    """A Docker config naming the `pass` credential store and a `docker-credential-pass` on the
    sandbox's PATH holding *stored* (server URL -> Username, Secret)."""
    docker = Path(str(env["DOCKER_CONFIG"]))
    docker.mkdir(parents=True, exist_ok=True)
    (docker / "config.json").write_text(json.dumps({"auths": {}, "credsStore": "pass"}))
    bin_dir = Path(str(env["HOME"])).parent / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    store = bin_dir / "pass-store.json"
    store.write_text(json.dumps(stored))
    helper = bin_dir / "docker-credential-pass"
    helper.write_text(HELPER.format(python=sys.executable, store=str(store)))
    helper.chmod(0o755)
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def hub_credential_helper(rsps: responses.RequestsMock, env: Env) -> None:
    """octocat's Docker Hub token in the credential helper, and Docker Hub's
    `POST /v2/auth/token` accepting exactly that token (anything else gets the Hub's 401)."""
    secret = {"Username": "octocat", "Secret": "dckr_pat_example"}
    _credential_helper(env, {"https://index.docker.io/v1/": secret})
    want = {"identifier": "octocat", "secret": "dckr_pat_example"}
    rsps.post(
        f"{HUB}/v2/auth/token",
        json={"access_token": JWT},
        match=[matchers.json_params_matcher(want)],
    )
    rsps.post(
        f"{HUB}/v2/auth/token",
        status=401,
        json={
            "detail": "Incorrect authentication credentials",
            "message": "incorrect username or password",
        },
    )


def ghcr_credential_helper(rsps: responses.RequestsMock, env: Env) -> None:
    """ghcr.io as it answers: `GET /v2/` is a 401 with its Bearer challenge, and its token
    endpoint gives a token for octocat's personal access token (Basic auth) and a 403
    otherwise; an empty credential helper (`login` stores into it); `$GHCR_TOKEN` set."""
    _credential_helper(env, {})
    env["GHCR_TOKEN"] = "ghp_example0123456789abcdefghijklmnopqrst"
    challenge = (
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"'
    )
    unauthorized = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
    rsps.get(
        "https://ghcr.io/v2/",
        status=401,
        json=unauthorized,
        headers={"www-authenticate": challenge},
    )
    basic = "Basic " + base64.b64encode(f"octocat:{env['GHCR_TOKEN']}".encode()).decode()
    rsps.get(
        "https://ghcr.io/token",
        json={"token": "djE6b2N0b2NhdDox"},
        match=[matchers.header_matcher({"Authorization": basic})],
    )
    rsps.get(
        "https://ghcr.io/token",
        status=403,
        json={"errors": [{"code": "DENIED", "message": "denied"}]},
    )


STAND_INS: dict[str, Callable[[responses.RequestsMock, Env], None]] = {
    "hub-tags": hub_tags,
    "hub-ratelimit": hub_ratelimit,
    "hub-nginx": hub_nginx,
    "osv": osv,
    "hub-credential-helper": hub_credential_helper,
    "ghcr-credential-helper": ghcr_credential_helper,
}


def run_with_stand_in(block: Block, workdir: Path, host: str | None = None) -> list[Outcome]:
    """Run *block* with only its stand-in's answers (anything else is a connection error) and,
    given *host*, the demo registry there (a block naming localhost:5000)."""
    assert block.stand_in in STAND_INS, f"{block.id}: unknown stand-in {block.stand_in!r}"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        install = STAND_INS[block.stand_in]

        def prepare(env: Env) -> None:
            install(rsps, env)

        if host is None:
            return run_block(block, workdir, stand_in=True, prepare=prepare)
        rsps.add_passthru(f"http://{host}/")
        return run_block(block, workdir, host, stand_in=True, prepare=prepare)
