"""Result models: the one contract for --json and MCP."""
