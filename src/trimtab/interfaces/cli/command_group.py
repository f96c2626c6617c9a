"""The app's command group: a flag the argument parser itself refuses (``plan --band abc --json``)
still gives the one ``{"error": ...}`` document on stdout that ``--json`` promises, beside the
usual message on stderr and exit code 2."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

try:  # typer 0.29 carries its own copy of click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import ClickException  # type: ignore[no-redef]

from trimtab.interfaces.output import emit_json

_JSON = "trimtab.json"


class CommandGroup(TyperGroup):
    """A ``TyperGroup`` that answers a refused flag in JSON when the command line holds ``--json``."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        wants_json = "--json" in args
        if parent is None:
            from trimtab.interfaces.cli.coercion import install

            install(self)  # option values without pydantic where typer's answer is known
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except ClickException as e:
            _answer(wants_json, e)
            raise
        ctx.meta[_JSON] = wants_json
        return ctx

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ClickException as e:  # raised while the subcommand's own flags were parsed
            _answer(ctx.meta.get(_JSON, False), e)
            raise


def _answer(wants_json: bool, error: ClickException) -> None:
    if wants_json:
        emit_json({"error": {"type": "UsageError", "message": error.format_message()}})
