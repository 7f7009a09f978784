"""Issue 19, goal 3: the warm reader (remote/warm_cache.py) answers fresh cache hits from
requests-cache's SQLite rows without importing the HTTP stack. Conformance: for many requests
stored through the real CachedSession, the reader returns exactly what CachedSession returns, or
misses; never a different body, never an expired entry. These fail if a requests-cache upgrade
changes its row format, keys or freshness rules in a way the reader does not follow."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from requests_cache.policy import expiration

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import InvalidInputError
from dockerhub_cli.remote import transport as transport_module
from dockerhub_cli.remote import warm_cache
from dockerhub_cli.remote.transport import Transport
from dockerhub_cli.service import DockerHubService
from tests.support.cache import age_cache

REG = "https://registry.example"
OTHER = "https://cdn.example"
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
D = "sha256:" + "b" * 64
HTTP_STACK = ("requests", "urllib3", "requests_cache", "attr", "attrs", "cattrs", "http.client")


def _case(
    method: str,
    path: str,
    *,
    accept: str | None = None,
    params: dict[str, str] | None = None,
    status: int = 200,
    body: bytes = b"{}",
    headers: dict[str, str] | None = None,
    fresh: bool = True,
) -> dict[str, Any]:
    return {
        "method": method,
        "url": f"{REG}{path}",
        "accept": accept,
        "params": params,
        "status": status,
        "body": body,
        "headers": headers or {},
        "fresh": fresh,  # expected to be a warm hit
    }


CASES = [
    _case("GET", "/v2/team/app/manifests/1.0", accept=INDEX, body=b'{"index": 1}'),
    # The same URL with another Accept is another entry, with its own body.
    _case("GET", "/v2/team/app/manifests/1.0", accept=MANIFEST, body=b'{"manifest": 1}'),
    _case(
        "GET",
        f"/v2/team/app/manifests/{D}",
        accept=INDEX,
        body=b'{"by": "digest"}',
        headers={"Docker-Content-Digest": D, "Content-Type": INDEX, "X-Odd": "\u00e9t\u00e9"},
    ),
    _case("HEAD", "/v2/team/app/manifests/1.0", accept=INDEX, body=b""),
    _case("GET", f"/v2/team/app/blobs/{D}", body=bytes(range(256)) * 64),  # binary, no Accept
    _case("GET", f"/v2/team/empty/blobs/{D}", body=b""),  # an empty body
    _case("GET", f"/v2/team/large/blobs/{D}", body=os.urandom(1024 * 1024 + 17)),
    _case("GET", "/v2/team/app/tags/list", params={"n": "100"}, body=b'{"tags": ["1.0"]}'),
    _case("GET", "/v2/team/app/tags/list", params={"n": "5"}, body=b'{"tags": ["x"]}'),
    _case(
        "GET",
        "/v2/team/app/tags/list",
        params={"n": "100", "last": "a b/c"},
        body=b'{"tags": ["2.0"]}',
    ),
    # Not stored by the session (only 200s are): the reader misses, the session asks again.
    _case("GET", "/v2/team/gone/manifests/1.0", accept=INDEX, status=404, fresh=False),
    _case("GET", "/v2/team/down/manifests/1.0", accept=INDEX, status=500, fresh=False),
    # A URL no lifetime pattern names is never cached.
    _case("GET", "/v2/", fresh=False),
    # A Vary header: the session compares request headers; the reader leaves it to it.
    _case(
        "GET",
        "/v2/team/vary/manifests/1.0",
        accept=INDEX,
        headers={"Vary": "Accept-Encoding"},
        fresh=False,
    ),
]


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for case in CASES:
            match = [responses.matchers.header_matcher({"Accept": case["accept"] or "*/*"})]
            if case["params"]:
                match.append(responses.matchers.query_param_matcher(case["params"]))
            rsps.add(
                case["method"],
                case["url"],
                body=case["body"],
                status=case["status"],
                headers=case["headers"],
                match=match,
            )
        # A blob that redirects to another host (a CDN), as Docker Hub's do.
        rsps.add(
            "GET", f"{REG}/v2/team/cdn/blobs/{D}", status=307, headers={"Location": f"{OTHER}/blob"}
        )
        rsps.add("GET", f"{OTHER}/blob", body=b"cdn bytes")
        yield rsps


def _send(transport: Transport, case: dict[str, Any]) -> Any:
    return transport.request(
        case["method"],
        case["url"],
        headers={"Accept": case["accept"]} if case["accept"] else None,
        params=case["params"],
        what="test",
    )


def _session_answer(svc: DockerHubService, case: dict[str, Any]) -> Any:
    """What requests-cache itself answers from the cache (never the network)."""
    headers = {"Accept": case["accept"]} if case["accept"] else {}
    return svc.session.request(
        case["method"], case["url"], headers=headers, params=case["params"], only_if_cached=True
    )


def _warm(svc: DockerHubService, case: dict[str, Any]) -> warm_cache.WarmReply | None:
    canonical = warm_cache.describe(
        case["method"],
        case["url"],
        case["params"],
        {"Accept": case["accept"]} if case["accept"] else None,
    )
    return svc.transport._warm_lookup(case["method"], case["url"], canonical)  # type: ignore[no-any-return]


def _same(reply: warm_cache.WarmReply, cached: Any) -> None:
    """The reader's answer is the session's, attribute by attribute our code reads."""
    assert getattr(cached, "from_cache", False) and not cached.is_expired
    assert reply.status_code == cached.status_code
    assert reply.content == cached.content
    assert dict(reply.headers.items()) == dict(cached.headers.items())
    for name in cached.headers:
        assert reply.headers[name.lower()] == cached.headers[name]
        assert reply.headers[name.upper()] == cached.headers[name]
    assert reply.url == cached.url
    assert reply.expires == cached.expires
    assert reply.cache_key == cached.cache_key
    assert reply.reason == cached.reason
    assert [h.url for h in reply.history] == [h.url for h in cached.history]
    assert [h.status_code for h in reply.history] == [h.status_code for h in cached.history]
    if cached.content:
        assert reply.text == cached.text


def _fill(mocked: responses.RequestsMock) -> None:
    with DockerHubService(Settings.from_env()) as svc:
        for case in CASES:
            _send(svc.transport, case)
        svc.transport.request("GET", f"{REG}/v2/team/cdn/blobs/{D}", what="cdn")


def test_the_reader_answers_what_the_session_answers_or_misses(
    mocked: responses.RequestsMock,
) -> None:
    _fill(mocked)
    calls = len(mocked.calls)
    with DockerHubService(Settings.from_env()) as svc:
        hits = 0
        for case in CASES:
            reply = _warm(svc, case)
            cached = _session_answer(svc, case)
            if reply is None:
                assert not case["fresh"], case["url"]
                continue
            hits += 1
            _same(reply, cached)
        assert hits == sum(1 for c in CASES if c["fresh"])
        # The redirected blob: the reader gives the session's entry (history and all) or none.
        cdn = {**CASES[4], "url": f"{REG}/v2/team/cdn/blobs/{D}"}
        reply = _warm(svc, cdn)
        if reply is not None:
            _same(reply, _session_answer(svc, cdn))
    assert len(mocked.calls) == calls  # nothing was sent


def test_a_warm_transport_request_equals_the_full_path_and_costs_the_same(
    mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(mocked)
    calls = len(mocked.calls)
    with DockerHubService(Settings.from_env()) as warm:
        warm_answers = [_send(warm.transport, c) for c in CASES if c["fresh"]]
        assert not warm.transport.session_built  # every one answered by the reader
        warm_cost = warm.transport.meter.totals.to_dict()
        warm_counts = (warm.transport.cache_hits, warm.transport.network_requests)
        warm_until = warm.transport.reuse_until
    monkeypatch.setattr(Transport, "_warm_lookup", lambda self, m, u, c: None)
    with DockerHubService(Settings.from_env()) as full:
        full_answers = [_send(full.transport, c) for c in CASES if c["fresh"]]
        assert full.transport.session_built
        full_cost = full.transport.meter.totals.to_dict()
        full_counts = (full.transport.cache_hits, full.transport.network_requests)
        full_until = full.transport.reuse_until
    assert len(mocked.calls) == calls
    for reply, cached in zip(warm_answers, full_answers, strict=True):
        assert isinstance(reply, warm_cache.WarmReply)
        _same(reply, cached)
    assert warm_cost == full_cost
    assert warm_counts == full_counts
    assert warm_until == full_until


def test_an_expired_entry_is_never_read(mocked: responses.RequestsMock) -> None:
    _fill(mocked)
    with DockerHubService(Settings.from_env()) as svc:
        assert age_cache(svc, everything=True) > 0
    with DockerHubService(Settings.from_env()) as svc:
        for case in CASES:
            assert _warm(svc, case) is None, case["url"]


def test_one_stale_lookup_falls_back_mid_run(mocked: responses.RequestsMock) -> None:
    """Fresh hits from the reader; an expired tag lookup in the middle takes the full path
    (session built then, one request), and the reader goes on answering after it."""
    _fill(mocked)
    with DockerHubService(Settings.from_env()) as svc:
        age_cache(svc)  # tag lookups and listings age; content by digest stays fresh
    calls = len(mocked.calls)
    with DockerHubService(Settings.from_env()) as svc:
        first = _send(svc.transport, CASES[2])  # by digest: fresh
        assert isinstance(first, warm_cache.WarmReply)
        assert not svc.transport.session_built
        again = _send(svc.transport, CASES[0])  # by tag: expired, asked again
        assert not isinstance(again, warm_cache.WarmReply)
        assert again.content == CASES[0]["body"]
        assert svc.transport.session_built
        assert len(mocked.calls) == calls + 1
        last = _send(svc.transport, CASES[4])  # a blob: fresh, the reader again
        assert isinstance(last, warm_cache.WarmReply)
        assert last.content == CASES[4]["body"]
    with DockerHubService(Settings.from_env()) as svc:  # the renewed entry is a warm hit
        renewed = _send(svc.transport, CASES[0])
        assert isinstance(renewed, warm_cache.WarmReply)
        assert renewed.content == CASES[0]["body"]


def test_credentials_are_never_answered_nor_recorded(mocked: responses.RequestsMock) -> None:
    secret = "Bearer s3cr3t-token"
    assert warm_cache.describe("GET", f"{REG}/x", None, {"Authorization": secret}) is None
    assert warm_cache.describe("GET", f"{REG}/x", None, {"Cache-Control": "no-store"}) is None
    assert warm_cache.describe("POST", f"{REG}/x", None, None) is None
    with DockerHubService(Settings.from_env()) as svc:
        case = CASES[0]
        svc.transport.request(
            "GET", case["url"], headers={"Accept": INDEX, "Authorization": secret}, what="t"
        )
        path = svc.settings.cache_path
    raw = path.read_bytes()
    assert b"s3cr3t" not in raw
    import sqlite3

    with sqlite3.connect(path) as con:
        try:
            rows = con.execute(f"SELECT canonical, key FROM {warm_cache.TABLE}").fetchall()
        except sqlite3.OperationalError:  # no such table: nothing was ever recorded
            rows = []
    assert rows == []  # nothing recorded for a request that carried credentials


def test_a_stale_side_table_entry_just_misses(mocked: responses.RequestsMock) -> None:
    """A side-table row pointing at a key whose row is gone, or at another request's row, or
    written under another fingerprint, is a miss."""
    import sqlite3

    _fill(mocked)
    settings = Settings.from_env()
    with sqlite3.connect(settings.cache_path) as con:
        rows = dict(con.execute(f"SELECT canonical, key FROM {warm_cache.TABLE}").fetchall())
        canonical_a = warm_cache.describe("GET", CASES[0]["url"], None, {"Accept": INDEX})
        canonical_b = warm_cache.describe("GET", CASES[1]["url"], None, {"Accept": MANIFEST})
        assert canonical_a in rows and canonical_b in rows
        # a points at b's row (another Accept): the row's request does not match
        con.execute(
            f"UPDATE {warm_cache.TABLE} SET key = ? WHERE canonical = ?",
            (rows[canonical_b], canonical_a),
        )
        con.execute(
            f"UPDATE {warm_cache.TABLE} SET fingerprint = 'old' WHERE canonical = ?", (canonical_b,)
        )
    with DockerHubService(settings) as svc:
        assert _warm(svc, CASES[0]) is None
        assert _warm(svc, CASES[1]) is None
        assert _warm(svc, CASES[4]) is not None


def test_rows_hold_only_builtins_and_any_class_is_refused(mocked: responses.RequestsMock) -> None:
    import sqlite3

    _fill(mocked)
    with sqlite3.connect(Settings.from_env().cache_path) as con:
        blobs = [row[0] for row in con.execute("SELECT value FROM responses")]
    assert blobs
    for blob in blobs:
        data = warm_cache._unpickle(blob)  # raises on any class
        assert isinstance(data, dict)
    with pytest.raises(pickle.UnpicklingError):
        warm_cache._unpickle(pickle.dumps(Path("/")))


def test_requests_caches_constants_and_version_are_read_right() -> None:
    assert transport_module.NEVER_EXPIRE == expiration.NEVER_EXPIRE
    assert transport_module.DO_NOT_CACHE == expiration.DO_NOT_CACHE
    from importlib.metadata import version

    assert warm_cache._installed_version("requests_cache") == version("requests-cache")
    assert warm_cache._installed_version("no_such_package_here") is None


def test_an_unsafe_cache_dir_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    cache = tmp_path / "loose"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    settings = Settings.from_env()
    settings = type(settings)(**{**settings.__dict__, "cache_dir": cache})
    with DockerHubService(settings) as svc, pytest.raises(InvalidInputError):
        svc.transport.request("GET", CASES[0]["url"], headers={"Accept": INDEX})


def test_a_corrupt_cache_file_is_a_miss_then_quarantined_by_the_full_path(
    mocked: responses.RequestsMock,
) -> None:
    _fill(mocked)
    settings = Settings.from_env()
    settings.cache_path.write_bytes(b"this is not a database" * 100)
    for extra in ("-wal", "-shm"):
        Path(str(settings.cache_path) + extra).unlink(missing_ok=True)
    with DockerHubService(settings) as svc:
        answer = _send(svc.transport, CASES[0])
        assert not isinstance(answer, warm_cache.WarmReply)
        assert answer.content == CASES[0]["body"]
    assert any(".corrupt-" in p.name for p in settings.cache_dir.iterdir())


_WARM_RUN = """
import json, sys
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.service import DockerHubService
cases = json.loads(sys.argv[1])
with DockerHubService(Settings.from_env()) as svc:
    bodies = []
    for case in cases:
        headers = {"Accept": case["accept"]} if case["accept"] else None
        r = svc.transport.request(case["method"], case["url"], headers=headers,
                                  params=case["params"], what="t")
        bodies.append(r.content.hex())
    cost = svc.transport.meter.totals.to_dict()
stack = sorted(m for m in sys.modules if m.split(".")[0] in {"requests", "urllib3",
               "requests_cache", "attr", "attrs", "cattrs"} or m == "http.client")
print(json.dumps({"bodies": bodies, "stack": stack, "cost": cost}))
"""


def test_a_warm_run_imports_none_of_the_http_stack(mocked: responses.RequestsMock) -> None:
    _fill(mocked)
    fresh = [{k: c[k] for k in ("method", "url", "accept", "params")} for c in CASES if c["fresh"]]
    done = subprocess.run(
        [sys.executable, "-c", _WARM_RUN, json.dumps(fresh)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["stack"] == []
    assert out["bodies"] == [c["body"].hex() for c in CASES if c["fresh"]]
    assert out["cost"]["requests"] == 0
    assert out["cost"]["cache"]["hits"] == len(fresh)
    assert not any(name in HTTP_STACK for name in out["stack"])


def test_a_copy_stored_under_the_digest_is_missed_or_read_as_the_session_reads_it(
    mocked: responses.RequestsMock,
) -> None:
    """`store_as` (the by-tag answer cached under its by-digest request too): the row's request
    is the by-tag one, so the reader misses it (its check of the row's request), never serves
    another answer than the session's."""
    digest_url = f"{REG}/v2/team/app/manifests/sha256:{'c' * 64}"
    with DockerHubService(Settings.from_env()) as svc:
        response = _send(svc.transport, CASES[0])
        svc.transport.store_as(response, "GET", digest_url, {"Accept": INDEX})
    case = {**CASES[0], "url": digest_url}
    with DockerHubService(Settings.from_env()) as svc:
        cached = _session_answer(svc, case)
        assert cached.content == CASES[0]["body"]
        _send(svc.transport, case)  # the full path reads it, and records its key
        reply = _warm(svc, case)
        if reply is not None:
            _same(reply, cached)
