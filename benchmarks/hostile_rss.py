#!/usr/bin/env python
"""Peak RSS of `dockerhub` while a hostile loopback server streams 2 GiB (issue 12, row 4).

    python benchmarks/hostile_rss.py

For each kind of body (a manifest by tag, an image config, an attestation blob, a tags/list
page) the hostile server (tests/support/hostile.py) answers with a chunked body of up to 2 GiB
that has no length. Each case runs in a fresh child process (the library, as the CLI would
use it); the child's peak RSS comes from wait4(). Prints one line per case: what the tool said,
how many bytes the server managed to send, the wall time and the peak RSS. Asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.hostile import HostileServer, endless  # noqa: E402

DIGEST = "sha256:" + "ab" * 32
CHILD = r"""
import sys
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import DockerHubError
from dockerhub_cli.oci.reference import parse_reference
from dockerhub_cli.service import DockerHubService

kind, host, digest = sys.argv[1:4]
ref = parse_reference(f"{host}/team/app:1.0")
with DockerHubService(Settings.from_env()) as svc:
    try:
        if kind == "manifest":
            svc.registry.get_manifest(ref, "1.0")
        elif kind == "config":
            svc.registry.get_blob(ref, digest, what="image config")
        elif kind == "attestation":
            svc.registry.get_blob(ref, digest, what="attestation")
        else:
            list(svc.registry.iter_tag_pages(ref))
        print("no error (unexpected)")
    except DockerHubError as exc:
        print(type(exc).__name__ + ": " + exc.message[:110])
"""


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.chmod(cache, 0o700)
        env = {**os.environ, "DOCKERHUB_CACHE_DIR": cache, "DOCKERHUB_TIMEOUT": "120"}
        for kind in ("manifest", "config", "attestation", "tags"):
            with HostileServer(max_seconds=150) as srv:
                srv.route("*", endless(limit=2 * 1024**3))
                started = time.monotonic()
                proc = subprocess.Popen(
                    [sys.executable, "-c", CHILD, kind, srv.host, DIGEST],
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                _, status, usage = os.wait4(proc.pid, 0)
                elapsed = time.monotonic() - started
                said = proc.stdout.read().strip() if proc.stdout else ""
                proc.returncode = os.waitstatus_to_exitcode(status)
            rows.append((kind, usage.ru_maxrss / 1024, elapsed, said))
    print(f"{'body':<12} {'peak RSS':>9} {'time':>7}  what the tool said")
    for kind, rss, elapsed, said in rows:
        print(f"{kind:<12} {rss:>6.0f} MB {elapsed:>6.1f}s  {said}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
