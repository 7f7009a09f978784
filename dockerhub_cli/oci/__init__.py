"""Pure OCI types and parsing: references, platforms, media types, manifests, versions."""
