"""The Python API trades a paper portfolio as the CLI does."""

import pytest
from cli_paper import make_portfolio

from trimtab import api
from trimtab.errors import InputError


def test_api_rebalance_runs_the_configured_paper_portfolio(tmp_path):
    # Arrange
    directory = make_portfolio(tmp_path)
    # Act
    result = api.rebalance(directory / "trimtab.toml", dry_run=False)
    # Assert
    assert result.outcome.state == "completed" and len(result.outcome.legs) == 4
    assert api.status(directory / "trimtab.toml").drift.max_drift < 0.001


def test_api_rebalance_refuses_a_static_config_in_one_sentence(tmp_path, cli):
    assert cli("init").returncode == 0
    with pytest.raises(InputError, match="static venue, which cannot trade"):
        api.rebalance(tmp_path / "trimtab.toml", dry_run=False)
