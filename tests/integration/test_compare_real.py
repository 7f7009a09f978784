"""`compare` and `updates` against a real CNCF distribution registry.

Expected digests and sizes come from what the harness read back from the registry
(`registry.seeded`) or from the images the test pushed itself; request counts come from the
registry's own access log.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dockerhub_cli import advice
from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.service import DockerHubService
from tests.support.oci_build import ImageSpec, Layer, Step
from tests.support.standard_images import base_spec, based_spec

runner = CliRunner()


def _service(**overrides: object) -> DockerHubService:
    return DockerHubService(Settings.from_env(**overrides))


# -- compare --


def test_compare_images_sharing_a_base(registry) -> None:
    one, two = registry.seeded["demo/app:1.0"], registry.seeded["demo/app:1.1"]
    extra = [d for d in two.layer_digests if d not in one.layer_digests]
    assert len(extra) == 1  # the fixture: 1.1 = 1.0 + one layer
    extra_size = next(x["size"] for x in two.layers if x["digest"] == extra[0])
    mark = registry.log_mark()
    with _service() as svc:
        r = svc.compare(registry.ref("demo/app:1.0"), registry.ref("demo/app:1.1"))
        cold = svc.transport.network_requests
        log = registry.requests_since(mark)
        warm_mark = registry.log_mark()
        again = svc.compare(registry.ref("demo/app:1.0"), registry.ref("demo/app:1.1"))
        assert svc.transport.network_requests == cold  # warm: no request at all
    assert registry.requests_since(warm_mark) == []
    # cold: per side GET manifest by tag (the digest comes with it), GET config blob
    assert cold == len(log) == 4, log
    assert sorted(e.method for e in log) == ["GET"] * 4
    assert again == r

    assert r.left.digest == one.digest and r.right.digest == two.digest
    assert (r.left.size, r.right.size) == (one.compressed_size, two.compressed_size)
    assert r.shared_layers == one.layer_digests
    assert r.only_left == [] and r.only_right == extra
    assert r.common_prefix_layers == len(one.layer_digests)
    assert r.common_prefix_size == one.compressed_size
    assert r.pull_adds == extra_size == r.size_delta
    assert r.size_delta_percent == round(extra_size / one.compressed_size * 100, 2)
    assert [row.status for row in r.layers] == ["base", "base", "only_right"]
    assert [s.created_by for s in r.history_diff.only_right] == ["RUN make extra # buildkit"]
    assert r.history_diff.only_left == []
    assert r.config_diff.env.added == r.config_diff.env.removed == {}
    assert not r.config_diff.cmd.changed and r.config_diff.platforms is None


def test_compare_config_changes(registry) -> None:
    with _service() as svc:
        r = svc.compare(registry.ref("demo/app:1.0"), registry.ref("demo/app:2.0"))
    d = r.config_diff
    assert d.env.changed["APP"].model_dump() == {"left": "1", "right": "2"}
    assert d.labels.added == {"version": "2.0", "org.opencontainers.image.version": "2.0"}
    assert not d.user.changed and d.user.left == "1000"
    assert [s.created_by for s in r.history_diff.only_right] == [
        "RUN make extra # buildkit",
        "ENV APP=2",
        "LABEL version=2.0 org.opencontainers.image.version=2.0",
    ]


def test_compare_index_platform_sets_and_cli_json(registry) -> None:
    result = runner.invoke(
        app,
        [
            "compare",
            registry.ref("demo/multi:1.0"),
            registry.ref("demo/app:1.0"),
            "--platform",
            "linux/amd64",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"reference", "digest", "size", "layer_count"} <= set(data["left"])
    assert data["config_diff"]["platforms"] == {
        "left": ["linux/amd64", "linux/arm64/v8"],
        "right": ["linux/amd64"],
        "common": ["linux/amd64"],
        "only_left": ["linux/arm64/v8"],
        "only_right": [],
    }
    # multi's amd64 image IS app:1.0
    assert data["left"]["digest"] == registry.seeded.digest("demo/app:1.0")
    assert data["only_left"] == data["only_right"] == [] and data["size_delta"] == 0


def test_compare_missing_tag_exit_code(registry) -> None:
    result = runner.invoke(
        app, ["compare", registry.ref("demo/app:1.0"), registry.ref("demo/app:nope")]
    )
    assert result.exit_code == 3
    assert "tag 'nope' not found" in result.stderr


# -- updates: the base --


def test_updates_base_from_annotations_is_current(registry) -> None:
    based = registry.seeded["demo/based:1.0"]
    base = registry.seeded["demo/base:3.19"]
    with _service() as svc:
        r = svc.updates(registry.ref("demo/based:1.0"))
    assert r.base is not None and r.base.source == "annotation"
    assert r.base.reference == registry.ref("demo/base:3.19")
    assert r.base.digest_at_build == base.digest == r.base.current_digest
    assert r.base_outdated is False and r.verdict.startswith("up to date")
    assert r.evidence is not None and r.evidence.base_is_prefix
    assert r.evidence.shared_prefix_layers == len(base.layer_digests) == 1
    assert r.digest == based.digest
    assert r.newer_tags == []  # demo/based has only 1.0


def test_updates_rebuilt_base(image_pusher) -> None:
    p = image_pusher
    base_name = p.repo("base") + ":3.19"
    base_v1 = p.push_image(base_name, base_spec(revision="1"))
    p.push_image(p.repo("app") + ":1.0", based_spec(p.ref(base_name), base_v1.digest))
    app_ref = p.ref(p.repo("app") + ":1.0")
    with _service() as svc:
        before = svc.updates(app_ref)
    assert before.base_outdated is False, before.reason

    base_v2 = p.push_image(base_name, base_spec(revision="2"))  # rebuilt: new digest, same tag
    assert base_v2.digest != base_v1.digest
    with _service(no_cache=True) as svc:
        after = svc.updates(app_ref)
    assert after.base_outdated is True, after.reason
    assert after.base is not None
    assert after.base.digest_at_build == base_v1.digest
    assert after.base.current_digest == base_v2.digest
    assert after.evidence is not None and not after.evidence.base_is_prefix
    assert (after.evidence.shared_prefix_layers, after.evidence.base_layer_count) == (1, 2)
    assert after.verdict.startswith("outdated")

    result = runner.invoke(app, ["updates", app_ref, "--no-cache", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["base_outdated"] is True
    assert data["base"]["digest_at_build"] == base_v1.digest
    assert data["base"]["current_digest"] == base_v2.digest
    assert isinstance(data["newer_tags"], list)


def test_updates_with_user_base_and_unknowable(registry, image_pusher) -> None:
    with _service() as svc:
        # 1.1 is 1.0 plus a layer: judged by layers alone, 1.0 is its current base
        r = svc.updates(registry.ref("demo/app:1.1"), base=registry.ref("demo/app:1.0"))
        assert r.base is not None and r.base.source == "user" and r.base.digest_at_build is None
        assert r.base_outdated is False and r.evidence and r.evidence.base_is_prefix
        # no shared leading layer: cannot tell a wrong base from a base rebuilt from scratch
        r = svc.updates(registry.ref("demo/app:1.0"), base=registry.ref("demo/base:3.19"))
        assert r.base_outdated is None and "shares no leading layer" in r.reason
        # nothing recorded, nothing given
        r = svc.updates(registry.ref("demo/app:1.0"))
        assert r.base is None and r.base_outdated is None and r.reason
        assert ("param", "base", "IMAGE") in advice.references(r.reason)  # a front-end words it
    # a base that shares some but not all leading layers: the base moved (judged by layers)
    p = image_pusher
    p.push_image(
        p.repo("b") + ":1",
        ImageSpec(steps=[Layer({"a": "1"}), Layer({"b": "1"})]),
    )
    p.push_image(
        p.repo("img") + ":1",
        ImageSpec(steps=[Layer({"a": "1"}), Layer({"b": "1"}), Layer({"c": "1"}), Step("ENV X=1")]),
    )
    p.push_image(p.repo("b") + ":1", ImageSpec(steps=[Layer({"a": "1"}), Layer({"b": "2"})]))
    with _service() as svc:
        r = svc.updates(p.ref(p.repo("img") + ":1"), base=p.ref(p.repo("b") + ":1"))
    assert r.base_outdated is True and "judged by layers" in r.reason
    assert r.evidence is not None and r.evidence.shared_prefix_layers == 1


# -- updates: tag families --


def test_updates_tag_families_with_suffixes(registry) -> None:
    with _service() as svc:
        alpine = svc.updates(registry.ref("demo/many:1.2.15-alpine"))
        plain = svc.updates(registry.ref("demo/many:1.1.5"))
        slim = svc.updates(registry.ref("demo/many:1.2.19-slim"))
        latest = svc.updates(registry.ref("demo/many:latest"))
    assert alpine.newer_tags == [f"1.2.{n}-alpine" for n in (19, 18, 17, 16)]
    assert alpine.newer_tags_total == 4 and alpine.tags_complete
    # 1.1.6 .. 1.1.19 and 1.2.0 .. 1.2.19 are newer; never -alpine/-slim or the 1.2 alias
    assert plain.newer_tags_total == 14 + 20
    assert plain.newer_tags == [f"1.2.{n}" for n in range(19, 9, -1)]
    assert slim.newer_tags == [] and slim.newer_tags_total == 0
    assert latest.newer_tags == [] and any("not a version" in n for n in latest.notes)
