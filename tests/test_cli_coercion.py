"""Option values without pydantic (interfaces/cli/coercion.py) are exactly typer's own.

Each command line is parsed twice by the real command: once as typer builds it (every value
through its pydantic adapters) and once with ``coercion.install``; the parameters, or the error,
must be the same.
"""

from __future__ import annotations

import pytest
import typer.main

from trimtab.interfaces.cli.app import app
from trimtab.interfaces.cli.coercion import PlainCoercion, install

LINES = [
    ["plan", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2", "--holdings", "BTC=0.1,ETH=1.25,USDC=1000",
     "--prices", "BTC=65000,ETH=2000", "--band", "0.05", "--fee", "0.001"],
    ["plan", "--relative-band", "0.25", "--min-trade", "15", "--mode", "band-edge", "--config", "x.toml", "--json"],
    ["sweep", "--targets", "BTC=0.5,USDC=0.5", "--targets", "ETH=1", "--band", "0.01:0.2:5", "--workers", "2",
     "--capital", "5000", "--prices", "p.csv", "--chart", "c.png", "--fee-model", "per-leg,proceeds"],
    ["sweep"],
    ["backtest", "--band", "0.03", "--schedule", "monthly", "--slippage", "0.001", "--capital", "1e6"],
    ["status", "--json"],
]
REFUSED = [
    ["plan", "--band", "abc"],
    ["plan", "--band", "nan"],
    ["sweep", "--workers", "1.5"],
    ["sweep", "--workers", "0"],
    ["backtest", "--capital", "-1"],
]


def parse(line: list[str], *, plain: bool):
    group = typer.main.get_command(app)
    if plain:
        install(group)
    command = group.commands[line[0]]
    return command.make_context(line[0], list(line[1:]), parent=group.make_context("trimtab", [line[0]],
                                                                                    resilient_parsing=True))


@pytest.mark.parametrize("line", LINES, ids=[" ".join(line[:2]) for line in LINES])
def test_plain_coercion_gives_typers_values(line):
    plain, typers = parse(line, plain=True), parse(line, plain=False)
    assert plain.params == typers.params
    assert {k: type(v) for k, v in plain.params.items()} == {k: type(v) for k, v in typers.params.items()}
    group = typer.main.get_command(app)
    install(group)
    assert all(isinstance(p._runtime_param, PlainCoercion) for p in group.commands[line[0]].params)


@pytest.mark.parametrize("line", REFUSED, ids=[" ".join(line) for line in REFUSED])
def test_plain_coercion_refuses_as_typer_does(line):
    errors = []
    for plain in (True, False):
        with pytest.raises(Exception) as caught:
            parse(line, plain=plain)
        errors.append((type(caught.value), caught.value.format_message()))
    assert errors[0] == errors[1]
