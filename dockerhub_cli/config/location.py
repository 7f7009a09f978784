"""Where the config file is (`$DOCKERHUB_CONFIG`, else `<user config dir>/config.toml`).

Apart from `config.file` so that `config path`, which prints only this, imports neither the
file's dataclasses nor its parser (dataclasses pulls in inspect, ast and dis).
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "DOCKERHUB_CONFIG"


def config_path() -> Path:
    env = os.environ.get(CONFIG_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from dockerhub_cli.paths import user_dir

    return Path(user_dir("config")) / "config.toml"
