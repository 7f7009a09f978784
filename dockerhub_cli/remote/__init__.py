"""Network side: transport, cache store, auth, keychain, rate limiting, circuit breaker, clients."""

from dockerhub_cli.lean_imports import trim_on_first_import

# Whoever imports requests first (hub, registry, transport) imports it without its eager
# character-set detection and urllib3's HTTP/2 metadata lookup (lean_imports.py).
trim_on_first_import()
