"""Fleet commands: ``trimtab fleet add/import/list/pause/resume/remove/status`` and ``trimtab worker``.

The fleet's database is named by ``--database`` or ``$TRIMTAB_FLEET_DATABASE`` (a SQLAlchemy URL,
``postgresql+psycopg://user@host/db``); a password in it is never printed. See docs/FLEET.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from trimtab.interfaces.output import run, stdout

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
DatabaseOption = Annotated[str | None, typer.Option(
    "--database", envvar="TRIMTAB_FLEET_DATABASE", show_envvar=True,
    help="The fleet's PostgreSQL database, e.g. postgresql+psycopg://trimtab@db/fleet (its journal too).")]
NameArgument = Annotated[str, typer.Argument(help="The portfolio's name in the fleet.")]

fleet_app = typer.Typer(name="fleet", help="Many portfolios in one PostgreSQL database, checked by `trimtab worker`s.",
                        no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(fleet_app, name="fleet")
    app.command()(worker)


def _store(database: str | None):  # type: ignore[no-untyped-def]
    from trimtab.errors import InputError
    from trimtab.fleet.store import FleetStore

    if not database:
        raise InputError("Name the fleet's database with --database or $TRIMTAB_FLEET_DATABASE "
                         "(postgresql+psycopg://user@host/db).")
    return FleetStore.open(database)


def _check_name(name: str) -> str:
    from trimtab.errors import InputError

    if not _NAME.match(name):
        raise InputError(f"{name!r} is not a fleet portfolio name: 1-64 letters, digits, '_', '.' or '-', "
                         "starting with a letter or digit.")
    return name


def _summary(p) -> str:  # type: ignore[no-untyped-def]
    state = "paused" if p.paused else f"next {p.next_slot:%Y-%m-%d %H:%M:%S}"
    last = f", last {p.last_outcome}" if p.last_outcome else ""
    return f"{p.name}  every {p.every_seconds:g}s  {state}{last}  ({p.home})"


@fleet_app.command()
def add(
    name: Annotated[str, typer.Option("--name", help="The portfolio's name in the fleet (and in its journal).")],
    config: Annotated[Path, typer.Option("--config", "-c", help="The portfolio's config file; its relative paths "
                                                                "(paper account, key file) stay beside it.")],
    replace: Annotated[bool, typer.Option("--replace", help="Replace the config of a portfolio already in the fleet.")] = False,
    database: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a portfolio to the fleet: its config (no secret: keys by env var or key file) and its schedule."""

    def body():
        from trimtab.fleet.configs import read_fleet_config

        text, loaded = read_fleet_config(config)
        store = _store(database)
        try:
            added = store.add(_check_name(name), text, config.resolve().parent, loaded.check_every.total_seconds(),
                              replace=replace)
        finally:
            store.close()
        return {"added": added.to_dict()}, lambda: stdout.print(f"added {_summary(added)}")

    run(as_json, body)


@fleet_app.command("import")
def import_(
    directory: Annotated[Path, typer.Argument(help="A folder of portfolios: each trimtab.toml below it (or each "
                                                   "*.toml in it) becomes one, named after its folder (or file).")],
    database: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add many portfolios at once; names already in the fleet are skipped and listed."""

    def body():
        from trimtab.errors import InputError
        from trimtab.fleet.configs import read_fleet_config

        if not directory.is_dir():
            raise InputError(f"{directory} is not a folder.")
        files = sorted(directory.glob("*/trimtab.toml")) or sorted(directory.glob("*.toml"))
        if not files:
            raise InputError(f"{directory} holds no */trimtab.toml and no *.toml config.")
        rows = []
        for file in files:
            name = _check_name(file.parent.name if file.name == "trimtab.toml" else file.stem)
            text, loaded = read_fleet_config(file)
            rows.append((name, text, file.resolve().parent, loaded.check_every.total_seconds()))
        store = _store(database)
        try:
            known = {p.name for p in store.list()}
            new = [r for r in rows if r[0] not in known]
            store.add_many(new)
        finally:
            store.close()
        skipped = sorted(known & {r[0] for r in rows})
        doc = {"added": [r[0] for r in new], "skipped": skipped}
        return doc, lambda: stdout.print(f"added {len(new)} portfolios"
                                         + (f"; skipped {len(skipped)} already in the fleet" if skipped else ""))

    run(as_json, body)


@fleet_app.command("list")
def list_(database: DatabaseOption = None, as_json: JsonFlag = False) -> None:
    """The fleet's portfolios: schedule, paused or not, and how the last slot ended."""

    def body():
        store = _store(database)
        try:
            portfolios = store.list()
        finally:
            store.close()

        def render() -> None:
            if not portfolios:
                stdout.print("the fleet has no portfolio; add one with `trimtab fleet add --name NAME --config FILE`")
            for p in portfolios:
                stdout.print(_summary(p))

        return {"portfolios": [p.to_dict() for p in portfolios]}, render

    run(as_json, body)


def _one(verb: str, name: str, database: str | None, as_json: bool) -> None:
    def body():
        store = _store(database)
        try:
            if verb == "remove":
                store.remove(name)
                return {"removed": name}, lambda: stdout.print(f"removed {name} (its journal stays)")
            p = store.pause(name) if verb == "pause" else store.resume(name)
        finally:
            store.close()
        return {verb + "d": p.to_dict()}, lambda: stdout.print(f"{verb}d {_summary(p)}")

    run(as_json, body)


@fleet_app.command()
def pause(name: NameArgument, database: DatabaseOption = None, as_json: JsonFlag = False) -> None:
    """Stop checking a portfolio (a slot already queued checks nothing)."""
    _one("pause", name, database, as_json)


@fleet_app.command()
def resume(name: NameArgument, database: DatabaseOption = None, as_json: JsonFlag = False) -> None:
    """Check a paused portfolio again from its next slot."""
    _one("resume", name, database, as_json)


@fleet_app.command()
def remove(name: NameArgument, database: DatabaseOption = None, as_json: JsonFlag = False) -> None:
    """Remove a portfolio from the fleet; its journal (checks, runs) stays."""
    _one("remove", name, database, as_json)


@fleet_app.command()
def status(
    late_after: Annotated[float, typer.Option(min=0, max=31_536_000, help="Seconds (on the fleet's clock) after its "
                                                                         "slot at which a check not done is late.")] = 300.0,
    database: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Due, running, late, failed and needs-attention portfolios at a glance."""

    def body():
        store = _store(database)
        try:
            doc = store.status(late_after=late_after)
        finally:
            store.close()

        def render() -> None:
            stdout.print(f"{doc['portfolios']} portfolios ({doc['paused']} paused) at {doc['now'][:19]} UTC")
            for key in ("due", "running", "late", "failed", "needs_attention"):
                part = doc[key]
                names = ", ".join(part["names"]) + (" ..." if part["count"] > len(part["names"]) else "")
                stdout.print(f"{key:16} {part['count']:>7}  {names}".rstrip())

        return doc, render

    run(as_json, body)


def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Portfolios this worker checks at once.")] = 4,
    name: Annotated[str | None, typer.Option(help="This worker's name in the queue (default host-pid).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Check the fleet's due portfolios, each slot once, with any number of workers on any machines."""

    def body():
        import logging

        from trimtab.errors import InputError
        from trimtab.fleet.worker import Settings, run_worker

        if not database:
            raise InputError("Name the fleet's database with --database or $TRIMTAB_FLEET_DATABASE "
                             "(postgresql+psycopg://user@host/db).")
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        settings = Settings(concurrency=concurrency, name=name or "")
        stdout.print(f"worker {settings.worker_name} checking the fleet, {concurrency} at a time; Ctrl-C stops it")
        run_worker(database, settings)
        return {}, lambda: None

    run(False, body)
