"""Network side: transport, cache store, auth, keychain, rate limiting, circuit breaker, clients."""
