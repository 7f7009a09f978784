"""The exit-code contract of the `dockerhub` command (documented in README and the man page)."""

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit statuses. Scripts depend on these: add codes, never renumber them."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    NOT_FOUND = 3
    AUTH = 4
    RATE_LIMITED = 5
    NETWORK = 6
    NOT_AN_IMAGE = 7
    CHECK_FAILED = 8
    LOCAL_FILE = 9
    # `verify`
    SIGNATURE_INVALID = 10
    UNSIGNED = 11
    UNVERIFIABLE = 12
    INTERRUPTED = 130


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.UNEXPECTED: "unexpected error (a bug: run again with --debug and report it)",
    ExitCode.USAGE: "usage error or invalid input (bad reference, option out of range)",
    ExitCode.NOT_FOUND: "not found (repository, tag, platform, or data such as an SBOM)",
    ExitCode.AUTH: "authentication failed or access denied",
    ExitCode.RATE_LIMITED: "rate limited by Docker Hub or the registry (also: --max-pulls "
    "reached, stopped before the pull that would pass it)",
    ExitCode.NETWORK: "network, timeout or upstream error (also: offline cache miss, "
    "--max-download reached)",
    ExitCode.NOT_AN_IMAGE: (
        "not a container image (an OCI artifact; dockerhub manifest still shows it)"
    ),
    ExitCode.CHECK_FAILED: "a check you asked for failed (waste over --max-wasted-bytes or "
    "under --min-efficiency; pin --check: a pin is missing or stale; watch --check: a "
    "reference moved or a newer tag appeared)",
    ExitCode.LOCAL_FILE: (
        "a local file problem: config.json unreadable or not writable, the cache directory "
        "unusable, a configured credential helper missing"
    ),
    ExitCode.SIGNATURE_INVALID: (
        "verify: a signature is attached but fails a check (bad signature, another digest or "
        "repository)"
    ),
    ExitCode.UNSIGNED: "verify: no signature is attached to the image",
    ExitCode.UNVERIFIABLE: (
        "verify: signatures are attached but none could be checked (no key or trusted root, "
        "notation)"
    ),
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}
