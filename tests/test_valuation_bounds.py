"""Holdings x prices past what a float holds: one sentence (``InputError``, exit 2), never inf or nan.

A what-if with BTC=1e308 at a price of 1e308 used to overflow into an internal error (inf values,
then an fsum overflow or a Decimal that cannot be rounded); every number a plan returns is finite.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trimtab import api
from trimtab.core.valuation import value_portfolio
from trimtab.errors import InputError

#: Any finite non-negative quantity and any finite positive price a float can hold.
quantities = st.floats(min_value=0, max_value=1.7e308, allow_nan=False, allow_infinity=False)
prices = st.floats(min_value=1e-300, max_value=1.7e308, allow_nan=False, allow_infinity=False)


def numbers(document):
    """Every number in a JSON-like document."""
    if isinstance(document, dict):
        for value in document.values():
            yield from numbers(value)
    elif isinstance(document, list | tuple):
        for value in document:
            yield from numbers(value)
    elif isinstance(document, float | int) and not isinstance(document, bool):
        yield document


@given(btc=quantities, eth=quantities, usdc=quantities, btc_price=prices, eth_price=prices)
def test_valuation_is_finite_or_refused_with_one_sentence(btc, eth, usdc, btc_price, eth_price):
    try:
        v = value_portfolio({"BTC": btc, "ETH": eth, "USDC": usdc}, {"BTC": btc_price, "ETH": eth_price},
                            quote="USDC")
    except InputError as e:
        assert str(e).count(". ") == 0 and str(e).endswith(".")
        return
    assert math.isfinite(v.total_value) and v.total_value > 0
    assert all(math.isfinite(x) for x in (*v.values.values(), *v.weights.values(), *v.quantities.values()))


@given(btc=quantities, usdc=quantities, btc_price=prices, eth_price=prices)
def test_a_what_if_plan_is_finite_or_refused(btc, usdc, btc_price, eth_price):
    try:
        assessment = api.plan(targets={"BTC": 0.4, "ETH": 0.4, "USDC": 0.2}, holdings={"BTC": btc, "USDC": usdc},
                              prices={"BTC": btc_price, "ETH": eth_price})
    except InputError:
        return
    assert all(math.isfinite(x) for x in numbers(assessment.to_dict()))


def test_holdings_times_prices_of_1e308_are_refused_in_one_sentence():
    with pytest.raises(InputError, match="too large") as refused:
        value_portfolio({"BTC": 1e308}, {"BTC": 1e308}, quote="USDC")
    assert "BTC" in str(refused.value)


@pytest.mark.parametrize("holdings, prices", [("BTC=1e308,USDC=1", "BTC=1e308"),
                                              ("BTC=1e308,USDC=1e308", "BTC=1")])
def test_the_cli_what_if_refuses_an_overflowing_portfolio_with_exit_2(cli, holdings, prices):
    result = cli("plan", "--targets", "BTC=0.5,USDC=0.5", "--holdings", holdings, "--prices", prices, "--json")
    assert result.returncode == 2, result.stderr
    error = json.loads(result.stdout)["error"]
    assert "too large" in error["message"] and "internal" not in error["message"].lower()
    plain = cli("plan", "--targets", "BTC=0.5,USDC=0.5", "--holdings", holdings, "--prices", prices)
    assert plain.returncode == 2 and plain.stderr.startswith("error: ") and plain.stderr.count("\n") == 1


def test_a_paper_portfolio_too_large_to_value_is_refused_before_anything_is_written(tmp_path):
    from trimtab import create_paper_portfolio

    with pytest.raises(InputError, match="too large"):
        create_paper_portfolio(tmp_path / "p", targets={"BTC": 0.5, "USDC": 0.5}, holdings={"BTC": 1e308, "USDC": 1},
                               prices={"BTC": 1e308})
    assert not (tmp_path / "p" / "trimtab.toml").exists() and not (tmp_path / "p" / "trimtab-paper.db").exists()
