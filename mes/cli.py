"""The ``mes`` command: database, users, tokens, the server, the demo plant, the solver."""
from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext
from flask_babel import force_locale
from sqlalchemy import select
from waitress import serve

from mes import demo as demo_plant
from mes.admin import services as admin_services
from mes.app import create_app
from mes.core import audit, migrate
from mes.core import settings as plant_settings
from mes.core.db import get_db, session
from mes.core.errors import DomainError
from mes.core.models import Role, User
from mes.machinedata import demo_broker
from mes.machinedata import simulator as machine_simulator
from mes.machinedata import worker as mqtt_ingest
from mes.reports import archive as sheet_archive, services as reports
from mes.reports.daily import parse_day
from mes.scheduling import services as scheduling
from mes.scheduling.engine.child import compile_kernels_in_background
from mes.scheduling.models import ScheduleStatus, ScheduleVersion
from mes.scheduling.solve_cli import solve_command


def _app(*_args: object) -> object:
    audit.set_actor(audit.Actor(None, "cli"))
    return create_app()


cli = FlaskGroup(
    create_app=_app,
    add_default_commands=False,
    load_dotenv=False,
    help="mes: a manufacturing execution system for job shops.",
)
cli.add_command(shell_command)
cli.add_command(routes_command)


@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or upgrade the database schema."""
    migrate.upgrade(current_app, revision)
    click.echo(f"database at revision {migrate.current_revision(current_app)}")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Go back to an older schema revision."""
    migrate.downgrade(current_app, revision)
    click.echo(f"database at revision {migrate.current_revision(current_app)}")


@db.command("current")
@with_appcontext
def db_current() -> None:
    click.echo(migrate.current_revision(current_app) or "empty")


@cli.group()
def user() -> None:
    """User accounts."""


@user.command("add")
@click.argument("username")
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["worker", "planner", "quality", "owner", "admin"]), help="Repeat for several roles.")
@click.option("--password", help="Office login password (prompted when a non-worker role is given and this is left out).")
@click.option("--employee-no", help="Employee number (for PIN login).")
@click.option("--pin", help="Shop-floor PIN (4-8 digits).")
@click.option("--badge", help="Badge code.")
@click.option("--locale", type=click.Choice(["en", "zh_CN"]))
@with_appcontext
def user_add(username: str, display_name: str | None, roles: tuple[str, ...], password: str | None,
             employee_no: str | None, pin: str | None, badge: str | None, locale: str | None) -> None:
    """Create a user."""
    if password is None and set(roles) - {"worker"} and sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if password is not None and len(password) < 8:
        raise click.ClickException("the password needs at least 8 characters")
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise click.ClickException("a PIN is 4 to 8 digits")
    try:
        user_id = admin_services.create_user(admin_services.UserInput(
            username=username, display_name=display_name or username, roles=[Role(r) for r in roles],
            employee_no=employee_no, password=password, badge=badge, pin=pin, locale=locale,
        ))
    except DomainError as exc:
        details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in exc.fields.items())
        raise click.ClickException(details or exc.text()) from None
    click.echo(f"user {username} created (id {user_id})")


@cli.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--days", type=int, help="Expire after this many days (default: never).")
@with_appcontext
def token_create(username: str, name: str, days: int | None) -> None:
    """Create an API token for USERNAME and print it (it is shown only once)."""
    user_id = session().scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise click.ClickException(f"no user named {username}")
    click.echo(admin_services.create_token(user_id, name, days))


def _serve(host: str, port: int, threads: int) -> None:
    serve(current_app._get_current_object(), host=host, port=port, threads=threads, ident="mes")


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0 to serve the shop's tablets.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--upgrade/--no-upgrade", default=True, show_default=True, help="Apply pending migrations first.")
@click.option("--archive/--no-archive", default=True, show_default=True,
              help="Draw the daily sheets after each day's last shift (several processes may: each sheet is claimed once).")
@with_appcontext
def run(host: str, port: int, threads: int, upgrade: bool, archive: bool) -> None:
    """Serve the application (waitress)."""
    compile_kernels_in_background()
    if upgrade:
        migrate.upgrade(current_app)
    if archive:
        sheet_archive.start_background(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"mes serving on http://{host}:{port}/")
    _serve(host, port, threads)


@cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, show_default=True, help="Only create and seed the database.")
@click.option("--mqtt-port", default=1883, show_default=True, type=int, help="The embedded broker's port.")
@click.option("--machine-data/--no-machine-data", default=True, show_default=True,
              help="Live machine data: broker (when MES_MQTT_URL is not set), worker and simulator.")
@with_appcontext
def demo(host: str, port: int, serve: bool, mqtt_port: int, machine_data: bool) -> None:
    """Create the database if needed, seed a demo job shop when it is empty, and serve it."""
    compile_kernels_in_background()
    migrate.upgrade(current_app)
    if demo_plant.is_empty():
        click.echo("seeding the demo plant ...")
        demo_plant.seed()
        click.echo("planning it (a few seconds) ...")
        demo_plant.plan()
    click.echo(demo_plant.LOGINS_TEXT)
    if serve:
        if machine_data:
            _start_machine_data(mqtt_port)
        sheet_archive.start_background(current_app._get_current_object())  # type: ignore[attr-defined]
        click.echo(f"mes demo plant on http://{host}:{port}/  (Ctrl+C to stop)")
        _serve(host, port, 8)


@cli.command("mqtt")
@click.option("--client-id", help="This worker's fixed MQTT client id (default: MES_MQTT_CLIENT_ID or mes-ingest-<host>).")
@click.option("--shared-group", help="Share the machines' topics with other workers (default: MES_MQTT_SHARED_GROUP).")
@click.option("--batch-size", type=click.IntRange(1, 10000), help="Messages written per transaction at most.")
@with_appcontext
def mqtt_worker(client_id: str | None, shared_group: str | None, batch_size: int | None) -> None:
    """Take machine data from MQTT into the database (runs until stopped)."""
    settings = mqtt_ingest.settings_from_config(current_app.config, client_id=client_id, shared_group=shared_group,
                                                batch_size=batch_size)
    if not settings.url:
        raise click.ClickException("set MES_MQTT_URL, e.g. mqtt://user:password@localhost:1883")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker = mqtt_ingest.Worker(settings)
    click.echo(f"mes mqtt: {settings.client_id} -> {worker.broker.host}:{worker.broker.port}"
               + (f" (shared group {settings.shared_group})" if settings.shared_group else ""))
    worker.run(stop)


@cli.command("simulate")
@click.option("--speed", default=20.0, show_default=True, type=click.FloatRange(0.1, 1000), help="Time compression.")
@click.option("--site", default="demo", show_default=True, help="The <site> level of the topics.")
@click.option("--seed", type=int, help="Repeat the same run.")
@with_appcontext
def simulate(speed: float, site: str, seed: int | None) -> None:
    """Publish realistic machine data for the connected machines to MES_MQTT_URL (until stopped)."""
    url = current_app.config["MQTT_URL"]
    if not url:
        raise click.ClickException("set MES_MQTT_URL, e.g. mqtt://localhost:1883")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    machine_simulator.Simulator(url, site=site, speed=speed, seed=seed).run(stop)


def _start_machine_data(port: int) -> None:
    """The demo's live machine data: an embedded broker (when MES_MQTT_URL is not set), the worker
    and the simulator, on background threads of this process."""
    app = current_app._get_current_object()
    url = app.config["MQTT_URL"]
    protocol = 5
    if not url:
        if not demo_broker.available():
            click.echo("no MQTT broker: set MES_MQTT_URL or install the demo extra (pip install 'mes[demo]')")
            return
        chosen = demo_broker.usable_port("127.0.0.1", port)
        if chosen != port:
            click.echo(f"port {port} is taken (another MQTT broker?): the demo's own broker listens on {chosen}")
        broker = demo_broker.EmbeddedBroker(port=chosen)
        try:
            broker.start()
        except RuntimeError as e:
            click.echo(f"no live machine data: {e}")
            return
        url, protocol = broker.url, 4
        click.echo(f"embedded MQTT broker (amqtt) on {url}")
    stop = threading.Event()
    settings = mqtt_ingest.settings_from_config(app.config, url=url, protocol=protocol, client_id="mes-demo")
    worker = mqtt_ingest.Worker(settings)
    simulator = machine_simulator.Simulator(url, speed=20, protocol=4 if protocol == 4 else 5)

    def run(target) -> None:  # type: ignore[no-untyped-def]
        with app.app_context():
            target(stop)

    threading.Thread(target=run, args=(worker.run,), name="mqtt-worker", daemon=True).start()
    threading.Thread(target=run, args=(simulator.run,), name="simulator", daemon=True).start()


@cli.group()
def schedule() -> None:
    """The optimizing scheduler."""


@schedule.command("run")
@click.option("--time-limit", default=30, show_default=True, type=click.IntRange(1, 3600), help="Seconds.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Solver threads.")
@click.option("--publish", is_flag=True, help="Publish the result to the shop floor.")
@with_appcontext
def schedule_run(time_limit: int, workers: int, publish: bool) -> None:
    """Plan all released work orders now (and optionally publish the plan)."""
    schedule_id = scheduling.start_run(time_limit=time_limit, workers=workers, wait=True)
    with get_db().read_session() as s:
        version = s.get(ScheduleVersion, schedule_id)
        if version.status == ScheduleStatus.FAILED:
            raise click.ClickException(f"schedule {schedule_id} failed: " + "; ".join(scheduling.notes(version)))
        for note in scheduling.notes(version):
            click.echo(f"note: {note}")
        click.echo(f"schedule {schedule_id}: {version.solver_status} ({version.phase}) in {version.seconds} s, "
                   f"objective {version.objective_json}")
    if publish:
        scheduling.publish(schedule_id, None)
        click.echo(f"schedule {schedule_id} published")


cli.add_command(solve_command, "solve")


@cli.group()
def report() -> None:
    """The owner's reports."""


@report.command("daily")
@click.option("--date", "raw_day", required=True, metavar="YYYY-MM-DD", help="The plant day (not in the future).")
@click.option("--shift", help="One shift: its times (06:00-14:00) or its number that day (1, 2, ...).")
@click.option("--lang", type=click.Choice(list(reports.LOCALES)), default="zh_CN", show_default=True)
@click.option("--labour/--no-labour", default=True, show_default=True, help="Hours and output per worker.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.pdf, FILE.csv or FILE.xlsx (the format follows the suffix).")
@with_appcontext
def report_daily(raw_day: str, shift: str | None, lang: str, labour: bool, output: Path) -> None:
    """Write the daily output sheet of one day (or shift)."""
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in reports.FORMATS:
        raise click.ClickException("the output file must end in .pdf, .csv or .xlsx")
    plant_settings.refresh(force=True)
    with force_locale(lang):
        try:
            found = reports.daily_file(parse_day(raw_day), shift, lang, labour, fmt)
        except DomainError as exc:
            raise click.ClickException(exc.text()) from None
    output.write_bytes(found.body)
    click.echo(f"{output} ({len(found.body)} bytes)")


@report.command("value")
@click.option("--lang", type=click.Choice(list(reports.LOCALES)), default="zh_CN", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.pdf")
@with_appcontext
def report_value(lang: str, output: Path) -> None:
    """Write the proof-of-value report: monthly trends since go-live and the digital footprint."""
    plant_settings.refresh(force=True)
    found = reports.value_file(lang)
    output.write_bytes(found.body)
    click.echo(f"{output} ({len(found.body)} bytes)")


@report.command("archive")
@with_appcontext
def report_archive() -> None:
    """Draw the daily sheets that are due now, once (for a process started by cron or a timer
    instead of the server's background thread)."""
    drawn = sheet_archive.run_once(current_app._get_current_object())  # type: ignore[attr-defined]
    for day, locale in drawn:
        click.echo(f"drew {day.isoformat()} {locale}")
    click.echo(f"{len(drawn)} sheets drawn")


def main() -> None:
    cli.main(prog_name="mes")


if __name__ == "__main__":
    main()
