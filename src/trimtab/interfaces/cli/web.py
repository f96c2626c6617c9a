"""``trimtab serve``: the dashboard. FastAPI, uvicorn and Jinja2 are imported inside the command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trimtab.interfaces.output import run, stdout

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (default ./trimtab.toml).")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; anything but 127.0.0.1/localhost needs "
                                           "$TRIMTAB_DASHBOARD_TOKEN.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8787,
    config: ConfigOption = None,
    journal: Annotated[str | None, typer.Option(help="Watch this journal (a SQLAlchemy URL, e.g. "
                                                     "sqlite:///trimtab-demo/demo-journal.db) instead of a config's.")] = None,
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", help="Another name this dashboard answers "
                                                                                "to (its Host header), e.g. the machine's name.")] = None,
    poll: Annotated[float, typer.Option(min=0.2, max=3600, help="Seconds between a page's looks for new checks.")] = 5.0,
) -> None:
    """Web dashboard: portfolios, drift over time, runs, advice; a JSON API under /api. Read only by default."""

    def body():
        from trimtab.interfaces.web.serve import serve as serve_dashboard

        serve_dashboard(host=host, port=port, config=config, journal=journal, extra_hosts=allow_host or (),
                        poll_seconds=poll, announce=stdout.print)
        return {}, lambda: None

    run(False, body)
