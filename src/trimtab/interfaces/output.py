"""Output for the CLI: one JSON document on stdout with ``--json``, rich tables otherwise,
and every expected error turned into one sentence and an exit code in one place."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from trimtab.errors import TrimtabError, redact

#: Piped output is not cut to 80 columns: a table read by a program or a log keeps every cell.
_PIPE_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
stdout = Console(highlight=False, soft_wrap=True, width=_PIPE_WIDTH)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def tidy(value: Any) -> Any:
    """Round floats to 12 significant digits (0.15000000000000002 -> 0.15); NaN and inf -> None."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {str(k): tidy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tidy(v) for v in value]
    return value


def emit_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(tidy(document), indent=2) + "\n")
    sys.stdout.flush()


def run(as_json: bool, body: Callable[[], tuple[dict[str, Any], Callable[[], None]]]) -> None:
    """Run a command body that returns ``(document, render)``; print one or the other.

    A ``TrimtabError`` becomes one sentence (on stderr, or as ``{"error": ...}`` with --json) and
    its exit code (2 for bad input). Anything else is a bug: one line, exit 1, and the traceback
    only when ``TRIMTAB_DEBUG`` is set.
    """
    try:
        document, render = body()
    except TrimtabError as e:
        fail(as_json, type(e).__name__, str(e), e.exit_code)
    except KeyboardInterrupt:
        fail(as_json, "Interrupted", "Interrupted; nothing more was started.", 130)
    except Exception as e:  # a bug: say so plainly
        if os.environ.get("TRIMTAB_DEBUG"):
            raise
        first = (str(e).splitlines() or [""])[0][:300]  # never a driver's SQL dump and its parameters
        fail(as_json, "InternalError", f"internal error ({type(e).__name__}: {first}); rerun with TRIMTAB_DEBUG=1 for details.", 1)
    if as_json:
        emit_json(document)
    else:
        render()


def fail(as_json: bool, kind: str, message: str, code: int) -> None:
    message = redact(message)  # an internal error's text too: no secret is ever printed
    if as_json:
        emit_json({"error": {"type": kind, "message": message}})
    stderr.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def percent(fraction: float | None, digits: int = 1) -> str:
    return "-" if fraction is None else f"{fraction * 100:.{digits}f}%"


def money(amount: float) -> str:
    return f"{amount:,.2f}"


def quantity(amount: float) -> str:
    return f"{amount:.8g}"
