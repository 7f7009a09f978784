"""This program's per-user directories (standard library only: the result cache's fast path
and every command's start-up use it).

On Linux and the BSDs they follow the XDG Base Directory rule, which is all platformdirs does
there: `$XDG_CACHE_HOME/dockerhub-cli` (`$XDG_CONFIG_HOME/dockerhub-cli`) when the variable
holds an absolute path, else `~/.cache/dockerhub-cli` (`~/.config/dockerhub-cli`). macOS,
Windows and Android have their own places, which platformdirs knows: it is imported only there
(elsewhere importing it would be ~10 ms of every run's start-up for these few lines).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Literal

APP_NAME = "dockerhub-cli"


def user_dir(kind: Literal["cache", "config"], env: Mapping[str, str] | None = None) -> str:
    """The per-user cache or config directory of this program (not created)."""
    env = os.environ if env is None else env
    if sys.platform in ("win32", "darwin", "ios") or "ANDROID_DATA" in env:
        import platformdirs

        if kind == "cache":
            return platformdirs.user_cache_dir(APP_NAME, appauthor=False)
        return platformdirs.user_config_dir(APP_NAME, appauthor=False)
    base = env.get("XDG_CACHE_HOME" if kind == "cache" else "XDG_CONFIG_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(_home(env), f".{kind}")
    return os.path.join(base, APP_NAME)


def _home(env: Mapping[str, str]) -> str:
    """$HOME when it is an absolute path, else the account's home (as platformdirs does)."""
    home = env.get("HOME", "")
    if os.path.isabs(home):
        return home
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, KeyError):
        return os.path.expanduser("~")
