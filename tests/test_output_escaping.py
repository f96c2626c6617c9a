"""Text rich prints is printed as it is: brackets and colons in messages from trimtab, users and
venues survive (rich markup once ate `[mcp]` out of `pip install 'trimtab[mcp]'`)."""

import re
from pathlib import Path

import pytest
import typer
from cli_paper import make_portfolio
from conftest import run_cli

SRC = Path(__file__).resolve().parents[1] / "src" / "trimtab"


@pytest.mark.parametrize("message", [
    "`trimtab mcp` needs the MCP SDK: pip install 'trimtab[mcp]'.",
    "--scheduler needs Dask: pip install 'trimtab[distributed]'.",
    "the venue said [bold]no[/] :warning: [red]",
])
def test_an_error_message_keeps_its_brackets(capsys, message):
    from trimtab.interfaces.output import fail

    with pytest.raises(typer.Exit):
        fail(False, "InputError", message, 2)
    assert capsys.readouterr().err.strip() == f"error: {message}"


def test_a_table_cell_and_a_line_keep_their_brackets(capsys):
    from rich.table import Table

    from trimtab.interfaces.output import stdout

    table = Table()
    table.add_column("reason")
    table.add_row("venue said [red]refused[/red]")
    stdout.print(table)
    stdout.print("[execution] kill_switch")
    out = capsys.readouterr().out
    assert "venue said [red]refused[/red]" in out and "[execution] kill_switch" in out


def test_the_kill_switch_refusal_names_its_config_section(tmp_path):
    directory = make_portfolio(tmp_path / "p")
    config = directory / "trimtab.toml"
    config.write_text(config.read_text().replace("kill_switch = false", "kill_switch = true"))
    result = run_cli("rebalance", "--yes", cwd=directory)
    assert result.returncode == 3
    assert "in the config ([execution] kill_switch)" in result.stderr


def test_no_module_prints_rich_markup_tags():
    """The consoles print markup literally, so a ``[bold]..[/]`` tag in the code would show as text."""
    tags = re.compile(r"""["'][^"'\n]*\[/(?:[a-z ]*)\]""")
    offenders = [f"{p.relative_to(SRC)}:{n}" for p in SRC.rglob("*.py")
                 for n, line in enumerate(p.read_text().splitlines(), 1) if tags.search(line)]
    assert offenders == []
