"""End to end through the CLI across venues: the Purple Flea wallet and trading fakes and the
Binance-dialect fake, all on 127.0.0.1 at once, linked by a ChainNetwork (a withdrawal from the
exchange lands on the wallet's address, a wallet send to the exchange's deposit address is credited
there). Value is read from the fakes, fees and gas from the fakes and the journal."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import run_cli
from fakes.binance_spot import API_KEY, SECRET, BinanceSpotFake
from fakes.binance_wire import SpotMarket
from fakes.chain_network import ChainNetwork
from fakes.purpleflea import FakeClock, running_purpleflea
from fakes.purpleflea_trading import TRADING_KEY
from fakes.purpleflea_wallet import WALLET_KEY
from purpleflea_setup import RunningClock

ENV = {"PURPLEFLEA_WALLET_KEY": WALLET_KEY, "PURPLEFLEA_TRADING_KEY": TRADING_KEY, "TRIMTAB_API_KEY": API_KEY,
       "TRIMTAB_API_SECRET": SECRET}
ETH, BTC = Decimal(3500), Decimal(97000)


@pytest.fixture
def fakes():
    network = ChainNetwork(FakeClock(time.time()))  # the exchange stamps rows with real time: start there
    with running_purpleflea(network=network) as pf, BinanceSpotFake(
            markets=[SpotMarket("BTC", "USDC", BTC)], balances={"USDC": 6000}, network=network) as binance:
        pf.trading.set_price("BTC", float(BTC))
        pf.trading.set_price("ETH", float(ETH))
        created = pf.wallet.create_wallet()
        addresses = created["addresses"]
        for (chain, asset), amount in {("base", "ETH"): "1.0", ("base", "USDC"): "20"}.items():
            pf.wallet.set_balance(chain, addresses[chain], asset, amount)
        yield network, pf, binance, addresses


def write_config(directory: Path, pf, binance, targets: dict[str, float], *, members=("wallet", "binance")) -> None:
    tables = {
        "wallet": f'''[[venues]]
name = "wallet"
kind = "purpleflea-wallet"
api_url = "{pf.wallet.url}"
chains = ["base"]
poll_seconds = 0.05
ledger = "wallet-ledger.db"
''',
        "binance": f'''[[venues]]
name = "binance"
kind = "ccxt"
exchange = "binance"
api_url = "{binance.url}"
ledger = "binance-ledger.db"
''',
        "perps": f'''[[venues]]
name = "perps"
kind = "purpleflea-trading"
api_url = "{pf.trading.url}"
hyperliquid_url = "{pf.trading.url}"
ledger = "perps-ledger.db"
'''}
    weights = "\n".join(f"{asset} = {weight}" for asset, weight in targets.items())
    (directory / "trimtab.toml").write_text(f'''[portfolio]
name = "across"
quote = "USDC"

[portfolio.targets]
{weights}

[policy]
kind = "threshold"
band = 0.02

[trading]
min_trade = 10.0

[execution]
max_price_move = 0.5
max_price_age = "3h"  # the fakes' clock runs 20x ours while the exchange stamps prices with real time

[journal]
url = "sqlite:///trimtab.db"

''' + "\n".join(tables[m] for m in members))


def wallet_value(pf, addresses) -> Decimal:
    w = pf.wallet
    return (w.balance("base", addresses["base"], "ETH") * ETH + w.balance("base", addresses["base"], "USDC"))


def binance_value(binance) -> Decimal:
    return binance.balances.get("USDC", Decimal(0)) + binance.balances.get("BTC", Decimal(0)) * BTC


def exchange_in_flight(network, binance) -> list:
    """Transfers on the chains from or to the exchange not yet confirmed (the wallet's own swap
    deposits travel on the network too)."""
    ours = set(binance.deposit_addresses.values())
    return [t for t in network.in_flight() if t.origin == "binance" or t.to in ours]


def perps_value(trading) -> float:
    """The perps account's value as Hyperliquid reports it: collateral plus unrealised PnL."""
    account = trading.account()
    return account.collateral + sum(p["unrealized_pnl"] for p in trading.book.live_positions(account, trading.markets))


def costs(directory: Path) -> Decimal:
    """Fees and slippage of every fill, as the journal recorded them from the venues' answers."""
    with sqlite3.connect(directory / "trimtab.db") as db:
        return sum((Decimal(str(fee)) + Decimal(str(slip)) for fee, slip in db.execute("SELECT fee, slippage FROM fills")),
                   Decimal(0))


def legs(directory: Path) -> list[tuple]:
    with sqlite3.connect(directory / "trimtab.db") as db:
        return db.execute("SELECT kind, stage, asset, chain, to_chain, state, fee, client_id FROM legs "
                          "ORDER BY rowid").fetchall()  # in the order written (run ids are random)


def rebalance(directory: Path, clock) -> dict:
    with RunningClock(clock, rate=20.0):  # 20x: the fakes stay within minutes of the exchange's real clock
        result = run_cli("rebalance", "--yes", "--json", cwd=directory, env=ENV, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_exchange_to_wallet_then_wallet_to_exchange_each_move_once_value_conserved(tmp_path, fakes):
    # Arrange: ETH trades only on the wallet (base), BTC only on the exchange; the quote sits on the exchange
    network, pf, binance, addresses = fakes
    binance.completes_at_broadcast = True  # its "completed" comes before the wallet's balance shows the money
    write_config(tmp_path, pf, binance, {"ETH": 0.7, "BTC": 0.1, "USDC": 0.2})
    before = wallet_value(pf, addresses) + binance_value(binance)
    # Act 1: buying ETH on the wallet needs quote from the exchange: a withdrawal to the wallet's address
    first = rebalance(tmp_path, pf.clock)
    # Assert 1
    assert first["run"]["state"] == "completed", first
    moves = [leg for leg in legs(tmp_path) if leg[0] == "transfer"]
    assert [(m[2], m[3], m[4], m[5]) for m in moves] == [("USDC", "binance:binance", "wallet:base", "arrived")]
    withdrawal = binance.withdrawal_by_client_id(moves[0][7])
    assert len(withdrawal) == 1 and withdrawal[0].network == "BASE" and withdrawal[0].address == addresses["base"]
    assert withdrawal[0].status == 6
    assert len(binance.withdrawals) == 1 and exchange_in_flight(network, binance) == []
    after_first = wallet_value(pf, addresses) + binance_value(binance)
    eth_share = pf.wallet.balance("base", addresses["base"], "ETH") * ETH / after_first
    assert float(eth_share) == pytest.approx(0.7, abs=0.03)
    # Act 2: now BTC: sell ETH on the wallet, send the quote to the exchange's deposit address, buy BTC there
    write_config(tmp_path, pf, binance, {"ETH": 0.1, "BTC": 0.7, "USDC": 0.2})
    second = rebalance(tmp_path, pf.clock)
    # Assert 2
    assert second["run"]["state"] == "completed", second
    moves = [leg for leg in legs(tmp_path) if leg[0] == "transfer"]
    assert [(m[2], m[3], m[4], m[5]) for m in moves][1:] == [("USDC", "wallet:base", "binance:binance", "arrived")]
    deposit = binance.deposit_address_of("USDC", "BASE")
    sends = [r for r in pf.wallet.requests_to("/v1/wallet/send", "POST") if json.loads(r.body)["to"] == deposit]
    assert len(sends) == 1  # the move, once (the other sends fund the wallet's swaps)
    assert [d["status"] for d in binance.deposits] == [1]
    assert exchange_in_flight(network, binance) == []
    after = wallet_value(pf, addresses) + binance_value(binance)
    btc_share = binance.balances["BTC"] * BTC / after
    assert float(btc_share) == pytest.approx(0.7, abs=0.03)
    # every order and move once in the fakes' own ledgers
    assert all(n == 1 for n in Counter(o["clientOrderId"] for o in binance.orders).values())
    assert len({o.order_id for o in pf.wallet.wagyu.orders}) == len(pf.wallet.wagyu.orders)
    assert len({w.client_id for w in binance.withdrawals}) == len(binance.withdrawals) == 1
    # value conserved up to fees and gas, read from the fakes and the journal
    withdrawal_fees = sum((w.fee for w in binance.withdrawals), Decimal(0))
    trade_fees = sum(Decimal(str(leg[6])) for leg in legs(tmp_path) if leg[0] == "order")
    gas = len(pf.wallet.requests_to("/v1/wallet/send", "POST")) * pf.wallet.gas["base"] * ETH
    assert float(before - after) == pytest.approx(float(withdrawal_fees + trade_fees + gas), abs=0.05)


def test_three_venues_one_rebalance_moves_toward_targets_each_write_once(tmp_path, fakes):
    # Arrange: perps hold their margin; ETH on the wallet, quote on the exchange; BTC wanted
    network, pf, binance, addresses = fakes
    pf.trading.account().collateral = 1000.0  # a small margin account: it cannot carry all the BTC
    write_config(tmp_path, pf, binance, {"ETH": 0.2, "BTC": 0.4, "USDC": 0.4}, members=("wallet", "binance", "perps"))
    before = wallet_value(pf, addresses) + binance_value(binance) + Decimal(str(perps_value(pf.trading)))
    status = run_cli("status", "--json", cwd=tmp_path, env=ENV)
    assert status.returncode == 0, status.stderr
    drift_before = json.loads(status.stdout)
    # Act
    document = rebalance(tmp_path, pf.clock)
    # Assert
    assert document["run"]["state"] == "completed", document
    traded = {leg[3].split(":")[0] for leg in legs(tmp_path) if leg[0] == "order" and leg[5] == "filled"}
    assert traded == {"wallet", "binance", "perps"}
    after = run_cli("status", "--json", cwd=tmp_path, env=ENV)
    assert after.returncode == 0, after.stderr
    weights_before = {a["asset"]: a["weight"] for a in drift_before["assets"]}
    weights_after = {a["asset"]: a["weight"] for a in json.loads(after.stdout)["assets"]}
    targets = {"ETH": 0.2, "BTC": 0.4, "USDC": 0.4}
    assert sum(abs(weights_after.get(a, 0) - t) for a, t in targets.items()) < \
        sum(abs(weights_before.get(a, 0) - t) for a, t in targets.items())
    assert all(n == 1 for n in Counter(o["clientOrderId"] for o in binance.orders).values())
    opened = [json.loads(r.body) for r in pf.trading.requests_to("/v1/trade/open", "POST")]
    assert len(opened) == len({(o.get("coin"), o.get("side"), o.get("size_usd")) for o in opened})
    assert len({w.client_id for w in binance.withdrawals}) == len(binance.withdrawals)
    assert exchange_in_flight(network, binance) == []
    after_value = wallet_value(pf, addresses) + binance_value(binance) + Decimal(str(perps_value(pf.trading)))
    fees = costs(tmp_path)
    gas = len(pf.wallet.requests_to("/v1/wallet/send", "POST")) * pf.wallet.gas["base"] * ETH
    assert float(before - after_value) == pytest.approx(float(fees + gas), abs=0.05)


def test_wallet_and_perps_whose_targets_need_an_impossible_move_balance_within_each_and_say_so(tmp_path, fakes):
    # Arrange: BTC at 50 % needs far more than the perps account's 1,000 of margin; no API moves the
    # wallet's USDC into Hyperliquid margin (contract §1, §5)
    network, pf, binance, addresses = fakes
    pf.wallet.set_balance("base", addresses["base"], "USDC", "2000")
    pf.trading.account().collateral = 1000.0
    write_config(tmp_path, pf, binance, {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}, members=("wallet", "perps"))
    wallet_before, perps_before = wallet_value(pf, addresses), perps_value(pf.trading)
    # Act
    document = rebalance(tmp_path, pf.clock)
    # Assert: one sentence naming the missing move and why; no move tried, nothing stranded
    assert document["run"]["state"] == "completed", document
    note = document["assessment"]["note"]
    assert "from wallet to perps" in note and "not a margin deposit" in note, note
    assert not [leg for leg in legs(tmp_path) if leg[0] == "transfer"]
    sent_to = {json.loads(r.body)["to"] for r in pf.wallet.requests_to("/v1/wallet/send", "POST")}
    assert sent_to <= {o.deposit_address for o in pf.wallet.wagyu.orders}  # only swap deposits: none to margin
    # each venue rebalanced inside its own capital (less its own costs)
    btc = sum(p["size_usd"] for p in pf.trading.book.live_positions(pf.trading.account(), pf.trading.markets)
              if p["coin"] == "BTC")
    assert btc == pytest.approx(perps_before, rel=0.02)  # all the perps' capital is BTC exposure
    total = float(wallet_value(pf, addresses)) + perps_value(pf.trading)
    eth = float(pf.wallet.balance("base", addresses["base"], "ETH") * ETH)
    assert eth / total == pytest.approx(0.3, abs=0.02)
    assert float(wallet_value(pf, addresses)) == pytest.approx(float(wallet_before), rel=0.01)
    assert perps_value(pf.trading) == pytest.approx(perps_before, rel=0.01)
