"""``trimtab venues check``: registered on the main app as the ``venues`` group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trimtab.interfaces.output import run, stdout

venues_app = typer.Typer(help="Check the configured venue.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(venues_app, name="venues")


@venues_app.command()
def check(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file (default ./trimtab.toml).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")] = False,
) -> None:
    """Reachable or not, what the keys can see (balances, markets), clock skew and rate limits;
    one line per problem with what to do. Exits 4 when there is a problem."""
    found: dict[str, bool] = {}

    def body():
        from trimtab.config import load_config
        from trimtab.engine.venue_check import VenueReport, check_venue
        from trimtab.errors import ConfigError
        from trimtab.wiring import open_venue

        loaded, path = load_config(config)
        if loaded.multi_venue:
            return _check_each(loaded, path, found)
        name = loaded.venue.exchange or loaded.venue.kind
        try:
            venue = open_venue(loaded, path)
        except ConfigError as e:
            report = VenueReport(venue=name, reachable=False, problems=[f"config: {e}"])
        else:
            for part in (venue, getattr(venue, "api", None)):
                if hasattr(part, "retries"):
                    part.retries = 1  # a check reports a dead venue in seconds; a rebalance keeps retrying
            try:
                report = check_venue(venue, name, loaded.targets.assets, loaded.portfolio.quote)
            finally:
                if hasattr(venue, "close"):
                    venue.close()
        found["problems"] = bool(report.problems)

        def render() -> None:
            stdout.print(f"{report.venue}: {'reachable' if report.reachable else 'NOT reachable'}")
            if report.balances:
                stdout.print("balances: " + ", ".join(f"{a} {q:.8g}" for a, q in sorted(report.balances.items())))
            if report.markets:
                stdout.print("markets: " + ", ".join(report.markets))
            if report.clock_skew is not None:
                stdout.print(f"clock skew: {report.clock_skew:+.2f} s")
            if report.rate_limit:
                stdout.print("rate limit: " + ", ".join(f"{k}={v}" for k, v in report.rate_limit.items()))
            for problem in report.problems:
                stdout.print(f"problem: {problem}")
            if not report.problems:
                stdout.print("no problems")

        return report.to_dict(), render

    run(as_json, body)
    if found.get("problems"):
        raise typer.Exit(4)


def _check_each(loaded, path, found):  # type: ignore[no-untyped-def]
    """``venues check`` for ``[[venues]]``: each venue on its own, its name on every line."""
    from trimtab.engine.venue_check import check_venues
    from trimtab.errors import ConfigError
    from trimtab.wiring import member_config, open_venue

    venues: dict = {}
    try:
        for name, _ in loaded.members:
            try:
                venues[name] = open_venue(member_config(loaded, name), path)
            except ConfigError as e:
                venues[name] = e
            else:
                for part in (venues[name], getattr(venues[name], "api", None)):
                    if hasattr(part, "retries"):
                        part.retries = 1
        reports = check_venues(venues, loaded.targets.assets, loaded.portfolio.quote)
    finally:
        for venue in venues.values():
            if hasattr(venue, "close"):
                venue.close()
    problems = [p for r in reports for p in r.problems]
    found["problems"] = bool(problems)

    def render() -> None:
        for r in reports:
            if r.venue == "portfolio":
                continue
            stdout.print(f"{r.venue}: {'reachable' if r.reachable else 'NOT reachable'}")
            if r.balances:
                stdout.print(f"{r.venue}: balances: " + ", ".join(f"{a} {q:.8g}" for a, q in sorted(r.balances.items())))
            if r.markets:
                stdout.print(f"{r.venue}: markets: " + ", ".join(r.markets))
            if r.clock_skew is not None:
                stdout.print(f"{r.venue}: clock skew: {r.clock_skew:+.2f} s")
            if r.rate_limit:
                stdout.print(f"{r.venue}: rate limit: " + ", ".join(f"{k}={v}" for k, v in r.rate_limit.items()))
        for problem in problems:
            stdout.print(f"problem: {problem}")
        if not problems:
            stdout.print("no problems")

    return {"venues": [r.to_dict() for r in reports if r.venue != "portfolio"], "problems": problems,
            "ok": not problems}, render
