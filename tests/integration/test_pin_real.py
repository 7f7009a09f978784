"""`pin`, `watch` and `tags --same-as` against a real CNCF distribution registry.

The expected digests are skopeo's (sha256 of `skopeo inspect --raw`, and `--format
'{{.Digest}}'`), never our own code's; moving a tag is a real push.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.oci_build import ImageSpec, Layer, Step
from tests.support.pinning import (
    skopeo_digest,
    skopeo_format_digest,
    unpin,
    write_all,
)
from tests.support.standard_images import base_spec


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["dockerhub", *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


def _push_pair(image_pusher) -> tuple[str, str]:
    """A two-platform index and a single image, pushed under this test's namespace."""
    multi = image_pusher.repo("multi") + ":1.0"
    single = image_pusher.repo("single") + ":2.1"
    image_pusher.push_index(multi, [base_spec("amd64"), base_spec("arm64")])
    image_pusher.push_image(single, base_spec("amd64", revision="2"))
    return image_pusher.ref(multi), image_pusher.ref(single)


def test_pin_every_kind_to_skopeo_digests(registry, image_pusher, tmp_path: Path) -> None:
    multi, single = _push_pair(image_pusher)
    d_multi, d_single = skopeo_digest(multi), skopeo_digest(single)
    assert skopeo_format_digest(multi) == d_multi  # the index digest, not a platform's
    files = write_all(tmp_path, multi, single)
    originals = {k: p.read_bytes() for k, p in files.items()}

    mark = registry.log_mark()
    done = _run("pin", *map(str, files.values()), "--json")
    assert done.returncode == 0, done.stderr
    # 15 references, 2 distinct tags: one HEAD each (free against pull limits), nothing else
    log = registry.requests_since(mark)
    assert sorted((e.method, e.path.rsplit("/", 1)[-1]) for e in log) == [
        ("HEAD", "1.0"),
        ("HEAD", "2.1"),
    ], log
    report = json.loads(done.stdout)
    expected = {multi: f"{multi}@{d_multi}", single: f"{single}@{d_single}"}
    by_status: dict[str, int] = {}
    for ref in report["references"]:
        by_status[ref["status"]] = by_status.get(ref["status"], 0) + 1
        if ref["status"] == "pinned":
            assert ref["new"] == expected[ref["old"]]
            assert ref["digest"] in (d_multi, d_single)
    # Dockerfile: build, ARG BASE, the continued FROM pinned; the stage and scratch skipped.
    assert by_status == {"pinned": 3 + 2 + 4 + 4, "skipped": 2}, report["references"]
    assert report["unresolved"] == 0 and report["written"] is True
    assert sorted(report["changed_files"]) == sorted(map(str, files.values()))
    lines = {(Path(r["file"]).name, r["line"]) for r in report["references"]}
    assert ("Dockerfile", 2) in lines and ("Dockerfile", 12) in lines  # ARG line; continuation

    for kind, path in files.items():
        new = path.read_bytes()
        assert new != originals[kind]
        # Byte for byte: undoing exactly the reference rewrites gives the original back.
        undo = {new_ref: old_ref for old_ref, new_ref in expected.items()}
        assert unpin(new.decode(), undo).encode() == originals[kind], kind
        assert new.decode().count("@sha256:") == sum(
            1 for r in report["references"] if r["file"] == str(path) and r["status"] == "pinned"
        )

    # Idempotent: a second run changes nothing, and --check agrees.
    again = _run("pin", *map(str, files.values()), "--json")
    assert again.returncode == 0
    statuses = {r["status"] for r in json.loads(again.stdout)["references"]}
    assert statuses == {"ok", "skipped"}
    assert {k: p.read_bytes() for k, p in files.items()} != originals
    check = _run("pin", "--check", *map(str, files.values()))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == ""


def test_check_fails_with_the_diff_after_the_tag_moves(image_pusher, tmp_path: Path) -> None:
    multi, single = _push_pair(image_pusher)
    files = write_all(tmp_path, multi, single)
    assert _run("pin", *map(str, files.values())).returncode == 0
    pinned = {k: p.read_bytes() for k, p in files.items()}
    old = skopeo_digest(single)

    # The tag moves: a new image is pushed under the same name.
    image_pusher.push_image(
        image_pusher.repo("single") + ":2.1",
        ImageSpec(steps=[Layer({"etc/new": "3"}), Step("CMD sh")], cmd=["sh"]),
    )
    new = skopeo_digest(single)
    assert new != old

    check = _run("pin", "--check", *map(str, files.values()))
    assert check.returncode == 8, check.stderr
    assert f"-ARG BASE={single}@{old}" in check.stdout
    assert f"+ARG BASE={single}@{new}" in check.stdout
    assert f"+++ b/{str(files['compose']).lstrip('/')}" in check.stdout
    assert {k: p.read_bytes() for k, p in files.items()} == pinned  # --check writes nothing

    dry = _run("pin", "--dry-run", "--json", str(files["kubernetes"]))
    assert dry.returncode == 0
    body = json.loads(dry.stdout)
    assert body["written"] is False and f'+            image: "{single}@{new}"' in body["diff"]
    stale = [r for r in body["references"] if r["status"] == "updated"]
    assert [r["digest"] for r in stale] == [new, new]

    assert _run("pin", *map(str, files.values())).returncode == 0
    for kind, path in files.items():
        assert path.read_bytes() == pinned[kind].replace(old.encode(), new.encode()), kind
    assert _run("pin", "--check", *map(str, files.values())).returncode == 0


def test_pin_platform_pins_that_platforms_manifest(image_pusher, tmp_path: Path) -> None:
    multi, _ = _push_pair(image_pusher)
    index = json.loads(
        subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{multi}"],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout
    )  # fmt: skip
    arm = next(m["digest"] for m in index["manifests"] if m["platform"]["architecture"] == "arm64")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {multi}\n")
    done = _run("pin", str(dockerfile), "--platform", "linux/arm64", "--json")
    assert done.returncode == 0, done.stderr
    assert dockerfile.read_text() == f"FROM {multi}@{arm}\n"


def test_unresolvable_references_are_listed_and_nothing_else_changes(
    image_pusher, tmp_path: Path
) -> None:
    multi, _ = _push_pair(image_pusher)
    missing = image_pusher.ref(image_pusher.repo("multi") + ":9.9")
    text = f"ARG V=1\nFROM {missing}\nFROM python:${{V}}-slim\nFROM {multi}\n"
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(text)
    done = _run("pin", str(dockerfile), "--json")
    assert done.returncode == 0, done.stderr
    refs = json.loads(done.stdout)["references"]
    assert [r["status"] for r in refs] == ["unresolved", "unresolved", "pinned"]
    assert "not found" in refs[0]["reason"] and "ARG V" in refs[1]["reason"]
    assert dockerfile.read_text() == text.replace(multi, f"{multi}@{skopeo_digest(multi)}")
    check = _run("pin", "--check", str(dockerfile))
    assert check.returncode == 8  # a tag that cannot be looked up fails the check
    assert "not found" in check.stderr
    # ... a reference written with a variable is reported but does not fail it
    dockerfile.write_text(dockerfile.read_text().replace(f"FROM {missing}\n", ""))
    assert _run("pin", "--check", str(dockerfile)).returncode == 0


def test_watch_reports_a_moved_tag_once(image_pusher, tmp_path: Path) -> None:
    multi, single = _push_pair(image_pusher)
    compose = tmp_path / "compose.yaml"
    compose.write_text(f"services:\n  a:\n    image: {single}\n  b:\n    image: {multi}\n")
    first = _run("watch", str(compose), "--check", "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    assert {r["status"] for r in json.loads(first.stdout)["references"]} == {"new"}
    assert _run("watch", str(compose), "--check").returncode == 0

    old = skopeo_digest(single)
    image_pusher.push_image(image_pusher.repo("single") + ":2.1", base_spec(revision="9"))
    moved = _run("watch", str(compose), "--check", "--json")
    assert moved.returncode == 8
    rows = {r["reference"]: r for r in json.loads(moved.stdout)["references"]}
    key = single.replace(":2.1", ":2.1")
    assert rows[key]["status"] == "moved" and rows[key]["previous"] == old
    assert rows[key]["current"] == skopeo_digest(single)
    assert _run("watch", str(compose), "--check").returncode == 0  # reported once


def test_watch_pinned_reference_and_newer_family_tag(image_pusher) -> None:
    repo = image_pusher.repo("fam")
    image_pusher.push_image(repo + ":1.2.3", base_spec(revision="a"))
    digest = skopeo_digest(image_pusher.ref(repo + ":1.2.3"))
    pinned = f"{image_pusher.ref(repo + ':1.2.3')}@{digest}"
    assert _run("watch", pinned, "--check").returncode == 0
    image_pusher.push_image(repo + ":1.2.4", base_spec(revision="b"))
    image_pusher.push_image(repo + ":1.3", base_spec(revision="c"))  # other precision
    done = _run("watch", pinned, "--check", "--json")
    assert done.returncode == 8
    (row,) = json.loads(done.stdout)["references"]
    assert row["status"] == "newer" and row["newer_tags"] == ["1.2.4"] and not row["moved"]


def test_same_as_on_an_index_rebuilt_with_the_same_platform_manifests(registry, image_pusher):
    repo = image_pusher.repo("same")
    specs = [base_spec("amd64"), base_spec("arm64")]
    first = image_pusher.push_index(repo + ":1.0", specs)
    rebuilt = image_pusher.push_index(repo + ":latest", specs, annotations={"rebuilt": "yes"})
    image_pusher.push_index(repo + ":1", specs)  # the very same index
    image_pusher.push_index(repo + ":1.0-docker", specs, fmt="v2s2")  # converted manifests
    image_pusher.push_image(repo + ":other", base_spec(revision="x"))
    assert rebuilt.digest != first.digest
    assert [c.digest for c in rebuilt.children] == [c.digest for c in first.children]

    done = _run("tags", image_pusher.ref(repo), "--same-as", "latest", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["digest"] == skopeo_digest(image_pusher.ref(repo + ":latest"))
    matched = {t["name"]: t["matched_by"] for t in body["tags"]}
    assert matched == {"1": "manifests", "1.0": "manifests", "1.0-docker": "configs"}
    assert body["checked"] == 5 and body["complete"] is True and body["source"] == "registry"

    by_index = json.loads(_run("tags", image_pusher.ref(repo), "--same-as", "1.0", "--json").stdout)
    assert {t["name"]: t["matched_by"] for t in by_index["tags"]} == {
        "1": "index",
        "latest": "manifests",
        "1.0-docker": "configs",
    }


def test_upgrade_on_real_images(registry) -> None:
    one, two = registry.seeded["demo/app:1.0"], registry.seeded["demo/app:1.1"]
    extra = [x for x in two.layers if x["digest"] not in one.layer_digests]
    done = _run("upgrade", registry.ref("demo/app:1.0"), "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["family"] == "N.N" and body["newer_tags"] == ["2.0", "1.1"]
    by_tag = {c["tag"]: c for c in body["candidates"]}
    assert by_tag["1.1"]["download_size"] == sum(x["size"] for x in extra)  # as size --have
    assert by_tag["1.1"]["digest"] == two.digest and by_tag["1.1"]["config_changes"] == []
    changes = by_tag["2.0"]["config_changes"]
    assert [(c["field"], c["breaking"]) for c in changes] == [("env", False)]
    assert by_tag["2.0"]["vulnerabilities"]["checked"] is False

    many = json.loads(
        _run("upgrade", registry.ref("demo/many:1.2.12-alpine"), "--limit", "2", "--json").stdout
    )
    assert many["newer_tags"] == [f"1.2.{p}-alpine" for p in range(19, 12, -1)]
    assert [c["tag"] for c in many["candidates"]] == ["1.2.19-alpine", "1.2.18-alpine"]
    assert any("examined the 2 newest of 7" in n for n in many["notes"])
