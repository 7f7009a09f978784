"""`ToolError`: a tool failed; its text is worded for the model (only the standard library, so
modules that raise or catch it import no SDK)."""

from __future__ import annotations

__all__ = ["ToolError"]


class ToolError(Exception):
    """A tool failed; its text is worded for the model (the server answers it as a tool error).

    Our own class: the SDK's (`mcp.server.mcpserver.exceptions`) would import `MCPServer` and
    its resources, which the low-level server never uses; `answer()` turns it into the result."""
