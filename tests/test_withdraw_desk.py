"""An agent's withdrawal through the PlanDesk on a paper portfolio: the allow-lists and the guards refuse
with a code before anything is sold; an allowed one sells, sends once and journals the flow."""

from __future__ import annotations

import pytest

from trimtab import api
from trimtab.config import load_config
from trimtab.errors import Denied
from trimtab.journal.flows import flows
from trimtab.venues.paper import PaperVenue
from trimtab.wiring import build_desk


ADDRESS = "0xabc"


def desk(tmp_path, *, allow=True, **execution):
    """A paper portfolio whose owner allowed agents to pay out (``allow``) up to ``max_withdrawal_value``
    (default 1e6) to ``withdraw_addresses`` (default [ADDRESS]); None leaves a setting out."""
    path = api.create_paper_portfolio(tmp_path, targets={"BTC": 0.5, "ETH": 0.3, "USDC": 0.2},
                                      holdings={"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
                                      prices={"BTC": 65000, "ETH": 2000})
    text = path.read_text()
    if execution.pop("kill_switch", False):
        text = text.replace("kill_switch = false", "kill_switch = true")
    execution = {"max_withdrawal_value": 1e6, "withdraw_addresses": [ADDRESS]} | execution
    lines = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in execution.items() if v is not None)
    text = text.replace("[execution]\n", "[execution]\n" + lines, 1)
    path.write_text(text.replace("allow_withdrawals = false", f"allow_withdrawals = {str(allow).lower()}"))
    config, _ = load_config(path)
    return build_desk(config, path), PaperVenue(tmp_path / "trimtab-paper.db")


def held(venue):
    return sorted((h.asset, h.chain, round(h.quantity, 12)) for h in venue.balances())


@pytest.mark.parametrize("asset, address, execution, code", [
    ("DOGE", ADDRESS, {}, "ASSET_NOT_ALLOWED"),
    (None, ADDRESS, {"max_withdrawal_value": 500.0}, "WITHDRAW_CAP"),
    (None, ADDRESS, {"kill_switch": True}, "KILL_SWITCH"),
    (None, ADDRESS, {"allow": False}, "WITHDRAW_NOT_ALLOWED"),  # the owner did not allow agents to pay out
    (None, ADDRESS, {"max_withdrawal_value": None}, "WITHDRAW_NOT_ALLOWED"),  # allowed, but with no cap
    (None, ADDRESS, {"withdraw_addresses": None}, "WITHDRAW_NOT_ALLOWED"),  # allowed, but anywhere
    (None, "0xdef", {}, "ADDRESS_NOT_ALLOWED"),
    (None, None, {}, "ADDRESS_NOT_ALLOWED"),  # an agent must name an address the owner wrote down
])
def test_the_desk_refuses_a_withdrawal_before_anything_is_sold(tmp_path, asset, address, execution, code):
    plan_desk, venue = desk(tmp_path, **execution)
    before = held(venue)
    with pytest.raises(Denied) as refused:
        plan_desk.withdraw(3000.0, asset, address=address)
    assert refused.value.code == code
    assert held(venue) == before
    assert plan_desk.agent.journal.runs(plan_desk.agent.portfolio) == []
    assert flows(plan_desk.agent.journal, plan_desk.agent.portfolio, states=None) == []


def test_the_desk_refuses_a_venue_agents_may_not_use(tmp_path):
    plan_desk, venue = desk(tmp_path)
    plan_desk.rails = type(plan_desk.rails)(venue="paper", allowed_venues=frozenset({"static"}), allow_withdrawals=True)
    with pytest.raises(Denied) as refused:
        plan_desk.withdraw(3000.0, address=ADDRESS)
    assert refused.value.code == "VENUE_NOT_ALLOWED"


def test_an_allowed_withdrawal_sells_the_overweight_and_sends_once(tmp_path):
    plan_desk, venue = desk(tmp_path, max_withdrawal_value=5000.0)
    usdc_before = sum(h.quantity for h in venue.balances() if h.asset == "USDC")
    result, row = plan_desk.withdraw(3000.0, address=ADDRESS)
    assert result.outcome.state == "completed"
    assert {leg.side for leg in result.assessment.plan.legs} == {"sell"}
    assert row.state == "done" and row.value == -3000.0
    assert venue.withdrawal(row.client_id)["amount"] == 3000.0
    usdc_after = sum(h.quantity for h in venue.balances() if h.asset == "USDC")
    legs = plan_desk.agent.journal.legs(result.outcome.run_id)
    raised = sum(leg.value - leg.fee for leg in legs if leg.kind == "order")  # sells: value less fee, to the quote
    assert usdc_after == pytest.approx(usdc_before + raised - 3000.0, abs=0.01)  # read from the venue, to the cent


def test_the_python_rebalancer_withdraws_behind_the_same_guards_and_journals_the_call(tmp_path):
    """``Rebalancer.withdraw``: a refusal raises ``Denied`` with nothing sold and is journaled as the
    agent's refused call; an allowed one sells the overweight, pays out once, and the value read from
    the venue moves by the payout plus the run's fees, to the cent."""
    from trimtab import Rebalancer

    plan_desk, venue = desk(tmp_path, max_withdrawal_value=2000.0)
    config = tmp_path / "trimtab.toml"
    before = held(venue)
    with Rebalancer(config) as agent:
        with pytest.raises(Denied) as refused:
            agent.withdraw(3000.0, to="0xabc")
        assert refused.value.code == "WITHDRAW_CAP"
        assert held(venue) == before
        result, row = agent.withdraw(1500.0, to="0xabc")
        calls = agent.desk.agent.journal.tool_calls(agent.portfolio)
    assert [(c.tool, c.outcome, c.code) for c in reversed(calls)] == [("withdraw", "error", "WITHDRAW_CAP"),
                                                                     ("withdraw", "ok", None)]
    assert result.outcome.state == "completed" and {leg.side for leg in result.assessment.plan.legs} == {"sell"}
    assert row.state == "done" and row.value == -1500.0 and venue.withdrawal(row.client_id)["amount"] == 1500.0
    usdc = sum(h.quantity for h in venue.balances() if h.asset == "USDC")  # read from the venue
    legs = plan_desk.agent.journal.legs(result.outcome.run_id)
    raised = sum(leg.value - leg.fee for leg in legs if leg.kind == "order")
    assert usdc == pytest.approx(1000.0 + raised - 1500.0, abs=0.01)
