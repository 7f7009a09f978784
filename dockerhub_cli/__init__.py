"""hubscope (the `dockerhub` command): Docker Hub and any OCI registry, in a terminal or over MCP.

The library entry point is :class:`dockerhub_cli.service.DockerHubService`. This module stays
import-light on purpose: `dockerhub --version` must not pay for requests, pydantic or mcp.
"""

__version__ = "0.1.0"
