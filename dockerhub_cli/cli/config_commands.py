"""`config path`'s body (`config show` is a plain spec entry)."""

from __future__ import annotations


def config_path() -> None:
    """Print the path of the config file (whether or not it exists), on one line with any
    control character made visible (it comes from the environment)."""
    import sys

    from dockerhub_cli.config.location import config_path as path
    from dockerhub_cli.text import visible_line

    sys.stdout.write(visible_line(str(path())) + "\n")
    sys.stdout.flush()
