"""Option values without pydantic where typer's answer is known: start-up time for every command.

typer (0.2x) coerces each option of the command being run through a pydantic ``TypeAdapter``,
built on first use: importing pydantic and building about a dozen adapters costs 0.08-0.1 s per
command, before trimtab runs a line. For the plain cases the adapter's answer is known without it:
an option not given (``None``, or ``()`` when repeatable), a string for a ``str`` option, a list of
strings for a ``list[str]`` option, and an option with a ``parser=`` (typer's adapter only calls
the parser; exceptions other than ``ValueError``/``AssertionError`` pass through it unchanged).
``PlainCoercion`` answers those itself and hands anything else (numbers without a parser, paths,
enums, a parser's ``ValueError``) to typer's own coercion, built then, so typer's messages stay
typer's. ``tests/test_cli_coercion.py`` checks both give the same values.

It relies on two typer internals (``_TyperParameter._runtime_param`` and ``.type_descriptor``);
when they are missing it installs nothing and typer coerces everything, as before.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


class PlainCoercion:
    """A stand-in for typer's ``RuntimeParam`` of one parameter (see the module docstring)."""

    def __init__(self, descriptor: Any) -> None:
        self.descriptor = descriptor
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multiple = param.multiple or param.nargs == -1
        if value is None:
            return () if multiple else None
        answer = self._plain(value, multiple)
        if answer is _MISSING:
            return self._typers().coerce(value, param=param, ctx=ctx)
        return answer

    def _plain(self, value: Any, multiple: bool) -> Any:
        annotation, info = self.descriptor.annotation, self.descriptor.parameter_info
        if self.descriptor.file_annotation is not None:
            return _MISSING
        if multiple:
            if annotation == list[str] and info.parser is None and isinstance(value, (list, tuple)) \
                    and all(isinstance(item, str) for item in value):
                return list(value)
            return _MISSING
        if info.parser is not None:
            try:
                return info.parser(value)
            except (ValueError, AssertionError):
                return _MISSING  # typer's adapter turns these into its own message
        if annotation is str and isinstance(value, str):
            return value
        return _MISSING

    def _typers(self) -> Any:
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(self.descriptor)
        return self._typer


def install(command: Any) -> None:
    """Give every parameter of ``command`` and of its subcommands, their ``--help`` flags (made on
    first use) included, a ``PlainCoercion``."""
    for param in getattr(command, "params", ()):
        _plain(param)
    made = getattr(command, "get_help_option", None)
    if made is not None and "get_help_option" not in vars(command):

        def help_option(ctx: Any) -> Any:
            return _plain(made(ctx))

        command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        install(sub)


def _plain(param: Any) -> Any:
    if getattr(param, "_runtime_param", _MISSING) is None and hasattr(param, "type_descriptor"):
        param._runtime_param = PlainCoercion(param.type_descriptor)
    return param
