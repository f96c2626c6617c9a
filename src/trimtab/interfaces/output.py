"""Output for the CLI: one JSON document on stdout with ``--json``, rich tables otherwise,
and every expected error turned into one sentence and an exit code in one place."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from trimtab.errors import TrimtabError, redact

#: Piped output is not cut to 80 columns: a table read by a program or a log keeps every cell.
_PIPE_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
#: No markup and no emoji codes: every string is printed as it is, so text from users and venues
#: (``pip install 'trimtab[mcp]'``, ``[execution] kill_switch``, ``:warning:``) keeps its brackets
#: and colons. Style goes in ``style=`` or a ``rich.text.Text``, never in ``[bold]...[/]`` tags.
stdout = Console(highlight=False, soft_wrap=True, width=_PIPE_WIDTH, markup=False, emoji=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


def tidy(value: Any) -> Any:
    """A document rounded by the one rule in ``interfaces/numbers.py`` (money to the cent,
    fractions to 6 decimals, the rest to 12 significant digits; NaN and inf -> None)."""
    from trimtab.interfaces.numbers import round_document

    return round_document(value)


def emit_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(tidy(document), indent=2) + "\n")
    sys.stdout.flush()


def run(as_json: bool, body: Callable[[], tuple[dict[str, Any], Callable[[], None]]]) -> None:
    """Run a command body that returns ``(document, render)``; print one or the other.

    A ``TrimtabError`` becomes one sentence (on stderr, or as ``{"error": ...}`` with --json) and
    its exit code (2 for bad input); so does a missing optional part (``trimtab.extras``: what
    needs it and the exact install command, exit 2). Anything else is a bug: one line, exit 1,
    and the traceback only when ``TRIMTAB_DEBUG`` is set.
    """
    try:
        document, render = body()
    except TrimtabError as e:
        fail(as_json, type(e).__name__, str(e), e.exit_code)
    except KeyboardInterrupt:
        fail(as_json, "Interrupted", "Interrupted; nothing more was started.", 130)
    except ModuleNotFoundError as e:  # an optional part not installed: say which and how
        from trimtab.extras import missing

        sentence = missing(e.name or "")
        if sentence is None:
            _bug(as_json, e)
        fail(as_json, "MissingPart", sentence, 2)
    except Exception as e:
        _bug(as_json, e)
    if as_json:
        emit_json(document)
    else:
        render()


def _bug(as_json: bool, e: Exception) -> NoReturn:
    """A bug: say so plainly (the traceback only with ``TRIMTAB_DEBUG``), in one line: never a
    driver's SQL dump and its parameters."""
    if os.environ.get("TRIMTAB_DEBUG"):
        raise e
    first = (str(e).splitlines() or [""])[0][:300]
    fail(as_json, "InternalError", f"internal error ({type(e).__name__}: {first}); rerun with TRIMTAB_DEBUG=1 for details.", 1)


def fail(as_json: bool, kind: str, message: str, code: int) -> NoReturn:
    message = redact(message)  # an internal error's text too: no secret is ever printed
    if as_json:
        emit_json({"error": {"type": kind, "message": message}})
    stderr.print(Text.assemble(("error:", "bold red"), " ", message))
    raise typer.Exit(code)


def percent(fraction: float | None, digits: int = 1) -> str:
    """``0.15`` -> ``15.0%``; None or NaN (a figure that does not exist) -> ``-``, never ``nan%``."""
    return "-" if fraction is None or math.isnan(fraction) else f"{fraction * 100:.{digits}f}%"


def money(amount: float) -> str:
    return f"{amount:,.2f}"


def quantity(amount: float) -> str:
    return f"{amount:.8g}"
