"""`config path`'s body (`config show` is a plain spec entry)."""

from __future__ import annotations


def config_path() -> None:
    """Print the path of the config file (whether or not it exists)."""
    import typer

    from dockerhub_cli.config.file import config_path as path

    typer.echo(str(path()))
