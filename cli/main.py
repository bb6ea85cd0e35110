"""The `homeward` command: up, db upgrade, create-admin, demo, keys, backup, restore."""

from __future__ import annotations

import signal
import time
from datetime import timedelta
from typing import Annotated

import typer
from sqlmodel import select

from cli.backup import backup_command, restore_command
from cli.configuration import settings_or_exit
from cli.demo import ConsoleInbox, DemoLogin, create_demo, demo_password
from cli.keys import keys_app
from cli.stack import Port, Stack, StackError
from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from domain.agencies import NewAgency, NewUser, create_agency, create_user
from domain.corridors import CorridorConfigError, corridors_for
from domain.retention import cases_to_purge, purge_case
from models import Agency
from models.enums import AgencyKind, Role
from models.migrations import upgrade

app = typer.Typer(
    help="Homeward: repatriation cases, moved on agency by agency.", no_args_is_help=True
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.command("backup")(backup_command)
app.command("restore")(restore_command)

ADMIN_AGENCY_NAME = "Homeward administration"


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    settings = settings_or_exit()
    upgrade(settings.resolved_database_url)
    typer.echo("Database is up to date.")


@app.command("create-admin")
def create_admin(
    username: str,
    password: Annotated[
        str,
        typer.Option(
            envvar="HOMEWARD_ADMIN_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 12 characters.",
        ),
    ],
) -> None:
    """Create an administrator (password from HOMEWARD_ADMIN_PASSWORD or a prompt)."""
    settings = settings_or_exit()
    upgrade(settings.resolved_database_url)
    try:
        with session_scope(settings.resolved_database_url) as session:
            agency = session.exec(select(Agency).where(Agency.name == ADMIN_AGENCY_NAME)).first()
            if agency is None:
                agency, _ = create_agency(
                    session,
                    data=NewAgency(
                        name=ADMIN_AGENCY_NAME, kind=AgencyKind.government, country="IN"
                    ),
                    now=utcnow(),
                )
            create_user(
                session,
                data=NewUser(
                    username=username, password=password, agency_id=agency.id, role=Role.admin
                ),
                now=utcnow(),
            )
    except Exception as error:
        typer.echo(
            f"Could not create the administrator: {getattr(error, 'detail', error)}", err=True
        )
        raise typer.Exit(1) from None
    typer.echo(f"Administrator {username!r} created.")


@app.command()
def demo() -> None:
    """Create a demo India → Bangladesh corridor with a user for each agency."""
    settings = settings_or_exit()
    _print_logins(settings, _create_demo(settings, inbox_url=None))


def _create_demo(settings: Settings, *, inbox_url: str | None) -> list[DemoLogin]:
    upgrade(settings.resolved_database_url)
    password = demo_password(settings.data_dir)
    with session_scope(settings.resolved_database_url) as session:
        focal_point = corridors_for(settings).for_route("IN", "BD").escalation_agency
        return create_demo(session, password=password, inbox_url=inbox_url, focal_point=focal_point)


def _print_logins(settings: Settings, logins: list[DemoLogin]) -> None:
    password_file = settings.data_dir / "demo-password"
    typer.echo("\nDemo logins (password in " + str(password_file) + "):")
    for login in logins:
        typer.echo(f"  {login.username:<18} {login.role:<18} {login.agency}")
    typer.echo(f"  password: {demo_password(settings.data_dir)}")


@app.command()
def up(
    with_demo: Annotated[
        bool, typer.Option("--demo", help="Also create the demo corridor and show notifications.")
    ] = False,
    inbox_port: Annotated[int, typer.Option(help="Port of the demo console inbox.")] = 8025,
) -> None:
    """Start Homeward: a local Prefect server (unless PREFECT_API_URL is set), the runner
    and the API. Ctrl-C stops everything."""
    settings = settings_or_exit()
    try:  # a broken corridor file stops start-up before anything runs
        corridors_for(settings)
    except CorridorConfigError as error:
        typer.echo(f"Configuration error: {error}", err=True)
        raise typer.Exit(2) from None
    stack = Stack.for_settings(settings)
    ports = stack.ports()
    if with_demo:
        ports.append(Port("the demo inbox", "127.0.0.1", inbox_port, "--inbox-port"))
    # Checked before anything starts, so that a busy port costs one sentence, not a
    # traceback or a half-started stack.
    if busy := [port for port in ports if port.busy()]:
        for port in busy:
            typer.echo(port.complaint(), err=True)
        raise typer.Exit(2)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    settings.signing_key()
    inbox = None
    logins: list[DemoLogin] = []
    if with_demo:
        inbox = ConsoleInbox(inbox_port, settings.data_dir / "demo-inbox.log")
        inbox.start()
        logins = _create_demo(settings, inbox_url=inbox.url)
    typer.echo("Starting Homeward…")
    try:
        stack.start()
    except StackError as error:
        typer.echo(f"Homeward did not start: {error}", err=True)
        if inbox:
            inbox.stop()
        raise typer.Exit(1) from None
    typer.echo(f"  Pages:      {stack.api_url}/   (sign in as any login below)")
    typer.echo(f"  API:        {stack.api_url}/api/v1   (docs: {stack.api_url}/docs)")
    typer.echo(f"  Prefect UI: {stack.prefect_ui_url}")
    typer.echo(f"  Logs:       {stack.log_dir}")
    if logins:
        _print_logins(settings, logins)
        typer.echo("\nNotifications to the demo agencies are printed below as they arrive.")
    typer.echo("Press Ctrl-C to stop.")
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        while (dead := stack.failed()) is None:
            time.sleep(0.5)
        typer.echo(f"{dead.name} stopped unexpectedly; see {dead.log}. Stopping.", err=True)
        exit_code = 1
    except KeyboardInterrupt:
        exit_code = 0
    typer.echo("Stopping…")
    stack.stop()
    if inbox:
        inbox.stop()
    raise typer.Exit(exit_code)


@app.command()
def purge(
    closed_for_days: Annotated[
        int | None,
        typer.Option(help="Purge cases closed longer than this (default HOMEWARD_RETENTION_DAYS)."),
    ] = None,
) -> None:
    """Replace the personal data of long-closed cases with a tombstone, keeping the
    figures (sex, age band, nationality, corridor, stage dates, outcomes). Audited."""
    settings = settings_or_exit()
    days = settings.retention_days if closed_for_days is None else closed_for_days
    if days < 0:
        typer.echo("--closed-for-days cannot be negative", err=True)
        raise typer.Exit(2)
    url = settings.resolved_database_url
    with session_scope(url) as session:
        due = cases_to_purge(session, closed_for=timedelta(days=days), now=utcnow())
    purged = 0
    for case_id in due:  # one transaction per case: an interruption loses nothing
        with session_scope(url) as session:
            purged += purge_case(session, case_id=case_id, now=utcnow())
    typer.echo(f"Purged {purged} case(s) closed more than {days} day(s) ago.")


def _interrupt(_signum: int, _frame: object) -> None:
    # SIGTERM (from a service manager) stops the stack the same way Ctrl-C does.
    raise KeyboardInterrupt


if __name__ == "__main__":
    app()
