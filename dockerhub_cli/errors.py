"""The one exception tree of hubscope (the `dockerhub` command).

The service raises only these; no `requests` exception escapes it. Each class carries the exit
code it maps to, and every message is one line that names the bad input and what to do next.
"""

from __future__ import annotations

from dockerhub_cli.exitcodes import ExitCode


class DockerHubError(Exception):
    """Base class. `message` says what went wrong; `hint` says what to try."""

    exit_code: ExitCode = ExitCode.UNEXPECTED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        """Message and hint in neutral words; each front-end words `message` and `hint`
        itself (`dockerhub_cli.advice`)."""
        from dockerhub_cli.advice import plain

        return plain(f"{self.message} ({self.hint})" if self.hint else self.message)


class InvalidInputError(DockerHubError):
    """The user's input is malformed or out of range (exit 2)."""

    exit_code = ExitCode.USAGE


class InvalidReferenceError(InvalidInputError):
    """An image reference breaks one of Docker's reference rules."""


class NotFoundError(DockerHubError):
    """Repository, tag, manifest or blob does not exist (or is hidden from us) (exit 3)."""

    exit_code = ExitCode.NOT_FOUND


class PlatformNotFoundError(NotFoundError):
    """The image exists but not for the requested platform."""

    def __init__(self, message: str, *, available: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.available = available


class NoAttestationError(NotFoundError):
    """The image carries no attestation of the kind asked for (no SBOM, no provenance).

    Never answered with an empty result: "no SBOM" must not read as "no vulnerabilities"."""


class AuthError(DockerHubError):
    """Credentials were refused, or the resource needs credentials we do not have (exit 4)."""

    exit_code = ExitCode.AUTH


class RateLimitedError(DockerHubError):
    """Docker Hub or the registry said 429 and kept saying it (exit 5)."""

    exit_code = ExitCode.RATE_LIMITED

    def __init__(
        self, message: str, *, retry_after: float | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class NetworkError(DockerHubError):
    """Connection failed, timed out, or the host is unreachable (exit 6)."""

    exit_code = ExitCode.NETWORK


class OfflineCacheMissError(NetworkError):
    """`--offline` was given and the answer is not in the cache."""


class LocalFileError(DockerHubError):
    """A file or program on this machine is in the way: config.json cannot be read or written,
    the cache directory is unusable, a configured credential helper is missing (exit 9).
    Neither a bug (1) nor the network (6): the message names the path and what to fix."""

    exit_code = ExitCode.LOCAL_FILE


class UpstreamError(DockerHubError):
    """The server answered, but with an error or with something we cannot trust (exit 6)."""

    exit_code = ExitCode.NETWORK


class UnsupportedMediaTypeError(UpstreamError):
    """A manifest or blob of a media type this tool does not understand."""


class DigestMismatchError(UpstreamError):
    """Content does not hash to the digest the registry promised: never used as data."""


class NotAnImageError(UnsupportedMediaTypeError):
    """The manifest is fine but describes an OCI artifact (Helm chart, signature, WASM module...),
    not a container image: no config to inspect (exit 7; `dockerhub manifest` still shows it)."""

    exit_code = ExitCode.NOT_AN_IMAGE


class DownloadLimitError(NetworkError):
    """Reading more would pass --max-download: stopped before (or as soon as) it would (exit 6)."""


class CheckFailedError(DockerHubError):
    """A CI gate the user set did not pass, e.g. `waste --max-wasted-bytes` (exit 8)."""

    exit_code = ExitCode.CHECK_FAILED


class PullLimitError(DockerHubError):
    """Going on would spend more Docker Hub pulls than `--max-pulls` allows: stopped before
    the manifest GET that would pass it (exit 5, like the other rate limits: the quota is the
    user's own this time, so waiting does not help; raising the limit does)."""

    exit_code = ExitCode.RATE_LIMITED

    def __init__(self, message: str, *, limit: int, spent: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.limit = limit
        self.spent = spent
