"""Fixtures for integration tests against real registries on loopback.

Session fixtures (started once, torn down at the end of the run):

* ``registry``        plain distribution registry, seeded under ``demo/``
* ``token_registry``  Bearer-token registry (our token server), seeded under ``public/`` and
                      ``private/`` (anonymous may pull ``public/*`` only; ``alice:wonderland``
                      may do anything)
* ``basic_registry``  Basic-auth registry (``bob:builder``), seeded under ``demo/``
* ``redis_server`` / ``redis_url``  a throw-away ``redis-server``
* ``standard_images`` the OCI layout every registry is seeded from

Function fixtures:

* ``image_pusher``       an :class:`ImagePusher` bound to ``registry`` with a per-test namespace
* ``make_image_pusher``  ``make_image_pusher(some_registry)`` for the auth registries
* ``registry_factory``   ``registry_factory(auth="none", seed=False)`` for a fresh private registry

Every test under ``tests/integration`` is marked ``integration``. If a needed binary is missing
the fixtures skip (naming the binary and its Debian package), except with ``CI=true``, where a
missing binary is a failure.
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

# `tests.support` lives at the repository root; make it importable however pytest was started
# (rootdir-relative conftest imports do not put the root on sys.path by themselves).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.custom_images import ImagePusher  # noqa: E402
from tests.support.registry import (  # noqa: E402
    AuthMode,
    RedisServer,
    Registry,
    describe_missing,
    missing_binaries,
    start_redis,
    start_registry,
)
from tests.support.standard_images import (  # noqa: E402
    StandardImages,
    build_standard_images,
    seed_registry,
)

HERE = Path(__file__).resolve().parent

REGISTRY_BINARIES = ("docker-registry", "skopeo", "umoci")

# Seeding timings (seconds), reported in the terminal summary.
_TIMINGS: dict[str, float] = {}


# --------------------------------------------------------------------------------------------
# Marker and collection
# --------------------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "integration: needs real software on loopback (docker-registry, skopeo, umoci, "
        "redis-server)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item, so only mark the ones under this directory.
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _TIMINGS:
        parts = ", ".join(f"{k} {v:.2f}s" for k, v in _TIMINGS.items())
        terminalreporter.write_line(f"integration harness setup: {parts}")


# --------------------------------------------------------------------------------------------
# Binary rule
# --------------------------------------------------------------------------------------------
def require_binaries(*names: str) -> None:
    """Skip (or, with CI=true, fail) when any of *names* is not on PATH."""
    missing = missing_binaries(names)
    if not missing:
        return
    reason = describe_missing(missing)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _timed(name: str, start: float) -> None:
    _TIMINGS[name] = _TIMINGS.get(name, 0.0) + time.monotonic() - start


# --------------------------------------------------------------------------------------------
# Session fixtures
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def standard_images(tmp_path_factory: pytest.TempPathFactory) -> StandardImages:
    """The standard images in an OCI layout (built once, pushed to every seeded registry)."""
    require_binaries(*REGISTRY_BINARIES)
    t0 = time.monotonic()
    std = build_standard_images(tmp_path_factory.mktemp("standard-images"))
    _timed("build images", t0)
    return std


def _seeded(
    workdir: Path,
    std: StandardImages,
    auth: AuthMode,
    namespaces: Sequence[str],
    label: str,
) -> Iterator[Registry]:
    t0 = time.monotonic()
    reg = start_registry(workdir, auth)
    try:
        _timed(f"{label} start", t0)
        reg.seeded = seed_registry(reg.host, std, namespaces=namespaces, creds=reg.creds)
        _TIMINGS[f"{label} seed"] = reg.seeded.seconds
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def registry(
    tmp_path_factory: pytest.TempPathFactory, standard_images: StandardImages
) -> Iterator[Registry]:
    """Plain registry seeded with the standard images under ``demo/`` (see ``reg.seeded``)."""
    yield from _seeded(
        tmp_path_factory.mktemp("registry"), standard_images, "none", ("demo",), "registry"
    )


@pytest.fixture(scope="session")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, standard_images: StandardImages
) -> Iterator[Registry]:
    """Bearer-auth registry (realm ``reg.realm``, service ``test-registry``) seeded under
    ``public/`` and ``private/`` with alice's credentials; ``reg.token_server`` logs requests."""
    yield from _seeded(
        tmp_path_factory.mktemp("token-registry"),
        standard_images,
        "token",
        ("public", "private"),
        "token_registry",
    )


@pytest.fixture(scope="session")
def basic_registry(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Registry]:
    """Basic-auth registry (``bob:builder``) seeded with the standard images under ``demo/``."""
    # Check every binary first so the skip reason lists them all.
    require_binaries(*REGISTRY_BINARIES, "htpasswd")
    std: StandardImages = request.getfixturevalue("standard_images")
    yield from _seeded(
        tmp_path_factory.mktemp("basic-registry"),
        std,
        "basic",
        ("demo",),
        "basic_registry",
    )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_binaries("redis-server")
    t0 = time.monotonic()
    server = start_redis(tmp_path_factory.mktemp("redis"))
    _timed("redis start", t0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:PORT/0`` (shared by the session; ``redis_server.flushall()`` resets)."""
    return redis_server.url


# --------------------------------------------------------------------------------------------
# Function fixtures
# --------------------------------------------------------------------------------------------
def _test_namespace(request: pytest.FixtureRequest) -> str:
    """A registry-safe, unique repository namespace for the current test."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40] or "test"
    return f"t/{slug}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_image_pusher(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[Registry], ImagePusher]:
    """``make_image_pusher(reg)`` -> an :class:`ImagePusher` for *reg* (using ``reg.creds``).

    Its ``namespace`` is unique to the test; build names with ``pusher.repo("x") + ":1"``.
    """
    namespace = _test_namespace(request)

    def make(reg: Registry) -> ImagePusher:
        workdir = tmp_path_factory.mktemp("pusher")
        return ImagePusher(workdir, reg.host, reg.creds, namespace=namespace)

    return make


@pytest.fixture
def image_pusher(
    registry: Registry, make_image_pusher: Callable[[Registry], ImagePusher]
) -> ImagePusher:
    """An :class:`ImagePusher` bound to the plain ``registry``."""
    return make_image_pusher(registry)


@pytest.fixture
def registry_factory(
    tmp_path_factory: pytest.TempPathFactory, standard_images: StandardImages
) -> Iterator[Callable[..., Registry]]:
    """Start fresh registries owned by one test (stopped at its end).

    ``registry_factory(auth="none"|"token"|"basic", seed=False, namespaces=("demo",))``
    """
    started: list[Registry] = []

    def make(
        auth: AuthMode = "none", *, seed: bool = False, namespaces: Sequence[str] = ("demo",)
    ) -> Registry:
        if auth == "basic":
            require_binaries("htpasswd")
        reg = start_registry(tmp_path_factory.mktemp(f"registry-{auth}"), auth)
        started.append(reg)
        if seed:
            reg.seeded = seed_registry(
                reg.host, standard_images, namespaces=namespaces, creds=reg.creds
            )
        return reg

    try:
        yield make
    finally:
        for reg in started:
            reg.stop()
