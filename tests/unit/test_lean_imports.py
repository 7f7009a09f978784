"""lean_imports.py: the network stack and the models import without the parts a run does not use,
and every trimmed name still reaches the real function.

These run in a fresh interpreter (pytest itself has imported most of these modules). If an
upgrade of requests, urllib3, requests-cache or pydantic imports one of them some other way,
the first test fails: the trim no longer works (the program does, only slower).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dockerhub_cli import lean_imports, paths

TRIMMED = (
    "charset_normalizer",
    "chardet",
    "importlib.metadata",
    "platformdirs",
    *lean_imports.UNUSED_CACHE_MODULES,
    # lean_imports' own finder and loader are plain classes (importlib.abc would import
    # importlib.resources and tempfile, which a run without requests does not need)
    "importlib.abc",
)

PROBE = """
import json, os, sys, warnings
warnings.simplefilter("error")  # requests' missing-detector warning must not show
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
import dockerhub_cli.service  # hub, registry, transport: requests, urllib3, requests-cache
from dockerhub_cli.models.images import ImageInspection
ImageInspection.model_json_schema()  # a schema build: pydantic's plugin hook runs
trimmed = json.loads(sys.argv[1])
loaded = sorted(m for m in trimmed if sys.modules.get(m) is not None)
out = {"loaded": loaded}

import requests, urllib3.http2, requests_cache.backends.sqlite as rc_sqlite
import pydantic.plugin._loader as plugin_loader
body = "Ceci est un texte en français, avec des accents: é, è, à, ç.".encode("cp1252")
response = requests.models.Response()
response._content = body
response.headers["Content-Type"] = "text/plain"
out["apparent"] = response.apparent_encoding
out["text"] = response.text
out["plugins"] = list(plugin_loader.get_plugins())
out["urllib3_version"] = urllib3.http2.version("urllib3")
out["cache_dir"] = rc_sqlite.user_cache_dir("probe")
out["after"] = sorted(m for m in ("charset_normalizer", "importlib.metadata", "platformdirs")
                      if m in sys.modules)

import charset_normalizer, importlib.metadata, platformdirs
out["apparent_real"] = charset_normalizer.detect(body)["encoding"]
out["text_real"] = str(body, out["apparent_real"])
out["urllib3_real"] = urllib3.__version__
out["cache_dir_real"] = platformdirs.user_cache_dir("probe")
out["metadata_is_real"] = type(sys.modules["importlib.metadata"]).__name__ == "module"
out["entry_points"] = len(plugin_loader.entry_points(group="console_scripts")) > 0
print(json.dumps(out))
"""


def _probe() -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKERHUB_", "PYDANTIC_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(TRIMMED)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def probe() -> dict[str, object]:
    return _probe()


def test_the_network_stack_and_the_models_load_none_of_the_trimmed_modules(probe) -> None:
    assert probe["loaded"] == []


def test_each_stand_in_reaches_the_real_function(probe) -> None:
    # requests' charset guess: the real library's answer, imported on first use
    assert probe["apparent"] == probe["apparent_real"]
    assert probe["text"] == probe["text_real"]
    assert probe["after"] == ["charset_normalizer", "importlib.metadata", "platformdirs"]
    # urllib3's h2 check and requests-cache's use_cache_dir call the real functions
    assert probe["urllib3_version"] == probe["urllib3_real"]
    assert probe["cache_dir"] == probe["cache_dir_real"]
    # pydantic's plugin scan stays off, and its entry_points() works when asked
    assert probe["plugins"] == []
    assert probe["entry_points"] is True
    # a later plain import gets the real module, not the stand-in
    assert probe["metadata_is_real"] is True


def test_a_stand_in_answers_other_names_from_the_real_module() -> None:
    code = (
        "import sys\n"
        "from dockerhub_cli.lean_imports import standing_in\n"
        "with standing_in('colorsys', ('rgb_to_hsv',)):\n"
        "    import colorsys as early\n"
        "    from colorsys import rgb_to_hsv\n"
        "    print('colorsys' in sys.modules and type(sys.modules['colorsys']).__name__)\n"
        "print('colorsys' in sys.modules)\n"
        "print(rgb_to_hsv(1.0, 0.0, 0.0), early.hsv_to_rgb(0.0, 1.0, 1.0))\n"
        "import colorsys\n"
        "print(type(colorsys).__name__, colorsys is not early)\n"
        # a package's submodules can be imported while it is stood in for
        "with standing_in('xmlrpc', ()):\n"
        "    import xmlrpc.client\n"
        "import xmlrpc\n"
        "print(type(xmlrpc).__name__, xmlrpc.client.Fault.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines() == [
        "StandIn",
        "False",
        "(0.0, 1.0, 1.0) (1.0, 0.0, 0.0)",
        "module True",
        "module Fault",
    ]


def test_an_absent_mark_is_lifted_after_the_import() -> None:
    assert "colorsys_not_a_module" not in sys.modules
    with lean_imports.absent(["colorsys_not_a_module", "json"]):
        with pytest.raises(ImportError):
            import colorsys_not_a_module  # type: ignore[import-not-found]  # noqa: F401
        import json as still_there  # already loaded: left alone

        assert still_there is json
    assert "colorsys_not_a_module" not in sys.modules


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"XDG_CACHE_HOME": "/x/cache", "XDG_CONFIG_HOME": "/x/config"},
        {"XDG_CACHE_HOME": "relative/ignored", "XDG_CONFIG_HOME": ""},
        {"HOME": "relative/home"},  # not a home: the account's
    ],
)
@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG rule is for Linux/BSD")
def test_user_dirs_are_what_platformdirs_says(env, monkeypatch, tmp_path) -> None:
    import platformdirs

    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert paths.user_dir("cache") == platformdirs.user_cache_dir("dockerhub-cli", appauthor=False)
    assert paths.user_dir("config") == platformdirs.user_config_dir(
        "dockerhub-cli", appauthor=False
    )
    assert paths.user_dir("cache", dict(os.environ)) == paths.user_dir("cache")


def test_a_json_result_needs_no_rich() -> None:
    """Every command's renderer can be imported (the CLI resolves it before `emit()` knows
    whether the output is JSON) without Rich: Rich is imported when a table is drawn."""
    code = (
        "import sys\n"
        "from dockerhub_cli import commands\n"
        "targets = {c.render for c in commands.COMMANDS if c.render}\n"
        "targets |= {c.render_flag[1] for c in commands.COMMANDS if c.render_flag}\n"
        "for target in sorted(targets):\n"
        "    commands.resolve(target)\n"
        "print(len(targets), sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    count, _, loaded = done.stdout.strip().partition(" ")
    assert int(count) > 20 and loaded == "[]"


_HINTS = """
import json, sys, typing
if sys.argv[1] == "trimmed":
    import dockerhub_cli.models  # pydantic's first import: forward references compiled on use
import pydantic
from pydantic_core import core_schema
refs = [
    v
    for td in vars(core_schema).values()
    if isinstance(td, type) and hasattr(td, "__required_keys__")
    for v in td.__annotations__.values()
    if isinstance(v, typing.ForwardRef)
]
hints = {
    name: repr(typing.get_type_hints(td, include_extras=True))
    for name, td in sorted(vars(core_schema).items())
    if isinstance(td, type) and hasattr(td, "__required_keys__")
}
print(json.dumps({
    "hints": hints,
    "refs": len(refs),
    "deferred": sum(type(r.__forward_code__) is str for r in refs),
    "patched": "compile" in vars(typing),
}))
"""


def _hints(mode: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKERHUB_", "PYDANTIC_"))}
    done = subprocess.run(
        [sys.executable, "-c", _HINTS, mode],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_pydantic_core_forward_references_are_compiled_on_use_to_the_same_types() -> None:
    trimmed, plain = _hints("trimmed"), _hints("plain")
    # the trim works: pydantic-core's annotations were not compiled on import ...
    assert isinstance(trimmed["refs"], int) and trimmed["refs"] > 300
    assert trimmed["deferred"] == trimmed["refs"] and plain["deferred"] == 0
    assert trimmed["patched"] is False  # ... and `typing` is itself again afterwards
    # and each evaluates to the same types as when compiled at once
    assert trimmed["hints"] == plain["hints"] and len(plain["hints"]) > 50  # type: ignore[arg-type]


def test_typing_compiles_only_forward_references() -> None:
    """The trim shadows `compile` in `typing`'s globals: that must reach ForwardRef's
    compile of its expression and nothing else."""
    import inspect
    import typing

    source = inspect.getsource(typing)
    assert source.count("compile(") == 1
    assert "compile(arg_to_compile, '<string>', 'eval')" in inspect.getsource(
        typing.ForwardRef.__init__
    )
    with lean_imports.forward_references_compiled_on_use():
        ref = typing.ForwardRef("list[int] | None")
        with pytest.raises(SyntaxError):
            compile("(", "<string>", "exec")  # anyone else's compile is the builtin
    assert "compile" not in vars(typing)
    assert ref.__forward_code__ == "list[int] | None"
    assert typing.get_type_hints(type("T", (), {"__annotations__": {"x": ref}})) == {
        "x": list[int] | None
    }
