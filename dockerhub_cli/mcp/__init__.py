"""MCP server front-end."""
