"""cache_format.py writes requests-cache's rows without cattrs: the dict, and the pickled row,
are the ones requests-cache's own pickle serializer makes, for many shapes of response; rows
read back through requests-cache; a requests-cache that changes its classes fails the pin and
falls back to cattrs; a cold save in a fresh process imports no cattrs."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from requests_cache import CachedResponse, CachedSession
from requests_cache.models import CachedRequest
from requests_cache.serializers import pickle_serializer
from requests_cache.serializers.cattrs import CattrStage as RealCattrStage

from dockerhub_cli.remote import cache_format

BASE = "https://registry.example.test"


def _real_dict(cached: CachedResponse) -> dict[str, Any]:
    return RealCattrStage().dumps(cached)  # type: ignore[no-any-return]


def _ours(cached: CachedResponse) -> Any:
    return cache_format.CattrStage().dumps(cached)


def _captured(**session_kwargs: Any) -> Iterator[CachedResponse]:
    """Responses of many shapes, as CachedSession stores them (from_response of a real
    requests.Response built by `responses`)."""
    seen: list[CachedResponse] = []
    session = CachedSession(
        backend="memory",
        allowable_codes=(200, 201, 301, 404, 500),
        allowable_methods=("GET", "POST"),
    )
    real_save = session.cache.save_response

    def save(response: Any, cache_key: Any = None, expires: Any = None) -> None:
        seen.append(CachedResponse.from_response(response, expires=expires))
        real_save(response, cache_key, expires)

    session.cache.save_response = save  # type: ignore[method-assign]
    bodies: list[tuple[int, bytes, dict[str, str]]] = [
        (200, b'{"schemaVersion": 2}', {"Content-Type": "application/json"}),
        (200, b"", {}),
        (201, b"\x00\xff" * 300, {"Content-Type": "application/octet-stream"}),
        (404, b'{"errors": []}', {"Docker-Content-Digest": "sha256:" + "a" * 64}),
        (500, "ünïcode ✓".encode(), {"Content-Type": "text/plain; charset=utf-8"}),
        (200, b"x" * 5000, {"ETag": '"abc"', "X-Many": "a, b", "Cache-Control": "max-age=0"}),
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        for i, (status, body, headers) in enumerate(bodies):
            mocked.get(f"{BASE}/v2/r/manifests/{i}", body=body, status=status, headers=headers)
        # A redirect chain: the history is stored nested.
        mocked.get(
            f"{BASE}/v2/r/blobs/sha256:1",
            status=307,
            headers={"Location": f"{BASE}/cdn/1?X-Amz-Signature=s"},
        )
        mocked.get(f"{BASE}/cdn/1", body=b"blob", status=200)
        mocked.get(f"{BASE}/cookie", body=b"c", headers={"Set-Cookie": "a=b; Path=/"})
        mocked.post(f"{BASE}/v2/r/manifests/0", body=b"posted")
        for i in range(len(bodies)):
            session.get(
                f"{BASE}/v2/r/manifests/{i}",
                headers={"Accept": "application/vnd.oci.image.index.v1+json"},
                expire_after=[None, 60, timedelta(days=1), -1, 3600, 1][i],
            )
        session.get(f"{BASE}/v2/r/blobs/sha256:1", params={"q": "1"})
        session.get(f"{BASE}/cookie", cookies={"sent": "1"})
        session.post(f"{BASE}/v2/r/manifests/0", data=b"body")
    yield from seen


def _variants() -> list[CachedResponse]:
    out = list(_captured())
    plain = CachedResponse(status_code=200, url=f"{BASE}/x", content=b"x")
    out.append(plain)
    out.append(CachedResponse())  # every field at its default
    expiring = CachedResponse.from_response(plain, expires=datetime(2030, 1, 2, 3, 4, 5))
    out.append(expiring)
    out.append(
        CachedResponse(
            status_code=301,
            url=f"{BASE}/a",
            elapsed=timedelta(seconds=1.25),
            encoding="latin-1",
            reason="Moved",
            next=CachedRequest(method="GET", url=f"{BASE}/b", body=b"x"),
            created_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    return out


def test_the_dict_is_the_one_cattrs_makes_for_every_shape() -> None:
    variants = _variants()
    assert len(variants) >= 12
    assert any(v.history for v in variants) and any(v.expires for v in variants)
    for cached in variants:
        assert cache_format.writable(cached), cached
        ours, theirs = _ours(cached), _real_dict(cached)
        assert ours == theirs
        assert list(ours) == list(theirs)  # same key order: the same pickle
        assert pickle.dumps(ours) == pickle.dumps(theirs)


def test_the_pickled_row_is_byte_for_byte_requests_caches_and_reads_back() -> None:
    ours = cache_format.CattrStage()
    pipeline = type(pickle_serializer)([ours, *pickle_serializer.stages[1:]], is_binary=True)
    for cached in _variants():
        row = pipeline.dumps(cached)
        assert row == pickle_serializer.dumps(cached)
        back = pickle_serializer.loads(row)
        assert back.status_code == cached.status_code and back.content == cached.content
        assert dict(back.headers) == dict(cached.headers) and back.expires == cached.expires
        assert [h.url for h in back.history] == [h.url for h in cached.history]
        # and our stage reads it back the same way (through the real cattrs stage)
        assert pipeline.loads(row).url == back.url


def _same_response(ours: Any, theirs: Any) -> None:
    assert type(ours) is type(theirs) is CachedResponse
    assert ours == theirs  # attrs' eq: every field, the history and the request included
    assert ours.content == theirs.content and ours.expires == theirs.expires
    assert ours.created_at == theirs.created_at and ours.elapsed == theirs.elapsed
    assert dict(ours.cookies) == dict(theirs.cookies)
    assert list(ours.headers.items()) == list(theirs.headers.items())
    assert (ours.raw.status, ours.raw.reason, ours.raw.request_url) == (
        theirs.raw.status,
        theirs.raw.reason,
        theirs.raw.request_url,
    )
    assert ours.raw.read() == theirs.raw.read()
    assert type(ours.request) is type(theirs.request) and ours.request == theirs.request
    assert (ours.next and ours.next.url) == (theirs.next and theirs.next.url)
    for a, b in zip(ours.history, theirs.history, strict=True):
        _same_response(a, b)


def test_a_row_reads_back_as_the_response_cattrs_builds() -> None:
    for cached in _variants():
        data = _real_dict(cached)
        assert cache_format.CattrStage().dumps(cached) == data
        _same_response(cache_format.structure(data), RealCattrStage().loads(dict(data)))
        _same_response(cache_format.CattrStage().loads(dict(data)), RealCattrStage().loads(data))


def test_a_row_of_another_shape_is_read_by_cattrs() -> None:
    cached = next(iter(_captured()))
    base = _real_dict(cached)
    odd_rows: list[dict[str, Any]] = [
        {**base, "_decoded_content": {"a": 1}},
        {**base, "extra_key": 1},
        {**base, "status_code": "200"},
        {**base, "elapsed": None},
        {**base, "history": [{**base, "url": 5}]},
        {**base, "request": {**base["request"], "body": "text"}},
    ]
    for row in odd_rows:
        with pytest.raises(cache_format._Unknown):
            cache_format.structure(row)
        try:
            theirs: Any = RealCattrStage().loads(dict(row))
        except Exception as exc:  # noqa: BLE001 - then ours must fail the same way
            with pytest.raises(type(exc)):
                cache_format.CattrStage().loads(dict(row))
            continue
        _same_response(cache_format.CattrStage().loads(dict(row)), theirs)


def test_the_pinned_fields_are_the_installed_classes() -> None:
    """Fails when requests-cache changes CachedResponse/CachedRequest: update cache_format
    (KNOWN_* and `unstructure`) after checking the new cattrs output."""
    assert cache_format.declared_fields(CachedResponse) == cache_format.KNOWN_RESPONSE_FIELDS
    assert cache_format.declared_fields(CachedRequest) == cache_format.KNOWN_REQUEST_FIELDS
    assert cache_format.classes_known()


def test_anything_else_goes_through_cattrs(monkeypatch: pytest.MonkeyPatch) -> None:
    cached = next(iter(_captured()))
    # a decoded body (decode_content stages), an odd field type: the real stage answers
    odd = CachedResponse.from_response(cached)
    odd.encoding = 5  # type: ignore[assignment]
    assert not cache_format.writable(odd)
    assert _ours(odd) == _real_dict(odd)
    decoding = cache_format.CattrStage(decode_content=True)
    real_decoding = RealCattrStage(decode_content=True)
    assert decoding.dumps(cached) == real_decoding.dumps(cached)
    assert decoding.dumps({"not": "a response"}) == {"not": "a response"}
    # hooks registered before first use are replayed on the real converter
    hooked = cache_format.CattrStage()
    hooked.converter.register_unstructure_hook(bytes, lambda v: "B")
    assert hooked.dumps(cached)["_content"] == "B"
    # a requests-cache whose classes changed: every dump goes to cattrs
    monkeypatch.setattr(cache_format, "_KNOWN", False)
    assert not cache_format.writable(cached)
    assert _ours(cached) == _real_dict(cached)


PROBE = """
import json, sys
import dockerhub_cli.remote.http_stack as http_stack
import requests_cache
stand_in = sys.modules.get("requests_cache.serializers.cattrs")
out = {"after_import": sorted(m for m in sys.modules if m.split(".")[0] in ("cattrs", "cattr")),
       "stand_in_left": stand_in is not None}
import responses
from dockerhub_cli.config.settings import Settings
settings = Settings.from_env()
with responses.RequestsMock() as mocked:
    mocked.get("https://r.test/v2/", body=b"{}", headers={"Content-Type": "application/json"})
    session = http_stack.build_session(settings, __import__(
        "dockerhub_cli.remote.ratelimit", fromlist=["x"]).HostRateLimiter(1000, 100))
    session.get("https://r.test/v2/", expire_after=60)
out["after_save"] = sorted(m for m in sys.modules if m.split(".")[0] in ("cattrs", "cattr"))
storage = session.cache.responses
with storage.connection() as con:
    key, row = con.execute(f"SELECT key, value FROM {storage.table_name}").fetchone()
read_back = storage[key]
out["after_read"] = sorted(m for m in sys.modules if m.split(".")[0] in ("cattrs", "cattr"))
out["read_back"] = [read_back.status_code, read_back.content.decode(), read_back.is_expired]
session.close()
# an explicit import gets the real module (cattrs with it), and requests-cache's own
# pipeline then writes the same row
from requests_cache.serializers import cattrs as real
from requests_cache.serializers.preconf import pickle_serializer
import pickle
real_row = pickle.dumps(real.CattrStage().dumps(pickle_serializer.loads(row)))
out["real_is_real"] = not getattr(real, "_dockerhub_stand_in", False)
out["same_row"] = real_row == row
out["json_serializer_works"] = isinstance(requests_cache.json_serializer.dumps(
    pickle_serializer.loads(row)), str)
print(json.dumps(out))
"""


def test_a_cold_save_in_a_fresh_process_imports_no_cattrs(tmp_path: Any) -> None:
    env = {
        **__import__("os").environ,
        "DOCKERHUB_CACHE_DIR": str(tmp_path / "cache"),
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {
        "after_import": [],
        "stand_in_left": False,
        "after_save": [],
        "after_read": [],
        "read_back": [200, "{}", False],
        "real_is_real": True,
        "same_row": True,
        "json_serializer_works": True,
    }
