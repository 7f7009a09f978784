"""The result cache: a warm read-only command answered without importing Typer or requests.

`dockerhub inspect nginx` run twice in a row prints the same bytes, built from the same HTTP
cache entries. The first run saves its stdout under `<cache dir>/results/<key>.json`; the
second finds it in `main()` (the console script, `dockerhub_cli.__main__`) and writes it back,
before Typer, Rich, requests or pydantic are imported. This module imports only the standard
library (tomllib when a config file exists is cheap; `paths.py` likewise).

The key is a SHA-256 over everything the output can depend on besides registry data: the
arguments, the version, the DOCKERHUB_* variables and the terminal-related ones, whether stdout
and stderr are terminals and the terminal width, the config file (its bytes, and the variables
its `[[registries]]` name for credentials), Docker's config.json (mtime and size: a
`docker login` changes it) and the cache directory.

A result is saved when every response the run used is in the HTTP cache, fresh (or a 404 the
registry or Hub gave, for at most the `repository` TTL), and it printed no error: its stdout,
its stderr (warnings such as "repository not on Docker Hub") and its exit code are all replayed.
A run that used stale data, failed, or warned while the spinner owned the terminal is not
saved. A result expires no later than the earliest of those entries, the command's own
shortest TTL, and the moment a relative time it printed ("3 hours ago") would read
differently. `--no-cache` (or DOCKERHUB_NO_CACHE) never replays, but saves its fresh answer
under the key of the same command without it, so the next plain run is not older than the
last `--no-cache` one. See `plan()` for when the cache is bypassed.

A replay costs nothing: with `--stats` it says so on stderr (`cost: 0 requests ...`), and the
`cost` object of `--json --stats` output is replaced by one saying `"saved_result": true`
(its place in the saved stdout is recorded as `cost_span`). `--max-pulls` is not in the key:
a replay spends no pull.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from dockerhub_cli.commands import result_cache_reads

# Commands whose output depends only on registry / Hub data -> the TTLs (settings.ttls names)
# of the data they read; a saved result never outlives the shortest of them. Derived from the
# command spec (`Command.reads`), which imports only the standard library.
ELIGIBLE: dict[str, tuple[str, ...]] = result_cache_reads()
# Arguments naming a local image source (oci:DIR, oci-archive:FILE, docker-archive:FILE; see
# dockerhub_cli/oci/source.py): such a run is never saved or replayed. Its answer depends on
# files that can change without a new mtime on the path given (a layout's blobs, index.json
# rewritten in place), and reading them is cheap, so there is nothing worth the risk.
LOCAL_PREFIXES = ("oci:", "oci-archive:", "docker-archive:")
# Options that may come before the command name and do not rule the result cache out.
_LEADING_OK = frozenset({"--offline", "--insecure", "--stats"})
# Not in the key (a replay spends no pull), with its value.
_MAX_PULLS = "--max-pulls"
# Any of these anywhere in the arguments: the normal path, always.
_BYPASS = frozenset(
    {
        "--debug",
        "--help",
        "-h",
        "--version",
        "--install-completion",
        "--show-completion",
    }
)
# Variables outside DOCKERHUB_* that change what is printed, or how.
KEY_ENV = (
    "DOCKER_CONFIG",
    "HOME",
    "NO_COLOR",
    "FORCE_COLOR",
    "COLUMNS",
    "TERM",
    "COLORTERM",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "TZ",
)
# Not in the key: `--offline` gives the same answer as a normal run while the entries are fresh.
_NOT_KEYED_ENV = frozenset({"DOCKERHUB_OFFLINE", "DOCKERHUB_DEBUG_FASTPATH", "DOCKERHUB_NO_CACHE"})
# Not in the key either, and it makes the run a refresh (never served, saved when fresh).
_REFRESH = "--no-cache"
DEBUG_ENV = "DOCKERHUB_DEBUG_FASTPATH"
RESULTS_DIR = "results"
_FORMAT = 2  # bump when the file layout changes

_version: str | None = None


def debug(message: str) -> None:
    if os.environ.get(DEBUG_ENV):
        with stderr_muted():  # talk about the cache is not part of the saved result
            sys.stderr.write(f"fast path: {message}\n")


# -- the plan: eligible? which key, which file? ----------------------------------------------


class Plan:
    """An eligible invocation: its command, key and result file."""

    def __init__(
        self,
        command: str,
        key: str,
        results_dir: str,
        refresh: bool = False,
        *,
        stats: bool = False,
        max_pulls: int | None = None,
    ) -> None:
        self.command = command
        self.key = key
        self.results_dir = results_dir
        self.path = os.path.join(results_dir, f"{key}.json")
        # --no-cache: never served, but a fresh answer replaces the saved one.
        self.refresh = refresh
        self.exit_code = 0
        # --stats: a replay says what it cost (nothing); --max-pulls, shown in that cost.
        self.stats = stats
        self.max_pulls = max_pulls

    def serve(self) -> bool:
        """Write the saved stdout and stderr and return True (`exit_code` is the saved run's),
        or False when there is no fresh result."""
        import json

        if not _private_dir(os.path.dirname(self.results_dir)):
            debug("cache directory not private; not used")
            return False
        if self.refresh:
            debug("refresh (--no-cache): not served")
            return False
        try:
            with open(self.path, "rb") as fh:
                data = json.loads(fh.read())
            if not isinstance(data, dict) or data.get("format") != _FORMAT:
                raise ValueError("unknown layout")
            expires_at = float(data["expires_at"])
            stdout, stderr = data["stdout"], data.get("stderr", "")
            code = data.get("exit_code", 0)
            if not isinstance(stdout, str) or not isinstance(stderr, str):
                raise ValueError("stdout or stderr is not text")
            if not isinstance(code, int) or isinstance(code, bool) or not 0 <= code <= 255:
                raise ValueError("bad exit code")
            span = data.get("cost_span")
            if span is not None:
                start, end = int(span[0]), int(span[1])
                if not 0 <= start <= end <= len(stdout):
                    raise ValueError("bad cost span")
                stdout = stdout[:start] + cost_json(self.replay_cost()) + stdout[end:]
        except FileNotFoundError:
            debug("miss")
            return False
        except (OSError, ValueError, KeyError, TypeError) as exc:  # corrupt: drop it, go on
            debug(f"unreadable result ({type(exc).__name__}); removed")
            _unlink(self.path)
            return False
        if expires_at <= time.time():
            debug("expired")
            _unlink(self.path)
            return False
        debug("hit")
        self.exit_code = code
        try:
            sys.stdout.write(stdout)
            sys.stdout.flush()
        except BrokenPipeError:  # `dockerhub tags x | head -1`
            _quiet_broken_pipe()
        if stderr or self.stats:
            try:
                sys.stderr.write(stderr)
                if self.stats:
                    sys.stderr.write(REPLAY_STATS_LINE + "\n")
                sys.stderr.flush()
            except OSError:
                pass
        return True

    def replay_cost(self) -> dict[str, Any]:
        """The `cost` of a replay (the shape of `models.cost.Cost`): nothing was spent."""
        return {
            "requests": 0,
            "by_kind": {},
            "bytes_received": 0,
            "docker_hub": {"pulls": 0, "free_heads": 0, "max_pulls": self.max_pulls},
            "cache": {"hits": 0, "by_kind": {}, "stale": 0, "saved_result": True},
        }

    def store(
        self,
        stdout: str | Iterable[str],
        expires_at: float,
        stderr: str = "",
        exit_code: int = 0,
        cost_span: tuple[int, int] | None = None,
    ) -> bool:
        """Save the run's output until `expires_at` (atomically, mode 0600); False when not
        worth it. `stdout` may be the pieces it was written in (`Capture.pieces()`): they are
        written one by one, so a 10 MB output is not joined and copied whole to be saved.
        `cost_span`: where stdout holds the run's `cost` object (--json --stats), which a
        replay replaces with its own."""
        import json

        from dockerhub_cli.atomic import create_private

        if expires_at - time.time() < 1:
            debug("not saved (expires too soon)")
            return False
        head = json.dumps(
            {
                "format": _FORMAT,
                "command": self.command,
                "expires_at": expires_at,
                "stderr": stderr,
                "exit_code": exit_code,
                **({"cost_span": list(cost_span)} if cost_span is not None else {}),
            }
        )
        pieces = [stdout] if isinstance(stdout, str) else stdout
        tmp = None
        if not _private_dir(os.path.dirname(self.results_dir)):
            debug("not saved (cache directory not private)")
            return False
        try:
            os.makedirs(self.results_dir, mode=0o700, exist_ok=True)
            fd, tmp = create_private(self.results_dir, ".tmp-", ".tmp")
            with os.fdopen(fd, "wb") as fh:  # created 0600
                # {"format": ..., "exit_code": 0, "stdout": "<each piece's JSON escapes>"}
                fh.write(head[:-1].encode() + b', "stdout": "')
                for piece in pieces:  # escaping is per character: pieces join as one string
                    fh.write(json.dumps(piece)[1:-1].encode())
                fh.write(b'"}')
            os.replace(tmp, self.path)
            tmp = None
        except OSError as exc:  # a read-only cache dir only costs the fast path
            debug(f"not saved ({exc})")
            return False
        finally:
            if tmp is not None:
                _unlink(tmp)
        debug(f"saved for {expires_at - time.time():.0f} s")
        return True


def plan(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> Plan | None:
    """The plan for these arguments, or None when the result cache must not be used.

    Bypassed: a command not in ELIGIBLE; an argument naming a local source (oci:...,
    oci-archive:..., docker-archive:...); any of --debug, --help/-h, --version,
    --cache-backend; an option other than --offline/--insecure/--no-cache before the command
    name; DOCKERHUB_CACHE_BACKEND other than sqlite; shell completion; a config file that is
    missing (when named by DOCKERHUB_CONFIG) or not valid TOML. `--no-cache` or
    DOCKERHUB_NO_CACHE: a refresh plan, keyed as the same command without them.
    """
    env = os.environ if environ is None else environ
    args, max_pulls = _without_max_pulls(list(argv))
    if args is None:
        return None  # a bad --max-pulls value: the normal path reports it
    command = None
    for arg in args:
        if not arg.startswith("-"):
            command = arg
            break
        if arg not in _LEADING_OK and arg != _REFRESH:
            return None
    if command not in ELIGIBLE:
        return None
    for arg in args:
        if arg in _BYPASS or arg.startswith("--cache-backend"):
            return None
        if arg.startswith(LOCAL_PREFIXES) or arg.startswith(
            tuple("--have=" + p for p in LOCAL_PREFIXES)
        ):
            debug("a local image source: not cached")
            return None
    refresh = _REFRESH in args or env.get("DOCKERHUB_NO_CACHE", "").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
    if env.get("DOCKERHUB_CACHE_BACKEND", "").strip().lower() not in ("", "sqlite"):
        return None
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in env):
        return None
    config = _config(env)
    if config is None:
        return None
    config_part, config_cache_dir = config
    cache_dir = _cache_dir(env, config_cache_dir)
    parts: list[Any] = [
        _FORMAT,
        _get_version(),
        [a for a in args if a not in ("--offline", _REFRESH)],
        sorted(
            (k, v)
            for k, v in env.items()
            if (k.startswith("DOCKERHUB_") and k not in _NOT_KEYED_ENV) or k in KEY_ENV
        ),
        _terminal(),
        config_part,
        _stat(_docker_config_path(env)),
        cache_dir,
    ]
    import hashlib
    import json

    key = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
    return Plan(
        command,
        key,
        os.path.join(cache_dir, RESULTS_DIR),
        refresh=refresh,
        stats="--stats" in args,
        max_pulls=max_pulls,
    )


def _without_max_pulls(args: list[str]) -> tuple[list[str] | None, int | None]:
    """The arguments without `--max-pulls N` / `--max-pulls=N`, and N (the last one given);
    (None, None) when a value is missing or not a number (the normal path reports it)."""
    out: list[str] = []
    value: int | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == _MAX_PULLS or arg.startswith(_MAX_PULLS + "="):
            text = arg.partition("=")[2] if "=" in arg else None
            if text is None:
                if i + 1 >= len(args):
                    return None, None
                text = args[i + 1]
                i += 1
            if not text.isdigit():
                return None, None
            value = int(text)
        elif arg == "--":
            out += args[i:]
            break
        else:
            out.append(arg)
        i += 1
    return out, value


# -- the `cost` object of --json --stats output (see models/cost.py) -----------------------

REPLAY_STATS_LINE = (
    "cost: 0 requests; Docker Hub: 0 pulls; saved result replayed (no request, no HTTP cache read)"
)


def cost_json(cost: Mapping[str, Any]) -> str:
    """The `cost` object as it is written at the end of an indented JSON object."""
    import json

    return json.dumps(cost, indent=2, ensure_ascii=False).replace("\n", "\n  ")


def splice_cost(text: str, cost: Mapping[str, Any]) -> tuple[str, tuple[int, int] | None]:
    """`text` (a JSON object indented by 2, as `--json` prints it) with `"cost": {...}` as its
    last key, and where the cost object sits in the result; `text` unchanged and None when it
    is not an object."""
    if not (text.startswith("{") and text.endswith("}")):
        return text, None
    body = text[:-1].rstrip()
    head = body + ("\n" if body == "{" else ",\n") + '  "cost": '
    value = cost_json(cost)
    return head + value + "\n}", (len(head), len(head) + len(value))


def _get_version() -> str:
    """The program's version and a fingerprint of its source files (size and modification time
    of every module): a saved result made by other code is not replayed, even when a `git pull`
    and a reinstall (or an editable install) kept the version number."""
    global _version
    if _version is None:
        from dockerhub_cli import __version__

        _version = f"{__version__}+{_source_fingerprint()}"
    return _version


def _source_fingerprint(package: str = os.path.dirname(os.path.abspath(__file__))) -> str:
    import hashlib

    digest = hashlib.sha256()
    pending = [package]
    while pending:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith((".py", ".json")):
                    st = entry.stat()
                    digest.update(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            except OSError:
                continue
    return digest.hexdigest()[:16]


def _terminal() -> list[Any]:
    ttys = []
    for stream in (sys.stdout, sys.stderr):
        try:
            ttys.append(bool(stream.isatty()))
        except (AttributeError, ValueError):
            ttys.append(False)
    width = None
    for fd in (0, 1, 2):  # where Rich looks for the terminal size
        try:
            width = os.get_terminal_size(fd).columns
            break
        except (OSError, ValueError):
            continue
    return [ttys, width]


def _config(env: Mapping[str, str]) -> tuple[list[Any], str | None] | None:
    """(what of the config file goes into the key, its [cache] dir), None when the normal path
    must run (to report a missing or broken file)."""
    explicit = env.get("DOCKERHUB_CONFIG", "").strip()
    if explicit:
        path = os.path.expanduser(explicit)
    else:
        from dockerhub_cli.paths import user_dir

        path = os.path.join(user_dir("config", env), "config.toml")
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None if explicit else ([path, None], None)
    except OSError:
        return None
    import hashlib

    part: list[Any] = [path, hashlib.sha256(raw).hexdigest()]
    cache_dir = None
    if raw.strip():
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        cache = data.get("cache")
        if isinstance(cache, dict) and isinstance(cache.get("dir"), str) and cache["dir"].strip():
            cache_dir = os.path.expanduser(cache["dir"].strip())
        registries = data.get("registries")
        names: set[str] = set()
        for entry in registries if isinstance(registries, list) else ():
            if isinstance(entry, dict):
                names.update(
                    v for k, v in entry.items() if k.endswith("_env") and isinstance(v, str)
                )
        # Credentials named by the file: a new token may change what a private image shows.
        part.append(sorted((n, env.get(n)) for n in names))
    return part, cache_dir


def _cache_dir(env: Mapping[str, str], from_config: str | None) -> str:
    """As `Settings.cache_dir`: DOCKERHUB_CACHE_DIR > config [cache] dir > user cache dir."""
    value = env.get("DOCKERHUB_CACHE_DIR", "").strip()
    if value:
        return os.path.expanduser(value)
    if from_config:
        return from_config
    from dockerhub_cli.paths import user_dir

    return user_dir("cache", env)


def _docker_config_path(env: Mapping[str, str]) -> str:
    base = env.get("DOCKER_CONFIG")
    if base:
        return os.path.join(os.path.expanduser(base), "config.json")
    return os.path.join(os.path.expanduser("~"), ".docker", "config.json")


def _stat(path: str) -> list[Any]:
    try:
        st = os.stat(path)
    except OSError:
        return [path, None]
    return [path, st.st_mtime_ns, st.st_size]


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _quiet_broken_pipe() -> None:
    # Python would complain about the flush at exit: point stdout at /dev/null instead.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


# -- capturing a normal run -------------------------------------------------------------------


class _Tee:
    """Stands in for sys.stdout / sys.stderr: writes through, and records."""

    def __init__(self, stream: Any, capture: Capture, name: str) -> None:
        self._stream = stream
        self._capture = capture
        self._name = name

    def write(self, text: str) -> int:
        written = self._stream.write(text)  # bytes raise here, as on the real stream
        self._capture.record(self._name, text)
        return int(written or 0)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


SPILL_CHARS = 1 << 20  # captured stdout beyond this goes to a temporary file, not memory


class Capture:
    """What a run wrote on stdout and stderr, and whether it failed.

    Stdout is kept in memory up to SPILL_CHARS, then in an unnamed temporary file (the JSON
    of 50,000 tags is 10 MB: held as well as printed, it was an eighth of that run's memory);
    `pieces()` gives it back in order either way."""

    def __init__(self) -> None:
        self.stdout: list[str] = []
        self._held = 0
        self.written = 0  # characters written on stdout so far (held or spilled)
        self._spill: Any = None
        self.stderr: list[str] = []
        self.talked = False
        self.errored = False  # an error line: such a run is never saved
        self.unrecorded = False  # talk while the spinner owned stderr: not replayable
        self.muted = 0
        # The moment a relative time printed ("3 hours ago") stops being true, if any.
        self.valid_until: float | None = None
        # Where stdout holds the run's `cost` object (--json --stats), if it does.
        self.cost_span: tuple[int, int] | None = None
        self._saved: tuple[Any, Any] | None = None

    def record(self, name: str, text: str) -> None:
        if name == "stdout":
            self.written += len(text)
            if self._spill is not None:
                self._spill.write(text)
                return
            self.stdout.append(text)
            self._held += len(text)
            if self._held > SPILL_CHARS:
                import tempfile

                # any str round-trips (lone surrogates too), newlines untranslated
                self._spill = tempfile.TemporaryFile(
                    "w+", encoding="utf-8", errors="surrogatepass", newline=""
                )
                self._spill.writelines(self.stdout)
                self.stdout = []
        elif text and not self.muted:
            self.stderr.append(text)
            self.talked = True

    def start(self) -> None:
        global _capture
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _Tee(sys.stdout, self, "stdout")  # type: ignore[assignment]
        sys.stderr = _Tee(sys.stderr, self, "stderr")  # type: ignore[assignment]
        _capture = self

    def stop(self) -> None:
        global _capture
        if self._saved is not None:
            sys.stdout, sys.stderr = self._saved
            self._saved = None
        _capture = None

    def pieces(self) -> Iterator[str]:
        """What was written on stdout, in order, a piece at a time."""
        if self._spill is None:
            yield from self.stdout
            return
        self._spill.seek(0)
        while piece := self._spill.read(SPILL_CHARS):
            yield piece
        self._spill.seek(0, 2)  # writes go on at the end

    @property
    def text(self) -> str:
        return "".join(self.pieces())

    def close(self) -> None:
        """Drop the temporary file, if stdout went to one (after the run was saved)."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    @property
    def err_text(self) -> str:
        return "".join(self.stderr)


_capture: Capture | None = None


def note_talk(*, error: bool = False) -> None:
    """Something is said on stderr: a warning (saved and replayed with the output) or, with
    `error`, an error (the run is not saved). Said while the spinner mutes stderr, it is not
    recorded, so that run is not saved either."""
    if _capture is not None:
        _capture.talked = True
        if error:
            _capture.errored = True
        if _capture.muted:
            _capture.unrecorded = True


def note_cost_span(start: int, end: int) -> None:
    """The next write to stdout holds the run's `cost` object at [start, end) of its text."""
    if _capture is not None:
        done = _capture.written
        _capture.cost_span = (done + start, done + end)


def note_valid_until(moment: float) -> None:
    """What was printed reads differently after `moment` (unix time)."""
    if _capture is not None:
        current = _capture.valid_until
        _capture.valid_until = moment if current is None else min(current, moment)


@contextmanager
def stderr_muted() -> Iterator[None]:
    """Writes to stderr in this block (the spinner's frames) do not count as talk; warnings
    logged meanwhile still do (they call `note_talk()`)."""
    capture = _capture
    if capture is not None:
        capture.muted += 1
    try:
        yield
    finally:
        if capture is not None:
            capture.muted -= 1


def expiry(
    command: str,
    capture: Capture,
    *,
    reusable: bool,
    reuse_until: float | None,
    ttls: Mapping[str, int],
    now: float | None = None,
) -> float | None:
    """When the saved result must stop being used; None when it must not be saved at all."""
    if capture.errored or capture.unrecorded or not reusable:
        return None
    now = time.time() if now is None else now
    limits = [now + ttls.get(name, 0) for name in ELIGIBLE[command]]
    if reuse_until is not None:
        limits.append(reuse_until)
    if capture.valid_until is not None:
        limits.append(capture.valid_until)
    return min(limits)


# -- cache info / cache clear -----------------------------------------------------------------


def _private_dir(path: str) -> bool:
    """Whether `path` belongs to this user and only this user can write it (the rule of
    `cache.ensure_private_dir`, which the full path enforces with a clear error)."""
    if not hasattr(os, "geteuid"):
        return True
    try:
        info = os.stat(path)
    except OSError:
        return True  # not created yet: the full path creates it 0700
    return info.st_uid == os.geteuid() and not info.st_mode & 0o022


def results_dir(cache_dir: os.PathLike[str] | str) -> str:
    return os.path.join(os.fspath(cache_dir), RESULTS_DIR)


def count(cache_dir: os.PathLike[str] | str) -> int:
    try:
        return sum(1 for n in os.listdir(results_dir(cache_dir)) if n.endswith(".json"))
    except OSError:
        return 0


def clear(cache_dir: os.PathLike[str] | str, *, expired_only: bool = False) -> int:
    """Delete saved results (only the expired ones with `expired_only`); how many went."""
    import json

    folder = results_dir(cache_dir)
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    removed = 0
    now = time.time()
    for name in names:
        path = os.path.join(folder, name)
        if expired_only and name.endswith(".json"):
            try:
                with open(path, "rb") as fh:
                    if float(json.loads(fh.read())["expires_at"]) > now:
                        continue
            except (OSError, ValueError, KeyError, TypeError):
                pass  # unreadable: goes too
        elif expired_only:
            continue
        try:
            os.unlink(path)
            removed += 1
        except OSError:
            pass
    if not expired_only:
        try:
            os.rmdir(folder)
        except OSError:
            pass
    return removed
