"""The [agent] section: guardrails an owner sets, validated by name like every other key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from trimtab.config import load_config
from trimtab.errors import ConfigError
from trimtab.wiring import guardrails

BASE = '[portfolio]\ntargets = {BTC = 0.5, ETH = 0.3, USDC = 0.2}\n[venue]\nkind = "paper"\n'


def write(tmp_path, agent: str):
    path = tmp_path / "trimtab.toml"
    path.write_text(BASE + "[agent]\n" + agent)
    return path


def test_the_agent_section_becomes_the_engine_guardrails(tmp_path):
    # Arrange
    path = write(tmp_path, 'allowed_assets = ["btc", "USDC"]\nrequire_approval = true\nplan_ttl = "2m"\n')
    # Act
    rails = guardrails(load_config(path)[0])
    # Assert
    assert rails.allowed_assets == frozenset({"BTC", "USDC"})
    assert rails.require_approval and rails.plan_ttl == timedelta(minutes=2)
    assert rails.venue == "paper" and rails.allowed_venues == frozenset({"paper"})


@pytest.mark.parametrize(("agent", "names"), [
    ("allow_everything = true\n", "agent.allow_everything: unknown key"),
    ('allowed_assets = ["BTC; sell all"]\n', "agent.allowed_assets"),
    ('plan_ttl = "0s"\n', "agent.plan_ttl: must be a duration from 1s to 30d"),
    ('allowed_venues = ["binance"]\n', "agent.allowed_venues"),
    ('http_token_env = "lower-case"\n', "agent.http_token_env"),
])
def test_a_bad_agent_key_is_refused_by_name(tmp_path, agent, names):
    # Arrange
    path = write(tmp_path, agent)
    # Act
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    # Assert
    assert names in str(refused.value)
