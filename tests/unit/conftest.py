"""Fixtures shared by the unit tests: `responses` mocking and a service on a fresh cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.service import DockerHubService


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Mocked HTTP; unmatched requests fail, unused mocks are allowed."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def service() -> Iterator[DockerHubService]:
    """A service on the test's private cache dir, retrying without backoff."""
    with DockerHubService(Settings.from_env(backoff_factor=0.0)) as svc:
        yield svc
