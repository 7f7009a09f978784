"""The base of every result model (its own module, so that a command imports only the models
it returns: a pydantic class costs about a millisecond to create, even with its schema
deferred)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from dockerhub_cli.lean_imports import import_pydantic_plugin_loader

# pydantic imports its plugin loader, and with it importlib.metadata, on the first schema
# build; plugins are off in this program (PYDANTIC_DISABLE_PLUGINS, set by __main__).
import_pydantic_plugin_loader()


class Model(BaseModel):
    # Schemas are built on first use: a run imports dozens of result models and uses a few
    # (building them all was a third of the import time of a cold `inspect`).
    model_config = ConfigDict(extra="forbid", defer_build=True)


def empty_list() -> list[Any]:
    """`Field(default_factory=empty_list)`: what `default_factory=list` does, minus its cost:
    pydantic asks each factory for its signature while building a schema, and the signature
    of the builtin `list` is parsed from text with the tokenizer (~3 ms for the first schema
    of a run, then 0.15 ms a field). The JSON schema is the same (a factory is not shown)."""
    return []
