"""The settings every `homeward` command starts from, or one sentence and exit 2."""

from __future__ import annotations

import typer

from core.settings import Settings


def settings_or_exit() -> Settings:
    try:
        return Settings()
    except Exception as error:  # pydantic's message names the variable and the problem
        typer.echo(f"Configuration error: {error}", err=True)
        raise typer.Exit(2) from None
