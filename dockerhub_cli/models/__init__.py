"""Result models: the one contract for --json and MCP."""

from dockerhub_cli.lean_imports import forward_references_compiled_on_use, trim_on_first_import

# pydantic (imported by the model modules, and only then) imports pydantic-core's schema
# module, whose ~730 string annotations need not be compiled (see lean_imports).
trim_on_first_import("pydantic", forward_references_compiled_on_use)
