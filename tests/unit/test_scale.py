"""Scale and cold-start costs (issue 19, goals 2 and 4): what a 50,000-tag listing does per row,
written in pieces, and what the transport does not import.

The timings and memory figures themselves come from `benchmarks/run.py --only issue`; these
tests pin the behaviour those figures rely on (same output, same safety), without timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dockerhub_cli import advice, render, result_cache
from dockerhub_cli.models.core import SearchResults, Tag, TagList
from dockerhub_cli.ops.tags import names_only_tags

HOSTILE = 't\u202e"\\\x1b[31m[bold]x[/bold]\x7f\u00e9\U0001f600'


def _tag_list(n: int) -> TagList:
    tags = [
        Tag(
            name=f"{HOSTILE}{i}",
            digest="sha256:" + f"{i:064x}",
            platforms=["linux/amd64", "linux/arm64/v8"],
            size=i,
            last_updated=datetime(2024, 1, 1, 12, 0, i % 60, tzinfo=UTC),
        )
        for i in range(n)
    ]
    return TagList(repository="team/app", count=n, tags=tags, source="hub", notes=["n \ue000x"])


@pytest.mark.parametrize("n", [0, 3, render.STREAM_ROWS + 1, 2 * render._CHUNK_ROWS + 7])
def test_json_in_pieces_is_the_same_text(n: int) -> None:
    model = _tag_list(n)
    pieces = list(render.json_chunks(model))
    assert "".join(pieces) == model.model_dump_json(indent=2)
    if n > render.STREAM_ROWS:  # really in pieces, none of them the whole document
        assert len(pieces) >= 3
        assert max(len(p) for p in pieces) < len(model.model_dump_json(indent=2)) * 0.6
    else:
        assert len(pieces) == 1


def test_emit_json_of_many_rows_parses_back_and_stays_escaped(capsys) -> None:
    model = _tag_list(render.STREAM_ROWS + 5)
    render.emit(model, json_output=True, render=lambda m, c: None)
    out = capsys.readouterr().out
    assert out.endswith("}\n") and "\u202e" not in out and "\x7f" not in out
    assert json.loads(out) == json.loads(model.model_dump_json())


def test_word_model_skips_rows_that_cannot_hold_advice() -> None:
    model = _tag_list(3)
    worded = advice.word_model(model, lambda s: s.replace("\ue000", "<>"))
    assert worded.notes == ["n <>x"]
    assert worded.tags is model.tags  # the rows were not copied, nor walked one by one
    assert advice._cannot_hold_advice(Tag)
    assert not advice._cannot_hold_advice(TagList)  # it has notes
    assert not advice._cannot_hold_advice(SearchResults)  # rows of a model with notes


def test_word_model_still_words_advice_nested_in_rows() -> None:
    from pydantic import BaseModel

    class Row(BaseModel):
        name: str
        reason: str | None = None

    class Rows(BaseModel):
        rows: list[Row]

    model = Rows(rows=[Row(name="a"), Row(name="b", reason="use \ue000x")])
    worded = advice.word_model(model, lambda s: s.replace("\ue000", "<>"))
    assert [r.reason for r in worded.rows] == [None, "use <>x"]


def test_tag_list_renderer_gets_the_raw_model_and_shows_names_safely(capsys) -> None:
    from dockerhub_cli import commands

    renderer = commands.resolve(commands.get("tags").render or "")
    assert getattr(renderer, "takes_raw_model", False)
    model = _tag_list(2)
    render.emit(model, json_output=False, render=renderer)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x7f" not in out
    # shown as written: a `[` is neither markup nor a markup escape
    assert "[bold]x[/bold]" in out and "\\[" not in out
    assert "\\x1b" in out and "\\u202e" in out


def test_names_only_tags_share_one_fields_set_and_copy_it_on_change() -> None:
    tags = names_only_tags(["a", "b"])
    assert [t.name for t in tags] == ["a", "b"]
    assert tags[0].digest is None and tags[0].platforms is None
    assert tags[0].model_fields_set is tags[1].model_fields_set == {"name"}
    changed = tags[0].model_copy(update={"digest": "sha256:x"})
    assert changed.model_fields_set == {"name", "digest"}
    assert tags[1].model_fields_set == {"name"}
    assert TagList(repository="r", tags=tags, source="registry").model_dump()["tags"][1] == {
        **Tag(name="b").model_dump()
    }


def test_a_result_saved_in_pieces_replays_whole(isolated_env: Path, capsys) -> None:
    import time

    plan = result_cache.plan(["tags", "nginx", "--all"], dict(os.environ))
    assert plan is not None
    pieces = [HOSTILE, "\n", '{"a": "\\u0000"}', "\U0001f600" * 3, ""]
    assert plan.store(pieces, time.time() + 60, "warning: w\n", 0)
    with open(plan.path, encoding="utf-8") as fh:
        assert json.load(fh)["stdout"] == "".join(pieces)
    assert plan.serve()
    captured = capsys.readouterr()
    assert captured.out == "".join(pieces) and captured.err == "warning: w\n"


def test_the_transport_does_not_import_unused_cache_backends() -> None:
    code = (
        "import sys, dockerhub_cli.remote.transport\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('redis', 'yaml', 'pymongo',"
        " 'boto3', 'bson', 'ujson', 'orjson') or m.startswith('requests_cache.backends.')"
        " and m.rsplit('.', 1)[1] not in ('base', 'sqlite')]\n"
        "print(bad)\n"
        # the backend the settings name is still imported when asked for, and works
        "from requests_cache.backends.redis import RedisCache\n"
        "try:\n"
        "    import yaml\n"
        "except ImportError:\n"
        "    loaded = {'a': 1}\n"
        "else:\n"
        "    loaded = yaml.safe_load('a: 1')\n"
        "print(RedisCache.__module__, loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1] == "requests_cache.backends.redis {'a': 1}"


def test_a_re_pushed_tag_is_seen_once_its_documented_ttl_has_run_out(isolated_env) -> None:
    """Warm runs answer from the cache for the tag's lifetime (`[cache.ttls] manifest_by_tag`,
    an hour by default), and see the new image as soon as that lifetime is over: one HEAD finds
    the new digest, one GET fetches it."""
    import responses

    from dockerhub_cli.config.settings import DEFAULT_TTLS, Settings
    from dockerhub_cli.service import DockerHubService
    from tests.support.cache import age_cache
    from tests.unit import registry_fixtures as fx

    ref = "registry.example.com/team/app:1.0"
    assert DEFAULT_TTLS["manifest_by_tag"] == 3600  # what README and docs/performance.md say
    settings = Settings.from_env(backoff_factor=0.0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        reg = fx.FakeRegistry(rsps, "https://registry.example.com", "team/app")
        reg.gitea("1.0")
        with DockerHubService(settings) as svc:
            first = svc.inspect(ref).digest
        # re-pushed: the tag now names another manifest (same config, different bytes)
        body = fx.GITEA_MANIFEST + b"\n"
        new = fx.sha256(body)
        for method in (responses.HEAD, responses.GET):
            rsps.remove(method, reg.url("manifests/1.0"))
        reg.manifest(body, fx.DOCKER_MANIFEST, tags=("1.0",))
        with DockerHubService(settings) as svc:  # within the TTL: the cached answer
            assert svc.inspect(ref).digest == first != new
            assert svc.transport.network_requests == 0
        assert age_cache(settings) >= 1  # the tag's lifetime has run out
        with DockerHubService(settings) as svc:
            assert svc.inspect(ref).digest == new
            assert svc.transport.network_requests == 2  # HEAD (digest moved), GET


def test_the_collector_is_back_on_once_the_service_exists(monkeypatch) -> None:
    """The console script runs start-up with the garbage collector off (`__main__`); building
    the service turns it back on, so a long-running command collects as usual."""
    import gc
    import importlib

    cli_app = importlib.import_module("dockerhub_cli.cli.app")  # the module, not the Typer app
    monkeypatch.setattr(cli_app._run, "service", None)
    gc.disable()
    try:
        service = cli_app.get_service()
        assert gc.isenabled()
        service.close()
        # also when building the service fails (serve-mcp builds it in the background and
        # keeps serving)
        monkeypatch.setattr(cli_app._run, "service", None)
        monkeypatch.setattr(cli_app._run, "no_cache", True)
        monkeypatch.setattr(cli_app._run, "offline", True)
        gc.disable()
        with pytest.raises(Exception, match="cannot be used together"):
            cli_app.get_service()
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_long_captured_output_spills_to_a_file_and_comes_back_whole(monkeypatch) -> None:
    monkeypatch.setattr(result_cache, "SPILL_CHARS", 10)
    capture = result_cache.Capture()
    written = ["abc", "\n", HOSTILE, "\ud800 lone", "x" * 25, "\r\n", "end"]
    for piece in written:
        capture.record("stdout", piece)
    assert capture.stdout == []  # not held in memory any more
    assert capture.text == "".join(written)
    capture.record("stdout", "more")  # goes on at the end after a read
    assert "".join(capture.pieces()) == "".join(written) + "more"
    assert all(len(p) <= 10 for p in capture.pieces())
    capture.close()


def test_one_watchdog_thread_aborts_overdue_connections_only(monkeypatch) -> None:
    """The request deadline while waiting for headers: one thread for every request (it was a
    Timer thread each). An overdue connection is shut down; a cancelled one never is."""
    import threading

    from dockerhub_cli.remote import http_stack

    aborted: list[str] = []
    done = threading.Event()

    def abort(connection: str) -> None:
        aborted.append(connection)
        if connection == "overdue":
            done.set()

    monkeypatch.setattr(http_stack, "_abort", abort)
    dog = http_stack._Watchdog()
    later = dog.watch(3600, "later")
    with dog._cond:  # the thread cannot look before it is cancelled
        cancelled = dog.watch(0, "cancelled")
        cancelled[3] = None  # what getresponse does when the answer came in time
    first_thread = dog._thread
    dog.watch(0, "overdue")
    assert done.wait(30)
    assert aborted == ["overdue"] and dog._thread is first_thread
    with dog._cond:
        assert [e[3] for e in dog._heap] == ["later"] and later in dog._heap
