"""Which credential may go to which host and scheme: the one place that decides (README,
Security). Imported by the transport (redirects) and by the registry auth (token realms); it
imports nothing of ours but errors, so neither of them has to import the other for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dockerhub_cli.errors import AuthError

# -- which credential may go where: the one place that decides ----------------------------------

DOCKER_HUB_HOSTS = frozenset(
    {
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "registry.hub.docker.com",
        "auth.docker.io",
        "hub.docker.com",
    }
)


def _is_loopback(host: str) -> bool:
    import ipaddress

    name = (host or "").strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class CredentialPolicy:
    """Where a credential (password, PAT, identity token) may be sent. README, "Security":

    | credential | may go to |
    |---|---|
    | any | only http(s) URLs without user info |
    | any, registry reached over HTTPS | HTTPS only: never plain HTTP |
    | Docker Hub (DOCKERHUB_TOKEN, docker.io login) | Docker Hub's own hosts only: the configured
      Hub and registry hosts and Docker Hub's token service (auth.docker.io) |
    | another registry's, realm on the registry's own host | as the registry was reached |
    | another registry's, realm on another host | HTTPS; HTTP only when the registry itself is
      loopback or explicitly insecure (DOCKERHUB_INSECURE_REGISTRIES, --insecure) |
    | any, on a redirect (a blob sent to a CDN) | only to the same host and port, and never from
      HTTPS to HTTP: `keeps_on_redirect`, which the session applies to every redirect |

    A refusal is an AuthError naming the host; nothing is sent.
    """

    hub_hosts: frozenset[str] = DOCKER_HUB_HOSTS
    insecure_hosts: frozenset[str] = frozenset()
    insecure_all: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> CredentialPolicy:
        configured = {
            (urlsplit(url).hostname or "").lower()
            for url in (settings.hub_url, settings.registry_url)
        }
        return cls(
            hub_hosts=DOCKER_HUB_HOSTS | {h for h in configured if h},
            insecure_hosts=frozenset(settings.insecure_registries),
            insecure_all=bool(settings.insecure),
        )

    def refusal(self, origin: str, target: str, *, docker_hub: bool) -> str | None:
        """Why credentials for the registry at `origin` may not go to `target`; None if they may."""
        src, dst = urlsplit(origin), urlsplit(target)
        if dst.scheme not in ("http", "https") or not dst.hostname:
            return "it is not an http(s) URL"
        if "@" in dst.netloc:
            return "the URL carries user info"
        if src.scheme == "https" and dst.scheme == "http":
            return "it is plain HTTP and the registry was reached over HTTPS"
        target_host = dst.hostname.lower()
        if docker_hub:
            if target_host not in self.hub_hosts:
                return "a Docker Hub credential goes only to Docker Hub's own hosts"
            return None
        same_host = target_host == (src.hostname or "").lower()
        if dst.scheme == "http" and not same_host:
            registry = src.netloc
            if not (
                _is_loopback(src.hostname or "")
                or self.insecure_all
                or registry in self.insecure_hosts
                or (src.hostname or "") in self.insecure_hosts
            ):
                return (
                    "plain HTTP to another host is allowed only for loopback or insecure registries"
                )
        return None

    @staticmethod
    def keeps_on_redirect(origin: str, target: str) -> bool:
        """Whether a request redirected from `origin` to `target` keeps its Authorization
        header: only to the same host and port (http -> https on the default ports counts as
        the same), never to another host (a CDN's signed URL needs none) nor down to HTTP."""
        src, dst = urlsplit(origin), urlsplit(target)
        if dst.scheme not in ("http", "https") or "@" in dst.netloc:
            return False
        if (src.hostname or "").lower() != (dst.hostname or "").lower():
            return False
        if src.scheme == "https" and dst.scheme == "http":
            return False
        default = {"http": 80, "https": 443}
        src_port = src.port or default.get(src.scheme)
        dst_port = dst.port or default.get(dst.scheme)
        if src_port == dst_port:
            return True
        return src.scheme == "http" and dst.scheme == "https" and (src_port, dst_port) == (80, 443)

    def check(self, origin: str, target: str, *, docker_hub: bool, what: str) -> None:
        why = self.refusal(origin, target, docker_hub=docker_hub)
        if why is not None:
            host = urlsplit(target).netloc or target
            raise AuthError(
                f"refusing to send the credentials for {urlsplit(origin).netloc} to {host} "
                f"({what}): {why}; nothing was sent",
                hint="the registry's token realm points somewhere its credentials do not belong;"
                " check the registry URL, or unset the credentials for anonymous access",
            )
