"""`config show` and `config path`: the effective settings and where they come from."""

from __future__ import annotations

import typer

from dockerhub_cli.cli.app import app, command

config_app = typer.Typer(
    name="config",
    help="Show the effective configuration (flag > env > config file > default).",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


@command("show", group=config_app)
def config_show() -> None:
    """Print every effective setting with its source (flag, env, config or default).

    Secrets are printed as <redacted>. The config file is TOML, at $DOCKERHUB_CONFIG or
    config.toml in the user config directory.

    Example: dockerhub config show --format '{key}={value}'
    """
    from dockerhub_cli.cli.app import run_settings
    from dockerhub_cli.config.file import report
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.account import config_report

    emit(report(run_settings()), json_output=False, render=config_report)  # --json: see command()


@command("path", group=config_app, output=False)
def config_path_command() -> None:
    """Print the path of the config file (whether or not it exists).

    Example: dockerhub config path
    """
    from dockerhub_cli.config.file import config_path

    typer.echo(str(config_path()))
