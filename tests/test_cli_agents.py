"""`trimtab plans` and `trimtab approve`: the person's half of the approval flow, through the CLI."""

from __future__ import annotations

import json

from cli_paper import make_portfolio
from conftest import run_cli

import trimtab


def test_plans_lists_a_waiting_plan_and_approve_marks_it_approved(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    stored = trimtab.Rebalancer(portfolio / "trimtab.toml").plan()
    # Act
    listed = run_cli("plans", "--json", cwd=portfolio)
    approved = run_cli("approve", stored.id, "--json", cwd=portfolio)
    # Assert
    assert listed.returncode == 0 and [p["plan_id"] for p in json.loads(listed.stdout)["plans"]] == [stored.id]
    assert approved.returncode == 0 and json.loads(approved.stdout)["plan"]["state"] == "approved"


def test_approving_an_unknown_or_malformed_plan_fails_in_one_sentence(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    # Act
    unknown = run_cli("approve", "p000000000000", cwd=portfolio)
    malformed = run_cli("approve", "everything", cwd=portfolio)
    # Assert
    assert unknown.returncode == 3 and "UNKNOWN_PLAN: there is no plan p000000000000" in unknown.stderr
    assert malformed.returncode == 2 and "A plan id is 'p' and 12 hex digits" in malformed.stderr


def test_mcp_without_a_config_fails_in_one_sentence_before_serving(tmp_path):
    # Arrange / Act
    result = run_cli("mcp", cwd=tmp_path)
    # Assert
    assert result.returncode == 2
    assert "No config at trimtab.toml: create one with `trimtab init`" in result.stderr
