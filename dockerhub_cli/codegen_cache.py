"""A persistent cache of the code that libraries generate and compile at start-up.

Every run re-did work that depends only on the installed code: `dataclasses` writes the source
of each class's `__init__`, `__repr__`, `__eq__`... and `exec`s it (82 classes in a warm
`inspect`), `re` parses and compiles its patterns in pure Python, attrs (requests-cache's
models) compiles the scripts it writes, and `collections.namedtuple` `eval`s a lambda. The
results are kept the way Python keeps bytecode, beside this package's own (`__pycache__/`, or
under `sys.pycache_prefix`), in one file per interpreter (`sys.implementation.cache_tag`, the
full `sys.version` and the optimisation level are in its name and header):

* generated source -> code object: `exec` in `dataclasses`' globals, `compile` in
  `attr._make`'s and `eval` in `collections`' are shadowed by functions that compile exactly
  as the builtin would (same filename and mode, the caller's `__future__` flags, which is what
  the builtin inherits, and `dont_inherit`) on a miss, keyed by all of those and the exact text;
* a regex -> the arguments of its final `_sre.compile(...)` call, recorded from the real
  compiler during a miss (`re._compiler` is given a copy of `_sre` whose `compile` records
  them), keyed by (str or bytes, pattern, flags), and replayed on a hit (`_sre.compile`
  checks the code itself). Only patterns that come from code are stored: compiled while a
  module is being imported, or equal to a constant of a function on the stack; a pattern
  built at run time from input (a `fnmatch` glob, a user's filter) is compiled as usual and
  never written. Patterns that could make the parser warn (`[[`, `--`, `&&`, `~~`, `||`,
  a conditional group; `_may_warn`) are never cached, so each run warns as before.

The file holds code objects, so reading it runs code: it is read only when it is a regular
file owned by the current user (or root), not writable by group or others, in a directory with
the same properties (what Python's trust of `.pyc` files amounts to, made explicit), and only
if its header (interpreter, length) matches, and an entry only if its checksum (over key and
value) does; anything else is ignored and replaced. It is
written at process end (`atexit`) only when entries were added and bytecode may be written
(`sys.dont_write_bytecode`), by rename (concurrent runs: the last writer wins), capped in
entries and bytes.

`install()` is called by the console script (`__main__`) before anything else is imported, so
it covers every command and `serve-mcp`; nothing else installs it, so the service used as a
library is untouched. The hooks reach modules imported later through a finder that patches
them once their own code has run; `uninstall()` undoes everything.
`tests/unit/test_codegen_cache.py` checks, in fresh processes, that every hook is reached
(a library or stdlib upgrade that bypasses one fails there) and that classes and regexes
behave the same with and without the cache.
"""

import builtins
import marshal
import sys

TYPE_CHECKING = False  # `typing` costs ~7 ms; this module is loaded by every command
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import CodeType, FrameType, ModuleType
    from typing import Any

MAGIC = b"dockerhub-codegen-cache 1\n"
MAX_ENTRIES = 4000  # in the file (those this run used first); a cold `inspect` stores ~500
MAX_HELD = 2 * MAX_ENTRIES  # in memory: what one process may add
MAX_SOURCE = 64 * 1024  # characters of one generated source or pattern
MAX_FILE = 16 * 1024 * 1024  # bytes of the whole file, read or written
# Text that can make `re`'s parser warn (FutureWarning/DeprecationWarning): such a pattern is
# always compiled, so that the warning is given on every run, as without the cache.
_REGEX_WARNING_TEXT = ("--", "&&", "~~", "||", "(?(")
# The modules whose code generators are hooked, and the function of this module patching each.
_TARGETS = ("dataclasses", "re", "collections", "attr._make")

_state: "dict[str, Any]" = {}  # while installed: see install()
_future_mask = 0  # the compiler flags of `__future__` features: what a builtin inherits


def install() -> None:
    """Hook the code generators (now for modules already imported, at import for the others),
    and save what was added at process end. Idempotent."""
    if _state:
        return
    global _future_mask
    import __future__

    _future_mask = 0
    for feature in __future__.all_feature_names:
        _future_mask |= getattr(__future__, feature).compiler_flag
    _state.update(
        code=None,  # loaded on first use: {key: code object or regex arguments}
        added=0,
        loaded=0,  # entries read from the file
        rejected=0,  # of those, found damaged when used (and dropped)
        used=set(),
        patched=[],  # (module, name, had, old) to restore
        finder=None,
        hits=0,
        hits_by={"exec": 0, "eval": 0, "compile": 0, "re": 0},  # by hook
        misses=0,
    )
    finder = _PatchingFinder()
    _state["finder"] = finder
    sys.meta_path.insert(0, finder)
    for name in _TARGETS:
        module = sys.modules.get(name)
        if module is not None:
            _patch(name, module)
    import atexit

    atexit.register(save)


def uninstall() -> None:
    """Undo `install()`: the hooks removed, nothing saved."""
    if not _state:
        return
    import atexit

    atexit.unregister(save)
    finder = _state["finder"]
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)
    for module, name, had, old in reversed(_state["patched"]):
        if had:
            setattr(module, name, old)
        else:
            module.__dict__.pop(name, None)
    _state.clear()


def stats() -> "dict[str, int]":
    """Hits and misses so far, and the entries loaded or added (for tests and benchmarks)."""
    if not _state:
        return {}
    table = _state["code"]
    return {
        "hits": _state["hits"],
        **{f"hits_{hook}": count for hook, count in _state["hits_by"].items()},
        "misses": _state["misses"],
        "added": _state["added"],
        "loaded": _state["loaded"],
        "rejected": _state["rejected"],
        "entries": len(table) if table is not None else 0,
    }


class _PatchingFinder:
    """Patches a target module right after its own code has run (a plain class, as in
    `lean_imports`: `importlib.abc` would import more than this saves)."""

    def find_spec(
        self, name: str, path: "Sequence[str] | None", target: "ModuleType | None" = None
    ) -> "ModuleSpec | None":
        if name not in _TARGETS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        # A source file's loader serves one module (a new instance per find_spec); a frozen or
        # builtin module's is a class, where setting the attribute would be global: unhooked.
        if exec_module is None or isinstance(loader, type):
            return spec

        def exec_and_patch(module: "ModuleType") -> None:
            exec_module(module)
            _patch(name, module)

        try:
            loader.exec_module = exec_and_patch  # type: ignore[method-assign,union-attr]
        except (AttributeError, TypeError):  # a loader that cannot take it: left unhooked
            pass
        return spec


def _patch(name: str, module: "ModuleType") -> None:
    if not _state:  # uninstalled meanwhile
        return
    if name == "dataclasses":
        _set(module, "exec", _exec)
    elif name == "collections":
        _set(module, "eval", _eval)
    elif name == "attr._make":
        _set(module, "compile", _compile)
    elif name == "re":
        compiler = getattr(module, "_compiler", None)
        real_compile = getattr(compiler, "compile", None)
        real_sre = getattr(compiler, "_sre", None)
        if compiler is None or real_compile is None or real_sre is None:
            return  # another shape of `re`: not hooked (the pin test fails)
        if isinstance(real_sre, _RecordingSre):  # `re` reloaded, `re._compiler` hooked already
            return
        recorder = _RecordingSre(real_sre)
        _set(compiler, "_sre", recorder)
        _set(compiler, "compile", _regex_compiler(real_compile, real_sre.compile, recorder))


def _set(module: "ModuleType", name: str, value: object) -> None:
    had = name in module.__dict__
    _state["patched"].append((module, name, had, module.__dict__.get(name)))
    setattr(module, name, value)


# -- generated source -------------------------------------------------------------------------


def _code(source: str, filename: str, mode: str, flags: int, hook: str) -> "CodeType":
    """`compile(source, filename, mode, flags, dont_inherit=True)`, from the cache if there.
    A failure of the cache itself (not of the compiler) is a miss: the builtin answers."""
    key = ("c", filename, mode, flags, source)
    table: dict[Any, Any] | None = None
    try:
        table = _state.get("code")
        if table is None:
            table = _load() if _state else {}
        cached: CodeType | None = _lookup(table, key, type(_code.__code__))
        if cached is not None:
            _state["hits"] += 1
            _state["hits_by"][hook] += 1
            _state["used"].add(key)
            return cached
    except Exception:  # a cache: whatever goes wrong here, the builtin compiles it
        pass
    code: CodeType = builtins.compile(source, filename, mode, flags, True)
    try:
        if _state and table is not None:
            _state["misses"] += 1
            if len(source) <= MAX_SOURCE and len(table) < MAX_HELD:
                table[key] = code
                _state["used"].add(key)
                _state["added"] += 1
    except Exception:  # not stored
        pass
    return code


def _lookup(table: "dict[Any, Any]", key: "Any", kind: type) -> "Any":
    """The entry for `key`, or None. An entry read from the file is kept as its marshalled
    bytes until first used: a run uses a part of what earlier runs stored."""
    value = table.get(key)
    if value is None or type(value) is kind:
        return value
    if type(value) is bytes:
        try:
            value = _unpack(key, value)
        except Exception:  # cannot be, for an entry whose checksum matched: a miss
            value = None
    if type(value) is not kind:
        table.pop(key, None)  # (another thread may have dropped it already)
        _state["rejected"] += 1
        return None
    table[key] = value
    return value


def _caller_flags() -> int:
    """The `__future__` flags a builtin called by our caller's caller would inherit."""
    return sys._getframe(2).f_code.co_flags & _future_mask


def _exec(
    source: "str | bytes | CodeType",
    globals: "dict[str, Any] | None" = None,
    locals: "Any" = None,
    /,
    **kwargs: "Any",
) -> None:
    """`exec` as the builtin, with a string's code from the cache."""
    if type(source) is str and globals is not None and not kwargs:
        code = _code(source, "<string>", "exec", _caller_flags(), "exec")
        builtins.exec(code, globals, locals)
        return
    caller = sys._getframe(1)
    if isinstance(source, (str, bytes)):
        source = builtins.compile(
            source, "<string>", "exec", caller.f_code.co_flags & _future_mask, True
        )
    if globals is None:
        globals, locals = caller.f_globals, caller.f_locals if locals is None else locals
    builtins.exec(source, globals, locals, **kwargs)


def _eval(
    source: "str | bytes | CodeType",
    globals: "dict[str, Any] | None" = None,
    locals: "Any" = None,
    /,
) -> "Any":
    """`eval` as the builtin, with a string's code from the cache."""
    caller = sys._getframe(1)
    flags = caller.f_code.co_flags & _future_mask
    if type(source) is str and globals is not None:
        # The builtin strips leading spaces and tabs from the text it compiles.
        code = _code(source.lstrip(" \t"), "<string>", "eval", flags, "eval")
        return builtins.eval(code, globals, locals)
    if isinstance(source, str):
        source = builtins.compile(source.lstrip(" \t"), "<string>", "eval", flags, True)
    elif isinstance(source, bytes):
        source = builtins.compile(source.lstrip(b" \t"), "<string>", "eval", flags, True)
    if globals is None:
        globals, locals = caller.f_globals, caller.f_locals if locals is None else locals
    return builtins.eval(source, globals, locals)


def _compile(
    source: "Any",
    filename: "Any",
    mode: str,
    flags: int = 0,
    dont_inherit: bool = False,
    optimize: int = -1,
    **kwargs: "Any",
) -> "Any":
    """`compile` as the builtin, with a plain string's code from the cache."""
    inherited = 0 if dont_inherit else sys._getframe(1).f_code.co_flags & _future_mask
    if (
        type(source) is str
        and type(filename) is str
        and flags == 0
        and optimize == -1
        and not kwargs
        and mode in ("exec", "eval", "single")
        and not _differs_per_process(source, filename)
    ):
        return _code(source, filename, mode, inherited, "compile")
    return builtins.compile(source, filename, mode, flags | inherited, True, optimize, **kwargs)


def _differs_per_process(source: str, filename: str) -> bool:
    """Whether this is an attrs script with a `__hash__` that hashes its class's name: with
    str hashing randomised (the default), a number that is new in every process, so storing
    it would only grow the file. (attrs hashes `<attrs generated hash MODULE.QUALNAME>`; a
    script of a name already in `linecache` has `-N` before its closing `>`.)"""
    prefix = "<attrs generated "
    if not sys.flags.hash_randomization or not filename.startswith(prefix):
        return False
    name = filename[len(prefix) :].partition(" ")[2]
    base, dash, count = name[:-1].rpartition("-")
    names = (name, base + ">") if dash and count.isdigit() else (name,)
    return any(str(hash(f"{prefix}hash {n}")) in source for n in names)


# -- regular expressions ----------------------------------------------------------------------


class _RecordingSre:
    """`_sre` for `re._compiler`: the same attributes, and a `compile` that records the
    arguments of the call (on this thread) before making the pattern."""

    def __init__(self, real: "ModuleType") -> None:
        import _thread

        self.__dict__.update(real.__dict__)
        real_compile = real.compile
        last = _thread._local()
        self._last = last

        def compile(*args: "Any") -> "Any":
            last.args = args
            return real_compile(*args)

        self.compile = compile


def _regex_compiler(
    real: "Callable[..., Any]", sre_compile: "Callable[..., Any]", recorder: _RecordingSre
) -> "Any":
    def compile(p: "Any", flags: int = 0) -> "Any":
        kind = type(p)
        if not ((kind is str or kind is bytes) and type(flags) is int and _state):
            return real(p, flags)
        # A failure of the cache itself (not of the compiler) is a miss: `re` answers.
        key = ("r", kind is bytes, p, flags)
        table: dict[Any, Any] | None = None
        try:
            table = _state["code"]
            if table is None:
                table = _load()
            args = _lookup(table, key, tuple)
            if args is not None:
                pattern = sre_compile(*[_copy(arg) for arg in args])
                _state["hits"] += 1
                _state["hits_by"]["re"] += 1
                _state["used"].add(key)
                return pattern
        except Exception:  # damaged, not what this `_sre` takes, a bug: compiled as usual
            pass
        recorder._last.args = None
        pattern = real(p, flags)
        try:
            recorded = recorder._last.args
            recorder._last.args = None
            _state["misses"] += 1
            if (
                table is not None
                and recorded is not None
                and _cacheable_regex(p, flags, len(table))
            ):
                table[key] = tuple(_plain(arg) for arg in recorded)
                _state["used"].add(key)
                _state["added"] += 1
        except Exception:  # something other than plain values, a stack too shallow: not stored
            pass
        return pattern

    return compile


def _cacheable_regex(p: "str | bytes", flags: int, entries: int) -> bool:
    if entries >= MAX_HELD or len(p) > MAX_SOURCE or flags & 128:  # 128: re.DEBUG prints
        return False
    return not _may_warn(p) and _from_code(p)


def _may_warn(p: "str | bytes") -> bool:
    """Whether `re`'s parser (3.11-3.13) could warn about this pattern: a possible nested set
    (`[[` where the first `[` is not escaped), a possible set operation (`--`, `&&`, `~~`,
    `||`), a conditional group's name (`(?(`), or a bytes pattern's non-ASCII group name.
    A superset of the cases: such a pattern is simply compiled each time."""
    text = p.decode("latin-1") if isinstance(p, bytes) else p
    if any(marker in text for marker in _REGEX_WARNING_TEXT):
        return True
    if isinstance(p, bytes) and not p.isascii() and "(?P" in text:
        return True
    start = text.find("[[")
    while start >= 0:
        escapes = len(text[:start]) - len(text[:start].rstrip("\\"))
        if escapes % 2 == 0:
            return True
        start = text.find("[[", start + 1)
    return False


def _from_code(p: "str | bytes") -> bool:
    """Whether the pattern comes from code: a module is being imported, or the pattern is a
    constant of a function on the stack (a literal passed to `re.match`, say, or one of a
    tuple of literals)."""
    kind = type(p)
    frame: FrameType | None = sys._getframe(3)
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        for constant in code.co_consts:
            if type(constant) is kind:
                if constant == p:
                    return True
            elif type(constant) is tuple or type(constant) is frozenset:  # `for p in (...)`
                if any(type(item) is kind and item == p for item in constant):
                    return True
        frame = frame.f_back
    return False


def _plain(value: "Any") -> "Any":
    """A copy made of plain ints, strings, bytes, lists, tuples and dicts (`re`'s opcodes are
    int subclasses), which marshal stores."""
    kind = type(value)
    if value is None or kind is str or kind is bytes or kind is int or kind is bool:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, list):
        try:  # `re`'s code: a list of ints and int subclasses, made plain at C speed
            return list(map(int.__index__, value))
        except TypeError:  # not only ints
            return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"not a plain value: {kind.__name__}")


def _copy(value: "Any") -> "Any":
    kind = type(value)
    if kind is list:
        return list(value)
    if kind is dict:
        return dict(value)
    return value


# -- the file ---------------------------------------------------------------------------------


def cache_path() -> "str | None":
    """Where this interpreter's cache file is (beside this module's bytecode), or None."""
    import os

    cached = globals().get("__cached__")
    if not cached:
        spec = globals().get("__spec__")
        cached = getattr(spec, "cached", None)
    if not cached:
        return None
    import zlib

    tag = sys.implementation.cache_tag or "none"
    version = zlib.crc32(_identity()) & 0xFFFFFFFF
    return os.path.join(os.path.dirname(cached), f"codegen-cache.{tag}.{version:08x}.bin")


def _identity() -> bytes:
    return f"{sys.implementation.cache_tag}\n{sys.version}\n{sys.flags.optimize}\n".encode()


def _trusted(st: "Any") -> bool:
    import os
    import stat

    uid = os.getuid()
    return st.st_uid in (uid, 0) and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _load() -> "dict[Any, Any]":
    """The cache file's table if it is there, trusted and whole; else an empty table."""
    table: dict[Any, Any] = {}
    _state["code"] = table
    try:
        loaded = _read()
    except Exception:  # unreadable, corrupt, foreign: ignored (and replaced at the end)
        loaded = None
    if loaded is not None:
        table.update(loaded)
        _state["loaded"] = len(loaded)
    return table


def _read() -> "dict[Any, Any] | None":
    import os
    import stat

    path = cache_path()
    if (
        path is None
        or not hasattr(os, "getuid")
        or not hasattr(os, "O_NOFOLLOW")
        or os.open not in os.supports_dir_fd
    ):
        return None
    # The directory is opened, then checked, and the file opened in it (`dir_fd`): the one
    # checked is the one read from, even if its path is swapped meanwhile.
    directory, name = os.path.split(path)
    try:
        dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        if not _trusted(os.fstat(dir_fd)):
            return None
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError:
        return None
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _trusted(st) or st.st_size > MAX_FILE:
            return None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return _decode(data)


def _decode(data: bytes) -> "dict[Any, Any] | None":
    """The table in a file's bytes (entries still as stored), or None if it is not one written
    by this interpreter: another header, another length, not a dict."""
    header = MAGIC + _identity()
    if not data.startswith(header) or len(data) < len(header) + 8:
        return None
    length = int.from_bytes(data[len(header) : len(header) + 8], "big")
    payload = data[len(header) + 8 :]
    if len(payload) != length:
        return None
    table = marshal.loads(payload)
    if type(table) is not dict or len(table) > MAX_ENTRIES:
        return None
    # Each entry is checked when first used (`_lookup`): its checksum, over its key and value,
    # and the type its hook expects; a key of another shape never equals one looked up.
    return table


def _entry(key: "tuple[Any, ...]", value: "Any") -> bytes:
    """An entry as stored: a checksum of key and value, then the marshalled value."""
    import zlib

    data = marshal.dumps(value)
    return (zlib.crc32(data, zlib.crc32(_key_bytes(key))) & 0xFFFFFFFF).to_bytes(4, "big") + data


def _unpack(key: "tuple[Any, ...]", stored: bytes) -> object:
    """The value of an entry as stored, or None if its checksum does not match."""
    import zlib

    data = stored[4:]
    checksum = zlib.crc32(data, zlib.crc32(_key_bytes(key))) & 0xFFFFFFFF
    if len(stored) < 4 or int.from_bytes(stored[:4], "big") != checksum:
        return None
    return marshal.loads(data)


def _key_bytes(key: "tuple[Any, ...]") -> bytes:
    parts = []
    for part in key:
        if type(part) is str:
            parts.append(part.encode("utf-8", "surrogatepass"))
        elif type(part) is bytes:
            parts.append(part)
        else:
            parts.append(repr(part).encode())
    return b"\0".join(parts)


def encode(table: "dict[Any, Any]") -> bytes:
    """The file's bytes for `table`: the header (interpreter, the payload's length), then the
    table with each value as stored (`_entry`)."""
    payload = marshal.dumps(
        {key: v if type(v) is bytes else _entry(key, v) for key, v in table.items()}
    )
    return MAGIC + _identity() + len(payload).to_bytes(8, "big") + payload


def save() -> None:
    """Write the table if entries were added and bytecode may be written (at process end)."""
    if not _state or not _state["added"] or sys.dont_write_bytecode:
        return
    table = _state["code"]
    if table is None:
        return
    try:
        _write(table, _state["used"])
    except Exception:  # a cache: a failed write costs the next run time, nothing else
        pass
    _state["added"] = 0


def _write(table: "dict[Any, Any]", used: "set[Any]") -> None:
    import os

    path = cache_path()
    if path is None or not hasattr(os, "getuid"):
        return
    # Where it cannot be written (untrusted, read-only): nothing encoded, every run.
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    if not _trusted(os.stat(directory)) or not os.access(directory, os.W_OK):
        return
    if len(table) > MAX_ENTRIES:  # what this run used first, then what earlier runs stored
        kept = {key: value for key, value in table.items() if key in used}
        for key, value in table.items():
            if len(kept) >= MAX_ENTRIES:
                break
            kept.setdefault(key, value)
        table = dict(list(kept.items())[:MAX_ENTRIES])
    data = encode(table)
    if len(data) > MAX_FILE:  # what this run used
        data = encode({key: value for key, value in table.items() if key in used})
        if len(data) > MAX_FILE:
            return
    # By rename (an exclusive new name beside it, mode 0600, never a link followed); imported
    # here, at process end, so that no run pays for it at start.
    from dockerhub_cli import atomic

    atomic.replace_file(path, data, prefix=".codegen-cache.")
