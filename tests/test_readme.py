"""The README and docs/ARCHITECTURE.md stay true to the code: every command is in the commands
table, and every module row is listed once."""

import re

import typer
from conftest import ROOT


def test_every_command_is_in_the_readme_commands_table():
    from trimtab.interfaces.cli.app import app

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Commands"):readme.index("## Python")]
    commands = sorted(typer.main.get_command(app).commands)
    missing = [name for name in commands if not re.search(rf"`trimtab {name}\b", table)]
    assert "acknowledge" in commands
    assert missing == []


def test_architecture_lists_each_module_row_once():
    rows = [line.split("|")[1].strip() for line in (ROOT / "docs" / "ARCHITECTURE.md").read_text().splitlines()
            if line.startswith("| `")]
    assert [row for row in set(rows) if rows.count(row) > 1] == []
