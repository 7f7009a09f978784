"""The base of every result model (its own module, so that a command imports only the models
it returns: a pydantic class costs about a millisecond to create, even with its schema
deferred)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from dockerhub_cli.lean_imports import import_pydantic_plugin_loader

# pydantic imports its plugin loader, and with it importlib.metadata, on the first schema
# build; plugins are off in this program (PYDANTIC_DISABLE_PLUGINS, set by __main__).
import_pydantic_plugin_loader()


class Model(BaseModel):
    # Schemas are built on first use: a run imports dozens of result models and uses a few
    # (building them all was a third of the import time of a cold `inspect`).
    model_config = ConfigDict(extra="forbid", defer_build=True)
