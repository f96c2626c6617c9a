"""The README's set-up gives every feature it shows, and a part that is not installed is named with
the exact command that installs it."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
BASE = PYPROJECT["project"]["dependencies"]
EXTRAS = PYPROJECT["project"]["optional-dependencies"]

# Run the CLI with some modules made unimportable, as on a machine where they are not installed.
BLOCKED_CLI = ("import sys; [sys.modules.__setitem__(m, None) for m in sys.argv[1].split(',')]; "
               "sys.argv = ['trimtab', *sys.argv[2:]]; from trimtab.interfaces.cli.app import main; main()")


def cli_without(modules: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", BLOCKED_CLI, modules, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _names(requirements: list[str]) -> set[str]:
    return {r.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower() for r in requirements}


def test_the_base_install_has_what_the_readme_shows():
    """`python3 tasks.py demo` installs the base: the fast kernel, the MCP server and ccxt are in it."""
    assert {"numba", "ccxt", "mcp", "uvicorn", "jsonschema"} <= _names(BASE)
    tasks = (ROOT / "tasks.py").read_text()
    assert 'EXTRAS = {"demo": ""' in tasks  # the demo job installs the base, no extra


def test_every_install_command_names_a_requirement_pyproject_really_has():
    from trimtab.extras import PARTS

    for module, (_, distribution, extra) in PARTS.items():
        where = BASE if extra is None else EXTRAS[extra]
        assert distribution in where, f"{module}: {distribution} is not in {extra or 'the base dependencies'}"


def test_the_readme_says_which_extras_stay_optional():
    readme = (ROOT / "README.md").read_text()
    for extra in ("postgres", "distributed", "peers"):
        assert f"pip install 'trimtab[{extra}]'" in readme
    assert "[fast]" not in readme and "extra `fast`" not in readme


def test_a_ccxt_config_without_ccxt_names_the_install_command(tmp_path, cli):
    assert cli("init", "--venue", "ccxt", "--exchange", "binance").returncode == 0
    result = cli_without("ccxt", "status", "--json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert json.loads(result.stdout)["error"]["message"].endswith("pip install 'ccxt>=4.3'")
    assert "internal error" not in result.stderr


def test_a_postgres_journal_without_psycopg_names_the_extra(tmp_path, cli):
    assert cli("init").returncode == 0
    config = tmp_path / "trimtab.toml"
    text = config.read_text()
    config.write_text(text.replace('url = "sqlite:///trimtab.db"', 'url = "postgresql+psycopg://u@127.0.0.1:9/x"'))
    assert config.read_text() != text
    result = cli_without("psycopg", "history", cwd=tmp_path)
    assert result.returncode == 2
    assert "pip install 'trimtab[postgres]'" in result.stderr


def test_mcp_without_the_sdk_names_the_install_command(tmp_path):
    result = cli_without("mcp,mcp.server", "mcp", cwd=tmp_path)
    assert result.returncode == 2
    assert "pip install 'mcp>=2.3,<3'" in result.stderr


def test_a_dask_scheduler_without_dask_names_the_extra_with_its_brackets(tmp_path):
    result = cli_without("distributed", "sweep", "--scheduler", "tcp://127.0.0.1:9", "--start", "2024-01-01",
                         "--end", "2024-01-31", cwd=tmp_path)
    assert result.returncode == 2
    assert "pip install 'trimtab[distributed]'" in result.stderr


def test_a_sweep_without_numba_says_why_it_is_slow_and_still_runs(tmp_path):
    result = cli_without("numba", "sweep", "--start", "2024-01-01", "--end", "2024-03-31", "--band", "0.02,0.05",
                         "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pip install 'numba>=0.60'" in result.stderr and "slower" in result.stderr
    assert len(json.loads(result.stdout)["rows"]) == 2


@pytest.mark.parametrize("module", ["numpy", "no_such_module_xyz"])
def test_an_unknown_missing_module_is_still_a_bug_not_an_install_hint(module):
    from trimtab.extras import missing

    assert missing(module) is None
