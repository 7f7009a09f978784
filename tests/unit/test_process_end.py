"""The console script ends its process without the interpreter's teardown (`__main__.run`,
`end_process`), and otherwise exactly as the interpreter's own exit: threads that are not
daemons are waited for, `atexit` functions run, stdout and stderr are flushed whole, and the
exit code (or a message's exit 1) is the same."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout buffered
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_the_functions_it_relies_on_are_there() -> None:
    """Without them `end_process` takes the normal exit (slower, never wrong): this fails when
    a Python upgrade removes them, so that the trick is not lost unnoticed."""
    assert callable(getattr(threading, "_shutdown", None))
    assert callable(getattr(atexit, "_run_exitfuncs", None))


def test_the_teardown_is_skipped_and_everything_before_it_is_done() -> None:
    done = _python(
        "import atexit, sys, threading\n"
        "from dockerhub_cli.__main__ import end_process\n"
        "class Torn:\n"
        "    def __del__(self): print('torn down', flush=True)\n"
        "kept = Torn()  # a module global: deleted only by the teardown\n"
        "atexit.register(lambda: print('atexit ran', flush=True))\n"
        "def late():\n"
        "    threading.main_thread().join()  # returns once the exit began\n"
        "    print('thread finished')\n"
        "threading.Thread(target=late).start()\n"
        "sys.stdout.write('x' * 3_000_000)  # buffered: written out by the flush\n"
        "sys.stderr.write('talk')\n"
        "end_process(None)\n"
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out[:3_000_000] == "x" * 3_000_000
    # the thread (not a daemon) was waited for before atexit, as the interpreter does
    assert out[3_000_000:] == "thread finished\natexit ran\n"
    assert "torn down" not in out
    assert done.stderr == "talk"
    # the same program ending the normal way is torn down (the trick is what skips it)
    normal = _python("class Torn:\n    def __del__(self): print('torn down')\nkept = Torn()\n")
    assert normal.stdout == "torn down\n"


@pytest.mark.parametrize(
    ("body", "code", "err"),
    [
        ("pass", 0, ""),
        ("raise SystemExit(3)", 3, ""),
        ("raise SystemExit(None)", 0, ""),
        ("raise SystemExit(258)", 2, ""),  # the low 8 bits, as sys.exit(258) gives
        ("raise SystemExit('a message')", 1, "a message\n"),  # the interpreter's own way
        ("raise SystemExit(True)", 1, ""),
    ],
)
def test_run_exits_with_the_code_main_gave(body: str, code: int, err: str) -> None:
    done = _python(
        "import sys\n"
        "from dockerhub_cli import __main__ as entry\n"
        f"def main():\n    {body}\n"
        "entry.main = main\n"
        "entry.run()\n"
    )
    assert (done.returncode, done.stderr) == (code, err)


def test_a_failing_flush_takes_the_interpreters_exit() -> None:
    """stdout closed under the program (not by the reader leaving, which `main` handles):
    the interpreter's exit reports it as it always did."""
    done = _python(
        "import os, sys\n"
        "from dockerhub_cli.__main__ import end_process\n"
        "sys.stdout.write('lost')\n"
        "os.close(sys.stdout.fileno())\n"
        "end_process(0)\n"
    )
    normal = _python("import os, sys\nsys.stdout.write('lost')\nos.close(sys.stdout.fileno())\n")
    assert done.returncode == normal.returncode == 120
    assert "Bad file descriptor" in done.stderr and "Bad file descriptor" in normal.stderr


def test_the_console_script_ends_through_it() -> None:
    import dockerhub_cli.__main__ as entry

    done = subprocess.run(
        [sys.executable, "-m", "dockerhub_cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("dockerhub ")
    assert entry.__name__ == "dockerhub_cli.__main__"
    source = Path(entry.__file__).read_text(encoding="utf-8")
    assert source.rstrip().endswith('if __name__ == "__main__":\n    run()')
