"""`trimtab withdraw --to ADDRESS` on real venues, through the CLI against the contract-faithful fakes on
127.0.0.1: a Binance-dialect exchange (ccxt `withdraw` on a network) and the Purple Flea wallet
(`/wallet/send`). The payout leaves once, to that address, as the fakes' own records show; the value
read from the fakes falls by the payout plus the fees and gas, to the cent; an exchange told no network
refuses before anything is sold."""

from __future__ import annotations

import json
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import run_cli
from fakes.binance_spot import BinanceSpotFake
from fakes.binance_wire import SpotMarket
from fakes.chain_network import ChainNetwork
from fakes.purpleflea import FakeClock, running_purpleflea
from purpleflea_setup import RunningClock
from test_cli_moves import BTC, ENV, ETH, write_config

EXTERNAL = "0x" + "7e" * 20  # an address outside the portfolio


@pytest.fixture
def fakes():
    network = ChainNetwork(FakeClock(time.time()))
    with running_purpleflea(network=network) as pf, BinanceSpotFake(
            markets=[SpotMarket("BTC", "USDC", BTC)], balances={"USDC": 100, "BTC": Decimal("0.05")},
            network=network) as binance:
        addresses = pf.wallet.create_wallet()["addresses"]
        pf.wallet.set_balance("base", addresses["base"], "ETH", "1.0")
        pf.wallet.set_balance("base", addresses["base"], "USDC", "100")
        yield network, pf, binance, addresses


def one_venue(directory: Path, pf, binance, member: str, targets: dict[str, float]) -> None:
    """A single-venue config (``[venue]``) for ``member`` of test_cli_moves' tables."""
    write_config(directory, pf, binance, targets, members=(member,))
    path = directory / "trimtab.toml"
    path.write_text(path.read_text().replace(f'[[venues]]\nname = "{member}"\n', "[venue]\n"))


def withdraw(directory: Path, clock, *args: str):
    with RunningClock(clock, rate=20.0):
        return run_cli("withdraw", *args, "--json", cwd=directory, env=ENV, timeout=240)


def costs(directory: Path) -> Decimal:
    """Fees and slippage of every fill, as the journal recorded them from the venue's answers."""
    with sqlite3.connect(directory / "trimtab.db") as db:
        return sum((Decimal(str(fee)) + Decimal(str(slip)) for fee, slip in db.execute("SELECT fee, slippage FROM fills")),
                   Decimal(0))


def test_an_exchange_pays_out_once_on_the_network_given_and_refuses_without_one(tmp_path, fakes):
    network, pf, binance, _ = fakes
    one_venue(tmp_path, pf, binance, "binance", {"BTC": 0.5, "USDC": 0.5})
    before = binance.balances["USDC"] + binance.balances["BTC"] * BTC
    # no network: an exchange holds on its account, so it cannot guess one; nothing is sold
    refused = withdraw(tmp_path, pf.clock, "2000", "--to", EXTERNAL)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "give --chain" in json.loads(refused.stdout)["error"]["message"]
    assert binance.balances["BTC"] == Decimal("0.05") and binance.withdrawals == []
    # with a network: the BTC overweight is sold for the cash, then one withdrawal to that address
    done = withdraw(tmp_path, pf.clock, "2000", "--to", EXTERNAL, "--chain", "base")
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["run"]["state"] == "completed" and answer["flow"]["state"] == "done"
    [payout] = binance.withdrawals
    assert (payout.coin, payout.amount, payout.network, payout.address) == ("USDC", Decimal(2000), "BASE", EXTERNAL)
    assert payout.client_id == answer["flow"]["client_id"]  # Binance's withdrawOrderId: ours, so found again
    after = binance.balances["USDC"] + binance.balances["BTC"] * BTC
    assert float(before - after) == pytest.approx(2000 + float(costs(tmp_path)), abs=0.01)


def test_the_wallet_pays_out_once_from_its_chain_and_value_falls_by_payout_fees_and_gas(tmp_path, fakes):
    network, pf, binance, addresses = fakes
    one_venue(tmp_path, pf, binance, "wallet", {"ETH": 0.5, "USDC": 0.5})
    w = pf.wallet

    def value() -> Decimal:
        return w.balance("base", addresses["base"], "ETH") * ETH + w.balance("base", addresses["base"], "USDC")

    before = value()
    sends_before = len(w.requests_to("/v1/wallet/send", "POST"))
    done = withdraw(tmp_path, pf.clock, "300", "--to", EXTERNAL)
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["flow"]["state"] == "done" and answer["flow"]["address"] == EXTERNAL
    sends = [json.loads(r.body) for r in w.requests_to("/v1/wallet/send", "POST")][sends_before:]
    payouts = [s for s in sends if s["to"] == EXTERNAL]
    assert len(payouts) == 1 and payouts[0]["amount"] == "300" and payouts[0]["chain"] == "base"
    assert w.balance("base", EXTERNAL, "USDC") == Decimal(300)  # it arrived where it was sent
    gas = len(sends) * w.gas["base"] * ETH  # the payout's and the swap deposit's
    assert float(before - value()) == pytest.approx(float(300 + costs(tmp_path) + gas), abs=0.05)
