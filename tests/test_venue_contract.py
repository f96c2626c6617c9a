"""The venue contract: what every venue must do, run against each venue trimtab ships.

A new venue adds a factory to ``VENUES`` returning the venue and a ``Spec`` naming an asset it holds
on its market's chain and a chain a bridge may go to (or no bridge: a venue that cannot bridge must
refuse with ``Unsupported``); every test below must then pass unchanged.
"""

from dataclasses import dataclass
from datetime import datetime

import pytest
from fakes.binance_spot import API_KEY, SECRET
from fakes.fixtures import binance_server, purpleflea, trading  # noqa: F401 - fixtures
from paper_setup import make_venue
from pydantic import SecretStr

from trimtab.core.plan import Side
from trimtab.errors import BelowMinimum, InsufficientFunds, UnknownOrder, Unsupported, VenueError
from trimtab.venues.base import Holding, Market, Quote, Venue, consolidate


@dataclass(frozen=True)
class Spec:
    asset: str  # held on its market's chain
    sell_quantity: float  # a valid sell (a multiple of the lot, above the minimums)
    bridge_asset: str
    bridge_from: str
    bridge_to: str
    bridge_amount: float
    can_bridge: bool = True
    gas: float = 0.0  # what a sell also spends of the asset on-chain (a deposit's gas)


def paper(request, tmp_path):
    return make_venue(tmp_path / "paper.db"), Spec("ETH", 0.05, "USDC", "ethereum", "base", 50.0)


def ccxt_binance(request, tmp_path):
    from trimtab.venues.ccxt_venue import CcxtVenue, make_exchange

    server = request.getfixturevalue("binance_server")
    exchange = make_exchange("binance", api_key=SecretStr(API_KEY), secret=SecretStr(SECRET), api_url=server.url,
                             rate_limit=False)
    venue = CcxtVenue(exchange, quote="USDT", assets=["BTC", "ETH", "SOL"], backoff=0.01)
    return venue, Spec("ETH", 0.05, "USDT", "binance", "ethereum", 50.0, can_bridge=False)


def purpleflea_trading(request, tmp_path):
    from purpleflea_setup import seed_positions, trading_venue

    venue = trading_venue(request.getfixturevalue("trading"), tmp_path)
    seed_positions(venue)
    return venue, Spec("ETH", 0.05, "USDC", "hyperliquid", "ethereum", 50.0, can_bridge=False)


def purpleflea_wallet(request, tmp_path):
    from purpleflea_setup import RunningClock, fund_wallet, wallet_venue

    servers = request.getfixturevalue("purpleflea")
    fund_wallet(servers.wallet)
    clock = RunningClock(servers.clock).__enter__()
    request.addfinalizer(clock.__exit__)
    return wallet_venue(servers.wallet, tmp_path), Spec("ETH", 0.05, "USDC", "ethereum", "base", 50.0, gas=0.00001)


def composite(request, tmp_path):
    from composite_setup import make_composite

    return make_composite(tmp_path), Spec("ETH", 0.05, "USDC", "wallet:ethereum", "wallet:base", 50.0)


def composite_move(request, tmp_path):  # the "bridge" is a move between two venues (MOVES.md)
    from composite_setup import make_composite

    return make_composite(tmp_path), Spec("ETH", 0.05, "USDC", "wallet:ethereum", "exchange:spot", 50.0)


VENUES = [paper, ccxt_binance, purpleflea_trading, purpleflea_wallet, composite, composite_move]


@pytest.fixture(params=VENUES, ids=lambda factory: factory.__name__)
def venue_and_spec(request, tmp_path):
    venue, spec = request.param(request, tmp_path)
    yield venue, spec
    if hasattr(venue, "close"):
        venue.close()


def test_a_venue_speaks_the_protocol_and_reports_holdings_per_chain_prices_with_times_and_markets(venue_and_spec):
    venue, spec = venue_and_spec
    assert isinstance(venue, Venue)
    assert all(isinstance(h, Holding) and h.chain for h in venue.balances())
    quote = venue.prices([spec.asset])[spec.asset]
    assert isinstance(quote, Quote) and quote.price > 0 and isinstance(quote.at, datetime) and quote.at.tzinfo
    market = venue.markets()[spec.asset]
    assert isinstance(market, Market) and market.chain


def test_an_unknown_client_id_is_an_unknown_order(venue_and_spec):
    venue, _ = venue_and_spec
    with pytest.raises(UnknownOrder):
        venue.get_order("never-sent-00")
    with pytest.raises(UnknownOrder):
        venue.transfer_status("never-sent-01")


def test_the_same_client_order_id_twice_fills_once(venue_and_spec):
    # Arrange
    venue, spec = venue_and_spec
    before = consolidate(venue.balances())[spec.asset]
    # Act
    first = venue.place_order(spec.asset, Side.SELL, quantity=spec.sell_quantity, client_order_id="c-00")
    second = venue.place_order(spec.asset, Side.SELL, quantity=spec.sell_quantity, client_order_id="c-00")
    # Assert
    assert first == second == venue.get_order("c-00")
    assert consolidate(venue.balances())[spec.asset] == pytest.approx(before - spec.sell_quantity - spec.gas)


def test_the_same_transfer_client_id_twice_moves_once(venue_and_spec):
    # Arrange
    venue, spec = venue_and_spec
    before = consolidate(venue.balances())[spec.bridge_asset]
    if not spec.can_bridge:
        with pytest.raises(Unsupported):
            venue.transfer(spec.bridge_asset, spec.bridge_amount, spec.bridge_from, spec.bridge_to, "t-00")
        assert consolidate(venue.balances())[spec.bridge_asset] == before
        return
    # Act
    first = venue.transfer(spec.bridge_asset, spec.bridge_amount, spec.bridge_from, spec.bridge_to, "t-00")
    again = venue.transfer(spec.bridge_asset, spec.bridge_amount, spec.bridge_from, spec.bridge_to, "t-00")
    # Assert
    assert first.client_id == again.client_id == venue.transfer_status("t-00").client_id
    in_flight = consolidate(venue.balances())[spec.bridge_asset]
    assert in_flight == pytest.approx(before - spec.bridge_amount)


def test_refusals_are_typed_and_keep_the_venues_words(venue_and_spec):
    venue, spec = venue_and_spec
    with pytest.raises(BelowMinimum) as small:
        venue.place_order(spec.asset, Side.SELL, quantity=float(venue.markets()[spec.asset].rules.amount_step or 1e-8),
                          client_order_id="c-01")
    with pytest.raises(InsufficientFunds) as big:
        venue.place_order(spec.asset, Side.SELL, quantity=spec.sell_quantity * 10_000,
                           client_order_id="c-02")
    for caught in (small, big):
        assert isinstance(caught.value, VenueError) and caught.value.venue_message
    with pytest.raises(UnknownOrder):
        venue.get_order("c-01")  # a refused order was never placed
