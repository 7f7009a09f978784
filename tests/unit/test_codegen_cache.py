"""codegen_cache.py: generated code and compiled regexes reused from earlier runs.

Each test runs fresh interpreters (pytest has imported dataclasses, re, attrs and most of the
libraries already) with the cache file moved to a temporary directory: a run with an empty
cache, a run that reads what the first wrote, and a run without the cache must behave the
same, and the second must take its code from the cache (if a Python or attrs upgrade means a
hook is no longer reached, `test_every_hook_is_reached` fails; the program still works).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from dockerhub_cli import codegen_cache

ROOT = Path(__file__).resolve().parents[2]

# Run by every child: the cache file at CACHE (argv[1]), installed unless MODE (argv[2]) is
# "off"; the body's `out` and the cache's counters are printed as JSON; bytecode writes are
# allowed only at the end (so that only the cache file is written) unless MODE is "nowrite".
PRELUDE = """
import json, sys
sys.path.insert(0, sys.argv[3])
from dockerhub_cli import codegen_cache
CACHE, MODE = sys.argv[1], sys.argv[2]
codegen_cache.cache_path = lambda: CACHE
if MODE != "off":
    codegen_cache.install()
out = {}
"""
EPILOGUE = """
print(json.dumps({"out": out, "stats": codegen_cache.stats()}, sort_keys=True, default=repr))
sys.stdout.flush()
if MODE != "nowrite":
    sys.dont_write_bytecode = False  # codegen_cache.save() runs at exit
"""


def child(
    body: str, cache: Path, mode: str = "on", *, env: dict[str, str] | None = None, cwd: Path
) -> dict[str, Any]:
    script = PRELUDE + textwrap.dedent(body) + EPILOGUE
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", script, str(cache), mode, str(cwd)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    result["stderr"] = done.stderr
    return result


def entries(cache: Path) -> dict[Any, Any]:
    table = codegen_cache._decode(cache.read_bytes())
    assert table is not None
    return {key: codegen_cache._unpack(key, value) for key, value in table.items()}


CLASSES = """
import dataclasses, enum, typing
from collections import namedtuple
from dataclasses import dataclass, field, KW_ONLY
import attr, attrs

@dataclass
class Plain:
    a: int
    b: str = "b"
    c: list = field(default_factory=list)

@dataclass(frozen=True, order=True)
class Frozen:
    x: int
    y: float = 1.5

@dataclass(slots=True, kw_only=True)
class Slotted:
    p: int
    q: tuple = ()

@dataclass(eq=False, repr=False)
class NoEq:
    n: int = 0

@dataclass(unsafe_hash=True)
class Hashed:
    h: int
    _: KW_ONLY
    k: str = "k"
    i: int = field(default=3, compare=False, repr=False)

@dataclass
class Post:
    a: int
    b: int = field(init=False)
    def __post_init__(self):
        self.b = self.a * 2

@dataclass
class Child(Plain):
    d: dict = field(default_factory=dict)

Made = dataclasses.make_dataclass("Made", [("m", int), ("n", str, field(default="n"))])

@attr.s(auto_attribs=True, frozen=True)
class AttrFrozen:
    a: int
    b: str = "b"

@attrs.define(order=True)
class AttrDefined:
    x: int
    y: list = attrs.Factory(list)

@attrs.define(slots=False, eq=False)
class AttrNoEq:
    z: int = attrs.field(default=1, validator=attrs.validators.instance_of(int))

Point = namedtuple("Point", "x y", defaults=(0,))
Row = namedtuple("Row", ["name", "size", "kind"], rename=True)


def describe():
    import pydantic, annotated_types
    result = []
    def probe(label, thunk):
        try:
            value = thunk()
        except Exception as e:
            value = f"{type(e).__name__}: {e}"
        result.append([label, repr(value)])
    probe("plain", lambda: Plain(1))
    probe("plain-eq", lambda: Plain(1) == Plain(1, "b", []))
    probe("plain-ne", lambda: Plain(1) != Plain(2))
    probe("plain-factory", lambda: Plain(1).c is not Plain(1).c)
    probe("plain-hash", lambda: Plain.__hash__)
    probe("plain-args", lambda: Plain())
    probe("frozen", lambda: Frozen(2))
    probe("frozen-set", lambda: setattr(Frozen(2), "x", 3))
    probe("frozen-order", lambda: sorted([Frozen(3), Frozen(1, 9.0), Frozen(1)]))
    probe("frozen-hash", lambda: hash(Frozen(1)) == hash(Frozen(1)))
    probe("slotted", lambda: Slotted(p=1))
    probe("slotted-pos", lambda: Slotted(1))
    probe("slotted-slots", lambda: Slotted.__slots__)
    probe("slotted-dict", lambda: Slotted(p=1).__dict__)
    probe("noeq", lambda: (NoEq(1) == NoEq(1), "NoEq object" in repr(NoEq())))
    probe("hashed", lambda: (Hashed(1), hash(Hashed(1)) == hash(Hashed(1, k="k", i=9))))
    probe("hashed-kw", lambda: Hashed(1, "k"))
    probe("post", lambda: Post(4))
    probe("child", lambda: Child(1, d={"a": 1}))
    probe("made", lambda: (Made(1), Made(1) == Made(1, "n")))
    probe("fields", lambda: [f.name for f in dataclasses.fields(Hashed)])
    probe("replace", lambda: dataclasses.replace(Frozen(1), y=2.0))
    probe("asdict", lambda: dataclasses.asdict(Child(1)))
    probe("attr-frozen", lambda: (AttrFrozen(1), AttrFrozen(1) == AttrFrozen(1, "b")))
    probe("attr-frozen-set", lambda: setattr(AttrFrozen(1), "a", 2))
    probe("attr-order", lambda: sorted([AttrDefined(2), AttrDefined(1)]))
    probe("attr-factory", lambda: AttrDefined(1).y is not AttrDefined(1).y)
    probe("attr-validator", lambda: AttrNoEq("x"))
    probe("attr-noeq", lambda: AttrNoEq() == AttrNoEq())
    probe("point", lambda: (Point(1), Point(1, 2)._replace(y=5), Point._fields))
    probe("point-args", lambda: Point())
    probe("row", lambda: (Row("a", 1, "k"), Row._make(["b", 2, "j"])._asdict()))

    @pydantic.dataclasses.dataclass(frozen=True)
    class Model:
        size: typing.Annotated[int, annotated_types.Ge(0)]
        name: str = "n"
    probe("pydantic", lambda: Model(size=3))
    probe("pydantic-bad", lambda: Model(size=-1))
    probe("pydantic-coerce", lambda: Model(size="4"))
    probe("annotated", lambda: (annotated_types.Gt(1), annotated_types.Interval(gt=1, lt=3)))
    probe("annotated-eq", lambda: annotated_types.Gt(1) == annotated_types.Gt(1))
    probe("linecache", lambda: AttrFrozen.__init__.__code__.co_filename)
    import linecache, inspect
    probe("attr-source", lambda: inspect.getsource(AttrFrozen.__init__))
    return result
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "cg_classes.py").write_text(CLASSES)
    return tmp_path


def test_every_hook_is_reached_and_classes_behave_the_same(workdir: Path) -> None:
    """The pin test: after a warm-up run, a fresh process takes dataclasses', attrs',
    namedtuple's and re's code from the cache, and every class behaves as without it."""
    cache = workdir / "codegen.bin"
    body = """
    import re
    import cg_classes
    WORD = re.compile(r"(?P<word>[a-z]+)-(?P<n>[0-9]{1,3})", re.IGNORECASE)
    out["describe"] = cg_classes.describe()
    out["regex"] = [m.groupdict() for m in WORD.finditer("ab-1 CD-22 e-333x")]
    """
    off = child(body, cache, "off", cwd=workdir)
    assert not cache.exists()
    first = child(body, cache, cwd=workdir)
    assert cache.exists()
    second = child(body, cache, cwd=workdir)
    assert off["out"] == first["out"] == second["out"]
    assert first["stats"]["added"] > 0 and first["stats"]["misses"] > 0
    stats = second["stats"]
    for hook in ("exec", "eval", "compile", "re"):
        assert stats[f"hits_{hook}"] > 0, (hook, stats)
    assert stats["added"] == 0, stats  # nothing new: the second run writes nothing
    # what was stored is what the builtin compiles from that text
    for key, value in entries(cache).items():
        if key[0] == "c":
            _, filename, mode, flags, source = key
            fresh = compile(source, filename, mode, flags, True)
            assert value == fresh and value.co_filename == fresh.co_filename
            assert value.co_flags == fresh.co_flags
        else:
            _, is_bytes, pattern, flags = key
            assert isinstance(pattern, bytes) == is_bytes
            assert re._compiler._sre.compile(*value) == re._compiler.compile(pattern, flags)


def test_no_cache_without_install(workdir: Path) -> None:
    """The service used as a library is untouched: nothing is hooked unless installed."""
    body = """
    import dataclasses, re, collections
    import dockerhub_cli.service
    import attr._make
    out["hooked"] = [
        "exec" in vars(dataclasses),
        "eval" in vars(collections),
        "compile" in vars(attr._make),
        type(re._compiler._sre).__name__,
    ]
    out["installed"] = bool(codegen_cache._state)
    """
    result = child(body, workdir / "c.bin", "off", cwd=workdir)
    assert result["out"] == {"hooked": [False, False, False, "module"], "installed": False}
    assert not (workdir / "c.bin").exists()


def test_uninstall_restores_the_modules(workdir: Path) -> None:
    body = """
    import dataclasses, re, collections, sys
    import attr._make
    codegen_cache.uninstall()
    real = re._compiler.compile
    codegen_cache.install()  # now with every module already imported
    hooked = ["exec" in vars(dataclasses), "eval" in vars(collections),
              "compile" in vars(attr._make), re._compiler.compile is not real]
    codegen_cache.uninstall()
    out["hooked"] = hooked
    out["after"] = ["exec" in vars(dataclasses), "eval" in vars(collections),
                    "compile" in vars(attr._make), re._compiler.compile is real,
                    type(re._compiler._sre).__name__,
                    any(type(f).__name__ == "_PatchingFinder" for f in sys.meta_path)]
    """
    result = child(body, workdir / "c.bin", cwd=workdir)
    assert result["out"]["hooked"] == [True, True, True, True]
    assert result["out"]["after"] == [False, False, False, True, "module", False]


def _patterns(count: int) -> list[tuple[str | bytes, int]]:
    """Generated patterns: classes, groups (named, non-capturing, lookarounds, back
    references), repeats, anchors, alternations; str and bytes; flags, verbose text."""
    rng = random.Random(19)
    atoms = ["a", "b", "[a-c]", "[^x]", r"\d", r"\w", r"\s", ".", r"\.", "[0-9a-f]", "é", "ß"]
    made: list[tuple[str | bytes, int]] = []

    def piece(depth: int, names: list[str]) -> str:
        choice = rng.randrange(9 if depth < 3 else 3)
        if choice <= 2:
            return rng.choice(atoms) + rng.choice(["", "*", "+", "?", "{1,3}", "*?", "{2}"])
        inner = "".join(piece(depth + 1, names) for _ in range(rng.randrange(1, 4)))
        if choice == 3:
            name = f"g{len(names)}"
            names.append(name)
            return f"(?P<{name}>{inner})"
        if choice == 4:
            return f"(?:{inner}|{piece(depth + 1, names)})"
        if choice == 5:
            return rng.choice(["(?=", "(?!", "(?<=a)(?:", "(?:"]) + inner + ")"
        if choice == 6 and names:
            return f"({inner})(?P={rng.choice(names)})?"
        if choice == 7:
            return rf"\b{inner}\b"
        return f"^{inner}$" if rng.random() < 0.5 else f"({inner})"

    while len(made) < count:
        text = "".join(piece(0, []) for _ in range(rng.randrange(1, 4)))
        flags = rng.choice([0, re.I, re.M, re.S, re.I | re.M, re.A, re.X])
        if flags == re.X:
            text = text.replace("|", " |\n  ") + "  # a comment"
        if rng.random() < 0.3:
            data = text.encode("latin-1", "ignore") if text.isascii() else text.encode()
            bflags = 0 if flags == re.A else flags
            made.append((data, bflags))
        else:
            made.append((text, flags))
    return made


def test_regexes_compile_and_match_the_same(workdir: Path) -> None:
    patterns = _patterns(600)
    samples = ["", "abc", "a.b 12 ff", "Béß aa\nbb", "xxab0ab0", "AbC-ab\tba"]
    (workdir / "cg_patterns.py").write_text(
        "import re\nPATTERNS = [\n"
        + "".join(f"    ({p!r}, {f!r}),\n" for p, f in patterns)
        + "]\nCOMPILED = []\nfor p, f in PATTERNS:\n"
        "    try:\n        COMPILED.append(re.compile(p, f))\n"
        "    except re.error as e:\n        COMPILED.append(str(e))\n"
    )
    body = f"""
    import re, cg_patterns
    samples = {samples!r}
    rows = []
    for p in cg_patterns.COMPILED:
        if isinstance(p, str):
            rows.append(p)
            continue
        texts = [s.encode() if isinstance(p.pattern, bytes) else s for s in samples]
        rows.append([p.pattern, p.flags, p.groups, dict(p.groupindex),
                     [[m.span(), m.groups()] for t in texts for m in p.finditer(t)],
                     [p.sub(type(t)("-", "ascii") if isinstance(t, bytes) else "-", t)
                      for t in texts]])
    out["rows"] = rows
    """
    cache = workdir / "codegen.bin"
    off = child(body, cache, "off", cwd=workdir)
    first = child(body, cache, cwd=workdir)
    second = child(body, cache, cwd=workdir)
    assert off["out"] == first["out"] == second["out"]
    compiled = sum(1 for row in off["out"]["rows"] if not isinstance(row, str))
    assert compiled > 400
    assert second["stats"]["hits_re"] >= compiled * 0.9, second["stats"]
    stored = [key for key in entries(cache) if key[0] == "r"]
    assert any(key[1] for key in stored) and any(not key[1] for key in stored)


def test_runtime_patterns_are_not_stored_and_warnings_stay(workdir: Path) -> None:
    """A pattern built at run time (from input) is never written; one that makes the parser
    warn is compiled, and warns, on every run."""
    body = """
    import re, sys, warnings
    warnings.simplefilter("always")
    built = "".join(["sec", "ret-", sys.argv[2]])  # not a constant of any code
    out["match"] = bool(re.match(built, "secret-onward"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        re.compile("[[a]")
    out["warned"] = [str(w.message) for w in caught]
    out["literal"] = bool(re.search(r"liter(al)+", "literally"))
    """
    cache = workdir / "codegen.bin"
    first = child(body, cache, cwd=workdir)
    second = child(body, cache, cwd=workdir)
    assert first["out"] == second["out"]
    assert second["out"]["warned"] == ["Possible nested set at position 1"]
    patterns = {key[2] for key in entries(cache) if key[0] == "r"}
    assert "liter(al)+" in patterns
    assert "secret-on" not in patterns and "[[a]" not in patterns
    assert second["stats"]["hits_re"] >= 1


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "foreign", "wrong-type", "checksum", "empty", "group-writable"],
)
def test_a_bad_file_is_ignored_and_replaced(workdir: Path, damage: str) -> None:
    body = """
    import cg_classes
    out["describe"] = cg_classes.describe()
    """
    cache = workdir / "codegen.bin"
    good = child(body, cache, cwd=workdir)
    data = cache.read_bytes()
    if damage == "garbage":
        bad = os.urandom(5000)
    elif damage == "truncated":
        bad = data[: len(data) // 2]
    elif damage == "foreign":
        bad = data.replace(sys.version.encode(), b"3.99.0 (other)", 1)
    elif damage == "wrong-type":  # whole entries of another type than their hook's
        table = codegen_cache._decode(data)
        assert table
        bad = codegen_cache.encode({key: codegen_cache._entry(key, 5) for key in table})
    elif damage == "checksum":  # every entry's value damaged
        table = codegen_cache._decode(data)
        assert table
        bad = codegen_cache.encode(
            {key: value[:-1] + bytes([value[-1] ^ 1]) for key, value in table.items()}
        )
    elif damage == "empty":
        bad = b""
    else:
        bad = data
    cache.write_bytes(bad)
    cache.chmod(0o620 if damage == "group-writable" else 0o600)
    again = child(body, cache, cwd=workdir)
    assert again["out"] == good["out"]
    if damage in ("wrong-type", "checksum"):  # read, but no entry used
        assert again["stats"]["rejected"] > 0 and again["stats"]["loaded"] > 0, again["stats"]
    else:
        assert again["stats"]["loaded"] == 0, again["stats"]
    assert again["stats"]["added"] > 0
    if damage != "group-writable":  # replaced by a good one
        assert entries(cache)
        third = child(body, cache, cwd=workdir)
        assert third["stats"]["loaded"] > 0 and third["stats"]["added"] == 0


def test_untrusted_places_are_neither_read_nor_written(workdir: Path) -> None:
    body = """
    import cg_classes
    out["describe"] = cg_classes.describe()
    """
    shared = workdir / "shared"
    shared.mkdir()
    cache = shared / "codegen.bin"
    child(body, cache, cwd=workdir)
    assert cache.exists()
    shared.chmod(0o777)  # a directory others may write to: a file there may be planted
    try:
        before = cache.read_bytes()
        result = child(body, cache, cwd=workdir)
        assert result["stats"]["loaded"] == 0
        cache.unlink()
        child(body, cache, cwd=workdir)
        assert not cache.exists()  # not written there either
        cache.write_bytes(before)
    finally:
        shared.chmod(0o755)
    link = workdir / "link.bin"
    link.symlink_to(cache)
    assert child(body, link, cwd=workdir)["stats"]["loaded"] == 0  # a link is not followed
    assert child(body, cache, cwd=workdir)["stats"]["loaded"] > 0
    if os.getuid() == 0:  # a file of another user
        os.chown(cache, 12345, -1)
        assert child(body, cache, cwd=workdir)["stats"]["loaded"] == 0
        os.chown(cache, 0, -1)


def test_nothing_written_when_bytecode_is_not(workdir: Path) -> None:
    body = """
    import cg_classes
    out["describe"] = cg_classes.describe()
    """
    cache = workdir / "codegen.bin"
    result = child(body, cache, "nowrite", cwd=workdir)
    assert result["stats"]["added"] > 0
    assert not cache.exists()
    assert not [p for p in workdir.iterdir() if "codegen" in p.name]


def test_concurrent_writers_leave_one_whole_file(workdir: Path) -> None:
    """Runs that add different entries at once: the last rename wins, the file is whole."""
    # (Under load the runs may also follow one another: a later one keeps an earlier's.)
    body = """
    import dataclasses, sys
    n = int(sys.argv[4])
    classes = [dataclasses.make_dataclass(f"C{n}_{i}", [(f"f{n}_{i}", int)]) for i in range(40)]
    out["n"] = n
    """
    cache = workdir / "codegen.bin"
    script = PRELUDE + textwrap.dedent(body) + EPILOGUE
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(cache), "on", str(workdir), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            cwd=workdir,
        )
        for n in range(6)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    table = entries(cache)
    assert all(value is not None for value in table.values())  # every entry whole
    per_writer = [
        sum(1 for key in table if key[0] == "c" and key[2] == "exec" and f"f{n}_" in key[4])
        for n in range(6)
    ]
    # Each run wrote what it read plus its own 40 classes' methods: a writer's set is all
    # there (its file, or a later run's that read it) or absent (overwritten), never a part.
    assert len({count for count in per_writer if count}) == 1, per_writer
    assert max(per_writer) >= 40, per_writer
    assert [p.name for p in workdir.iterdir() if p.name.endswith(".tmp")] == []


def test_per_process_attrs_scripts_are_not_stored(workdir: Path) -> None:
    """attrs writes a hash of its class's name (random per process) into a `__hash__`; a
    second run with another hash seed must add nothing, or every run would rewrite the file."""
    body = """
    import requests_cache  # attrs models, with hashes
    import cg_classes
    out["ok"] = True
    """
    cache = workdir / "codegen.bin"
    child(body, cache, cwd=workdir, env={"PYTHONHASHSEED": "random"})
    again = child(body, cache, cwd=workdir, env={"PYTHONHASHSEED": "random"})
    assert again["stats"]["added"] == 0, again["stats"]
    assert again["stats"]["hits_compile"] > 0


def test_the_console_script_installs_it(workdir: Path) -> None:
    body = """
    import io, contextlib
    codegen_cache.uninstall()
    sys.argv = ["dockerhub", "config", "path"]
    from dockerhub_cli import __main__
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            __main__.main()
        except SystemExit as done:
            out["code"] = done.code
    out["installed"] = bool(codegen_cache._state)
    out["printed"] = bool(buffer.getvalue())
    """
    cache = workdir / "codegen.bin"
    child(body, cache, "off", cwd=workdir)
    result = child(body, cache, "off", cwd=workdir)
    assert result["out"] == {"code": 0, "installed": True, "printed": True}
    assert result["stats"]["hits"] > 0


def test_cache_path_is_beside_the_bytecode() -> None:
    path = codegen_cache.cache_path()
    assert path is not None
    assert Path(path).parent == Path(codegen_cache.__cached__).parent
    assert sys.implementation.cache_tag in Path(path).name


def test_may_warn_is_a_superset_of_the_parsers_warnings() -> None:
    import warnings

    rng = random.Random(5)
    alphabet = ["[", "]", "-", "&", "~", "|", "\\", "a", "(?(", "1", ")", "(", "^", "é"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 9)))
        for p in (text, text.encode()):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    re._compiler.compile(p, 0)
                except (re.error, OverflowError, RecursionError):
                    continue
            if caught:
                assert codegen_cache._may_warn(p), (p, [str(w.message) for w in caught])


@pytest.mark.parametrize("broken", ["_lookup", "_from_code", "_load"])
def test_a_failure_inside_the_cache_falls_back_to_the_builtin(workdir: Path, broken: str) -> None:
    """Whatever goes wrong in the cache's own bookkeeping (a bug, a race with another thread,
    a stack without the frames it walks), the hooked exec/eval/compile/re answer as the
    builtins do: the run goes on, only uncached."""
    body = f"""
    def broken(*args, **kwargs):
        raise RuntimeError("cache bookkeeping failed")

    codegen_cache.{broken} = broken
    import re, cg_classes
    out["describe"] = cg_classes.describe()
    out["regex"] = bool(re.match(r"(?P<x>fall)+back", "fallfallback"))
    """
    cache = workdir / "codegen.bin"
    off = child(body, cache, "off", cwd=workdir)
    on = child(body, cache, cwd=workdir)
    assert on["out"] == off["out"]
    assert "cache bookkeeping failed" not in on["stderr"]


def test_nothing_is_encoded_for_a_place_it_cannot_be_written(workdir: Path) -> None:
    """An untrusted (or read-only) directory: the run does not pay for encoding a file it will
    not write (~2 ms for a cold `inspect`'s entries, on every run there)."""
    shared = workdir / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    marker = workdir / "encoded"
    body = f"""
    import cg_classes
    real_encode = codegen_cache.encode

    def encode(table):
        open({str(marker)!r}, "a").close()
        return real_encode(table)

    codegen_cache.encode = encode
    out["describe"] = cg_classes.describe()
    """
    try:
        result = child(body, shared / "codegen.bin", cwd=workdir)
    finally:
        shared.chmod(0o755)
    assert result["stats"]["added"] > 0
    assert not (shared / "codegen.bin").exists()
    assert not marker.exists()


def test_the_directory_checked_is_the_one_the_file_is_read_from(workdir: Path) -> None:
    """No window between the directory's check and the file's open: a directory swapped for
    an untrusted one right after it was checked is not where the file is read from."""
    body = """
    import cg_classes
    out["describe"] = cg_classes.describe()
    """
    trusted = workdir / "trusted"
    trusted.mkdir()
    cache = trusted / "codegen.bin"
    child(body, cache, cwd=workdir)
    whole = len(entries(cache))
    planted = workdir / "planted"
    planted.mkdir()
    table = codegen_cache._decode(cache.read_bytes())
    assert table and whole > 1
    first = next(iter(table))
    (planted / "codegen.bin").write_bytes(codegen_cache.encode({first: table[first]}))
    (planted / "codegen.bin").chmod(0o600)
    planted.chmod(0o777)  # anyone could have put that file there
    swap = f"""
    import os
    real_trusted = codegen_cache._trusted

    def trusted_then_swapped(st):
        answer = real_trusted(st)
        if os.path.exists({str(planted)!r}):  # once, right after the directory's check
            os.rename({str(trusted)!r}, {str(workdir / "moved")!r})
            os.rename({str(planted)!r}, {str(trusted)!r})
        return answer

    codegen_cache._trusted = trusted_then_swapped
    """
    try:
        result = child(swap + body, cache, "nowrite", cwd=workdir)
    finally:
        trusted.chmod(0o755)
    assert result["stats"]["loaded"] in (0, whole), result["stats"]  # never the planted one
