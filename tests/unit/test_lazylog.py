"""lazylog: loggers that import `logging` only when a record could be handled. The premise
(an unconfigured `logging` drops debug and info records) is checked against `logging` itself
in a fresh process, so a Python that changes it fails here."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from dockerhub_cli import lazylog


def _fresh(code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_an_unconfigured_logging_drops_what_a_lazy_logger_drops_unimported() -> None:
    out = _fresh(
        "import json, sys\n"
        "assert 'logging' not in sys.modules\n"
        "import logging\n"
        "from dockerhub_cli import lazylog\n"
        "log = logging.getLogger('dockerhub_cli.some.module')\n"
        "print(json.dumps({\n"
        "  'levels': [log.isEnabledFor(n) for n in range(0, 60, 5)],\n"
        "  'root': logging.getLogger().level, 'disable': logging.root.manager.disable,\n"
        "  'consts': [logging.DEBUG, logging.INFO, logging.WARNING],\n"
        "  'ours': [lazylog.DEBUG, lazylog.INFO, lazylog._ROOT_DEFAULT],\n"
        "  'lazy': [lazylog.getLogger('x').isEnabledFor(n) for n in range(0, 60, 5)],\n"
        "}))\n"
    )
    assert out["consts"] == out["ours"]
    assert out["root"] == logging.WARNING and out["disable"] == 0
    assert out["levels"] == [n >= logging.WARNING for n in range(0, 60, 5)]
    assert out["lazy"] == out["levels"]


def test_debug_and_info_do_not_import_logging_and_a_warning_reaches_the_handler() -> None:
    out = _fresh(
        "import json, sys\n"
        "from dockerhub_cli import lazylog\n"
        "seen = []\n"
        "def configure():\n"
        "    import logging\n"
        "    class H(logging.Handler):\n"
        "        def emit(self, record): seen.append((record.levelname, record.getMessage(),"
        " record.funcName))\n"
        "    logging.getLogger('dockerhub_cli').addHandler(H())\n"
        "lazylog.when_imported(configure)\n"
        "lazylog.when_imported(configure)  # once, however often it is asked\n"
        "log = lazylog.getLogger('dockerhub_cli.t')\n"
        "def caller():\n"
        "    log.debug('d %s', 1); log.info('i')\n"
        "    quiet = 'logging' not in sys.modules\n"
        "    log.warning('w %s', 2)\n"
        "    log.debug('d again')  # imported now: the real logger's level decides (WARNING)\n"
        "    log.error('e')\n"
        "    return quiet\n"
        "quiet = caller()\n"
        "print(json.dumps({'quiet': quiet, 'seen': seen}))\n"
    )
    assert out["quiet"] is True
    assert out["seen"] == [["WARNING", "w 2", "caller"], ["ERROR", "e", "caller"]]


def test_with_logging_imported_every_record_goes_to_the_real_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = lazylog.getLogger("dockerhub_cli.lazytest")
    with caplog.at_level(logging.DEBUG, logger="dockerhub_cli.lazytest"):
        log.debug("one %s", "d")
        log.info("two")
        log.warning("three")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("four")
        assert log.isEnabledFor(logging.DEBUG)
    records = [(r.levelname, r.getMessage(), r.funcName) for r in caplog.records]
    name = "test_with_logging_imported_every_record_goes_to_the_real_logger"
    assert records == [
        ("DEBUG", "one d", name),
        ("INFO", "two", name),
        ("WARNING", "three", name),
        ("ERROR", "four", name),
    ]
    assert caplog.records[-1].exc_info is not None


def test_a_cli_warning_still_prints_when_nothing_imported_logging_before() -> None:
    """The CLI's stderr handler is installed when a warning first imports logging."""
    out = _fresh(
        "import io, json, sys\n"
        "from dockerhub_cli.cli import run\n"
        "from dockerhub_cli import lazylog\n"
        "run._enable_logging(debug=False)\n"
        "before = 'logging' in sys.modules\n"
        "err = io.StringIO(); sys.stderr = err\n"
        "lazylog.getLogger('dockerhub_cli.http').debug('not shown')\n"
        "lazylog.getLogger('dockerhub_cli.http').warning('stale answer %s', 1)\n"
        "sys.stderr = sys.__stderr__\n"
        "print(json.dumps({'before': before, 'err': err.getvalue(),"
        " 'warned': sorted(run._warned)}))\n"
    )
    assert out["before"] is False
    assert out["err"] == "warning: stale answer 1\n"
    assert out["warned"] == ["stale answer 1"]
