#!/usr/bin/env python
"""How long the library takes to report a connection that cannot be made (issue 18, item 2),
and how many connection attempts it makes for it.

    python benchmarks/connect_failures.py [--root CHECKOUT] [--runs 5]

Two cases, each run `--runs` times in a fresh child process of the checkout at `--root`
(default: this one), so the same script measures another branch's code side by side:

* `dns`: Docker Hub's tags of nginx with a host name that does not resolve (the resolver is
  replaced in the child: it fails the way a machine without a network does, at once; no
  query leaves the machine),
* `refused`: `inspect 127.0.0.1:PORT/x:1` on a closed loopback port.

Prints, per case, the median wall time from the call to the error (start-up excluded), the
attempts the child made (calls of `socket.getaddrinfo` / `create_connection`), and the error.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, socket, sys, time
from urllib3.util import connection
case, port = sys.argv[1], int(sys.argv[2])
attempts = []
real_gai, real_connect = socket.getaddrinfo, connection.create_connection

def gai(host, *args, **kwargs):
    if case == "dns" and not host[0].isdigit():
        attempts.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return real_gai(host, *args, **kwargs)

def connect(address, *args, **kwargs):
    if case == "refused":
        attempts.append(address[0])
    return real_connect(address, *args, **kwargs)

socket.getaddrinfo = gai
connection.create_connection = connect
for _name in ("http_stack", "transport"):  # where newer checkouts' resolver looks it up
    try:
        _module = __import__(f"dockerhub_cli.remote.{_name}", fromlist=["getaddrinfo"])
    except ImportError:
        continue
    if hasattr(_module, "getaddrinfo"):
        _module.getaddrinfo = gai
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import DockerHubError
from dockerhub_cli.service import DockerHubService

service = DockerHubService(Settings.from_env(no_cache=True))
started = time.monotonic()
try:
    if case == "dns":
        service.tags("nginx")
    else:
        service.inspect(f"127.0.0.1:{port}/x:1")
    message = "no error"
except DockerHubError as exc:
    message = exc.message
print(json.dumps({"seconds": time.monotonic() - started, "attempts": len(attempts),
                  "error": message}))
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(root: Path, case: str, cache: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERHUB_")}
    env.update({"PYTHONPATH": str(root), "DOCKERHUB_CACHE_DIR": cache})
    done = subprocess.run(
        [sys.executable, "-c", CHILD, case, str(closed_port())],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=root,
        check=False,
    )
    if done.returncode != 0:
        return {"seconds": float("nan"), "attempts": -1, "error": done.stderr.strip()[-200:]}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose code is timed")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"checkout {args.root}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as cache:
        for case in ("dns", "refused"):
            results = [run(args.root, case, cache) for _ in range(args.runs)]
            seconds = statistics.median(float(str(r["seconds"])) for r in results)
            attempts = sorted({int(str(r["attempts"])) for r in results})
            print(
                f"{case:8} median {seconds:6.3f} s over {args.runs} runs; attempts {attempts}; "
                f"{results[0]['error']}"
            )


if __name__ == "__main__":
    main()
